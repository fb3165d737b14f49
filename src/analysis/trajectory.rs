//! Analysis 6, trajectory: mean score with 95% CI at each number of injections received so far.

use serde::Serialize;

use super::{copy_rows_of_all, Groups};
use crate::courses::CourseOutcome;
use crate::stats::{describe, ttest};

/// The mean score at `injections` = k in one group.
#[derive(Debug, Clone, Serialize)]
pub struct TrajectoryRow {
    pub outcome: String,
    pub instrument: String,
    pub condition: String,
    pub injections: u32,
    pub n: Option<u64>,
    pub mean: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub suppressed: bool,
}

/// Trajectory rows for every outcome, group and k.
pub fn analyse(groups: &[Groups]) -> Vec<TrajectoryRow> {
    let mut rows = Vec::new();
    for g in groups {
        let by_k = scores_by_group_and_k(g);
        let all_rows = rows.len();
        for (i, (condition, _)) in g.groups.iter().enumerate() {
            if g.same_as_all(i) {
                copy_rows_of_all(&mut rows, all_rows, condition, |r: &mut TrajectoryRow| {
                    &mut r.condition
                });
                continue;
            }
            for (k, (scores, sum)) in (by_k[i].iter().enumerate()).filter(|(_, s)| !s.0.is_empty())
            {
                let moments = describe::moments_with(scores, *sum);
                let t = ttest::from_moments(&moments);
                rows.push(TrajectoryRow {
                    outcome: g.kind.to_string(),
                    instrument: g.instrument.clone(),
                    condition: condition.clone(),
                    injections: k as u32,
                    n: Some(scores.len() as u64),
                    mean: moments.mean,
                    ci_low: t.as_ref().and_then(|t| t.ci_low),
                    ci_high: t.as_ref().and_then(|t| t.ci_high),
                    suppressed: false,
                });
            }
        }
    }
    rows
}

/// The scores of each group (empty for a condition that is the same as "all") by k
/// (injections so far), in course order, with their sum. One walk over "all" fills every
/// group: a condition's courses are "all"'s courses of that condition, in the same order.
/// Counted first, so that each vector is allocated once at its size.
fn scores_by_group_and_k(g: &Groups) -> Vec<Vec<(Vec<f64>, describe::Sum)>> {
    let Some((_, all)) = g.groups.first() else {
        return Vec::new();
    };
    // The group of each condition (index into the conditions), where it is computed apart.
    let mut group_of: Vec<Option<usize>> = Vec::new();
    for (i, (_, members)) in g.groups.iter().enumerate().skip(1) {
        if let Some(c) = members.first().filter(|_| !g.same_as_all(i)) {
            let c = c.condition as usize;
            if c >= group_of.len() {
                group_of.resize(c + 1, None);
            }
            group_of[c] = Some(i);
        }
    }
    let points = |c: &CourseOutcome| {
        let range = c.trajectory.0 as usize..c.trajectory.1 as usize;
        (g.points.k[range.clone()].iter()).zip(&g.points.score[range])
    };
    let mut sizes: Vec<Vec<usize>> = vec![Vec::new(); g.groups.len()];
    let count = |sizes: &mut Vec<usize>, k: usize| {
        if k >= sizes.len() {
            sizes.resize(k + 1, 0);
        }
        sizes[k] += 1;
    };
    for &c in all {
        let other = group_of.get(c.condition as usize).copied().flatten();
        for (&k, _) in points(c) {
            count(&mut sizes[0], k as usize);
            if let Some(i) = other {
                count(&mut sizes[i], k as usize);
            }
        }
    }
    let mut by_k: Vec<Vec<(Vec<f64>, describe::Sum)>> = (sizes.iter())
        .map(|s| {
            (s.iter())
                .map(|&n| (Vec::with_capacity(n), describe::Sum::default()))
                .collect()
        })
        .collect();
    let mut put = |group: usize, k: u32, s: f64| {
        let (scores, sum) = &mut by_k[group][k as usize];
        scores.push(s);
        sum.add(s);
    };
    for &c in all {
        let other = group_of.get(c.condition as usize).copied().flatten();
        for (&k, &s) in points(c) {
            put(0, k, s);
            if let Some(i) = other {
                put(i, k, s);
            }
        }
    }
    by_k
}
