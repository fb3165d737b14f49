//! Records of a Parquet file, read a slice of a row group at a time, in parts at once.
//!
//! Opening reads the file's metadata and first rows only. Streaming cuts the row groups into
//! slices of [`SLICE`] rows, or an eighth of a larger group ([`MAX_SLICES`]), and gives each
//! core a run of them; a slice is decoded
//! (only the columns used), cast to text a chunk at a time (so that `validate` sees the
//! values as text, as from a CSV file) and fed to the part's fork of the sink; the forks are
//! joined back in row order. At no time is the whole file held decoded.

use std::io::Cursor;

use polars::prelude::*;
use polars_buffer::Buffer;
use polars_parquet::parquet::page::CompressedPage;
use polars_parquet::parquet::read::get_page_iterator;

use super::{Record, Sink, N_FIELDS};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::schema::trim;
use crate::schema::FIELDS;

/// Rows cast to text at a time.
const CHUNK: usize = 1 << 16;

/// Rows decoded at a time (131,072), unless a row group of more than 1,048,576 rows is cut
/// into eighths ([`MAX_SLICES`]). A decoded column takes 16 bytes a row as text and 8 as
/// numbers, so a slice of all twelve fields is at most 24 MiB, each column 2 MiB: glibc serves
/// them from a heap and keeps them when they are let go of (below its mmap threshold, 8 MiB,
/// and its trim threshold, 32 MiB: `crate::memory`), and the next slice reuses that memory.
/// A whole row group of 560,000 rows (what `prolo synth` writes; pyarrow writes up to
/// 1,048,576) took a fresh mapping for each of its columns, faulted in a page at a time and
/// given back after: at 2,000,000 courses 553,000 page faults against 127,000, and `analyze`
/// 2.11 → 1.70 s (README, Performance). Slicing also lets a file of few, large groups be read
/// on every core. Slices much smaller cost more than they save: a page that spans several
/// slices is decompressed for each, and a column's dictionary decoded for each.
const SLICE: usize = 1 << 17;

/// A Parquet file, opened.
pub(crate) struct ParquetSource {
    pub(super) raw: Buffer<u8>,
    /// The file's metadata, read once.
    pub(super) meta: FileMetadataRef,
    /// The same without its row groups: each group is read with its own metadata.
    pub(super) bare: FileMetadata,
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
/// it. Polars reserves room for the number of elements a list claims, and a failed allocation
/// ends the process, so:
/// - every list, map and string must fit in the bytes that remain (found by fuzzing, F5: a
///   list claiming billions of elements in a 2 KB file);
/// - every field polars reads must carry the wire type Parquet defines for it, since polars
///   picks how to read a field by its id alone (F7: a field of `FileMetaData` with another
///   type, taken for a list header, made polars reserve 136 GB).
///
/// The walk reads each field of the metadata once and keeps nothing.
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
        open: Vec::new(),
    };
    walk.skip(STRUCT, Some(&FILE_METADATA), 0)
        .map_err(|stop| match stop {
            Stop::Damaged(what) => damaged(&what),
            Stop::TooDeep => format!(
                "its schema nests columns more than {MAX_NESTING} levels deep, which prolo does not read; expected a schema of flat columns"
            ),
        })
}

/// Thrift compact types.
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

/// A Thrift struct of the footer that polars reads: the fields it reads by id, each with the
/// type Parquet's definition (parquet.thrift) gives it. Fields not listed are skipped by
/// their wire type, by polars as by the walk.
struct Shape {
    name: &'static str,
    fields: &'static [(i16, Kind)],
}

