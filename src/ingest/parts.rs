//! A large plain CSV file read in parts at once, one thread per part.
//!
//! The file is cut at line ends near equal byte offsets. Each part is parsed by its own
//! CSV reader into its own fork of the sink; the forks are joined back in file order with
//! their line numbers shifted by the lines before the part. A cut is only right if it does
//! not fall inside a quoted field (which may hold line ends): each part follows the quoting
//! as the CSV reader does, and when a part ends inside quotes, or anything at all goes wrong
//! in a part (bad bytes, too many fields, …), the whole file is read again in one piece, so
//! that results and messages are exactly those of the one-piece read. A separate thread,
//! started by the first part to finish, hashes the whole file (SHA-256 cannot be computed
//! in pieces).

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{
    fields, hex, keep_values, record_text, CsvSource, Dataset, HashThread, RawRecord, Record, Sink,
    GUARD_SAMPLE, N_FIELDS,
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
    /// The part's first records (at most [`GUARD_SAMPLE`]), as text: the identifier guard
    /// looks at the file's first records, which may run over several parts.
    first_records: Vec<Vec<String>>,
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
        // The file's SHA-256 is computed on one more thread, started by the first part to
        // finish: the core it frees hashes while the others still read, then while the
        // records are put in order (one core's work). (Beside the parts from the start, the
        // hash took a core they needed.)
        let hashing: std::sync::OnceLock<HashThread> = std::sync::OnceLock::new();
        let start_hash = || {
            hashing.get_or_init(|| {
                let path = path.clone();
                std::thread::spawn(move || hash(&path))
            });
        };
        let read: Vec<Option<Part<S>>> = std::thread::scope(|scope| {
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
                        last: k == last,
                    };
                    let start_hash = &start_hash;
                    scope.spawn(move || {
                        let part = job.run(part);
                        // (A part that gave up means a read in one piece, which hashes.)
                        if part.is_some() {
                            start_hash();
                        }
                        part
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().ok().flatten())
                .collect()
        });
        let Some(read) = read.into_iter().collect::<Option<Vec<Part<S>>>>() else {
            // Read again in one piece, which hashes what it reads: this hash is let go of.
            return Ok(false);
        };
        start_hash();
        if let Some(thread) = hashing.into_inner() {
            self.hashing.push((index, thread));
        }
        let mut lines = src.header_lines;
        let mut sample = vec![Vec::new(); width];
        let mut sampled = 0;
        for part in read {
            for record in part.first_records {
                if sampled < GUARD_SAMPLE {
                    sampled += 1;
                    keep_values(&mut sample, record);
                }
            }
            sink.join(part.sink, lines);
            lines += part.lines;
        }
        self.guard_sample(index, settings, &sample);
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

/// SHA-256 and length of the file's bytes, and its metadata once they are read.
fn hash(path: &str) -> std::io::Result<super::Hashed> {
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
    Ok((hex(&sha.finalize()), bytes, std::fs::metadata(path)))
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
    last: bool,
}

impl Job<'_> {
    /// Reads the part into `sink`; None when the file must be read in one piece.
    fn run<S: Sink>(self, mut sink: S) -> Option<Part<S>> {
        let mut file = std::fs::File::open(self.path).ok()?;
        file.seek(SeekFrom::Start(self.start)).ok()?;
        // The last part ends like the whole text: with a line end added.
        let end: &[u8] = if self.last { b"\n" } else { b"" };
        let text = file.take(self.end - self.start).chain(Cursor::new(end));
        let columns = self.columns;
        let mut first_records: Vec<Vec<String>> = Vec::new();
        let mut counted = 0;
        let split = Split {
            delimiter: self.delimiter,
            width: self.width,
            max_record: self.max_record,
            chunk: 1 << 20,
        };
        let lines = split.each(text, |line, record, at| {
            if first_records.len() < GUARD_SAMPLE {
                first_records.push(record_text(record));
            }
            let mut r = Record {
                file: self.index,
                line,
                fields: [""; N_FIELDS],
            };
            fields(record, &columns, self.path, line, &mut r.fields).ok()?;
            sink.record(&r).ok()?;
            if at - counted >= 1 << 20 {
                self.progress.fetch_add(at - counted, Ordering::Relaxed);
                counted = at;
            }
            Some(())
        })?;
        let bytes = self.end - self.start + end.len() as u64;
        self.progress
            .fetch_add(bytes.saturating_sub(counted), Ordering::Relaxed);
        Some(Part {
            sink,
            lines,
            first_records,
        })
    }
}

