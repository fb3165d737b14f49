//! The analyses of SPEC (1–8): validated courses in, serializable result structs out.

pub mod change;
pub mod cohort;
pub mod derivable;
pub mod response;
pub mod safety;
pub mod sessions;
pub mod suppress;
pub mod table1;
pub mod trajectory;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::courses::{self, CourseOutcome, Outcome, OutcomeCourses};
use crate::validate::Validated;

/// Version of the `summary.json` layout.
pub const SCHEMA_VERSION: u32 = 1;

/// The label of the overall group.
pub const ALL: &str = "all";

/// One input as the summary records it.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    pub path: String,
    pub sha256: String,
    pub format: crate::ingest::Format,
    /// Withheld (null) like the cohort's records when it would give a small count away.
    pub records: Option<u64>,
}

/// Every parameter that shaped the results.
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    pub pain_scale: String,
    pub pain_responder: String,
    /// Responder threshold of each function instrument, by name.
    pub function_responders: std::collections::BTreeMap<String, String>,
    pub min_cell: u64,
    pub injections_top: u64,
    pub strict: bool,
    pub exclude_columns: Vec<String>,
    pub instruments: Vec<crate::schema::Instrument>,
    pub confidence_level: f64,
    pub responder_tolerance: f64,
    /// The config file read (path and SHA-256), or null.
    pub config_file: Option<crate::config::ConfigFileInfo>,
    /// Field → input column, as the config file's `[columns]` maps them.
    pub columns: std::collections::BTreeMap<String, String>,
}

/// Everything `analyze` computes; serialized as `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub tool_version: String,
    pub inputs: Vec<InputInfo>,
    pub parameters: Parameters,
    pub cohort: cohort::Cohort,
    pub table1: Vec<table1::Table1Row>,
    pub change: Vec<change::ChangeRow>,
    pub sessions_to_response: Vec<response::ResponseRow>,
    pub logrank: Vec<response::LogRankRow>,
    pub sessions_received: Vec<sessions::SessionsRow>,
    pub trajectory: Vec<trajectory::TrajectoryRow>,
    pub kruskal_wallis: Vec<response::KruskalRow>,
    pub safety: Vec<safety::SafetyRow>,
    /// Per-course percent change in pain, for the waterfall chart; never serialized.
    #[serde(skip)]
    pub waterfall: Waterfall,
}

/// Per-course percent change in pain (courses with a non-zero baseline), sorted from the
/// largest worsening to the largest improvement, with responder status.
#[derive(Debug, Clone, Default)]
pub struct Waterfall {
    /// The pain instrument, e.g. "NRS".
    pub instrument: String,
    /// The responder threshold as a percent reduction, when it is a percentage.
    pub threshold_pct: Option<f64>,
    /// (percent change, responder), sorted by percent change descending.
    pub bars: Vec<(f64, bool)>,
}

/// An outcome's courses split into groups: `"all"` first, then each condition in name order.
pub struct Groups<'a> {
    pub outcome: Outcome,
    pub kind: &'static str,
    pub instrument: String,
    /// Each group's courses: slices of the outcome's courses, which lie condition by
    /// condition ([`condition_major`]).
    pub groups: Vec<(String, &'a [CourseOutcome])>,
}

impl Groups<'_> {
    /// `true` when group `i` is a condition holding every course of the outcome (the only
    /// condition measured with it): its statistics are those of "all", group 0. A
    /// condition's courses are a subsequence of "all"; as many of them means the same ones
    /// in the same order.
    pub fn same_as_all(&self, i: usize) -> bool {
        i > 0 && self.groups[i].1.len() == self.groups[0].1.len()
    }
}

/// Appends copies of `rows[from..]` (the rows of "all") labelled with `condition`, for a
/// condition with the same courses (see [`Groups::same_as_all`]).
pub fn copy_rows_of_all<T: Clone>(
    rows: &mut Vec<T>,
    from: usize,
    condition: &str,
    label: impl Fn(&mut T) -> &mut String,
) {
    for i in from..rows.len() {
        let mut row = rows[i].clone();
        *label(&mut row) = condition.to_string();
        rows.push(row);
    }
}

