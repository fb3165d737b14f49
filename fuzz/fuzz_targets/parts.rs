//! Arbitrary bytes as a file on disk, read in 2–4 parts at once (the first byte chooses how
//! many) and in one piece: validation must find exactly the same (differential: the parts'
//! own line splitter, the cuts, the joins of course keys and rows against the `csv` crate's
//! one-piece read). A Parquet file's row groups are read in parts in slices of 1–5 rows (the
//! first byte again) against whole groups in one piece.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn findings(path: &str, parts: usize, slice: Option<usize>) -> String {
    let mut settings = prolo::config::Settings::default();
    settings.parts = Some(parts);
    settings.parquet_slice = slice;
    let found = prolo::ingest::read(&[path.to_string()], &settings).and_then(|mut d| {
        let mut v = prolo::validate::validate(&mut d, &settings)?;
        let (_, _, left) = prolo::courses::derive(&mut v, &settings);
        v.add_outcome_findings(&d, &settings, &left);
        let mut json = Vec::new();
        // Writing into memory cannot fail.
        let _ = prolo::render::findings::json_to(&v, &mut json);
        Ok(json)
    });
    match found {
        Ok(json) => String::from_utf8_lossy(&json).into_owned(),
        Err(e) => format!("error: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("prolo-fuzz-parts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let path = dir.join("in.csv");
    std::fs::write(&path, rest).expect("temporary file");
    let path = path.to_string_lossy().into_owned();
    let one = findings(&path, 1, None);
    let parts = findings(&path, 2 + usize::from(k % 3), Some(1 + usize::from(k / 3 % 5)));
    assert_eq!(one, parts, "parts and one piece differ");
});
