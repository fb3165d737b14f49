//! `prolo synth`: the same seed gives the same bytes; records are valid unless defects are asked.

use super::*;

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let p = dir.path().join(name);
        prolo()
            .args(["synth", "--courses", "300", "--seed", seed, "--out"])
            .arg(&p)
            .assert()
            .success();
        std::fs::read(p).unwrap()
    };
    let a = run("a.csv", "5");
    assert_eq!(a, run("b.csv", "5"));
    assert_ne!(a, run("c.csv", "6"));
    let stdout = prolo()
        .args(["synth", "--courses", "300", "--seed", "5", "--out", "-"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(a, stdout);
}

#[test]
fn synthetic_records_validate_clean_and_defects_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.csv");
    let bad = dir.path().join("bad.csv.gz");
    prolo()
        .args(["synth", "--courses", "500", "--seed", "1", "--out"])
        .arg(&clean)
        .assert()
        .success();
    prolo()
        .args([
            "synth",
            "--courses",
            "500",
            "--seed",
            "1",
            "--defects",
            "--out",
        ])
        .arg(&bad)
        .assert()
        .success();
    let (code, r) = validate_json(&clean);
    assert_eq!(code, 0, "{}", r["counts"]);
    assert_eq!(r["courses"], 500);
    let (code, r) = validate_json(&bad);
    assert_eq!(code, 3);
    for reason in [
        "invalid pain",
        "invalid injection",
        "unknown instrument",
        "duplicate encounter",
    ] {
        assert!(
            !findings(&r, reason).is_empty(),
            "{reason}: {}",
            r["counts"]
        );
    }
}
