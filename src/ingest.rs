//! Files to one polars frame in the canonical schema; every error carries its file and line.
//!
//! Every input column is read as text so that `validate` sees exactly what the file holds.
//! CSV (comma, semicolon or tab, detected), gzip-compressed CSV and Parquet are read;
//! `-` is standard input. Header names are matched case-insensitively; the config file
//! can map other names onto the record fields.

use std::io::{Cursor, Read};
use std::sync::Arc;

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::schema::{self, col, FIELDS};

/// Name of the frame column holding the input file's index.
pub const FILE_COL: &str = "__file";
/// Name of the frame column holding the record's 0-based index within its file.
pub const ROW_COL: &str = "__row";
/// Values sampled per column by the identifier guard.
const GUARD_SAMPLE: usize = 1000;

/// The format an input was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Parquet,
}

/// One input file as read.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as given (`-` for standard input).
    pub path: String,
    /// SHA-256 of the bytes as given (before decompression).
    pub sha256: String,
    pub format: Format,
    /// The column names of the file, as written.
    pub header: Vec<String>,
    /// The decompressed CSV text, kept to turn record indices into line numbers.
    text: Option<Arc<Vec<u8>>>,
}

impl Input {
    /// Line numbers (as a spreadsheet shows them: header = 1) of the 0-based `records`,
    /// which must be sorted. For Parquet, the record number plus one (the header's place).
    pub fn lines_of(&self, records: &[u32]) -> Vec<u64> {
        match &self.text {
            Some(text) => record_lines(text, records),
            None => records.iter().map(|r| u64::from(*r) + 2).collect(),
        }
    }
}

/// A column that looks like a direct identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierColumn {
    pub file: usize,
    pub column: String,
    pub why: String,
}

/// Everything read from the inputs.
pub struct Dataset {
    /// Canonical text columns (every field of [`FIELDS`]), plus [`FILE_COL`] and [`ROW_COL`].
    pub frame: DataFrame,
    pub inputs: Vec<Input>,
    /// Columns the identifier guard stopped on.
    pub identifiers: Vec<IdentifierColumn>,
    /// Inputs (by index) that carried `date` instead of `day`.
    pub dated: Vec<usize>,
}

/// Reads every path as one data set.
pub fn read(paths: &[String], settings: &Settings) -> Result<Dataset> {
    let mut frames = Vec::with_capacity(paths.len());
    let mut inputs = Vec::with_capacity(paths.len());
    let mut identifiers = Vec::new();
    let mut dated = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let raw = read_bytes(path)?;
        let sha256 = hex(&Sha256::digest(&raw));
        let file = File {
            index,
            path,
            settings,
        };
        let (frame, input, ids) = if raw.starts_with(b"PAR1") {
            file.parquet(raw, sha256)?
        } else {
            let text = decompress(path, raw)?;
            file.csv(text, sha256)?
        };
        if frame.column(FIELDS[col::DAY].name)?.null_count() == frame.height()
            && input.has(settings, col::DATE)
            && !input.has(settings, col::DAY)
        {
            dated.push(index);
        }
        identifiers.extend(ids);
        frames.push(frame);
        inputs.push(input);
    }
    let mut frame = frames.remove(0);
    for f in &frames {
        frame.vstack_mut(f)?;
    }
    frame.rechunk_mut();
    Ok(Dataset {
        frame,
        inputs,
        identifiers,
        dated,
    })
}

impl Input {
    fn has(&self, settings: &Settings, field: usize) -> bool {
        let wanted = source_name(settings, field);
        self.header
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case(&wanted))
    }
}

