//! Analysis 6, trajectory: mean score with 95% CI at each number of injections received so far.

use std::collections::BTreeMap;

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
            let mut by_k: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
            for c in members {
                for &(k, s) in &g.points[c.trajectory.0 as usize..c.trajectory.1 as usize] {
                    by_k.entry(k).or_default().push(s);
                }
            }
            for (k, scores) in by_k {
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
