//! Synthetic treatment records for `prolo synth`: owns the generative model
//! (conditions, injection courses, pain and function scores, defects) and its
//! fast, deterministic, multi-threaded CSV writer.
//!
//! The output is long format, one row per encounter, as SPEC "Records"
//! describes. The same [`SynthOptions`] give byte-identical output on every
//! machine: courses are generated in chunks of [`CHUNK_COURSES`], each from its
//! own ChaCha8 stream keyed by (seed, chunk index, purpose), and only
//! correctly rounded floating-point operations (`+ - * /`, `round`) are used,
//! never `ln`, `exp` or `powf`, whose results may differ between C libraries.
//! The number of threads changes speed, never the bytes written.

use std::io::{self, Write};
use std::sync::mpsc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The CSV header line written first (with its newline).
pub const HEADER: &str = "patient_id,condition,day,injection,pain,function,function_instrument,\
injectate,age,sex,site,adverse_event\n";

/// Courses generated from one random stream. Part of the output's definition:
/// changing it changes the bytes written for a given seed.
pub const CHUNK_COURSES: u64 = 16_384;

/// Generator threads used when there is more than one chunk.
const WORKERS: u64 = 2;

/// Largest number of injection sessions in one course.
const MAX_SESSIONS: u32 = 8;

/// Share of patients treated for two conditions (two courses, one patient id).
const P_TWO_CONDITIONS: f64 = 0.08;

/// Rate of each kind of defect (per row or per course) when defects are asked for.
const DEFECT_RATE: f64 = 0.005;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthOptions {
    /// Number of treatment courses (one patient and condition each).
    pub courses: u64,
    /// Seed of every random stream.
    pub seed: u64,
    /// Add realistic data-entry defects at low rates (about 1 in 200 rows or courses per kind).
    pub defects: bool,
}

/// A condition of the model: its usual function instrument, case mix and response.
#[derive(Debug, Clone, Copy)]
struct Condition {
    name: &'static str,
    instrument: &'static str,
    /// Top of the instrument's range (the bottom is 0 for every instrument used).
    fn_max: f64,
    higher_better: bool,
    /// Relative frequency of the condition among courses.
    weight: u32,
    pain_mean: f64,
    pain_sd: f64,
    fn_mean: f64,
    fn_sd: f64,
    /// Typical function improvement (points) of a responder with a typical pain reduction.
    fn_gain: f64,
    /// Probability that a dextrose course responds.
    p_respond: f64,
    age_mean: f64,
    age_sd: f64,
}

/// The conditions, after shared/domain.md's trial table (baselines and gains roughly).
const CONDITIONS: [Condition; 9] = [
    Condition {
        name: "knee_oa",
        instrument: "WOMAC",
        fn_max: 96.0,
        higher_better: false,
        weight: 24,
        pain_mean: 6.0,
        pain_sd: 1.5,
        fn_mean: 44.0,
        fn_sd: 14.0,
        fn_gain: 15.0,
        p_respond: 0.55,
        age_mean: 62.0,
        age_sd: 10.0,
    },
    Condition {
        name: "hip_oa",
        instrument: "HOOS",
        fn_max: 100.0,
        higher_better: true,
        weight: 7,
        pain_mean: 5.8,
        pain_sd: 1.5,
        fn_mean: 50.0,
        fn_sd: 14.0,
        fn_gain: 15.0,
        p_respond: 0.50,
        age_mean: 63.0,
        age_sd: 10.0,
    },
    Condition {
        name: "low_back_pain",
        instrument: "ODI",
        fn_max: 100.0,
        higher_better: false,
        weight: 20,
        pain_mean: 6.2,
        pain_sd: 1.6,
        fn_mean: 38.0,
        fn_sd: 13.0,
        fn_gain: 14.0,
        p_respond: 0.46,
        age_mean: 49.0,
        age_sd: 13.0,
    },
    Condition {
        name: "sacroiliac_pain",
        instrument: "ODI",
        fn_max: 100.0,
        higher_better: false,
        weight: 8,
        pain_mean: 6.0,
        pain_sd: 1.6,
        fn_mean: 36.0,
        fn_sd: 13.0,
        fn_gain: 13.0,
        p_respond: 0.50,
        age_mean: 47.0,
        age_sd: 13.0,
    },
    Condition {
        name: "lateral_epicondylosis",
        instrument: "PRTEE",
        fn_max: 100.0,
        higher_better: false,
        weight: 9,
        pain_mean: 5.2,
        pain_sd: 1.5,
        fn_mean: 42.0,
        fn_sd: 12.0,
        fn_gain: 18.0,
        p_respond: 0.60,
        age_mean: 47.0,
        age_sd: 9.0,
    },
    Condition {
        name: "achilles_tendinopathy",
        instrument: "VISA-A",
        fn_max: 100.0,
        higher_better: true,
        weight: 7,
        pain_mean: 5.5,
        pain_sd: 1.6,
        fn_mean: 50.0,
        fn_sd: 14.0,
        fn_gain: 27.0,
        p_respond: 0.70,
        age_mean: 45.0,
        age_sd: 11.0,
    },
    Condition {
        name: "plantar_fasciitis",
        instrument: "FAAM",
        fn_max: 100.0,
        higher_better: true,
        weight: 8,
        pain_mean: 6.3,
        pain_sd: 1.5,
        fn_mean: 52.0,
        fn_sd: 15.0,
        fn_gain: 25.0,
        p_respond: 0.75,
        age_mean: 49.0,
        age_sd: 11.0,
    },
    Condition {
        name: "rotator_cuff",
        instrument: "SPADI",
        fn_max: 100.0,
        higher_better: false,
        weight: 9,
        pain_mean: 7.0,
        pain_sd: 1.3,
        fn_mean: 55.0,
        fn_sd: 16.0,
        fn_gain: 25.0,
        p_respond: 0.59,
        age_mean: 55.0,
        age_sd: 11.0,
    },
    Condition {
        name: "neck_pain",
        instrument: "NDI",
        fn_max: 100.0,
        higher_better: false,
        weight: 8,
        pain_mean: 5.8,
        pain_sd: 1.5,
        fn_mean: 34.0,
        fn_sd: 12.0,
        fn_gain: 13.0,
        p_respond: 0.50,
        age_mean: 50.0,
        age_sd: 13.0,
    },
];

