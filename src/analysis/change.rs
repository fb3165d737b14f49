//! Analysis 3, change from baseline: by outcome, condition and injections received.

use serde::Serialize;

use super::{rows_by_group, Groups, ALL};
use crate::config::Settings;
use crate::courses::CourseOutcome;
use crate::stats::{describe, finite, ttest, wilcoxon, wilson};

/// One change row (SPEC field names).
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub outcome: String,
    pub instrument: String,
    pub condition: String,
    pub injections: String,
    pub n: Option<u64>,
    pub baseline_mean: Option<f64>,
    pub followup_mean: Option<f64>,
    pub mean_change: Option<f64>,
    pub sd_change: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub median_change: Option<f64>,
    pub q1: Option<f64>,
    pub q3: Option<f64>,
    pub t_p: Option<f64>,
    pub wilcoxon_p: Option<f64>,
    pub srm: Option<f64>,
    pub effect_size: Option<f64>,
    pub mean_pct_change: Option<f64>,
    pub responders: Option<u64>,
    pub responder_rate: Option<f64>,
    pub responder_ci_low: Option<f64>,
    pub responder_ci_high: Option<f64>,
    pub suppressed: bool,
}

/// The injections-received group of `n` injections: "1".."top-1", then "top+".
pub fn injections_group(n: u32, top: u64) -> String {
    if u64::from(n) >= top {
        format!("{top}+")
    } else {
        n.to_string()
    }
}

/// Change rows for every outcome, condition ("all" first) and injections group ("all" first).
pub fn analyse(groups: &[Groups], settings: &Settings) -> Vec<ChangeRow> {
    let top = u32::try_from(settings.injections_top.max(1)).unwrap_or(u32::MAX);
    rows_by_group(
        groups,
        Scratch::default,
        |scratch, g, i| group_rows(g, i, top, scratch),
        |r: &mut ChangeRow| &mut r.condition,
    )
}

/// The rows of group `i` of `g`: all its courses, then by injections received.
fn group_rows(g: &Groups, i: usize, top: u32, scratch: &mut Scratch) -> Vec<ChangeRow> {
    let (condition, members) = &g.groups[i];
    let (kind, instrument) = (g.kind, &g.instrument);
    let received = |c: &CourseOutcome| c.injections.min(top) as usize;
    // Two walks over the courses, which lie in memory order (see
    // `analysis::condition_major`). The first gathers every value, in the group's order,
    // and counts the courses (and percent changes) of each injections-received group
    // (0..=top); the second puts the values again in the same lists, group by group, each
    // in the group's order, once the row of all has been made from them. A walk per
    // injections group cost a pass over every course each; lists of each group's courses,
    // a cache miss a course; lists of each group's values, twice the memory.
    let Scratch {
        change,
        baseline,
        followup,
        pct,
        counts,
        sums,
    } = scratch;
    for list in [&mut *change, &mut *baseline, &mut *followup, &mut *pct] {
        list.clear();
        list.reserve(members.len());
    }
    counts.clear();
    let mut all = Sums::default();
    for c in members.iter() {
        let d = c.change();
        change.push(d);
        baseline.push(c.baseline);
        followup.push(c.followup);
        if let Some(p) = all.add(c, d) {
            pct.push(p);
        }
        let k = received(c);
        if k >= counts.len() {
            counts.resize(k + 1, [0; 2]);
        }
        counts[k][0] += 1;
        counts[k][1] += usize::from(c.baseline != 0.0);
    }
    let whole = Values {
        change,
        baseline,
        followup,
        pct,
        sums: all,
    };
    let mut rows = vec![row(kind, instrument, condition, ALL.to_string(), whole)];
    // Where each group's values start: [courses, percent changes].
    let mut at = Vec::with_capacity(counts.len());
    let mut next = [0usize; 2];
    for n in counts.iter() {
        at.push(next);
        next = [next[0] + n[0], next[1] + n[1]];
    }
    let starts = at.clone();
    sums.clear();
    sums.resize(counts.len(), Sums::default());
    for c in members.iter() {
        let k = received(c);
        let [i, j] = &mut at[k];
        let d = c.change();
        change[*i] = d;
        baseline[*i] = c.baseline;
        followup[*i] = c.followup;
        *i += 1;
        if let Some(p) = sums[k].add(c, d) {
            pct[*j] = p;
            *j += 1;
        }
    }
    for (k, &[i, j]) in starts.iter().enumerate() {
        let [n, n_pct] = counts[k];
        if n == 0 {
            continue;
        }
        let values = Values {
            change: &mut change[i..i + n],
            baseline: &baseline[i..i + n],
            followup: &followup[i..i + n],
            pct: &pct[j..j + n_pct],
            sums: sums[k],
        };
        let injections = injections_group(k as u32, u64::from(top));
        rows.push(row(kind, instrument, condition, injections, values));
    }
    rows
}

