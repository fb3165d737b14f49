//! Analysis 1, cohort flow: records, courses and patients read, and every exclusion with its reason.

use serde::Serialize;

use crate::config::Settings;
use crate::validate::Validated;

/// One exclusion reason's counts.
#[derive(Debug, Clone, Serialize)]
pub struct ExcludedRow {
    pub reason: String,
    pub outcome: Option<String>,
    pub instrument: Option<String>,
    pub records: Option<u64>,
    pub courses: Option<u64>,
    pub suppressed: bool,
}

/// Records → courses → analysed.
#[derive(Debug, Clone, Serialize)]
pub struct Cohort {
    pub records: Option<u64>,
    pub courses: Option<u64>,
    pub patients: Option<u64>,
    pub valid_courses: Option<u64>,
    pub excluded: Vec<ExcludedRow>,
    pub suppressed: bool,
}

/// Counts what was read and what each rule excluded.
pub fn analyse(v: &Validated, settings: &Settings) -> Cohort {
    let excluded = v
        .excluded
        .iter()
        .map(|(k, e)| ExcludedRow {
            reason: k.reason.name().to_string(),
            outcome: match k.outcome {
                1 => Some("pain".into()),
                2 => Some("function".into()),
                _ => None,
            },
            instrument: (k.instrument > 0)
                .then(|| settings.instruments[k.instrument as usize - 1].name.clone()),
            records: Some(e.records),
            courses: Some(e.courses),
            suppressed: false,
        })
        .collect();
    Cohort {
        records: Some(v.records_read),
        courses: Some(v.courses_read),
        patients: Some(v.patients_read),
        valid_courses: Some(v.courses.len() as u64),
        excluded,
        suppressed: false,
    }
}