/// Injectates with their weights; empty text is an unrecorded injectate (treated as dextrose).
const INJECTATES: [(&str, u32); 6] = [
    ("dextrose 15%", 48),
    ("dextrose 12.5%", 17),
    ("dextrose 25%", 12),
    ("dextrose 10%", 6),
    ("saline", 10),
    ("", 7),
];

/// Sex values with weights (per 1000).
const SEXES: [(&str, u32); 4] = [("F", 570), ("M", 400), ("other", 10), ("unknown", 20)];

/// Site codes with weights.
const SITES: [(&str, u32); 12] = [
    ("S01", 14),
    ("S02", 12),
    ("S03", 11),
    ("S04", 10),
    ("S05", 9),
    ("S06", 8),
    ("S07", 8),
    ("S08", 7),
    ("S09", 6),
    ("S10", 6),
    ("S11", 5),
    ("S12", 4),
];

/// Adverse events with weights.
const ADVERSE_EVENTS: [(&str, u32); 5] = [
    ("post-injection flare", 60),
    ("bruising", 15),
    ("injection site pain", 12),
    ("vasovagal reaction", 8),
    ("headache", 5),
];

/// Protocol (planned) number of sessions, weights for 2, 3, …, 8.
const PLANNED_SESSIONS: [u32; 7] = [10, 44, 20, 12, 7, 4, 3];

/// Number of follow-up encounters after the last injection (weights for 0, 1, 2).
const FOLLOW_UPS: [u32; 3] = [25, 45, 30];
/// The same for courses that dropped out.
const FOLLOW_UPS_DROPOUT: [u32; 3] = [60, 30, 10];

/// Share of adverse events among injection encounters.
const P_ADVERSE: f64 = 0.03;
/// Share of courses with a baseline assessment before the first injection day.
const P_BASELINE_VISIT: f64 = 0.15;
/// Share of courses on a 6-week (42-day) protocol instead of 4 weeks.
const P_SIX_WEEKLY: f64 = 0.2;
/// Share of courses whose pain is recorded with one decimal.
const P_PAIN_DECIMALS: f64 = 0.12;
/// Missing pain (rows), and missing function (rows, disjoint from missing pain).
const P_MISSING_PAIN: f64 = 0.05;
const P_MISSING_FUNCTION: f64 = 0.10;

/// The random stream of one chunk for one purpose (0 courses, 1 patient layout, 2 defects).
fn chunk_rng(seed: u64, chunk: u64, purpose: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&chunk.to_le_bytes());
    key[16..24].copy_from_slice(&purpose.to_le_bytes());
    key[24..].copy_from_slice(b"prolosyn");
    ChaCha8Rng::from_seed(key)
}

/// Random draws used by the model, on top of a ChaCha8 stream.
struct Draw(ChaCha8Rng);

impl Draw {
    /// Uniform in [0, 1).
    fn unif(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// Uniform in [lo, hi).
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unif()
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.unif() < p
    }

