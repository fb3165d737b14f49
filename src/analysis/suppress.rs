//! Small-cell suppression (SPEC, CMS cell-size policy): counts from 1 to N − 1 are withheld,
//! statistics of groups under N courses are withheld, and further counts are withheld until
//! no small count can be worked out from what is shown: every count of the summary becomes a
//! cell of [`Cells`], with the sums that tie the counts together, and the solver decides.

use std::collections::{BTreeMap, HashMap};

use super::derivable::Cells;
use super::{Summary, ALL};

/// True when `c` is a small count under threshold `n` (0 is never small).
pub fn is_small(c: u64, n: u64) -> bool {
    c >= 1 && c < n
}

/// Applies suppression at threshold `n` to every table of the summary (0 or 1: off).
pub fn apply(s: &mut Summary, n: u64) {
    if n <= 1 {
        return;
    }
    tests(s, n);
    // The waterfall has a bar per course of the pain analysis with a baseline above 0: the
    // bars counted beside n give the courses with a baseline of 0.
    let pain_n = (s.change.iter())
        .find(|r| r.outcome == "pain" && r.condition == ALL && r.injections == ALL)
        .and_then(|r| r.n);
    let bars = s.waterfall.bars.len() as u64;
    if pain_n.is_some_and(|p| is_small(p.saturating_sub(bars), n)) {
        s.waterfall.bars.clear();
    }
    let mut cells = Cells::new(n);
    let layout = Layout::build(s, &mut cells);
    cells.solve();
    layout.write(s, &cells);
}

/// What withholding a cell costs the reader, to choose which cell to withhold (lowest
/// first): a count beside its group's n; a point of a curve or trajectory (a curve is
/// withheld from its first withheld point on); a group's n (its whole row goes); a total
/// of the cohort.
const COUNT: u8 = 1;
const POINT: u8 = 2;
const GROUP: u8 = 3;
const TOTAL: u8 = 4;

/// The cell of every count of the summary (None where the count is not there to show).
#[derive(Default)]
struct Layout {
    /// Records of each input file.
    inputs: Vec<Option<usize>>,
    cohort: [Option<usize>; 4],
    excluded: Vec<[Option<usize>; 2]>,
    /// (n, responders) of each change row.
    change: Vec<[Option<usize>; 2]>,
    /// (n, events, points (at risk, events, censored)) of each response row.
    response: Vec<ResponseCells>,
    /// (courses, age n, sex, injectate, baseline n) of each Table 1 row.
    table1: Vec<Table1Cells>,
    /// (n, counts) of each sessions-received row.
    sessions: Vec<(Option<usize>, Vec<Option<usize>>)>,
    /// (courses, injections, events) of each safety row.
    safety: Vec<[Option<usize>; 3]>,
    trajectory: Vec<Option<usize>>,
}

/// (n, events, points (at risk, events, censored)) of a response row.
type ResponseCells = (Option<usize>, Option<usize>, Vec<[usize; 3]>);

struct Table1Cells {
    courses: Option<usize>,
    age_n: Option<usize>,
    sex: Vec<Option<usize>>,
    injectate: Vec<Option<usize>>,
    baseline: Vec<Option<usize>>,
}

/// Cell ids of `ids` where every one is there.
fn all_of(ids: impl IntoIterator<Item = Option<usize>>) -> Option<Vec<usize>> {
    ids.into_iter().collect()
}

