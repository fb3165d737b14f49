//! Per-course derivation: injections_before, baseline, final follow-up, change, responder,
//! injections to response with censoring, and trajectory points (SPEC "Definitions").

use std::mem::MaybeUninit;

use crate::config::Settings;
use crate::schema::Instrument;
use crate::stats::describe::TenthSums;
use crate::validate::{Course, Encounter, Excluded, ExclusionKey, Reason, Validated};

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

    /// "pain", or "function (NAME)": how findings name the outcome.
    pub fn label(self, settings: &Settings) -> String {
        match self {
            Outcome::Pain => "pain".to_string(),
            Outcome::Function(_) => format!("function ({})", self.instrument(settings).name),
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CourseOutcome {
    pub condition: u32,
    pub baseline: f64,
    pub followup: f64,
    /// Injections received: injections_before at the final follow-up.
    pub injections: u32,
    /// The instrument's better direction is lower (pain, ODI, …).
    pub lower_better: bool,
    pub responder: bool,
    /// Injections to response (event) or to the final follow-up (censored).
    pub time: u32,
    pub event: bool,
    /// This course's trajectory points: `start..end` of `OutcomeCourses::points` (an empty
    /// range when the outcome's trajectory is summed, `OutcomeCourses::sums`).
    pub trajectory: (u32, u32),
}

impl CourseOutcome {
    /// Follow-up minus baseline.
    pub fn change(&self) -> f64 {
        self.followup - self.baseline
    }

    /// The change signed so that positive is better (as `Instrument::improvement`; both
    /// differences round alike, so this is the same number).
    pub fn improvement(&self) -> f64 {
        if self.lower_better {
            self.baseline - self.followup
        } else {
            self.followup - self.baseline
        }
    }
}

/// The courses in one outcome's analysis.
#[derive(Debug, Clone)]
pub struct OutcomeCourses {
    pub outcome: Outcome,
    pub courses: Vec<CourseOutcome>,
    /// Every course's trajectory (empty when `sums` holds it).
    pub points: Points,
    /// The trajectory as the sums of the points' scores, by condition and then k, when every
    /// score of the outcome is a number of tenths, written with at most one decimal place
    /// (exact, and no point is held); None: the points are held.
    pub sums: Option<Sums>,
}

/// [`TenthSums`] of trajectory scores by condition, then by k.
pub type Sums = Vec<Vec<TenthSums>>;

/// What the sessions and safety analyses need of a course's encounters: its injections, and
/// the adverse events flagged on them (a flag on an encounter without an injection is not
/// counted). Counted as the derivation walks the encounters, so that they are walked once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub injections: u32,
    pub adverse: u32,
}

impl Tally {
    fn of(rows: &[Encounter]) -> Tally {
        let mut tally = Tally::default();
        for e in rows.iter().filter(|e| e.injection) {
            tally.injections += 1;
            tally.adverse += u32::from(e.adverse);
        }
        tally
    }
}

/// Trajectory points: k, and the last score with injections_before = k (k ascending within
/// a course), held apart and end to end so that a course costs no allocation and a point
/// 12 bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    pub k: Vec<u32>,
    pub score: Vec<f64>,
}

/// True when `improvement` from `baseline` makes a responder under `instrument`'s threshold.
pub fn is_responder(instrument: &Instrument, baseline: f64, improvement: f64) -> bool {
    let needed = instrument.mcid.needed(baseline);
    improvement > 0.0 && improvement >= needed - RESPONDER_TOLERANCE * needed.abs()
}

/// Derives every outcome of every valid course and records the outcome exclusions.
///
/// Takes `v`'s encounters and lets go of them as it derives (the memory of each block of
/// courses is given back to the system once walked), so that the encounters and the results
/// are not held whole at once; `v.records` is left empty.
///
/// Also returns each course's [`Tally`] (in course order) and each course left out of an
/// outcome, as (course, reason, outcome).
pub fn derive(
    v: &mut Validated,
    settings: &Settings,
) -> (Vec<OutcomeCourses>, Vec<Tally>, LeftOut) {
    // At least two blocks, so that both threads have courses to walk.
    let block = BLOCK.min(v.records.len().div_ceil(2)).max(1);
    derive_in_blocks(v, settings, block, true)
}