    /// Uniform integer in lo..=hi.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.random_range(lo..=hi)
    }

    /// Approximately standard normal (Irwin–Hall sum of four uniforms, scaled
    /// to variance 1; bounded at ±3.46). Avoids `ln`/`cos` so that results do
    /// not depend on the platform's math library.
    fn normal(&mut self) -> f64 {
        let s = self.unif() + self.unif() + self.unif() + self.unif();
        (s - 2.0) * 1.732_050_807_568_877_2
    }

    /// Index drawn with the given weights.
    fn pick(&mut self, weights: impl Iterator<Item = u32> + Clone) -> usize {
        let total: u32 = weights.clone().sum();
        let mut u = self.0.random_range(0..total);
        for (i, w) in weights.enumerate() {
            if u < w {
                return i;
            }
            u -= w;
        }
        unreachable!("weights sum to total")
    }

    /// A value from a (value, weight) table.
    fn pick_of<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        table[self.pick(table.iter().map(|e| e.1))].0
    }
}

/// How courses are split into chunks, how many patients come before each
/// chunk, and the width of patient ids.
struct Layout {
    courses: u64,
    chunk_size: u64,
    chunks: u64,
    first_patient: Vec<u64>,
    width: usize,
}

impl Layout {
    /// Runs the layout streams (which courses share a patient) to number
    /// patients consecutively across chunks. Cheap: one draw per patient.
    fn new(opts: &SynthOptions, chunk_size: u64) -> Layout {
        let chunks = opts.courses.div_ceil(chunk_size);
        let mut layout = Layout {
            courses: opts.courses,
            chunk_size,
            chunks,
            first_patient: Vec::with_capacity(chunks as usize),
            width: digits(opts.courses).max(7),
        };
        let mut patients = 0u64;
        for chunk in 0..chunks {
            layout.first_patient.push(patients);
            let mut lay = Draw(chunk_rng(opts.seed, chunk, 1));
            let n = layout.courses_in(chunk);
            let mut done = 0;
            while done < n {
                done += patient_courses(&mut lay, n - done);
                patients += 1;
            }
        }
        layout
    }

    /// Courses in one chunk.
    fn courses_in(&self, chunk: u64) -> u64 {
        self.chunk_size.min(self.courses - chunk * self.chunk_size)
    }
}

/// Number of courses (1 or 2) of the next patient, given the courses left in the chunk.
fn patient_courses(lay: &mut Draw, left: u64) -> u64 {
    if left >= 2 && lay.chance(P_TWO_CONDITIONS) {
        2
    } else {
        1
    }
}

