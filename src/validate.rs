//! Records to typed, validated courses plus the list of findings; collects every problem,
//! never stops at the first.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::ingest::{Dataset, Record, Sink};
use crate::schema::{self, col};

/// How serious a finding is: errors make `validate` exit 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Every kind of finding, in the order SPEC applies the rules; the name is the cohort-flow reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Reason {
    #[serde(rename = "identifier column")]
    Identifier,
    #[serde(rename = "date column")]
    DateColumn,
    #[serde(rename = "no patient_id")]
    NoPatientId,
    #[serde(rename = "no condition")]
    NoCondition,
    #[serde(rename = "invalid day")]
    InvalidDay,
    #[serde(rename = "invalid injection")]
    InvalidInjection,
    #[serde(rename = "duplicate encounter")]
    DuplicateEncounter,
    #[serde(rename = "invalid pain")]
    InvalidPain,
    #[serde(rename = "invalid function")]
    InvalidFunction,
    #[serde(rename = "unknown instrument")]
    UnknownInstrument,
    #[serde(rename = "age above 90")]
    AgeAbove90,
    #[serde(rename = "invalid age")]
    InvalidAge,
    #[serde(rename = "no baseline")]
    NoBaseline,
    #[serde(rename = "no follow-up")]
    NoFollowUp,
}

impl Reason {
    /// The reason as written in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Identifier => "identifier column",
            Reason::DateColumn => "date column",
            Reason::NoPatientId => "no patient_id",
            Reason::NoCondition => "no condition",
            Reason::InvalidDay => "invalid day",
            Reason::InvalidInjection => "invalid injection",
            Reason::DuplicateEncounter => "duplicate encounter",
            Reason::InvalidPain => "invalid pain",
            Reason::InvalidFunction => "invalid function",
            Reason::UnknownInstrument => "unknown instrument",
            Reason::AgeAbove90 => "age above 90",
            Reason::InvalidAge => "invalid age",
            Reason::NoBaseline => "no baseline",
            Reason::NoFollowUp => "no follow-up",
        }
    }

    /// Errors are wrong data; missing baselines and follow-ups and a date column are warnings.
    pub fn severity(self) -> Severity {
        match self {
            Reason::DateColumn | Reason::NoBaseline | Reason::NoFollowUp => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One problem, located as precisely as the input allows.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub reason: Reason,
    pub file: String,
    /// Line as a spreadsheet shows it (header = 1).
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub expected: String,
    /// What the problem costs: row excluded, course excluded, value dropped, …
    pub cost: String,
    #[serde(skip)]
    file_index: usize,
}

/// One encounter of a valid course, after validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Encounter {
    /// Pain, NaN where missing or dropped.
    pub pain: f64,
    /// Function, NaN where missing or dropped.
    pub function: f64,
    pub day: u32,
    /// Index into `Settings::instruments`, meaningful where `function` is a number.
    pub instrument: u16,
    pub injection: bool,
    pub adverse: bool,
}

/// The encounters of the valid courses, sorted by course then day.
pub type Records = Vec<Encounter>;

/// One valid course: its encounters are `start..end` of [`Records`].
#[derive(Debug, Clone)]
pub struct Course {
    pub condition: u32,
    pub start: usize,
    pub end: usize,
    /// Whole years, at most [`schema::MAX_AGE`].
    pub age: Option<u8>,
    /// Index into [`Validated::sexes`].
    pub sex: Option<u16>,
    /// Index into [`Validated::injectates`].
    pub injectate: Option<u16>,
    /// (input index, line) of the course's first encounter, to locate findings.
    pub first: (u16, u32),
}

/// An exclusion or dropped value, counted for the cohort flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExclusionKey {
    pub reason: Reason,
    /// 0 none, 1 pain, 2 function (so rows sort as SPEC lists them).
    pub outcome: u8,
    /// Instrument index + 1 for a function instrument's outcome exclusion, else 0.
    pub instrument: u16,
}

/// Records and courses excluded under one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Excluded {
    pub records: u64,
    pub courses: u64,
}

/// Everything validation learnt.
#[derive(Debug, Default)]
pub struct Validated {
    pub records_read: u64,
    /// Records read per input.
    pub records_per_input: Vec<u64>,
    pub courses_read: u64,
    pub patients_read: u64,
    pub conditions: Vec<String>,
    /// Distinct values of `sex` and `injectate`, as courses refer to them.
    pub sexes: Vec<String>,
    pub injectates: Vec<String>,
    pub courses: Vec<Course>,
    pub records: Records,
    pub excluded: Vec<(ExclusionKey, Excluded)>,
    pub findings: Vec<Finding>,
}

impl Validated {
    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Adds outcome exclusions found by the per-course derivation.
    pub fn add_excluded(&mut self, key: ExclusionKey, n: Excluded) {
        match self.excluded.iter_mut().find(|(k, _)| *k == key) {
            Some((_, e)) => {
                e.records += n.records;
                e.courses += n.courses;
            }
            None => self.excluded.push((key, n)),
        }
        self.excluded.sort_by_key(|(k, _)| *k);
    }

    /// Adds a warning finding for each course left out of an outcome's analysis
    /// (`no baseline`, `no follow-up`), located at the course's first encounter.
    pub fn add_outcome_findings(
        &mut self,
        data: &Dataset,
        settings: &Settings,
        found: &[(u32, Reason, crate::courses::Outcome)],
    ) {
        // Each outcome's label, made once.
        let mut labels: Vec<(crate::courses::Outcome, String)> = Vec::new();
        for &(course, reason, outcome) in found {
            let outcome = match labels.iter().find(|(o, _)| *o == outcome) {
                Some((_, label)) => label,
                None => {
                    labels.push((outcome, outcome.label(settings)));
                    &labels[labels.len() - 1].1
                }
            };
            let c = &self.courses[course as usize];
            let (file, line) = c.first;
            let what = match reason {
                Reason::NoBaseline => "a score before the first injection (or on its day)",
                _ => "a score after at least one injection",
            };
            self.findings.push(Finding {
                severity: reason.severity(),
                reason,
                file: data.inputs[file as usize].path.clone(),
                line: Some(u64::from(line)),
                column: None,
                value: None,
                expected: format!("{what} for {outcome}"),
                cost: format!(
                    "course left out of the {outcome} analysis ({} records)",
                    c.end - c.start
                ),
                file_index: file as usize,
            });
        }
        sort_findings(&mut self.findings);
    }
}

fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (f.severity, f.file_index, f.line, f.reason));
}

/// A fast, deterministic hasher for the course and value tables (FxHash).
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        // A final mix (as splitmix64's), so that the low bits the table indexes by vary.
        let mut h = self.0;
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        // Eight bytes at a time, little-endian; the last few as if padded with zeros.
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            self.add((rest.iter().rev()).fold(0, |w, &b| (w << 8) | u64::from(b)));
        }
    }
}

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

fn fx_hash(bytes: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write(bytes);
    h.finish()
}

/// The key of the course (`pid`, `condition`) in `key`: the patient_id, then the condition
/// id in [`KEY_END`] bytes (`u32::MAX` for a patient seen without a condition). The end has
/// one length for every key, so that two keys are equal only for the same patient_id and
/// condition, whatever bytes a patient_id holds (a 0 byte, or what looks like a condition
/// id: with a shorter end for patients without a condition, patient "Z5\0\0\0\0" without
/// one and "Z5" with condition 0 once had one key).
fn course_key(key: &mut Vec<u8>, pid: &[u8], condition: u32) {
    key.clear();
    key.extend_from_slice(pid);
    key.extend_from_slice(&condition.to_le_bytes());
}

/// Bytes after the patient_id in a course key.
const KEY_END: usize = 4;

