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
