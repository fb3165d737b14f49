//! Like `records`, but the first byte chooses the settings: min_cell 0 or 11,
//! injections_top 1..=8, pain scale NRS or VAS, pain responder 30% or an absolute 2 points
//! (bit 0x20), function responders 0% (bit 0x40). The rest of the bytes is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prolo::schema::PainScale;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let mut settings = prolo::config::Settings::default();
    settings.min_cell = if knobs & 1 == 0 { 11 } else { 0 };
    settings.injections_top = u64::from((knobs >> 1) & 7) + 1;
    if knobs & 0x10 != 0 {
        settings.set_pain_scale(PainScale::Vas);
    }
    if knobs & 0x20 != 0 {
        settings.set_responder("pain=2").unwrap();
    }
    if knobs & 0x40 != 0 {
        for name in settings
            .instrument_names()
            .split(", ")
            .map(String::from)
            .collect::<Vec<_>>()
        {
            settings.set_responder(&format!("{name}=0%")).unwrap();
        }
    }
    common::pipeline(rest, &settings);
});
