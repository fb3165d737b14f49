//! Analysis 8, safety: adverse events per 100 injections with a Wilson 95% CI.

use serde::Serialize;

use super::ALL;
use crate::courses::Tally;
use crate::stats::wilson;
use crate::validate::Validated;

/// Injections and adverse events in one group.
#[derive(Debug, Clone, Serialize)]
pub struct SafetyRow {
    pub condition: String,
    pub courses: Option<u64>,
    pub injections: Option<u64>,
    pub events: Option<u64>,
    pub per_100: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub suppressed: bool,
}

/// Safety overall and per condition over every valid course (`tallies`: each course's, in
/// course order); a flag on an encounter without an injection is not counted.
pub fn analyse(v: &Validated, tallies: &[Tally]) -> Vec<SafetyRow> {
    let mut per = vec![(0u64, 0u64, 0u64); v.conditions.len()];
    for (c, t) in v.courses.iter().zip(tallies) {
        let p = &mut per[c.condition as usize];
        p.0 += 1;
        p.1 += u64::from(t.injections);
        p.2 += u64::from(t.adverse);
    }
    let total = per
        .iter()
        .fold((0, 0, 0), |a, p| (a.0 + p.0, a.1 + p.1, a.2 + p.2));
    // No valid course: no rows (not an "all" row of nothing).
    let mut rows: Vec<SafetyRow> = (total.0 > 0).then(|| row(ALL, total)).into_iter().collect();
    for (name, p) in v.conditions.iter().zip(per) {
        if p.0 > 0 {
            rows.push(row(name, p));
        }
    }
    rows
}

fn row(condition: &str, (courses, injections, events): (u64, u64, u64)) -> SafetyRow {
    let ci = wilson::wilson(events, injections);
    SafetyRow {
        condition: condition.to_string(),
        courses: Some(courses),
        injections: Some(injections),
        events: Some(events),
        per_100: (injections > 0).then(|| 100.0 * events as f64 / injections as f64),
        ci_low: ci.map(|c| 100.0 * c.0),
        ci_high: ci.map(|c| 100.0 * c.1),
        suppressed: false,
    }
}
