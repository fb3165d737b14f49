//! Checks `prolo::stats` against reference values computed with R
//! (`tests/fixtures/stats/reference.json`, made by `make_reference.R`
//! beside it): every case of every method, to `REFERENCE_RELATIVE` relative
//! (`REFERENCE_ABSOLUTE` absolute near zero). R's NA/NaN is `null` in the
//! fixture and must be `None` here.

use std::collections::BTreeMap;

use prolo::stats::kaplan_meier::KaplanMeier;
use prolo::stats::tolerance::{agrees_with_reference, REFERENCE_ABSOLUTE, REFERENCE_RELATIVE};
use prolo::stats::wilcoxon::WilcoxonMethod;
use prolo::stats::{describe, kruskal, logrank, ttest, wilcoxon, wilson};
use serde_json::Value;

fn load() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stats/reference.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {path}: {e}"))
}

fn cases<'a>(reference: &'a Value, method: &str) -> &'a [Value] {
    reference[method]
        .as_array()
        .unwrap_or_else(|| panic!("reference.json has no array {method:?}"))
}

fn numbers(value: &Value, what: &str) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{what} is not an array"))
        .iter()
        .map(|v| v.as_f64().unwrap_or_else(|| panic!("{what} holds {v}")))
        .collect()
}

fn strings(value: &Value, what: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{what} is not an array"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{what} holds {v}"))
                .to_string()
        })
        .collect()
}

fn case_name(case: &Value) -> String {
    match &case["name"] {
        Value::String(name) => name.clone(),
        _ => format!("x = {}, n = {}", case["x"], case["n"]),
    }
}

/// Sorted distinct labels (R's factor levels) and each label's index.
fn level_indices(labels: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut levels = labels.to_vec();
    levels.sort();
    levels.dedup();
    let indices = labels
        .iter()
        .map(|l| levels.binary_search(l).expect("label is a level"))
        .collect();
    (levels, indices)
}

/// Collects every mismatch, so that one run reports all of them.
#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    cases: BTreeMap<&'static str, (usize, usize)>,
}

impl Checker {
    fn value(
        &mut self,
        method: &str,
        case: &str,
        field: &str,
        actual: Option<f64>,
        expected: &Value,
    ) {
        let ok = match (actual, expected.as_f64()) {
            (None, None) => expected.is_null(),
            (Some(a), Some(e)) => agrees_with_reference(a, e),
            _ => false,
        };
        if !ok {
            let actual = actual.map_or("None".to_string(), |a| format!("{a:.17e}"));
            self.failures.push(format!(
                "{method} / {case} / {field}: got {actual}, R gives {expected}"
            ));
        }
    }

    fn equal<T: PartialEq + std::fmt::Debug>(
        &mut self,
        method: &str,
        case: &str,
        field: &str,
        actual: T,
        expected: T,
    ) {
        if actual != expected {
            self.failures.push(format!(
                "{method} / {case} / {field}: got {actual:?}, R gives {expected:?}"
            ));
        }
    }

    /// Runs `check` for one case and counts it as passed when it added no
    /// failure.
    fn case(&mut self, method: &'static str, check: impl FnOnce(&mut Self)) {
        let before = self.failures.len();
        check(self);
        let entry = self.cases.entry(method).or_default();
        entry.1 += 1;
        if self.failures.len() == before {
            entry.0 += 1;
        }
    }
}

fn check_describe(c: &mut Checker, reference: &Value) {
    for case in cases(reference, "describe") {
        let name = case_name(case);
        let x = numbers(&case["x"], &name);
        c.case("describe", |c| {
            c.value("describe", &name, "mean", describe::mean(&x), &case["mean"]);
            c.value("describe", &name, "sd", describe::sd(&x), &case["sd"]);
            let q = describe::quartiles(&x);
            c.value("describe", &name, "q1", q.map(|q| q.q1), &case["q1"]);
            c.value(
                "describe",
                &name,
                "median",
                q.map(|q| q.median),
                &case["median"],
            );
            c.value("describe", &name, "q3", q.map(|q| q.q3), &case["q3"]);
        });
    }
}

fn check_ttest(c: &mut Checker, reference: &Value) {
    for case in cases(reference, "ttest") {
        let name = case_name(case);
        let x = numbers(&case["x"], &name);
        c.case("ttest", |c| {
            let r = ttest::one_sample(&x);
            c.value("ttest", &name, "mean", r.map(|r| r.mean), &case["mean"]);
            c.value("ttest", &name, "sd", r.and_then(|r| r.sd), &case["sd"]);
            c.value(
                "ttest",
                &name,
                "ci_low",
                r.and_then(|r| r.ci_low),
                &case["ci_low"],
            );
            c.value(
                "ttest",
                &name,
                "ci_high",
                r.and_then(|r| r.ci_high),
                &case["ci_high"],
            );
            c.value("ttest", &name, "p", r.and_then(|r| r.p), &case["p"]);
        });
    }
}

fn check_wilcoxon(c: &mut Checker, reference: &Value) {
    for case in cases(reference, "wilcoxon") {
        let name = case_name(case);
        let x = numbers(&case["x"], &name);
        c.case("wilcoxon", |c| {
            let r = wilcoxon::signed_rank(&x);
            c.value("wilcoxon", &name, "p", r.map(|r| r.p), &case["p"]);
            if let Some(r) = r {
                let exact = case["exact"].as_bool().expect("exact is a bool");
                c.equal(
                    "wilcoxon",
                    &name,
                    "exact",
                    r.method == WilcoxonMethod::Exact,
                    exact,
                );
            }
        });
    }
}