/// Decimal digits of `v` (1 for 0).
fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Appends `v` in decimal.
fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `v` in decimal with a leading `-` when negative.
fn push_i64(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

/// Appends `v` zero-padded to `width` digits.
fn push_padded(buf: &mut Vec<u8>, v: u64, width: usize) {
    for _ in digits(v)..width {
        buf.push(b'0');
    }
    push_u64(buf, v);
}

/// Appends a number given in tenths with at most one decimal (`35` → `3.5`, `40` → `4`).
fn push_tenths(buf: &mut Vec<u8>, t: i64) {
    if t < 0 {
        buf.push(b'-');
    }
    let a = t.unsigned_abs();
    let (whole, tenth) = (a / 10, (a % 10) as u8);
    push_u64(buf, whole);
    if tenth != 0 {
        buf.push(b'.');
        buf.push(b'0' + tenth);
    }
}

/// Appends text, quoted as CSV requires when it holds a comma, quote or line break.
fn push_text(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

/// One CSV field's content.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Empty,
    Int(i64),
    Tenths(i64),
    Text(&'static str),
}

impl Cell {
    fn push(self, buf: &mut Vec<u8>) {
        match self {
            Cell::Empty => {}
            Cell::Int(v) => push_i64(buf, v),
            Cell::Tenths(t) => push_tenths(buf, t),
            Cell::Text(s) => push_text(buf, s),
        }
    }
}

/// One encounter of a course before it is written.
#[derive(Debug, Clone, Copy)]
struct Encounter {
    day: i64,
    injection: bool,
    /// Injections given before this encounter (SPEC injections_before).
    before: u32,
    /// Pain in tenths of a point.
    pain: Option<i64>,
    function: Option<i64>,
    adverse: &'static str,
}

/// Course-level facts needed to write its rows.
#[derive(Debug, Clone, Copy)]
struct Course {
    condition: &'static Condition,
    injectate: &'static str,
}

/// Patient-level facts shared by the patient's courses.
#[derive(Debug, Clone, Copy)]
struct Patient {
    id: u64,
    age: i64,
    sex: &'static str,
    site: &'static str,
}

/// Generates one course's encounters into `encs` (cleared first).
fn generate_course(
    rng: &mut Draw,
    condition: &'static Condition,
    encs: &mut Vec<Encounter>,
) -> Course {
    encs.clear();
    let c = condition;
    let injectate = rng.pick_of(&INJECTATES);
    let saline = injectate == "saline";
    let responder = rng.chance(c.p_respond * if saline { 0.6 } else { 1.0 });

    // Latent course: baseline levels and the shape of the response by injections given.
    let base_pain = (c.pain_mean + c.pain_sd * rng.normal()).clamp(1.5, 10.0);
    let base_fn = (c.fn_mean + c.fn_sd * rng.normal()).clamp(2.0, c.fn_max - 2.0);
    let (full, speed) = if responder {
        let damp = if saline { 0.8 } else { 1.0 };
        (rng.between(0.45, 0.9) * damp, rng.between(0.25, 0.6))
    } else {
        // Non-responders drift (regression to the mean, natural history, placebo).
        (rng.between(-0.05, 0.25), 0.5)
    };
    let fn_scale = rng.between(0.6, 1.4);
    let decimals = rng.chance(P_PAIN_DECIMALS);

    // Session plan.
    let planned = 2 + rng.pick(PLANNED_SESSIONS.iter().copied()) as u32;
    let dropout = rng.chance(if responder { 0.04 } else { 0.30 });
    let dropout_after = if responder { 1 } else { rng.int(1, 2) as u32 };
    let persist_target = (planned + rng.int(0, 2) as u32).min(MAX_SESSIONS);
    let interval = if rng.chance(P_SIX_WEEKLY) { 42 } else { 28 };

    // Reduction of pain (fraction of baseline) after k injections, plus follow-up drift.
    let reduction = |k: u32, extra: f64| {
        let mut keep = 1.0;
        for _ in 0..k {
            keep *= 1.0 - speed;
        }
        (full * (1.0 - keep) + extra).min(0.97)
    };
    // Observes scores at reduction r: (pain tenths as recorded, function).
    let observe = |rng: &mut Draw, r: f64| {
        let p = (base_pain * (1.0 - r) + 0.6 * rng.normal()).clamp(0.0, 10.0);
        let pain = if decimals {
            (p * 10.0).round() as i64
        } else {
            p.round() as i64 * 10
        };
        let gain = c.fn_gain * (r / 0.55) * fn_scale;
        let f = if c.higher_better {
            base_fn + gain
        } else {
            base_fn - gain
        };
        let f = (f + 0.05 * c.fn_max * rng.normal()).clamp(0.0, c.fn_max);
        (pain, f.round() as i64)
    };
    // Leaves some scores unrecorded (never both on one row).
    let record = |rng: &mut Draw, pain: i64, function: i64| {
        let u = rng.unif();
        if u < P_MISSING_PAIN {
            (None, Some(function))
        } else if u < P_MISSING_PAIN + P_MISSING_FUNCTION {
            (Some(pain), None)
        } else {
            (Some(pain), Some(function))
        }
    };

    let mut day = 0;
    if rng.chance(P_BASELINE_VISIT) {
        let (p, f) = observe(rng, 0.0);
        let (pain, function) = record(rng, p, f);
        encs.push(Encounter {
            day: 0,
            injection: false,
            before: 0,
            pain,
            function,
            adverse: "",
        });
        day = rng.int(7, 28);
    }

    let mut baseline: Option<i64> = None;
    let mut stop_at: Option<u32> = None;
    let mut session = 0;
    loop {
        session += 1;
        let before = session - 1;
        let (p, f) = observe(rng, reduction(before, 0.0));
        let (pain, function) = record(rng, p, f);
        let adverse = if rng.chance(P_ADVERSE) {
            rng.pick_of(&ADVERSE_EVENTS)
        } else {
            ""
        };
        encs.push(Encounter {
            day,
            injection: true,
            before,
            pain,
            function,
            adverse,
        });
        if before == 0 {
            // The clinician's baseline: the last pain before the first injection.
            baseline = encs.iter().rev().find_map(|e| e.pain).or(Some(p));
        }
        let last = if session >= MAX_SESSIONS {
            true
        } else if dropout {
            session >= dropout_after
        } else if responder {
            if stop_at.is_none() && session >= 2 {
                // Pain down by 30% or more (as seen, missing or not): 0–1 more sessions.
                if baseline.is_some_and(|b| b > 0 && 10 * p <= 7 * b) {
                    stop_at = Some(session + rng.int(0, 1) as u32);
                }
            }
            session >= stop_at.unwrap_or(planned)
        } else {
            session >= persist_target
        };
        if last {
            break;
        }
        day += interval + rng.int(-7, 7);
    }

    let follow_ups = rng.pick(
        if dropout {
            FOLLOW_UPS_DROPOUT
        } else {
            FOLLOW_UPS
        }
        .iter()
        .copied(),
    );
    let mut extra = 0.0;
    day += rng.int(30, 90);
    for _ in 0..follow_ups {
        extra += if responder {
            rng.between(0.0, 0.05)
        } else {
            rng.between(-0.04, 0.05)
        };
        let (p, f) = observe(rng, reduction(session, extra));
        let (pain, function) = record(rng, p, f);
        encs.push(Encounter {
            day,
            injection: false,
            before: session,
            pain,
            function,
            adverse: "",
        });
        day += rng.int(60, 180);
    }
    Course {
        condition,
        injectate,
    }
}

/// Draws a patient's first condition by frequency.
fn draw_condition(rng: &mut Draw) -> &'static Condition {
    &CONDITIONS[rng.pick(CONDITIONS.iter().map(|c| c.weight))]
}

/// Draws the patient-level facts (age from the first condition's case mix).
fn draw_patient(rng: &mut Draw, id: u64, condition: &Condition) -> Patient {
    let age = (condition.age_mean + condition.age_sd * rng.normal()).round() as i64;
    Patient {
        id,
        age: age.clamp(18, 90),
        sex: rng.pick_of(&SEXES),
        site: rng.pick_of(&SITES),
    }
}

/// Row-level defects, each drawn with [`DEFECT_RATE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowDefect {
    PainOutOfRange,
    FunctionOutOfRange,
    ScoreNotNumber,
    UnknownInstrument,
    BadInjection,
    NoPatientId,
    NoCondition,
    NegativeDay,
}

