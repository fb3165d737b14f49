//! End to end: `prolo analyze` on the fixtures of tests/fixtures/analyze agrees with the
//! independent R implementation (reference.R, run by run_all.sh) on every number of
//! summary.json, to 1e-6 relative (SPEC "Statistical conventions").

use std::path::PathBuf;

use super::synth_over_conditions;
use assert_cmd::Command;
use serde_json::Value;

/// SPEC's tolerance: 1e-6 relative; values this close to 0 compare absolutely.
const REL_TOL: f64 = 1e-6;
const ABS_TOL: f64 = 1e-12;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze")
}

fn analyze(csv: &str, options: &[&str]) -> Value {
    let out = Command::cargo_bin("prolo")
        .unwrap()
        .args(["analyze", "--min-cell", "0", "--format", "json"])
        .args(options)
        .arg(fixtures().join(csv))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{csv}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn same(path: &str, actual: &Value, expected: &Value, errors: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            let (a, e) = (a.as_f64().unwrap(), e.as_f64().unwrap());
            if (a - e).abs() > ABS_TOL.max(REL_TOL * e.abs()) {
                errors.push(format!("{path}: prolo {a} vs R {e}"));
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => same(&format!("{path}.{k}"), av, ev, errors),
                    None => errors.push(format!("{path}.{k}: missing in prolo's output")),
                }
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                errors.push(format!(
                    "{path}: {} items in prolo, {} in R",
                    a.len(),
                    e.len()
                ));
            }
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                same(&format!("{path}[{i}]"), av, ev, errors);
            }
        }
        (a, e) if a == e => {}
        (a, e) => errors.push(format!("{path}: prolo {a} vs R {e}")),
    }
}

/// Compares a section's rows matched by key fields; both sides must hold the same keys.
fn rows(section: &str, keys: &[&str], actual: &Value, expected: &Value, errors: &mut Vec<String>) {
    let key = |row: &Value| -> String {
        keys.iter()
            .map(|k| row[*k].to_string())
            .collect::<Vec<_>>()
            .join("/")
    };
    let empty = vec![];
    let a = actual[section].as_array().unwrap_or(&empty);
    let e = expected[section].as_array().unwrap_or(&empty);
    for er in e {
        match a.iter().find(|ar| key(ar) == key(er)) {
            Some(ar) => same(&format!("{section}[{}]", key(er)), ar, er, errors),
            None => errors.push(format!("{section}[{}]: missing in prolo's output", key(er))),
        }
    }
    for ar in a {
        if !e.iter().any(|er| key(er) == key(ar)) {
            errors.push(format!("{section}[{}]: not in R's output", key(ar)));
        }
    }
}

fn check(name: &str) {
    check_with(name, "", &[]);
}

