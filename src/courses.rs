//! Per-course derivation: injections_before, baseline, final follow-up, change, responder,
//! injections to response with censoring, and trajectory points (SPEC "Definitions").

use crate::config::Settings;
use crate::schema::Instrument;
use crate::validate::{Excluded, ExclusionKey, Reason, Records, Validated};

/// Relative tolerance of the responder comparison (SPEC: 10 → 7 is a 30% reduction).
pub const RESPONDER_TOLERANCE: f64 = 1e-9;

/// An outcome: pain, or one function instrument (index into `Settings::instruments`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Pain,
    Function(u16),
}

impl Outcome {
    /// `"pain"` or `"function"`.
    pub fn kind(self) -> &'static str {
        match self {
            Outcome::Pain => "pain",
            Outcome::Function(_) => "function",
        }
    }

    /// The instrument this outcome is measured on.
    pub fn instrument(self, settings: &Settings) -> &Instrument {
        match self {
            Outcome::Pain => &settings.pain,
            Outcome::Function(i) => &settings.instruments[i as usize],
        }
    }
}

/// One course's result for one outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct CourseOutcome {
    pub condition: u32,
    pub baseline: f64,
    pub followup: f64,
    /// Injections received: injections_before at the final follow-up.
    pub injections: u32,
    /// Follow-up minus baseline.
    pub change: f64,
    /// Change signed so that positive is better.
    pub improvement: f64,
    pub responder: bool,
    /// Injections to response (event) or to the final follow-up (censored).
    pub time: u32,
    pub event: bool,
    /// This course's trajectory points: `OutcomeCourses::points[start..end]`.
    pub trajectory: (u32, u32),
}

/// The courses in one outcome's analysis.
#[derive(Debug, Clone)]
pub struct OutcomeCourses {
    pub outcome: Outcome,
    pub courses: Vec<CourseOutcome>,
    /// Every course's trajectory: (k, last score with injections_before = k), k ascending
    /// within a course; held in one vector so that a course costs no allocation.
    pub points: Vec<(u32, f64)>,
}

/// True when `improvement` from `baseline` makes a responder under `instrument`'s threshold.
pub fn is_responder(instrument: &Instrument, baseline: f64, improvement: f64) -> bool {
    let needed = instrument.mcid.needed(baseline);
    improvement > 0.0 && improvement >= needed - RESPONDER_TOLERANCE * needed.abs()
}

/// Derives every outcome of every valid course and records the outcome exclusions.
///
/// Also returns each course left out of an outcome, as (course, reason, outcome label).
pub fn derive(
    v: &mut Validated,
    settings: &Settings,
) -> (Vec<OutcomeCourses>, Vec<(u32, Reason, String)>) {
    // The courses each function instrument was measured in (pain: every course).
    let mut measured: Vec<Vec<u32>> = vec![Vec::new(); settings.instruments.len()];
    for (index, course) in v.courses.iter().enumerate() {
        for e in &v.records[course.start..course.end] {
            if !e.function.is_nan() {
                let m = &mut measured[e.instrument as usize];
                if m.last() != Some(&(index as u32)) {
                    m.push(index as u32);
                }
            }
        }
    }
    let mut outcomes: Vec<Outcome> = vec![Outcome::Pain];
    outcomes.extend(
        (0..measured.len())
            .filter(|&i| !measured[i].is_empty())
            .map(|i| Outcome::Function(i as u16)),
    );
    let all: Vec<u32> = (0..v.courses.len() as u32).collect();
    let of = |outcome: Outcome| match outcome {
        Outcome::Pain => &all,
        Outcome::Function(i) => &measured[i as usize],
    };
    // Each outcome's courses in two halves: the first halves on this thread, the second
    // halves on another; each outcome's halves are then joined in order.
    let v_ref: &Validated = v;
    let half = |o: Outcome, second: bool| -> Derived {
        let which = of(o);
        let (a, b) = which.split_at(which.len() / 2);
        // The first half is given room for the second, which is appended to it.
        if second {
            derive_one(v_ref, settings, o, b, b)
        } else {
            derive_one(v_ref, settings, o, a, which)
        }
    };
    let (firsts, seconds) = std::thread::scope(|scope| {
        let other = scope.spawn(|| outcomes.iter().map(|&o| half(o, true)).collect::<Vec<_>>());
        let firsts: Vec<Derived> = outcomes.iter().map(|&o| half(o, false)).collect();
        (firsts, other.join().expect("derivation thread"))
    });
    let mut result = Vec::new();
    let mut left_out = Vec::new();
    for ((mut first, found, missing), (mut second, more, rest)) in firsts.into_iter().zip(seconds) {
        let shift = first.points.len() as u32;
        for c in &mut second.courses {
            c.trajectory.0 += shift;
            c.trajectory.1 += shift;
        }
        first.courses.append(&mut second.courses);
        first.points.append(&mut second.points);
        result.push(first);
        for (key, n) in found.into_iter().chain(more) {
            v.add_excluded(key, n);
        }
        left_out.extend(missing);
        left_out.extend(rest);
    }
    (result, left_out)
}

