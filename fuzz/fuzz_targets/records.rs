//! Arbitrary bytes as one input file, default settings, the whole pipeline in memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let settings = prolo::config::Settings::default();
    common::pipeline(data, &settings);
});