/// [`derive`], walking the encounters in blocks of about `block`; with `sums`, the
/// trajectory of an outcome whose scores are all numbers of tenths is summed (else its
/// points are held).
fn derive_in_blocks(
    v: &mut Validated,
    settings: &Settings,
    block: usize,
    sums: bool,
) -> (Vec<OutcomeCourses>, Vec<Tally>, LeftOut) {
    let (measured, tenths) = measured(v, settings, sums);
    let outcomes = outcomes(&measured);
    let summed: Vec<bool> = (outcomes.iter())
        .map(|o| match *o {
            Outcome::Pain => tenths.pain,
            Outcome::Function(i) => tenths.function[usize::from(i)],
        })
        .collect();
    let mut records = std::mem::take(&mut v.records);
    let mut first = cut(&v.courses, &mut records, block);
    // The halves meet at the block boundary nearest the middle of the encounters.
    let half = v.courses.last().map_or(0, |c| c.end / 2);
    let second = first.split_off(first.partition_point(|b| b.start + b.rows().len() / 2 < half));
    let mid = second.first().map_or(v.courses.len(), |b| b.courses.start);
    let mut tallies = vec![Tally::default(); v.courses.len()];
    let (result, left_out, found) = derive_some(
        &v.courses,
        settings,
        &outcomes,
        &measured,
        mid,
        [first, second],
        Keep::Outcomes(&mut tallies, &summed),
    );
    drop(records);
    for (key, n) in found {
        v.add_excluded(key, n);
    }
    (result, tallies, left_out)
}

/// Records the outcome exclusions and returns each course left out of an outcome, as
/// [`derive`] does, without keeping the outcomes or taking `v`'s encounters (what `validate`
/// needs: the outcomes are derived and only counted).
pub fn left_out(v: &mut Validated, settings: &Settings) -> LeftOut {
    let (measured, _) = measured(v, settings, false);
    let n = v.courses.len();
    let mid = n / 2;
    let split = v.courses.get(mid).map_or(v.records.len(), |c| c.start);
    let (a, b) = v.records.split_at(split);
    let halves = [
        vec![Block::borrowed(0..mid, 0, a)],
        vec![Block::borrowed(mid..n, split, b)],
    ];
    let outcomes = outcomes(&measured);
    let (_, left_out, found) = derive_some(
        &v.courses,
        settings,
        &outcomes,
        &measured,
        mid,
        halves,
        Keep::Nothing,
    );
    for (key, n) in found {
        v.add_excluded(key, n);
    }
    left_out
}

/// What a derivation keeps besides the courses left out and the outcome exclusions.
enum Keep<'t> {
    /// The outcomes, each course's tally (one place for every course), and for each outcome
    /// whether its trajectory is summed rather than held as points.
    Outcomes(&'t mut [Tally], &'t [bool]),
    /// Nothing more: the outcomes are only counted.
    Nothing,
}

/// The encounters of the consecutive courses `courses`, the first of them being encounter
/// `start` of [`Validated::records`].
struct Block<'a> {
    courses: std::ops::Range<usize>,
    start: usize,
    rows: Rows<'a>,
}

