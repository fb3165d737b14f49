//! Files to canonical records; every error carries its file and line.
//!
//! CSV (comma, semicolon or tab, detected; optionally gzip-compressed; `-` for standard
//! input) is streamed record by record with the `csv` crate, so memory does not grow with the
//! file; Parquet is read with polars. Header names are matched case-insensitively and the
//! config file can map other names onto the record fields. Every field is handed on as the
//! text the file holds, so that `validate` sees exactly what was written.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::schema::{self, col, trim, FIELDS};

mod frame;
mod parts;

/// Values sampled per column by the identifier guard.
const GUARD_SAMPLE: usize = 1000;
/// Number of canonical fields.
pub const N_FIELDS: usize = FIELDS.len();

/// The format an input was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Parquet,
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as given (`-` for standard input).
    pub path: String,
    /// SHA-256 of the bytes as given (before decompression); known once the input was read.
    pub sha256: String,
    /// SHA-256 of the text after decompression (of a gzip file); empty for other inputs,
    /// whose text is their bytes. A gzip file and a plain copy of it share this hash.
    pub text_sha256: String,
    pub format: Format,
    /// The column names of the file, as written.
    pub header: Vec<String>,
    /// Bytes read from the input (before decompression); known once the input was read.
    pub bytes_read: u64,
}

/// A column that looks like a direct identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierColumn {
    pub file: usize,
    pub column: String,
    pub why: String,
}

/// One record as `validate` sees it.
pub struct Record<'a> {
    /// Index of the input.
    pub file: usize,
    /// Line as a spreadsheet shows it (header = 1); for Parquet the record number + 1.
    pub line: u64,
    /// The trimmed text of each canonical field, in [`FIELDS`] order; "" when absent.
    pub fields: [&'a str; N_FIELDS],
}

/// What [`Dataset::for_each_record`] feeds the records to.
pub trait Sink: Send + Sized {
    fn record(&mut self, r: &Record) -> Result<()>;
    /// An empty sink like this one, for one of `parts` parts of a file read at once.
    fn fork(&self, parts: usize) -> Self;
    /// Takes in what a fork saw, in file order; the fork's line numbers count from the
    /// start of its part and are shifted by `lines`.
    fn join(&mut self, part: Self, lines: u64);
}

/// The opened inputs, ready to be streamed once with [`Dataset::for_each_record`].
pub struct Dataset {
    pub inputs: Vec<Input>,
    /// Columns the identifier guard stopped on (complete after the records were read).
    pub identifiers: Vec<IdentifierColumn>,
    /// Inputs (by index) that carry `date` instead of `day`.
    pub dated: Vec<usize>,
    /// Inputs (by index) that carry both: `day` is read, `date` ignored.
    pub date_ignored: Vec<usize>,
    sources: Vec<Source>,
    /// Bytes of input read so far, for a progress indicator.
    progress: Arc<AtomicU64>,
    /// What each input file was when it was opened (None for standard input and streams).
    opened: Vec<Option<FileState>>,
    /// Inputs read in parts whose SHA-256 (and length) is still being computed; see
    /// [`Dataset::settle`].
    hashing: Vec<(usize, HashThread)>,
}

/// The thread computing a file's SHA-256 and length, and reading its metadata as soon as it
/// is done (to notice that the file changed while it was read, however long the analyses
/// take before the hash is awaited).
type HashThread = std::thread::JoinHandle<std::io::Result<Hashed>>;

/// What a [`HashThread`] found.
type Hashed = (String, u64, std::io::Result<std::fs::Metadata>);

/// A file as it was when opened, to notice that it changed while it was read.
#[derive(Debug, Clone, PartialEq)]
struct FileState {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    id: (u64, u64),
}

/// The usage error for an input given twice: every record of it would be read twice, so
/// every course would be a run of duplicate encounters, excluded.
fn twice(earlier: &str, later: &str, how: &str) -> Error {
    Error::Usage(format!(
        "{earlier} and {later} {how}: every record would be read twice; give each file once"
    ))
}

impl FileState {
    /// Whether `other` is this file (the same device and inode).
    #[cfg(unix)]
    fn same_file(&self, other: &FileState) -> bool {
        self.id == other.id
    }

    /// Whether `other` is this file: not known here (identical contents are found later).
    #[cfg(not(unix))]
    fn same_file(&self, _: &FileState) -> bool {
        false
    }

    fn of(meta: &std::fs::Metadata) -> FileState {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        FileState {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            id: (meta.dev(), meta.ino()),
        }
    }
}

enum Source {
    Csv(Box<CsvSource>),
    Parquet(Box<frame::ParquetSource>),
    Done,
}

struct CsvSource {
    reader: csv::Reader<Box<dyn Read>>,
    /// Bytes before the first record (BOM and header line), newlines among them, and the
    /// separator: what reading the file in parts needs.
    body_start: u64,
    header_lines: u64,
    delimiter: u8,
    gzip: bool,
    /// Column index of each canonical field.
    columns: [Option<usize>; N_FIELDS],
    width: usize,
    tally: Rc<RefCell<Tally>>,
}

/// What the reader layers learn as bytes pass: the SHA-256 of the raw input, and whether
/// the text ends inside a quoted field.
struct Tally {
    sha: Sha256,
    /// The SHA-256 of the decompressed text, for a gzip input.
    text_sha: Option<Sha256>,
    quoting: Quoting,
    /// Bytes of the raw input read.
    bytes: u64,
    /// Bytes of text read since the CSV reader last finished a record.
    since_record: u64,
    /// The longest record read (bytes of text, plus the reader's look-ahead; see
    /// [`max_record`]). Longer means a quote that never closes or a file without line ends,
    /// which would otherwise be held in memory whole.
    max_record: u64,
    /// Set when one record ran past `max_record`.
    too_long: bool,
}

