//! The readable summary `analyze` prints without `--out`: the key numbers per condition.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use crate::analysis::response::ResponseRow;
use crate::analysis::{Summary, ALL};

use super::{count, fixed as num, pct};

fn ci(lo: Option<f64>, hi: Option<f64>, digits: usize) -> String {
    match (lo, hi) {
        (Some(a), Some(b)) => format!("({a:.digits$} to {b:.digits$})"),
        (Some(a), None) => format!("({a:.digits$} to —)"),
        _ => String::new(),
    }
}

/// The key numbers per outcome and condition.
pub fn summary(s: &Summary) -> String {
    let n = s.parameters.min_cell;
    let mut out = String::new();
    let c = &s.cohort;
    let _ = writeln!(
        out,
        "prolo {}: {} records, {} courses ({} valid), {} patients",
        s.tool_version,
        count(c.records),
        count(c.courses),
        count(c.valid_courses),
        count(c.patients)
    );
    let mut outcomes: Vec<(String, String)> = s
        .change
        .iter()
        .map(|r| (r.outcome.clone(), r.instrument.clone()))
        .collect();
    outcomes.dedup();
    // Looked up once per printed row: a scan per row is quadratic in the conditions.
    let mut response: HashMap<(&str, &str, &str), &ResponseRow> = HashMap::new();
    for k in &s.sessions_to_response {
        let key = (
            k.outcome.as_str(),
            k.instrument.as_str(),
            k.condition.as_str(),
        );
        // The first, as a scan would find it.
        response.entry(key).or_insert(k);
    }
    let (shown, all_conditions) = super::largest_conditions(s);
    let shown: BTreeSet<&str> = shown.iter().map(String::as_str).collect();
    for (outcome, instrument) in outcomes {
        let _ = writeln!(out, "\n{outcome} ({instrument}): change from baseline to final follow-up; response by injections");
        let _ = writeln!(
            out,
            "  {:<26} {:>7}  {:<28} {:<20} median injections to response (95% CI)",
            "condition", "n", "mean change (95% CI)", "responders (95% CI)"
        );
        for r in s.change.iter().filter(|r| {
            r.outcome == outcome
                && r.instrument == instrument
                && r.injections == ALL
                && (r.condition == ALL || shown.contains(r.condition.as_str()))
        }) {
            let km = response.get(&(outcome.as_str(), instrument.as_str(), r.condition.as_str()));
            let med = km.map_or(String::new(), |k| match k.median {
                Some(m) => format!(
                    "{} {}",
                    num(Some(m), 1),
                    ci(k.median_ci_low, k.median_ci_high, 1)
                ),
                None if k.suppressed && k.n.is_none() => "withheld".into(),
                None => "not reached".into(),
            });
            let change = if r.mean_change.is_some() {
                format!("{} {}", num(r.mean_change, 2), ci(r.ci_low, r.ci_high, 2))
            } else {
                "withheld".into()
            };
            let resp = if r.responder_rate.is_some() {
                format!(
                    "{} {}",
                    pct(r.responder_rate),
                    match (r.responder_ci_low, r.responder_ci_high) {
                        (Some(a), Some(b)) => format!("({:.0}–{:.0}%)", a * 100.0, b * 100.0),
                        _ => String::new(),
                    }
                )
            } else {
                "withheld".into()
            };
            let _ = writeln!(
                out,
                "  {:<26} {:>7}  {:<28} {:<20} {}",
                r.condition,
                count(r.n),
                change,
                resp,
                med
            );
        }
    }
    if all_conditions > shown.len() {
        let _ = writeln!(
            out,
            "\nThe {} of {} conditions with the most courses are listed; summary.json and the tables (--out) hold every condition.",
            shown.len(),
            all_conditions
        );
    }
    if s.parameters.min_cell > 1 {
        let _ = writeln!(out, "\nCounts from 1 to {}, counts that would give one of them away, and statistics of groups under {} courses are withheld (--min-cell {}).", n - 1, n, n);
    }
    out
}