/// A block's encounters: only read, or given back to the system once walked.
enum Rows<'a> {
    Read(&'a [Encounter]),
    GivenBack(&'a mut [Encounter]),
}

impl<'a> Block<'a> {
    fn borrowed(courses: std::ops::Range<usize>, start: usize, rows: &'a [Encounter]) -> Self {
        Block {
            courses,
            start,
            rows: Rows::Read(rows),
        }
    }

    fn rows(&self) -> &[Encounter] {
        match &self.rows {
            Rows::Read(rows) => rows,
            Rows::GivenBack(rows) => rows,
        }
    }

    /// The encounters of `course`, one of this block's.
    fn rows_of(&self, course: &Course) -> &[Encounter] {
        &self.rows()[course.start - self.start..course.end - self.start]
    }

    /// Done with: the memory of a block to give back is returned to the system.
    fn done(self) {
        if let Rows::GivenBack(rows) = self.rows {
            give_back(rows);
        }
    }
}

/// Returns the memory of the whole pages inside `rows` to the system (Linux; elsewhere the
/// memory is given back when the encounters are dropped). Their values are zeros from then
/// on, which the caller never reads (and which would be a valid encounter).
fn give_back(rows: &mut [Encounter]) {
    #[cfg(target_os = "linux")]
    {
        // The system's page size (4 KiB on x86-64, up to 64 KiB on some ARM systems):
        // madvise rounds its length up to whole pages, so a smaller one assumed here could
        // reach past `rows`.
        // SAFETY: sysconf only reads a system setting.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => return,
        };
        let begin = rows.as_mut_ptr() as usize;
        let end = begin + std::mem::size_of_val(rows);
        let (first, last) = (begin.next_multiple_of(page), end / page * page);
        if first < last {
            // SAFETY: the pages from `first` to `last` lie inside `rows`, which this function
            // borrows exclusively; MADV_DONTNEED on private anonymous memory (what the
            // allocator maps) leaves them mapped, reading as zeros, and every bit pattern of
            // zeros is a valid `Encounter` (numbers and flags). A failure changes nothing.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_DONTNEED,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = rows;
}

/// About this many encounters (24 MiB) make a block: the memory of each is given back once
/// it is walked.
const BLOCK: usize = 1 << 20;

/// Cuts `records`, the encounters of `courses`, into blocks of whole courses of about
/// `block` encounters (a course longer than `block` is a block of its own).
fn cut<'a>(courses: &[Course], records: &'a mut [Encounter], block: usize) -> Vec<Block<'a>> {
    let mut blocks = Vec::new();
    let mut rest = records;
    let (mut first, mut at) = (0, 0usize);
    while first < courses.len() {
        // The courses that start less than `block` encounters after this one's start: at
        // least this one.
        let end = first + courses[first..].partition_point(|c| c.start < at.saturating_add(block));
        let stop = courses[end - 1].end;
        let (rows, tail) = std::mem::take(&mut rest).split_at_mut(stop - at);
        blocks.push(Block {
            courses: first..end,
            start: at,
            rows: Rows::GivenBack(rows),
        });
        (rest, first, at) = (tail, end, stop);
    }
    blocks
}

/// Whether every score of each outcome is a number of tenths ([`TenthSums::tenths`]).
struct Tenths {
    pain: bool,
    /// By instrument.
    function: Vec<bool>,
}

/// The courses each function instrument was measured in, and (with `sums`) whether each
/// outcome's scores are all numbers of tenths; without, every outcome is said not to be
/// (the two halves of the courses on two threads).
fn measured(v: &Validated, settings: &Settings, sums: bool) -> (Vec<Vec<u32>>, Tenths) {
    let of = |courses: std::ops::Range<usize>| {
        let mut measured: Vec<Vec<u32>> = vec![Vec::new(); settings.instruments.len()];
        let mut tenths = Tenths {
            pain: sums,
            function: vec![sums; settings.instruments.len()],
        };
        let is_tenths = |x: f64| sums && TenthSums::tenths(x).is_some();
        for index in courses {
            let course = &v.courses[index];
            for e in &v.records[course.start..course.end] {
                tenths.pain &= e.pain.is_nan() || is_tenths(e.pain);
                if !e.function.is_nan() {
                    let i = e.instrument as usize;
                    tenths.function[i] &= is_tenths(e.function);
                    let m = &mut measured[i];
                    if m.last() != Some(&(index as u32)) {
                        m.push(index as u32);
                    }
                }
            }
        }
        (measured, tenths)
    };
    let n = v.courses.len();
    let ((mut first, mut tenths), (second, tenths_b)) =
        rayon::join(|| of(0..n / 2), || of(n / 2..n));
    for (a, b) in first.iter_mut().zip(second) {
        a.extend(b);
    }
    tenths.pain &= tenths_b.pain;
    for (a, b) in tenths.function.iter_mut().zip(tenths_b.function) {
        *a &= b;
    }
    (first, tenths)
}

/// Pain, then each function instrument measured in some course.
fn outcomes(measured: &[Vec<u32>]) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = vec![Outcome::Pain];
    outcomes.extend(
        (0..measured.len())
            .filter(|&i| !measured[i].is_empty())
            .map(|i| Outcome::Function(i as u16)),
    );
    outcomes
}