/// The course keys ([`course_key`]), numbered in order of first appearance: held end to
/// end in one buffer, so that a course costs no allocation of its own.
///
/// Files mostly hold their rows patient by patient in patient_id order. While they do, a
/// key whose patient_id sorts after the last one is new, and one of the last patient is
/// found among that patient's few keys: no table is needed. The first key that breaks the
/// order (or a patient with many courses) builds a table of every key's number, which finds
/// keys from then on.
#[derive(Default)]
struct CourseKeys {
    bytes: Vec<u8>,
    /// Where each key ends in `bytes` (it starts where the one before ends).
    ends: Vec<usize>,
    table: Option<hashbrown::HashTable<u32>>,
    /// The last patient's first key, and the length of its patient_id (no table yet).
    patient: (u32, usize),
    /// The courses expected, to size the table.
    expected: usize,
}

/// Keys of one patient searched one by one before a table is built.
const PATIENT_SCAN: usize = 16;

/// Key `id` of keys held end to end in `bytes`, ending at `ends`.
fn key_in<'a>(bytes: &'a [u8], ends: &[usize], id: u32) -> &'a [u8] {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &bytes[start..ends[id]]
}

impl CourseKeys {
    fn with_capacity(courses: usize) -> Self {
        CourseKeys {
            bytes: Vec::with_capacity(courses * 16),
            ends: Vec::with_capacity(courses),
            table: None,
            patient: (0, 0),
            expected: courses,
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn key(&self, id: u32) -> &[u8] {
        key_in(&self.bytes, &self.ends, id)
    }

    /// The number of `key` (whose patient_id is its first `pid_len` bytes), and whether it
    /// is new.
    fn get_or_insert(&mut self, key: &[u8], pid_len: usize) -> (u32, bool) {
        let id = self.ends.len() as u32;
        if self.table.is_none() {
            let (first, last_len) = self.patient;
            let order = if id == 0 {
                std::cmp::Ordering::Greater
            } else {
                let last = self.key(first);
                key[..pid_len].cmp(&last[..last_len.min(last.len())])
            };
            match order {
                std::cmp::Ordering::Greater => {
                    self.patient = (id, pid_len);
                    self.push(key);
                    return (id, true);
                }
                std::cmp::Ordering::Equal if (id - first) as usize <= PATIENT_SCAN => {
                    if let Some(found) = (first..id).find(|&k| self.key(k) == key) {
                        return (found, false);
                    }
                    self.push(key);
                    return (id, true);
                }
                _ => self.build_table(),
            }
        }
        let CourseKeys {
            bytes, ends, table, ..
        } = self;
        let table = table.get_or_insert_with(hashbrown::HashTable::new);
        let hash = fx_hash(key);
        if let Some(&found) = table.find(hash, |&k| key_in(bytes, ends, k) == key) {
            return (found, false);
        }
        bytes.extend_from_slice(key);
        ends.push(bytes.len());
        table.insert_unique(hash, id, |&k| fx_hash(key_in(bytes, ends, k)));
        (id, true)
    }

    fn push(&mut self, key: &[u8]) {
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
    }

    /// The table of every key so far, with room for the courses expected.
    fn build_table(&mut self) {
        let mut table = hashbrown::HashTable::with_capacity(self.expected.max(self.len()));
        for id in 0..self.len() as u32 {
            let hash = fx_hash(self.key(id));
            table.insert_unique(hash, id, |&k| fx_hash(key_in(&self.bytes, &self.ends, k)));
        }
        self.table = Some(table);
    }
}

/// One row while validating: 32 bytes, sorted in place by course then day.
#[derive(Clone, Copy)]
struct Row {
    /// course << 32 | day.
    key: u64,
    pain: f64,
    function: f64,
    line: u32,
    file: u16,
    /// Instrument index, or [`NO_INSTRUMENT`].
    instrument: u8,
    /// [`INJECTION`], [`ADVERSE`], [`DAY_OK`].
    flags: u8,
}

const NO_INSTRUMENT: u8 = u8::MAX;
const INJECTION: u8 = 1;
const ADVERSE: u8 = 2;
const DAY_OK: u8 = 4;

/// A finding that stands only if its course passes the course rules.
struct Pending {
    course: u32,
    finding: Finding,
    /// The course rule it reports (invalid day/injection), or a value finding.
    course_rule: Option<Reason>,
}

/// The first value of a course attribute by day.
#[derive(Clone, Copy, Default)]
struct First<T: Copy> {
    day: u32,
    value: Option<T>,
}

impl<T: Copy> First<T> {
    fn offer(&mut self, day: u32, value: T) {
        if self.value.is_none() || day < self.day {
            self.day = day;
            self.value = Some(value);
        }
    }
}

#[derive(Clone, Copy, Default)]
struct CourseState {
    rows: u64,
    bad_day: bool,
    bad_injection: bool,
    age: First<u8>,
    sex: First<u16>,
    injectate: First<u16>,
}

/// Interns text values (sex, injectate, condition) as small numbers.
#[derive(Default)]
struct Interner {
    ids: FxMap<String, u32>,
    values: Vec<String>,
    /// The last value asked for: consecutive rows mostly repeat it.
    last: Option<u32>,
}

impl Interner {
    fn id(&mut self, text: &str) -> u32 {
        if let Some(last) =
            (self.last).filter(|&l| same(self.values[l as usize].as_bytes(), text.as_bytes()))
        {
            return last;
        }
        if let Some(&id) = self.ids.get(text) {
            self.last = Some(id);
            return id;
        }
        let id = self.values.len() as u32;
        self.last = Some(id);
        self.ids.insert(text.to_string(), id);
        self.values.push(text.to_string());
        id
    }
}

/// Values worked out from text, kept by the text as written; the last one is looked at
/// first, as consecutive rows mostly repeat it.
struct Memo<V> {
    map: FxMap<String, V>,
    last: Option<(String, V)>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            map: FxMap::default(),
            last: None,
        }
    }
}

impl<V: Copy> Memo<V> {
    /// The value of `text`, worked out by `make` the first time.
    fn get(&mut self, text: &str, make: impl FnOnce(&str) -> V) -> V {
        if let Some((last, v)) = &self.last {
            if same(last.as_bytes(), text.as_bytes()) {
                return *v;
            }
        }
        let v = match self.map.get(text) {
            Some(&v) => v,
            None => {
                let v = make(text);
                self.map.insert(text.to_string(), v);
                v
            }
        };
        match &mut self.last {
            Some((last, value)) => {
                last.clear();
                last.push_str(text);
                *value = v;
            }
            None => self.last = Some((text.to_string(), v)),
        }
        v
    }
}

/// The streaming pass's state.
struct Pass<'a> {
    settings: &'a Settings,
    paths: Vec<String>,
    dated: Vec<bool>,
    out: Validated,
    rows: Vec<Row>,
    pending: Vec<Pending>,
    courses: CourseKeys,
    /// Condition of each course (by first-seen id); u32::MAX for a patient seen without one.
    course_cond: Vec<u32>,
    states: Vec<CourseState>,
    raw_conditions: FxMap<String, u32>,
    conditions: Interner,
    instruments: Memo<u8>,
    sexes: Interner,
    injectates: Interner,
    key: Vec<u8>,
    too_many_injectates: bool,
    /// The previous row's course: consecutive rows mostly belong to one course.
    last: Option<LastCourse>,
    /// Sex as written → interned sex id.
    raw_sexes: Memo<u16>,
    /// The most rows that fit in the memory available (see [`BYTES_PER_ROW`]).
    row_budget: usize,
    /// About how many rows the inputs hold (0 when unknown).
    expected_rows: usize,
}