/// The type of a field polars reads.
#[derive(Clone, Copy)]
enum Kind {
    /// A compact type other than a struct or a list (booleans: either boolean type).
    Plain(u8),
    Struct(&'static Shape),
    /// A struct whose fields polars skips (the empty structs of unions).
    AnyStruct,
    /// A list of elements of a compact type, and their shape when they are structs.
    List(u8, Option<&'static Shape>),
}

use Kind::{AnyStruct, List, Plain};

static FILE_METADATA: Shape = Shape {
    name: "FileMetaData",
    fields: &[
        (1, Plain(I32)),
        (2, List(STRUCT, Some(&SCHEMA_ELEMENT))),
        (3, Plain(I64)),
        (4, List(STRUCT, Some(&ROW_GROUP))),
        (5, List(STRUCT, Some(&KEY_VALUE))),
        (6, Plain(BINARY)),
        (7, List(STRUCT, Some(&COLUMN_ORDER))),
    ],
};
static SCHEMA_ELEMENT: Shape = Shape {
    name: "SchemaElement",
    fields: &[
        (1, Plain(I32)),
        (2, Plain(I32)),
        (3, Plain(I32)),
        (4, Plain(BINARY)),
        (5, Plain(I32)),
        (6, Plain(I32)),
        (7, Plain(I32)),
        (8, Plain(I32)),
        (9, Plain(I32)),
        (10, Kind::Struct(&LOGICAL_TYPE)),
    ],
};
static LOGICAL_TYPE: Shape = Shape {
    name: "LogicalType",
    fields: &[
        (1, AnyStruct),
        (2, AnyStruct),
        (3, AnyStruct),
        (4, AnyStruct),
        (5, Kind::Struct(&DECIMAL_TYPE)),
        (6, AnyStruct),
        (7, Kind::Struct(&TIME_TYPE)),
        (8, Kind::Struct(&TIME_TYPE)),
        (10, Kind::Struct(&INT_TYPE)),
        (11, AnyStruct),
        (12, AnyStruct),
        (13, AnyStruct),
        (14, AnyStruct),
        (15, AnyStruct),
    ],
};
static DECIMAL_TYPE: Shape = Shape {
    name: "DecimalType",
    fields: &[(1, Plain(I32)), (2, Plain(I32))],
};
/// `TimeType` and `TimestampType` have the same fields.
static TIME_TYPE: Shape = Shape {
    name: "TimeType",
    fields: &[(1, Plain(BOOL_TRUE)), (2, Kind::Struct(&TIME_UNIT))],
};
static TIME_UNIT: Shape = Shape {
    name: "TimeUnit",
    fields: &[(1, AnyStruct), (2, AnyStruct), (3, AnyStruct)],
};
static INT_TYPE: Shape = Shape {
    name: "IntType",
    fields: &[(1, Plain(BYTE)), (2, Plain(BOOL_TRUE))],
};
static ROW_GROUP: Shape = Shape {
    name: "RowGroup",
    fields: &[
        (1, List(STRUCT, Some(&COLUMN_CHUNK))),
        (2, Plain(I64)),
        (3, Plain(I64)),
        (4, List(STRUCT, Some(&SORTING_COLUMN))),
        (5, Plain(I64)),
        (6, Plain(I64)),
        (7, Plain(I16)),
    ],
};
static COLUMN_CHUNK: Shape = Shape {
    name: "ColumnChunk",
    fields: &[
        (1, Plain(BINARY)),
        (2, Plain(I64)),
        (3, Kind::Struct(&COLUMN_METADATA)),
        (4, Plain(I64)),
        (5, Plain(I32)),
        (6, Plain(I64)),
        (7, Plain(I32)),
    ],
};
static COLUMN_METADATA: Shape = Shape {
    name: "ColumnMetaData",
    fields: &[
        (1, Plain(I32)),
        (2, List(I32, None)),
        (3, List(BINARY, None)),
        (4, Plain(I32)),
        (5, Plain(I64)),
        (6, Plain(I64)),
        (7, Plain(I64)),
        (9, Plain(I64)),
        (10, Plain(I64)),
        (11, Plain(I64)),
        (12, Kind::Struct(&STATISTICS)),
        (14, Plain(I64)),
        (15, Plain(I32)),
    ],
};
static STATISTICS: Shape = Shape {
    name: "Statistics",
    fields: &[
        (1, Plain(BINARY)),
        (2, Plain(BINARY)),
        (3, Plain(I64)),
        (4, Plain(I64)),
        (5, Plain(BINARY)),
        (6, Plain(BINARY)),
        (7, Plain(BOOL_TRUE)),
        (8, Plain(BOOL_TRUE)),
    ],
};
static KEY_VALUE: Shape = Shape {
    name: "KeyValue",
    fields: &[(1, Plain(BINARY)), (2, Plain(BINARY))],
};
static SORTING_COLUMN: Shape = Shape {
    name: "SortingColumn",
    fields: &[
        (1, Plain(I32)),
        (2, Plain(BOOL_TRUE)),
        (3, Plain(BOOL_TRUE)),
    ],
};
static COLUMN_ORDER: Shape = Shape {
    name: "ColumnOrder",
    fields: &[(1, AnyStruct), (2, AnyStruct)],
};

/// The name of a compact type, for messages.
fn type_name(kind: u8) -> &'static str {
    match kind {
        BOOL_TRUE | BOOL_FALSE => "a boolean",
        BYTE => "a byte",
        I16 => "an i16",
        I32 => "an i32",
        I64 => "an i64",
        DOUBLE => "a double",
        BINARY => "a string",
        LIST => "a list",
        SET => "a set",
        MAP => "a map",
        STRUCT => "a struct",
        _ => "an unknown type",
    }
}

/// A walk over Thrift compact-encoded bytes that checks every length against what remains.
struct Compact<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The children still to come of each group of the schema open at this point of its
    /// list of elements (the schema's nesting so far).
    open: Vec<i64>,
}

/// Deepest nesting of the schema allowed: polars builds the schema's tree by recursion, so
/// a schema nested tens of thousands of levels deep overflowed its stack (found by reading
/// polars' code, F8). Real schemas nest a few levels.
const MAX_NESTING: usize = 64;

/// Why the walk stopped.
enum Stop {
    /// The footer is not well-formed Parquet metadata (what is wrong).
    Damaged(String),
    /// The schema nests more than [`MAX_NESTING`] levels.
    TooDeep,
}