/// The input column name that holds canonical `field`.
fn source_name(settings: &Settings, field: usize) -> String {
    let name = FIELDS[field].name;
    settings
        .columns
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn read_bytes(path: &str) -> Result<Vec<u8>> {
    let mut raw = Vec::new();
    if path == "-" {
        std::io::stdin()
            .lock()
            .read_to_end(&mut raw)
            .map_err(|e| Error::io("<stdin>", e))?;
    } else {
        raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(raw)
}

fn decompress(path: &str, raw: Vec<u8>) -> Result<Vec<u8>> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::InvalidData(format!(
                "{path}: the gzip stream is damaged or truncated after {} bytes of text ({e}); expected a complete .gz file",
                out.len()
            ))
        })?;
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct File<'a> {
    index: usize,
    path: &'a str,
    settings: &'a Settings,
}

type Read3 = (DataFrame, Input, Vec<IdentifierColumn>);

impl File<'_> {
    fn bad(&self, what: String) -> Error {
        Error::InvalidData(format!("{}: {what}", self.path))
    }

    fn csv(&self, mut text: Vec<u8>, sha256: String) -> Result<Read3> {
        if let Err(e) = std::str::from_utf8(&text) {
            let at = e.valid_up_to();
            let line = 1 + text[..at].iter().filter(|b| **b == b'\n').count();
            return Err(self.bad(format!(
                "line {line}: byte {at} is not UTF-8; expected a UTF-8 text file (re-export it as UTF-8 CSV)"
            )));
        }
        if text.starts_with(b"\xEF\xBB\xBF") {
            text.drain(..3);
        }
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(self.bad(
                "the file is empty; expected a header line and one row per encounter".into(),
            ));
        }
        if let Some(line) = unclosed_quote(&text) {
            return Err(self.bad(format!(
                "line {line}: a quoted field opens here and is never closed; expected a closing \" (a quote inside a field is written \"\")"
            )));
        }
        let separator = detect_separator(&text);
        let header = read_header(&text, separator).map_err(|e| self.bad(e))?;
        let plan = self.plan(&header)?;
        let text = Arc::new(text);
        let ids = self.guard_csv(&text, separator, &header);
        let columns: Arc<[PlSmallStr]> = plan
            .iter()
            .map(|(_, src)| PlSmallStr::from(src.as_str()))
            .collect();
        let frame = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_columns(Some(columns))
            .with_raise_if_empty(false)
            .with_row_index(Some(RowIndex {
                name: ROW_COL.into(),
                offset: 0,
            }))
            .map_parse_options(|o| o.with_separator(separator).with_missing_is_null(true))
            .into_reader_with_file_handle(Cursor::new(text.as_slice()))
            .finish()
            .map_err(|e| self.bad(format!("cannot be read as CSV: {e}")))?;
        let input = Input {
            path: self.path.to_string(),
            sha256,
            format: Format::Csv,
            header,
            text: Some(text),
        };
        Ok((self.canonical(frame, &plan)?, input, ids))
    }

    fn parquet(&self, raw: Vec<u8>, sha256: String) -> Result<Read3> {
        let frame = ParquetReader::new(Cursor::new(raw))
            .finish()
            .map_err(|e| self.bad(format!("cannot be read as Parquet: {e}")))?;
        let header: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let plan = self.plan(&header)?;
        let mut sample = Vec::new();
        for name in &header {
            let c = frame
                .column(name)?
                .head(Some(GUARD_SAMPLE))
                .cast(&DataType::String)?;
            let ca = c.str()?;
            let values: Vec<String> = (0..ca.len())
                .filter_map(|i| ca.get(i))
                .map(str::to_string)
                .collect();
            sample.push(values);
        }
        let ids = self.guard(&header, &sample);
        let mut frame = frame
            .select(plan.iter().map(|(_, src)| PlSmallStr::from(src.as_str())))?
            .with_row_index(ROW_COL.into(), None)?;
        for (_, src) in &plan {
            let c = frame.column(src)?.cast(&DataType::String)?;
            frame.with_column(c)?;
        }
        let input = Input {
            path: self.path.to_string(),
            sha256,
            format: Format::Parquet,
            header,
            text: None,
        };
        Ok((self.canonical(frame, &plan)?, input, ids))
    }

    /// Which input column feeds which field; fails on duplicate or missing required columns.
    fn plan(&self, header: &[String]) -> Result<Vec<(usize, String)>> {
        let lower: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, h) in lower.iter().enumerate() {
            if let Some(&j) = seen.get(h.as_str()) {
                return Err(self.bad(format!(
                    "line 1: columns {} and {} are both named {:?}; expected each column name once",
                    j + 1,
                    i + 1,
                    header[i]
                )));
            }
            seen.insert(h, i);
        }
        let excluded = &self.settings.exclude_columns;
        let mut plan = Vec::new();
        for field in 0..FIELDS.len() {
            let wanted = source_name(self.settings, field).to_lowercase();
            if excluded.contains(&wanted) {
                continue;
            }
            if let Some(i) = lower.iter().position(|h| *h == wanted) {
                plan.push((field, header[i].clone()));
            }
        }
        let has = |f: usize| plan.iter().any(|(g, _)| *g == f);
        let mut missing = Vec::new();
        for f in [col::PATIENT_ID, col::CONDITION, col::INJECTION] {
            if !has(f) {
                missing.push(FIELDS[f].name.to_string());
            }
        }
        if !has(col::DAY) && !has(col::DATE) {
            missing.push("day (or date)".into());
        }
        if !has(col::PAIN) && !has(col::FUNCTION) {
            missing.push("pain or function".into());
        }
        if !missing.is_empty() {
            return Err(self.bad(format!(
                "line 1: required column(s) missing: {}; found {}. Rename the columns or map them in a config file ([columns] in prolo.toml)",
                missing.join(", "),
                if header.is_empty() { "no columns".to_string() } else { header.join(", ") }
            )));
        }
        Ok(plan)
    }

    /// Renames the planned columns to their field names and adds the absent fields as nulls.
    fn canonical(&self, frame: DataFrame, plan: &[(usize, String)]) -> Result<DataFrame> {
        let height = frame.height();
        let mut columns: Vec<Column> = Vec::with_capacity(FIELDS.len() + 2);
        for (field, spec) in FIELDS.iter().enumerate() {
            let c = match plan.iter().find(|(f, _)| *f == field) {
                Some((_, src)) => frame.column(src)?.clone().with_name(spec.name.into()),
                None => Column::full_null(spec.name.into(), height, &DataType::String),
            };
            columns.push(c);
        }
        columns.push(Column::new(
            FILE_COL.into(),
            vec![self.index as u32; height],
        ));
        let row = frame.column(ROW_COL)?.cast(&DataType::UInt32)?;
        columns.push(row);
        Ok(DataFrame::new(height, columns)?)
    }

    fn guard_csv(&self, text: &[u8], separator: u8, header: &[String]) -> Vec<IdentifierColumn> {
        let mut sample = vec![Vec::new(); header.len()];
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(separator)
            .flexible(true)
            .from_reader(text);
        for record in reader.records().take(GUARD_SAMPLE).flatten() {
            for (i, v) in record.iter().enumerate().take(header.len()) {
                if !v.trim().is_empty() {
                    sample[i].push(v.to_string());
                }
            }
        }
        self.guard(header, &sample)
    }

    /// The identifier guard: by column name and by value shape.
    fn guard(&self, header: &[String], sample: &[Vec<String>]) -> Vec<IdentifierColumn> {
        let mapped: Vec<String> = (0..FIELDS.len())
            .map(|f| source_name(self.settings, f).to_lowercase())
            .collect();
        let mut hits = Vec::new();
        for (name, values) in header.iter().zip(sample) {
            let lower = name.trim().to_lowercase();
            if self.settings.exclude_columns.contains(&lower) {
                continue;
            }
            let why = if mapped.contains(&lower) {
                None
            } else {
                identifier_by_name(&lower)
            };
            let why = why.or_else(|| identifier_by_value(values)).or_else(|| {
                // The date field is converted to days and never written; other dates are identifiers.
                let is_date_field = lower == source_name(self.settings, col::DATE).to_lowercase();
                (!is_date_field).then(|| dates_in(values)).flatten()
            });
            if let Some(why) = why {
                hits.push(IdentifierColumn {
                    file: self.index,
                    column: name.clone(),
                    why,
                });
            }
        }
        hits
    }
}