/// The rows of every group of every outcome, in order ("all" first, then each condition),
/// the groups computed on every core: `rows_of(scratch, g, i)` gives group `i` of `g`; a
/// condition the same as "all" ([`Groups::same_as_all`]) gets copies of "all"'s rows,
/// `label`led with its name. `scratch` is working room kept from group to group (one per
/// piece of work rayon splits off).
pub fn rows_by_group<T, S>(
    groups: &[Groups],
    scratch: impl Fn() -> S + Sync + Send,
    rows_of: impl Fn(&mut S, &Groups, usize) -> Vec<T> + Sync + Send,
    label: impl Fn(&mut T) -> &mut String + Copy,
) -> Vec<T>
where
    T: Clone + Send,
{
    use rayon::prelude::*;
    let work: Vec<(&Groups, usize)> = (groups.iter())
        .flat_map(|g| (0..g.groups.len()).map(move |i| (g, i)))
        .filter(|&(g, i)| !g.same_as_all(i))
        .collect();
    let mut computed = (work.par_iter())
        .map_init(&scratch, |s, &(g, i)| rows_of(s, g, i))
        .collect::<Vec<Vec<T>>>()
        .into_iter();
    let mut rows = Vec::new();
    for g in groups {
        let all_rows = rows.len();
        for (i, (condition, _)) in g.groups.iter().enumerate() {
            if g.same_as_all(i) {
                copy_rows_of_all(&mut rows, all_rows, condition, label);
            } else {
                rows.extend(computed.next().unwrap_or_default());
            }
        }
    }
    rows
}

/// Puts each condition's courses next to each other, in condition order and in course order
/// within each (a counting sort; a course of no known condition goes last). The analyses walk
/// a condition's courses in memory order instead of gathering one course in nine from across
/// all of them, a cache miss a course. "all" is every course in this order.
pub fn condition_major(courses: &mut Vec<CourseOutcome>, conditions: usize) {
    let slot = |c: &CourseOutcome| (c.condition as usize).min(conditions);
    let mut at = vec![0usize; conditions + 1];
    for c in courses.iter() {
        at[slot(c)] += 1;
    }
    if at.contains(&courses.len()) {
        return;
    }
    let mut start = 0;
    for n in &mut at {
        (*n, start) = (start, start + *n);
    }
    let mut sorted: Vec<CourseOutcome> = Vec::with_capacity(courses.len());
    let room = sorted.spare_capacity_mut();
    for c in courses.iter() {
        let k = &mut at[slot(c)];
        room[*k].write(*c);
        *k += 1;
    }
    // SAFETY: `at` started at each condition's first place and counts its courses, so the
    // first `courses.len()` places were each written exactly once.
    unsafe { sorted.set_len(courses.len()) };
    *courses = sorted;
}

/// How many of `o`'s courses each condition has.
pub fn condition_sizes(o: &OutcomeCourses, conditions: &[String]) -> Vec<usize> {
    let mut sizes = vec![0usize; conditions.len()];
    for x in &o.courses {
        if let Some(n) = sizes.get_mut(x.condition as usize) {
            *n += 1;
        }
    }
    sizes
}

/// Splits each outcome's courses by condition (conditions with at least one course). The
/// courses must lie condition by condition ([`condition_major`]): each condition's are then a
/// slice of them, and "all"'s are every one.
pub fn group<'a>(
    outcomes: &'a [OutcomeCourses],
    conditions: &[String],
    settings: &Settings,
) -> Vec<Groups<'a>> {
    outcomes
        .iter()
        .map(|o| {
            debug_assert!(
                (o.courses).is_sorted_by_key(|c| (c.condition as usize).min(conditions.len()))
            );
            let sizes = condition_sizes(o, conditions);
            // An outcome no course is analysed for (every one without a baseline or a
            // follow-up) has no groups, and so no rows in any table.
            let mut groups = Vec::new();
            if !o.courses.is_empty() {
                groups.push((ALL.to_string(), &o.courses[..]));
            }
            let mut start = 0;
            for (condition, &n) in conditions.iter().zip(&sizes) {
                if n > 0 {
                    groups.push((condition.clone(), &o.courses[start..start + n]));
                }
                start += n;
            }
            Groups {
                outcome: o.outcome,
                kind: o.outcome.kind(),
                instrument: o.outcome.instrument(settings).name.clone(),
                groups,
            }
        })
        .collect()
}

