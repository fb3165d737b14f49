//! Records to typed, validated courses plus the list of findings; collects every problem,
//! never stops at the first.

use std::collections::HashMap;

use polars::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::error::Result;
use crate::ingest::{Dataset, FILE_COL, ROW_COL};
use crate::schema::{self, col, FIELDS};

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
    /// Line as a spreadsheet shows it (header = 1); None for file-level findings.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub expected: String,
    /// What the problem costs: row excluded, course excluded, value dropped, …
    pub cost: String,
    #[serde(skip)]
    file_index: usize,
    #[serde(skip)]
    record: u32,
}

/// Where a function score or pain score is missing.
pub const MISSING: f64 = f64::NAN;

/// The valid courses, rows sorted by course then day, as plain columns.
#[derive(Debug, Default)]
pub struct Records {
    pub day: Vec<i64>,
    pub injection: Vec<bool>,
    /// Pain, NaN where missing or dropped.
    pub pain: Vec<f64>,
    /// Function, NaN where missing or dropped.
    pub function: Vec<f64>,
    /// Index into `Settings::instruments`, meaningful where `function` is a number.
    pub instrument: Vec<u16>,
    pub adverse: Vec<bool>,
}

/// One valid course: its rows are `start..end` of [`Records`].
#[derive(Debug, Clone)]
pub struct Course {
    pub condition: u32,
    pub start: usize,
    pub end: usize,
    pub age: Option<f64>,
    pub sex: Option<String>,
    pub injectate: Option<String>,
    /// (input index, record index) of the course's first row, to locate findings.
    pub first: (u32, u32),
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
    pub courses: Vec<Course>,
    pub records: Records,
    pub excluded: Vec<(ExclusionKey, Excluded)>,
    pub findings: Vec<Finding>,
    /// Inputs whose `day` came from `date` (values shown as withheld).
    pub dated: Vec<bool>,
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
}

/// One parsed input row, before course rules.
struct Row {
    course: u32,
    day: Option<i64>,
    injection: Option<bool>,
    file: u32,
    record: u32,
}