/// Splits CSV text into records exactly as the `csv` crate reads it here (RFC 4180
/// quoting, `\n` ends a record, blank lines skipped, any number of fields), but a line
/// without a quote is cut at its separators directly; only a line with a quote goes
/// through `csv_core`'s state machine.
struct Split {
    delimiter: u8,
    /// The most fields a record may have.
    width: usize,
    /// The longest record (bytes).
    max_record: u64,
    /// Bytes read at a time (the buffer grows to hold a longer record).
    chunk: usize,
}

/// A record cut from a line without quotes, or read by `csv_core`: bytes (and their text,
/// where already checked as UTF-8) and the field spans in them.
struct Fields<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
    spans: &'a [(usize, usize)],
}

impl RawRecord for Fields<'_> {
    fn bytes(&self) -> &[u8] {
        self.bytes
    }
    fn text(&self) -> Option<&str> {
        self.text.or_else(|| std::str::from_utf8(self.bytes).ok())
    }
    fn field(&self, i: usize) -> Option<std::ops::Range<usize>> {
        self.spans.get(i).map(|&(a, b)| a..b)
    }
    fn count(&self) -> usize {
        self.spans.len()
    }
}

impl Split {
    /// The spans of the fields of `line` (which holds no quote) between its separators;
    /// None when it has more than `width` fields or more than `max_record` bytes.
    fn cut(&self, line: &[u8], spans: &mut Vec<(usize, usize)>) -> Option<()> {
        spans.clear();
        let mut start = 0;
        let mut at = 0;
        // Sixteen bytes at a time (SSE2, which every x86-64 processor has): the bytes equal
        // to the separator as the bits of a mask, taken lowest first. Fields are short:
        // searching for each separator apart (`memchr`) cost more in calls than in bytes.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            use std::arch::x86_64::*;
            for block in line.chunks_exact(16) {
                // SAFETY: SSE2 is part of every x86-64 processor (the target enables it);
                // the unaligned load reads the 16 bytes `block` holds.
                let mut found = unsafe {
                    let bytes = _mm_loadu_si128(block.as_ptr().cast());
                    let repeated = _mm_set1_epi8(self.delimiter as i8);
                    _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, repeated)) as u32
                };
                while found != 0 {
                    let d = at + found.trailing_zeros() as usize;
                    spans.push((start, d));
                    start = d + 1;
                    found &= found - 1;
                }
                at += 16;
            }
        }
        // Then (elsewhere: from the start) eight bytes at a time, the separators among them
        // found as the zero bytes of the word XOR the separator repeated (exactly: no carry
        // runs from byte to byte), then taken lowest first.
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let repeated = u64::from_le_bytes([self.delimiter; 8]);
        let mut words = line[at..].chunks_exact(8);
        for word in &mut words {
            let x = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default()) ^ repeated;
            let mut zero = !(((x & LOW7) + LOW7) | x | LOW7);
            while zero != 0 {
                let d = at + (zero.trailing_zeros() / 8) as usize;
                spans.push((start, d));
                start = d + 1;
                zero &= zero - 1;
            }
            at += 8;
        }
        for (i, &b) in words.remainder().iter().enumerate() {
            if b == self.delimiter {
                spans.push((start, at + i));
                start = at + i + 1;
            }
        }
        spans.push((start, line.len()));
        (spans.len() <= self.width && line.len() as u64 <= self.max_record).then_some(())
    }

    /// Calls `record(line, fields, bytes read so far)` for each record of `text` (which
    /// ends with a line end), the line counted from 1 at the start of `text`. Returns the
    /// line ends in `text`, or None when a record has more than `width` fields, runs on
    /// for more than `max_record` bytes or ends inside quotes, or `text` cannot be read,
    /// or `record` gives None.
    fn each(
        &self,
        mut text: impl Read,
        mut record: impl FnMut(u64, &Fields, u64) -> Option<()>,
    ) -> Option<u64> {
        let max = usize::try_from(self.max_record).unwrap_or(usize::MAX);
        let mut buf = vec![0u8; self.chunk.clamp(1, max.max(1))];
        let (mut pos, mut have, mut eof) = (0usize, 0usize, false);
        // Bytes of `text` before `buf[0]`.
        let mut before = 0u64;
        let mut line = 1u64;
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(self.width + 1);
        let mut core = csv_core::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build();
        let mut out: Vec<u8> = vec![0; 1];
        let mut ends = vec![0usize; self.width + 1];
        // A blank line first, so that csv_core does not take a later record's first bytes
        // for a byte order mark (it looks for one on its first read only).
        core.read_record(b"\n", &mut out, &mut ends);
        // Moves the unread bytes to the front and reads more; false at the end of `text`.
        let mut refill =
            |buf: &mut Vec<u8>, pos: &mut usize, have: &mut usize, before: &mut u64| {
                buf.copy_within(*pos..*have, 0);
                *before += *pos as u64;
                *have -= *pos;
                *pos = 0;
                if *have == buf.len() {
                    if buf.len() >= max {
                        return None;
                    }
                    let len = buf.len().saturating_mul(2).min(max);
                    buf.resize(len, 0);
                }
                loop {
                    match text.read(&mut buf[*have..]) {
                        Ok(0) => return Some(false),
                        Ok(n) => {
                            *have += n;
                            return Some(true);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => return None,
                    }
                }
            };
        loop {
            // The lines before the next quote: checked as UTF-8 at once, not line by line,
            // and cut at their separators directly.
            let rest = &buf[pos..have];
            let plain = match memchr::memchr(b'"', rest) {
                Some(q) => memchr::memrchr(b'\n', &rest[..q]).map_or(0, |i| i + 1),
                None => rest.len(),
            };
            let plain = match std::str::from_utf8(&rest[..plain]) {
                Ok(text) => text,
                // Up to the first byte that is not UTF-8 (its line is read below).
                Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
            };
            let mut done = 0;
            while let Some(nl) = memchr::memchr(b'\n', &plain.as_bytes()[done..]) {
                let text_line = &plain[done..done + nl];
                done += nl + 1;
                if nl > 0 {
                    self.cut(text_line.as_bytes(), &mut spans)?;
                    let fields = Fields {
                        bytes: text_line.as_bytes(),
                        text: Some(text_line),
                        spans: &spans,
                    };
                    record(line, &fields, before + (pos + done) as u64)?;
                }
                line += 1;
            }
            pos += done;
            let Some(nl) = memchr::memchr(b'\n', &buf[pos..have]) else {
                if eof {
                    // The text ends with a line end: nothing can be left over.
                    return (pos == have).then_some(line - 1);
                }
                eof = !refill(&mut buf, &mut pos, &mut have, &mut before)?;
                continue;
            };
            let text_line = &buf[pos..pos + nl];
            if nl == 0 {
                // A blank line.
                pos += 1;
                line += 1;
                continue;
            }
            if memchr::memchr(b'"', text_line).is_none() {
                // A line without quotes that is not UTF-8 (fails in `fields`).
                self.cut(text_line, &mut spans)?;
                pos += nl + 1;
                let at = before + pos as u64;
                let fields = Fields {
                    bytes: text_line,
                    text: None,
                    spans: &spans,
                };
                record(line, &fields, at)?;
                line += 1;
                continue;
            }
            // A line with a quote: csv_core reads the record, which may run over lines.
            let (mut nout, mut nend, start_line) = (0usize, 0usize, line);
            loop {
                if out.len() < nout + (have - pos) {
                    out.resize(nout + (have - pos), 0);
                }
                let (res, nin, o, e) =
                    core.read_record(&buf[pos..have], &mut out[nout..], &mut ends[nend..]);
                line += memchr::memchr_iter(b'\n', &buf[pos..pos + nin]).count() as u64;
                pos += nin;
                nout += o;
                nend += e;
                match res {
                    csv_core::ReadRecordResult::Record => break,
                    csv_core::ReadRecordResult::InputEmpty if !eof => {
                        eof = !refill(&mut buf, &mut pos, &mut have, &mut before)?;
                        if eof {
                            // The text ends inside quotes.
                            return None;
                        }
                    }
                    csv_core::ReadRecordResult::OutputFull => {}
                    // Ends inside quotes, or more fields than the header.
                    _ => return None,
                }
                if nout as u64 > self.max_record {
                    return None;
                }
            }
            spans.clear();
            let mut start = 0;
            for &end in &ends[..nend] {
                spans.push((start, end));
                start = end;
            }
            if spans.len() > self.width {
                return None;
            }
            let at = before + pos as u64;
            record(
                start_line,
                &Fields {
                    bytes: &out[..nout],
                    text: None,
                    spans: &spans,
                },
                at,
            )?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{unterminated, Quoting};
    use super::*;
    use proptest::prelude::*;

    type Records = Vec<(u64, Vec<Vec<u8>>)>;

    #[test]
    fn a_line_is_cut_at_every_separator_wherever_it_falls() {
        let split = Split {
            delimiter: b';',
            width: 100,
            max_record: 1 << 20,
            chunk: 1 << 10,
        };
        let mut spans = Vec::new();
        // Separators at every position of a 16-byte block, a word and the tail, next to
        // bytes one more and one less than the separator (a carry would make those look
        // like it).
        for len in 0..72 {
            for mask in [
                0u64,
                1,
                0x5555_5555_5555,
                0x00ff_ffff_ffff,
                0x8000_0081,
                0x3c3c_3c3c,
                0x8001_0000_8001_0000,
                u64::MAX,
            ] {
                let line: Vec<u8> = (0..len)
                    .map(|i| match mask.checked_shr(i).unwrap_or(0) & 1 {
                        1 => b';',
                        _ if i % 2 == 0 => b';' + 1,
                        _ => b';' - 1,
                    })
                    .collect();
                split.cut(&line, &mut spans).unwrap();
                let mut expected = Vec::new();
                let mut start = 0;
                for (i, &b) in line.iter().enumerate() {
                    if b == b';' {
                        expected.push((start, i));
                        start = i + 1;
                    }
                }
                expected.push((start, line.len()));
                assert_eq!(spans, expected, "{len} {mask:x}");
            }
        }
        let wide = [b';'; 100];
        assert!(split.cut(&wide, &mut spans).is_none(), "101 fields");
        // Bytes 0x80 and up next to the separator.
        let line = "é;ü;\u{ff};x".as_bytes();
        split.cut(line, &mut spans).unwrap();
        assert_eq!(spans, [(0, 2), (3, 5), (6, 8), (9, 10)]);
    }

    /// What the `csv` crate reads from `text`, as a part read it before [`Split`]: each
    /// record's line and fields, and the line ends; None where the part gave up.
    fn by_csv_crate(text: &[u8], width: usize) -> Option<(Records, u64)> {
        let mut quoting = Quoting::new(b',');
        quoting.scan(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(text);
        let mut record = csv::ByteRecord::new();
        let mut records = Vec::new();
        while reader.read_byte_record(&mut record).ok()? {
            if record.len() > width {
                return None;
            }
            let line = unterminated(reader.position().line(), &record)
                .saturating_sub(1)
                .max(1);
            records.push((line, record.iter().map(<[u8]>::to_vec).collect()));
        }
        if quoting.open() {
            return None;
        }
        Some((records, reader.position().line().saturating_sub(1)))
    }

    fn by_split(text: &[u8], width: usize, chunk: usize) -> Option<(Records, u64)> {
        let split = Split {
            delimiter: b',',
            width,
            max_record: 1 << 20,
            chunk,
        };
        let mut records = Vec::new();
        let lines = split.each(text, |line, r, _| {
            let fields = (0..r.count())
                .map(|i| Some(r.bytes()[r.field(i)?].to_vec()))
                .collect::<Option<Vec<_>>>()?;
            records.push((line, fields));
            Some(())
        })?;
        Some((records, lines))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Quotes, doubled quotes, separators, line ends inside and outside quotes, CRs,
        /// blank lines, short and long records, read through buffers of any size.
        #[test]
        fn split_reads_as_the_csv_crate(
            bytes in prop::collection::vec(
                prop::sample::select(vec![b'a', b'b', b',', b'"', b'\n', b'\r', b' ', 0xc3, 0xa9]),
                0..200,
            ),
            width in 1usize..6,
            chunk in 1usize..40,
        ) {
            let mut text = bytes;
            // A part's text ends with a line end.
            if text.last() != Some(&b'\n') {
                text.push(b'\n');
            }
            prop_assert_eq!(by_split(&text, width, chunk), by_csv_crate(&text, width));
        }
    }

    #[test]
    fn split_gives_up_on_a_record_longer_than_the_limit() {
        let split = |max_record| Split {
            delimiter: b',',
            width: 3,
            max_record,
            chunk: 4,
        };
        let text = b"a,b\n\"x\ny\",zzzzzzzzzzzzzzzzzzzz\nc\n";
        assert!(split(1000).each(&text[..], |_, _, _| Some(())).is_some());
        assert!(split(16).each(&text[..], |_, _, _| Some(())).is_none());
        let plain = b"a,b\nccccccccccccccccccccccccc\n";
        assert!(split(16).each(&plain[..], |_, _, _| Some(())).is_none());
    }
}