struct Hashing<R> {
    inner: R,
    tally: Rc<RefCell<Tally>>,
    progress: Arc<AtomicU64>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut tally = self.tally.borrow_mut();
        tally.sha.update(&buf[..n]);
        tally.bytes += n as u64;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Hashes the text a decompressor gives, into [`Tally::text_sha`].
struct TextHashing<R> {
    inner: R,
    tally: Rc<RefCell<Tally>>,
}

impl<R: Read> Read for TextHashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(sha) = self.tally.borrow_mut().text_sha.as_mut() {
            sha.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Follows quoting as the CSV reader does (RFC 4180 as `csv_core` reads it): a quote opens a
/// quoted field only at the start of a field, where it is literal elsewhere (`5" tall`);
/// inside a quoted field `""` is a quote and a lone `"` closes the field.
#[derive(Default)]
struct Quoting {
    delimiter: u8,
    /// Inside a quoted field.
    quoted: bool,
    /// A quote inside a quoted field was the last byte seen: the next byte says whether it
    /// closes the field or is the first of `""`.
    pending: bool,
    /// The byte before the current buffer (a line end at the start).
    last: u8,
}

impl Quoting {
    fn new(delimiter: u8) -> Quoting {
        Quoting {
            delimiter,
            last: b'\n',
            ..Quoting::default()
        }
    }

    fn scan(&mut self, buf: &[u8]) {
        let mut i = 0;
        if self.pending && !buf.is_empty() {
            self.pending = false;
            if buf[0] == b'"' {
                i = 1;
            } else {
                self.quoted = false;
            }
        }
        while let Some(offset) = memchr::memchr(b'"', &buf[i..]) {
            let q = i + offset;
            i = q + 1;
            if self.quoted {
                match buf.get(q + 1) {
                    Some(b'"') => i = q + 2,
                    Some(_) => self.quoted = false,
                    None => self.pending = true,
                }
            } else {
                let before = if q == 0 { self.last } else { buf[q - 1] };
                self.quoted = before == b'\n' || before == self.delimiter;
            }
        }
        if let Some(&b) = buf.last() {
            self.last = b;
        }
    }

    /// True when the text read so far ends inside a quoted field.
    fn open(&self) -> bool {
        self.quoted && !self.pending
    }
}

/// The text as the CSV reader reads it: follows its quoting and stops a record that runs on.
struct Quotes<R> {
    inner: R,
    tally: Rc<RefCell<Tally>>,
}

impl<R: Read> Read for Quotes<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut tally = self.tally.borrow_mut();
        tally.quoting.scan(&buf[..n]);
        tally.since_record += n as u64;
        if tally.since_record > tally.max_record {
            tally.too_long = true;
            return Err(std::io::Error::other("record too long"));
        }
        Ok(n)
    }
}

/// Opens every path as one data set: headers are read and checked, nothing else yet.
pub fn read(paths: &[String], settings: &Settings) -> Result<Dataset> {
    let mut inputs = Vec::with_capacity(paths.len());
    let mut opened = Vec::with_capacity(paths.len());
    for path in paths {
        let raw: Box<dyn Read> = if path == "-" {
            if paths.iter().filter(|p| *p == "-").count() > 1 {
                return Err(Error::Usage(
                    "- (standard input) is given more than once; it can be read once".into(),
                ));
            }
            opened.push(None);
            Box::new(std::io::stdin())
        } else {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let meta = file.metadata().map_err(|e| Error::io(path, e))?;
            let state = meta.is_file().then(|| FileState::of(&meta));
            let seen = |s: &FileState| {
                (opened.iter())
                    .position(|o: &Option<FileState>| o.as_ref().is_some_and(|o| o.same_file(s)))
            };
            if let Some(earlier) = state.as_ref().and_then(seen) {
                return Err(twice(&paths[earlier], path, "are the same file"));
            }
            opened.push(state);
            Box::new(file)
        };
        inputs.push((path.clone(), raw));
    }
    let mut data = read_from(inputs, settings)?;
    data.opened = opened;
    Ok(data)
}

/// Reads named streams as one data set (what [`read`] does once the files are open); used
/// by tests and the fuzz target to read bytes held in memory.
pub fn read_from(inputs: Vec<(String, Box<dyn Read>)>, settings: &Settings) -> Result<Dataset> {
    let mut data = Dataset {
        inputs: Vec::with_capacity(inputs.len()),
        identifiers: Vec::new(),
        dated: Vec::new(),
        date_ignored: Vec::new(),
        sources: Vec::with_capacity(inputs.len()),
        progress: Arc::new(AtomicU64::new(0)),
        opened: Vec::new(),
        hashing: Vec::new(),
    };
    for (index, (path, raw)) in inputs.into_iter().enumerate() {
        let file = File {
            index,
            path: &path,
            settings,
            progress: data.progress.clone(),
        };
        let (input, source, ids) = file.open(raw)?;
        if input.has(settings, col::DATE) {
            match input.has(settings, col::DAY) {
                false => data.dated.push(index),
                true => data.date_ignored.push(index),
            }
        }
        data.identifiers.extend(ids);
        data.inputs.push(input);
        data.sources.push(source);
    }
    // A name no file has is a typing error: the column meant is read.
    let has = |name: &String| {
        (data.inputs.iter()).any(|i| i.header.iter().any(|h| h.trim().to_lowercase() == *name))
    };
    if let Some(name) = settings.exclude_columns.iter().find(|n| !has(n)) {
        let columns: Vec<&str> = (data.inputs.iter())
            .flat_map(|i| &i.header)
            .map(String::as_str)
            .collect();
        let more = match columns.len() {
            0..=20 => String::new(),
            n => format!(" and {} more", n - 20),
        };
        return Err(Error::Usage(format!(
            "--exclude-columns {name:?}: no input file has a column of that name; the columns are {}{more}",
            columns[..columns.len().min(20)].join(", ")
        )));
    }
    Ok(data)
}

impl Dataset {
    /// About how many records the inputs hold: plain CSV files by their size, Parquet by
    /// its metadata; 0 for what cannot be known before reading (gzip, standard input).
    pub fn expected_rows(&self) -> usize {
        /// Fewest bytes of a typical record line (the synthetic data has about 57).
        const BYTES_PER_LINE: u64 = 48;
        (self.sources.iter().enumerate())
            .map(|(i, source)| match source {
                Source::Csv(src) if !src.gzip => self
                    .opened
                    .get(i)
                    .and_then(Option::as_ref)
                    .map_or(0, |f| (f.len / BYTES_PER_LINE) as usize),
                // Metadata can claim any number of rows (a damaged file, billions): at most
                // one per byte of the file.
                Source::Parquet(src) => src
                    .groups
                    .iter()
                    .map(|g| g.1)
                    .fold(0usize, usize::saturating_add)
                    .min(src.raw.len()),
                _ => 0,
            })
            .sum()
    }