/// Validates the data set: SPEC's rules in SPEC's order.
pub fn validate(data: &Dataset, settings: &Settings) -> Result<Validated> {
    let frame = &data.frame;
    let text =
        |field: usize| -> Result<&StringChunked> { Ok(frame.column(FIELDS[field].name)?.str()?) };
    let cols: Vec<&StringChunked> = (0..FIELDS.len()).map(text).collect::<Result<_>>()?;
    let files = frame.column(FILE_COL)?.u32()?;
    let rows = frame.column(ROW_COL)?.u32()?;
    let get = |field: usize, i: usize| cols[field].get(i).map(str::trim).filter(|s| !s.is_empty());
    let dated: Vec<bool> = (0..data.inputs.len())
        .map(|i| data.dated.contains(&i))
        .collect();

    let mut out = Validated {
        records_per_input: vec![0; data.inputs.len()],
        dated: dated.clone(),
        ..Validated::default()
    };
    let push = |out: &mut Validated,
                reason,
                file: u32,
                record: u32,
                column: Option<usize>,
                value: Option<&str>,
                expected: String,
                cost: String| {
        let file_index = file as usize;
        let withheld = column == Some(col::DAY) && dated[file_index];
        out.findings.push(Finding {
            severity: Severity::Error,
            reason,
            file: data.inputs[file_index].path.clone(),
            line: None,
            column: column.map(|c| {
                if withheld {
                    "date".to_string()
                } else {
                    source_column(settings, c)
                }
            }),
            value: value.map(|v| {
                if withheld {
                    "(date withheld)".to_string()
                } else {
                    shorten(v)
                }
            }),
            expected,
            cost,
            file_index,
            record,
        });
    };

    // File-level findings: identifier columns and date columns.
    for id in &data.identifiers {
        out.findings.push(Finding {
            severity: Severity::Error,
            reason: Reason::Identifier,
            file: data.inputs[id.file].path.clone(),
            line: Some(1),
            column: Some(id.column.clone()),
            value: None,
            expected: format!(
                "de-identified data: {}; drop the column or pass --exclude-columns {:?}",
                id.why, id.column
            ),
            cost: "the run stops (analyze refuses identifiable input)".into(),
            file_index: id.file,
            record: 0,
        });
    }
    for &f in &data.dated {
        out.findings.push(Finding {
            severity: Severity::Warning,
            reason: Reason::DateColumn,
            file: data.inputs[f].path.clone(),
            line: Some(1),
            column: Some("date".into()),
            value: None,
            expected: "days since the course's first encounter (day); dates are identifiers under HIPAA Safe Harbor. Converted to day on read; no date is written to any output".into(),
            cost: "none (converted)".into(),
            file_index: f,
            record: 0,
        });
    }

    // Rows: blank lines, then patient_id and condition.
    let mut course_ids: HashMap<(&str, String), u32> = HashMap::new();
    let mut parsed: Vec<Row> = Vec::with_capacity(frame.height());
    let mut source: Vec<usize> = Vec::with_capacity(frame.height());
    let mut patients: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for i in 0..frame.height() {
        if (0..FIELDS.len()).all(|f| get(f, i).is_none()) {
            continue;
        }
        let file = files.get(i).unwrap_or(0);
        let record = rows.get(i).unwrap_or(0);
        out.records_read += 1;
        out.records_per_input[file as usize] += 1;
        let Some(pid) = get(col::PATIENT_ID, i) else {
            push(
                &mut out,
                Reason::NoPatientId,
                file,
                record,
                Some(col::PATIENT_ID),
                Some(""),
                "a patient_id".into(),
                "row excluded".into(),
            );
            continue;
        };
        patients.insert(pid);
        let condition = schema::normalise_condition(get(col::CONDITION, i).unwrap_or(""));
        if condition.is_empty() {
            push(
                &mut out,
                Reason::NoCondition,
                file,
                record,
                Some(col::CONDITION),
                Some(""),
                "a condition".into(),
                "row excluded".into(),
            );
            continue;
        }
        let next = course_ids.len() as u32;
        let course = *course_ids.entry((pid, condition)).or_insert(next);
        let day_field = if dated[file as usize] {
            col::DATE
        } else {
            col::DAY
        };
        let day = get(day_field, i).and_then(|d| {
            if dated[file as usize] {
                parse_date(d)
            } else {
                schema::parse_whole(d)
            }
        });
        let day = day.filter(|d| (0..=i64::from(i32::MAX)).contains(d));
        let injection = get(col::INJECTION, i).and_then(schema::parse_bool);
        parsed.push(Row {
            course,
            day,
            injection,
            file,
            record,
        });
        source.push(i);
    }
    out.courses_read = course_ids.len() as u64;
    out.patients_read = patients.len() as u64;

    // Courses get ids in (patient_id, condition) order so that no output depends on row order.
    let mut keys: Vec<(&(&str, String), &u32)> = course_ids.iter().collect();
    keys.sort_unstable();
    let mut rank = vec![0u32; keys.len()];
    for (r, (_, id)) in keys.iter().enumerate() {
        rank[**id as usize] = r as u32;
    }
    let mut conditions: Vec<String> = keys.iter().map(|((_, c), _)| c.clone()).collect();
    conditions.sort_unstable();
    conditions.dedup();
    let course_condition: Vec<u32> = keys
        .iter()
        .map(|((_, c), _)| conditions.binary_search(c).unwrap_or(0) as u32)
        .collect();
    for row in &mut parsed {
        row.course = rank[row.course as usize];
    }

    // Sort rows by (course, day); invalid days sort first within their course.
    let mut order: Vec<u32> = (0..parsed.len() as u32).collect();
    order.sort_unstable_by_key(|&r| {
        let row = &parsed[r as usize];
        (row.course, row.day.unwrap_or(-1), r)
    });

    // Courses: invalid day, invalid injection, duplicate encounter (first that hits wins).
    let n_courses = keys.len();
    let mut course_reason: Vec<Option<Reason>> = vec![None; n_courses];
    let mut course_rows = vec![0u64; n_courses];
    for &r in &order {
        let row = &parsed[r as usize];
        course_rows[row.course as usize] += 1;
    }
    for reason in [
        Reason::InvalidDay,
        Reason::InvalidInjection,
        Reason::DuplicateEncounter,
    ] {
        let mut prev: Option<(u32, i64)> = None;
        for &r in &order {
            let row = &parsed[r as usize];
            let c = row.course as usize;
            let hit = match reason {
                Reason::InvalidDay => row.day.is_none(),
                Reason::InvalidInjection => row.injection.is_none(),
                _ => row.day.is_some() && prev == Some((row.course, row.day.unwrap_or(-1))),
            };
            prev = row.day.map(|d| (row.course, d));
            if !hit || course_reason[c].is_some_and(|x| x != reason) {
                continue;
            }
            course_reason[c] = Some(reason);
            let i = source[r as usize];
            let cost = format!("course excluded ({} records)", course_rows[c]);
            let (column, expected) = match reason {
                Reason::InvalidDay if dated[row.file as usize] => {
                    (col::DAY, "a date YYYY-MM-DD".to_string())
                }
                Reason::InvalidDay => (
                    col::DAY,
                    "a whole number of days >= 0 (3.0 is read as 3)".to_string(),
                ),
                Reason::InvalidInjection => (
                    col::INJECTION,
                    "a boolean: 1/0, true/false, t/f, yes/no, y/n".to_string(),
                ),
                _ => (col::DAY, "one encounter per course and day".to_string()),
            };
            let field = if column == col::DAY && dated[row.file as usize] {
                col::DATE
            } else {
                column
            };
            push(
                &mut out,
                reason,
                row.file,
                row.record,
                Some(column),
                Some(cols[field].get(i).unwrap_or("")),
                expected,
                cost,
            );
        }
    }
    for reason in [
        Reason::InvalidDay,
        Reason::InvalidInjection,
        Reason::DuplicateEncounter,
    ] {
        let mut e = Excluded::default();
        for c in 0..n_courses {
            if course_reason[c] == Some(reason) {
                e.courses += 1;
                e.records += course_rows[c];
            }
        }
        if e.courses > 0 {
            out.excluded.push((
                ExclusionKey {
                    reason,
                    outcome: 0,
                    instrument: 0,
                },
                e,
            ));
        }
    }
    let mut rows_excluded = [0u64; 2];
    for f in &out.findings {
        match f.reason {
            Reason::NoPatientId => rows_excluded[0] += 1,
            Reason::NoCondition => rows_excluded[1] += 1,
            _ => {}
        }
    }
    for (k, reason) in [Reason::NoPatientId, Reason::NoCondition]
        .into_iter()
        .enumerate()
    {
        if rows_excluded[k] > 0 {
            out.excluded.push((
                ExclusionKey {
                    reason,
                    outcome: 0,
                    instrument: 0,
                },
                Excluded {
                    records: rows_excluded[k],
                    courses: 0,
                },
            ));
        }
    }

    // Values on the rows of valid courses.
    let mut dropped: HashMap<ExclusionKey, (u64, Vec<u32>)> = HashMap::new();
    let mut course_of_valid: Vec<Option<u32>> = vec![None; n_courses];
    let pain_range = (settings.pain.min, settings.pain.max);
    let pain_name = settings.pain.name.clone();
    for &r in &order {
        let row = &parsed[r as usize];
        let c = row.course as usize;
        if course_reason[c].is_some() {
            continue;
        }
        let i = source[r as usize];
        let vid = match course_of_valid[c] {
            Some(v) => v,
            None => {
                let v = out.courses.len() as u32;
                course_of_valid[c] = Some(v);
                let start = out.records.day.len();
                out.courses.push(Course {
                    condition: course_condition[c],
                    start,
                    end: start,
                    age: None,
                    sex: None,
                    injectate: None,
                    first: (row.file, row.record),
                });
                v
            }
        };
        let mut drop = |out: &mut Validated,
                        reason: Reason,
                        outcome: u8,
                        field: usize,
                        value: &str,
                        expected: String| {
            let e = dropped
                .entry(ExclusionKey {
                    reason,
                    outcome,
                    instrument: 0,
                })
                .or_default();
            e.0 += 1;
            e.1.push(vid);
            push(
                out,
                reason,
                row.file,
                row.record,
                Some(field),
                Some(value),
                expected,
                "value dropped".into(),
            );
        };
        let mut pain = MISSING;
        if let Some(v) = get(col::PAIN, i) {
            match schema::parse_number(v).filter(|p| (pain_range.0..=pain_range.1).contains(p)) {
                Some(p) => pain = p,
                None => drop(
                    &mut out,
                    Reason::InvalidPain,
                    1,
                    col::PAIN,
                    v,
                    format!(
                        "a pain score from {} to {} ({pain_name})",
                        pain_range.0, pain_range.1
                    ),
                ),
            }
        }
        let mut function = MISSING;
        let mut instrument = u16::MAX;
        if let Some(v) = get(col::FUNCTION, i) {
            let name = get(col::FUNCTION_INSTRUMENT, i);
            match (
                schema::parse_number(v),
                name.and_then(|n| settings.instrument(n)),
            ) {
                (None, _) => drop(
                    &mut out,
                    Reason::InvalidFunction,
                    2,
                    col::FUNCTION,
                    v,
                    "a number".into(),
                ),
                (Some(_), None) => {
                    let shown = name.unwrap_or("");
                    drop(&mut out, Reason::UnknownInstrument, 2, col::FUNCTION_INSTRUMENT, shown, format!("an instrument of the instruments table ({}) or one added in the config file", settings.instrument_names()));
                }
                (Some(x), Some((k, ins))) if !(ins.min..=ins.max).contains(&x) => {
                    drop(
                        &mut out,
                        Reason::InvalidFunction,
                        2,
                        col::FUNCTION,
                        v,
                        format!("a score from {} to {} on {}", ins.min, ins.max, ins.name),
                    );
                    let _ = k;
                }
                (Some(x), Some((k, _))) => {
                    function = x;
                    instrument = k as u16;
                }
            }
        }
        let course = &mut out.courses[vid as usize];
        if let Some(v) = get(col::AGE, i) {
            match schema::parse_whole(v).filter(|a| *a >= 0) {
                Some(a) if a > schema::MAX_AGE => drop(
                    &mut out,
                    Reason::AgeAbove90,
                    0,
                    col::AGE,
                    v,
                    "an age of at most 90 (ages above 89 are given as 90 under HIPAA Safe Harbor)"
                        .into(),
                ),
                Some(a) => {
                    course.age.get_or_insert(a as f64);
                }
                None => drop(
                    &mut out,
                    Reason::InvalidAge,
                    0,
                    col::AGE,
                    v,
                    "a whole number of years".into(),
                ),
            }
        }
        let course = &mut out.courses[vid as usize];
        if course.sex.is_none() {
            course.sex = get(col::SEX, i).map(normalise_sex);
        }
        if course.injectate.is_none() {
            course.injectate = get(col::INJECTATE, i).map(str::to_string);
        }
        course.end += 1;
        let rec = &mut out.records;
        rec.day.push(row.day.unwrap_or(0));
        rec.injection.push(row.injection.unwrap_or(false));
        rec.pain.push(pain);
        rec.function.push(function);
        rec.instrument.push(instrument);
        rec.adverse
            .push(get(col::ADVERSE_EVENT, i).is_some_and(schema::is_adverse_event));
    }
    let mut dropped: Vec<_> = dropped.into_iter().collect();
    dropped.sort_by_key(|(k, _)| *k);
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
    out.conditions = conditions;
    locate(&mut out, data);
    Ok(out)
}