impl From<&str> for Stop {
    fn from(what: &str) -> Self {
        Stop::Damaged(what.to_string())
    }
}

impl From<String> for Stop {
    fn from(what: String) -> Self {
        Stop::Damaged(what)
    }
}

type Walked = std::result::Result<(), Stop>;

/// A zig-zag encoded number (Thrift compact's signed integers).
fn zigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

impl Compact<'_> {
    fn byte(&mut self) -> std::result::Result<u8, Stop> {
        let b = *self.bytes.get(self.at).ok_or("it ends early")?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> std::result::Result<u64, Stop> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("a number too large".into());
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number too large".into())
    }

    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.at) as u64
    }

    /// A count of elements, each taking at least one byte.
    fn count(&self, size: u64) -> std::result::Result<u64, Stop> {
        if size > self.remaining() {
            return Err("a list longer than the bytes left".into());
        }
        Ok(size)
    }

    /// Skips a list or a set: its header, then its elements, whose type must be `element`
    /// when one is expected (an empty list may leave its type out, as fastparquet writes it).
    fn list(&mut self, element: Option<u8>, shape: Option<&Shape>, depth: u32) -> Walked {
        let head = self.byte()?;
        let size = match head >> 4 {
            15 => self.varint()?,
            s => u64::from(s),
        };
        let found = head & 0x0f;
        if let Some(want) = element {
            if size > 0 && !same_type(found, want) {
                return Err(format!(
                    "a list of {} where Parquet defines a list of {}",
                    type_name(found),
                    type_name(want)
                )
                .into());
            }
        }
        for _ in 0..self.count(size)? {
            match found {
                BOOL_TRUE | BOOL_FALSE => self.byte().map(|_| ())?,
                e => self.skip(e, shape, depth + 1)?,
            }
        }
        Ok(())
    }

    /// Skips a value of compact type `kind`; a struct with a known `shape` has the types of
    /// its known fields checked.
    fn skip(&mut self, kind: u8, shape: Option<&Shape>, depth: u32) -> Walked {
        if depth > 64 {
            return Err("nested too deeply".into());
        }
        match kind {
            // Booleans: in a field the value is the type; in a list, a byte.
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            BYTE => self.byte().map(|_| ()),
            I16..=I64 => self.varint().map(|_| ()),
            DOUBLE => {
                if self.remaining() < 8 {
                    return Err("it ends early".into());
                }
                self.at += 8;
                Ok(())
            }
            BINARY => {
                let len = self.varint()?;
                if len > self.remaining() {
                    return Err("a string longer than the bytes left".into());
                }
                self.at += len as usize;
                Ok(())
            }
            LIST | SET => self.list(None, None, depth),
            MAP => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                for _ in 0..self.count(size)? {
                    for t in [types >> 4, types & 0x0f] {
                        match t {
                            BOOL_TRUE | BOOL_FALSE => self.byte().map(|_| ())?,
                            t => self.skip(t, None, depth + 1)?,
                        }
                    }
                }
                Ok(())
            }
            STRUCT => self.fields(shape, depth),
            _ => Err("an unknown type".into()),
        }
    }

    /// Skips the fields of a struct up to its stop byte. Field ids are worked out as polars
    /// works them out: the last id plus the delta in the header, or the id written out.
    fn fields(&mut self, shape: Option<&Shape>, depth: u32) -> Walked {
        let element = shape.is_some_and(|s| std::ptr::eq(s, &SCHEMA_ELEMENT));
        let mut children = 0i64;
        let mut last = 0i16;
        loop {
            let head = self.byte()?;
            let kind = head & 0x0f;
            if kind == 0 {
                return if element {
                    self.schema_element(children)
                } else {
                    Ok(())
                };
            }
            let id = match head >> 4 {
                0 => {
                    // Truncated to 16 bits as polars reads it.
                    zigzag(self.varint()?) as i16
                }
                delta => last
                    .checked_add(i16::from(delta))
                    .ok_or("a field id out of range")?,
            };
            last = id;
            if element && id == 5 && kind == I32 {
                // num_children, as polars reads it (an i32).
                children = i64::from(zigzag(self.varint()?) as i32);
                continue;
            }
            let known =
                shape.and_then(|s| s.fields.iter().find(|(i, _)| *i == id).map(|f| (s, f.1)));
            let Some((of, want)) = known else {
                self.skip(kind, None, depth + 1)?;
                continue;
            };
            let expected = match want {
                Plain(t) => t,
                Kind::Struct(_) | AnyStruct => STRUCT,
                List(..) => LIST,
            };
            if !same_type(kind, expected) {
                return Err(format!(
                    "field {id} of {} is {} where Parquet defines {}",
                    of.name,
                    type_name(kind),
                    type_name(expected)
                )
                .into());
            }
            match want {
                Kind::Struct(inner) => self.skip(STRUCT, Some(inner), depth + 1)?,
                List(element, inner) => self.list(Some(element), inner, depth + 1)?,
                Plain(_) | AnyStruct => self.skip(kind, None, depth + 1)?,
            }
        }
    }

    /// Follows the schema's tree as polars builds it from its list of elements: each
    /// element is the next child of the innermost group still open (or a root), and a
    /// group's `children` elements follow it.
    fn schema_element(&mut self, children: i64) -> Walked {
        if let Some(top) = self.open.last_mut() {
            *top -= 1;
        }
        if self.open.len() >= MAX_NESTING {
            return Err(Stop::TooDeep);
        }
        if children > 0 {
            self.open.push(children);
        }
        while self.open.last() == Some(&0) {
            self.open.pop();
        }
        Ok(())
    }
}