    /// A counter of the input bytes read so far (for a progress indicator).
    pub fn progress(&self) -> Arc<AtomicU64> {
        self.progress.clone()
    }

    /// Streams every record of every input to `sink`: in input order, or, for a large plain
    /// CSV file, in parts read at once by forks of the sink, joined back in order. Fills in
    /// the identifier guard's findings by value, and the SHA-256 of each input (of a file
    /// read in parts, once [`Dataset::settle`] has waited for it). Records can be read once.
    pub fn for_each_record<S: Sink>(&mut self, settings: &Settings, sink: &mut S) -> Result<()> {
        for index in 0..self.sources.len() {
            match std::mem::replace(&mut self.sources[index], Source::Done) {
                Source::Csv(src) => {
                    let parts = self.parts(index, &src, settings);
                    if parts < 2 || !self.stream_parts(index, &src, parts, settings, sink)? {
                        if parts >= 2 && std::env::var_os("PROLO_TIMINGS").is_some() {
                            eprintln!("prolo: the parts gave up; read again in one piece");
                        }
                        self.stream_csv(index, *src, settings, sink)?;
                    }
                }
                Source::Parquet(src) => {
                    let path = self.inputs[index].path.clone();
                    frame::stream(index, &path, &src, settings, sink)?;
                }
                Source::Done => {
                    return Err(Error::Runtime("records can be read once".into()));
                }
            }
            let hashing = self.hashing.iter().any(|h| h.0 == index);
            self.unchanged(index, !hashing)?;
        }
        Ok(())
    }

    /// Waits for the SHA-256 of the files read in parts, and fails if one of them changed
    /// while it was read (the hash reads the file again, from when the first part is done;
    /// the file's metadata is compared as the hash left it).
    pub fn settle(&mut self) -> Result<()> {
        for (index, hashing) in std::mem::take(&mut self.hashing) {
            let path = &self.inputs[index].path;
            let (sha256, bytes, after) = hashing
                .join()
                .map_err(|_| Error::Runtime(format!("{path}: the hashing thread stopped")))?
                .map_err(|e| Error::io(path, e))?;
            self.inputs[index].sha256 = sha256;
            self.inputs[index].bytes_read = bytes;
            self.unchanged_as(index, true, after)?;
        }
        for (i, later) in self.inputs.iter().enumerate() {
            let same = |e: &&Input| !e.sha256.is_empty() && e.sha256 == later.sha256;
            if let Some(earlier) = self.inputs[..i].iter().find(same) {
                let same = format!("have the same contents (SHA-256 {})", later.sha256);
                return Err(twice(&earlier.path, &later.path, &same));
            }
            let same = |e: &&Input| !e.text().is_empty() && e.text() == later.text();
            if let Some(earlier) = self.inputs[..i].iter().find(same) {
                let same = format!(
                    "hold the same text once decompressed (SHA-256 {})",
                    later.text()
                );
                return Err(twice(&earlier.path, &later.path, &same));
            }
        }
        Ok(())
    }

    /// Fails when input `index` changed since it was opened: it grew, shrank, was rewritten,
    /// deleted or replaced (and, once `read` to the end, when fewer or more bytes were read
    /// than it held). What was read may then be neither the old file nor the new one.
    fn unchanged(&self, index: usize, read: bool) -> Result<()> {
        self.unchanged_as(index, read, std::fs::metadata(&self.inputs[index].path))
    }

    /// [`Dataset::unchanged`], the file's metadata being `now`.
    fn unchanged_as(
        &self,
        index: usize,
        read: bool,
        now: std::io::Result<std::fs::Metadata>,
    ) -> Result<()> {
        let Some(Some(before)) = self.opened.get(index) else {
            return Ok(());
        };
        let input = &self.inputs[index];
        let path = &input.path;
        let changed = |what: String| {
            Err(Error::Runtime(format!(
                "{path}: {what} while it was read; nothing was analysed. Wait until the file is complete (or copy it) and run again"
            )))
        };
        let now = match now {
            Ok(meta) => FileState::of(&meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return changed("the file was deleted or moved".into());
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        #[cfg(unix)]
        if now.id != before.id {
            return changed("the file was replaced by another file".into());
        }
        if now.len != before.len || (read && input.bytes_read != before.len) {
            return changed(format!(
                "the file changed size ({} bytes when opened, {} bytes now, {} bytes read)",
                before.len, now.len, input.bytes_read
            ));
        }
        if now.modified != before.modified {
            return changed("the file was modified".into());
        }
        Ok(())
    }

    /// Reads records on this thread and hands them, in batches, to `sink` on a second one,
    /// so that parsing the CSV and validating the records run on both cores.
    fn stream_csv(
        &mut self,
        index: usize,
        mut src: CsvSource,
        settings: &Settings,
        sink: &mut impl Sink,
    ) -> Result<()> {
        const BATCH: usize = 4096;
        let path = self.inputs[index].path.clone();
        let header = self.inputs[index].header.clone();
        let mut sample: Vec<Vec<String>> = vec![Vec::new(); header.len()];
        let mut sampled = 0;
        let mut line = 1;
        // The last record's line had it no line end: a quoted field that never closes runs
        // to the end of the text.
        let mut unterminated_line = 1;
        let columns = src.columns;
        let mut ragged = Ragged::default();
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Vec<csv::ByteRecord>>(4);
        let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<csv::ByteRecord>>();
        let worker_path = path.clone();
        std::thread::scope(|scope| -> Result<()> {
            let worker = scope.spawn(move || -> Result<()> {
                for batch in full_rx {
                    for record in &batch {
                        let line = record.position().map_or(0, |p| p.line());
                        let mut r = Record {
                            file: index,
                            line,
                            fields: [""; N_FIELDS],
                        };
                        fields(record, &columns, &worker_path, line, &mut r.fields)?;
                        sink.record(&r)?;
                    }
                    // The reader may have finished: a batch that is not taken back is dropped.
                    let _ = empty_tx.send(batch);
                }
                Ok(())
            });
            let mut failure = None;
            'read: loop {
                let mut batch = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| vec![csv::ByteRecord::new(); BATCH]);
                batch.resize_with(BATCH, csv::ByteRecord::new);
                let mut n = 0;
                while n < BATCH {
                    let record = &mut batch[n];
                    match src.reader.read_byte_record(record) {
                        Ok(true) => src.tally.borrow_mut().since_record = 0,
                        Ok(false) => break,
                        Err(_) if src.tally.borrow().too_long => {
                            failure = Some(Error::InvalidData(format!(
                                "{path}: after line {line}: a record runs on for more than {} MiB: a quoted field that never closes, or a file without line ends; expected one row per line (a quote inside a field is written \"\")",
                                src.tally.borrow().max_record >> 20
                            )));
                            break;
                        }
                        Err(e) => {
                            failure = Some(csv_error(&path, &e));
                            break;
                        }
                    }
                    // The record's first line: the reader's line after the record's own line
                    // end, less that line end and the line breaks inside quoted fields. (The
                    // position the reader gives a record does not count blank lines before it.)
                    unterminated_line = unterminated(src.reader.position().line(), record);
                    line = unterminated_line.saturating_sub(1).max(2);
                    let mut position = csv::Position::new();
                    position.set_line(line);
                    record.set_position(Some(position));
                    if record.len() > src.width {
                        // Read on, so that every such row is named at once.
                        ragged.note(line, record.len());
                        continue;
                    }
                    if sampled < GUARD_SAMPLE {
                        sampled += 1;
                        keep_sample(&mut sample, record);
                    }
                    n += 1;
                }
                let done = n < BATCH || failure.is_some();
                batch.truncate(n);
                if n > 0 && full_tx.send(batch).is_err() {
                    break 'read;
                }
                if done {
                    break 'read;
                }
            }
            drop(full_tx);
            let worked = worker
                .join()
                .unwrap_or_else(|_| Err(Error::Runtime("the validating thread stopped".into())));
            match failure {
                Some(e) => Err(e),
                None => worked,
            }
        })?;
        if let Some(e) = ragged.error(&path, src.width) {
            return Err(e);
        }
        let tally = src.tally.borrow();
        if tally.quoting.open() {
            let line = unterminated_line.max(2);
            return Err(Error::InvalidData(format!(
                "{path}: line {line}: a quoted field opens and is never closed; expected a closing \" (a quote inside a field is written \"\")"
            )));
        }
        self.inputs[index].sha256 = hex(&tally.sha.clone().finalize());
        if let Some(text) = &tally.text_sha {
            self.inputs[index].text_sha256 = hex(&text.clone().finalize());
        }
        self.inputs[index].bytes_read = tally.bytes;
        drop(tally);
        self.guard_sample(index, settings, &sample);
        Ok(())
    }