/// Peak memory per encounter row, with room: measured 54 bytes (`analyze`) and 61
/// (`validate`) on 2,000,000 courses of 4.5 rows, 53 and 58 on 10,000,000 (the rows, their
/// encounters, the per-course state and the derived outcomes); a course's own costs (about
/// 200 bytes) weigh more per row when courses are short.
const BYTES_PER_ROW: u64 = 128;

/// The course of the previous row, by its patient_id and condition text as written.
struct LastCourse {
    patient: String,
    condition: String,
    course: u32,
}

/// Validates the data set: SPEC's rules in SPEC's order. Streams the records once.
pub fn validate(data: &mut Dataset, settings: &Settings) -> Result<Validated> {
    let out = validate_records(data, settings)?;
    data.settle()?;
    Ok(out)
}

/// [`validate`], without waiting for the SHA-256 of the files read in parts, which may still
/// be being computed on another core ([`Dataset::settle`] waits for it, and fails if a file
/// changed while it was read: the caller settles before it uses the hashes or reports
/// anything of the validation).
pub fn validate_records(data: &mut Dataset, settings: &Settings) -> Result<Validated> {
    if settings.instruments.len() >= usize::from(NO_INSTRUMENT) {
        return Err(Error::Usage(format!(
            "at most {} instruments can be defined",
            NO_INSTRUMENT - 1
        )));
    }
    if data.inputs.len() > usize::from(u16::MAX) {
        return Err(Error::Usage(format!(
            "at most {} input files can be read at once",
            u16::MAX
        )));
    }
    let mut pass = Pass::new(
        settings,
        data.inputs.iter().map(|i| i.path.clone()).collect(),
        (0..data.inputs.len())
            .map(|i| data.dated.contains(&i))
            .collect(),
        settings.memory_limit.map_or(usize::MAX, |b| {
            usize::try_from(b / BYTES_PER_ROW).unwrap_or(usize::MAX)
        }),
        data.expected_rows(),
        data.expected_rows() / 4,
    );
    let mut time = crate::output::Timings::start();
    data.for_each_record(settings, &mut pass)?;
    time.phase("read");
    let mut out = pass.finish();
    time.phase("finish");
    file_findings(&mut out, data);
    sort_findings(&mut out.findings);
    Ok(out)
}

/// Findings about whole files: identifier columns and date columns.
fn file_findings(out: &mut Validated, data: &Dataset) {
    // One finding per column, with every reason it was stopped for (its name, its values).
    let mut columns: Vec<(usize, &str, Vec<&str>)> = Vec::new();
    for id in &data.identifiers {
        match (columns.iter_mut()).find(|(f, c, _)| *f == id.file && *c == id.column) {
            Some((_, _, why)) => why.push(&id.why),
            None => columns.push((id.file, &id.column, vec![&id.why])),
        }
    }
    for (file, column, why) in columns {
        out.findings.push(Finding {
            severity: Severity::Error,
            reason: Reason::Identifier,
            file: data.inputs[file].path.clone(),
            line: Some(1),
            column: Some(column.to_string()),
            value: None,
            expected: format!(
                "de-identified data: {}; drop the column or pass --exclude-columns {column:?}",
                why.join("; and ")
            ),
            cost: "the run stops (analyze refuses identifiable input)".into(),
            file_index: file,
        });
    }
    let converted = (data.dated.iter()).map(|&f| (f, "Converted to day on read", "converted"));
    let ignored = (data.date_ignored.iter()).map(|&f| {
        (
            f,
            "The file also has day, which is read: date is ignored",
            "ignored",
        )
    });
    let mut dates: Vec<_> = converted.chain(ignored).collect();
    dates.sort_by_key(|d| d.0);
    for (f, what, cost) in dates {
        out.findings.push(Finding {
            severity: Severity::Warning,
            reason: Reason::DateColumn,
            file: data.inputs[f].path.clone(),
            line: Some(1),
            column: Some("date".into()),
            value: None,
            expected: format!("days since the course's first encounter (day); dates are identifiers under HIPAA Safe Harbor. {what}; no date is written to any output"),
            cost: format!("none ({cost})"),
            file_index: f,
        });
    }
}

impl Sink for Pass<'_> {
    fn record(&mut self, r: &Record) -> Result<()> {
        self.read_row(r);
        self.check_memory(r)
    }

    fn fork(&self, parts: usize) -> Self {
        Pass::new(
            self.settings,
            self.paths.clone(),
            self.dated.clone(),
            self.row_budget / parts.max(1),
            // Room for every row and course, not a part's share: the first part's vectors
            // and table become the joined ones, and growing them while joining would copy
            // every row (with the old, the new and the other parts' rows all held at once:
            // the peak of the whole run) and hash every key again. Room a part leaves
            // unused is never touched, so it costs no memory.
            self.expected_rows,
            self.expected_rows / 4,
        )
    }

    fn join(&mut self, mut part: Self, lines: u64) {
        let line = |l: u32| (u64::from(l) + lines).min(u64::from(u32::MAX)) as u32;
        let shift = |f: &mut Finding| {
            if let Some(l) = f.line.as_mut() {
                *l += lines;
            }
        };
        for row in &mut part.rows {
            row.line = line(row.line);
        }
        for f in &mut part.out.findings {
            shift(f);
        }
        for p in &mut part.pending {
            shift(&mut p.finding);
        }
        if self.course_cond.is_empty() && self.rows.is_empty() && self.out.findings.is_empty() {
            // The first part: taken whole.
            let (budget, expected, per_input) = (
                self.row_budget,
                self.expected_rows,
                std::mem::take(&mut self.out.records_per_input),
            );
            *self = part;
            self.row_budget = budget;
            self.expected_rows = expected;
            for (a, b) in self.out.records_per_input.iter_mut().zip(per_input) {
                *a += b;
            }
            self.out.records_read = self.out.records_per_input.iter().sum();
            return;
        }
        // Values by text, courses by (patient_id, condition); then rows and findings.
        let conditions: Vec<u32> = (part.conditions.values.iter())
            .map(|v| self.conditions.id(v))
            .collect();
        let sexes: Vec<u16> = (part.sexes.values.iter())
            .map(|v| self.sexes.id(v).min(u32::from(u16::MAX)) as u16)
            .collect();
        let injectates: Vec<u16> = (part.injectates.values.iter())
            .map(|v| self.injectate_id(v))
            .collect();
        // In the part's order of first appearance, so that the courses keep the order in
        // which the file holds them (the sorts after the last record are then quick).
        let mut courses = vec![0u32; part.course_cond.len()];
        let mut new = vec![false; part.course_cond.len()];
        let mut key = Vec::new();
        for id in 0..part.courses.len() as u32 {
            key.clear();
            key.extend_from_slice(part.courses.key(id));
            let condition = match part.course_cond[id as usize] {
                u32::MAX => u32::MAX,
                c => conditions[c as usize],
            };
            let pid_len = key.len() - KEY_END;
            key[pid_len..].copy_from_slice(&condition.to_le_bytes());
            let (a, is_new) = self.courses.get_or_insert(&key, pid_len);
            if is_new {
                self.course_cond.push(condition);
            }
            courses[id as usize] = a;
            new[id as usize] = is_new;
        }
        // The part's keys are merged: let go of them before the states grow, and of the
        // states before the rows are appended (each of these is held twice for a while).
        drop(std::mem::replace(
            &mut part.courses,
            CourseKeys::with_capacity(0),
        ));
        drop(std::mem::take(&mut part.course_cond));
        for (id, b) in std::mem::take(&mut part.states).into_iter().enumerate() {
            if new[id] {
                self.states.push(CourseState::default());
            }
            // The part's rows come after this one's: its first values win only by an
            // earlier day, as when read in one piece.
            let s = &mut self.states[courses[id] as usize];
            s.rows += b.rows;
            s.bad_day |= b.bad_day;
            s.bad_injection |= b.bad_injection;
            if let Some(v) = b.age.value {
                s.age.offer(b.age.day, v);
            }
            if let Some(v) = b.sex.value {
                s.sex.offer(b.sex.day, sexes[usize::from(v)]);
            }
            if let Some(v) = b.injectate.value {
                s.injectate
                    .offer(b.injectate.day, injectates[usize::from(v)]);
            }
        }
        append_renumbered(&mut self.rows, part.rows, &courses, BLOCK);
        for mut p in part.pending {
            p.course = courses[p.course as usize];
            self.pending.push(p);
        }
        self.out.findings.append(&mut part.out.findings);
        self.out.records_read += part.out.records_read;
        for (a, b) in self
            .out
            .records_per_input
            .iter_mut()
            .zip(&part.out.records_per_input)
        {
            *a += b;
        }
        self.too_many_injectates |= part.too_many_injectates;
    }
}