/// Derives `outcomes` (pain: every course; a function instrument: the courses `measured`
/// gives it).
///
/// One walk over the courses in order derives every outcome of a course while its rows are
/// at hand (walking each outcome's courses apart jumped over the rows of the others, a
/// cache miss a course). The first half of the courses is walked on this thread, the
/// second on another; each half writes straight into its part of one vector per outcome (a
/// course gives at most one result an outcome, a row at most one point), so that nothing is
/// copied or held twice (a course's few points are kept aside while it is walked, then added
/// to the outcome's sums or written after its points); the gap between the halves is closed
/// afterwards.
fn derive_some(
    all: &[Course],
    settings: &Settings,
    outcomes: &[Outcome],
    measured: &[Vec<u32>],
    mid: usize,
    [blocks_a, blocks_b]: [Vec<Block>; 2],
    keep: Keep,
) -> (Vec<OutcomeCourses>, LeftOut, Found) {
    let (keep, tallies, summed) = match keep {
        Keep::Outcomes(tallies, summed) => (true, Some(tallies), summed),
        Keep::Nothing => (false, None, &[][..]),
    };
    let n = all.len();
    let rows = |c: usize| all[c].end - all[c].start;
    // Each outcome's courses below and from `mid`, and their rows.
    let plans: Vec<Plan> = (outcomes.iter().enumerate())
        .map(|(o, &outcome)| {
            let (which, split, courses, rows) = match outcome {
                Outcome::Pain => (
                    None,
                    mid,
                    n,
                    [(0..mid).map(rows).sum(), (mid..n).map(rows).sum()],
                ),
                Outcome::Function(i) => {
                    let which = &measured[i as usize];
                    let split = which.partition_point(|&c| (c as usize) < mid);
                    let (a, b) = which.split_at(split);
                    let of = |w: &[u32]| w.iter().map(|&c| rows(c as usize)).sum();
                    (Some(&which[..]), split, which.len(), [of(a), of(b)])
                }
            };
            let summed = summed.get(o) == Some(&true);
            Plan {
                outcome,
                which,
                split,
                courses,
                // A summed trajectory holds no points: no room for them.
                rows: if summed { [0, 0] } else { rows },
                summed,
            }
        })
        .collect();
    let mut buffers: Vec<(Vec<CourseOutcome>, Points)> = (plans.iter())
        .map(|p| {
            let rows = if keep { p.rows[0] + p.rows[1] } else { 0 };
            let points = Points {
                k: Vec::with_capacity(rows),
                score: Vec::with_capacity(rows),
            };
            (Vec::with_capacity(if keep { p.courses } else { 0 }), points)
        })
        .collect();
    let (firsts, seconds) = {
        let mut firsts = Vec::new();
        let mut seconds = Vec::new();
        for (plan, (courses, points)) in plans.iter().zip(&mut buffers) {
            let (a, b) = (plan.split, plan.courses - plan.split);
            let [ra, rb] = plan.rows;
            let (ca, cb) = halves(courses, a, b, keep);
            let (ka, kb) = halves(&mut points.k, ra, rb, keep);
            let (sa, sb) = halves(&mut points.score, ra, rb, keep);
            let (wa, wb) = plan.which.map(|w| w.split_at(plan.split)).unzip();
            let share = |which, courses, points, base| {
                Share::new(
                    plan.outcome,
                    settings,
                    which,
                    courses,
                    points,
                    base,
                    plan.summed,
                )
            };
            firsts.push(share(wa, ca, (ka, sa), 0));
            seconds.push(share(wb, cb, (kb, sb), ra as u32));
        }
        let (tallies_a, tallies_b) = tallies.map(|t| t.split_at_mut(mid)).unzip();
        std::thread::scope(|scope| {
            let other = scope.spawn(|| walk(all, blocks_b, seconds, tallies_b));
            let firsts = walk(all, blocks_a, firsts, tallies_a);
            (firsts, other.join().expect("derivation thread"))
        })
    };
    let mut result = Vec::new();
    let mut left_out = Vec::new();
    let mut found = Vec::new();
    let halves = firsts.into_iter().zip(seconds);
    for ((plan, (mut courses, mut points)), (first, second)) in
        plans.iter().zip(buffers).zip(halves)
    {
        found.extend(first.exclusions.into_iter().chain(second.exclusions));
        left_out.extend(first.left_out);
        left_out.extend(second.left_out);
        if !keep {
            continue;
        }
        let ra = plan.rows[0];
        let (n_a, p_a) = (first.courses, first.points);
        let (n_b, p_b) = (second.courses, second.points);
        let sums = first.sums.map(|mut sums| {
            for (c, cells) in second.sums.into_iter().flatten().enumerate() {
                if sums.len() <= c {
                    sums.resize(c + 1, Vec::new());
                }
                TenthSums::merge_all(&mut sums[c], &cells);
            }
            sums
        });
        join_halves(&mut courses, plan.split, n_a, n_b);
        join_halves(&mut points.k, ra, p_a, p_b);
        join_halves(&mut points.score, ra, p_a, p_b);
        let gap = (ra - p_a) as u32;
        for c in &mut courses[n_a..] {
            c.trajectory.0 -= gap;
            c.trajectory.1 -= gap;
        }
        result.push(OutcomeCourses {
            outcome: plan.outcome,
            courses,
            points,
            sums,
        });
    }
    (result, left_out, found)
}

