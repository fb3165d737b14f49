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
    let out = prolo()
        .args(["analyze", "--min-cell", "0", "--format", "json"])
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
