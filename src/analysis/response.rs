//! Analyses 4 and 7: injections to response (Kaplan–Meier, log-rank) and the
//! between-condition comparison of improvement (Kruskal–Wallis).

use serde::Serialize;

use rayon::prelude::*;

use super::{rows_by_group, Groups, ALL};
use crate::stats::kaplan_meier::KaplanMeier;
use crate::stats::{finite, kruskal, logrank};

/// One point of the cumulative response curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    pub injections: u32,
    pub at_risk: Option<u64>,
    pub events: Option<u64>,
    pub censored: Option<u64>,
    pub cum_response: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Withheld by small-cell suppression (every value above is then null).
    pub suppressed: bool,
}

/// Injections to response in one group.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseRow {
    pub outcome: String,
    pub instrument: String,
    pub condition: String,
    pub n: Option<u64>,
    pub events: Option<u64>,
    pub median: Option<f64>,
    pub median_ci_low: Option<f64>,
    pub median_ci_high: Option<f64>,
    pub responded_by_3: Option<f64>,
    pub responded_by_3_ci_low: Option<f64>,
    pub responded_by_3_ci_high: Option<f64>,
    pub curve: Vec<CurvePoint>,
    /// With small-cell suppression: the curve is withheld from this number of injections on.
    pub withheld_from: Option<u32>,
    pub suppressed: bool,
}

/// The log-rank test across conditions (R `survdiff`, rho = 0).
#[derive(Debug, Clone, Serialize)]
pub struct LogRankRow {
    pub outcome: String,
    pub instrument: String,
    pub chisq: Option<f64>,
    pub df: Option<f64>,
    pub p: Option<f64>,
    pub conditions: u64,
    /// Withheld: a condition it compares has fewer courses than the small-cell threshold.
    pub suppressed: bool,
}

/// The Kruskal–Wallis test across conditions (R `kruskal.test`).
#[derive(Debug, Clone, Serialize)]
pub struct KruskalRow {
    pub outcome: String,
    pub instrument: String,
    pub statistic: Option<f64>,
    pub df: Option<f64>,
    pub p: Option<f64>,
    pub conditions: u64,
    /// Withheld: a condition it compares has fewer courses than the small-cell threshold.
    pub suppressed: bool,
}

/// Kaplan–Meier per group, and a log-rank test across conditions per outcome (the groups and
/// the outcomes' tests on every core).
pub fn analyse(groups: &[Groups], min_cell: u64) -> (Vec<ResponseRow>, Vec<LogRankRow>) {
    rayon::join(
        || {
            rows_by_group(
                groups,
                || (),
                |_, g, i| {
                    let (condition, members) = &g.groups[i];
                    let times: Vec<f64> = members.iter().map(|c| f64::from(c.time)).collect();
                    let events: Vec<bool> = members.iter().map(|c| c.event).collect();
                    vec![curve(g.kind, &g.instrument, condition, &times, &events)]
                },
                |r: &mut ResponseRow| &mut r.condition,
            )
        },
        || {
            groups
                .par_iter()
                .filter_map(|g| logrank_row(g, min_cell))
                .collect()
        },
    )
}