const ROW_DEFECTS: [RowDefect; 8] = [
    RowDefect::PainOutOfRange,
    RowDefect::FunctionOutOfRange,
    RowDefect::ScoreNotNumber,
    RowDefect::UnknownInstrument,
    RowDefect::BadInjection,
    RowDefect::NoPatientId,
    RowDefect::NoCondition,
    RowDefect::NegativeDay,
];

/// Writes one course's rows, adding defects when `defects` is given; returns rows written.
fn write_course(
    buf: &mut Vec<u8>,
    width: usize,
    patient: &Patient,
    course: &Course,
    encs: &mut [Encounter],
    defects: Option<&mut Draw>,
) -> u64 {
    let c = course.condition;
    let mut age = Cell::Int(patient.age);
    let mut def = defects;
    if let Some(d) = def.as_deref_mut() {
        let u = d.unif();
        if u < DEFECT_RATE {
            // Duplicate encounter: a later row repeats the previous row's day.
            if encs.len() >= 2 {
                let i = d.int(1, encs.len() as i64 - 1) as usize;
                encs[i].day = encs[i - 1].day;
            }
        } else if u < 2.0 * DEFECT_RATE {
            // No baseline: scores before the first injection lost.
            for e in encs.iter_mut().filter(|e| e.before == 0) {
                e.pain = None;
                e.function = None;
            }
        } else if u < 3.0 * DEFECT_RATE {
            // Age over 89 not top-coded (Safe Harbor).
            age = Cell::Int(97);
        }
    }
    for e in encs.iter() {
        let mut pid = true;
        let mut cond = true;
        let mut day = Cell::Int(e.day);
        let mut injection = Cell::Text(if e.injection { "1" } else { "0" });
        let mut pain = e.pain.map_or(Cell::Empty, Cell::Tenths);
        let mut function = e.function.map_or(Cell::Empty, Cell::Int);
        let mut instrument = c.instrument;
        if let Some(d) = def.as_deref_mut() {
            let u = d.unif();
            let k = (u / DEFECT_RATE) as usize;
            if k < ROW_DEFECTS.len() {
                match ROW_DEFECTS[k] {
                    RowDefect::PainOutOfRange => {
                        pain = Cell::Text(["11", "-1", "55", "10.5"][d.int(0, 3) as usize]);
                    }
                    RowDefect::FunctionOutOfRange => {
                        function = Cell::Int(c.fn_max as i64 + d.int(1, 60));
                    }
                    RowDefect::ScoreNotNumber => {
                        let text = Cell::Text(["n/a", "7,5", "unk", "?"][d.int(0, 3) as usize]);
                        if d.chance(0.5) {
                            pain = text;
                        } else {
                            function = text;
                        }
                    }
                    RowDefect::UnknownInstrument => {
                        instrument = ["WOMACX", "ODI2", "VISA", "KOOSJR"][d.int(0, 3) as usize];
                    }
                    RowDefect::BadInjection => {
                        injection = Cell::Text(["maybe", "2", ""][d.int(0, 2) as usize]);
                    }
                    RowDefect::NoPatientId => pid = false,
                    RowDefect::NoCondition => cond = false,
                    RowDefect::NegativeDay => day = Cell::Int(-(e.day.max(1))),
                }
            }
        }
        if pid {
            buf.push(b'P');
            push_padded(buf, patient.id, width);
        }
        buf.push(b',');
        if cond {
            buf.extend_from_slice(c.name.as_bytes());
        }
        buf.push(b',');
        day.push(buf);
        buf.push(b',');
        injection.push(buf);
        buf.push(b',');
        pain.push(buf);
        buf.push(b',');
        function.push(buf);
        buf.push(b',');
        push_text(buf, instrument);
        buf.push(b',');
        if e.injection {
            push_text(buf, course.injectate);
        }
        buf.push(b',');
        age.push(buf);
        buf.push(b',');
        buf.extend_from_slice(patient.sex.as_bytes());
        buf.push(b',');
        buf.extend_from_slice(patient.site.as_bytes());
        buf.push(b',');
        push_text(buf, e.adverse);
        buf.push(b'\n');
    }
    encs.len() as u64
}