impl Validated {
    /// Adds a warning finding for each course left out of an outcome's analysis
    /// (`no baseline`, `no follow-up`), located at the course's first row.
    pub fn add_outcome_findings(&mut self, data: &Dataset, found: &[(u32, Reason, String)]) {
        for (course, reason, outcome) in found {
            let c = &self.courses[*course as usize];
            let (file, record) = c.first;
            let what = match reason {
                Reason::NoBaseline => "a score before the first injection (or on its day)",
                _ => "a score after at least one injection",
            };
            self.findings.push(Finding {
                severity: reason.severity(),
                reason: *reason,
                file: data.inputs[file as usize].path.clone(),
                line: None,
                column: None,
                value: None,
                expected: format!("{what} for {outcome}"),
                cost: format!(
                    "course left out of the {outcome} analysis ({} records)",
                    c.end - c.start
                ),
                file_index: file as usize,
                record,
            });
        }
        locate(self, data);
    }
}

/// The input column name of canonical `field` (the config file may map it).
fn source_column(settings: &Settings, field: usize) -> String {
    let name = FIELDS[field].name;
    settings
        .columns
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_string())
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

/// Fills in the line numbers of row findings and puts findings in file, line order.
fn locate(out: &mut Validated, data: &Dataset) {
    for (file, input) in data.inputs.iter().enumerate() {
        let mut idx: Vec<usize> = (0..out.findings.len())
            .filter(|&k| out.findings[k].file_index == file && out.findings[k].line.is_none())
            .collect();
        idx.sort_by_key(|&k| out.findings[k].record);
        let records: Vec<u32> = idx.iter().map(|&k| out.findings[k].record).collect();
        for (k, line) in idx.into_iter().zip(input.lines_of(&records)) {
            out.findings[k].line = Some(line);
        }
    }
    out.findings
        .sort_by_key(|f| (f.severity, f.file_index, f.line, f.reason));
}

/// Days since 0000-03-01 of a `YYYY-MM-DD` date (only differences matter).
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
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
        assert!(parse_date("0000-01-01").unwrap() >= -60);
    }
}