/// The log-rank test across the conditions of one outcome, when it has two or more. A test
/// that small-cell suppression withholds (a condition under `min_cell` courses) is not
/// computed: with thousands of conditions its (k − 1)² variance matrix took minutes.
fn logrank_row(g: &Groups, min_cell: u64) -> Option<LogRankRow> {
    let by_condition: Vec<_> = g.groups.iter().filter(|(c, _)| c != ALL).collect();
    if by_condition.len() < 2 {
        return None;
    }
    if min_cell > 1 && (by_condition.iter()).any(|(_, m)| (m.len() as u64) < min_cell) {
        return Some(LogRankRow {
            outcome: g.kind.to_string(),
            instrument: g.instrument.clone(),
            chisq: None,
            df: None,
            p: None,
            conditions: by_condition.len() as u64,
            suppressed: true,
        });
    }
    let mut times = Vec::new();
    let mut events = Vec::new();
    let mut labels = Vec::new();
    for (k, (_, members)) in by_condition.iter().enumerate() {
        for c in members.iter() {
            times.push(f64::from(c.time));
            events.push(c.event);
            labels.push(k);
        }
    }
    let lr = logrank::logrank(&times, &events, &labels);
    // With no event at all survdiff reports chisq 0 and no p-value.
    let no_events = !events.iter().any(|e| *e);
    Some(LogRankRow {
        outcome: g.kind.to_string(),
        instrument: g.instrument.clone(),
        chisq: lr
            .as_ref()
            .and_then(|l| finite(l.chisq))
            .or(no_events.then_some(0.0)),
        df: Some(
            lr.as_ref()
                .map_or(by_condition.len() as f64 - 1.0, |l| l.df as f64),
        ),
        p: lr.as_ref().and_then(|l| finite(l.p)),
        conditions: by_condition.len() as u64,
        suppressed: false,
    })
}

/// The cumulative response curve of one group: 1 − S(k) with the CI flipped.
pub fn curve(
    outcome: &str,
    instrument: &str,
    condition: &str,
    times: &[f64],
    events: &[bool],
) -> ResponseRow {
    let km = KaplanMeier::fit(times, events);
    let median = km.median();
    let flip = |x: Option<f64>| x.map(|s| 1.0 - s);
    let by3 = times.iter().any(|t| *t >= 3.0).then(|| {
        let p = km.points.iter().rev().find(|p| p.time <= 3.0);
        (
            1.0 - km.surv_at(3.0),
            p.map_or(Some(0.0), |p| flip(p.upper)),
            p.map_or(Some(0.0), |p| flip(p.lower)),
        )
    });
    ResponseRow {
        outcome: outcome.to_string(),
        instrument: instrument.to_string(),
        condition: condition.to_string(),
        n: Some(km.n as u64),
        events: Some(km.events as u64),
        median: median.median,
        median_ci_low: median.lower,
        median_ci_high: median.upper,
        responded_by_3: by3.map(|b| b.0),
        responded_by_3_ci_low: by3.and_then(|b| b.1),
        responded_by_3_ci_high: by3.and_then(|b| b.2),
        curve: km
            .points
            .iter()
            .map(|p| CurvePoint {
                injections: p.time as u32,
                at_risk: Some(p.n_risk as u64),
                events: Some(p.n_event as u64),
                censored: Some(p.n_censor as u64),
                cum_response: Some(1.0 - p.surv),
                ci_low: flip(p.upper),
                ci_high: flip(p.lower),
                suppressed: false,
            })
            .collect(),
        withheld_from: None,
        suppressed: false,
    }
}

/// Kruskal–Wallis of improvement across conditions, per outcome measured in two or more.
pub fn kruskal(groups: &[Groups]) -> Vec<KruskalRow> {
    (groups.par_iter())
        .filter_map(|g| {
            let samples: Vec<Vec<f64>> = g
                .groups
                .iter()
                .filter(|(c, _)| c != ALL)
                .map(|(_, m)| m.iter().map(|c| c.improvement()).collect())
                .collect();
            if samples.len() < 2 {
                return None;
            }
            let kw = kruskal::kruskal_wallis(&samples);
            Some(KruskalRow {
                outcome: g.kind.to_string(),
                instrument: g.instrument.clone(),
                statistic: kw.as_ref().and_then(|k| finite(k.statistic)),
                df: kw
                    .as_ref()
                    .map(|k| k.df as f64)
                    .or(Some(samples.len() as f64 - 1.0)),
                p: kw.as_ref().and_then(|k| finite(k.p)),
                conditions: samples.len() as u64,
                suppressed: false,
            })
        })
        .collect()
}