/// Generates the rows of one chunk into `buf` (cleared first); returns rows written.
fn generate_chunk(opts: &SynthOptions, layout: &Layout, chunk: u64, buf: &mut Vec<u8>) -> u64 {
    buf.clear();
    let n = layout.courses_in(chunk);
    buf.reserve(n as usize * 320);
    let mut lay = Draw(chunk_rng(opts.seed, chunk, 1));
    let mut rng = Draw(chunk_rng(opts.seed, chunk, 0));
    let mut def = opts.defects.then(|| Draw(chunk_rng(opts.seed, chunk, 2)));
    let mut encs = Vec::with_capacity(16);
    let mut id = layout.first_patient[chunk as usize];
    let mut rows = 0;
    let mut done = 0;
    while done < n {
        let courses = patient_courses(&mut lay, n - done);
        done += courses;
        id += 1;
        let first = draw_condition(&mut rng);
        let patient = draw_patient(&mut rng, id, first);
        let mut condition = first;
        for i in 0..courses {
            if i > 0 {
                // A second, different condition.
                while std::ptr::eq(condition, first) {
                    condition = draw_condition(&mut rng);
                }
            }
            let course = generate_course(&mut rng, condition, &mut encs);
            rows += write_course(
                buf,
                layout.width,
                &patient,
                &course,
                &mut encs,
                def.as_mut(),
            );
        }
    }
    rows
}

/// Writes `opts.courses` synthetic courses as CSV with the header
/// `patient_id,condition,day,injection,pain,function,function_instrument,injectate,age,sex,site,adverse_event`;
/// returns the rows written (header excluded).
///
/// Chunks are generated on two threads and written in order, so the output
/// does not depend on scheduling. `out` is written in large blocks and flushed
/// at the end; it need not be buffered.
pub fn write_csv<W: Write>(opts: &SynthOptions, out: W) -> io::Result<u64> {
    write_csv_on(opts, out, WORKERS, CHUNK_COURSES)
}

