//! A large plain CSV file read in parts at once, one thread per part.
//!
//! The file is cut at line ends near equal byte offsets. Each part is parsed by its own
//! CSV reader into its own fork of the sink; the forks are joined back in file order with
//! their line numbers shifted by the lines before the part. A cut is only right if it does
//! not fall inside a quoted field (which may hold line ends): each part follows the quoting
//! as the CSV reader does, and when a part ends inside quotes, or anything at all goes wrong
//! in a part (bad bytes, too many fields, …), the whole file is read again in one piece, so
//! that results and messages are exactly those of the one-piece read. A separate thread
//! hashes the whole file (SHA-256 cannot be computed in pieces).

use std::cell::RefCell;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{
    fields, hex, keep_sample, unterminated, CsvSource, Dataset, Quotes, Quoting, Record, Sink,
    Tally, GUARD_SAMPLE, N_FIELDS,
};
use crate::config::Settings;
use crate::error::{Error, Result};

/// Files smaller than this are read in one piece.
const MIN_PART: u64 = 32 << 20;

/// What one part saw.
struct Part<S> {
    sink: S,
    /// Line ends in the part.
    lines: u64,
    /// The first values of each column (part 0 only), for the identifier guard.
    sample: Vec<Vec<String>>,
}

impl Dataset {
    /// Into how many parts input `index` is read: 1 unless it is a plain CSV file (not
    /// standard input, not gzip) of at least two [`MIN_PART`]s and more than one core is
    /// free. `settings.parts` (`PROLO_PARTS`) sets the number, for a file of any size.
    pub(super) fn parts(&self, index: usize, src: &CsvSource, settings: &Settings) -> usize {
        let Some(Some(file)) = self.opened.get(index) else {
            return 1;
        };
        if src.gzip {
            return 1;
        }
        if let Some(n) = settings.parts {
            return n;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.min((file.len / MIN_PART) as usize).max(1)
    }

    /// Reads input `index` in `parts` parts at once into forks of `sink`, joined in order.
    /// False (and `sink` untouched) when the file has to be read in one piece instead.
    pub(super) fn stream_parts<S: Sink>(
        &mut self,
        index: usize,
        src: &CsvSource,
        parts: usize,
        settings: &Settings,
        sink: &mut S,
    ) -> Result<bool> {
        let path = self.inputs[index].path.clone();
        let Some(Some(opened)) = self.opened.get(index) else {
            return Ok(false);
        };
        // The parts open the file again by its name: it must still be the file opened.
        self.unchanged(index, false)?;
        let cuts = cuts(&path, src.body_start, opened.len, parts)?;
        if cuts.len() < 3 {
            return Ok(false);
        }
        let width = self.inputs[index].header.len();
        let progress = self.progress.clone();
        let last = cuts.len() - 2;
        let (read, hashed) = std::thread::scope(|scope| {
            let hashing = scope.spawn(|| hash(&path));
            let threads: Vec<_> = cuts
                .windows(2)
                .enumerate()
                .map(|(k, range)| {
                    let part = sink.fork(cuts.len() - 1);
                    let job = Job {
                        path: &path,
                        index,
                        columns: src.columns,
                        delimiter: src.delimiter,
                        width,
                        max_record: super::max_record(settings),
                        progress: progress.clone(),
                        start: range[0],
                        end: range[1],
                        first: k == 0,
                        last: k == last,
                    };
                    scope.spawn(move || job.run(part))
                })
                .collect();
            let read: Vec<Option<Part<S>>> = threads
                .into_iter()
                .map(|t| t.join().ok().flatten())
                .collect();
            (read, hashing.join().ok())
        });
        let Some(Ok((sha, bytes))) = hashed else {
            return Ok(false);
        };
        let Some(read) = read.into_iter().collect::<Option<Vec<Part<S>>>>() else {
            return Ok(false);
        };
        let mut lines = src.header_lines;
        let mut sample = Vec::new();
        for (k, part) in read.into_iter().enumerate() {
            if k == 0 {
                sample = part.sample;
            }
            sink.join(part.sink, lines);
            lines += part.lines;
        }
        self.read_whole(index, settings, sha, bytes, &sample);
        Ok(true)
    }
}

/// Where the parts start: `body_start`, then the byte after the first line end at or after
/// each equal share of the rest, then `len`. Cuts that coincide are merged.
fn cuts(path: &str, body_start: u64, len: u64, parts: usize) -> Result<Vec<u64>> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut cuts = vec![body_start];
    let mut window = vec![0u8; 1 << 16];
    for k in 1..parts as u64 {
        let share = len.saturating_sub(body_start) * k / parts as u64;
        let mut at = (body_start + share).max(cuts[cuts.len() - 1]);
        file.seek(SeekFrom::Start(at))
            .map_err(|e| Error::io(path, e))?;
        let cut = loop {
            let n = file.read(&mut window).map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break len;
            }
            if let Some(i) = memchr::memchr(b'\n', &window[..n]) {
                break at + i as u64 + 1;
            }
            at += n as u64;
        };
        if cut < len && cut > cuts[cuts.len() - 1] {
            cuts.push(cut);
        }
    }
    cuts.push(len);
    Ok(cuts)
}