/// Rows moved at a time by [`append_renumbered`] (8 MiB).
const BLOCK: usize = 1 << 18;

/// Appends `rows` (a part's) to `to`, their courses renumbered by `courses`. They are copied
/// `block` rows at a time from the end, and each block's memory is given back once copied:
/// a part's rows and their copy are never both held whole (they were the peak of a run).
fn append_renumbered(to: &mut Vec<Row>, mut rows: Vec<Row>, courses: &[u32], block: usize) {
    let at = to.len();
    let n = rows.len();
    to.reserve(n);
    let spare = &mut to.spare_capacity_mut()[..n];
    while !rows.is_empty() {
        let end = rows.len();
        let from = end.saturating_sub(block.max(1));
        for (slot, row) in spare[from..end].iter_mut().zip(&rows[from..]) {
            let course = u64::from(courses[(row.key >> 32) as usize]);
            slot.write(Row {
                key: (course << 32) | (row.key & 0xffff_ffff),
                ..*row
            });
        }
        rows.truncate(from);
        rows.shrink_to_fit();
    }
    // SAFETY: the loop wrote each of the `n` places after the first `at`, the last block
    // first, down to place 0 of `spare`.
    unsafe { to.set_len(at + n) };
}

impl<'a> Pass<'a> {
    fn new(
        settings: &'a Settings,
        paths: Vec<String>,
        dated: Vec<bool>,
        row_budget: usize,
        expected_rows: usize,
        expected_courses: usize,
    ) -> Self {
        // Room for the rows and courses expected, so that the tables are not rebuilt as they
        // grow (memory that is reserved but not yet used costs little).
        let rows = expected_rows.min(row_budget);
        let courses = expected_courses.min(row_budget / 4);
        Pass {
            settings,
            out: Validated {
                records_per_input: vec![0; paths.len()],
                ..Validated::default()
            },
            paths,
            dated,
            rows: Vec::with_capacity(rows),
            pending: Vec::new(),
            courses: CourseKeys::with_capacity(courses),
            course_cond: Vec::with_capacity(courses),
            states: Vec::with_capacity(courses),
            raw_conditions: FxMap::default(),
            conditions: Interner::default(),
            instruments: Memo::default(),
            sexes: Interner::default(),
            injectates: Interner::default(),
            key: Vec::new(),
            too_many_injectates: false,
            last: None,
            raw_sexes: Memo::default(),
            row_budget,
            expected_rows,
        }
    }

    /// The id of an injectate; past 65,533 distinct ones, every further one is "other".
    fn injectate_id(&mut self, text: &str) -> u16 {
        if self.injectates.values.len() < usize::from(u16::MAX) - 1 {
            self.injectates.id(text) as u16
        } else {
            self.too_many_injectates = true;
            self.injectates.id("other") as u16
        }
    }
}