    /// Records the identifier guard's findings on the first values of each column of input
    /// `index`.
    fn guard_sample(&mut self, index: usize, settings: &Settings, sample: &[Vec<String>]) {
        let file = File {
            index,
            path: &self.inputs[index].path,
            settings,
            progress: self.progress.clone(),
        };
        let found = file.guard_values(&self.inputs[index].header, sample);
        self.identifiers.extend(found);
    }
}

/// The line a record would start on had it no line end of its own: the reader's line after
/// the record (`reader_line`) less the line breaks inside its quoted fields. (The position
/// the reader gives a record itself does not count blank lines before it.)
fn unterminated(reader_line: u64, record: &csv::ByteRecord) -> u64 {
    let inner = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
    reader_line.saturating_sub(inner)
}

/// A record's fields as read: bytes, and where each field lies in them.
pub(super) trait RawRecord {
    /// The bytes the fields are slices of.
    fn bytes(&self) -> &[u8];
    /// Where field `i` lies in [`RawRecord::bytes`].
    fn field(&self, i: usize) -> Option<std::ops::Range<usize>>;
    /// The number of fields.
    fn count(&self) -> usize;
    /// The bytes as text, if they are UTF-8.
    fn text(&self) -> Option<&str> {
        std::str::from_utf8(self.bytes()).ok()
    }
}

impl RawRecord for csv::ByteRecord {
    fn bytes(&self) -> &[u8] {
        self.as_slice()
    }
    fn field(&self, i: usize) -> Option<std::ops::Range<usize>> {
        self.range(i)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

/// Adds the non-blank values of `record` to the identifier guard's sample of each column.
fn keep_sample(sample: &mut [Vec<String>], record: &impl RawRecord) {
    keep_values(sample, record_text(record));
}

/// The fields of `record` as text (bytes that are not UTF-8 replaced).
fn record_text(record: &impl RawRecord) -> Vec<String> {
    (0..record.count())
        .map(|i| {
            record.field(i).map_or(String::new(), |r| {
                String::from_utf8_lossy(&record.bytes()[r]).into_owned()
            })
        })
        .collect()
}

/// Adds the non-blank `values` (one per column, in order) to the identifier guard's sample.
fn keep_values(sample: &mut [Vec<String>], values: Vec<String>) {
    for (column, v) in sample.iter_mut().zip(values) {
        if !v.trim().is_empty() {
            column.push(v);
        }
    }
}

/// The trimmed text of each canonical field of `record`.
///
/// Written into `fields` (every place set), not returned: the caller's [`Record`] is filled
/// where it lies, rather than its fields copied in (a copy of 192 bytes a record, made by
/// calls to `memcpy`, was 2 % of a large file's processor time).
fn fields<'r>(
    record: &'r impl RawRecord,
    columns: &[Option<usize>; N_FIELDS],
    path: &str,
    line: u64,
    fields: &mut [&'r str; N_FIELDS],
) -> Result<()> {
    // One UTF-8 check for the whole record; a field is then a slice of it (unless the
    // record holds bytes that are not UTF-8 somewhere).
    let bytes = record.bytes();
    let whole = record.text();
    for (k, c) in columns.iter().enumerate() {
        fields[k] = "";
        let Some(range) = c.and_then(|c| record.field(c)) else {
            continue;
        };
        let text = match whole.and_then(|w| w.get(range.clone())) {
            Some(text) => text,
            None => std::str::from_utf8(&bytes[range]).map_err(|_| {
                Error::InvalidData(format!(
                    "{path}: line {line}: column {}: bytes that are not UTF-8; expected a UTF-8 text file (re-export it as UTF-8 CSV)",
                    FIELDS[k].name
                ))
            })?,
        };
        fields[k] = trim(text);
    }
    Ok(())
}

fn csv_error(path: &str, e: &csv::Error) -> Error {
    match e.kind() {
        csv::ErrorKind::Io(io)
            if io.kind() == std::io::ErrorKind::InvalidInput
                || io.kind() == std::io::ErrorKind::UnexpectedEof
                || io.kind() == std::io::ErrorKind::InvalidData =>
        {
            Error::InvalidData(format!(
            "{path}: the gzip stream is damaged or truncated ({io}); expected a complete .gz file"
        ))
        }
        csv::ErrorKind::Io(io) => Error::io(path, std::io::Error::new(io.kind(), io.to_string())),
        _ => {
            let line = e
                .position()
                .map_or(String::new(), |p| format!("line {}: ", p.line()));
            Error::InvalidData(format!("{path}: {line}cannot be read as CSV: {e}"))
        }
    }
}

impl Input {
    /// The SHA-256 of the input's text: after decompression for a gzip file, else of its bytes.
    fn text(&self) -> &str {
        if self.text_sha256.is_empty() {
            &self.sha256
        } else {
            &self.text_sha256
        }
    }

    fn has(&self, settings: &Settings, field: usize) -> bool {
        let wanted = source_name(settings, field);
        self.header
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case(&wanted))
    }
}

/// The input column name that holds canonical `field` (the config file may map it).
pub(crate) fn source_name(settings: &Settings, field: usize) -> String {
    let name = FIELDS[field].name;
    settings
        .columns
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

/// The column each field is read from (the config file's mapping, else the field's name), in
/// lower case, indexed by field.
fn source_names(settings: &Settings) -> Vec<String> {
    (0..FIELDS.len())
        .map(|f| source_name(settings, f).to_lowercase())
        .collect()
}

/// Bytes as lower-case hexadecimal (how SHA-256 digests are written).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct File<'a> {
    index: usize,
    path: &'a str,
    settings: &'a Settings,
    progress: Arc<AtomicU64>,
}

type Opened = (Input, Source, Vec<IdentifierColumn>);

impl File<'_> {
    fn bad(&self, what: String) -> Error {
        Error::InvalidData(format!("{}: {what}", self.path))
    }