impl Layout {
    /// Every count of `s` as a cell, with the sums that tie them together.
    fn build(s: &Summary, cells: &mut Cells) -> Layout {
        let mut l = Layout::default();
        let mut cell = |x: Option<u64>, cost: u8| x.map(|v| cells.cell(v, cost));
        let c = &s.cohort;
        l.cohort = [c.records, c.courses, c.patients, c.valid_courses].map(|x| cell(x, TOTAL));
        l.inputs = s.inputs.iter().map(|i| cell(i.records, TOTAL)).collect();
        l.excluded = (c.excluded.iter())
            .map(|e| [cell(e.records, COUNT), cell(e.courses, COUNT)])
            .collect();
        l.change = (s.change.iter())
            .map(|r| [cell(r.n, GROUP), cell(r.responders, COUNT)])
            .collect();
        for r in &s.sessions_to_response {
            let points = (r.curve.iter())
                .filter_map(|p| {
                    let [a, e, c] = [p.at_risk, p.events, p.censored].map(|x| cell(x, POINT));
                    Some([a?, e?, c?])
                })
                .collect();
            l.response
                .push((cell(r.n, GROUP), cell(r.events, COUNT), points));
        }
        for r in &s.table1 {
            l.table1.push(Table1Cells {
                courses: cell(r.courses, GROUP),
                age_n: cell(r.age_n, GROUP),
                sex: r.sex.0.iter().map(|(_, x)| cell(*x, COUNT)).collect(),
                injectate: r.injectate.0.iter().map(|(_, x)| cell(*x, COUNT)).collect(),
                baseline: r.baseline.iter().map(|b| cell(b.n, GROUP)).collect(),
            });
        }
        l.sessions = (s.sessions_received.iter())
            .map(|r| {
                let counts = r.counts.0.iter().map(|(_, x)| cell(*x, COUNT)).collect();
                (cell(r.n, GROUP), counts)
            })
            .collect();
        l.safety = (s.safety.iter())
            .map(|r| {
                // Injections cost a count: with two sessions-received counts withheld,
                // n and the injections fix both, and the injections should go, not n.
                [
                    cell(r.courses, GROUP),
                    cell(r.injections, COUNT),
                    cell(r.events, COUNT),
                ]
            })
            .collect();
        l.trajectory = (s.trajectory.iter()).map(|r| cell(r.n, POINT)).collect();
        l.tie(s, cells);
        l
    }