impl Pass<'_> {
    fn finding(
        &self,
        reason: Reason,
        (file, line): (usize, u64),
        field: usize,
        value: &str,
        expected: String,
        cost: &str,
    ) -> Finding {
        let withheld = field == col::DAY && self.dated[file];
        Finding {
            severity: reason.severity(),
            reason,
            file: self.paths[file].clone(),
            line: Some(line),
            column: Some(if withheld {
                "date".to_string()
            } else {
                crate::ingest::source_name(self.settings, field)
            }),
            value: Some(if withheld {
                "(date withheld)".to_string()
            } else {
                shorten(value)
            }),
            expected,
            cost: cost.to_string(),
            file_index: file,
        }
    }

    /// Stops the run, before the machine runs out of memory, when the rows read so far
    /// already need more than is available.
    fn check_memory(&self, r: &Record) -> Result<()> {
        if self.rows.len() <= self.row_budget {
            return Ok(());
        }
        let mib = |b: u64| (b + (1 << 19)) >> 20;
        Err(Error::Runtime(format!(
            "{}: line {}: the data set needs more memory than is available: {} rows so far need about {} MiB, and {} MiB are available; nothing was analysed. Analyse the data in parts (e.g. by site or by condition) or on a machine with more memory (PROLO_MEMORY_LIMIT, in MiB, sets the limit)",
            self.paths[r.file],
            r.line,
            self.rows.len(),
            mib(self.rows.len() as u64 * BYTES_PER_ROW),
            mib(self.row_budget as u64 * BYTES_PER_ROW),
        )))
    }

    fn read_row(&mut self, r: &Record) {
        let f = &r.fields;
        if f.iter().all(|v| v.is_empty()) {
            return;
        }
        self.out.records_read += 1;
        self.out.records_per_input[r.file] += 1;
        let pid = f[col::PATIENT_ID];
        if pid.is_empty() {
            let finding = self.finding(
                Reason::NoPatientId,
                (r.file, r.line),
                col::PATIENT_ID,
                "",
                "a patient_id".into(),
                "row excluded",
            );
            self.out.findings.push(finding);
            return;
        }
        let course = match &self.last {
            Some(l)
                if same(l.patient.as_bytes(), pid.as_bytes())
                    && same(l.condition.as_bytes(), f[col::CONDITION].as_bytes()) =>
            {
                l.course
            }
            _ => match self.course_of(r) {
                Some(c) => c,
                None => return,
            },
        };
        self.encounter(r, course);
    }

    /// The course of a row with a patient_id, or None (and a finding) when it has no condition.
    fn course_of(&mut self, r: &Record) -> Option<u32> {
        let f = &r.fields;
        let pid = f[col::PATIENT_ID];
        let condition = match self.raw_conditions.get(f[col::CONDITION]) {
            Some(&c) => c,
            None => {
                let name = schema::normalise_condition(f[col::CONDITION]);
                // "all" names the overall group in every output: a condition of that name
                // could not be told from it.
                let c = if name.is_empty() || name == crate::analysis::ALL {
                    u32::MAX
                } else {
                    self.conditions.id(&name)
                };
                self.raw_conditions.insert(f[col::CONDITION].to_string(), c);
                c
            }
        };
        if condition == u32::MAX {
            let expected = if f[col::CONDITION].is_empty() {
                "a condition".into()
            } else {
                "a condition other than \"all\", which names the overall group in every output"
                    .into()
            };
            let finding = self.finding(
                Reason::NoCondition,
                (r.file, r.line),
                col::CONDITION,
                f[col::CONDITION],
                expected,
                "row excluded",
            );
            self.out.findings.push(finding);
            // The patient still counts as read.
            course_key(&mut self.key, pid.as_bytes(), u32::MAX);
            self.patient_only();
            return None;
        }
        course_key(&mut self.key, pid.as_bytes(), condition);
        let (course, new) = self.courses.get_or_insert(&self.key, pid.len());
        if new {
            self.course_cond.push(condition);
            self.states.push(CourseState::default());
        }
        match &mut self.last {
            Some(l) => {
                l.patient.clear();
                l.patient.push_str(pid);
                l.condition.clear();
                l.condition.push_str(f[col::CONDITION]);
                l.course = course;
            }
            None => {
                self.last = Some(LastCourse {
                    patient: pid.to_string(),
                    condition: f[col::CONDITION].to_string(),
                    course,
                })
            }
        }
        Some(course)
    }

    /// A row of a course: its values are checked and it joins the rows to sort.
    fn encounter(&mut self, r: &Record, course: u32) {
        let f = &r.fields;
        let dated = self.dated[r.file];
        let day_text = if dated { f[col::DATE] } else { f[col::DAY] };
        let day = if dated {
            parse_date(day_text)
        } else {
            parse_day(day_text)
        };
        let day = day.filter(|d| (0..=i64::from(i32::MAX)).contains(d));
        let injection = schema::parse_bool(f[col::INJECTION]);
        let state = &mut self.states[course as usize];
        state.rows += 1;
        let mut flags = 0;
        match day {
            Some(_) => flags |= DAY_OK,
            None => {
                state.bad_day = true;
                let expected = if dated {
                    "a date YYYY-MM-DD"
                } else {
                    "a whole number of days >= 0 (3.0 is read as 3)"
                };
                let finding = self.finding(
                    Reason::InvalidDay,
                    (r.file, r.line),
                    col::DAY,
                    day_text,
                    expected.into(),
                    "",
                );
                self.pending.push(Pending {
                    course,
                    finding,
                    course_rule: Some(Reason::InvalidDay),
                });
            }
        }
        match injection {
            Some(true) => flags |= INJECTION,
            Some(false) => {}
            None => {
                self.states[course as usize].bad_injection = true;
                let finding = self.finding(
                    Reason::InvalidInjection,
                    (r.file, r.line),
                    col::INJECTION,
                    f[col::INJECTION],
                    "a boolean: 1/0, true/false, t/f, yes/no, y/n".into(),
                    "",
                );
                self.pending.push(Pending {
                    course,
                    finding,
                    course_rule: Some(Reason::InvalidInjection),
                });
            }
        }
        if schema::is_adverse_event(f[col::ADVERSE_EVENT]) {
            flags |= ADVERSE;
        }
        let day = day.unwrap_or(0) as u32;
        let pain = self.pain(r, course);
        let (function, instrument) = self.function(r, course);
        self.attributes(r, course, day, flags & DAY_OK != 0);
        self.rows.push(Row {
            key: (u64::from(course) << 32) | u64::from(day),
            pain,
            function,
            line: r.line.min(u64::from(u32::MAX)) as u32,
            file: r.file as u16,
            instrument,
            flags,
        });
    }

    /// Counts a patient seen only on rows without a condition.
    fn patient_only(&mut self) {
        let pid_len = self.key.len() - KEY_END;
        if self.courses.get_or_insert(&self.key, pid_len).1 {
            self.course_cond.push(u32::MAX);
            self.states.push(CourseState::default());
        }
    }

    fn value_finding(
        &mut self,
        course: u32,
        reason: Reason,
        r: &Record,
        field: usize,
        expected: String,
    ) {
        let finding = self.finding(
            reason,
            (r.file, r.line),
            field,
            r.fields[field],
            expected,
            "value dropped",
        );
        self.pending.push(Pending {
            course,
            finding,
            course_rule: None,
        });
    }

    fn pain(&mut self, r: &Record, course: u32) -> f64 {
        let text = r.fields[col::PAIN];
        if text.is_empty() {
            return f64::NAN;
        }
        let p = &self.settings.pain;
        match schema::parse_number(text).filter(|v| (p.min..=p.max).contains(v)) {
            Some(v) => v,
            None => {
                // A 0–100 score on the 0–10 scale is most likely a VAS read as an NRS.
                let vas = (self.settings.pain_scale == crate::schema::PainScale::Nrs)
                    .then(|| schema::parse_number(text))
                    .flatten()
                    .is_some_and(|v| v > p.max && v <= 100.0);
                let hint = if vas {
                    "; if pain is a 0–100 VAS, pass --pain-scale vas"
                } else {
                    ""
                };
                let expected = format!(
                    "a pain score from {} to {} ({}){hint}",
                    p.min, p.max, p.name
                );
                self.value_finding(course, Reason::InvalidPain, r, col::PAIN, expected);
                f64::NAN
            }
        }
    }

    fn function(&mut self, r: &Record, course: u32) -> (f64, u8) {
        let text = r.fields[col::FUNCTION];
        if text.is_empty() {
            return (f64::NAN, NO_INSTRUMENT);
        }
        let Some(value) = schema::parse_number(text) else {
            self.value_finding(
                course,
                Reason::InvalidFunction,
                r,
                col::FUNCTION,
                "a number".into(),
            );
            return (f64::NAN, NO_INSTRUMENT);
        };
        let name = r.fields[col::FUNCTION_INSTRUMENT];
        let settings = self.settings;
        let index = self.instruments.get(name, |name| {
            (settings.instrument(name)).map_or(NO_INSTRUMENT, |(i, _)| i as u8)
        });
        if index == NO_INSTRUMENT {
            // SPEC: function_instrument is required when function is given.
            let missing = if name.is_empty() {
                "the instrument the function score is on (function_instrument is required when function is given): "
            } else {
                ""
            };
            let expected = format!(
                "{missing}an instrument of the instruments table ({}) or one added in the config file",
                self.settings.instrument_names()
            );
            self.value_finding(
                course,
                Reason::UnknownInstrument,
                r,
                col::FUNCTION_INSTRUMENT,
                expected,
            );
            return (f64::NAN, NO_INSTRUMENT);
        }
        let ins = &self.settings.instruments[usize::from(index)];
        if !(ins.min..=ins.max).contains(&value) {
            let expected = format!("a score from {} to {} on {}", ins.min, ins.max, ins.name);
            self.value_finding(course, Reason::InvalidFunction, r, col::FUNCTION, expected);
            return (f64::NAN, NO_INSTRUMENT);
        }
        (value, index)
    }

    /// Age, sex and injectate: the course keeps the first valid value by day.
    fn attributes(&mut self, r: &Record, course: u32, day: u32, day_ok: bool) {
        let f = &r.fields;
        if !f[col::AGE].is_empty() {
            match schema::parse_whole(f[col::AGE]).filter(|a| *a >= 0) {
                Some(a) if a > schema::MAX_AGE => {
                    let expected = "an age of at most 90 (ages above 89 are given as 90 under HIPAA Safe Harbor)".into();
                    self.value_finding(course, Reason::AgeAbove90, r, col::AGE, expected);
                }
                Some(a) if day_ok => self.states[course as usize].age.offer(day, a as u8),
                Some(_) => {}
                None => self.value_finding(
                    course,
                    Reason::InvalidAge,
                    r,
                    col::AGE,
                    "a whole number of years".into(),
                ),
            }
        }
        if !day_ok {
            return;
        }
        if !f[col::SEX].is_empty() {
            let sexes = &mut self.sexes;
            let id = self.raw_sexes.get(f[col::SEX], |sex| {
                sexes.id(&normalise_sex(sex)).min(u32::from(u16::MAX)) as u16
            });
            self.states[course as usize].sex.offer(day, id);
        }
        if !f[col::INJECTATE].is_empty() {
            let id = self.injectate_id(f[col::INJECTATE]);
            self.states[course as usize].injectate.offer(day, id);
        }
    }

    /// After the last record: course rules, value findings of valid courses, encounters.
    fn finish(mut self) -> Validated {
        let mut out = std::mem::take(&mut self.out);
        // Courses in (patient_id, condition name) order, so no output depends on row order.
        let names = &self.conditions.values;
        let keys = std::mem::take(&mut self.courses);
        let course_cond = std::mem::take(&mut self.course_cond);
        let mut sorted_names = names.clone();
        sorted_names.sort_unstable();
        let condition_rank: Vec<u32> = names
            .iter()
            .map(|n| sorted_names.binary_search(n).unwrap_or(0) as u32)
            .collect();
        // A key is patient_id and the condition id ([`course_key`]).
        let pid_of = |k: &[u8]| -> usize { k.len().saturating_sub(KEY_END) };
        // (patient_id, condition rank + 1 (0: a patient seen without a condition), course):
        // sorted by value, without looking anything up while sorting.
        let mut order: Vec<(&[u8], u32, u32)> = (course_cond.iter().enumerate())
            .map(|(id, &c)| {
                let key = keys.key(id as u32);
                let pid = &key[..pid_of(key)];
                let c = condition_rank.get(c as usize).map_or(0, |r| r + 1);
                (pid, c, id as u32)
            })
            .collect();
        sort_courses(&mut order);
        let mut rank = vec![0u32; order.len()];
        for (r, &(_, _, c)) in order.iter().enumerate() {
            rank[c as usize] = r as u32;
        }
        out.patients_read = {
            let mut n = 0;
            let mut last: Option<&[u8]> = None;
            for &(pid, _, _) in &order {
                if last != Some(pid) {
                    n += 1;
                    last = Some(pid);
                }
            }
            n
        };
        // The course keys served only the order: let go of them before the rows are sorted
        // and turned into encounters, the phase's peak.
        drop(order);
        drop(keys);
        out.conditions = sorted_names;

        let n = course_cond.len();
        let mut rows_of = vec![0u64; n];
        for c in 0..n {
            rows_of[rank[c] as usize] = self.states[c].rows;
        }
        // Course rules: invalid day, invalid injection, duplicate encounter.
        let mut reason: Vec<Option<Reason>> = vec![None; n];
        for c in 0..n {
            let s = &self.states[c];
            reason[rank[c] as usize] = if s.bad_day {
                Some(Reason::InvalidDay)
            } else if s.bad_injection {
                Some(Reason::InvalidInjection)
            } else {
                None
            };
        }
        // A course with rows from a file with dates and from one with days mixes two time
        // scales (a date is read as days since 1970): its days mean nothing together.
        let dated = &self.dated;
        let mixing = dated.iter().any(|&d| d) && dated.iter().any(|&d| !d);
        let mut mixed = Vec::new();
        // Each row after the first of a course's day, with that first row.
        let mut duplicates = Vec::new();
        // Both looked for piece by piece as the rows are put in order, while each piece is
        // at hand (a piece holds every row of its courses, so no course or day runs from one
        // piece into the next).
        order_rows(&mut self.rows, &rank, &rows_of, |piece| {
            if mixing {
                for course in piece.chunk_by(|a, b| a.key >> 32 == b.key >> 32) {
                    let c = (course[0].key >> 32) as usize;
                    let first = dated[usize::from(course[0].file)];
                    let other = course.iter().find(|r| dated[usize::from(r.file)] != first);
                    if let (Some(other), None) = (other, reason[c]) {
                        reason[c] = Some(Reason::InvalidDay);
                        mixed.push(*other);
                    }
                }
            }
            let mut first = &piece[0];
            for w in piece.windows(2) {
                let (a, b) = (&w[0], &w[1]);
                let c = (b.key >> 32) as usize;
                if a.key != b.key {
                    first = b;
                } else if a.flags & b.flags & DAY_OK != 0
                    && reason[c].is_none_or(|r| r == Reason::DuplicateEncounter)
                {
                    reason[c] = Some(Reason::DuplicateEncounter);
                    let earlier = if first.flags & DAY_OK != 0 { first } else { a };
                    duplicates.push((*earlier, *b));
                }
            }
        });
        // A finding at the day of `row` that excludes its course.
        let mixed_scales = "one time scale per course: this course has rows in a file with dates and in a file with days since the first encounter, which cannot be mixed";
        let at_day = (mixed.into_iter())
            .map(|r| (r, Reason::InvalidDay, mixed_scales.to_string()))
            .chain((duplicates.into_iter()).map(|(first, r)| {
                // The row it duplicates, so that both can be found.
                let place = match self.paths[usize::from(first.file)].as_str() {
                    _ if first.file == r.file => format!("line {}", first.line),
                    "-" => format!("standard input, line {}", first.line),
                    path => format!("{path}, line {}", first.line),
                };
                let expected = format!(
                    "one encounter per course and day ({place} has this course and day too)"
                );
                (r, Reason::DuplicateEncounter, expected)
            }));
        for (row, reason, expected) in at_day {
            let c = (row.key >> 32) as usize;
            let day = (row.key & 0xffff_ffff).to_string();
            let mut finding = self.finding(
                reason,
                (usize::from(row.file), u64::from(row.line)),
                col::DAY,
                &day,
                expected,
                "",
            );
            finding.cost = format!("course excluded ({} records)", rows_of[c]);
            out.findings.push(finding);
        }
        let mut dropped: FxMap<ExclusionKey, (u64, Vec<u32>)> = FxMap::default();
        for p in std::mem::take(&mut self.pending) {
            let c = rank[p.course as usize] as usize;
            match (p.course_rule, reason[c]) {
                (Some(rule), Some(r)) if rule == r => {
                    let mut finding = p.finding;
                    finding.cost = format!("course excluded ({} records)", rows_of[c]);
                    out.findings.push(finding);
                }
                (None, None) => {
                    let outcome = match p.finding.reason {
                        Reason::InvalidPain => 1,
                        Reason::InvalidFunction | Reason::UnknownInstrument => 2,
                        _ => 0,
                    };
                    let e = dropped
                        .entry(ExclusionKey {
                            reason: p.finding.reason,
                            outcome,
                            instrument: 0,
                        })
                        .or_default();
                    e.0 += 1;
                    e.1.push(c as u32);
                    out.findings.push(p.finding);
                }
                _ => {}
            }
        }
        let mut row_exclusions = [0u64; 2];
        for f in &out.findings {
            match f.reason {
                Reason::NoPatientId => row_exclusions[0] += 1,
                Reason::NoCondition => row_exclusions[1] += 1,
                _ => {}
            }
        }
        for (k, r) in [Reason::NoPatientId, Reason::NoCondition]
            .into_iter()
            .enumerate()
        {
            if row_exclusions[k] > 0 {
                out.excluded.push((
                    ExclusionKey {
                        reason: r,
                        outcome: 0,
                        instrument: 0,
                    },
                    Excluded {
                        records: row_exclusions[k],
                        courses: 0,
                    },
                ));
            }
        }
        for r in [
            Reason::InvalidDay,
            Reason::InvalidInjection,
            Reason::DuplicateEncounter,
        ] {
            let mut e = Excluded::default();
            for c in 0..n {
                if reason[c] == Some(r) {
                    e.courses += 1;
                    e.records += rows_of[c];
                }
            }
            if e.courses > 0 {
                out.excluded.push((
                    ExclusionKey {
                        reason: r,
                        outcome: 0,
                        instrument: 0,
                    },
                    e,
                ));
            }
        }
        for (key, (records, mut courses)) in dropped {
            courses.sort_unstable();
            courses.dedup();
            out.excluded.push((
                key,
                Excluded {
                    records,
                    courses: courses.len() as u64,
                },
            ));
        }
        out.excluded.sort_by_key(|(k, _)| *k);

        // Courses that were only patients (rows without a condition) are not courses.
        let mut by_rank = vec![0u32; n];
        for (c, &r) in rank.iter().enumerate() {
            by_rank[r as usize] = c as u32;
        }
        let is_course = |r: usize| course_cond[by_rank[r] as usize] != u32::MAX;
        out.courses_read = (0..n).filter(|&r| is_course(r)).count() as u64;

        // Encounters of the valid courses, written over the rows they come from: collecting
        // a vector's own items, mapped to smaller ones, reuses its memory (std's in-place
        // collect), so no fresh memory is taken and the rows and encounters are never both
        // held.
        let states = &self.states;
        let course_cond = &course_cond;
        let rows = std::mem::take(&mut self.rows);
        let valid = (0..n).filter(|&r| reason[r].is_none()).count();
        // (course rank, file, line of its first row, rows), in course order.
        let mut starts: Vec<(u32, u16, u32, usize)> = Vec::with_capacity(valid);
        let records: Records = (rows.into_iter())
            .filter(|row| reason[(row.key >> 32) as usize].is_none())
            .map(|row| {
                let r = (row.key >> 32) as u32;
                match starts.last_mut() {
                    Some(last) if last.0 == r => last.3 += 1,
                    _ => starts.push((r, row.file, row.line, 1)),
                }
                Encounter {
                    pain: row.pain,
                    function: row.function,
                    day: (row.key & 0xffff_ffff) as u32,
                    instrument: if row.instrument == NO_INSTRUMENT {
                        u16::MAX
                    } else {
                        u16::from(row.instrument)
                    },
                    injection: row.flags & INJECTION != 0,
                    adverse: row.flags & ADVERSE != 0,
                }
            })
            .collect();
        // The rows' room beyond the encounters is given back.
        let mut records = records;
        records.shrink_to_fit();
        let mut courses: Vec<Course> = Vec::with_capacity(starts.len());
        let mut k = 0usize;
        for &(r, file, line, len) in &starts {
            let orig = by_rank[r as usize] as usize;
            let s = &states[orig];
            courses.push(Course {
                condition: condition_rank[course_cond[orig] as usize],
                start: k,
                end: k + len,
                age: s.age.value,
                sex: s.sex.value,
                injectate: s.injectate.value,
                first: (file, line),
            });
            k += len;
        }
        out.records = records;
        out.courses = courses;
        out.sexes = std::mem::take(&mut self.sexes.values);
        out.injectates = std::mem::take(&mut self.injectates.values);
        out
    }
}

