#!/usr/bin/env python3
"""Checks that a peer computed the same thing as prolo (standard library only).

Usage: agree.py SUMMARY.json PEER_OUTPUT.txt
       agree.py --same SUMMARY.json OTHER_SUMMARY.json

Compares the peer's "CHANGE\tcondition\tn\tmean" lines with prolo's pain change
rows (injections "all") and its "KM\tcondition\tn\tmedian\tby3" lines with
prolo's pain injections-to-response rows. Prints one line; exits 1 when a
number differs by more than 1e-6 relative (or a count differs), 2 when there
is nothing to compare.

With --same, checks that two prolo summaries (say from the CSV and the Parquet
copy of one data set) hold the same results (everything but `inputs`).
"""

import json
import sys

RTOL = 1e-6


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= RTOL * max(abs(a), abs(b), 1e-300)


def same(path_a, path_b):
    with open(path_a) as f:
        a = json.load(f)
    with open(path_b) as f:
        b = json.load(f)
    keys = sorted((set(a) | set(b)) - {"inputs"})
    different = [k for k in keys if a.get(k) != b.get(k)]
    if different:
        print("DIFFERENT results in " + ", ".join(different))
        sys.exit(1)
    print(f"same results ({len(keys)} sections of summary.json identical)")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--same":
        same(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 3:
        sys.exit("usage: agree.py SUMMARY.json PEER_OUTPUT.txt")
    with open(sys.argv[1]) as f:
        summary = json.load(f)
    change = {
        r["condition"]: r
        for r in summary["change"]
        if r["outcome"] == "pain" and r["injections"] == "all"
    }
    km = {r["condition"]: r for r in summary["sessions_to_response"] if r["outcome"] == "pain"}

    checked, problems, worst = 0, [], 0.0
    with open(sys.argv[2]) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "CHANGE" and len(parts) == 4:
                condition, n, mean = parts[1], int(parts[2]), float(parts[3])
                row = change.get(condition)
                if row is None:
                    problems.append(f"{condition}: no pain change row in prolo's summary")
                    continue
                if row["n"] is not None and row["n"] != n:
                    problems.append(f"{condition}: n {n} vs prolo {row['n']}")
                if row["mean_change"] is not None:
                    worst = max(worst, abs(mean - row["mean_change"]) / max(abs(row["mean_change"]), 1e-300))
                    if not close(mean, row["mean_change"]):
                        problems.append(f"{condition}: mean change {mean:.6g} vs prolo {row['mean_change']:.6g}")
                checked += 1
            elif parts[0] == "KM" and len(parts) == 5:
                condition, n, median, by3 = parts[1], int(parts[2]), float(parts[3]), float(parts[4])
                row = km.get(condition)
                if row is None:
                    problems.append(f"{condition}: no pain injections-to-response row in prolo's summary")
                    continue
                median = None if median != median or median == float("inf") else median
                if row["median"] is not None and not close(median, row["median"]):
                    problems.append(f"{condition}: KM median {median} vs prolo {row['median']}")
                if row.get("responded_by_3") is not None and not close(by3, row["responded_by_3"]):
                    problems.append(f"{condition}: responded by 3 {by3:.6g} vs prolo {row['responded_by_3']:.6g}")
                checked += 1
    if checked == 0:
        print("nothing to compare (the peer printed no CHANGE/KM lines)")
        sys.exit(2)
    if problems:
        print(f"DISAGREES on {len(problems)} of {checked} rows: " + "; ".join(problems[:5]))
        sys.exit(1)
    print(f"agrees with prolo on {checked} rows (largest relative difference of mean change {worst:.1e})")


if __name__ == "__main__":
    main()