/// An outcome to derive: its courses (None: every course), how many of them lie in the
/// first half, how many in all, and the rows of each half's.
struct Plan<'a> {
    outcome: Outcome,
    which: Option<&'a [u32]>,
    split: usize,
    courses: usize,
    rows: [usize; 2],
    /// The trajectory is summed ([`OutcomeCourses::sums`]), no point held.
    summed: bool,
}

/// Room in `v`'s spare capacity for `a` and then `b` values (reserved for them); without
/// `keep`, two fills that only count.
fn halves<T>(v: &mut Vec<T>, a: usize, b: usize, keep: bool) -> (Fill<'_, T>, Fill<'_, T>) {
    if !keep {
        return (Fill::counting(), Fill::counting());
    }
    let (first, second) = v.spare_capacity_mut()[..a + b].split_at_mut(a);
    (Fill::new(first), Fill::new(second))
}

/// Makes `v` the `n_a` values written at its start and the `n_b` written from `b_start`
/// on (by [`halves`]), in that order; the room left over is given back.
fn join_halves<T: Copy>(v: &mut Vec<T>, b_start: usize, n_a: usize, n_b: usize) {
    v.spare_capacity_mut()
        .copy_within(b_start..b_start + n_b, n_a);
    // SAFETY: the first n_a places were written by the first half, and the second half's
    // n_b values were just moved to follow them.
    unsafe { v.set_len(n_a + n_b) };
    v.shrink_to_fit();
}

/// Room in a vector's spare capacity, written from the front (or no room: values are only
/// counted).
struct Fill<'a, T> {
    room: &'a mut [MaybeUninit<T>],
    /// How many values were written (or counted).
    len: usize,
    keep: bool,
}

impl<'a, T> Fill<'a, T> {
    fn new(room: &'a mut [MaybeUninit<T>]) -> Self {
        Fill {
            room,
            len: 0,
            keep: true,
        }
    }

    /// A fill that counts values and keeps none.
    fn counting() -> Self {
        Fill {
            room: &mut [],
            len: 0,
            keep: false,
        }
    }

    /// Writes `value` after the last one. The room was sized for every value.
    fn push(&mut self, value: T) {
        if self.keep {
            self.room[self.len].write(value);
        }
        self.len += 1;
    }
}

/// Outcome exclusions found while deriving one outcome.
type Found = Vec<(ExclusionKey, Excluded)>;
/// Courses left out of an outcome: (course, reason, outcome).
pub type LeftOut = Vec<(u32, Reason, Outcome)>;

/// One outcome's work in one half of the courses: the outcome's courses there (None: every
/// one), room for their results and points, and what was left out.
struct Share<'a> {
    outcome: Outcome,
    instrument: &'a Instrument,
    which: Option<&'a [u32]>,
    /// The next of `which` to come.
    next: usize,
    courses: Fill<'a, CourseOutcome>,
    points: (Fill<'a, u32>, Fill<'a, f64>),
    /// The index of the first place of `points` among the outcome's points.
    base: u32,
    /// The trajectory's sums, when it is summed rather than held as points.
    sums: Option<Sums>,
    /// The points of the course being walked, kept once it is known to be kept.
    walked: Vec<(u32, f64)>,
    no_baseline: Excluded,
    no_followup: Excluded,
    left_out: LeftOut,
}

/// What one half found for one outcome: how many results and points it wrote, its outcome
/// exclusions and the courses it left out.
struct Done {
    courses: usize,
    points: usize,
    sums: Option<Sums>,
    exclusions: Found,
    left_out: LeftOut,
}