/// Sorts courses given as (patient_id, condition rank, id) by patient_id and condition.
///
/// Files mostly hold each patient's rows together, in patient_id order, with a patient's
/// conditions in any order: when the patient_ids are already in order, only each
/// patient's few courses are sorted. The order is the same either way (the keys are
/// distinct).
fn sort_courses(order: &mut [(&[u8], u32, u32)]) {
    if !order.is_sorted_by(|a, b| a.0 <= b.0) {
        order.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        return;
    }
    for patient in order.chunk_by_mut(|a, b| a.0 == b.0) {
        if patient.len() > 1 {
            patient.sort_by_key(|c| c.1);
        }
    }
}

/// Gives each row its course's rank (`rank[c]` for the course numbered `c` as read) and sorts
/// the rows by (course rank and day, file, line), `rows_of[r]` being the number of rows of
/// the course ranked `r`; `piece` is called on the sorted rows piece by piece, in order, each
/// piece (never empty) holding every row of its courses.
///
/// Where the rows before a position are exactly the rows of the courses ranked below some
/// rank (as many rows as those courses have, none ranked higher), the rows before and
/// after it sort apart: the rows are cut there and each piece is sorted alone. A file that
/// keeps each course's rows together, whatever the order of the courses within a patient,
/// is cut at most course ends and sorts in linear time; a shuffled one is one piece, sorted
/// whole. Rows of one course and day keep their input order (file, line): the same order as
/// a stable sort by key, without its scratch memory. One walk ranks, cuts and sorts, and
/// `piece` reads each piece while it is at hand.
fn order_rows(rows: &mut [Row], rank: &[u32], rows_of: &[u64], mut piece: impl FnMut(&[Row])) {
    let ranked = |row: &mut Row| {
        let c = (row.key >> 32) as usize;
        row.key = (u64::from(rank[c]) << 32) | (row.key & 0xffff_ffff);
    };
    let key = |r: &Row| (r.key, r.file, r.line);
    // below[r]: the rows of the courses ranked below r.
    let mut below = Vec::with_capacity(rows_of.len() + 1);
    let mut total = 0u64;
    below.push(0);
    for &n in rows_of {
        total += n;
        below.push(total);
    }
    if total != rows.len() as u64 {
        // Not expected: the counts are kept as the rows are; sort whole rather than cut wrong.
        rows.iter_mut().for_each(ranked);
        rows.sort_unstable_by_key(key);
        if !rows.is_empty() {
            piece(rows);
        }
        return;
    }
    let mut start = 0;
    let mut highest = 0usize;
    for i in 0..rows.len() {
        ranked(&mut rows[i]);
        highest = highest.max((rows[i].key >> 32) as usize);
        if below.get(highest + 1) == Some(&(i as u64 + 1)) {
            let cut = &mut rows[start..=i];
            if !cut.is_sorted_by_key(key) {
                cut.sort_unstable_by_key(key);
            }
            piece(cut);
            start = i + 1;
        }
    }
    // (Nothing is left when the counts are right: the last row ends the last piece.)
    let rest = &mut rows[start..];
    if !rest.is_empty() {
        rest.sort_unstable_by_key(key);
        piece(rest);
    }
}

