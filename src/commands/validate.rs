//! `prolo validate`: every finding, and exit 3 when any is an error.

use std::process::ExitCode;

use crate::cli::{Format, ValidateArgs};
use crate::error::Result;
use crate::render::findings;
use crate::{courses, ingest, output, validate};

/// Runs `validate`.
pub fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let settings = super::settings(&args.input)?;
    let mut data = ingest::read(&args.input.files, &settings)?;
    let mut v = {
        let _progress = output::Progress::start(data.progress());
        validate::validate(&mut data, &settings)?
    };
    let left_out = courses::left_out(&mut v, &settings);
    v.add_outcome_findings(&data, &settings, &left_out);
    match args.format {
        Format::Text => output::stdout(findings::text(&v).as_bytes())?,
        Format::Json => output::stdout_with(|out| findings::json_to(&v, out))?,
    }
    Ok(if v.has_errors() {
        super::invalid_data()
    } else {
        ExitCode::SUCCESS
    })
}
