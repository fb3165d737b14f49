//! `prolo schema`: the record schema, accepted values and instruments table.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::{Format, SchemaArgs};
use crate::config::Settings;
use crate::error::Result;
use crate::output;
use crate::schema::{self, Better, Field, Instrument, PainScale};

#[derive(Serialize)]
struct SchemaDoc<'a> {
    fields: &'a [Field],
    booleans: Booleans,
    adverse_event_none: &'a [&'a str],
    sex: &'a [&'a str],
    pain_scales: Vec<Instrument>,
    /// The instruments as defined: each MCID beside its source.
    instruments: Vec<Instrument>,
    /// The responder thresholds in force (a config file's `[responder]` may set them), as
    /// `analyze` reports them in `parameters`.
    pain_responder: String,
    function_responders: BTreeMap<String, String>,
    /// The thresholds that differ from the definitions' (text output only).
    #[serde(skip)]
    changed: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Booleans {
    r#true: [&'static str; 5],
    r#false: [&'static str; 5],
}

/// Runs `schema`.
pub fn run(args: &SchemaArgs) -> Result<ExitCode> {
    let mut settings = Settings::default();
    if let Some(path) = &args.config {
        settings.apply_config_file(path)?;
    }
    let defined = settings.defined_instruments();
    let pain_defined = settings.pain_scale.instrument().mcid;
    let changed = (settings.pain.mcid != pain_defined)
        .then(|| ("pain".to_string(), settings.pain.mcid.to_string()))
        .into_iter()
        .chain(
            (settings.instruments.iter().zip(&defined))
                .filter(|(now, was)| now.mcid != was.mcid)
                .map(|(now, _)| (now.name.clone(), now.mcid.to_string())),
        )
        .collect();
    let doc = SchemaDoc {
        fields: &schema::FIELDS,
        booleans: Booleans {
            r#true: schema::TRUE_WORDS,
            r#false: schema::FALSE_WORDS,
        },
        adverse_event_none: &schema::NO_EVENT_WORDS,
        sex: &schema::SEX_VALUES,
        pain_scales: vec![PainScale::Nrs.instrument(), PainScale::Vas.instrument()],
        pain_responder: settings.pain.mcid.to_string(),
        function_responders: (settings.instruments.iter())
            .map(|i| (i.name.clone(), i.mcid.to_string()))
            .collect(),
        instruments: defined,
        changed,
    };
    let bytes = match args.format {
        Format::Json => {
            let mut b = serde_json::to_vec_pretty(&doc).unwrap_or_default();
            b.push(b'\n');
            b
        }
        Format::Text => text(&doc).into_bytes(),
    };
    output::stdout(&bytes)?;
    Ok(ExitCode::SUCCESS)
}

fn text(doc: &SchemaDoc) -> String {
    let mut s = String::from(
        "Records: one row per encounter; column names are matched case-insensitively.\n\n",
    );
    let _ = writeln!(
        s,
        "{:<20} {:<32} {:<32} meaning",
        "column", "type", "required"
    );
    for f in doc.fields {
        let _ = writeln!(
            s,
            "{:<20} {:<32} {:<32} {}",
            f.name, f.kind, f.required, f.meaning
        );
    }
    let _ = writeln!(
        s,
        "\nBooleans: true = {}; false = {} (any case).",
        doc.booleans.r#true.join(", "),
        doc.booleans.r#false.join(", ")
    );
    let _ = writeln!(
        s,
        "adverse_event: empty, {} = no event; any other text = an event.",
        doc.adverse_event_none.join(", ")
    );
    let _ = writeln!(s, "sex: {}.", doc.sex.join(", "));
    let _ = writeln!(
        s,
        "\nInstruments (range, better direction, default responder threshold, source):"
    );
    for i in doc.pain_scales.iter().chain(&doc.instruments) {
        let better = match i.better {
            Better::Lower => "lower is better",
            Better::Higher => "higher is better",
        };
        let _ = writeln!(
            s,
            "  {:<10} {:>3}–{:<4} {:<17} {:<18} {}",
            i.name,
            i.min,
            i.max,
            better,
            i.mcid.to_string(),
            i.source
        );
    }
    if !doc.changed.is_empty() {
        let set: Vec<String> = (doc.changed.iter())
            .map(|(name, threshold)| format!("{name} {threshold}"))
            .collect();
        let _ = writeln!(
            s,
            "\nResponder thresholds set by the config file: {}.",
            set.join("; ")
        );
    }
    s
}