/// `a == b`, for the short texts compared on every row (with the patient_id and condition of
/// the row before, the last instrument, sex and injectate), without a call to `memcmp` each
/// time: 4 to 16 bytes are compared as two words that overlap, covering every byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| <[u8; 8]>::try_from(&s[i..i + 8]).map_or(0, u64::from_le_bytes);
    let half = |s: &[u8], i: usize| <[u8; 4]>::try_from(&s[i..i + 4]).map_or(0, u32::from_le_bytes);
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

/// A day: a whole number (fast path for plain digits).
fn parse_day(text: &str) -> Option<i64> {
    if !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    schema::parse_whole(text)
}

/// A value as findings show it: at most 80 characters, with the full length said.
fn shorten(v: &str) -> String {
    const SHOWN: usize = 80;
    match v.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}… ({} bytes)", &v[..cut], v.len()),
        None => v.to_string(),
    }
}

/// Sex as written, with F/M in upper case.
fn normalise_sex(s: &str) -> String {
    match s.to_ascii_lowercase().as_str() {
        "f" | "female" => "F".into(),
        "m" | "male" => "M".into(),
        "other" => "other".into(),
        "unknown" | "u" => "unknown".into(),
        _ => s.to_string(),
    }
}

/// Days since 0000-03-01 of a `YYYY-MM-DD` date (only differences matter).
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    // Digits only: `i64::from_str` would take a sign ("2024-+1-05", "-001-01-01").
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return None;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = (num(&text[0..4])?, num(&text[5..7])?, num(&text[8..10])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil, shifted to start at year 0.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parts_rows_are_appended_in_order_with_their_courses_renumbered() {
        let row = |course: u64, day: u64, line: u32| Row {
            key: (course << 32) | day,
            pain: f64::from(line) / 2.0,
            function: f64::NAN,
            line,
            file: 1,
            instrument: NO_INSTRUMENT,
            flags: INJECTION,
        };
        let part: Vec<Row> = (0..23).map(|i| row(i % 4, i, i as u32 + 2)).collect();
        let courses = [7, 3, 9, 0];
        for block in [1, 3, 5, 22, 23, 24, BLOCK] {
            let mut to = vec![row(1, 0, 1), row(2, 5, 3)];
            append_renumbered(&mut to, part.clone(), &courses, block);
            assert_eq!(to.len(), 25);
            assert_eq!((to[0].key, to[1].key), (1 << 32, (2 << 32) | 5));
            for (got, was) in to[2..].iter().zip(&part) {
                let course = u64::from(courses[(was.key >> 32) as usize]);
                assert_eq!(got.key, (course << 32) | (was.key & 0xffff_ffff), "{block}");
                assert_eq!(
                    (got.line, got.pain, got.flags),
                    (was.line, was.pain, was.flags)
                );
            }
        }
        let mut to = Vec::new();
        append_renumbered(&mut to, Vec::new(), &courses, 4);
        assert!(to.is_empty());
    }

    #[test]
    fn fx_hashes_the_last_bytes_as_if_padded_with_zeros() {
        for text in [
            "",
            "a",
            "knee_oa",
            "P0000001",
            "P0000001\0knee",
            "dextrose 12.5%",
        ] {
            let mut padded = Fx::default();
            for chunk in text.as_bytes().chunks(8) {
                let mut w = [0u8; 8];
                w[..chunk.len()].copy_from_slice(chunk);
                padded.add(u64::from_le_bytes(w));
            }
            assert_eq!(fx_hash(text.as_bytes()), padded.finish(), "{text}");
        }
    }

    #[test]
    fn dates_count_days() {
        assert_eq!(
            parse_date("2024-03-01").unwrap() - parse_date("2024-02-28").unwrap(),
            2
        );
        assert_eq!(
            parse_date("2023-03-01").unwrap() - parse_date("2023-02-28").unwrap(),
            1
        );
        assert_eq!(
            parse_date("2001-01-01").unwrap() - parse_date("2000-01-01").unwrap(),
            366
        );
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2023-13-01").is_none());
        assert!(parse_date("23-1-1").is_none());
        for signed in [
            "2024-+1-05",
            "2024-01-+5",
            "+024-01-05",
            "-001-01-01",
            "2024-1 -05",
        ] {
            assert!(parse_date(signed).is_none(), "{signed}");
        }
        assert!(parse_date("0000-01-01").unwrap() >= -60);
    }

    use proptest::prelude::*;

    fn row(course: u32, day: u32, line: u32) -> Row {
        Row {
            key: (u64::from(course) << 32) | u64::from(day),
            pain: 0.0,
            function: 0.0,
            line,
            file: (line % 2) as u16,
            instrument: NO_INSTRUMENT,
            flags: 0,
        }
    }

    proptest! {
        // As `==` for texts of every length around the words' sizes, equal or differing in
        // one byte anywhere.
        #[test]
        fn same_is_equality(
            a in prop::collection::vec(0u8..4, 0..20),
            flip in any::<prop::sample::Index>(),
            shorter in any::<bool>(),
        ) {
            let mut b = a.clone();
            prop_assert!(same(&a, &b));
            if shorter {
                b.pop();
            } else if !b.is_empty() {
                let i = flip.index(b.len());
                b[i] ^= 1;
            }
            prop_assert_eq!(same(&a, &b), a == b);
            prop_assert_eq!(same(&b, &a), a == b);
        }

        // Cut into pieces or not, the rows end ranked and in the order of one sort of the
        // whole, on files that keep courses together (in any order within and between
        // runs), files with rows moved out of place, and shuffled files; the pieces handed
        // over are those rows in order, none empty, no course in two.
        #[test]
        fn rows_sort_in_pieces_as_whole(
            days in prop::collection::vec(prop::collection::vec(0u32..5, 1..6), 1..40),
            moves in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..4),
            shuffle in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let mut rows = Vec::new();
            for (c, ds) in days.iter().enumerate() {
                for &d in ds {
                    rows.push(row(c as u32, d, rows.len() as u32));
                }
            }
            // Courses ranked in a scrambled order (or as read), their rows kept together.
            let n = days.len() as u64;
            let coprime = !n.is_multiple_of(7);
            let rank: Vec<u32> = (0..n)
                .map(|c| if coprime { ((c * 7 + seed % n) % n) as u32 } else { c as u32 })
                .collect();
            let mut counts = vec![0u64; days.len()];
            for (c, ds) in days.iter().enumerate() {
                counts[rank[c] as usize] += ds.len() as u64;
            }
            for (a, b) in moves {
                let (a, b) = (a.index(rows.len()), b.index(rows.len()));
                let r = rows.remove(a);
                rows.insert(b, r);
            }
            if shuffle {
                rows.reverse();
            }
            let mut whole = rows.clone();
            for r in &mut whole {
                r.key = (u64::from(rank[(r.key >> 32) as usize]) << 32) | (r.key & 0xffff_ffff);
            }
            whole.sort_unstable_by_key(|r| (r.key, r.file, r.line));
            let key = |r: &Row| (r.key, r.file, r.line);
            let mut pieces: Vec<Vec<(u64, u16, u32)>> = Vec::new();
            order_rows(&mut rows, &rank, &counts, |p| pieces.push(p.iter().map(key).collect()));
            prop_assert_eq!(rows.iter().map(key).collect::<Vec<_>>(), whole.iter().map(key).collect::<Vec<_>>());
            prop_assert_eq!(pieces.concat(), whole.iter().map(key).collect::<Vec<_>>());
            prop_assert!(pieces.iter().all(|p| !p.is_empty()));
            for w in pieces.windows(2) {
                prop_assert!(w[0].last().map(|k| k.0 >> 32) != w[1].first().map(|k| k.0 >> 32));
            }
        }

        #[test]
        fn course_keys_number_as_a_map_does(
            mut keys in prop::collection::vec((0u8..6, 0u8..20, any::<bool>()), 0..80),
            by_patient in any::<bool>(),
        ) {
            if by_patient {
                // As most files: patient by patient, in patient_id order.
                keys.sort_by_key(|k| k.0);
            }
            // Patients "", "P", "P\0", "PP" (one a prefix of another; one holds a 0 byte),
            // and two whose bytes end like a condition id ("P\0\0\0\0" is "P" and condition
            // 0 written out with a 0 byte between; "P\x01\0\0\0" is "P" and condition 1), up
            // to 20 conditions each (more than a patient's scan), with and without one. The
            // numbers must be those of a map by (patient_id, condition), not by key bytes:
            // equal keys for different courses were once possible.
            let pids: [&[u8]; 6] = [b"", b"P", b"P\0", b"PP", b"P\0\0\0\0", b"P\x01\0\0\0"];
            let mut ck = CourseKeys::with_capacity(4);
            let mut map: std::collections::HashMap<(&[u8], Option<u8>), u32> = Default::default();
            let mut key = Vec::new();
            for (p, c, has) in keys {
                let pid = pids[usize::from(p) % pids.len()];
                course_key(&mut key, pid, if has { u32::from(c) } else { u32::MAX });
                let n = map.len() as u32;
                let expected = match map.get(&(pid, has.then_some(c))) {
                    Some(&id) => (id, false),
                    None => {
                        map.insert((pid, has.then_some(c)), n);
                        (n, true)
                    }
                };
                prop_assert_eq!(ck.get_or_insert(&key, pid.len()), expected);
                prop_assert_eq!(ck.key(expected.0), key.as_slice());
            }
        }

        fn courses_sort_per_patient_as_whole(
            keys in prop::collection::btree_set((0u8..6, 0u32..4), 1..20),
            moves in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..3),
        ) {
            let pids: Vec<Vec<u8>> = (0..6u8).map(|p| vec![b'P', p]).collect();
            let mut order: Vec<(&[u8], u32, u32)> = keys
                .iter()
                .enumerate()
                .map(|(id, &(p, c))| (pids[usize::from(p)].as_slice(), 3 - c, id as u32))
                .collect();
            for (a, b) in moves {
                let (a, b) = (a.index(order.len()), b.index(order.len()));
                let c = order.remove(a);
                order.insert(b, c);
            }
            let mut whole = order.clone();
            whole.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            sort_courses(&mut order);
            prop_assert_eq!(order, whole);
        }
    }
}
