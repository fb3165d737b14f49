//! The command line: clap derive structs, one `Args` per subcommand; no I/O.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Outcomes research on prolotherapy and other injection therapies: how pain and
/// function change, by condition and by number of injections.
#[derive(Debug, Parser)]
#[command(name = "prolo", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read records and report every problem (file, line, column, value, what was expected).
    /// Exits 0 when clean (warnings allowed), 3 when there are errors.
    Validate(ValidateArgs),
    /// Validate, run every analysis and print the key numbers, or write them all into --out DIR.
    Analyze(AnalyzeArgs),
    /// Write realistic synthetic records (CSV, or Parquet when FILE ends in .parquet).
    Synth(SynthArgs),
    /// Print the record schema, the accepted values and the instruments table.
    Schema(SchemaArgs),
}

/// Output format of a command's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// One JSON object, for pipelines.
    Json,
}

/// Pain scale of the `pain` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PainScaleArg {
    /// Numeric rating scale, 0–10.
    Nrs,
    /// Visual analogue scale, 0–100 mm.
    Vas,
}

/// Options shared by every command that reads records.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input files (CSV with any separator, detected: comma, semicolon, tab, |, …;
    /// optionally .gz; or Parquet), read as one data set; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Config file (TOML): [columns] maps other column names onto the record fields,
    /// [[instruments]] adds or overrides instruments, [responder] sets thresholds.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Columns to drop before anything reads them (comma-separated, case-insensitive),
    /// e.g. a free-text column the identifier guard stops on.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub exclude_columns: Vec<String>,
    /// Pain scale of the pain column [default: nrs, or the config file's pain_scale].
    #[arg(long, value_enum)]
    pub pain_scale: Option<PainScaleArg>,
    /// Make any error finding fatal (exit 3) instead of excluding the bad rows, courses or values.
    #[arg(long)]
    pub strict: bool,
}

/// `prolo validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Report format: text lists the first 20 findings in full then counts per kind;
    /// json lists every finding.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `prolo analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write report.html, report.md, summary.json, tables/*.csv and charts/* into DIR (made
    /// atomically; an existing DIR is replaced only if prolo wrote it). Without it, the key
    /// numbers go to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Stdout format: text (key numbers per condition) or json (summary.json), with or without
    /// --out.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Responder threshold, repeatable: pain=30% (default), pain=2 (points), WOMAC=15%.
    /// Function instruments default to their MCID in points (see `prolo schema`).
    #[arg(long, value_name = "OUTCOME=T")]
    pub responder: Vec<String>,
    /// Small-cell threshold: counts from 1 to N−1, and the statistics of groups under N
    /// courses, are withheld; 0 turns suppression off [default: 11, CMS cell-size policy].
    #[arg(long, value_name = "N")]
    pub min_cell: Option<u64>,
    /// Top group of injections received: 1, 2, …, N−1, N+ [default: 6].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=crate::config::INJECTIONS_TOP_MAX))]
    pub injections_top: Option<u64>,
}

/// `prolo synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of treatment courses to generate.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub courses: u64,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Output file: .csv, .csv.gz or .parquet; `-` writes CSV to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: String,
    /// Add realistic defects (bad scores, duplicate days, unknown instruments, bad booleans,
    /// missing baselines, empty ids) for demos and tests.
    #[arg(long)]
    pub defects: bool,
}

/// `prolo schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Config file whose instruments are added to the table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
