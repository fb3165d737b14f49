//! Findings of `validate` as text (the first 20 in full, then counts per kind) or JSON (all).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::validate::{Finding, Reason, Severity, Validated};

/// How many findings the text report shows in full.
pub const SHOWN_IN_FULL: usize = 20;

#[derive(Serialize)]
struct Report<'a> {
    valid: bool,
    errors: usize,
    warnings: usize,
    records: u64,
    courses: u64,
    valid_courses: usize,
    counts: BTreeMap<&'static str, usize>,
    findings: &'a [Finding],
}

fn counts(v: &Validated) -> (usize, usize, BTreeMap<Reason, usize>) {
    let mut by = BTreeMap::new();
    let (mut e, mut w) = (0, 0);
    for f in &v.findings {
        *by.entry(f.reason).or_insert(0) += 1;
        match f.severity {
            Severity::Error => e += 1,
            Severity::Warning => w += 1,
        }
    }
    (e, w, by)
}

/// Every finding as JSON, with the counts, written to `out` as it is made (a file with many
/// findings makes a large report: it is never held whole).
pub fn json_to(v: &Validated, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let (errors, warnings, by) = counts(v);
    let report = Report {
        valid: errors == 0,
        errors,
        warnings,
        records: v.records_read,
        courses: v.courses_read,
        valid_courses: v.courses.len(),
        counts: by.into_iter().map(|(r, n)| (r.name(), n)).collect(),
        findings: &v.findings,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

/// One finding on one line.
pub fn line(f: &Finding) -> String {
    let mut s = format!("{}: {}", severity(f.severity), f.file);
    if let Some(l) = f.line {
        let _ = write!(s, ":{l}");
    }
    if let Some(c) = &f.column {
        let _ = write!(s, ": column {c}");
    }
    if let Some(v) = &f.value {
        let _ = write!(s, ": value {v:?}");
    }
    let _ = write!(
        s,
        ": {} — expected {} ({})",
        f.reason.name(),
        f.expected,
        f.cost
    );
    s
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The findings as text: the first [`SHOWN_IN_FULL`] in full, then counts per kind.
pub fn text(v: &Validated) -> String {
    let (errors, warnings, by) = counts(v);
    let mut s = String::new();
    for f in v.findings.iter().take(SHOWN_IN_FULL) {
        let _ = writeln!(s, "{}", line(f));
    }
    if v.findings.len() > SHOWN_IN_FULL {
        let _ = writeln!(
            s,
            "… and {} more (--format json lists every one). All findings by kind:",
            v.findings.len() - SHOWN_IN_FULL
        );
    }
    if v.findings.len() > SHOWN_IN_FULL || by.len() > 1 {
        for (reason, n) in &by {
            let _ = writeln!(
                s,
                "  {:<22} {:>9}  {}",
                reason.name(),
                n,
                severity(reason.severity())
            );
        }
    }
    let many = |n: u64, one: &str, more: &str| format!("{n} {}", if n == 1 { one } else { more });
    let _ = writeln!(
        s,
        "{}, {} read; {} valid; {}, {}",
        many(v.records_read, "record", "records"),
        many(v.courses_read, "course", "courses"),
        many(v.courses.len() as u64, "course", "courses"),
        many(errors as u64, "error", "errors"),
        many(warnings as u64, "warning", "warnings"),
    );
    s
}
