//! The integration test binary: runs the real `prolo` binary on small fixtures.

mod adversarial;
mod analyze;
mod analyze_reference;
mod attack;
mod fuzz_regressions;
mod ingest;
mod properties;
mod report;
mod schema;
mod stats_reference;
mod synth;
mod validate;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `prolo` binary, with no colour and no terminal.
pub fn prolo() -> Command {
    let mut c = Command::cargo_bin("prolo").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// A fixture of tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// `prolo synth --courses N --seed S` written to `dir/name`.
pub fn synth(dir: &Path, name: &str, courses: u32, seed: u32) -> PathBuf {
    let file = dir.join(name);
    (prolo().args(["synth", "--courses", &courses.to_string()]))
        .args(["--seed", &seed.to_string()])
        .arg("--out")
        .arg(&file)
        .assert()
        .success();
    file
}

/// [`synth`], with each course's condition replaced by one of `k`
/// (tests/fixtures/many_conditions/remap.py: c(j), j = (digits of patient_id × 31 + Σ bytes
/// of its condition) mod k).
pub fn synth_over_conditions(dir: &Path, name: &str, courses: u32, seed: u32, k: u64) -> PathBuf {
    let synth = synth(dir, &format!("{name}.synth.csv"), courses, seed);
    let text = std::fs::read_to_string(&synth).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let names: Vec<&str> = header.split(',').collect();
    let column = |name: &str| names.iter().position(|n| *n == name).unwrap();
    let (p, c) = (column("patient_id"), column("condition"));
    let width = (k - 1).to_string().len().max(3);
    let mut out = format!("{header}\n");
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        let digits: String = cells[p].chars().filter(char::is_ascii_digit).collect();
        let digits: u64 = digits.parse().unwrap_or(0);
        let bytes: u64 = cells[c].bytes().map(u64::from).sum();
        cells[c] = format!("c{:0width$}", (digits * 31 + bytes) % k);
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    write(dir, name, out)
}

/// Writes `text` to `name` in `dir` and returns the path.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `prolo validate --format json FILE` and returns (exit code, report).
pub fn validate_json(path: &Path) -> (i32, serde_json::Value) {
    let out = prolo()
        .args(["validate", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (code, report)
}

/// Runs `prolo validate FILE` and returns (exit code, stderr).
pub fn validate_stderr(path: &Path) -> (i32, String) {
    let out = prolo().arg("validate").arg(path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap(), err)
}

/// The findings of one reason in a validate report.
pub fn findings<'a>(report: &'a serde_json::Value, reason: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["reason"] == reason)
        .collect()
}

/// A valid header with every column.
pub const HEADER: &str = "patient_id,condition,day,injection,pain,function,function_instrument,injectate,age,sex,site,adverse_event";
