//! Resolved settings and the config file (column mapping, instruments, thresholds); no clap types.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::{self, Better, Instrument, PainScale, Threshold};

/// Everything an analysis needs to know besides the records.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub pain_scale: PainScale,
    /// The pain instrument (NRS or VAS) with its responder threshold.
    pub pain: Instrument,
    /// Function instruments with their responder thresholds.
    pub instruments: Vec<Instrument>,
    pub min_cell: u64,
    pub injections_top: u64,
    pub strict: bool,
    /// Canonical field name → the input column name that holds it (from the config file).
    pub columns: BTreeMap<String, String>,
    /// Input columns dropped before anything reads them (lower case).
    pub exclude_columns: Vec<String>,
    /// Bytes of memory prolo may use; None: no limit known.
    pub memory_limit: Option<u64>,
    /// Parts a large file is read in at once; None: one per core for large files.
    pub parts: Option<usize>,
    /// Rows of a Parquet row group decoded at a time; None: 131,072, or an eighth of a larger
    /// group (`ingest::frame`). Tests set it small to cut small files' row groups into slices.
    pub parquet_slice: Option<usize>,
    /// The config file read, if any, and the SHA-256 of its bytes (provenance).
    pub config_file: Option<ConfigFileInfo>,
    /// Function instruments whose responder threshold `--responder` changed, with the MCID
    /// their definition gives (what `parameters.instruments` reports beside its source).
    pub defined_mcid: Vec<(String, Threshold)>,
}

/// The config file a run read, for provenance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConfigFileInfo {
    pub path: String,
    pub sha256: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            pain_scale: PainScale::Nrs,
            pain: PainScale::Nrs.instrument(),
            instruments: schema::default_instruments(),
            min_cell: 11,
            injections_top: 6,
            strict: false,
            columns: BTreeMap::new(),
            exclude_columns: Vec::new(),
            memory_limit: None,
            parts: None,
            parquet_slice: None,
            defined_mcid: Vec::new(),
            config_file: None,
        }
    }
}

/// The settings the environment gives: `PROLO_MEMORY_LIMIT` (MiB), else the memory the
/// system says is available (`MemAvailable`, and the cgroup's limit where one is set); and
/// `PROLO_PARTS`.
/// A variable set to something other than a whole number is a usage error.
pub fn from_environment(s: &mut Settings) -> Result<()> {
    let var = |name: &str| -> Result<Option<u64>> {
        match std::env::var(name) {
            Err(_) => Ok(None),
            Ok(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::Usage(format!("{name}={v:?}: expected a whole number"))),
        }
    };
    s.memory_limit = var("PROLO_MEMORY_LIMIT")?
        .map(|mib| mib.saturating_mul(1 << 20))
        .or_else(memory_available);
    s.parts = var("PROLO_PARTS")?.map(|n| usize::try_from(n).unwrap_or(usize::MAX).clamp(1, 64));
    Ok(())
}

/// Bytes of memory the system says are available; None when it does not say.
fn memory_available() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let available = read("/proc/meminfo").and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let number = |p: &str| -> Option<u64> { read(p)?.trim().parse().ok() };
    let cgroup = number("/sys/fs/cgroup/memory.max")
        .map(|max| max.saturating_sub(number("/sys/fs/cgroup/memory.current").unwrap_or(0)));
    match (available, cgroup) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

impl Settings {
    /// The function instrument called `name`, compared case-insensitively.
    pub fn instrument(&self, name: &str) -> Option<(usize, &Instrument)> {
        let name = name.trim();
        self.instruments
            .iter()
            .enumerate()
            .find(|(_, i)| i.name.eq_ignore_ascii_case(name))
    }

    /// Chooses the pain scale, keeping a pain threshold already set.
    pub fn set_pain_scale(&mut self, scale: PainScale) {
        let mcid = self.pain.mcid;
        self.pain_scale = scale;
        self.pain = scale.instrument();
        self.pain.mcid = mcid;
    }

    /// Applies a `--responder` value such as `pain=30%`, `pain=2` or `WOMAC=15%`.
    pub fn set_responder(&mut self, spec: &str) -> Result<()> {
        let bad = || {
            Error::Usage(format!(
                "--responder {spec:?}: expected OUTCOME=THRESHOLD such as pain=30%, pain=2 or WOMAC=15%"
            ))
        };
        let (outcome, value) = spec.split_once('=').ok_or_else(bad)?;
        let threshold = Threshold::parse(value).ok_or_else(bad)?;
        let outcome = outcome.trim();
        if outcome.eq_ignore_ascii_case("pain") {
            self.pain.mcid = threshold;
            return Ok(());
        }
        let known = self.instrument_names();
        let index = self.instrument(outcome).map(|(i, _)| i).ok_or_else(|| {
            Error::Usage(format!(
                "--responder {spec:?}: unknown outcome {outcome:?}; expected pain or one of {known}"
            ))
        })?;
        let instrument = &mut self.instruments[index];
        if !self.defined_mcid.iter().any(|(n, _)| *n == instrument.name) {
            (self.defined_mcid).push((instrument.name.clone(), instrument.mcid));
        }
        instrument.mcid = threshold;
        Ok(())
    }

