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
    let (q, counts) = distribution(x);
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

/// Numbers of sessions up to this many are counted in a table; beyond, sorted.
const COUNTED: f64 = 65_536.0;

/// The quartiles of `x` (numbers of sessions: whole numbers from 0) and how many courses had
/// each number, in numeric order. Each number's courses are counted in a table, and the
/// quartiles read the values at their places in order from the counts: the values a sort
/// would put there, so the same bits as [`by_sort`], without a sorted copy.
fn distribution(x: &[f64]) -> (Option<describe::Quartiles>, Vec<(u32, Option<u64>)>) {
    // (Always whole numbers from 0 here; anything else is sorted, as before.)
    let counted = |v: &f64| (0.0..COUNTED).contains(v) && v.fract() == 0.0;
    let Some(most) = x
        .iter()
        .try_fold(0.0f64, |m, v| counted(v).then(|| m.max(*v)))
    else {
        return by_sort(x);
    };
    let mut table = vec![0u64; most as usize + 1];
    for &v in x {
        table[v as usize] += 1;
    }
    let counts: Vec<(u32, Option<u64>)> = (table.iter().enumerate())
        .filter(|(_, &n)| n > 0)
        .map(|(k, &n)| (k as u32, Some(n)))
        .collect();
    // Where each number's places end, in order.
    let ends: Vec<u64> = (counts.iter())
        .scan(0, |end, &(_, n)| {
            *end += n.unwrap_or(0);
            Some(*end)
        })
        .collect();
    let at = |i: usize| {
        let k = ends.partition_point(|&end| end <= i as u64);
        counts.get(k).map_or(f64::NAN, |&(v, _)| f64::from(v))
    };
    (describe::quartiles_at(x.len(), at), counts)
}

/// [`distribution`] from a sorted copy of `x` (sessions are whole numbers, so their order as
/// numbers is their order as counts).
fn by_sort(x: &[f64]) -> (Option<describe::Quartiles>, Vec<(u32, Option<u64>)>) {
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
    (q, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Counting gives the quartiles and counts sorting gives, to the bit: few and many
        /// distinct numbers, zeros, and numbers past the table (sorted instead).
        #[test]
        fn counted_sessions_are_sorted_sessions(
            x in prop::collection::vec(
                prop_oneof![0u32..6, 0u32..40, Just(70_000u32), Just(u32::MAX)],
                0..200,
            ),
        ) {
            let x: Vec<f64> = x.into_iter().map(f64::from).collect();
            let bits = |q: Option<describe::Quartiles>| {
                q.map(|q| (q.q1.to_bits(), q.median.to_bits(), q.q3.to_bits()))
            };
            let (q, counts) = distribution(&x);
            let (q_sorted, counts_sorted) = by_sort(&x);
            prop_assert_eq!(bits(q), bits(q_sorted));
            prop_assert_eq!(counts, counts_sorted);
        }
    }
}