/// `name.csv` analysed with `options` against `name{suffix}.expected.json` (reference.R run
/// with the same options and `--suffix`).
fn check_with(name: &str, suffix: &str, options: &[&str]) {
    let actual = analyze(&format!("{name}.csv"), options);
    let expected = fixtures().join(format!("{name}{suffix}.expected.json"));
    let text = std::fs::read_to_string(expected).unwrap();
    let expected: Value = serde_json::from_str(&text).unwrap();
    let mut errors = Vec::new();
    for k in ["records", "courses", "patients"] {
        same(
            &format!("cohort.{k}"),
            &actual["cohort"][k],
            &expected["cohort"][k],
            &mut errors,
        );
    }
    rows(
        "excluded",
        &["reason", "outcome", "instrument"],
        &actual["cohort"],
        &expected["cohort"],
        &mut errors,
    );
    rows(
        "change",
        &["outcome", "instrument", "condition", "injections"],
        &actual,
        &expected,
        &mut errors,
    );
    rows(
        "sessions_to_response",
        &["outcome", "instrument", "condition"],
        &actual,
        &expected,
        &mut errors,
    );
    rows(
        "logrank",
        &["outcome", "instrument"],
        &actual,
        &expected,
        &mut errors,
    );
    rows(
        "kruskal_wallis",
        &["outcome", "instrument"],
        &actual,
        &expected,
        &mut errors,
    );
    rows(
        "sessions_received",
        &["condition"],
        &actual,
        &expected,
        &mut errors,
    );
    rows(
        "trajectory",
        &["outcome", "instrument", "condition", "injections"],
        &actual,
        &expected,
        &mut errors,
    );
    rows("safety", &["condition"], &actual, &expected, &mut errors);
    rows("table1", &["condition"], &actual, &expected, &mut errors);
    assert!(
        errors.is_empty(),
        "{name}: {} differences from R:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// Thresholds in points and in percent for pain and for function instruments (lower and
/// higher is better), another top injections group, the VAS pain scale (whose range keeps
/// defects.csv's pain 11, 12 and 10.5), and a config file's `[[instruments]]` (a range
/// widened, one narrowed so that 100 scores become invalid, thresholds in percent).
#[test]
fn analysis_options_equal_r() {
    let clean = [
        "--responder",
        "pain=2",
        "--responder",
        "WOMAC=15%",
        "--responder",
        "VISA-A=20%",
        "--injections-top",
        "4",
    ];
    check_with("clean", ".options", &clean);
    let defects = [
        "--pain-scale",
        "vas",
        "--responder",
        "pain=25%",
        "--responder",
        "ODI=5",
        "--injections-top",
        "2",
    ];
    check_with("defects", ".vas", &defects);
    let config = fixtures().join("instruments.toml");
    let config = ["--config", config.to_str().unwrap()];
    check_with("clean", ".instruments", &config);
}

/// Courses that received 1 to 14 injections, each its own injections-received group under
/// `--injections-top 20`: many groups placed from one walk over a condition's courses
/// (`analysis/change.rs`).
#[test]
fn many_injections_groups_equal_r() {
    check_with("many_injections", ".top20", &["--injections-top", "20"]);
}

/// Dates instead of days (a warning, not an error), one of them invalid.
#[test]
fn dated_fixture_equals_r() {
    check("dated");
}

#[test]
fn clean_fixture_equals_r() {
    check("clean");
}

#[test]
fn defects_fixture_equals_r() {
    check("defects");
}

#[test]
fn single_course_equals_r() {
    check("edge_single");
}

#[test]
fn two_conditions_equal_r() {
    check("edge_two_conditions");
}

#[test]
fn zero_change_equals_r() {
    check("edge_zero_change");
}

/// Degenerate cases minimised from a differential campaign of 1,099 random data sets against
/// reference.R (tests/fixtures/analyze/differential/): each once disagreed with R or with
/// the reference's rules.
#[test]
fn degenerate_cases_equal_r() {
    for name in [
        // Changes equal but for the last binary digit (6.4 and 16.4 − 10): no t-test p, no
        // SRM (was 5e15), CI [mean, mean].
        "degenerate_constant_change",
        // The same across two conditions: Kruskal–Wallis statistic and p both null.
        "degenerate_kw_rounding",
        // A condition with no one at risk at any event time: df 1 (survdiff's), not 2.
        "degenerate_logrank_df",
        // Only one condition expects an event: survdiff's "no test", chisq 0 on 0 df, p 1
        // (was null).
        "degenerate_logrank_no_test",
        // No course analysed for an outcome: no rows for it (was an empty "all" row).
        "degenerate_no_function_analysed",
        "degenerate_no_pain_analysed",
        // No valid course: no sessions or safety rows.
        "degenerate_no_valid_course",
    ] {
        check(name);
    }
}

/// The log-rank test across 170–250 conditions equals R's survdiff (tests/fixtures/
/// many_conditions: make.sh ran reference.R on the data this test makes again): above 200
/// conditions prolo solves the variance matrix by the Woodbury identity (few event times)
/// and estimates the 1-norm of its inverse (for the singularity check) rather than
/// computing it.
#[test]
fn logrank_across_hundreds_of_conditions_equals_r() {
    let dir = tempfile::tempdir().unwrap();
    let csv = synth_over_conditions(dir.path(), "c250.csv", 5000, 21, 250);
    let run = (Command::cargo_bin("prolo").unwrap())
        .args(["analyze", "--min-cell", "0", "--format", "json"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(run.status.success());
    let actual: Value = serde_json::from_slice(&run.stdout).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/many_conditions/logrank.expected.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut errors = Vec::new();
    let mut above_200 = 0;
    for e in expected.as_array().unwrap() {
        let a = (actual["logrank"].as_array().unwrap().iter())
            .find(|a| a["outcome"] == e["outcome"] && a["instrument"] == e["instrument"])
            .unwrap_or_else(|| panic!("no log-rank row for {e}"));
        above_200 += usize::from(a["conditions"].as_u64().unwrap() > 200);
        for k in ["chisq", "df", "p"] {
            same(
                &format!("{} {}: {k}", e["outcome"], e["instrument"]),
                &a[k],
                &e[k],
                &mut errors,
            );
        }
    }
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        above_200 >= 3,
        "the data should reach the estimated path: {above_200}"
    );
}
