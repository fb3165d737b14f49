//! Analysis 6, trajectory: mean score with 95% CI at each number of injections received so far.

use serde::Serialize;

use super::Groups;
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
        for (condition, members) in &g.groups {
            // Scores by k (injections so far), in course order.
            let mut by_k: Vec<Vec<f64>> = Vec::new();
            for c in members {
                for &(k, s) in &g.points[c.trajectory.0 as usize..c.trajectory.1 as usize] {
                    let k = k as usize;
                    if k >= by_k.len() {
                        by_k.resize_with(k + 1, Vec::new);
                    }
                    by_k[k].push(s);
                }
            }
            for (k, scores) in by_k.into_iter().enumerate().filter(|(_, s)| !s.is_empty()) {
                let k = k as u32;
                let t = ttest::one_sample(&scores);
                rows.push(TrajectoryRow {
                    outcome: g.kind.to_string(),
                    instrument: g.instrument.clone(),
                    condition: condition.clone(),
                    injections: k,
                    n: Some(scores.len() as u64),
                    mean: describe::mean(&scores),
                    ci_low: t.as_ref().and_then(|t| t.ci_low),
                    ci_high: t.as_ref().and_then(|t| t.ci_high),
                    suppressed: false,
                });
            }
        }
    }
    rows
}
