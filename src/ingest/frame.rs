//! Records of a Parquet file, read a row group at a time, in parts at once.
//!
//! Opening reads the file's metadata and first rows only. Streaming gives each core a run of
//! row groups; a row group is decoded (only the columns used), cast to text a chunk at a time
//! (so that `validate` sees the values as text, as from a CSV file) and fed to the part's
//! fork of the sink; the forks are joined back in row order. At no time is the whole file
//! held decoded.

use std::io::Cursor;

use polars::prelude::*;
use polars_buffer::Buffer;
use polars_parquet::parquet::page::CompressedPage;
use polars_parquet::parquet::read::get_page_iterator;

use super::{trim, Record, Sink, N_FIELDS};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::schema::FIELDS;

/// Rows cast to text at a time.
const CHUNK: usize = 1 << 16;

/// A Parquet file, opened.
pub(crate) struct ParquetSource {
    pub(super) raw: Buffer<u8>,
    /// (field, column of the file) of each field the file has.
    pub(super) plan: Vec<(usize, String)>,
    /// (first row, rows) of each row group.
    pub(super) groups: Vec<(usize, usize)>,
}

/// (first row, rows) of each row group of the file.
pub(super) fn row_groups(meta: &FileMetadataRef) -> Vec<(usize, usize)> {
    let mut at = 0usize;
    meta.row_groups
        .iter()
        .map(|g| {
            let group = (at, g.num_rows());
            at = at.saturating_add(g.num_rows());
            group
        })
        .collect()
}

/// Checks the file's footer (its metadata, in Thrift's compact encoding) before polars reads
/// it: every list, map and string must fit in the bytes that remain, since polars reserves
/// room for the number of elements a list claims, and a failed allocation ends the process
/// (found by fuzzing, F5: a list claiming billions of elements in a 2 KB file). The walk
/// reads each field of the metadata once and keeps nothing.
pub(super) fn check_footer(raw: &[u8]) -> std::result::Result<(), String> {
    let damaged =
        |what: &str| format!("its metadata is damaged ({what}); expected a complete Parquet file");
    let n = raw.len();
    if n < 12 || &raw[n - 4..] != b"PAR1" {
        return Err(damaged("no footer"));
    }
    let len = u32::from_le_bytes([raw[n - 8], raw[n - 7], raw[n - 6], raw[n - 5]]) as usize;
    if len > n - 12 {
        return Err(damaged("the footer claims more bytes than the file has"));
    }
    let mut walk = Compact {
        bytes: &raw[n - 8 - len..n - 8],
        at: 0,
    };
    walk.skip(STRUCT, 0).map_err(damaged)
}

/// Thrift compact types used by the walk.
const STRUCT: u8 = 12;

/// A walk over Thrift compact-encoded bytes that checks every length against what remains.
struct Compact<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Compact<'_> {
    fn byte(&mut self) -> std::result::Result<u8, &'static str> {
        let b = *self.bytes.get(self.at).ok_or("it ends early")?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> std::result::Result<u64, &'static str> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("a number too large");
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number too large")
    }

    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.at) as u64
    }

    /// A count of elements, each taking at least one byte.
    fn count(&mut self, size: u64) -> std::result::Result<u64, &'static str> {
        if size > self.remaining() {
            return Err("a list longer than the bytes left");
        }
        Ok(size)
    }

    fn skip(&mut self, kind: u8, depth: u32) -> std::result::Result<(), &'static str> {
        if depth > 64 {
            return Err("nested too deeply");
        }
        match kind {
            // Booleans: in a field the value is the type; in a list, a byte.
            1 | 2 => Ok(()),
            3 => self.byte().map(|_| ()),
            4..=6 => self.varint().map(|_| ()),
            7 => {
                if self.remaining() < 8 {
                    return Err("it ends early");
                }
                self.at += 8;
                Ok(())
            }
            8 => {
                let len = self.varint()?;
                if len > self.remaining() {
                    return Err("a string longer than the bytes left");
                }
                self.at += len as usize;
                Ok(())
            }
            9 | 10 => {
                let head = self.byte()?;
                let size = match head >> 4 {
                    15 => self.varint()?,
                    s => u64::from(s),
                };
                let element = head & 0x0f;
                for _ in 0..self.count(size)? {
                    match element {
                        1 | 2 => self.byte().map(|_| ())?,
                        e => self.skip(e, depth + 1)?,
                    }
                }
                Ok(())
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                for _ in 0..self.count(size)? {
                    for t in [types >> 4, types & 0x0f] {
                        match t {
                            1 | 2 => self.byte().map(|_| ())?,
                            t => self.skip(t, depth + 1)?,
                        }
                    }
                }
                Ok(())
            }
            STRUCT => loop {
                let head = self.byte()?;
                if head == 0 {
                    return Ok(());
                }
                if head >> 4 == 0 {
                    self.varint()?; // the field id, written out
                }
                self.skip(head & 0x0f, depth + 1)?;
            },
            _ => Err("an unknown type"),
        }
    }
}