/// The lists `group_rows` gathers a group's values in, kept from group to group so that
/// their memory is taken once, not once a group (fresh memory costs a page fault every 4 KiB).
#[derive(Default)]
pub struct Scratch {
    change: Vec<f64>,
    baseline: Vec<f64>,
    followup: Vec<f64>,
    pct: Vec<f64>,
    /// Courses and percent changes of each injections-received group.
    counts: Vec<[usize; 2]>,
    sums: Vec<Sums>,
}

/// A row's sums as its values are gathered (the first of the mean's two passes), and its
/// responders.
#[derive(Clone, Copy, Default)]
struct Sums {
    change: describe::Sum,
    baseline: describe::Sum,
    followup: describe::Sum,
    pct: describe::Sum,
    responders: u64,
}

impl Sums {
    /// Adds course `c`, whose change is `d`; its percent change, unless its baseline is 0.
    fn add(&mut self, c: &CourseOutcome, d: f64) -> Option<f64> {
        self.change.add(d);
        self.baseline.add(c.baseline);
        self.followup.add(c.followup);
        self.responders += u64::from(c.responder);
        (c.baseline != 0.0).then(|| {
            let p = d / c.baseline * 100.0;
            self.pct.add(p);
            p
        })
    }
}

/// The values of one row's courses, in the group's order (the changes are sorted here).
struct Values<'a> {
    change: &'a mut [f64],
    baseline: &'a [f64],
    followup: &'a [f64],
    pct: &'a [f64],
    sums: Sums,
}

