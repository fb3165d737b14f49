//! The adversarial corpus of `tests/fixtures/adversarial/` (written by its `make_corpus.py`):
//! each file gets the exit code `expected.tsv` gives, from `validate` and from `analyze`,
//! with a message naming the file; never a panic, never a hang.

use std::time::{Duration, Instant};

use super::*;

/// (file, validate exit code, analyze exit code, fragment of the message) of expected.tsv.
fn manifest() -> Vec<(String, i32, i32, String)> {
    let text = std::fs::read_to_string(fixture("adversarial/expected.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].into(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].into(),
            )
        })
        .collect()
}

#[test]
fn every_file_of_the_corpus_gets_its_exit_code_and_message() {
    let cases = manifest();
    assert!(cases.len() >= 20);
    let dir = tempfile::tempdir().unwrap();
    for (file, validate, analyze, says) in &cases {
        let path = fixture(&format!("adversarial/{file}"));
        for (command, code) in [("validate", validate), ("analyze", analyze)] {
            let started = Instant::now();
            let mut c = prolo();
            c.arg(command).arg(&path);
            if command == "analyze" {
                c.arg("--out").arg(dir.path().join(format!("{file}.out")));
            }
            let out = c.timeout(Duration::from_secs(60)).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let text = format!("{}{err}", String::from_utf8_lossy(&out.stdout));
            assert_eq!(out.status.code(), Some(*code), "{command} {file}: {text}");
            assert!(!err.contains("panicked"), "{command} {file}: {err}");
            assert!(started.elapsed() < Duration::from_secs(60));
            if *code != 0 && !says.is_empty() {
                assert!(text.contains(says.as_str()), "{command} {file}: {text}");
            }
            if *code == 3 && command == "analyze" {
                assert!(err.contains(file.as_str()), "{command} {file}: {err}");
            }
        }
    }
}

#[test]
fn text_from_the_corpus_is_inert_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    prolo()
        .args(["analyze", "--min-cell", "0", "--out"])
        .arg(&out)
        .arg(fixture("adversarial/formulas_html.csv"))
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for bad in ["<script", "<img", "<b>knee"] {
        assert!(!html.contains(bad) && !md.contains(bad), "{bad}");
    }
    for entry in std::fs::read_dir(out.join("tables")).unwrap() {
        let csv = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for cell in csv.lines().flat_map(|l| l.split(',')) {
            let cell = cell.trim_start_matches('"');
            let risky = cell.starts_with(['=', '+', '@'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(!risky, "a spreadsheet would run {cell:?}");
        }
    }
}

#[test]
fn patient_ids_and_conditions_are_counted_as_written() {
    // Right-to-left, CJK, emoji and a NUL byte in conditions; "P\0001" and "P" are two
    // patients.
    let out = prolo()
        .args(["analyze", "--min-cell", "0", "--format", "json"])
        .arg(fixture("adversarial/unicode_rtl.csv"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cohort"]["patients"], 7);
    assert_eq!(v["cohort"]["courses"], 7);
    assert_eq!(v["cohort"]["valid_courses"], 7);
}
