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
        let all_rows = rows.len();
        for (i, (condition, members)) in g.groups.iter().enumerate() {
            if g.same_as_all(i) {
                copy_rows_of_all(&mut rows, all_rows, condition, |r: &mut TrajectoryRow| {
                    &mut r.condition
                });
                continue;
            }
            let points = |c: &&CourseOutcome| {
                let range = c.trajectory.0 as usize..c.trajectory.1 as usize;
                (g.points.k[range.clone()].iter()).zip(&g.points.score[range])
            };
            // Scores by k (injections so far), in course order; counted first, so that each
            // vector is allocated once at its size.
            let mut sizes: Vec<usize> = Vec::new();
            for (&k, _) in members.iter().flat_map(points) {
                let k = k as usize;
                if k >= sizes.len() {
                    sizes.resize(k + 1, 0);
                }
                sizes[k] += 1;
            }
            let mut by_k: Vec<Vec<f64>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
            for (&k, &s) in members.iter().flat_map(points) {
                by_k[k as usize].push(s);
            }
            for (k, scores) in by_k.into_iter().enumerate().filter(|(_, s)| !s.is_empty()) {
                let moments = describe::moments(&scores);
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