fn check_wilson(c: &mut Checker, reference: &Value) {
    for case in cases(reference, "wilson") {
        let name = case_name(case);
        let x = case["x"].as_u64().expect("x is a count");
        let n = case["n"].as_u64().expect("n is a count");
        c.case("wilson", |c| {
            let r = wilson::wilson(x, n);
            c.value("wilson", &name, "low", r.map(|r| r.0), &case["low"]);
            c.value("wilson", &name, "high", r.map(|r| r.1), &case["high"]);
        });
    }
}

fn check_kaplan_meier(c: &mut Checker, reference: &Value) {
    for case in cases(reference, "km") {
        let name = case_name(case);
        let times = numbers(&case["time"], &name);
        let events: Vec<bool> = numbers(&case["event"], &name)
            .iter()
            .map(|&e| e == 1.0)
            .collect();
        c.case("km", |c| {
            let fit = KaplanMeier::fit(&times, &events);
            let curve = case["curve"].as_array().expect("curve is an array");
            c.equal(
                "km",
                &name,
                "number of curve points",
                fit.points.len(),
                curve.len(),
            );
            for (i, (point, row)) in fit.points.iter().zip(curve).enumerate() {
                let at = |field: &str| format!("curve[{i}].{field}");
                let count = |field: &str| row[field].as_u64().map(|v| v as usize);
                c.value("km", &name, &at("time"), Some(point.time), &row["time"]);
                c.equal(
                    "km",
                    &name,
                    &at("n_risk"),
                    Some(point.n_risk),
                    count("n_risk"),
                );
                c.equal(
                    "km",
                    &name,
                    &at("n_event"),
                    Some(point.n_event),
                    count("n_event"),
                );
                c.equal(
                    "km",
                    &name,
                    &at("n_censor"),
                    Some(point.n_censor),
                    count("n_censor"),
                );
                c.value("km", &name, &at("surv"), Some(point.surv), &row["surv"]);
                c.value("km", &name, &at("lower"), point.lower, &row["lower"]);
                c.value("km", &name, &at("upper"), point.upper, &row["upper"]);
            }
            let median = fit.median();
            c.value("km", &name, "median", median.median, &case["median"]);
            c.value(
                "km",
                &name,
                "median_lower",
                median.lower,
                &case["median_lower"],
            );
            c.value(
                "km",
                &name,
                "median_upper",
                median.upper,
                &case["median_upper"],
            );
        });
    }
}

fn check_logrank(c: &mut Checker, reference: &Value) {
    for case in cases(reference, "logrank") {
        let name = case_name(case);
        let times = numbers(&case["time"], &name);
        let events: Vec<bool> = numbers(&case["event"], &name)
            .iter()
            .map(|&e| e == 1.0)
            .collect();
        let (_, groups) = level_indices(&strings(&case["group"], &name));
        c.case("logrank", |c| {
            let r = logrank::logrank(&times, &events, &groups);
            // R gives no test (p NA) when fewer than two groups have an
            // expected count, or stops on a singular variance matrix.
            if case["p"].is_null() {
                c.equal(
                    "logrank",
                    &name,
                    "result (R gives no p-value)",
                    r.is_none(),
                    true,
                );
                return;
            }
            c.value(
                "logrank",
                &name,
                "chisq",
                r.as_ref().map(|r| r.chisq),
                &case["chisq"],
            );
            c.value(
                "logrank",
                &name,
                "df",
                r.as_ref().map(|r| r.df as f64),
                &case["df"],
            );
            c.value("logrank", &name, "p", r.as_ref().map(|r| r.p), &case["p"]);
        });
    }
}

fn check_kruskal(c: &mut Checker, reference: &Value) {
    for case in cases(reference, "kruskal") {
        let name = case_name(case);
        let x = numbers(&case["x"], &name);
        let (levels, indices) = level_indices(&strings(&case["g"], &name));
        let mut groups = vec![Vec::new(); levels.len()];
        for (&xi, &g) in x.iter().zip(&indices) {
            groups[g].push(xi);
        }
        c.case("kruskal", |c| {
            let r = kruskal::kruskal_wallis(&groups);
            c.value(
                "kruskal",
                &name,
                "statistic",
                r.map(|r| r.statistic),
                &case["statistic"],
            );
            c.value("kruskal", &name, "p", r.map(|r| r.p), &case["p"]);
            if let Some(r) = r {
                c.value("kruskal", &name, "df", Some(r.df as f64), &case["df"]);
            }
        });
    }
}

#[test]
fn stats_agree_with_r_reference() {
    let reference = load();
    let mut checker = Checker::default();
    check_describe(&mut checker, &reference);
    check_ttest(&mut checker, &reference);
    check_wilcoxon(&mut checker, &reference);
    check_wilson(&mut checker, &reference);
    check_kaplan_meier(&mut checker, &reference);
    check_logrank(&mut checker, &reference);
    check_kruskal(&mut checker, &reference);

    for (method, (passed, total)) in &checker.cases {
        println!("{method:<9} {passed}/{total} cases agree with R");
    }
    for method in [
        "describe", "ttest", "wilcoxon", "wilson", "km", "logrank", "kruskal",
    ] {
        assert!(
            checker
                .cases
                .get(method)
                .is_some_and(|&(_, total)| total > 0),
            "reference.json has no {method} cases"
        );
    }
    assert!(
        checker.failures.is_empty(),
        "{} mismatches with R (relative tolerance {REFERENCE_RELATIVE:e}, absolute {REFERENCE_ABSOLUTE:e}):\n{}",
        checker.failures.len(),
        checker.failures.join("\n")
    );
}
