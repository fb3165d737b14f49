//! Analysis 6, trajectory: mean score with 95% CI at each number of injections received so far.

use serde::Serialize;

use rayon::prelude::*;

use super::{condition_sizes, copy_rows_of_all, ALL};
use crate::config::Settings;
use crate::courses::{CourseOutcome, OutcomeCourses, Points, Sums};
use crate::stats::describe::TenthSums;
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

/// Trajectory rows for every outcome, group ("all", then each condition in name order) and
/// k; the outcomes on every core.
pub fn analyse(
    outcomes: &[OutcomeCourses],
    conditions: &[String],
    settings: &Settings,
) -> Vec<TrajectoryRow> {
    let per_outcome: Vec<Vec<TrajectoryRow>> = (outcomes.par_iter())
        .map(|o| rows_of(o, conditions, settings))
        .collect();
    per_outcome.concat()
}

/// One outcome's trajectory rows.
fn rows_of(o: &OutcomeCourses, conditions: &[String], settings: &Settings) -> Vec<TrajectoryRow> {
    let mut rows = Vec::new();
    if o.courses.is_empty() {
        return rows;
    }
    // The groups as `super::group` makes them: "all", then each condition with a course; a
    // condition holding every course is the same as "all" (`Groups::same_as_all`), its rows
    // copied; the others get a group of moments (`group_of`: by condition).
    let sizes = condition_sizes(o, conditions);
    let mut names: Vec<(&str, bool)> = vec![(ALL, false)];
    let mut group_of: Vec<Option<usize>> = vec![None; conditions.len()];
    for (c, &n) in sizes.iter().enumerate().filter(|(_, n)| **n > 0) {
        let same_as_all = n == o.courses.len();
        if !same_as_all {
            group_of[c] = Some(names.len());
        }
        names.push((&conditions[c], same_as_all));
    }
    let by_k = match &o.sums {
        Some(sums) => moments_from_sums(sums, &group_of, names.len()),
        None => moments_by_group_and_k(o, &group_of, names.len()),
    };
    let instrument = &o.outcome.instrument(settings).name;
    for (i, &(condition, same_as_all)) in names.iter().enumerate() {
        if same_as_all {
            copy_rows_of_all(&mut rows, 0, condition, |r: &mut TrajectoryRow| {
                &mut r.condition
            });
            continue;
        }
        for (k, &moments) in (by_k[i].iter().enumerate()).filter(|(_, m)| m.n > 0) {
            let t = ttest::from_moments(&moments);
            rows.push(TrajectoryRow {
                outcome: o.outcome.kind().to_string(),
                instrument: instrument.clone(),
                condition: condition.to_string(),
                injections: k as u32,
                n: Some(moments.n as u64),
                mean: moments.mean,
                ci_low: t.as_ref().and_then(|t| t.ci_low),
                ci_high: t.as_ref().and_then(|t| t.ci_high),
                suppressed: false,
            });
        }
    }
    rows
}

/// The moments of the scores of each of `groups` groups ("all" first, then `group_of`'s) by
/// k, from the sums of each condition's scores by k: "all"'s are every condition's added
/// up (exact: the sums are integers).
fn moments_from_sums(
    sums: &Sums,
    group_of: &[Option<usize>],
    groups: usize,
) -> Vec<Vec<describe::Moments>> {
    let mut by_group: Vec<Vec<TenthSums>> = vec![Vec::new(); groups];
    for (c, cells) in sums.iter().enumerate() {
        let of_condition = group_of.get(c).copied().flatten();
        for g in std::iter::once(0).chain(of_condition) {
            TenthSums::merge_all(&mut by_group[g], cells);
        }
    }
    (by_group.iter())
        .map(|cells| cells.iter().map(TenthSums::moments).collect())
        .collect()
}

/// The moments of the scores of each of `groups` groups ("all" first, then `group_of`'s) by
/// k (injections so far), from three walks over the points in course order: the numbers the
/// scores gathered in course order would give, without gathering them. One walk over "all"
/// serves every group: a condition's courses are "all"'s courses of that condition, in the
/// same order.
fn moments_by_group_and_k(
    o: &OutcomeCourses,
    group_of: &[Option<usize>],
    groups: usize,
) -> Vec<Vec<describe::Moments>> {
    let (all, points) = (&o.courses[..], &o.points);
    // Each group's cells, one a k up to the most any of its courses reached (a course's
    // last point, k ascending), end to end: group g's cell for k is `starts[g] + k`.
    let mut widths = vec![0usize; groups];
    for c in all {
        let (from, to) = (c.trajectory.0 as usize, c.trajectory.1 as usize);
        if to > from {
            let width = points.k[to - 1] as usize + 1;
            widths[0] = widths[0].max(width);
            if let Some(i) = condition_group(group_of, c) {
                widths[i] = widths[i].max(width);
            }
        }
    }
    let starts: Vec<usize> = (widths.iter())
        .scan(0, |at, &w| Some(std::mem::replace(at, *at + w)))
        .collect();
    let mut cells = vec![describe::Passes::default(); widths.iter().sum()];
    each_point(all, group_of, points, &starts, &mut |cell, s| {
        cells[cell].first(s)
    });
    cells.iter_mut().for_each(describe::Passes::end_first);
    each_point(all, group_of, points, &starts, &mut |cell, s| {
        cells[cell].second(s)
    });
    cells.iter_mut().for_each(describe::Passes::end_second);
    each_point(all, group_of, points, &starts, &mut |cell, s| {
        cells[cell].third(s)
    });
    (starts.iter().zip(&widths))
        .map(|(&start, &width)| {
            (cells[start..start + width].iter())
                .map(describe::Passes::moments)
                .collect()
        })
        .collect()
}