/// The statistics of one group of courses, from their values.
fn row(
    outcome: &str,
    instrument: &str,
    condition: &str,
    injections: String,
    values: Values,
) -> ChangeRow {
    let Values {
        change,
        baseline,
        followup,
        pct,
        sums,
    } = values;
    let Sums {
        change: change_sum,
        baseline: baseline_sum,
        followup: followup_sum,
        pct: pct_sum,
        responders,
    } = sums;
    let n = change.len();
    // The mean's and variance's walks over the changes, baselines and follow-ups, each the
    // walk `describe::moments_with` and `mean_with` make, side by side in one loop: three
    // independent chains of compensated sums, each in its values' order, so every result
    // is the same to the bit, while a chain's additions no longer wait for each other.
    let mut walks =
        [change_sum, baseline_sum, followup_sum].map(|sum| describe::Passes::after_first(n, sum));
    for ((&c, &b), &f) in change.iter().zip(baseline).zip(followup) {
        walks[0].second(c);
        walks[1].second(b);
        walks[2].second(f);
    }
    walks.iter_mut().for_each(describe::Passes::end_second);
    for (&c, &b) in change.iter().zip(baseline) {
        walks[0].third(c);
        walks[1].third(b);
    }
    let [moments, baseline, followup] = walks.map(|w| w.moments());
    let t = ttest::from_moments(&moments);
    // One sort serves the quartiles and the signed rank test.
    let sorted = change;
    describe::sort_total(sorted);
    let q = describe::quartiles_sorted(sorted);
    let mean_change = moments.mean;
    let sd = moments.var.map(f64::sqrt);
    // The SRM is withheld with the t-test's p when the changes are (essentially) constant:
    // an SD of rounding error (6.4 and 16.4 − 10) would give one of 5e15.
    let sd_change = sd.filter(|s| *s > 0.0 && t.as_ref().is_some_and(|t| t.t.is_some()));
    let sd_baseline = baseline.var.map(f64::sqrt).filter(|s| *s > 0.0);
    let n = n as u64;
    let ci = wilson::wilson(responders, n);
    ChangeRow {
        outcome: outcome.to_string(),
        instrument: instrument.to_string(),
        condition: condition.to_string(),
        injections,
        n: Some(n),
        baseline_mean: baseline.mean,
        followup_mean: followup.mean,
        mean_change,
        sd_change: sd,
        ci_low: t.as_ref().and_then(|t| t.ci_low),
        ci_high: t.as_ref().and_then(|t| t.ci_high),
        median_change: q.as_ref().map(|q| q.median),
        q1: q.as_ref().map(|q| q.q1),
        q3: q.as_ref().map(|q| q.q3),
        t_p: t.as_ref().and_then(|t| t.p),
        wilcoxon_p: wilcoxon::signed_rank_sorted(sorted).and_then(|w| finite(w.p)),
        srm: mean_change.zip(sd_change).and_then(|(m, s)| finite(m / s)),
        effect_size: mean_change
            .zip(sd_baseline)
            .and_then(|(m, s)| finite(m / s)),
        mean_pct_change: describe::mean_with(pct, pct_sum),
        responders: Some(responders),
        responder_rate: (n > 0).then(|| responders as f64 / n as f64),
        responder_ci_low: ci.map(|c| c.0),
        responder_ci_high: ci.map(|c| c.1),
        suppressed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A row's means and SDs, from the walks side by side, are those of
        /// `describe::moments` of each list alone, to the bit.
        #[test]
        fn walks_side_by_side_give_each_lists_moments(
            values in prop::collection::vec(
                (
                    prop_oneof![(0i32..=20).prop_map(|v| f64::from(v) / 2.0), Just(1e15), Just(-3e-300)],
                    prop_oneof![(0i32..=1000).prop_map(|v| f64::from(v) / 7.0), Just(0.1)],
                ),
                0..40,
            ),
        ) {
            let baseline: Vec<f64> = values.iter().map(|v| v.0).collect();
            let followup: Vec<f64> = values.iter().map(|v| v.1).collect();
            let mut change: Vec<f64> = values.iter().map(|v| v.1 - v.0).collect();
            let (c, b, f) = (
                describe::moments(&change),
                describe::moments(&baseline),
                describe::moments(&followup),
            );
            let sums = Sums {
                change: describe::Sum::of(change.iter().copied()),
                baseline: describe::Sum::of(baseline.iter().copied()),
                followup: describe::Sum::of(followup.iter().copied()),
                pct: describe::Sum::default(),
                responders: 0,
            };
            let values = Values {
                change: &mut change,
                baseline: &baseline,
                followup: &followup,
                pct: &[],
                sums,
            };
            let r = row("pain", "NRS", ALL, ALL.to_string(), values);
            let bits = |x: Option<f64>| x.map(f64::to_bits);
            prop_assert_eq!(bits(r.mean_change), bits(c.mean));
            prop_assert_eq!(bits(r.sd_change), bits(c.var.map(f64::sqrt)));
            prop_assert_eq!(bits(r.baseline_mean), bits(b.mean));
            prop_assert_eq!(bits(r.followup_mean), bits(f.mean));
            // The effect size divides by the baselines' SD.
            let sd_b = b.var.map(f64::sqrt).filter(|s| *s > 0.0);
            let effect = c.mean.zip(sd_b).and_then(|(m, s)| crate::stats::finite(m / s));
            prop_assert_eq!(bits(r.effect_size), bits(effect));
        }
    }

    /// Change rows of a small data set under `settings`.
    fn rows_of(settings: &Settings) -> Vec<ChangeRow> {
        let csv = "patient_id,condition,day,injection,pain\n\
                   P1,knee_oa,0,1,8\nP1,knee_oa,30,1,6\nP1,knee_oa,60,0,3\n\
                   P2,knee_oa,0,1,7\nP2,knee_oa,40,0,6\n";
        let input: Box<dyn std::io::Read> = Box::new(std::io::Cursor::new(csv.as_bytes()));
        let mut d = crate::ingest::read_from(vec![("t.csv".into(), input)], settings).unwrap();
        let v = crate::validate::validate(&mut d, settings).unwrap();
        crate::analysis::run(v, vec![], settings).change
    }

    #[test]
    fn a_top_group_beyond_any_course_makes_no_empty_groups() {
        let mut settings = Settings {
            min_cell: 0,
            ..Settings::default()
        };
        let groups = |rows: &[ChangeRow]| -> Vec<String> {
            rows.iter().map(|r| r.injections.clone()).collect()
        };
        settings.injections_top = 2;
        assert_eq!(
            groups(&rows_of(&settings)),
            ["all", "1", "2+", "all", "1", "2+"]
        );
        // Groups are made for the injections courses received, not for every possible one
        // (a top of u64::MAX from a library caller once meant 2^32 empty groups).
        settings.injections_top = u64::MAX;
        assert_eq!(
            groups(&rows_of(&settings)),
            ["all", "1", "2", "all", "1", "2"]
        );
    }
}