/// SHA-256 and length of the file's bytes.
fn hash(path: &str) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((hex(&sha.finalize()), bytes))
}

/// One part to read: bytes `start..end` of the file.
struct Job<'a> {
    path: &'a str,
    index: usize,
    columns: [Option<usize>; N_FIELDS],
    delimiter: u8,
    width: usize,
    max_record: u64,
    progress: Arc<AtomicU64>,
    start: u64,
    end: u64,
    first: bool,
    last: bool,
}

impl Job<'_> {
    /// Reads the part into `sink`; None when the file must be read in one piece.
    fn run<S: Sink>(self, mut sink: S) -> Option<Part<S>> {
        let mut file = std::fs::File::open(self.path).ok()?;
        file.seek(SeekFrom::Start(self.start)).ok()?;
        let tally = Rc::new(RefCell::new(Tally {
            sha: Sha256::new(),
            quoting: Quoting::new(self.delimiter),
            bytes: 0,
            since_record: 0,
            max_record: self.max_record,
            too_long: false,
        }));
        // The last part ends like the whole text: with a line end added.
        let end: &[u8] = if self.last { b"\n" } else { b"" };
        let text = Quotes {
            inner: file.take(self.end - self.start).chain(Cursor::new(end)),
            tally: tally.clone(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(1 << 20)
            .from_reader(text);
        let columns = self.columns;
        let mut record = csv::ByteRecord::new();
        let mut sample: Vec<Vec<String>> = Vec::new();
        let mut sampled = 0;
        let mut counted = 0;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => tally.borrow_mut().since_record = 0,
                Ok(false) => break,
                Err(_) => return None,
            }
            if record.len() > self.width {
                return None;
            }
            // Lines count from the part's start: its first line is 1.
            let line = unterminated(reader.position().line(), &record)
                .saturating_sub(1)
                .max(1);
            if self.first && sampled < GUARD_SAMPLE {
                sampled += 1;
                sample.resize(self.width, Vec::new());
                keep_sample(&mut sample, &record);
            }
            let fields = fields(&record, &columns, self.path, line).ok()?;
            sink.record(&Record {
                file: self.index,
                line,
                fields,
            })
            .ok()?;
            let at = reader.position().byte();
            if at - counted >= 1 << 20 {
                self.progress.fetch_add(at - counted, Ordering::Relaxed);
                counted = at;
            }
        }
        self.progress.fetch_add(
            reader.position().byte().saturating_sub(counted),
            Ordering::Relaxed,
        );
        if tally.borrow().quoting.open() {
            return None;
        }
        Some(Part {
            sink,
            lines: reader.position().line().saturating_sub(1),
            sample,
        })
    }
}