    /// The sums (and counts shown twice) that tie the cells together.
    fn tie(&self, s: &Summary, cells: &mut Cells) {
        let n = cells.threshold();
        let is_all = |c: &String| c == ALL;
        // Cohort: courses read = valid courses + course exclusions; valid courses = courses
        // analysed for pain + pain's exclusions (every valid course is one of them). Guarded
        // against exact working-out only: the sum of several withheld exclusions is the
        // difference of two totals shown everywhere, and hiding it would take one of them.
        let course_level = ["invalid day", "invalid injection", "duplicate encounter"];
        let [_, courses, _, valid] = self.cohort;
        let excluded = |keep: &dyn Fn(&super::cohort::ExcludedRow) -> bool| {
            (s.cohort.excluded.iter().zip(&self.excluded))
                .filter(|(e, _)| keep(e))
                .map(|(_, ids)| ids[1])
                .collect::<Vec<_>>()
        };
        // The n of each outcome and condition's change row over all injection groups.
        let change_n: HashMap<(&str, &str, &str), usize> = (s.change.iter().zip(&self.change))
            .filter(|(r, _)| r.injections == ALL)
            .filter_map(|(r, ids)| {
                let key = (
                    r.outcome.as_str(),
                    r.instrument.as_str(),
                    r.condition.as_str(),
                );
                Some((key, ids[0]?))
            })
            .collect();
        // Valid courses are Table 1's courses of "all" conditions.
        let t1_all = (s.table1.iter().zip(&self.table1)).find(|(r, _)| r.condition == ALL);
        if let (Some(valid), Some((_, ids))) = (valid, t1_all) {
            if let Some(twin) = ids.courses {
                cells.same(valid, twin);
            }
        }
        // The records read are the input files' records.
        if let (Some(records), Some(parts)) = (self.cohort[0], all_of(self.inputs.iter().copied()))
        {
            cells.sum_exact(records, &parts);
        }
        if let (Some(courses), Some(valid)) = (courses, valid) {
            let mut parts = vec![Some(valid)];
            parts.extend(excluded(&|e| course_level.contains(&e.reason.as_str())));
            if let Some(parts) = all_of(parts) {
                cells.sum_exact(courses, &parts);
            }
        }
        let pain_all = (s.change.iter().zip(&self.change))
            .find(|(r, _)| r.outcome == "pain" && r.condition == ALL && r.injections == ALL)
            .and_then(|(_, ids)| ids[0]);
        if let (Some(valid), Some(pain)) = (valid, pain_all) {
            let mut parts = vec![Some(pain)];
            parts.extend(excluded(&|e| e.outcome.as_deref() == Some("pain")));
            if let Some(parts) = all_of(parts) {
                cells.sum_exact(valid, &parts);
            }
        }

        // Change rows: n and responders add up over conditions and over injection groups;
        // n = responders + non-responders.
        for (r, ids) in s.change.iter().zip(&self.change) {
            if let [Some(n_id), Some(r_id)] = *ids {
                cells.rest(n_id, r_id);
                if r.n.is_some_and(|c| c < n) {
                    cells.withhold(r_id);
                }
            }
        }
        for k in 0..2 {
            let rows = s.change.iter().zip(&self.change);
            sums(
                cells,
                rows.clone().map(|(r, ids)| {
                    (
                        (&r.outcome, &r.instrument, &r.injections),
                        is_all(&r.condition),
                        ids[k],
                    )
                }),
            );
            sums(
                cells,
                rows.map(|(r, ids)| {
                    (
                        (&r.outcome, &r.instrument, &r.condition),
                        is_all(&r.injections),
                        ids[k],
                    )
                }),
            );
        }

        // Injections to response: n and events add up over conditions; n = events +
        // censored; the curve's points add up to both; each point's at-risk count is the
        // next one's plus its events and censored courses.
        let response = &s.sessions_to_response;
        for (r, (n_id, e_id, points)) in response.iter().zip(&self.response) {
            let (Some(n_id), Some(e_id)) = (*n_id, *e_id) else {
                continue;
            };
            let censored = cells.rest(n_id, e_id);
            cells.sum(e_id, &points.iter().map(|p| p[1]).collect::<Vec<_>>());
            cells.sum(censored, &points.iter().map(|p| p[2]).collect::<Vec<_>>());
            if let Some(first) = points.first() {
                cells.same(n_id, first[0]);
            }
            for (i, p) in points.iter().enumerate() {
                match points.get(i + 1) {
                    Some(next) => {
                        cells.weighted(&[(p[0], 1), (p[1], -1), (p[2], -1), (next[0], -1)]);
                    }
                    None => cells.sum(p[0], &[p[1], p[2]]),
                }
            }
            if r.n.is_some_and(|c| c < n) {
                cells.withhold(e_id);
                points.iter().flatten().for_each(|&c| cells.withhold(c));
            }
            cells.curve(points.iter().map(|p| p.to_vec()).collect());
            // A condition's n is the same here and in the change table.
            let key = (
                r.outcome.as_str(),
                r.instrument.as_str(),
                r.condition.as_str(),
            );
            if let Some(&twin) = change_n.get(&key) {
                cells.same(n_id, twin);
            }
        }
        for k in 0..2 {
            sums(
                cells,
                (response.iter().zip(&self.response)).map(|(r, ids)| {
                    (
                        (&r.outcome, &r.instrument),
                        is_all(&r.condition),
                        [ids.0, ids.1][k],
                    )
                }),
            );
        }

        // The curves add up over conditions too, at each number of injections: events and
        // censored courses there, and the courses at risk (a condition without a point
        // there has as many at risk as at its next point, none after its last).
        // Per outcome: the "all" row and the conditions' rows.
        type Rows = (Option<usize>, Vec<usize>);
        let mut curves: BTreeMap<(&str, &str), Rows> = BTreeMap::new();
        for (i, r) in response.iter().enumerate() {
            let g = curves.entry((&r.outcome, &r.instrument)).or_default();
            match is_all(&r.condition) {
                true => g.0 = Some(i),
                false => g.1.push(i),
            }
        }
        for (all, conditions) in curves.into_values() {
            let Some(all) = all else { continue };
            let at = |i: usize| -> Vec<(u32, [usize; 3])> {
                let points = &self.response[i].2;
                (response[i].curve.iter().map(|p| p.injections))
                    .zip(points.iter().copied())
                    .collect()
            };
            let parts: Vec<Vec<(u32, [usize; 3])>> = conditions.iter().map(|&i| at(i)).collect();
            for (k, total) in at(all) {
                let (mut at_risk, mut events, mut censored) = (Vec::new(), Vec::new(), Vec::new());
                for points in &parts {
                    match points.iter().find(|(j, _)| *j >= k) {
                        Some((j, p)) if *j == k => {
                            at_risk.push(p[0]);
                            events.push(p[1]);
                            censored.push(p[2]);
                        }
                        Some((_, p)) => at_risk.push(p[0]),
                        None => {}
                    }
                }
                for (total, parts) in [
                    (total[0], at_risk),
                    (total[1], events),
                    (total[2], censored),
                ] {
                    if !parts.is_empty() {
                        cells.sum(total, &parts);
                    }
                }
            }
        }

        // Table 1: every count adds up over conditions; sex and injectate add up to courses;
        // the baseline n is the change table's.
        let t1 = s.table1.iter().zip(&self.table1);
        for (r, ids) in t1.clone() {
            // Courses without an age recorded: never shown, but a count like sex "unknown".
            if let (Some(courses), Some(age)) = (ids.courses, ids.age_n) {
                cells.rest(courses, age);
            }
            if let Some(courses) = ids.courses {
                for tally in [&ids.sex, &ids.injectate] {
                    if let Some(parts) = all_of(tally.iter().copied()) {
                        cells.sum(courses, &parts);
                    }
                }
                if r.courses.is_some_and(|c| c < n) {
                    let age = [ids.age_n];
                    let row = age.iter().chain(&ids.sex).chain(&ids.injectate);
                    for &c in row.chain(&ids.baseline).flatten() {
                        cells.withhold(c);
                    }
                }
            }
            for (b, id) in r.baseline.iter().zip(&ids.baseline) {
                let key = (
                    b.outcome.as_str(),
                    b.instrument.as_str(),
                    r.condition.as_str(),
                );
                if let (Some(a), Some(&twin)) = (id, change_n.get(&key)) {
                    cells.same(*a, twin);
                }
            }
        }
        for field in 0..2 {
            sums(
                cells,
                t1.clone()
                    .map(|(r, ids)| (field, is_all(&r.condition), [ids.courses, ids.age_n][field])),
            );
        }
        let keyed = t1.clone().flat_map(|(r, ids)| {
            let all = is_all(&r.condition);
            let sex =
                (r.sex.0.iter().zip(&ids.sex)).map(move |((k, _), id)| ((0, k.clone()), all, *id));
            let inj = (r.injectate.0.iter().zip(&ids.injectate))
                .map(move |((k, _), id)| ((1, k.clone()), all, *id));
            let baseline = (r.baseline.iter().zip(&ids.baseline))
                .map(move |(b, id)| ((2, format!("{}\n{}", b.outcome, b.instrument)), all, *id));
            sex.chain(inj).chain(baseline)
        });
        sums(cells, keyed);

        // Sessions received: counts add up to n and over conditions; n is Table 1's courses
        // and the safety table's; Σ sessions × count is the safety table's injections.
        let courses_of: HashMap<&str, Option<usize>> = (s.table1.iter().zip(&self.table1))
            .map(|(r, ids)| (r.condition.as_str(), ids.courses))
            .collect();
        let safety_of: HashMap<&str, &[Option<usize>; 3]> = (s.safety.iter().zip(&self.safety))
            .map(|(r, ids)| (r.condition.as_str(), ids))
            .collect();
        let sessions = s.sessions_received.iter().zip(&self.sessions);
        for (r, (n_id, counts)) in sessions.clone() {
            let Some(n_id) = *n_id else { continue };
            if let Some(parts) = all_of(counts.iter().copied()) {
                cells.sum(n_id, &parts);
                if r.n.is_some_and(|c| c < n) {
                    parts.iter().for_each(|&c| cells.withhold(c));
                }
            }
            if let Some(Some(twin)) = courses_of.get(r.condition.as_str()) {
                cells.same(n_id, *twin);
            }
            if let Some([courses, injections, _]) = safety_of.get(r.condition.as_str()) {
                if let Some(twin) = courses {
                    cells.same(n_id, *twin);
                }
                let terms: Option<Vec<(usize, i64)>> = (r.counts.0.iter().zip(counts))
                    .map(|((k, _), id)| id.map(|id| (id, -i64::from(*k))))
                    .chain([injections.map(|i| (i, 1))])
                    .collect();
                if let Some(terms) = terms {
                    cells.weighted(&terms);
                }
            }
        }
        sums(
            cells,
            sessions
                .clone()
                .map(|(r, ids)| ((), is_all(&r.condition), ids.0)),
        );
        sums(
            cells,
            sessions.flat_map(|(r, (_, counts))| {
                let all = is_all(&r.condition);
                (r.counts.0.iter().zip(counts)).map(move |((k, _), id)| (*k, all, *id))
            }),
        );

        // Safety: courses, injections and events add up over conditions; injections = events
        // + injections without one.
        let safety = s.safety.iter().zip(&self.safety);
        for (r, ids) in safety.clone() {
            if let [Some(_), Some(inj), Some(ev)] = *ids {
                // Injections without an event.
                cells.rest(inj, ev);
                if r.courses.is_some_and(|c| c < n) {
                    cells.withhold(inj);
                    cells.withhold(ev);
                }
            }
        }
        for k in 0..3 {
            sums(
                cells,
                safety
                    .clone()
                    .map(|(r, ids)| ((), is_all(&r.condition), ids[k])),
            );
        }

        // Trajectory: the n at each number of injections adds up over conditions.
        sums(
            cells,
            (s.trajectory.iter().zip(&self.trajectory)).map(|(r, id)| {
                (
                    (&r.outcome, &r.instrument, r.injections),
                    is_all(&r.condition),
                    *id,
                )
            }),
        );
    }

