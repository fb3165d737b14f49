//! Property tests of the invariants: intervals contain their estimates, proportions stay in
//! [0, 1], the cumulative response curve never decreases, and the results do not depend on
//! row order, on how the records are split into files, or on other conditions' courses.

use prolo::stats::kaplan_meier::KaplanMeier;
use prolo::stats::{ttest, wilson};
use proptest::prelude::*;

use super::*;

proptest! {
    #[test]
    fn t_interval_contains_the_mean(x in prop::collection::vec(-1e3f64..1e3, 1..60)) {
        let t = ttest::one_sample(&x).unwrap();
        if let (Some(lo), Some(hi)) = (t.ci_low, t.ci_high) {
            prop_assert!(lo <= t.mean && t.mean <= hi, "{lo} {} {hi}", t.mean);
        }
    }

    #[test]
    fn wilson_interval_lies_in_0_1_and_contains_the_rate(n in 1u64..5000, k in 0u64..5000) {
        let k = k % (n + 1);
        let (lo, hi) = wilson::wilson(k, n).unwrap();
        let p = k as f64 / n as f64;
        prop_assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi));
        prop_assert!(lo <= p + 1e-12 && p <= hi + 1e-12, "{lo} {p} {hi}");
    }

    #[test]
    fn cumulative_response_never_decreases(obs in prop::collection::vec((1u32..9, any::<bool>()), 1..200)) {
        let times: Vec<f64> = obs.iter().map(|o| f64::from(o.0)).collect();
        let events: Vec<bool> = obs.iter().map(|o| o.1).collect();
        let km = KaplanMeier::fit(&times, &events);
        let mut last = 0.0;
        for p in &km.points {
            let cum = 1.0 - p.surv;
            prop_assert!((0.0..=1.0).contains(&cum));
            prop_assert!(cum >= last - 1e-15, "{cum} < {last}");
            last = cum;
            if let (Some(lo), Some(hi)) = (p.lower, p.upper) {
                prop_assert!(lo <= p.surv + 1e-12 && p.surv <= hi + 1e-12);
            }
        }
    }
}

/// Runs analyze on files and returns summary.json without its provenance of inputs.
fn results(files: &[&Path]) -> serde_json::Value {
    results_with(files, "0")
}

/// [`results`] with small-cell suppression at `min_cell`.
fn results_with(files: &[&Path], min_cell: &str) -> serde_json::Value {
    let out = prolo()
        .args(["analyze", "--min-cell", min_cell, "--format", "json"])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object_mut().unwrap().remove("inputs");
    v
}