/// Checks the header of every data page against its row group before anything is decoded.
///
/// The decoder reserves memory for the values a page header claims; a damaged header (a
/// negative count, or billions of values in a few bytes) made it ask for exabytes, and a
/// failed allocation ends the process (found by fuzzing, F4). A page or column chunk of a
/// plain column may not hold more values than its row group has rows, and a row group may
/// not claim more rows (nor a page more bytes) than the memory available could hold.
pub(super) fn check_pages(
    raw: &Buffer<u8>,
    meta: &FileMetadataRef,
    settings: &Settings,
) -> std::result::Result<(), String> {
    // At least 16 bytes a value once decoded (a string view); 256 MiB values when the
    // memory available is not known.
    let most = settings.memory_limit.map_or(1 << 28, |b| b / 16) as usize;
    for (g, group) in meta.row_groups.iter().enumerate() {
        let rows = group.num_rows();
        if rows > most {
            return Err(format!(
                "row group {} claims {rows} rows, more than the memory available could hold; expected a complete Parquet file",
                g + 1
            ));
        }
        for column in group.parquet_columns() {
            let name = column.descriptor().path_in_schema.join(".");
            // A nested column may hold more values than rows.
            let cap = if column.descriptor().path_in_schema.len() == 1 {
                rows
            } else {
                most
            };
            // The column chunk's count sizes the decoder's buffers too.
            let values = column.num_values();
            if !(0..=cap as i64).contains(&values) {
                return Err(format!(
                    "column {name:?} in row group {} claims {values} values where the row group has {rows} rows; the file is damaged; expected a complete Parquet file",
                    g + 1
                ));
            }
            let pages =
                get_page_iterator(column, std::io::Cursor::new(raw.clone()), Vec::new(), most)
                    .map_err(|e| e.to_string())?;
            for page in pages {
                if let CompressedPage::Data(page) = page.map_err(|e| e.to_string())? {
                    if page.num_values() > cap || page.uncompressed_size() > most {
                        // A count read from a negative number shows as that number.
                        let signed = |n: usize| (n as i64).to_string();
                        return Err(format!(
                            "a page of column {name:?} in row group {} claims {} values ({} bytes) where the row group has {rows} rows; the file is damaged; expected a complete Parquet file",
                            g + 1,
                            signed(page.num_values()),
                            signed(page.uncompressed_size()),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Feeds every row of `src` (input `index`, at `path`) to `sink`, in parts on every core.
pub(super) fn stream(
    index: usize,
    path: &str,
    src: &ParquetSource,
    settings: &Settings,
    sink: &mut impl Sink,
) -> Result<()> {
    let rows = (src.groups.iter().map(|g| g.1)).fold(0usize, usize::saturating_add);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = (settings.parts)
        .unwrap_or(cores)
        .min(src.groups.len())
        .max(1);
    // A row group goes to the part its first row falls in.
    let mut runs: Vec<Vec<(usize, usize)>> = vec![Vec::new(); parts];
    for &g in &src.groups {
        let part = (g.0 as u128 * parts as u128 / rows.max(1) as u128) as usize;
        runs[part.min(parts - 1)].push(g);
    }
    // The Parquet reader can panic on damaged data (found by fuzzing): such a file is
    // invalid data, not a crash. The default panic message is kept off stderr meanwhile.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let read = if parts < 2 {
        runs.iter()
            .flatten()
            .try_for_each(|&g| feed(index, &group(path, src, g)?, g.0, sink))
    } else {
        let forks = std::thread::scope(|scope| {
            let threads: Vec<_> = runs
                .iter()
                .map(|run| {
                    let mut part = sink.fork(parts);
                    scope.spawn(move || -> Result<_> {
                        for &g in run {
                            feed(index, &group(path, src, g)?, g.0, &mut part)?;
                        }
                        Ok(part)
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|_| Err(damaged(path))))
                .collect::<Vec<_>>()
        });
        forks.into_iter().try_for_each(|part| {
            // Lines are row numbers + 2 already: nothing to shift.
            sink.join(part?, 0);
            Ok(())
        })
    };
    std::panic::set_hook(hook);
    read
}

fn damaged(path: &str) -> Error {
    Error::InvalidData(format!(
        "{path}: cannot be read as Parquet: the file is damaged; expected a complete Parquet file"
    ))
}

/// Row group `(start, rows)` of `src`, decoded, with one column per field in [`FIELDS`]
/// order (all null where the file lacks the field).
fn group(path: &str, src: &ParquetSource, (start, rows): (usize, usize)) -> Result<DataFrame> {
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(Cursor::new(&src.raw[..]))
            .with_columns(Some(src.plan.iter().map(|(_, c)| c.clone()).collect()))
            .with_slice(Some((start, rows)))
            .read_parallel(ParallelStrategy::None)
            .finish()
    }));
    let frame = match read {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => {
            return Err(Error::InvalidData(format!(
                "{path}: cannot be read as Parquet: {e}"
            )))
        }
        Err(_) => return Err(damaged(path)),
    };
    // Every value is read as text: a column of lists or structs cannot be.
    for (_, name) in &src.plan {
        let column = frame.column(name)?;
        if column.dtype().is_nested() {
            return Err(Error::InvalidData(format!(
                "{path}: column {name:?} holds values of type {}; expected one number or text per record",
                column.dtype()
            )));
        }
    }
    let height = frame.height();
    let mut columns: Vec<Column> = Vec::with_capacity(N_FIELDS);
    for (field, spec) in FIELDS.iter().enumerate() {
        let c = match src.plan.iter().find(|(f, _)| *f == field) {
            Some((_, name)) => frame.column(name)?.clone().with_name(spec.name.into()),
            None => Column::full_null(spec.name.into(), height, &DataType::String),
        };
        columns.push(c);
    }
    Ok(DataFrame::new(height, columns)?)
}

/// Feeds the rows of `frame`, the file's rows from `first` on, to `sink`, cast to text a
/// chunk at a time.
fn feed(index: usize, frame: &DataFrame, first: usize, sink: &mut impl Sink) -> Result<()> {
    let mut at = 0usize;
    while at < frame.height() {
        let len = (frame.height() - at).min(CHUNK);
        let chunk = frame.slice(at as i64, len);
        let columns: Vec<Column> = FIELDS
            .iter()
            .map(|field| Ok(chunk.column(field.name)?.cast(&DataType::String)?))
            .collect::<Result<_>>()?;
        let text: Vec<Vec<Option<&str>>> = columns
            .iter()
            .map(|c| Ok(c.str()?.iter().collect()))
            .collect::<Result<_>>()?;
        for i in 0..len {
            let mut fields = [""; N_FIELDS];
            for (k, c) in text.iter().enumerate() {
                fields[k] = trim(c[i].unwrap_or(""));
            }
            sink.record(&Record {
                file: index,
                line: (first + at + i) as u64 + 2,
                fields,
            })?;
        }
        at += len;
    }
    Ok(())
}
