//! `prolo synth`: synthetic records to CSV, gzip CSV or Parquet.

use std::fs::File;
use std::io::{BufWriter, Cursor, Write};
use std::process::ExitCode;

use polars::prelude::*;

use crate::cli::SynthArgs;
use crate::error::{Error, Result};
use crate::synth::{self, SynthOptions};

/// Runs `synth`.
pub fn run(args: &SynthArgs) -> Result<ExitCode> {
    let opts = SynthOptions {
        courses: args.courses,
        seed: args.seed,
        defects: args.defects,
    };
    let path = args.out.as_str();
    let io = |e| Error::io(path, e);
    if path == "-" {
        let out = std::io::stdout().lock();
        match synth::write_csv(&opts, BufWriter::new(out)) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(io(e)),
            _ => return Ok(ExitCode::SUCCESS),
        }
    }
    let tmp = format!("{path}.prolo-tmp-{}", std::process::id());
    let result = write(&opts, path, &tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(io));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| ExitCode::SUCCESS)
}

fn write(opts: &SynthOptions, path: &str, tmp: &str) -> Result<()> {
    let io = |e| Error::io(path, e);
    let file = File::create(tmp).map_err(io)?;
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".parquet") {
        let mut csv = Vec::new();
        synth::write_csv(opts, &mut csv).map_err(io)?;
        let mut frame = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(csv))
            .finish()?;
        ParquetWriter::new(file).finish(&mut frame)?;
    } else if lower.ends_with(".gz") {
        let mut gz =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
        synth::write_csv(opts, &mut gz).map_err(io)?;
        gz.finish().and_then(|mut w| w.flush()).map_err(io)?;
    } else {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        synth::write_csv(opts, &mut w).map_err(io)?;
        w.flush().map_err(io)?;
    }
    Ok(())
}