impl<'a> Share<'a> {
    fn new(
        outcome: Outcome,
        settings: &'a Settings,
        which: Option<&'a [u32]>,
        courses: Fill<'a, CourseOutcome>,
        points: (Fill<'a, u32>, Fill<'a, f64>),
        base: u32,
        summed: bool,
    ) -> Self {
        Share {
            outcome,
            instrument: outcome.instrument(settings),
            which,
            next: 0,
            courses,
            points,
            base,
            sums: summed.then(Vec::new),
            walked: Vec::new(),
            no_baseline: Excluded::default(),
            no_followup: Excluded::default(),
            left_out: Vec::new(),
        }
    }

    /// True when course `index` (which comes after every course asked about before) is
    /// one of this outcome's.
    fn takes(&mut self, index: u32) -> bool {
        match self.which {
            None => true,
            Some(which) if which.get(self.next) == Some(&index) => {
                self.next += 1;
                true
            }
            Some(_) => false,
        }
    }

    /// Keeps the points of the course just walked (`walked`), of `condition`: added to the
    /// sums, or written after the points kept so far.
    fn keep_walked(&mut self, condition: u32) {
        match &mut self.sums {
            Some(sums) => {
                let c = condition as usize;
                if sums.len() <= c {
                    sums.resize(c + 1, Vec::new());
                }
                let cells = &mut sums[c];
                for &(k, s) in &self.walked {
                    let k = k as usize;
                    if cells.len() <= k {
                        cells.resize(k + 1, TenthSums::default());
                    }
                    let tenths = TenthSums::tenths(s);
                    // `measured` found every score of the outcome to be tenths.
                    debug_assert!(tenths.is_some(), "{s} is not a number of tenths");
                    if let Some(tenths) = tenths {
                        cells[k].add(tenths);
                    }
                }
            }
            None => {
                for &(k, s) in &self.walked {
                    self.points.0.push(k);
                    self.points.1.push(s);
                }
            }
        }
    }

    fn done(self) -> Done {
        let (kind, instrument_key) = match self.outcome {
            Outcome::Pain => (1, 0),
            Outcome::Function(i) => (2, i + 1),
        };
        let mut exclusions = Vec::new();
        for (reason, n) in [
            (Reason::NoBaseline, self.no_baseline),
            (Reason::NoFollowUp, self.no_followup),
        ] {
            if n.courses > 0 {
                let key = ExclusionKey {
                    reason,
                    outcome: kind,
                    instrument: instrument_key,
                };
                exclusions.push((key, n));
            }
        }
        Done {
            courses: self.courses.len,
            points: self.points.0.len,
            sums: self.sums,
            exclusions,
            left_out: self.left_out,
        }
    }
}

/// Derives every outcome of the courses of `blocks` (consecutive, in order) into `shares`,
/// letting go of each block once it is walked; with `tallies` (one for each of the blocks'
/// courses), also tallies every course.
fn walk(
    all: &[Course],
    blocks: Vec<Block>,
    mut shares: Vec<Share>,
    mut tallies: Option<&mut [Tally]>,
) -> Vec<Done> {
    let first = blocks.first().map_or(0, |b| b.courses.start);
    for block in blocks {
        for index in block.courses.clone() {
            let course = &all[index];
            let rows = block.rows_of(course);
            if let Some(tallies) = tallies.as_deref_mut() {
                tallies[index - first] = Tally::of(rows);
            }
            for share in &mut shares {
                if share.takes(index as u32) {
                    derive_course(index as u32, course.condition, rows, share);
                }
            }
        }
        block.done();
    }
    shares.into_iter().map(Share::done).collect()
}

