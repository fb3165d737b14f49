//! `prolo analyze`: validate, run every analysis, print the key numbers or write the outputs.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::analysis::{self, InputInfo};
use crate::cli::{AnalyzeArgs, Format};
use crate::error::{Error, Result};
use crate::render::{self, findings, report};
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
    settings.check_thresholds()?;
    let mut time = output::Timings::start();
    let mut data = ingest::read(&args.input.files, &settings)?;
    let v = {
        let _progress = output::Progress::start(data.progress());
        validate::validate_records(&mut data, &settings)?
    };
    time.phase("validate");
    let ids: Vec<String> = v
        .findings
        .iter()
        .filter(|f| f.reason == Reason::Identifier)
        .map(findings::line)
        .collect();
    let errors = v
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    // A file read in parts is still being hashed on another core. The analyses start
    // meanwhile, and the hashes are awaited before anything is said or written: a file that
    // changed while it was read, or the same file given twice, stops the run as before.
    let stops = !ids.is_empty() || (settings.strict && errors > 0);
    if stops {
        data.settle()?;
    }
    if !ids.is_empty() {
        return Err(Error::InvalidData(format!(
            "the input does not look de-identified; nothing was analysed:\n{}",
            ids.join("\n")
        )));
    }
    if settings.strict && errors > 0 {
        eprint!("{}", findings::text(&v));
        let e = Error::InvalidData(format!(
            "--strict: {errors} error finding(s); nothing was analysed"
        ));
        if args.format != Format::Json {
            return Err(e);
        }
        // One JSON document: the failure as every other one gives it, with validate's report
        // (every finding) beside it, written as it is made.
        eprintln!("prolo: error: {e}");
        output::stdout_with(|out| {
            write!(out, "{{\"error\":{},\"validation\":", e.json_object())?;
            findings::json_to(&v, out)?;
            out.write_all(b"}\n")
        })?;
        return Ok(ExitCode::from(e.exit_code()));
    }
    let (findings_n, records_read, no_course) =
        (v.findings.len(), v.records_read, v.courses.is_empty());
    let inputs: Vec<InputInfo> = data
        .inputs
        .iter()
        .zip(&v.records_per_input)
        .map(|(i, &records)| InputInfo {
            path: i.path.clone(),
            sha256: String::new(),
            format: i.format,
            records: Some(records),
        })
        .collect();
    let mut summary = analysis::run(v, inputs, &settings);
    data.settle()?;
    for (info, input) in summary.inputs.iter_mut().zip(&data.inputs) {
        info.sha256.clone_from(&input.sha256);
    }
    drop(data);
    if findings_n > 0 && std::io::stderr().is_terminal() {
        eprintln!(
            "prolo: {findings_n} finding(s) ({errors} errors); excluded rows, courses and values are counted in the cohort flow. `prolo validate` lists them."
        );
    }
    // An empty report is a result, but not one to leave unsaid, terminal or not.
    if records_read == 0 {
        eprintln!(
            "prolo: warning: the input holds no records (a header alone); every table is empty"
        );
    } else if no_course {
        eprintln!(
            "prolo: warning: no course is valid (every course read was excluded), so every analysis is empty; `prolo validate` says why"
        );
    }
    time.phase("analyses");
    match (&args.out, args.format) {
        (Some(dir), _) => {
            let mut files = vec![("summary.json".to_string(), render::summary_json(&summary))];
            for (name, bytes) in render::tables::all(&summary) {
                files.push((format!("tables/{name}"), bytes));
            }
            time.phase("tables");
            let charts = render::charts::all(&summary);
            time.phase("charts");
            let run_date = run_date();
            let ctx = report::Context {
                charts: &charts,
                run_date: &run_date,
            };
            files.push((
                "report.html".to_string(),
                report::html(&summary, &ctx).into_bytes(),
            ));
            files.push((
                "report.md".to_string(),
                report::markdown(&summary, &ctx).into_bytes(),
            ));
            for c in charts {
                files.push((format!("charts/{}.svg", c.name), c.svg));
                files.push((format!("charts/{}.png", c.name), c.png));
            }
            time.phase("report");
            output::write_folder(dir, &files)?;
            time.phase("write");
            match args.format {
                // A pipeline that asked for JSON gets summary.json on stdout too.
                Format::Json => output::stdout(&render::summary_json(&summary))?,
                Format::Text => {
                    output::stdout(render::text::summary(&summary).as_bytes())?;
                    output::stdout(format!("\nwrote {}\n", dir.display()).as_bytes())?;
                }
            }
        }
        (None, Format::Json) => output::stdout(&render::summary_json(&summary))?,
        (None, Format::Text) => output::stdout(render::text::summary(&summary).as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The date of the run (UTC), for the report's provenance line; `SOURCE_DATE_EPOCH` (seconds)
/// fixes it for reproducible reports.
fn run_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Howard Hinnant's civil_from_days: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn days_to_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_785), (2026, 11, 28));
    }
}
