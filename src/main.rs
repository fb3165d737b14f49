//! The `prolo` binary: parse the command line, run a command, print the error, pick the exit code.

use std::process::ExitCode;

use clap::Parser;
use prolo::cli::{Cli, Command, Format};
use prolo::commands;

#[global_allocator]
static ALLOCATOR: prolo::memory::Allocator = prolo::memory::Allocator;

fn main() -> ExitCode {
    // glibc serves a large allocation with its own mapping, given back when it is freed, but
    // raises the size it calls large (up to 32 MiB) each time such a mapping is freed; blocks
    // below it then come from the heap, which keeps freed memory. A fixed 8 MiB keeps what
    // prolo lets go of in large pieces (a part's rows as they are joined, the points after
    // the trajectory, the analyses' lists) given back, while smaller working lists still
    // reuse the heap's memory.
    //
    // A fixed threshold also fixes the free memory a heap keeps at its top before giving it
    // back at glibc's default, 128 KiB: each thread's heap then gave back and faulted in
    // again the working lists of one analysis after another (a third of the run's page
    // faults). Up to 32 MiB (the size from which blocks are mappings of their own on huge
    // pages, `memory::HUGE`) is kept: 2,000,000 courses, 220,000 → 150,000 faults, about
    // 5 % faster, peak memory 466 → 476 MiB.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets glibc's allocator parameters; no other thread runs yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, prolo::memory::HUGE as libc::c_int);
    }
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