/// Derives `share`'s outcome for course `index` of `condition`, whose encounters are `rows`.
fn derive_course(index: u32, condition: u32, rows: &[Encounter], share: &mut Share) {
    let outcome = share.outcome;
    let instrument = share.instrument;
    let responds = |baseline: f64, x: f64| {
        is_responder(instrument, baseline, instrument.improvement(baseline, x))
    };
    // The course's points, kept aside until the course is known to be kept.
    let walked = &mut share.walked;
    walked.clear();
    // One walk in day order. injections_before never decreases, so the baseline (the last
    // score with none before it) is settled when the first row after an injection comes,
    // which is where a response can first be looked for.
    let mut before = 0u32;
    let mut baseline: Option<f64> = None;
    // The final follow-up: (score, injections_before).
    let mut last: Option<(f64, u32)> = None;
    // injections_before at the first response.
    let mut first: Option<u32> = None;
    // The last score at each injections_before, written when the next one starts.
    let mut point: Option<(u32, f64)> = None;
    for e in rows {
        if let Some(s) = score(e, outcome) {
            if before == 0 {
                baseline = Some(s);
            } else {
                last = Some((s, before));
                if first.is_none() && baseline.is_some_and(|b| responds(b, s)) {
                    first = Some(before);
                }
            }
            match point {
                Some((k, _)) if k == before => point = Some((k, s)),
                Some((k, previous)) => {
                    walked.push((k, previous));
                    point = Some((before, s));
                }
                None => point = Some((before, s)),
            }
        }
        before += u32::from(e.injection);
    }
    let (Some(baseline), Some((followup, received))) = (baseline, last) else {
        // Left out, with its points.
        let (reason, n) = if baseline.is_none() {
            (Reason::NoBaseline, &mut share.no_baseline)
        } else {
            (Reason::NoFollowUp, &mut share.no_followup)
        };
        n.records += rows.len() as u64;
        n.courses += 1;
        share.left_out.push((index, reason, outcome));
        return;
    };
    if let Some(p) = point {
        walked.push(p);
    }
    let first_point = share.points.0.len;
    share.keep_walked(condition);
    share.courses.push(CourseOutcome {
        condition,
        baseline,
        followup,
        injections: received,
        lower_better: instrument.better == crate::schema::Better::Lower,
        responder: responds(baseline, followup),
        time: first.unwrap_or(received),
        event: first.is_some(),
        trajectory: (
            share.base + first_point as u32,
            share.base + share.points.0.len as u32,
        ),
    });
}