/// A small synthetic data set: header and rows.
fn records(courses: u64, seed: u64) -> (String, Vec<String>) {
    let out = prolo()
        .args([
            "synth",
            "--courses",
            &courses.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
            "-",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn file(dir: &Path, name: &str, header: &str, rows: &[String]) -> PathBuf {
    write(dir, name, format!("{header}\n{}\n", rows.join("\n")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn row_order_and_file_split_change_nothing(seed in 0u64..1000, courses in 20u64..80, shuffle in any::<u64>(), cut in 0.0f64..1.0) {
        let dir = tempfile::tempdir().unwrap();
        let (header, mut rows) = records(courses, seed);
        let base = results(&[&file(dir.path(), "a.csv", &header, &rows)]);
        // A deterministic shuffle from the drawn number.
        let mut state = shuffle | 1;
        for i in (1..rows.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            rows.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(&results(&[&file(dir.path(), "b.csv", &header, &rows)]), &base);
        let k = ((rows.len() as f64) * cut) as usize;
        let first = file(dir.path(), "c1.csv", &header, &rows[..k]);
        let second = file(dir.path(), "c2.csv", &header, &rows[k..]);
        prop_assert_eq!(&results(&[&first, &second]), &base);
    }

    #[test]
    fn a_new_condition_changes_no_other_condition(seed in 0u64..1000, courses in 20u64..60) {
        let dir = tempfile::tempdir().unwrap();
        let (header, mut rows) = records(courses, seed);
        let base = results(&[&file(dir.path(), "a.csv", &header, &rows)]);
        rows.push("Z1,zz_new_condition,0,1,7,,,,40,F,S01,".into());
        rows.push("Z1,zz_new_condition,28,1,5,,,,40,F,S01,".into());
        rows.push("Z1,zz_new_condition,56,0,3,,,,40,F,S01,".into());
        let more = results(&[&file(dir.path(), "b.csv", &header, &rows)]);
        for section in ["change", "sessions_to_response", "trajectory", "sessions_received", "safety", "table1"] {
            let keep = |v: &serde_json::Value| -> Vec<serde_json::Value> {
                v[section].as_array().unwrap().iter()
                    .filter(|r| r["condition"] != "all" && r["condition"] != "zz_new_condition")
                    .cloned().collect()
            };
            prop_assert_eq!(keep(&base), keep(&more), "{}", section);
        }
    }
}

/// Every value `shown` holds (null where withheld) equals the one in `all`, the same summary
/// without suppression; the places that differ are listed. Suppression's own marks
/// (`suppressed`, `withheld_from`) and the parameters are not compared; a list (a curve cut
/// where it is withheld) is compared as far as both go.
fn shown_values_differ(
    shown: &serde_json::Value,
    all: &serde_json::Value,
    at: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (shown, all) {
        (Value::Object(s), Value::Object(a)) => {
            for (k, v) in s {
                if ["suppressed", "withheld_from", "parameters"].contains(&k.as_str()) {
                    continue;
                }
                match a.get(k) {
                    Some(w) => shown_values_differ(v, w, &format!("{at}/{k}"), out),
                    None => out.push(format!("{at}/{k}: not in the unsuppressed summary")),
                }
            }
        }
        (Value::Array(s), Value::Array(a)) => {
            for (i, (v, w)) in s.iter().zip(a).enumerate() {
                shown_values_differ(v, w, &format!("{at}[{i}]"), out);
            }
        }
        (Value::Null, _) => {}
        (v, w) if v != w => out.push(format!("{at}: {v} shown, {w} without suppression")),
        _ => {}
    }
}

/// Suppression withholds values and never changes one: every number shown with the default
/// threshold is the number computed without suppression (the hand-made leak cases and
/// synthetic clinics, most of whose cells are withheld at this size).
#[test]
fn suppression_withholds_values_and_changes_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = ["cond_leak", "km_tail", "km_tail2", "lost2", "one_file"]
        .iter()
        .map(|f| fixture(&format!("suppression/{f}.csv")))
        .collect();
    for (courses, seed) in [(60, 1), (300, 2), (900, 3), (2000, 4)] {
        files.push(synth(dir.path(), &format!("s{courses}.csv"), courses, seed));
    }
    for f in &files {
        let (shown, all) = (results_with(&[f], "11"), results(&[f]));
        let withheld = (shown["change"].as_array().unwrap().iter())
            .filter(|r| r["suppressed"] == true)
            .count();
        assert!(
            withheld > 0,
            "{}: nothing withheld, nothing tested",
            f.display()
        );
        let mut differ = Vec::new();
        shown_values_differ(&shown, &all, "", &mut differ);
        assert!(differ.is_empty(), "{}: {differ:#?}", f.display());
    }
}

/// The stdout of `prolo ARGS` with `PROLO_PARTS=parts`.
fn stdout_in_parts(args: &[&str], parts: usize) -> Vec<u8> {
    let out = prolo()
        .args(args)
        .env("PROLO_PARTS", parts.to_string())
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 3));
    out.stdout
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// A file read in parts at once gives the very bytes of a file read in one piece: every
    /// finding with its line, every number, the SHA-256. Quoted line ends, blank lines, CRLF
    /// and defects land anywhere, also across the cuts.
    #[test]
    fn reading_in_parts_changes_nothing(seed in 0u64..1000, courses in 20u64..150, parts in 2usize..7, odd in any::<u64>()) {
        let dir = tempfile::tempdir().unwrap();
        let out = prolo()
            .args(["synth", "--courses", &courses.to_string(), "--seed", &seed.to_string(), "--defects", "--out", "-"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Odd but valid text at rows chosen by `odd`: a quoted injectate over two lines, a
        // blank line, a CRLF line end.
        let mut state = odd | 1;
        for _ in 0..6 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = 1 + (state % (lines.len() as u64 - 1)) as usize;
            match state % 3 {
                0 => {
                    let mut cells: Vec<String> = lines[i].split(',').map(str::to_string).collect();
                    if cells.len() > 7 {
                        cells[7] = "\"dextrose\n15%\"".into();
                        lines[i] = cells.join(",");
                    }
                }
                1 => lines.insert(i, String::new()),
                _ => lines[i].push('\r'),
            }
        }
        let path = write(dir.path(), "a.csv", format!("{}\n", lines.join("\n")));
        let p = path.to_str().unwrap();
        for args in [
            vec!["validate", "--format", "json", p],
            vec!["analyze", "--min-cell", "0", "--format", "json", p],
        ] {
            let whole = stdout_in_parts(&args, 1);
            prop_assert!(!whole.is_empty());
            let in_parts = stdout_in_parts(&args, parts);
            prop_assert_eq!(String::from_utf8_lossy(&in_parts), String::from_utf8_lossy(&whole), "{:?}", args);
        }
    }
}

#[test]
fn a_cut_inside_a_quoted_field_reads_the_file_in_one_piece() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("patient_id,condition,day,injection,pain,injectate\n");
    for i in 0..10 {
        text.push_str(&format!("P{i},knee_oa,0,1,6,\nP{i},knee_oa,30,0,x,\n"));
    }
    // The middle of the file is inside this quoted value.
    text.push_str(&format!(
        "P10,knee_oa,0,1,6,\"dextrose{}\"\n",
        "\n15%".repeat(200)
    ));
    for i in 11..21 {
        text.push_str(&format!("P{i},knee_oa,0,1,6,\nP{i},knee_oa,30,0,y,\n"));
    }
    let path = write(dir.path(), "q.csv", &text);
    let args = ["validate", "--format", "json", path.to_str().unwrap()];
    let whole = stdout_in_parts(&args, 1);
    let report: serde_json::Value = serde_json::from_slice(&whole).unwrap();
    // The bad pain scores after the quoted value are on the lines the file has them on.
    let lines: Vec<u64> = findings(&report, "invalid pain")
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines[10], 2 + 20 + 201 + 1);
    for parts in 2..5 {
        assert_eq!(stdout_in_parts(&args, parts), whole, "{parts} parts");
    }
}