/// Why a column name says it holds a direct identifier, if it does.
pub fn identifier_by_name(name: &str) -> Option<String> {
    let squashed: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    const EXACT: [&str; 14] = [
        "name", "ip", "mrn", "dob", "zip", "fax", "url", "city", "mobile", "cell", "birthday",
        "initials", "medicaid", "medicare",
    ];
    let hit = schema::IDENTIFIER_NAMES
        .iter()
        .find(|frag| frag.len() >= 5 && squashed.contains(*frag))
        .map(|s| s.to_string())
        .or_else(|| {
            words
                .iter()
                .find(|w| {
                    EXACT
                        .iter()
                        .chain(schema::IDENTIFIER_NAMES.iter())
                        .any(|e| e.eq_ignore_ascii_case(w))
                })
                .map(|w| w.to_lowercase())
        })?;
    Some(format!(
        "its name says it holds a direct identifier ({hit})"
    ))
}

/// Why sampled values look like direct identifiers (e-mail, US SSN, phone), if they do.
pub fn identifier_by_value(values: &[String]) -> Option<String> {
    type Shape = (&'static str, fn(&str) -> bool);
    let kinds: [Shape; 3] = [
        ("e-mail addresses", is_email),
        ("US SSNs", is_ssn),
        ("phone numbers", is_phone),
    ];
    for (what, test) in kinds {
        let n = values.iter().filter(|v| test(v.trim())).count();
        if n > 0 {
            return Some(format!(
                "{n} of its first {} values look like {what}",
                values.len()
            ));
        }
    }
    None
}

/// Why sampled values look like full dates (day, month and year: HIPAA date elements), if they do.
pub fn dates_in(values: &[String]) -> Option<String> {
    let n = values.iter().filter(|v| is_full_date(v.trim())).count();
    (n > 0).then(|| {
        format!(
            "{n} of its first {} values look like full dates (identifiers under HIPAA Safe Harbor)",
            values.len()
        )
    })
}

/// `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY` or `DD.MM.YYYY`, optionally with a time after it.
fn is_full_date(v: &str) -> bool {
    let head = v.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = head.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    let (y, a, b) = if parts[0].len() == 4 {
        (n[0], n[1], n[2])
    } else if parts[2].len() == 4 {
        (n[2], n[0], n[1])
    } else {
        return false;
    };
    let month_day = |m: u32, d: u32| (1..=12).contains(&m) && (1..=31).contains(&d);
    (1850..=2200).contains(&y) && (month_day(a, b) || month_day(b, a))
}

fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

fn is_ssn(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 11
        && b.iter().enumerate().all(|(i, c)| match i {
            3 | 6 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// A phone number written with separators: `(555) 123-4567`, `555-123-4567`, `555.123.4567`,
/// `+1 555 123 4567`, `+44 20 7946 0958`. Bare digit strings are not taken for phones.
fn is_phone(v: &str) -> bool {
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || " ()+-.".contains(c))
    {
        return false;
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let groups = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .count();
    let plus = v.starts_with('+');
    (10..=15).contains(&digits)
        && (groups >= 3 || (plus && groups >= 2) || v.contains('('))
        && !v.ends_with(['-', '.'])
}

/// The line where a quote opens that never closes, if one does.
fn unclosed_quote(text: &[u8]) -> Option<u64> {
    let mut line = 1u64;
    let mut opened_at = None;
    for &b in text {
        match b {
            b'"' => {
                opened_at = if opened_at.is_some() {
                    None
                } else {
                    Some(line)
                }
            }
            b'\n' => line += 1,
            _ => {}
        }
    }
    opened_at
}

/// Chooses the separator (comma, semicolon or tab) that splits the header line most often.
pub fn detect_separator(text: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in text {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let seps = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|i| (counts[*i], 3 - i)).unwrap_or(0);
    seps[best]
}

fn read_header(text: &[u8], separator: u8) -> std::result::Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(text);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(|s| s.trim().to_string()).collect()),
        Ok(false) => Err("line 1: no header line; expected column names".into()),
        Err(e) => Err(format!("line 1: the header cannot be read: {e}")),
    }
}

/// Line numbers of sorted 0-based record indices: a quote-aware scan in which every line
/// outside quotes starts a record, empty ones included, as the CSV reader counts them.
fn record_lines(text: &[u8], records: &[u32]) -> Vec<u64> {
    let mut out = Vec::with_capacity(records.len());
    let mut wanted = records.iter().peekable();
    let mut line: u64 = 1;
    let mut record: i64 = -2; // the header is record -1
    let mut at_start = true;
    let mut quoted = false;
    for &b in text {
        if at_start {
            at_start = false;
            record += 1;
            while let Some(&&r) = wanted.peek() {
                if i64::from(r) == record {
                    out.push(line);
                    wanted.next();
                } else {
                    break;
                }
            }
            if wanted.peek().is_none() {
                break;
            }
        }
        match b {
            b'"' => quoted = !quoted,
            b'\n' => {
                line += 1;
                if !quoted {
                    at_start = true;
                }
            }
            _ => {}
        }
    }
    while out.len() < records.len() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_detected() {
        assert_eq!(detect_separator(b"a,b,c\n1;2"), b',');
        assert_eq!(detect_separator(b"a;b;c\n"), b';');
        assert_eq!(detect_separator(b"a\tb\n"), b'\t');
        assert_eq!(detect_separator(b"\"a;b\",c\n"), b',');
    }

    #[test]
    fn line_numbers_follow_quotes_and_blank_lines() {
        let text = b"h1,h2\n1,2\n\n\"a\nb\",3\r\n4,5\n";
        assert_eq!(record_lines(text, &[0, 1, 2, 3]), vec![2, 3, 4, 6]);
        assert_eq!(unclosed_quote(b"a,b\n\"x,1\n2,3\n"), Some(2));
        assert_eq!(unclosed_quote(b"a,b\n\"x\"\"y\",1\n"), None);
    }

    #[test]
    fn identifier_names_and_look_alikes() {
        for n in [
            "patient_name",
            "First Name",
            "email",
            "SSN",
            "mrn",
            "zip_code",
            "DOB",
            "date_of_birth",
            "phone_number",
            "home address",
        ] {
            assert!(identifier_by_name(&n.to_lowercase()).is_some(), "{n}");
        }
        for n in [
            "site",
            "condition",
            "function_instrument",
            "injectate",
            "day",
            "notes",
            "visit",
        ] {
            assert!(identifier_by_name(n).is_none(), "{n}");
        }
    }

    #[test]
    fn identifier_values_and_look_alikes() {
        for v in [
            "jane@example.org",
            "123-45-6789",
            "(555) 123-4567",
            "555-123-4567",
            "+44 20 7946 0958",
            "555.123.4567",
        ] {
            assert!(identifier_by_value(&[v.to_string()]).is_some(), "{v}");
        }
        for v in [
            "S01",
            "dextrose 15%",
            "WOMAC",
            "28",
            "P0000001",
            "2.5",
            "VISA-A",
            "12-3",
            "5551234567",
        ] {
            assert!(identifier_by_value(&[v.to_string()]).is_none(), "{v}");
        }
    }

    #[test]
    fn full_dates_are_identifiers() {
        for v in ["1956-04-12", "04/12/1956", "12.04.1956", "2021-03-04T10:00"] {
            assert!(dates_in(&[v.to_string()]).is_some(), "{v}");
        }
        for v in [
            "2021",
            "12-3",
            "3.5.1",
            "10-20-30",
            "dextrose 15%",
            "0.5.2024",
        ] {
            assert!(dates_in(&[v.to_string()]).is_none(), "{v}");
        }
    }
}