    /// The function instruments as defined (the table's, then the config file's
    /// `[[instruments]]`): each with the MCID its definition gives beside its source, not a
    /// responder threshold set since (`self.instruments` holds the thresholds in force).
    pub fn defined_instruments(&self) -> Vec<Instrument> {
        (self.instruments.iter())
            .map(|i| {
                let defined = self.defined_mcid.iter().find(|(n, _)| *n == i.name);
                Instrument {
                    mcid: defined.map_or(i.mcid, |d| d.1),
                    ..i.clone()
                }
            })
            .collect()
    }

    /// Fails on a responder threshold no course could reach (`--responder pain=150%`, or
    /// more points than the scale spans): every responder count would be 0 by construction.
    pub fn check_thresholds(&self) -> Result<()> {
        for (outcome, i) in std::iter::once(("pain", &self.pain))
            .chain(self.instruments.iter().map(|i| (i.name.as_str(), i)))
        {
            let unreachable = match i.mcid {
                Threshold::Points(p) => p > i.max - i.min,
                // A score that is better lower and never negative falls by 100% at most.
                Threshold::Percent(p) => p > 100.0 && i.better == Better::Lower && i.min >= 0.0,
            };
            if unreachable {
                return Err(Error::Usage(format!(
                    "responder threshold {outcome}: {} cannot be reached on {} ({} to {}, {} is better); expected at most {}",
                    i.mcid,
                    i.name,
                    i.min,
                    i.max,
                    if i.better == Better::Lower { "lower" } else { "higher" },
                    match i.mcid {
                        Threshold::Points(_) => format!("{} points", i.max - i.min),
                        Threshold::Percent(_) => "100%".to_string(),
                    }
                )));
            }
        }
        Ok(())
    }

    /// The instrument names, comma-separated, for messages.
    pub fn instrument_names(&self) -> String {
        let names: Vec<&str> = self.instruments.iter().map(|i| i.name.as_str()).collect();
        names.join(", ")
    }

    /// Reads a `prolo.toml` and applies it on top of these settings.
    pub fn apply_config_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            // A flag naming no file is a usage error, as a bad flag is.
            std::io::ErrorKind::NotFound => Error::Usage(format!(
                "{}: no such config file; expected the path of a prolo.toml",
                path.display()
            )),
            _ => Error::io(path, e),
        })?;
        use sha2::Digest;
        self.config_file = Some(ConfigFileInfo {
            path: path.display().to_string(),
            sha256: crate::ingest::hex(&sha2::Sha256::digest(text.as_bytes())),
        });
        let file: ConfigFile = toml::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: {}", path.display(), e)))?;
        self.apply(file, &path.display().to_string())
    }

    fn apply(&mut self, file: ConfigFile, origin: &str) -> Result<()> {
        for (field, column) in file.columns {
            let field = field.to_ascii_lowercase();
            if !schema::FIELDS.iter().any(|f| f.name == field) {
                let names: Vec<&str> = schema::FIELDS.iter().map(|f| f.name).collect();
                return Err(Error::Usage(format!(
                    "{origin}: [columns] maps unknown field {field:?}; the fields are {}",
                    names.join(", ")
                )));
            }
            self.columns.insert(field, column);
        }
        // Two fields mapped onto one column: one of the two is a mistake. (A field mapped onto
        // the column another field reads by its own name is allowed: `condition = "site"`.)
        let mapped: Vec<(&String, &String)> = self.columns.iter().collect();
        for (i, (field, column)) in mapped.iter().enumerate() {
            if let Some((other, _)) = mapped[..i]
                .iter()
                .find(|(_, c)| c.eq_ignore_ascii_case(column))
            {
                return Err(Error::Usage(format!(
                    "{origin}: [columns] maps both {other} and {field} onto column {column:?}; expected one field per column"
                )));
            }
        }
        let mut defined: Vec<String> = Vec::new();
        // The pain scales are not function instruments: an entry named so would make prolo
        // read a `function_instrument` of "NRS" as function.
        let scales = [PainScale::Nrs, PainScale::Vas].map(|s| s.instrument().name);
        for entry in file.instruments {
            let instrument = entry.resolve(origin)?;
            if scales
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&instrument.name))
            {
                return Err(Error::Usage(format!(
                    "{origin}: [[instruments]] name = {:?} is a pain scale, not a function instrument; set pain_scale = \"nrs\" or \"vas\" and its threshold under [responder] (pain = \"30%\")",
                    instrument.name
                )));
            }
            if defined
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&instrument.name))
            {
                return Err(Error::Usage(format!(
                    "{origin}: [[instruments]] defines {:?} twice (names are matched in any case); expected each instrument once",
                    instrument.name
                )));
            }
            defined.push(instrument.name.clone());
            match self.instrument(&instrument.name).map(|(i, _)| i) {
                Some(i) => self.instruments[i] = instrument,
                None => self.instruments.push(instrument),
            }
        }
        if let Some(scale) = file.pain_scale {
            self.set_pain_scale(scale.into());
        }
        for (outcome, value) in file.responder {
            self.set_responder(&format!("{outcome}={value}"))
                .map_err(|e| Error::Usage(format!("{origin}: [responder]: {e}")))?;
        }
        if let Some(n) = file.min_cell {
            self.min_cell = n;
        }
        if let Some(n) = file.injections_top {
            if !(1..=INJECTIONS_TOP_MAX).contains(&n) {
                return Err(Error::Usage(format!(
                    "{origin}: injections_top = {n}: expected a whole number from 1 to {INJECTIONS_TOP_MAX}"
                )));
            }
            self.injections_top = n;
        }
        Ok(())
    }
}

