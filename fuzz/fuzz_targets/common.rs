//! The pipeline both targets run: ingest → validate → courses → findings, then a second
//! pass ingest → validate → analysis → every renderer except charts (too slow per input).

use std::io::{Cursor, Read};

use prolo::config::Settings;
use prolo::render::report::Context;

fn inputs(data: &[u8]) -> Vec<(String, Box<dyn Read>)> {
    vec![("fuzz.csv".into(), Box::new(Cursor::new(data.to_vec())))]
}

pub fn pipeline(data: &[u8], settings: &Settings) {
    // Parquet (`PAR1` magic) goes through polars; `ingest` turns polars' panics on damaged
    // metadata into invalid data (finding F1), so a panic here is prolo's own.
    // Pass 1: validation findings, course derivation and the findings renderers.
    let Ok(mut d) = prolo::ingest::read_from(inputs(data), settings) else {
        return;
    };
    let Ok(mut v) = prolo::validate::validate(&mut d, settings) else {
        return;
    };
    let (_, _, left) = prolo::courses::derive(&mut v, settings);
    v.add_outcome_findings(&d, settings, &left);
    let _ = prolo::render::findings::json_to(&v, &mut std::io::sink());
    let _ = prolo::render::findings::text(&v);
    drop(v);
    drop(d);

    // Pass 2: analysis::run consumes a Validated, so validate a fresh Dataset.
    let Ok(mut d) = prolo::ingest::read_from(inputs(data), settings) else {
        return;
    };
    let Ok(v) = prolo::validate::validate(&mut d, settings) else {
        return;
    };
    drop(d);
    let summary = prolo::analysis::run(v, vec![], settings);
    let _ = prolo::render::summary_json(&summary);
    let _ = prolo::render::tables::all(&summary);
    let _ = prolo::render::text::summary(&summary);
    let ctx = Context {
        charts: &[],
        run_date: "2026-01-01",
    };
    let _ = prolo::render::report::html(&summary, &ctx);
    let _ = prolo::render::report::markdown(&summary, &ctx);
}
