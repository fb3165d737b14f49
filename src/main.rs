//! The `prolo` binary: parse the command line, run a command, print the error, pick the exit code.

use std::process::ExitCode;

use clap::Parser;
use prolo::cli::{Cli, Command};
use prolo::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Validate(a) => commands::validate::run(a),
        Command::Analyze(a) => commands::analyze::run(a),
        Command::Synth(a) => commands::synth::run(a),
        Command::Schema(a) => commands::schema::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("prolo: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