/// [`write_csv`] with `workers` generator threads (0 or 1: the calling thread
/// only) and chunks of `chunk_size` courses (tests use small chunks). The bytes
/// written depend on `chunk_size`, never on `workers`.
fn write_csv_on<W: Write>(
    opts: &SynthOptions,
    mut out: W,
    workers: u64,
    chunk_size: u64,
) -> io::Result<u64> {
    out.write_all(HEADER.as_bytes())?;
    let layout = Layout::new(opts, chunk_size);
    let chunks = layout.chunks;
    let mut rows = 0;
    if chunks <= 1 || workers <= 1 {
        let mut buf = Vec::new();
        for chunk in 0..chunks {
            rows += generate_chunk(opts, &layout, chunk, &mut buf);
            out.write_all(&buf)?;
        }
    } else {
        let workers = workers.min(chunks);
        rows = std::thread::scope(|scope| -> io::Result<u64> {
            let mut filled = Vec::new();
            let mut recycle = Vec::new();
            for w in 0..workers {
                let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, u64)>(1);
                let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
                let layout = &layout;
                scope.spawn(move || {
                    let mut chunk = w;
                    while chunk < chunks {
                        let mut buf = empty_rx.try_recv().unwrap_or_default();
                        let n = generate_chunk(opts, layout, chunk, &mut buf);
                        if full_tx.send((buf, n)).is_err() {
                            return; // the writer stopped (an I/O error)
                        }
                        chunk += workers;
                    }
                });
                filled.push(full_rx);
                recycle.push(empty_tx);
            }
            let mut rows = 0;
            for chunk in 0..chunks {
                let w = (chunk % workers) as usize;
                let (buf, n) = filled[w]
                    .recv()
                    .map_err(|_| io::Error::other("synthetic data generator stopped"))?;
                out.write_all(&buf)?;
                rows += n;
                let _ = recycle[w].send(buf);
            }
            Ok(rows)
        })?;
    }
    out.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Chunk size of the tests that only need several chunks (fast in debug builds).
    const SMALL_CHUNK: u64 = 700;

    fn generate(courses: u64, seed: u64, defects: bool) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let opts = SynthOptions {
            courses,
            seed,
            defects,
        };
        let rows = write_csv(&opts, &mut out).unwrap();
        (out, rows)
    }

    fn generate_small_chunks(
        courses: u64,
        seed: u64,
        defects: bool,
        workers: u64,
    ) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let opts = SynthOptions {
            courses,
            seed,
            defects,
        };
        let rows = write_csv_on(&opts, &mut out, workers, SMALL_CHUNK).unwrap();
        (out, rows)
    }

    /// Splits one CSV line into fields (quotes as [`push_text`] writes them).
    fn fields(line: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    out.last_mut().unwrap().push('"');
                }
                '"' => quoted = !quoted,
                ',' if !quoted => out.push(String::new()),
                _ => out.last_mut().unwrap().push(ch),
            }
        }
        out
    }

    fn rows_of(bytes: &[u8]) -> Vec<Vec<String>> {
        let text = std::str::from_utf8(bytes).unwrap();
        text.lines().skip(1).map(fields).collect()
    }

    /// Injection sessions per course (patient_id, condition).
    fn sessions(rows: &[Vec<String>]) -> HashMap<(String, String), u32> {
        let mut out = HashMap::new();
        for r in rows {
            *out.entry((r[0].clone(), r[1].clone())).or_insert(0) += u32::from(r[3] == "1");
        }
        out
    }

    #[test]
    fn same_options_same_bytes() {
        let (a, ra) = generate(3_000, 7, true);
        let (b, rb) = generate(3_000, 7, true);
        assert_eq!(ra, rb);
        assert!(a == b, "two runs differ");
        let (c, _) = generate(3_000, 8, true);
        assert!(a != c, "seed has no effect");
    }

    #[test]
    fn threads_do_not_change_bytes() {
        let courses = 5 * SMALL_CHUNK + 17;
        let one = generate_small_chunks(courses, 11, true, 1);
        for workers in [2, 3, 8] {
            assert!(one == generate_small_chunks(courses, 11, true, workers));
        }
    }

    #[test]
    fn write_errors_are_returned() {
        /// Accepts `self.0` more bytes, then fails.
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
                }
                let n = b.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let opts = SynthOptions {
            courses: 10 * SMALL_CHUNK,
            seed: 1,
            defects: false,
        };
        let err = write_csv_on(&opts, Full(300_000), 2, SMALL_CHUNK).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn header_and_row_count() {
        let (out, rows) = generate(500, 1, false);
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.starts_with(HEADER));
        assert_eq!(text.lines().count() as u64, rows + 1);
        assert!(out.ends_with(b"\n"));
        let (empty, none) = generate(0, 1, false);
        assert_eq!((empty.as_slice(), none), (HEADER.as_bytes(), 0));
    }

    #[test]
    fn every_row_has_twelve_fields() {
        for defects in [false, true] {
            let (out, _) = generate(3_000, 2, defects);
            for r in rows_of(&out) {
                assert_eq!(r.len(), 12, "{r:?}");
            }
        }
    }

    #[test]
    fn clean_rows_are_valid() {
        // Many chunks: checks the threaded path and patient numbering too.
        let courses = 9_000;
        let (out, _) = generate_small_chunks(courses, 3, false, 2);
        let rows = rows_of(&out);
        let ranges: HashMap<&str, f64> = CONDITIONS
            .iter()
            .map(|c| (c.instrument, c.fn_max))
            .collect();
        let mut days: HashMap<(String, String), Vec<i64>> = HashMap::new();
        let mut patient_conditions: HashMap<String, Vec<String>> = HashMap::new();
        let (mut pain_missing, mut fn_missing) = (0, 0);
        for r in &rows {
            assert!(r[0].len() == 8 && r[0].starts_with('P'), "{r:?}");
            assert!(CONDITIONS.iter().any(|c| c.name == r[1]), "{r:?}");
            let day: i64 = r[2].parse().unwrap();
            assert!(day >= 0);
            assert!(r[3] == "1" || r[3] == "0");
            assert!(!(r[4].is_empty() && r[5].is_empty()), "no score: {r:?}");
            if r[4].is_empty() {
                pain_missing += 1;
            } else {
                let p: f64 = r[4].parse().unwrap();
                assert!((0.0..=10.0).contains(&p), "{r:?}");
                assert!(r[4].split('.').nth(1).is_none_or(|d| d.len() == 1));
            }
            let max = ranges[r[6].as_str()];
            if r[5].is_empty() {
                fn_missing += 1;
            } else {
                let f: i64 = r[5].parse().unwrap();
                assert!(f >= 0 && f as f64 <= max, "{r:?}");
            }
            if r[3] == "0" {
                assert!(r[7].is_empty() && r[11].is_empty(), "{r:?}");
            }
            let age: i64 = r[8].parse().unwrap();
            assert!((18..=90).contains(&age));
            assert!(["F", "M", "other", "unknown"].contains(&r[9].as_str()));
            assert!(r[10].len() == 3 && r[10].starts_with('S'));
            let key = (r[0].clone(), r[1].clone());
            let entry = days.entry(key).or_default();
            if entry.is_empty() {
                patient_conditions
                    .entry(r[0].clone())
                    .or_default()
                    .push(r[1].clone());
            }
            entry.push(day);
        }
        assert_eq!(days.len() as u64, courses);
        for d in days.values() {
            assert_eq!(d[0], 0, "course starts at day 0");
            assert!(d.windows(2).all(|w| w[0] < w[1]), "days increase: {d:?}");
        }
        // Patient ids are consecutive from P0000001; at most two distinct conditions each.
        let n = patient_conditions.len();
        assert!(patient_conditions.contains_key("P0000001"));
        assert!(patient_conditions.contains_key(&format!("P{n:07}")));
        let two = patient_conditions.values().filter(|c| c.len() == 2).count();
        assert!(patient_conditions
            .values()
            .all(|c| c.len() <= 2 && (c.len() == 1 || c[0] != c[1])));
        let share = two as f64 / n as f64;
        assert!(
            (0.06..0.10).contains(&share),
            "two-condition patients {share}"
        );
        let pain_rate = pain_missing as f64 / rows.len() as f64;
        let fn_rate = fn_missing as f64 / rows.len() as f64;
        assert!((0.04..0.06).contains(&pain_rate), "{pain_rate}");
        assert!((0.09..0.11).contains(&fn_rate), "{fn_rate}");
    }

    #[test]
    fn sessions_mode_is_three() {
        let (out, _) = generate(5_000, 4, false);
        let mut hist = [0u32; 9];
        for s in sessions(&rows_of(&out)).values() {
            assert!((1..=8).contains(s));
            hist[*s as usize] += 1;
        }
        let mode = (1..=8).max_by_key(|&k| hist[k]).unwrap();
        assert_eq!(mode, 3, "{hist:?}");
    }

    #[test]
    fn defects_present_when_asked() {
        let (out, _) = generate(5_000, 5, true);
        let rows = rows_of(&out);
        let count = |f: &dyn Fn(&Vec<String>) -> bool| rows.iter().filter(|r| f(r)).count();
        assert!(count(&|r| r[0].is_empty()) > 0, "empty patient_id");
        assert!(count(&|r| r[1].is_empty()) > 0, "empty condition");
        assert!(count(&|r| r[2].starts_with('-')) > 0, "negative day");
        assert!(
            count(&|r| !["0", "1"].contains(&r[3].as_str())) > 0,
            "bad boolean"
        );
        assert!(
            count(&|r| ["11", "-1", "55", "10.5"].contains(&r[4].as_str())) > 0,
            "pain range"
        );
        assert!(count(&|r| r[4] == "7,5" || r[5] == "7,5" || r[4] == "n/a" || r[5] == "n/a") > 0);
        assert!(
            count(&|r| r[6] == "WOMACX" || r[6] == "ODI2" || r[6] == "VISA" || r[6] == "KOOSJR")
                > 0
        );
        assert!(count(&|r| r[8] == "97") > 0, "age 97");
        let mut seen: HashMap<(String, String), Vec<String>> = HashMap::new();
        for r in rows.iter().filter(|r| !r[0].is_empty() && !r[1].is_empty()) {
            seen.entry((r[0].clone(), r[1].clone()))
                .or_default()
                .push(r[2].clone());
        }
        let dup = seen
            .values()
            .filter(|d| d.windows(2).any(|w| w[0] == w[1]))
            .count();
        assert!(dup > 0, "duplicate day");
        // Clean output has none of these.
        let (clean, _) = generate(5_000, 5, false);
        let clean = rows_of(&clean);
        assert!(clean
            .iter()
            .all(|r| !r[0].is_empty() && !r[1].is_empty() && r[8] != "97"));
    }

    #[test]
    fn number_formatting() {
        let mut b = Vec::new();
        push_tenths(&mut b, 35);
        b.push(b' ');
        push_tenths(&mut b, 40);
        b.push(b' ');
        push_tenths(&mut b, 0);
        b.push(b' ');
        push_i64(&mut b, -12);
        b.push(b' ');
        push_padded(&mut b, 42, 7);
        b.push(b' ');
        push_u64(&mut b, u64::MAX);
        b.push(b' ');
        push_text(&mut b, "7,5");
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "3.5 4 0 -12 0000042 18446744073709551615 \"7,5\""
        );
        assert_eq!(digits(0), 1);
        assert_eq!(digits(2_000_000), 7);
        assert_eq!(digits(10_000_000), 8);
    }
}