/// Runs every analysis on validated records.
pub fn run(mut v: Validated, inputs: Vec<InputInfo>, settings: &Settings) -> Summary {
    // The derivation lets go of the encounters as it walks them (tallying what the sessions
    // and safety analyses need of them), so that they, the outcomes and the analyses'
    // working memory are never all held at once.
    let mut time = crate::output::Timings::start();
    let (mut outcomes, tallies, _) = courses::derive(&mut v, settings);
    time.phase("derive");
    // The trajectory first, on every core: it alone reads the points, which are then let
    // go of before the other analyses take their working memory.
    let trajectory = trajectory::analyse(&outcomes, &v.conditions, settings);
    outcomes.par_iter_mut().for_each(|o| {
        o.points = Default::default();
        o.sums = None;
        condition_major(&mut o.courses, v.conditions.len());
    });
    time.phase("trajectory");
    let groups = group(&outcomes, &v.conditions, settings);
    time.phase("group");
    // The analyses are independent: they run on every core, a core that is free taking
    // work another has not started (work stealing). The two longest start first, one on
    // each side; the shorter ones wait behind them.
    let ((change, (table1, cohort)), ((sessions_to_response, logrank), rest)) = rayon::join(
        || {
            rayon::join(
                || change::analyse(&groups, settings),
                || {
                    rayon::join(
                        || table1::analyse(&v, &groups),
                        || cohort::analyse(&v, settings),
                    )
                },
            )
        },
        || {
            rayon::join(
                || response::analyse(&groups, settings.min_cell),
                || {
                    rayon::join(
                        || response::kruskal(&groups),
                        || {
                            rayon::join(
                                || waterfall(&outcomes, settings),
                                || {
                                    rayon::join(
                                        || sessions::analyse(&v, &tallies),
                                        || safety::analyse(&v, &tallies),
                                    )
                                },
                            )
                        },
                    )
                },
            )
        },
    );
    let (kruskal_wallis, (waterfall, (sessions_received, safety))) = rest;
    let mut summary = Summary {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        inputs,
        parameters: parameters(settings),
        cohort,
        table1,
        change,
        sessions_to_response,
        logrank,
        sessions_received,
        trajectory,
        kruskal_wallis,
        safety,
        waterfall,
    };
    suppress::apply(&mut summary, settings.min_cell);
    summary
}

fn waterfall(outcomes: &[OutcomeCourses], settings: &Settings) -> Waterfall {
    let mut bars: Vec<(f64, bool)> = outcomes
        .iter()
        .filter(|o| o.outcome == Outcome::Pain)
        .flat_map(|o| o.courses.iter())
        .filter(|c| c.baseline != 0.0)
        .map(|c| (c.change() / c.baseline * 100.0, c.responder))
        .collect();
    // Bars that compare equal are the same bits, so an unstable sort gives the stable one's
    // order, without its scratch copy of every bar (32 MB at 2,000,000 courses).
    bars.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // One bar per course: withheld whole when the courses, or the responders or
    // non-responders among them, could be counted as a small number.
    let responders = bars.iter().filter(|b| b.1).count() as u64;
    let n = bars.len() as u64;
    let small = |c: u64| suppress::is_small(c, settings.min_cell);
    if n < settings.min_cell || small(responders) || small(n - responders) {
        bars.clear();
    }
    Waterfall {
        instrument: settings.pain.name.clone(),
        threshold_pct: match settings.pain.mcid {
            crate::schema::Threshold::Percent(p) => Some(p),
            crate::schema::Threshold::Points(_) => None,
        },
        bars,
    }
}

fn parameters(s: &Settings) -> Parameters {
    Parameters {
        pain_scale: s.pain.name.clone(),
        pain_responder: s.pain.mcid.to_string(),
        function_responders: s
            .instruments
            .iter()
            .map(|i| (i.name.clone(), i.mcid.to_string()))
            .collect(),
        min_cell: s.min_cell,
        injections_top: s.injections_top,
        strict: s.strict,
        exclude_columns: s.exclude_columns.clone(),
        // The instruments as defined (their MCID beside its source); the thresholds in force
        // are `function_responders`.
        instruments: s.defined_instruments(),
        confidence_level: crate::stats::CONFIDENCE_LEVEL,
        responder_tolerance: courses::RESPONDER_TOLERANCE,
        config_file: s.config_file.clone(),
        columns: s.columns.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::condition_major;
    use crate::courses::CourseOutcome;

    /// Each condition's courses together, conditions in order, course order kept within
    /// each, a course of no known condition last.
    #[test]
    fn courses_are_put_condition_by_condition_in_course_order() {
        let course = |condition: u32, time: u32| CourseOutcome {
            condition,
            baseline: 5.0,
            followup: 2.0,
            injections: 1,
            lower_better: true,
            responder: true,
            time,
            event: true,
            trajectory: (0, 0),
        };
        let mut courses: Vec<CourseOutcome> = [(2, 0), (0, 1), (9, 2), (2, 3), (1, 4), (0, 5)]
            .map(|(c, t)| course(c, t))
            .to_vec();
        condition_major(&mut courses, 3);
        let order: Vec<(u32, u32)> = courses.iter().map(|c| (c.condition, c.time)).collect();
        assert_eq!(order, [(0, 1), (0, 5), (1, 4), (2, 0), (2, 3), (9, 2)]);
        // One condition: nothing moves.
        let mut one: Vec<CourseOutcome> = (0..4).map(|t| course(1, 3 - t)).collect();
        let before = one.clone();
        condition_major(&mut one, 3);
        assert_eq!(one, before);
    }
}