/// The score of `outcome` at encounter `e`, if one was recorded and valid.
fn score(e: &Encounter, outcome: Outcome) -> Option<f64> {
    let x = match outcome {
        Outcome::Pain => e.pain,
        Outcome::Function(i) if e.instrument == i => e.function,
        Outcome::Function(_) => return None,
    };
    (!x.is_nan()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PainScale;

    /// Validated records of `courses` synthetic courses with data-entry defects.
    fn synthetic(courses: u64, settings: &Settings) -> Validated {
        let opts = crate::synth::SynthOptions {
            courses,
            seed: 11,
            defects: true,
        };
        let mut csv = Vec::new();
        crate::synth::write_csv(&opts, &mut csv).unwrap();
        let input: Box<dyn std::io::Read> = Box::new(std::io::Cursor::new(csv));
        let mut d = crate::ingest::read_from(vec![("s.csv".into(), input)], settings).unwrap();
        crate::validate::validate(&mut d, settings).unwrap()
    }

    #[test]
    fn left_out_is_what_derive_leaves_out() {
        let settings = Settings::default();
        let mut a = synthetic(3000, &settings);
        let mut b = synthetic(3000, &settings);
        let (outcomes, _, derived) = derive(&mut a, &settings);
        let left = left_out(&mut b, &settings);
        assert!(outcomes.len() > 3, "pain and several instruments");
        assert!(left.len() > 10, "some courses are left out");
        let reasons = |l: &LeftOut| l.iter().map(|x| (x.0, x.1.name(), x.2)).collect::<Vec<_>>();
        assert_eq!(reasons(&left), reasons(&derived));
        assert_eq!(a.excluded, b.excluded);
    }

    #[test]
    fn giving_back_a_block_touches_nothing_outside_it() {
        let one = Encounter {
            pain: 1.0,
            function: 2.0,
            day: 3,
            instrument: 4,
            injection: true,
            adverse: true,
        };
        // Ranges that start and end inside pages, on page bounds, cover none or many pages
        // (of 4 KiB; on a system with larger pages, fewer are whole).
        for (a, b) in [
            (0, 0),
            (1, 170),
            (3, 700),
            (171, 5000),
            (0, 6000),
            (5999, 6000),
        ] {
            let mut rows = vec![one; 6000];
            give_back(&mut rows[a..b]);
            for (i, e) in rows.iter().enumerate() {
                assert!(
                    (a..b).contains(&i) || *e == one,
                    "encounter {i} changed, giving back {a}..{b}"
                );
            }
            // The whole pages inside a range of 171 pages' worth are given back (Linux, 4 KiB
            // pages).
            #[cfg(target_os = "linux")]
            if b - a > 1000 && unsafe { libc::sysconf(libc::_SC_PAGESIZE) } == 4096 {
                assert!(rows[a..b].iter().any(|e| e.pain == 0.0), "{a}..{b}");
            }
        }
    }

    #[test]
    fn blocks_of_any_size_derive_the_same_outcomes() {
        let settings = Settings::default();
        let whole = derive_in_blocks(&mut synthetic(2000, &settings), &settings, usize::MAX, true);
        for block in [1, 2, 7, 100, 4000] {
            let mut v = synthetic(2000, &settings);
            let in_blocks = derive_in_blocks(&mut v, &settings, block, true);
            assert!(v.records.is_empty(), "the encounters are let go of");
            assert_eq!(in_blocks.1, whole.1, "tallies, blocks of {block}");
            assert_eq!(in_blocks.2, whole.2, "left out, blocks of {block}");
            for (a, b) in in_blocks.0.iter().zip(&whole.0) {
                assert_eq!(
                    (a.outcome, &a.courses, &a.points, &a.sums),
                    (b.outcome, &b.courses, &b.points, &b.sums)
                );
            }
            assert_eq!(in_blocks.0.len(), whole.0.len());
        }
    }

    /// The trajectory from sums (scores all numbers of tenths) is the one from the points
    /// walked three times, but for rounding: n the same, means and CIs to 1e-12; one score
    /// with two decimal places, or too large, and that outcome's points are held instead.
    #[test]
    fn summed_and_held_trajectories_agree() {
        let settings = Settings::default();
        let mut v = synthetic(3000, &settings);
        let (summed, _, _) = derive_in_blocks(&mut v, &settings, 1 << 12, true);
        let (held, _, _) =
            derive_in_blocks(&mut synthetic(3000, &settings), &settings, 1 << 12, false);
        assert!(summed
            .iter()
            .all(|o| o.sums.is_some() && o.points.k.is_empty()));
        assert!(held
            .iter()
            .all(|o| o.sums.is_none() && !o.points.k.is_empty()));
        let rows = |o: &[OutcomeCourses]| {
            crate::analysis::trajectory::analyse(o, &v.conditions, &settings)
        };
        let (a, b) = (rows(&summed), rows(&held));
        assert!(a.len() > 50, "{} rows", a.len());
        assert_eq!(a.len(), b.len());
        let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(1.0),
            (x, y) => x.is_none() && y.is_none(),
        };
        for (x, y) in a.iter().zip(&b) {
            let key = |r: &crate::analysis::trajectory::TrajectoryRow| {
                (
                    r.outcome.clone(),
                    r.instrument.clone(),
                    r.condition.clone(),
                    r.injections,
                    r.n,
                )
            };
            assert_eq!(key(x), key(y));
            assert!(
                close(x.mean, y.mean) && close(x.ci_low, y.ci_low) && close(x.ci_high, y.ci_high)
            );
        }
        let mut w = synthetic(3000, &settings);
        let e = (w.records.iter_mut()).find(|e| !e.pain.is_nan()).unwrap();
        e.pain = 6.25;
        let e = (w.records.iter_mut())
            .find(|e| !e.function.is_nan())
            .unwrap();
        e.function = 524_288.0;
        let instrument = Outcome::Function(e.instrument);
        let (one_off, _, _) = derive_in_blocks(&mut w, &settings, 1 << 12, true);
        for o in &one_off {
            let held = o.outcome == Outcome::Pain || o.outcome == instrument;
            assert_eq!(o.sums.is_none(), held, "{:?}", o.outcome);
            assert_eq!(o.points.k.is_empty(), !held, "{:?}", o.outcome);
        }
    }

    #[test]
    fn thirty_percent_includes_ten_to_seven() {
        let nrs = PainScale::Nrs.instrument();
        assert!(is_responder(&nrs, 10.0, 10.0 - 7.0));
        assert!(!is_responder(&nrs, 10.0, 2.9));
        assert!(!is_responder(&nrs, 0.0, 0.0));
        assert!(is_responder(&nrs, 0.7, 0.7 - 0.49));
    }
}