/// Whether a compact type found is the one wanted (either boolean type for a boolean).
fn same_type(found: u8, want: u8) -> bool {
    found == want || (want == BOOL_TRUE && found == BOOL_FALSE)
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

/// Checks that every column a field reads holds a value (or a null) for each row of each row
/// group, as Parquet defines for a column that is neither nested nor repeated (every writer
/// tried counts so: pyarrow, pandas, polars, DuckDB, fastparquet). Polars reads a column
/// chunk's values up to the count it claims and gives a slice the rows the group claims, so a
/// column claiming fewer would have the group's last rows lost; its release build stopped on
/// it with an engine error (exit 1). Columns no field reads are not checked.
fn check_counts(path: &str, src: &ParquetSource) -> Result<()> {
    for (g, group) in src.meta.row_groups.iter().enumerate() {
        let rows = group.num_rows();
        for column in group.parquet_columns() {
            let d = column.descriptor();
            let read = (src.plan.iter()).any(|(_, name)| d.path_in_schema == [name.as_str()]);
            if read && d.descriptor.max_rep_level == 0 && column.num_values() != rows as i64 {
                return Err(Error::InvalidData(format!(
                    "{path}: cannot be read as Parquet: column {:?} in row group {} claims {} values where the row group has {rows} rows; the file is damaged; expected a complete Parquet file",
                    d.path_in_schema.join("."),
                    g + 1,
                    column.num_values(),
                )));
            }
        }
    }
    Ok(())
}

/// A row group is cut into at most this many slices (unless the slice is set): each slice
/// decodes the group's dictionaries again. A file written as one row group of 8.9 million
/// rows (older pyarrow wrote a table as one group), its dictionary of 2 million patient_ids
/// among them, took 3.26 s in slices of 131,072 rows against 2.36 s in slices of 1,048,576
/// (peak 590 against 767 MiB; rotated runs); in eighths, 1.97 s and 910 MiB, against 3.23 s
/// and 2,128 MiB decoded whole.
const MAX_SLICES: usize = 8;

/// (row group, first row in the group, rows) of each slice of `groups` (the (first row,
/// rows) of each row group), in the file's order: each group cut into runs of `most` rows
/// (at least one), or when `most` is None, of [`SLICE`] rows or an eighth of the group
/// ([`MAX_SLICES`]), whichever is more.
fn slices(groups: &[(usize, usize)], most: Option<usize>) -> Vec<(usize, usize, usize)> {
    (groups.iter().enumerate())
        .flat_map(|(g, &(_, rows))| {
            let step = most.unwrap_or(SLICE.max(rows.div_ceil(MAX_SLICES))).max(1);
            (0..rows)
                .step_by(step)
                .map(move |at| (g, at, step.min(rows - at)))
        })
        .collect()
}

/// Feeds every row of `src` (input `index`, at `path`) to `sink`, in parts on every core.
pub(super) fn stream(
    index: usize,
    path: &str,
    src: &ParquetSource,
    settings: &Settings,
    sink: &mut impl Sink,
) -> Result<()> {
    check_counts(path, src)?;
    let rows = (src.groups.iter().map(|g| g.1)).fold(0usize, usize::saturating_add);
    let slices = slices(&src.groups, settings.parquet_slice);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = (settings.parts).unwrap_or(cores).min(slices.len()).max(1);
    // The file's first row of a slice.
    let first = |&(g, at, _): &(usize, usize, usize)| src.groups[g].0.saturating_add(at);
    // A slice goes to the part its first row falls in.
    let mut runs: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); parts];
    for slice in &slices {
        let part = (first(slice) as u128 * parts as u128 / rows.max(1) as u128) as usize;
        runs[part.min(parts - 1)].push(*slice);
    }
    let read_slice = |slice: &(usize, usize, usize), sink: &mut _| {
        feed(index, &decode(path, src, *slice)?, first(slice), sink)
    };
    // The Parquet reader can panic on damaged data (found by fuzzing): such a file is
    // invalid data, not a crash. The default panic message is kept off stderr meanwhile.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let read = if parts < 2 {
        slices.iter().try_for_each(|slice| read_slice(slice, sink))
    } else {
        let forks = std::thread::scope(|scope| {
            let threads: Vec<_> = runs
                .iter()
                .map(|run| {
                    let mut part = sink.fork(parts);
                    scope.spawn(move || -> Result<_> {
                        for slice in run {
                            read_slice(slice, &mut part)?;
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

/// The `rows` rows of row group `g` of `src` from its row `at` on, decoded, with one column
/// per field in [`FIELDS`] order (all null where the file lacks the field).
fn decode(
    path: &str,
    src: &ParquetSource,
    (g, at, rows): (usize, usize, usize),
) -> Result<DataFrame> {
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Metadata holding this row group alone. Given the whole file's metadata and a slice,
        // polars builds an empty column (a page reader and a decompressor each) for every
        // group before the slice, so reading all groups this way took time quadratic in their
        // number: 56,774 zstd contexts for a file of 101 groups and 12 columns.
        let mut meta = src.bare.clone();
        meta.row_groups.push(src.meta.row_groups[g].clone());
        meta.num_rows = src.groups[g].1;
        let mut reader = ParquetReader::new(Cursor::new(&src.raw[..]));
        reader.set_metadata(Arc::new(meta));
        reader
            .with_columns(Some(src.plan.iter().map(|(_, c)| c.clone()).collect()))
            .read_parallel(ParallelStrategy::None)
            .with_slice(Some((at, rows)))
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
    // Polars gives the frame the slice's height even where a column decodes fewer values:
    // the rows missing would be lost. (`check_counts` refuses a column that claims fewer;
    // one whose pages hold fewer than it claims stopped polars' page reader in every case
    // tried, so this is a guard, not a path known to be reached.)
    for (_, name) in &src.plan {
        let held = frame.column(name)?.len();
        if held != rows {
            return Err(Error::InvalidData(format!(
                "{path}: cannot be read as Parquet: column {name:?} in row group {} gives {held} values for its rows {} to {}; the file is damaged; expected a complete Parquet file",
                g + 1,
                at + 1,
                at + rows,
            )));
        }
    }
    let height = rows;
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

/// A column as text, as a CSV file would hold it. A timestamp gives its date as stored
/// (YYYY-MM-DD, the `date` field's form; in UTC for a timestamp with a time zone): the time
/// of day has no place in a record. Days since a course's first encounter are differences of
/// dates, so a time zone that moves every date of a course alike changes none of them; an
/// encounter late in the evening in a zone west of UTC can fall a day later in UTC than
/// another (README, "Parquet input").
pub(super) fn as_text(column: &Column) -> Result<Column> {
    let column = match column.dtype() {
        DataType::Datetime(..) => column.cast(&DataType::Date)?,
        _ => column.clone(),
    };
    Ok(column.cast(&DataType::String)?)
}

/// One field's values in a chunk, to be read as text a value at a time.
enum Values {
    /// Text, or anything else cast to text by polars (dates, booleans, decimals, …).
    Text(StringChunked),
    /// Integers that fit in an i64 (not u64): written by `itoa`, as polars' cast writes them.
    Int(Int64Chunked),
    /// Doubles: written by `zmij`, as polars' cast writes them (not f32, whose text differs
    /// from that of the same value widened).
    Float(Float64Chunked),
}

impl Values {
    /// The column as one of the above, without making text of numbers: a typed file's
    /// numbers were cast to a column of text, then read back as numbers (15 % of a typed
    /// file's read).
    fn of(column: &Column) -> Result<Values> {
        use DataType::*;
        Ok(match column.dtype() {
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 => {
                Values::Int(column.cast(&Int64)?.i64()?.rechunk().into_owned())
            }
            Float64 => Values::Float(column.f64()?.rechunk().into_owned()),
            _ => Values::Text(as_text(column)?.str()?.rechunk().into_owned()),
        })
    }

    /// Its one array, to be read in place.
    fn array(&self) -> Array<'_> {
        match self {
            Values::Text(t) => Array::Text(t.downcast_as_array()),
            Values::Int(n) => Array::Int(n.downcast_as_array()),
            Values::Float(x) => Array::Float(x.downcast_as_array()),
        }
    }
}

/// The one array of a field's [`Values`].
enum Array<'a> {
    Text(&'a <StringType as PolarsDataType>::Array),
    Int(&'a <Int64Type as PolarsDataType>::Array),
    Float(&'a <Float64Type as PolarsDataType>::Array),
}

/// Room to write one number in.
#[derive(Default)]
struct Digits {
    int: itoa::Buffer,
    float: zmij::Buffer,
    tenths: String,
}

impl Digits {
    /// `x` as polars' cast writes it (`zmij`'s shortest text that reads back as `x`). A
    /// number of tenths below a million in magnitude (every score of the usual scales) is
    /// written here directly, as zmij writes it ("6.5", "7.0", "-0.5"): the double nearest
    /// such a number has no shorter text than its tenths, since doubles there are closer than
    /// 10⁻⁹ apart. Writing every double through zmij was a tenth of a typed file's read.
    fn float(&mut self, x: f64) -> &str {
        let k = (x * 10.0).round();
        // (false for NaN and the infinities; -0.0 goes to zmij for its sign)
        if !(k.abs() < 1e7 && k / 10.0 == x && (k != 0.0 || x.is_sign_positive())) {
            return self.float.format(x);
        }
        let k = k as i64;
        let text = &mut self.tenths;
        text.clear();
        if k < 0 {
            text.push('-');
        }
        text.push_str(self.int.format((k / 10).unsigned_abs()));
        text.push('.');
        text.push(char::from(b'0' + (k % 10).unsigned_abs() as u8));
        text
    }
}

/// Feeds the rows of `frame`, the file's rows from `first` on, to `sink`, as text a chunk at
/// a time: the same text as polars' cast to text gives, so that every finding reads as it
/// did when the columns were cast. Each field's values are one array, read in place.
fn feed(index: usize, frame: &DataFrame, first: usize, sink: &mut impl Sink) -> Result<()> {
    let mut at = 0usize;
    let mut digits: [Digits; N_FIELDS] = Default::default();
    while at < frame.height() {
        let len = (frame.height() - at).min(CHUNK);
        let chunk = frame.slice(at as i64, len);
        let values: Vec<Values> = FIELDS
            .iter()
            .map(|field| Values::of(chunk.column(field.name)?))
            .collect::<Result<_>>()?;
        let arrays: Vec<Array> = values.iter().map(Values::array).collect();
        for i in 0..len {
            let mut fields = [""; N_FIELDS];
            for ((field, a), room) in fields.iter_mut().zip(&arrays).zip(&mut digits) {
                *field = match a {
                    Array::Text(t) => trim(t.get(i).unwrap_or("")),
                    Array::Int(n) => n.get(i).map_or("", |n| room.int.format(n)),
                    Array::Float(x) => x.get(i).map_or("", |x| room.float(x)),
                };
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

#[cfg(test)]
mod tests {
    use super::{check_footer, slices, SLICE};

    /// Slices cut every row group into runs of at most the rows asked for, in the file's
    /// order, every row in exactly one; a group never shares a slice with another.
    #[test]
    fn slices_cover_every_row_once_in_order() {
        let groups = [(0, 5), (5, 0), (5, 3), (8, 7)];
        assert_eq!(
            slices(&groups, Some(3)),
            [
                (0, 0, 3),
                (0, 3, 2),
                (2, 0, 3),
                (3, 0, 3),
                (3, 3, 3),
                (3, 6, 1)
            ]
        );
        assert_eq!(
            slices(&groups, Some(100)),
            [(0, 0, 5), (2, 0, 3), (3, 0, 7)]
        );
        assert_eq!(slices(&groups, None), [(0, 0, 5), (2, 0, 3), (3, 0, 7)]);
        // Zero rows a slice is read as one.
        assert_eq!(slices(&[(0, 2)], Some(0)), [(0, 0, 1), (0, 1, 1)]);
        // By default, SLICE rows, or an eighth of a larger group.
        let big = [(0, SLICE + 1), (SLICE + 1, 8 * SLICE + 9)];
        let cut: Vec<usize> = slices(&big, None).iter().map(|s| s.2).collect();
        let eighth = SLICE + 2;
        assert_eq!(
            cut,
            [
                SLICE,
                1,
                eighth,
                eighth,
                eighth,
                eighth,
                eighth,
                eighth,
                eighth,
                8 * SLICE + 9 - 7 * eighth
            ]
        );
        for most in 1..10 {
            let mut next = 0;
            for (g, at, rows) in slices(&groups, Some(most)) {
                assert!(rows >= 1 && rows <= most && at + rows <= groups[g].1);
                assert_eq!(groups[g].0 + at, next, "in order, none missed ({most})");
                next += rows;
            }
            assert_eq!(next, 15);
        }
    }

    /// Tenths are written as zmij writes them: every number of tenths of magnitude up to
    /// 10,000 and samples up to a million, and the doubles either side of them (zmij's).
    #[test]
    fn tenths_are_written_as_zmij_writes_them() {
        let mut digits = super::Digits::default();
        let mut zmij = zmij::Buffer::new();
        let mut check = |x: f64| {
            let want = zmij.format(x).to_string();
            assert_eq!(digits.float(x), want, "{x:e}");
        };
        let ks = (-100_000i64..=100_000)
            .chain((0..20_000).map(|i| i * 499_979 % 20_000_000 - 10_000_000));
        for k in ks {
            let x = k as f64 / 10.0;
            check(x);
            check(f64::from_bits(x.to_bits() + 1));
            check(f64::from_bits(x.to_bits().wrapping_sub(1)));
        }
        for x in [
            0.0,
            -0.0,
            1e6,
            -1e6,
            999_999.9,
            1e7,
            0.05,
            0.25,
            1e-7,
            f64::NAN,
            f64::INFINITY,
        ] {
            check(x);
        }
    }

    /// The text a typed column is fed as is the text polars' cast to text gives, value for
    /// value (integers of every width, doubles and floats of every kind, nulls), so
    /// that a typed file's findings read as they did when its columns were cast.
    #[test]
    fn typed_numbers_are_fed_as_polars_casts_them() {
        use super::{as_text, feed, Record, Sink, FIELDS, N_FIELDS};
        use polars::prelude::*;

        struct Collect(Vec<[String; N_FIELDS]>);
        impl Sink for Collect {
            fn record(&mut self, r: &Record) -> crate::error::Result<()> {
                self.0.push(r.fields.map(str::to_string));
                Ok(())
            }
            fn fork(&self, _: usize) -> Self {
                Collect(Vec::new())
            }
            fn join(&mut self, part: Self, _: u64) {
                self.0.extend(part.0);
            }
        }
        let floats = [
            Some(0.1),
            Some(7.0),
            Some(-0.0),
            Some(4.5),
            None,
            Some(1e300),
            Some(-2.5e-8),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(123456789.125),
            Some(1e16),
        ];
        let n = floats.len();
        let ints: Vec<Option<i64>> = (0..n as i64)
            .map(|k| (k != 3).then_some(k * 1_000_000_007 - 5_000_000_000))
            .collect();
        // Values that fit each narrower width (negative ones for the signed), and a null.
        let small: Vec<Option<i64>> = (0..n as i64)
            .map(|k| (k != 5).then_some(k * 21 - 115))
            .collect();
        let unsigned: Vec<Option<i64>> =
            (0..n as i64).map(|k| (k != 5).then_some(k * 23)).collect();
        let mid: Vec<Option<i64>> = (0..n as i64)
            .map(|k| (k != 7).then_some(k * 100_000_007 - 600_000_000))
            .collect();
        let umid: Vec<Option<i64>> = (0..n as i64)
            .map(|k| (k != 7).then_some(k * 300_000_007))
            .collect();
        let types = [
            (&ints, DataType::Int64),
            (&mid, DataType::Int32),
            (&small, DataType::Int16),
            (&small, DataType::Int8),
            (&umid, DataType::UInt32),
            (&unsigned, DataType::UInt16),
            (&unsigned, DataType::UInt8),
            (&umid, DataType::UInt64),
        ];
        let mut columns = Vec::new();
        for (k, field) in FIELDS.iter().enumerate() {
            let name = field.name.into();
            let column: Column = match k % 10 {
                0 => Series::new(name, &floats).into(),
                9 => Series::new(name, &floats)
                    .cast(&DataType::Float32)
                    .unwrap()
                    .into(),
                t => {
                    let (values, dtype) = &types[t - 1];
                    // Every value fits: only the one null is null.
                    let column = Series::new(name, values.as_slice()).strict_cast(dtype);
                    column.unwrap().into()
                }
            };
            columns.push(column);
        }
        let frame = DataFrame::new(n, columns).unwrap();
        let mut fed = Collect(Vec::new());
        feed(0, &frame, 0, &mut fed).unwrap();
        assert_eq!(fed.0.len(), n);
        for (k, field) in FIELDS.iter().enumerate() {
            let cast = as_text(frame.column(field.name).unwrap()).unwrap();
            let cast: Vec<String> = (cast.str().unwrap().iter())
                .map(|v| v.unwrap_or("").trim().to_string())
                .collect();
            let got: Vec<String> = fed.0.iter().map(|r| r[k].clone()).collect();
            assert_eq!(
                got,
                cast,
                "{} ({})",
                field.name,
                frame.column(field.name).unwrap().dtype()
            );
        }
        assert!(fed.0.iter().any(|r| r[0] == "0.1") && fed.0.iter().any(|r| r[0] == "NaN"));
    }

    /// A file of `footer` (compact-encoded `FileMetaData`), as the walk sees it.
    fn file(footer: &[u8]) -> Vec<u8> {
        let mut raw = b"PAR1".to_vec();
        raw.extend_from_slice(footer);
        raw.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        raw.extend_from_slice(b"PAR1");
        raw
    }

    /// `FileMetaData { version: 1, schema: [{ name: "s" }], num_rows: 0, row_groups: rest }`,
    /// the row groups' field written by `row_groups` (its header byte and body).
    fn metadata(row_groups: &[u8]) -> Vec<u8> {
        let mut m = vec![
            0x15, 0x02, // 1: i32 1
            0x19, 0x1c, // 2: list of one struct
            0x48, 0x01, b's', 0x00, // { 4: "s" }
            0x16, 0x00, // 3: i64 0
        ];
        m.extend_from_slice(row_groups);
        m.push(0x00);
        m
    }

    #[test]
    fn a_well_formed_footer_passes() {
        assert_eq!(check_footer(&file(&metadata(&[0x19, 0x0c]))), Ok(()));
        // An empty list whose element type is left out, as fastparquet writes it.
        assert_eq!(check_footer(&file(&metadata(&[0x19, 0x00]))), Ok(()));
        // A field polars does not read may have any type (here 20: a map, skipped).
        assert_eq!(
            check_footer(&file(&metadata(&[
                0x19, 0x0c, 0x0b, 0x28, 0x01, 0x55, 0x02, 0x04
            ]))),
            Ok(())
        );
    }

    #[test]
    fn a_field_polars_reads_must_have_the_type_parquet_defines() {
        // F7: FileMetaData.row_groups as a string: polars took its bytes for a list header.
        let e = check_footer(&file(&metadata(&[0x18, 0x02, 0xff, 0xff]))).unwrap_err();
        assert!(
            e.contains("field 4 of FileMetaData is a string where Parquet defines a list"),
            "{e}"
        );
        // A list of the wrong element type.
        let e = check_footer(&file(&metadata(&[0x19, 0x15, 0x02]))).unwrap_err();
        assert!(
            e.contains("a list of an i32 where Parquet defines a list of a struct"),
            "{e}"
        );
        // Deep inside: RowGroup → ColumnChunk → ColumnMetaData → Statistics.is_max_value_exact
        // (7) as an i32, where polars expects a boolean (and would panic).
        let rg = [
            0x19, 0x1c, // 4: list of one RowGroup
            0x19, 0x1c, // 1: list of one ColumnChunk
            0x3c, // 3: ColumnMetaData
            0xcc, // 12: Statistics
            0x75, 0x02, // 7: i32 1
            0x00, 0x00, 0x00, 0x00,
        ];
        let e = check_footer(&file(&metadata(&rg))).unwrap_err();
        assert!(
            e.contains("field 7 of Statistics is an i32 where Parquet defines a boolean"),
            "{e}"
        );
        // The same field as a boolean passes.
        let mut ok = rg;
        ok[6] = 0x71;
        ok[7] = 0x00;
        assert_eq!(check_footer(&file(&metadata(&ok[..11]))), Ok(()));
    }

    #[test]
    fn field_ids_written_out_are_checked_too() {
        // Field 4 written with its id in full (zig-zag 8), as a string.
        let e = check_footer(&file(&metadata(&[0x08, 0x08, 0x01, b'x']))).unwrap_err();
        assert!(e.contains("field 4 of FileMetaData is a string"), "{e}");
    }

    /// `FileMetaData` whose schema is a root, `groups` groups each inside the last, and a
    /// column.
    fn nested(groups: usize) -> Vec<u8> {
        let mut m = vec![0x15, 0x02, 0x19, 0xfc];
        let mut n = groups + 2;
        while n >= 0x80 {
            m.push((n as u8) | 0x80);
            n >>= 7;
        }
        m.push(n as u8);
        m.extend_from_slice(&[0x48, 0x01, b'r', 0x15, 0x02, 0x00]); // root: 1 child
        for _ in 0..groups {
            // repetition 0, name "g", 1 child
            m.extend_from_slice(&[0x35, 0x00, 0x18, 0x01, b'g', 0x15, 0x02, 0x00]);
        }
        m.extend_from_slice(&[0x15, 0x02, 0x25, 0x00, 0x18, 0x01, b'x', 0x00]); // an i32 column
        m.extend_from_slice(&[0x16, 0x00, 0x19, 0x0c, 0x00]);
        m
    }

    #[test]
    fn a_schema_nested_deeper_than_polars_can_follow_is_refused() {
        // 64 levels (the root, 62 groups, the column) pass; 65 do not, nor 100,000 (which
        // overflowed polars' stack: F8).
        assert_eq!(check_footer(&file(&nested(62))), Ok(()));
        for groups in [63, 100_000] {
            let e = check_footer(&file(&nested(groups))).unwrap_err();
            assert!(e.contains("nests columns more than 64 levels deep"), "{e}");
            assert!(!e.contains("damaged"), "{e}");
        }
        // Siblings are no deeper than one: 5,000 columns in one group.
        let mut m = vec![0x15, 0x02, 0x19, 0xfc, 0x8a, 0x27]; // 5,002 elements
        m.extend_from_slice(&[0x48, 0x01, b'r', 0x15, 0x02, 0x00]);
        m.extend_from_slice(&[0x35, 0x00, 0x18, 0x01, b'g', 0x15, 0x90, 0x4e, 0x00]); // 5,000
        for _ in 0..5000 {
            m.extend_from_slice(&[0x15, 0x02, 0x25, 0x00, 0x18, 0x01, b'x', 0x00]);
        }
        m.extend_from_slice(&[0x16, 0x00, 0x19, 0x0c, 0x00]);
        assert_eq!(check_footer(&file(&m)), Ok(()));
    }

    #[test]
    fn lengths_must_fit_in_the_bytes_left() {
        let e = check_footer(&file(&metadata(&[0x19, 0xfc, 0xff, 0xff, 0xff, 0x07]))).unwrap_err();
        assert!(e.contains("a list longer than the bytes left"), "{e}");
        let e = check_footer(&file(&[0x68, 0x7f])).unwrap_err();
        assert!(e.contains("a string longer than the bytes left"), "{e}");
        assert!(check_footer(b"PAR1").unwrap_err().contains("no footer"));
        let e = check_footer(&file(&[0x15])).unwrap_err();
        assert!(e.contains("it ends early"), "{e}");
    }
}