/// The group of course `c`'s condition, if it has one of its own (`group_of`).
fn condition_group(group_of: &[Option<usize>], c: &CourseOutcome) -> Option<usize> {
    group_of.get(c.condition as usize).copied().flatten()
}

/// Calls `f(cell, score)` for every point of `all`, in course order, with the cell of "all"
/// (group 0) and then that of the course's condition (`group_of`), if it has one; group g's
/// cell for k is `starts[g] + k`.
fn each_point(
    all: &[CourseOutcome],
    group_of: &[Option<usize>],
    points: &Points,
    starts: &[usize],
    f: &mut impl FnMut(usize, f64),
) {
    for c in all {
        let other = condition_group(group_of, c);
        let range = c.trajectory.0 as usize..c.trajectory.1 as usize;
        for (&k, &s) in points.k[range.clone()].iter().zip(&points.score[range]) {
            f(starts[0] + k as usize, s);
            if let Some(i) = other {
                f(starts[i] + k as usize, s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::courses::Outcome;
    use proptest::prelude::*;

    proptest! {
        /// Three walks give, in every group and k, the very moments of the scores gathered
        /// in course order.
        #[test]
        fn walked_moments_are_those_of_the_gathered_scores(
            only_tenths in any::<bool>(),
            courses in prop::collection::vec(
                (0u32..3, prop::collection::vec((0u32..3, prop_oneof![
                    (0i32..=20).prop_map(|s| f64::from(s) / 2.0),
                    (0i32..=1000).prop_map(|s| f64::from(s) / 7.0),
                    Just(1e15), Just(-1e-300),
                ]), 0..6)),
                0..60,
            ),
        ) {
            let mut points = Points::default();
            let mut outcome_courses = Vec::new();
            for (condition, course_points) in &courses {
                let start = points.k.len() as u32;
                let mut k = 0;
                for &(step, score) in course_points {
                    k += step;
                    points.k.push(k);
                    // Half the cases have scores that are all numbers of tenths, so that the
                    // sums below are checked on data sets of every size.
                    let score = if only_tenths { (score * 10.0 % 1000.0).round() / 10.0 } else { score };
                    points.score.push(score);
                }
                outcome_courses.push(CourseOutcome {
                    condition: *condition,
                    baseline: 0.0,
                    followup: 0.0,
                    injections: 0,
                    lower_better: true,
                    responder: false,
                    time: 0,
                    event: false,
                    trajectory: (start, points.k.len() as u32),
                });
            }
            let o = OutcomeCourses { outcome: Outcome::Pain, courses: outcome_courses, points, sums: None };
            let group_of = [Some(1), Some(2), Some(3)];
            let walked = moments_by_group_and_k(&o, &group_of, 4);
            // The oracle: each group's scores at each k, gathered in course order.
            let mut gathered: Vec<Vec<Vec<f64>>> = vec![Vec::new(); 4];
            for c in &o.courses {
                for p in c.trajectory.0 as usize..c.trajectory.1 as usize {
                    let k = o.points.k[p] as usize;
                    for g in [0, c.condition as usize + 1] {
                        if gathered[g].len() <= k {
                            gathered[g].resize(k + 1, Vec::new());
                        }
                        gathered[g][k].push(o.points.score[p]);
                    }
                }
            }
            for g in 0..4 {
                prop_assert_eq!(walked[g].len(), gathered[g].len());
                for (k, cell) in walked[g].iter().enumerate() {
                    let scores = gathered[g].get(k).map_or(&[][..], |s| &s[..]);
                    let bits = |m: describe::Moments| {
                        (m.n, m.mean.map(f64::to_bits), m.var.map(f64::to_bits))
                    };
                    prop_assert_eq!(bits(*cell), bits(describe::moments(scores)));
                }
            }
            // The same scores summed by condition and k, where every one is tenths: each
            // group's moments are those of its gathered scores' sums ("all" adding up every
            // condition's, a condition without a group of its own counted in "all" only).
            let tenths: Option<Vec<i64>> = o.points.score.iter().map(|&s| TenthSums::tenths(s)).collect();
            if let Some(tenths) = tenths {
                let mut sums: Sums = vec![Vec::new(); 3];
                for c in &o.courses {
                    let cells = &mut sums[c.condition as usize];
                    let range = c.trajectory.0 as usize..c.trajectory.1 as usize;
                    for (&k, &t) in o.points.k[range.clone()].iter().zip(&tenths[range]) {
                        let k = k as usize;
                        if cells.len() <= k {
                            cells.resize(k + 1, TenthSums::default());
                        }
                        cells[k].add(t);
                    }
                }
                let group_of = [Some(1), None, Some(2)];
                let summed = moments_from_sums(&sums, &group_of, 3);
                for (g, gathered) in [(0, &gathered[0]), (1, &gathered[1]), (2, &gathered[3])] {
                    prop_assert_eq!(summed[g].len(), gathered.len());
                    for (k, m) in summed[g].iter().enumerate() {
                        let mut expected = TenthSums::default();
                        for &s in &gathered[k] {
                            expected.add(TenthSums::tenths(s).unwrap_or(i64::MAX));
                        }
                        prop_assert_eq!(*m, expected.moments());
                    }
                }
            }
        }
    }
}
