//! The `prolo` binary: parse the command line, run a command, print the error, pick the exit code.

use std::process::ExitCode;

use clap::Parser;
use prolo::cli::{Cli, Command, Format};
use prolo::commands;

#[global_allocator]
static ALLOCATOR: prolo::memory::Allocator = prolo::memory::Allocator;

fn main() -> ExitCode {
    // Before any other thread starts: glibc's thresholds (see `memory::configure`).
    prolo::memory::configure();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_failure(&e),
    };
    let result = match &cli.command {
        Command::Validate(a) => commands::validate::run(a),
        Command::Analyze(a) => commands::analyze::run(a),
        Command::Synth(a) => commands::synth::run(a),
        Command::Schema(a) => commands::schema::run(a),
    };
    let json = match &cli.command {
        Command::Validate(a) => a.format == Format::Json,
        Command::Analyze(a) => a.format == Format::Json,
        Command::Schema(a) => a.format == Format::Json,
        Command::Synth(_) => false,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("prolo: error: {e}");
            // A pipeline that asked for JSON gets the failure as JSON on stdout too.
            if json {
                println!("{}", e.to_json());
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// A command line clap cannot read: its message on stderr (help and version on stdout, exit
/// 0), and, when the line asks for `--format json`, the failure as JSON on stdout too, as for
/// every other failure.
fn parse_failure(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = e.print();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = (args.windows(2)).any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    if json {
        let text = e.render().to_string();
        // The message's first paragraph ("… were not provided:" and what was missing).
        let first: Vec<&str> = (text.lines().take_while(|l| !l.trim().is_empty()))
            .map(str::trim)
            .collect();
        let message = first.join(" ").trim_start_matches("error: ").to_string();
        println!("{}", prolo::error::Error::Usage(message).to_json());
    }
    ExitCode::from(2)
}
