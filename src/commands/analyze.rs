//! `prolo analyze`: validate, run every analysis, print the key numbers or write the outputs.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::analysis::{self, InputInfo};
use crate::cli::{AnalyzeArgs, Format};
use crate::error::{Error, Result};
use crate::render::{self, findings};
use crate::validate::{Reason, Severity};
use crate::{ingest, output, validate};

/// Runs `analyze`.
pub fn run(args: &AnalyzeArgs) -> Result<ExitCode> {
    let mut settings = super::settings(&args.input)?;
    for r in &args.responder {
        settings.set_responder(r)?;
    }
    if let Some(n) = args.min_cell {
        settings.min_cell = n;
    }
    if let Some(n) = args.injections_top {
        settings.injections_top = n;
    }
    let mut data = ingest::read(&args.input.files, &settings)?;
    let v = validate::validate(&mut data, &settings)?;
    let ids: Vec<String> = v
        .findings
        .iter()
        .filter(|f| f.reason == Reason::Identifier)
        .map(findings::line)
        .collect();
    if !ids.is_empty() {
        return Err(Error::InvalidData(format!(
            "the input does not look de-identified; nothing was analysed:\n{}",
            ids.join("\n")
        )));
    }
    let errors = v
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if settings.strict && errors > 0 {
        eprint!("{}", findings::text(&v));
        return Err(Error::InvalidData(format!(
            "--strict: {errors} error finding(s); nothing was analysed"
        )));
    }
    if !v.findings.is_empty() && std::io::stderr().is_terminal() {
        eprintln!(
            "prolo: {} finding(s) ({} errors); excluded rows, courses and values are counted in the cohort flow. `prolo validate` lists them.",
            v.findings.len(),
            errors
        );
    }
    let inputs: Vec<InputInfo> = data
        .inputs
        .iter()
        .zip(&v.records_per_input)
        .map(|(i, &records)| InputInfo {
            path: i.path.clone(),
            sha256: i.sha256.clone(),
            format: i.format,
            records,
        })
        .collect();
    drop(data);
    let summary = analysis::run(v, inputs, &settings);
    match (&args.out, args.format) {
        (Some(dir), _) => {
            let mut files = vec![("summary.json".to_string(), render::summary_json(&summary))];
            for (name, bytes) in render::tables::all(&summary) {
                files.push((format!("tables/{name}"), bytes));
            }
            output::write_folder(dir, &files)?;
            output::stdout(render::text::summary(&summary).as_bytes())?;
            output::stdout(format!("\nwrote {}\n", dir.display()).as_bytes())?;
        }
        (None, Format::Json) => output::stdout(&render::summary_json(&summary))?,
        (None, Format::Text) => output::stdout(render::text::summary(&summary).as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
