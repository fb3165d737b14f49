//! Analysis 5, sessions received: injection encounters per valid course, by condition.

use serde::ser::SerializeMap;
use serde::Serialize;

use super::ALL;
use crate::courses::Tally;
use crate::stats::describe;
use crate::validate::Validated;

/// Counts keyed by a number, kept in numeric order.
#[derive(Debug, Clone, Default)]
pub struct Counts(pub Vec<(u32, Option<u64>)>);

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(&k.to_string(), v)?;
        }
        map.end()
    }
}

/// The distribution of injection sessions in one group.
#[derive(Debug, Clone, Serialize)]
pub struct SessionsRow {
    pub condition: String,
    pub n: Option<u64>,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub q1: Option<f64>,
    pub q3: Option<f64>,
    pub counts: Counts,
    pub suppressed: bool,
}

/// Sessions received overall and per condition, over every valid course (`tallies`: each
/// course's, in course order).
pub fn analyse(v: &Validated, tallies: &[Tally]) -> Vec<SessionsRow> {
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); v.conditions.len()];
    for (c, t) in v.courses.iter().zip(tallies) {
        per[c.condition as usize].push(f64::from(t.injections));
    }
    let all: Vec<f64> = per.iter().flatten().copied().collect();
    // No valid course: no rows (not an "all" row of nothing).
    let mut rows: Vec<SessionsRow> = (!all.is_empty())
        .then(|| row(ALL, &all))
        .into_iter()
        .collect();
    for (name, x) in v.conditions.iter().zip(&per) {
        if !x.is_empty() {
            rows.push(row(name, x));
        }
    }
    rows
}

fn row(condition: &str, x: &[f64]) -> SessionsRow {
    // One sort serves the quartiles and the counts (sessions are whole numbers, so their
    // order as numbers is their order as counts).
    let mut sorted = x.to_vec();
    describe::sort_total(&mut sorted);
    let q = describe::quartiles_sorted(&sorted);
    let mut counts: Vec<(u32, Option<u64>)> = Vec::new();
    for k in sorted.iter().map(|v| *v as u32) {
        match counts.last_mut() {
            Some((j, Some(n))) if *j == k => *n += 1,
            _ => counts.push((k, Some(1))),
        }
    }
    SessionsRow {
        condition: condition.to_string(),
        n: Some(x.len() as u64),
        mean: describe::mean(x),
        median: q.as_ref().map(|q| q.median),
        q1: q.as_ref().map(|q| q.q1),
        q3: q.as_ref().map(|q| q.q3),
        counts: Counts(counts),
        suppressed: false,
    }
}