/// The largest top group of injections received (`--injections-top`, `injections_top`).
pub const INJECTIONS_TOP_MAX: u64 = 1000;

/// The `prolo.toml` file as written by a user.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Canonical field → input column name, e.g. `patient_id = "record_id"`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Instruments added or overridden.
    #[serde(default)]
    pub instruments: Vec<InstrumentEntry>,
    /// Responder thresholds, e.g. `pain = "30%"`, `WOMAC = "15%"`.
    #[serde(default)]
    pub responder: BTreeMap<String, String>,
    pub pain_scale: Option<ScaleName>,
    pub min_cell: Option<u64>,
    pub injections_top: Option<u64>,
}

/// A pain scale as the config file names it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleName {
    Nrs,
    Vas,
}

impl From<ScaleName> for PainScale {
    fn from(s: ScaleName) -> PainScale {
        match s {
            ScaleName::Nrs => PainScale::Nrs,
            ScaleName::Vas => PainScale::Vas,
        }
    }
}

/// One `[[instruments]]` table of the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentEntry {
    pub name: String,
    #[serde(default)]
    pub min: f64,
    pub max: f64,
    pub better: Better,
    /// Points (`"10"`) or percent of baseline (`"30%"`).
    pub mcid: String,
    #[serde(default)]
    pub typical: String,
    #[serde(default)]
    pub source: String,
}

impl InstrumentEntry {
    fn resolve(self, origin: &str) -> Result<Instrument> {
        let mcid = Threshold::parse(&self.mcid).ok_or_else(|| {
            Error::Usage(format!(
                "{origin}: instrument {}: mcid {:?} is not a number of points or a percentage such as \"30%\"",
                self.name, self.mcid
            ))
        })?;
        if !(self.min.is_finite() && self.max.is_finite() && self.min < self.max) {
            return Err(Error::Usage(format!(
                "{origin}: instrument {}: range {}..{} is empty; expected min < max",
                self.name, self.min, self.max
            )));
        }
        if self.name.trim().is_empty() {
            return Err(Error::Usage(format!(
                "{origin}: an instrument has an empty name"
            )));
        }
        Ok(Instrument {
            name: self.name.trim().to_string(),
            min: self.min,
            max: self.max,
            better: self.better,
            mcid,
            typical: self.typical,
            source: if self.source.is_empty() {
                format!("config file {origin}")
            } else {
                self.source
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responder_overrides() {
        let mut s = Settings::default();
        s.set_responder("pain=2").unwrap();
        assert_eq!(s.pain.mcid, Threshold::Points(2.0));
        s.set_responder("womac=15%").unwrap();
        assert_eq!(
            s.instrument("WOMAC").unwrap().1.mcid,
            Threshold::Percent(15.0)
        );
        assert!(s.set_responder("nothing=2").is_err());
        assert!(s.set_responder("pain").is_err());
    }

    #[test]
    fn config_file_maps_and_adds() {
        let file: ConfigFile = toml::from_str(
            r#"
            [columns]
            patient_id = "record_id"
            [[instruments]]
            name = "WOMAC100"
            max = 100
            better = "higher"
            mcid = "15%"
            [responder]
            pain = "2"
            "#,
        )
        .unwrap();
        let mut s = Settings::default();
        s.apply(file, "test").unwrap();
        assert_eq!(s.columns["patient_id"], "record_id");
        assert_eq!(s.instrument("womac100").unwrap().1.better, Better::Higher);
        assert_eq!(s.pain.mcid, Threshold::Points(2.0));
    }
}