/// What deriving one outcome for some courses gives.
type Derived = (OutcomeCourses, Found, LeftOut);

/// Outcome exclusions found while deriving one outcome.
type Found = Vec<(ExclusionKey, Excluded)>;
/// Courses left out of one outcome: (course, reason, outcome label).
type LeftOut = Vec<(u32, Reason, String)>;

/// Derives `outcome` for courses `which` (indices into `v.courses`, ascending), with room
/// for the courses `room` (at most a course and a point per row each).
fn derive_one(
    v: &Validated,
    settings: &Settings,
    outcome: Outcome,
    which: &[u32],
    room: &[u32],
) -> Derived {
    let mut exclusions = Vec::new();
    let mut inj_before: Vec<u32> = Vec::new();
    let mut left_out = Vec::new();

    let instrument = outcome.instrument(settings);
    // Reserved, not touched: memory is only taken as courses and points are written, and
    // the vectors are never copied to grow.
    let mut courses = Vec::with_capacity(room.len());
    let rows: usize = (room.iter())
        .map(|&c| v.courses[c as usize].end - v.courses[c as usize].start)
        .sum();
    let mut points: Vec<(u32, f64)> = Vec::with_capacity(rows);
    let mut no_baseline = Excluded::default();
    let mut no_followup = Excluded::default();
    let label = match outcome {
        Outcome::Pain => "pain".to_string(),
        Outcome::Function(_) => format!("function ({})", instrument.name),
    };
    for &index in which {
        let course = &v.courses[index as usize];
        let rows = course.start..course.end;
        let scores = |r: usize| score(&v.records, outcome, r);
        injections_before(&v.records, course.start, course.end, &mut inj_before);
        let n_rows = (course.end - course.start) as u64;
        let ib = |r: usize| inj_before[r - course.start];
        let Some(baseline) = rows.clone().rev().filter(|&r| ib(r) == 0).find_map(scores) else {
            no_baseline.records += n_rows;
            no_baseline.courses += 1;
            left_out.push((index, Reason::NoBaseline, label.clone()));
            continue;
        };
        let Some(last) = rows
            .clone()
            .rev()
            .find(|&r| ib(r) >= 1 && scores(r).is_some())
        else {
            no_followup.records += n_rows;
            no_followup.courses += 1;
            left_out.push((index, Reason::NoFollowUp, label.clone()));
            continue;
        };
        let followup = scores(last).unwrap_or(f64::NAN);
        let improvement = instrument.improvement(baseline, followup);
        let responds =
            |x: f64| is_responder(instrument, baseline, instrument.improvement(baseline, x));
        let first = rows
            .clone()
            .find(|&r| ib(r) >= 1 && scores(r).is_some_and(responds));
        let first_point = points.len();
        for r in rows.clone() {
            if let Some(s) = scores(r) {
                let own = points.len() > first_point;
                match points.last_mut() {
                    Some(last) if own && last.0 == ib(r) => last.1 = s,
                    _ => points.push((ib(r), s)),
                }
            }
        }
        let trajectory = (first_point as u32, points.len() as u32);
        courses.push(CourseOutcome {
            condition: course.condition,
            baseline,
            followup,
            injections: ib(last),
            change: followup - baseline,
            improvement,
            responder: responds(followup),
            time: first.map_or(ib(last), ib),
            event: first.is_some(),
            trajectory,
        });
    }
    let (kind, instrument_key) = match outcome {
        Outcome::Pain => (1, 0),
        Outcome::Function(i) => (2, i + 1),
    };
    for (reason, n) in [
        (Reason::NoBaseline, no_baseline),
        (Reason::NoFollowUp, no_followup),
    ] {
        if n.courses > 0 {
            exclusions.push((
                ExclusionKey {
                    reason,
                    outcome: kind,
                    instrument: instrument_key,
                },
                n,
            ));
        }
    }
    (
        OutcomeCourses {
            outcome,
            courses,
            points,
        },
        exclusions,
        left_out,
    )
}

/// The score of `outcome` at row `r`, if one was recorded and valid.
fn score(records: &Records, outcome: Outcome, r: usize) -> Option<f64> {
    let e = &records[r];
    let x = match outcome {
        Outcome::Pain => e.pain,
        Outcome::Function(i) if e.instrument == i => e.function,
        Outcome::Function(_) => return None,
    };
    (!x.is_nan()).then_some(x)
}

/// injections_before of rows `start..end` (sorted by day, days distinct) into `out`.
fn injections_before(records: &Records, start: usize, end: usize, out: &mut Vec<u32>) {
    out.clear();
    let mut n = 0;
    for e in &records[start..end] {
        out.push(n);
        n += u32::from(e.injection);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PainScale;

    #[test]
    fn thirty_percent_includes_ten_to_seven() {
        let nrs = PainScale::Nrs.instrument();
        assert!(is_responder(&nrs, 10.0, 10.0 - 7.0));
        assert!(!is_responder(&nrs, 10.0, 2.9));
        assert!(!is_responder(&nrs, 0.0, 0.0));
        assert!(is_responder(&nrs, 0.7, 0.7 - 0.49));
    }
}