    /// Writes the cells' verdicts back, with the statistics that go with a withheld count.
    fn write(&self, s: &mut Summary, cells: &Cells) {
        let gone = |id: Option<usize>| id.is_some_and(|i| cells.is_withheld(i));
        for (i, id) in s.inputs.iter_mut().zip(&self.inputs) {
            if gone(*id) {
                i.records = None;
            }
        }
        let c = &mut s.cohort;
        let totals = [
            &mut c.records,
            &mut c.courses,
            &mut c.patients,
            &mut c.valid_courses,
        ];
        for (x, id) in totals.into_iter().zip(self.cohort) {
            if gone(id) {
                *x = None;
                c.suppressed = true;
            }
        }
        for (e, ids) in c.excluded.iter_mut().zip(&self.excluded) {
            for (x, id) in [&mut e.records, &mut e.courses].into_iter().zip(ids) {
                if gone(*id) {
                    *x = None;
                    e.suppressed = true;
                    c.suppressed = true;
                }
            }
        }
        for (r, [n_id, r_id]) in s.change.iter_mut().zip(&self.change) {
            if gone(*n_id) {
                *r = super::change::ChangeRow {
                    outcome: std::mem::take(&mut r.outcome),
                    instrument: std::mem::take(&mut r.instrument),
                    condition: std::mem::take(&mut r.condition),
                    injections: std::mem::take(&mut r.injections),
                    ..blank()
                };
            } else if gone(*r_id) {
                r.suppressed = true;
                r.responders = None;
                r.responder_rate = None;
                r.responder_ci_low = None;
                r.responder_ci_high = None;
            }
        }
        for (r, (n_id, e_id, points)) in s.sessions_to_response.iter_mut().zip(&self.response) {
            if gone(*n_id) {
                r.suppressed = true;
                r.n = None;
                r.events = None;
                (r.median, r.median_ci_low, r.median_ci_high) = (None, None, None);
                r.responded_by_3 = None;
                r.responded_by_3_ci_low = None;
                r.responded_by_3_ci_high = None;
                r.curve.clear();
                continue;
            }
            if gone(*e_id) {
                r.events = None;
                r.suppressed = true;
            }
            for (p, ids) in r.curve.iter_mut().zip(points) {
                if ids.iter().any(|&c| cells.is_withheld(c)) {
                    r.withheld_from.get_or_insert(p.injections);
                    (p.at_risk, p.events, p.censored) = (None, None, None);
                    (p.cum_response, p.ci_low, p.ci_high) = (None, None, None);
                    p.suppressed = true;
                    r.suppressed = true;
                }
            }
            // The median and response by 3 injections are read off the curve. A median of k
            // injections only says the curve crosses 50% at k (bounds, not counts), but one
            // between two numbers (1.5, R's midpoint) says it is at exactly 50% at 1, which
            // fixes a count: such a median (or bound) in the withheld part goes with it, as
            // does response by 3 injections, the curve's value at 3.
            if let Some(w) = r.withheld_from {
                let beyond = |x: Option<f64>| {
                    x.is_some_and(|x| x.fract() != 0.0 && x.ceil() >= f64::from(w))
                };
                if beyond(r.median) || beyond(r.median_ci_low) || beyond(r.median_ci_high) {
                    (r.median, r.median_ci_low, r.median_ci_high) = (None, None, None);
                }
                if w <= 3 {
                    r.responded_by_3 = None;
                    r.responded_by_3_ci_low = None;
                    r.responded_by_3_ci_high = None;
                }
            }
        }
        for (r, ids) in s.table1.iter_mut().zip(&self.table1) {
            if gone(ids.courses) {
                r.suppressed = true;
                r.courses = None;
                (r.age_n, r.age_mean, r.age_sd) = (None, None, None);
                r.sex.0.clear();
                r.injectate.0.clear();
                r.baseline.clear();
                continue;
            }
            if gone(ids.age_n) {
                r.suppressed = true;
                (r.age_n, r.age_mean, r.age_sd) = (None, None, None);
            }
            for (tally, ids) in [(&mut r.sex, &ids.sex), (&mut r.injectate, &ids.injectate)] {
                for ((_, x), id) in tally.0.iter_mut().zip(ids) {
                    if gone(*id) {
                        *x = None;
                        r.suppressed = true;
                    }
                }
            }
            for (b, id) in r.baseline.iter_mut().zip(&ids.baseline) {
                if gone(*id) {
                    r.suppressed = true;
                    (b.n, b.mean, b.sd) = (None, None, None);
                }
            }
        }
        for (r, (n_id, counts)) in s.sessions_received.iter_mut().zip(&self.sessions) {
            if gone(*n_id) {
                r.suppressed = true;
                (r.n, r.mean, r.median, r.q1, r.q3) = (None, None, None, None, None);
                r.counts.0.clear();
                continue;
            }
            for ((_, x), id) in r.counts.0.iter_mut().zip(counts) {
                if gone(*id) {
                    *x = None;
                    r.suppressed = true;
                }
            }
            // The counts' mean and quartiles beside n would give withheld counts away (with
            // 3 and 5 sessions withheld, n and the mean fix how many of each).
            if r.counts.0.iter().any(|(_, c)| c.is_none()) {
                (r.mean, r.median, r.q1, r.q3) = (None, None, None, None);
            }
        }
        for (r, [courses, injections, events]) in s.safety.iter_mut().zip(&self.safety) {
            if gone(*courses) {
                r.suppressed = true;
                (r.courses, r.injections, r.events) = (None, None, None);
                (r.per_100, r.ci_low, r.ci_high) = (None, None, None);
                continue;
            }
            for (x, id) in [(&mut r.injections, injections), (&mut r.events, events)] {
                if gone(*id) {
                    *x = None;
                    r.suppressed = true;
                    (r.per_100, r.ci_low, r.ci_high) = (None, None, None);
                }
            }
        }
        for (r, id) in s.trajectory.iter_mut().zip(&self.trajectory) {
            if gone(*id) {
                r.suppressed = true;
                (r.n, r.mean, r.ci_low, r.ci_high) = (None, None, None, None);
            }
        }
        // The waterfall has a bar per course of the pain analysis, coloured by response.
        let pain_all = (s.change.iter())
            .find(|r| r.outcome == "pain" && r.condition == ALL && r.injections == ALL);
        if pain_all.is_some_and(|r| r.suppressed) {
            s.waterfall.bars.clear();
        }
    }
}

