//! One file per subcommand: arguments to plain settings, the core, then output.

pub mod analyze;
pub mod schema;
pub mod synth;
pub mod validate;

use std::process::ExitCode;

use crate::cli::{InputArgs, PainScaleArg};
use crate::config::Settings;
use crate::error::Result;
use crate::schema::PainScale;

/// Settings from the config file and the shared input flags (flags win).
pub fn settings(input: &InputArgs) -> Result<Settings> {
    let mut s = Settings::default();
    if let Some(path) = &input.config {
        s.apply_config_file(path)?;
    }
    if let Some(scale) = input.pain_scale {
        s.set_pain_scale(match scale {
            PainScaleArg::Nrs => PainScale::Nrs,
            PainScaleArg::Vas => PainScale::Vas,
        });
    }
    s.strict = input.strict;
    crate::config::from_environment(&mut s)?;
    s.exclude_columns = input
        .exclude_columns
        .iter()
        .map(|c| c.trim().to_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    Ok(s)
}

/// Exit code 3: invalid data.
pub fn invalid_data() -> ExitCode {
    ExitCode::from(3)
}
