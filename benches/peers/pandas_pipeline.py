#!/usr/bin/env python3
"""The core prolo analysis as an analyst would write it with pandas + SciPy + lifelines.

Usage: pandas_pipeline.py FILE.csv

Pain only (prolo also does every function instrument, Table 1, safety, charts
and the report). Follows SPEC "Definitions":

- course = (patient_id, condition), encounters sorted by day;
- injections_before = injections at earlier encounters of the course;
- baseline = last pain with injections_before == 0;
- final follow-up = last pain with injections_before >= 1;
- change by condition and by injections received (1..5, 6+): mean, SD,
  t CI, paired t-test, Wilcoxon signed-rank, responders (30% of baseline);
- injections to response: Kaplan-Meier per condition (lifelines), log-rank;
- trajectory: mean pain by condition and injections_before.

Prints a few key numbers; lines starting with "CHANGE\t" and "KM\t" are read by
benches/peers/agree.py to check the result against prolo's summary.json.
"""

import sys
import time

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times
from scipy import stats

KEYS = ["patient_id", "condition"]
RESPONDER_SHARE = 0.30  # IMMPACT: 30% of baseline pain
TOLERANCE = 1e-9
TOP_GROUP = 6


def describe_change(g):
    """Change-from-baseline statistics of one group of courses."""
    change = g["change"].to_numpy()
    n = len(change)
    mean = change.mean()
    sd = change.std(ddof=1) if n > 1 else np.nan
    if n > 1 and sd > 0:
        ci_low, ci_high = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / np.sqrt(n))
        t_p = stats.ttest_rel(g["followup"], g["baseline"]).pvalue
    else:
        ci_low = ci_high = t_p = np.nan
    if (change != 0).any():
        wilcoxon_p = stats.wilcoxon(change, zero_method="wilcox", correction=True).pvalue
    else:
        wilcoxon_p = np.nan
    q1, median, q3 = np.percentile(change, [25, 50, 75])
    return pd.Series(
        {
            "n": n,
            "baseline_mean": g["baseline"].mean(),
            "followup_mean": g["followup"].mean(),
            "mean_change": mean,
            "sd_change": sd,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "median": median,
            "q1": q1,
            "q3": q3,
            "t_p": t_p,
            "wilcoxon_p": wilcoxon_p,
            "responders": g["responder"].sum(),
            "responder_rate": g["responder"].mean(),
        }
    )


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: pandas_pipeline.py FILE.csv")
    t0 = time.perf_counter()

    df = pd.read_csv(sys.argv[1])
    t_read = time.perf_counter() - t0

    # Encounters in order within each course; injections before each encounter.
    df = df.sort_values(KEYS + ["day"])
    df["injection"] = df["injection"].astype(int)
    df["injections_before"] = df.groupby(KEYS)["injection"].cumsum() - df["injection"]

    pain = df[df["pain"].notna()]
    baseline = pain[pain["injections_before"] == 0].groupby(KEYS)["pain"].last().rename("baseline")
    followup = (
        pain[pain["injections_before"] >= 1]
        .groupby(KEYS)[["pain", "injections_before"]]
        .last()
        .rename(columns={"pain": "followup", "injections_before": "injections"})
    )
    courses = pd.concat([baseline, followup], axis=1, join="inner").reset_index()
    courses["change"] = courses["followup"] - courses["baseline"]
    improvement = -courses["change"]
    needed = RESPONDER_SHARE * courses["baseline"]
    courses["responder"] = (improvement > 0) & (improvement >= needed - TOLERANCE * needed.abs())
    courses["group"] = courses["injections"].clip(upper=TOP_GROUP).astype(str)
    courses.loc[courses["injections"] >= TOP_GROUP, "group"] = f"{TOP_GROUP}+"

    # Change from baseline: overall, by condition, by condition x injections received.
    overall = describe_change(courses).to_frame("all").T
    by_condition = courses.groupby("condition").apply(describe_change, include_groups=False)
    by_injections = courses.groupby(["condition", "group"]).apply(describe_change, include_groups=False)

    # Injections to response: first encounter after an injection at which the course responds.
    encounters = pain[pain["injections_before"] >= 1].merge(courses[KEYS + ["baseline"]], on=KEYS)
    enc_improvement = encounters["baseline"] - encounters["pain"]
    enc_needed = RESPONDER_SHARE * encounters["baseline"]
    encounters["responder"] = (enc_improvement > 0) & (
        enc_improvement >= enc_needed - TOLERANCE * enc_needed.abs()
    )
    first_response = (
        encounters[encounters["responder"]].groupby(KEYS)["injections_before"].min().rename("response_at")
    )
    courses = courses.merge(first_response, on=KEYS, how="left")
    courses["event"] = courses["response_at"].notna()
    courses["time"] = courses["response_at"].fillna(courses["injections"])

    km_rows = []
    for condition, g in [("all", courses)] + list(courses.groupby("condition")):
        kmf = KaplanMeierFitter().fit(g["time"], event_observed=g["event"], label=condition)
        median_ci = median_survival_times(kmf.confidence_interval_)
        km_rows.append(
            {
                "condition": condition,
                "n": len(g),
                "events": int(g["event"].sum()),
                "median": kmf.median_survival_time_,
                "median_ci_low": median_ci.iloc[0, 0],
                "median_ci_high": median_ci.iloc[0, 1],
                "responded_by_3": 1 - kmf.survival_function_at_times(3).iloc[0],
            }
        )
    km = pd.DataFrame(km_rows).set_index("condition")
    logrank = multivariate_logrank_test(courses["time"], courses["condition"], courses["event"])

    # Trajectory: last pain at each injections_before, mean with t CI per condition.
    last_at_k = (
        pain.groupby(KEYS + ["injections_before"])["pain"].last().reset_index().merge(courses[KEYS], on=KEYS)
    )
    trajectory = last_at_k.groupby(["condition", "injections_before"])["pain"].agg(["count", "mean", "std"])
    half = stats.t.ppf(0.975, trajectory["count"] - 1) * trajectory["std"] / np.sqrt(trajectory["count"])
    trajectory["ci_low"] = trajectory["mean"] - half
    trajectory["ci_high"] = trajectory["mean"] + half

    elapsed = time.perf_counter() - t0

    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", None)
    print(f"pandas pipeline: {len(df)} records, {df.groupby(KEYS).ngroups} courses, {len(courses)} in the pain analysis")
    print(f"groups: {len(by_condition)} conditions, {len(by_injections)} condition x injections")
    print(pd.concat([overall, by_condition])[["n", "mean_change", "ci_low", "ci_high", "wilcoxon_p", "responder_rate"]])
    print(km[["n", "events", "median", "median_ci_low", "median_ci_high", "responded_by_3"]])
    print(f"log-rank across conditions: chisq {logrank.test_statistic:.4f}, p {logrank.p_value:.3g}")
    print(f"trajectory rows: {len(trajectory)}")
    for condition, row in pd.concat([overall, by_condition]).iterrows():
        print(f"CHANGE\t{condition}\t{int(row['n'])}\t{float(row['mean_change'])!r}")
    for condition, row in km.iterrows():
        print(f"KM\t{condition}\t{int(row['n'])}\t{float(row['median'])!r}\t{float(row['responded_by_3'])!r}")
    print(f"time: read {t_read:.2f} s, total {elapsed:.2f} s (after imports)")


if __name__ == "__main__":
    main()