/// Sums over groups: for each key, the cell marked "all" is the sum of the others (when
/// every one of them is there).
fn sums<K: Ord>(cells: &mut Cells, items: impl IntoIterator<Item = (K, bool, Option<usize>)>) {
    // Per key: the "all" cell (once seen) and the others.
    type Group = (Option<Option<usize>>, Vec<Option<usize>>);
    let mut groups: BTreeMap<K, Group> = BTreeMap::new();
    for (key, all, id) in items {
        let g = groups.entry(key).or_default();
        match all {
            true => g.0 = Some(id),
            false => g.1.push(id),
        }
    }
    for (total, parts) in groups.into_values() {
        if let (Some(Some(total)), Some(parts)) = (total, all_of(parts)) {
            cells.sum(total, &parts);
        }
    }
}

/// A test across conditions is a statistic of every condition it compares: withheld when
/// one of them has fewer than `n` courses in the outcome's analysis (read from the change
/// rows before they are suppressed).
fn tests(s: &mut Summary, n: u64) {
    let small: Vec<(&str, &str)> = (s.change.iter())
        .filter(|r| r.injections == ALL && r.condition != ALL && r.n.is_some_and(|c| c < n))
        .map(|r| (r.outcome.as_str(), r.instrument.as_str()))
        .collect();
    let has_small = |outcome: &str, instrument: &str| small.contains(&(outcome, instrument));
    for t in &mut s.logrank {
        if has_small(&t.outcome, &t.instrument) {
            (t.chisq, t.df, t.p, t.suppressed) = (None, None, None, true);
        }
    }
    for t in &mut s.kruskal_wallis {
        if has_small(&t.outcome, &t.instrument) {
            (t.statistic, t.df, t.p, t.suppressed) = (None, None, None, true);
        }
    }
}

fn blank() -> super::change::ChangeRow {
    super::change::ChangeRow {
        outcome: String::new(),
        instrument: String::new(),
        condition: String::new(),
        injections: String::new(),
        n: None,
        baseline_mean: None,
        followup_mean: None,
        mean_change: None,
        sd_change: None,
        ci_low: None,
        ci_high: None,
        median_change: None,
        q1: None,
        q3: None,
        t_p: None,
        wilcoxon_p: None,
        srm: None,
        effect_size: None,
        mean_pct_change: None,
        responders: None,
        responder_rate: None,
        responder_ci_low: None,
        responder_ci_high: None,
        suppressed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_means_one_to_n_minus_one() {
        assert!(!is_small(0, 11));
        assert!(is_small(1, 11));
        assert!(is_small(10, 11));
        assert!(!is_small(11, 11));
    }
}