    fn open(&self, raw: Box<dyn Read>) -> Result<Opened> {
        let tally = Rc::new(RefCell::new(Tally {
            sha: Sha256::new(),
            text_sha: None,
            quoting: Quoting::default(),
            bytes: 0,
            since_record: 0,
            max_record: max_record(self.settings),
            too_long: false,
        }));
        let mut raw = BufReader::with_capacity(
            1 << 20,
            Hashing {
                inner: raw,
                tally: tally.clone(),
                progress: self.progress.clone(),
            },
        );
        let magic = raw
            .fill_buf()
            .map_err(|e| Error::io(self.path, e))?
            .to_vec();
        if magic.starts_with(b"PAR1") {
            let mut bytes = Vec::new();
            raw.read_to_end(&mut bytes)
                .map_err(|e| Error::io(self.path, e))?;
            let sha256 = hex(&tally.borrow().sha.clone().finalize());
            return self.parquet(bytes, sha256).map(|(mut input, source, ids)| {
                input.bytes_read = tally.borrow().bytes;
                (input, source, ids)
            });
        }
        let text: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
            tally.borrow_mut().text_sha = Some(Sha256::new());
            Box::new(TextHashing {
                inner: flate2::read::MultiGzDecoder::new(raw),
                tally: tally.clone(),
            })
        } else {
            Box::new(raw)
        };
        let mut text = BufReader::with_capacity(1 << 20, text);
        let (head, body_start) = self.header_line(&mut text)?;
        let header_lines = head.iter().filter(|b| **b == b'\n').count() as u64;
        let gzip = magic.starts_with(&[0x1f, 0x8b]);
        let head_len = head.len() as u64;
        let head_ends_line = head.ends_with(b"\n");
        let separator = detect_separator(&head, &source_names(self.settings));
        let header = parse_header(&head, separator).map_err(|e| self.bad(e))?;
        let plan = self.plan(&header)?;
        let mut columns = [None; N_FIELDS];
        for (field, src) in &plan {
            columns[*field] = header.iter().position(|h| h == src);
        }
        let ids = self.guard_names(&header);
        // Every record ends with a line feed (one is added after the last line: a blank line
        // at worst); a carriage return stays in the last field, which is trimmed.
        tally.borrow_mut().quoting = Quoting::new(separator);
        let body: Box<dyn Read> = Box::new(Quotes {
            inner: Cursor::new(head).chain(text).chain(Cursor::new(b"\n")),
            tally: tally.clone(),
        });
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(separator)
            .has_headers(true)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(1 << 20)
            .from_reader(body);
        // The CSV reader must end the header where the header line ends: a stray quote inside
        // a column name would otherwise open a quoted field that swallows the rows.
        // (A header with no line end is the whole file: the reader ends it at the line feed
        // added after it.)
        let read = reader.byte_headers().is_ok();
        let header_end = head_len + u64::from(!head_ends_line);
        if !read || reader.position().byte() != header_end {
            return Err(self.bad(
                "line 1: a quote inside a column name opens a quoted field that does not close on the header line; expected column names without quotes, or each whole name in quotes".into(),
            ));
        }
        let input = Input {
            path: self.path.to_string(),
            sha256: String::new(),
            text_sha256: String::new(),
            format: Format::Csv,
            header: header.clone(),
            bytes_read: 0,
        };
        let source = CsvSource {
            reader,
            body_start,
            header_lines,
            delimiter: separator,
            gzip,
            columns,
            width: header.len(),
            tally,
        };
        Ok((input, Source::Csv(Box::new(source)), ids))
    }

    /// Reads the header line (to the first line end outside quotes), without its BOM; and
    /// the bytes it took, BOM included.
    fn header_line(&self, text: &mut impl BufRead) -> Result<(Vec<u8>, u64)> {
        let mut head = Vec::new();
        let mut quoted = false;
        loop {
            let buf = match text.fill_buf() {
                Ok(b) => b,
                Err(e)
                    if e.kind() == std::io::ErrorKind::InvalidInput
                        || e.kind() == std::io::ErrorKind::InvalidData
                        || e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Err(self.bad(format!("the gzip stream is damaged or truncated ({e}); expected a complete .gz file")));
                }
                Err(e) => return Err(Error::io(self.path, e)),
            };
            if buf.is_empty() {
                break;
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                match b {
                    b'"' => quoted = !quoted,
                    b'\n' if !quoted => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(buf.len());
            head.extend_from_slice(&buf[..take]);
            text.consume(take);
            if end.is_some() {
                break;
            }
        }
        let taken = head.len() as u64;
        if head.starts_with(b"\xEF\xBB\xBF") {
            head.drain(..3);
        }
        if head.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(self.bad(
                "the file is empty; expected a header line and one row per encounter".into(),
            ));
        }
        if let Err(e) = std::str::from_utf8(&head) {
            if self.path.to_lowercase().ends_with(".parquet") {
                return Err(self.bad(
                    "not a Parquet file (a Parquet file begins with the bytes PAR1) and not text; expected a complete Parquet file or a UTF-8 CSV file".into(),
                ));
            }
            return Err(self.bad(format!(
                "line 1: byte {} is not UTF-8; expected a UTF-8 text file (re-export it as UTF-8 CSV)",
                e.valid_up_to()
            )));
        }
        Ok((head, taken))
    }

    fn parquet(&self, raw: Vec<u8>, sha256: String) -> Result<Opened> {
        // The Parquet reader can panic on damaged metadata (found by fuzzing): such a file
        // is invalid data, not a crash. The default panic message is kept off stderr.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.parquet_frame(raw, sha256)
        }));
        std::panic::set_hook(hook);
        read.unwrap_or_else(|_| {
            Err(self.bad(
                "cannot be read as Parquet: the file is damaged; expected a complete Parquet file"
                    .into(),
            ))
        })
    }

    fn parquet_frame(&self, raw: Vec<u8>, sha256: String) -> Result<Opened> {
        let damaged = |e: PolarsError| self.bad(format!("cannot be read as Parquet: {e}"));
        frame::check_footer(&raw)
            .map_err(|e| self.bad(format!("cannot be read as Parquet: {e}")))?;
        let raw = polars_buffer::Buffer::from(raw);
        let mut reader = ParquetReader::new(Cursor::new(&raw[..]));
        let meta = reader.get_metadata().map_err(damaged)?.clone();
        frame::check_pages(&raw, &meta, self.settings)
            .map_err(|e| self.bad(format!("cannot be read as Parquet: {e}")))?;
        let groups = frame::row_groups(&meta);
        let header: Vec<String> = reader
            .schema()
            .map_err(damaged)?
            .iter_names()
            .map(|s| s.to_string())
            .collect();
        let plan = self.plan(&header)?;
        // Only the first rows now (the identifier guard); the rest is read a row group at a
        // time as the records are streamed.
        // Polars panics on some types it cannot hold (a float16): a failed read, as an error.
        let head = |columns: Option<Vec<String>>| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut reader = ParquetReader::new(Cursor::new(&raw[..]));
                reader.set_metadata(meta.clone());
                reader
                    .with_columns(columns)
                    .with_slice(Some((0, GUARD_SAMPLE)))
                    .finish()
                    .map_err(|e| e.to_string())
            }))
            .unwrap_or_else(|_| Err("polars cannot read its values".into()))
        };
        let sample = match head(None) {
            Ok(frame) => header.iter().map(|n| sample_of(&frame, n)).collect(),
            // A column of a type polars cannot hold (a time of day, a struct, …) fails the
            // read of all columns: read them one at a time, and sample such a column as empty
            // unless a field reads it.
            Err(_) => {
                let mut sample = Vec::with_capacity(header.len());
                for name in &header {
                    match head(Some(vec![name.clone()])) {
                        Ok(frame) => sample.push(sample_of(&frame, name)),
                        Err(e) if plan.iter().any(|(_, c)| c == name) => {
                            return Err(self.bad(format!(
                                "cannot be read as Parquet: column {name:?}: {e}; expected numbers, text or dates"
                            )))
                        }
                        Err(_) => sample.push(Vec::new()),
                    }
                }
                sample
            }
        };
        let mut ids = self.guard_names(&header);
        ids.extend(self.guard_values(&header, &sample));
        let input = Input {
            path: self.path.to_string(),
            sha256,
            text_sha256: String::new(),
            format: Format::Parquet,
            header,
            bytes_read: 0,
        };
        let bare = FileMetadata {
            row_groups: Vec::new(),
            ..(*meta).clone()
        };
        let source = frame::ParquetSource {
            raw,
            meta,
            bare,
            plan,
            groups,
        };
        Ok((input, Source::Parquet(Box::new(source)), ids))
    }

    /// Which input column feeds which field; fails on duplicate or missing required columns.
    fn plan(&self, header: &[String]) -> Result<Vec<(usize, String)>> {
        let lower: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        let excluded = &self.settings.exclude_columns;
        let names = source_names(self.settings);
        // Only a column prolo reads must be named once: other columns (a spreadsheet's
        // unnamed trailing ones, two "notes") are ignored.
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, h) in lower.iter().enumerate() {
            if !names.contains(h) || excluded.contains(h) {
                continue;
            }
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
        let mut plan = Vec::new();
        for (field, wanted) in names.iter().enumerate() {
            if excluded.contains(wanted) {
                continue;
            }
            if let Some(i) = lower.iter().position(|h| h == wanted) {
                plan.push((field, header[i].clone()));
            }
        }
        let has = |f: usize| plan.iter().any(|(g, _)| *g == f);
        // A field by its name, and the column the config file maps onto it, if any.
        let named = |f: usize| {
            let name = FIELDS[f].name;
            match self.settings.columns.get(name) {
                Some(column) => format!("{name} (as column {column:?}, mapped in the config file)"),
                None => name.to_string(),
            }
        };
        let mut missing = Vec::new();
        for f in [col::PATIENT_ID, col::CONDITION, col::INJECTION] {
            if !has(f) {
                missing.push(named(f));
            }
        }
        if !has(col::DAY) && !has(col::DATE) {
            missing.push(format!("{} (or {})", named(col::DAY), named(col::DATE)));
        }
        if !has(col::PAIN) && !has(col::FUNCTION) {
            missing.push(format!("{} or {}", named(col::PAIN), named(col::FUNCTION)));
        }
        if !missing.is_empty() {
            let found: Vec<&str> = (header.iter())
                .filter(|h| !excluded.contains(&h.trim().to_lowercase()))
                .map(String::as_str)
                .collect();
            let dropped = match excluded.is_empty() {
                true => String::new(),
                false => format!(" (leaving out --exclude-columns {})", excluded.join(",")),
            };
            return Err(self.bad(format!(
                "line 1: required column(s) missing: {}; found {}{dropped}. Rename the columns or map them in a config file ([columns] in prolo.toml)",
                missing.join(", "),
                if found.is_empty() { "no columns".to_string() } else { found.join(", ") }
            )));
        }
        Ok(plan)
    }

    /// The identifier guard by column name.
    fn guard_names(&self, header: &[String]) -> Vec<IdentifierColumn> {
        let empty = vec![Vec::new(); header.len()];
        self.guard(header, &empty, true)
    }

    /// The identifier guard by value shape, on the first values of each column.
    fn guard_values(&self, header: &[String], sample: &[Vec<String>]) -> Vec<IdentifierColumn> {
        self.guard(header, sample, false)
    }

    fn guard(
        &self,
        header: &[String],
        sample: &[Vec<String>],
        by_name: bool,
    ) -> Vec<IdentifierColumn> {
        let mut hits = Vec::new();
        for (name, values) in header.iter().zip(sample) {
            let lower = name.trim().to_lowercase();
            if self.settings.exclude_columns.contains(&lower) {
                continue;
            }
            if !by_name {
                let is_date_field = lower == source_name(self.settings, col::DATE).to_lowercase();
                let why = identifier_by_value(values)
                    .or_else(|| (!is_date_field).then(|| dates_in(values)).flatten());
                if let Some(why) = why {
                    hits.push(IdentifierColumn {
                        file: self.index,
                        column: name.clone(),
                        why,
                    });
                }
                continue;
            }
            // A field's own name passes (`patient_id` is a pseudonym by contract); a column
            // mapped onto a field in the config file is judged by its name like any other:
            // mapping `MRN` onto patient_id does not make it de-identified.
            let why = if FIELDS.iter().any(|f| f.name == lower) {
                None
            } else {
                identifier_by_name(&lower)
            };
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
    // `MR#`, `Patient #`: a number sign is the word "number".
    let name = &name.replace('#', " number ");
    let squashed: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    const EXACT: [&str; 29] = [
        "name", "names", "ip", "mrn", "dob", "zip", "zip4", "zip5", "zip9", "fax", "url", "city",
        "county", "precinct", "mobile", "cell", "birthday", "initials", "fname", "lname",
        "medicaid", "medicare", "account", "acct", "vin", "serial", "login", "photo", "plate",
    ];
    // A record number by its owner and a word for number: `MR number`, `chart_no`,
    // `hospital_nr`, `NHS number` (not `_id`: `patient id` is the pseudonym's own name).
    const OWNERS: [&str; 7] = [
        "mr", "record", "patient", "chart", "hospital", "hosp", "nhs",
    ];
    const NUMBER: [&str; 6] = ["number", "no", "num", "nr", "nbr", "nmbr"];
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let record_number = (1..lower.len())
        .find(|&i| OWNERS.contains(&lower[i - 1].as_str()) && NUMBER.contains(&lower[i].as_str()))
        .map(|i| format!("{} {}", lower[i - 1], lower[i]));
    // The name of a thing, not a person: `site_name`, `instrument_name`, `drug name`.
    // (REDCap exports carry `redcap_event_name`.)
    const THINGS: [&str; 38] = [
        "site",
        "clinic",
        "center",
        "centre",
        "facility",
        "hospital",
        "practice",
        "department",
        "unit",
        "ward",
        "program",
        "programme",
        "study",
        "protocol",
        "arm",
        "group",
        "instrument",
        "scale",
        "test",
        "outcome",
        "condition",
        "diagnosis",
        "procedure",
        "drug",
        "medication",
        "injectate",
        "product",
        "brand",
        "device",
        "file",
        "event",
        "visit",
        "form",
        "field",
        "variable",
        "column",
        "project",
        "dataset",
    ];
    let is_thing_name = |i: usize| {
        ["name", "names"].contains(&words[i].to_lowercase().as_str())
            && i > 0
            && THINGS.contains(&words[i - 1].to_lowercase().as_str())
    };
    let hit = schema::IDENTIFIER_NAMES
        .iter()
        .find(|frag| frag.len() >= 5 && squashed.contains(*frag))
        .map(|s| s.to_string())
        .or(record_number)
        .or_else(|| {
            (0..words.len())
                .find(|&i| {
                    !is_thing_name(i)
                        && EXACT
                            .iter()
                            .chain(schema::IDENTIFIER_NAMES.iter())
                            .any(|e| e.eq_ignore_ascii_case(words[i]))
                })
                .map(|i| words[i].to_lowercase())
        })?;
    Some(format!(
        "its name says it holds a direct identifier ({hit})"
    ))
}

/// Why sampled values look like direct identifiers (e-mail, US SSN, phone), if they do.
pub fn identifier_by_value(values: &[String]) -> Option<String> {
    type Shape = (&'static str, fn(&str) -> bool);
    // E-mail addresses and SSNs are found inside free text too ("mail p1@x.org"); a phone
    // number only as the whole value (codes and lot numbers inside text look like one).
    let kinds: [Shape; 4] = [
        ("e-mail addresses", |v| words_of(v).any(is_email)),
        ("US SSNs", |v| {
            words_of(v).any(is_ssn) || is_ssn(&v.replace(' ', "-"))
        }),
        ("IP addresses", is_ip),
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

/// The words of a free-text value, split at white space and the punctuation around them.
fn words_of(v: &str) -> impl Iterator<Item = &str> {
    v.split(|c: char| c.is_whitespace() || ",;<>()[]\"'".contains(c))
        .map(|w| w.trim_end_matches(['.', ':', '!', '?']))
        .filter(|w| !w.is_empty())
}

/// An IPv4 address: four numbers from 0 to 255 joined by dots.
fn is_ip(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 4
        && (parts.iter()).all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
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

/// Rows with more fields than the header, gathered so that one error names them all.
#[derive(Default)]
struct Ragged {
    /// (line, fields) of the first few.
    first: Vec<(u64, usize)>,
    count: u64,
}

impl Ragged {
    /// How many rows the message names.
    const SHOWN: usize = 20;

    fn note(&mut self, line: u64, fields: usize) {
        if self.first.len() < Self::SHOWN {
            self.first.push((line, fields));
        }
        self.count += 1;
    }

    fn error(&self, path: &str, width: usize) -> Option<Error> {
        let advice = "a value that holds the separator must be quoted";
        match self.first[..] {
            [] => None,
            [(line, fields)] => Some(Error::InvalidData(format!(
                "{path}: line {line}: {fields} fields where the header has {width}; {advice}"
            ))),
            _ => {
                let lines: Vec<String> = (self.first.iter())
                    .map(|(line, fields)| format!("{line} ({fields} fields)"))
                    .collect();
                let more = match self.count - self.first.len() as u64 {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                Some(Error::InvalidData(format!(
                    "{path}: {} rows have more fields than the header's {width}: lines {}{more}; {advice}",
                    self.count,
                    lines.join(", ")
                )))
            }
        }
    }
}

/// The separators tried, common ones first: any ASCII punctuation but the quote and the
/// characters column names are made of (`_`, `-`, `.`), then a space.
const SEPARATORS: &[u8] = b",;\t|:^~#!$%&*/\\+=?@`'<>()[]{} ";
/// How many of [`SEPARATORS`] are the common ones, preferred when nothing else decides.
const COMMON_SEPARATORS: usize = 4;

/// Chooses the separator of the header line (the first line of `text`): the one that splits
/// it into the most of the column names prolo reads (`known`, lower case), then a common one
/// (comma, semicolon, tab, `|`) over any other, then the one found most often.
pub fn detect_separator(text: &[u8], known: &[String]) -> u8 {
    let line = {
        let mut quoted = false;
        let end = text.iter().position(|&b| {
            quoted ^= b == b'"';
            b == b'\n' && !quoted
        });
        &text[..end.unwrap_or(text.len())]
    };
    let score = |sep: u8| {
        let mut fields: Vec<Vec<u8>> = vec![Vec::new()];
        let mut quoted = false;
        let mut count = 0usize;
        for &b in line {
            match b {
                b'"' => quoted = !quoted,
                _ if b == sep && !quoted => {
                    count += 1;
                    fields.push(Vec::new());
                }
                _ => fields.last_mut().into_iter().for_each(|f| f.push(b)),
            }
        }
        let names = (fields.iter())
            .filter(|f| {
                let name = String::from_utf8_lossy(f).trim().to_lowercase();
                known.contains(&name)
            })
            .count();
        (names, count)
    };
    let best = (SEPARATORS.iter().enumerate())
        .map(|(i, &sep)| {
            let (names, count) = score(sep);
            ((names, i < COMMON_SEPARATORS, count, usize::MAX - i), sep)
        })
        .max();
    best.map_or(b',', |(_, sep)| sep)
}

fn parse_header(head: &[u8], separator: u8) -> std::result::Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(head);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(|s| s.trim().to_string()).collect()),
        Ok(false) => Err("line 1: no header line; expected column names".into()),
        Err(e) => Err(format!("line 1: the header cannot be read: {e}")),
    }
}

/// The longest record read: 256 MiB, or a quarter of the memory available if less (but at
/// least 8 MiB).
fn max_record(settings: &Settings) -> u64 {
    (settings.memory_limit).map_or(256 << 20, |b| (b / 4).clamp(8 << 20, 256 << 20))
}

/// The first values of column `name` of `frame` as text, for the identifier guard. A column
/// that is not text-like (a list, a struct) is sampled as empty: it holds no value the guard
/// reads, and no field reads it.
fn sample_of(frame: &DataFrame, name: &str) -> Vec<String> {
    let Ok(column) = frame.column(name) else {
        return Vec::new();
    };
    match frame::as_text(column) {
        Ok(c) => c
            .str()
            .map(|s| s.iter().flatten().map(str::to_string).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_detected() {
        let none: &[String] = &[];
        assert_eq!(detect_separator(b"a,b,c\n1;2", none), b',');
        assert_eq!(detect_separator(b"a;b;c\n", none), b';');
        assert_eq!(detect_separator(b"a\tb\n", none), b'\t');
        assert_eq!(detect_separator(b"a|b|c\n", none), b'|');
        assert_eq!(detect_separator(b"\"a;b\",c\n", none), b',');
        // Any other separator, when it splits the header into the names prolo reads.
        let known = [
            "patient_id".to_string(),
            "day".to_string(),
            "pain".to_string(),
        ];
        assert_eq!(detect_separator(b"patient_id:day:pain\n", &known), b':');
        assert_eq!(detect_separator(b"patient_id day pain\n", &known), b' ');
        // A name with a space in it stays one name when another separator finds the names.
        assert_eq!(detect_separator(b"patient_id;my day;pain\n", &known), b';');
        // Commas inside a quoted name do not count.
        assert_eq!(
            detect_separator(b"\"x,y,z\";patient_id;pain\n", &known),
            b';'
        );
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
            "account_number",
            "acct_no",
            "health_plan_id",
            "beneficiary_id",
            "insurance_id",
            "device_serial",
            "vehicle_id",
            "certificate_number",
            "username",
            "driver_license",
            "provider_name",
            "name",
            "ZipCode",
            "zip5",
            "MR#",
            "MR number",
            "Patient #",
            "record_number",
            "patient_number",
            "chart_no",
            "hospital_nr",
            "NHS number",
            "fname",
            "Forename",
            "county",
            "website",
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
            "site_name",
            "instrument_name",
            "drug name",
            "clinic_names",
            "insurance",
            "redcap_event_name",
            "event_name",
            "visit name",
            "form_name",
            "patient id",
            "visit_no",
            "injection_number",
            "session #",
            "record_type",
            "mr_finding",
            "chart_review",
        ] {
            assert!(identifier_by_name(n).is_none(), "{n}");
        }
    }

    #[test]
    fn identifier_values_and_look_alikes() {
        let why = |v: &str| identifier_by_value(&[v.to_string()]).unwrap_or_default();
        for v in [
            "jane@example.org",
            "123-45-6789",
            "(555) 123-4567",
            "555-123-4567",
            "+44 20 7946 0958",
            "555.123.4567",
            "mail p1@x.org",
            "contact: <jane.roe@clinic.example.com>.",
            "SSN 123-45-6789 on file",
            "123 45 6789",
        ] {
            assert!(identifier_by_value(&[v.to_string()]).is_some(), "{v}");
        }
        assert!(why("123 45 6789").contains("US SSNs"));
        assert!(why("192.168.1.20").contains("IP addresses"));
        assert!(why("10.0.0.1").contains("IP addresses"));
        assert!(why("mail p1@x.org").contains("e-mail"));
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
            "lot 555-123-4567 used",
            "dextrose 12.5% @ 2 sites",
            "1.2.3",
            "300.1.1.1",
            "lot 123 45 6789",
            "12 34 5678",
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
