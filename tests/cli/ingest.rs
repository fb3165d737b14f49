//! Input formats and bad input: every format reads to the same result; no input panics.

use super::*;

const ROWS: &str =
    "P1,knee_oa,0,1,6\nP1,knee_oa,28,1,4\nP1,knee_oa,56,0,2\nP2,knee_oa,0,1,8\nP2,knee_oa,30,0,7\n";

fn analyze_json(args: &[&str], stdin: Option<Vec<u8>>) -> serde_json::Value {
    let mut c = prolo();
    c.args(["analyze", "--min-cell", "0", "--format", "json"])
        .args(args);
    if let Some(bytes) = stdin {
        c.write_stdin(bytes);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The results of a summary without its provenance.
fn results(mut v: serde_json::Value) -> serde_json::Value {
    let o = v.as_object_mut().unwrap();
    o.remove("inputs");
    v
}

#[test]
fn every_format_gives_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let comma = format!("patient_id,condition,day,injection,pain\n{ROWS}");
    let base = results(analyze_json(
        &[write(d, "a.csv", &comma).to_str().unwrap()],
        None,
    ));
    let semicolon = comma.replace(',', ";");
    let tab = comma.replace(',', "\t");
    let pipe = comma.replace(',', "|");
    let colon = comma.replace(',', ":");
    let crlf_bom = format!("\u{feff}{}", comma.replace('\n', "\r\n"));
    let quoted = comma.replace("knee_oa", "\"Knee OA\"");
    let upper = comma.replace(
        "patient_id,condition,day,injection,pain",
        "PATIENT_ID,Condition,Day,INJECTION,Pain",
    );
    for (name, text) in [
        ("semi.csv", semicolon),
        ("tab.tsv", tab),
        ("pipe.csv", pipe),
        ("colon.csv", colon),
        ("crlf.csv", crlf_bom),
        ("quoted.csv", quoted),
        ("upper.csv", upper),
    ] {
        let got = results(analyze_json(
            &[write(d, name, &text).to_str().unwrap()],
            None,
        ));
        assert_eq!(got, base, "{name}");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, comma.as_bytes()).unwrap();
    let gz_path = write(d, "a.csv.gz", gz.finish().unwrap());
    assert_eq!(
        results(analyze_json(&[gz_path.to_str().unwrap()], None)),
        base,
        "gzip"
    );
    assert_eq!(
        results(analyze_json(&["-"], Some(comma.clone().into_bytes()))),
        base,
        "stdin"
    );
    let (first, second) = ROWS.split_at(ROWS.find("P2").unwrap());
    let p1 = write(
        d,
        "part1.csv",
        format!("patient_id,condition,day,injection,pain\n{first}"),
    );
    let p2 = write(
        d,
        "part2.csv",
        format!(
            "pain;injection;day;condition;patient_id\n{}",
            second
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split(',').collect();
                    format!("{};{};{};{};{}\n", f[4], f[3], f[2], f[1], f[0])
                })
                .collect::<String>()
        ),
    );
    let split = analyze_json(&[p1.to_str().unwrap(), p2.to_str().unwrap()], None);
    assert_eq!(split["inputs"].as_array().unwrap().len(), 2);
    assert_eq!(results(split), base, "two files");
}

#[test]
fn parquet_reads_like_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    let pq = dir.path().join("s.parquet");
    for p in [&csv, &pq] {
        prolo()
            .args(["synth", "--courses", "60", "--seed", "3", "--out"])
            .arg(p)
            .assert()
            .success();
    }
    let a = results(analyze_json(&[csv.to_str().unwrap()], None));
    let b = results(analyze_json(&[pq.to_str().unwrap()], None));
    assert_eq!(a, b);
    // Typed columns (as most Parquet writers make them), in row groups of 50 rows: the same
    // results; and read in parts at once, every byte of the findings and the summary is the
    // same.
    let typed = dir.path().join("typed.parquet");
    let frame = parquet_of(&csv, &typed, true);
    assert!(frame.column("pain").unwrap().dtype().is_primitive_numeric());
    assert_eq!(results(analyze_json(&[typed.to_str().unwrap()], None)), a);
    let typed = typed.to_str().unwrap();
    for args in [
        vec!["validate", "--format", "json", typed],
        vec!["analyze", "--min-cell", "0", "--format", "json", typed],
    ] {
        let run = |parts: &str| {
            prolo()
                .args(&args)
                .env("PROLO_PARTS", parts)
                .output()
                .unwrap()
                .stdout
        };
        let whole = run("1");
        assert!(!whole.is_empty());
        for parts in ["2", "3", "7"] {
            assert_eq!(run(parts), whole, "{args:?} in {parts} parts");
        }
    }
}

/// Writes the CSV file `csv` as Parquet at `out` in row groups of 50 rows, with the column
/// types polars infers (`typed`) or every column as text; returns what was written.
fn parquet_of(csv: &Path, out: &Path, typed: bool) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(if typed { Some(100) } else { Some(0) })
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(out).unwrap())
        .with_row_group_size(Some(50))
        .finish(&mut frame)
        .unwrap();
    frame
}

/// A Parquet file of many row groups names every finding by the line its CSV would have:
/// each row group is read on its own, and its rows keep their place in the file.
#[test]
fn parquet_findings_in_later_row_groups_name_the_lines_of_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/sample_defects.csv");
    let pq = dir.path().join("defects.parquet");
    assert!(parquet_of(&csv, &pq, false).height() > 600);
    let findings = |path: &Path, parts: &str| {
        let out = prolo()
            .args(["validate", "--format", "json"])
            .arg(path)
            .env("PROLO_PARTS", parts)
            .output()
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut list = v["findings"].take();
        for f in list.as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("file");
        }
        list
    };
    let want = findings(&csv, "1");
    let lines: Vec<u64> = (want.as_array().unwrap().iter())
        .filter_map(|f| f["line"].as_u64())
        .collect();
    assert!(lines.iter().any(|&l| l > 500), "{lines:?}");
    for parts in ["1", "3"] {
        assert_eq!(findings(&pq, parts), want, "in {parts} parts");
    }
}

/// A row group decoded in slices (a few rows at a time, one or three parts, a part's share
/// ending inside a group) reads as the CSV file does: the same records, courses and
/// findings, each finding on its CSV line.
#[test]
fn parquet_row_groups_read_in_slices_read_like_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let datasets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let read = |path: &Path, parts: Option<usize>, slice: Option<usize>| {
        let settings = prolo::config::Settings {
            parts,
            parquet_slice: slice,
            ..Default::default()
        };
        let path = path.to_str().unwrap().to_string();
        let mut data = prolo::ingest::read(&[path], &settings).unwrap();
        let v = prolo::validate::validate(&mut data, &settings).unwrap();
        let mut findings = serde_json::to_value(&v.findings).unwrap();
        for f in findings.as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("file");
        }
        (v.records_read, v.courses_read, v.courses.len(), findings)
    };
    // Defects, every column as text; synthetic records, numbers as numbers.
    let synth = dir.path().join("synth.csv");
    prolo()
        .args(["synth", "--courses", "200", "--seed", "5", "--out"])
        .arg(&synth)
        .assert()
        .success();
    for (csv, typed) in [(datasets.join("sample_defects.csv"), false), (synth, true)] {
        let name = csv.file_stem().unwrap().to_str().unwrap().to_string();
        let pq = dir.path().join(format!("{name}.parquet"));
        assert!(parquet_of(&csv, &pq, typed).height() > 600);
        let want = read(&csv, Some(1), None);
        assert!(
            typed || want.3.as_array().unwrap().len() > 10,
            "{:?}",
            want.3
        );
        for parts in [Some(1), Some(3)] {
            for slice in [Some(1), Some(7), Some(49), None] {
                let got = read(&pq, parts, slice);
                assert_eq!(got, want, "{name}: {parts:?} parts, slices {slice:?}");
            }
        }
    }
}

/// A row group claiming more rows than its columns hold values is a damaged file, named as
/// such before anything is decoded (polars gave the slice the height claimed and the read
/// ended in a "data engine" error, exit 1, or, in a debug build, a panic).
#[test]
fn a_parquet_row_group_claiming_more_rows_than_its_columns_hold_is_invalid_data() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/sample.csv");
    let path = dir.path().join("short.parquet");
    parquet_of(&csv, &path, false);
    let mut reader = ParquetReader::new(std::fs::File::open(&path).unwrap());
    let groups: Vec<usize> = (reader.get_metadata().unwrap().row_groups.iter())
        .map(|g| g.num_rows())
        .collect();
    assert!(groups.len() > 20, "{groups:?}");
    let last = *groups.last().unwrap();
    // The last row group's num_rows, an i64 field following the one before it (header 0x16,
    // then its zigzag varint): the last such bytes of the footer, after its columns'
    // num_values, which are the same bytes.
    let varint = |v: usize| {
        let (mut z, mut bytes) = (2 * v as u64, vec![0x16]);
        while z >= 0x80 {
            bytes.push(0x80 | (z & 0x7f) as u8);
            z >>= 7;
        }
        bytes.push(z as u8);
        bytes
    };
    let mut raw = std::fs::read(&path).unwrap();
    let n = raw.len();
    let footer = u32::from_le_bytes(raw[n - 8..n - 4].try_into().unwrap()) as usize;
    let (old, new) = (varint(last), varint(last + 1));
    assert_eq!(old.len(), new.len());
    let at = (n - 8 - footer..n - 8 - old.len())
        .rev()
        .find(|&i| raw[i..i + old.len()] == old[..])
        .expect("the last row group's num_rows");
    raw[at..at + new.len()].copy_from_slice(&new);
    std::fs::write(&path, raw).unwrap();
    for command in ["validate", "analyze"] {
        let out = prolo().arg(command).arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains(&format!(
                "cannot be read as Parquet: column \"patient_id\" in row group {} claims {last} values where the row group has {} rows; the file is damaged",
                groups.len(),
                last + 1,
            )),
            "{err}"
        );
    }
}

#[test]
fn config_maps_columns_and_adds_instruments() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = write(d, "redcap.csv", "record_id,dx,visit_day,inj,nrs,score,scale\nR1,knee_oa,0,1,6,40,WOMAC100\nR1,knee_oa,28,1,4,60,WOMAC100\nR1,knee_oa,56,0,3,70,WOMAC100\n");
    let cfg = write(d, "prolo.toml", "[columns]\npatient_id = \"record_id\"\ncondition = \"dx\"\nday = \"visit_day\"\ninjection = \"inj\"\npain = \"nrs\"\nfunction = \"score\"\nfunction_instrument = \"scale\"\n\n[[instruments]]\nname = \"WOMAC100\"\nmax = 100\nbetter = \"higher\"\nmcid = \"15%\"\n");
    let v = analyze_json(
        &["--config", cfg.to_str().unwrap(), data.to_str().unwrap()],
        None,
    );
    let rows: Vec<_> = v["change"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["instrument"] == "WOMAC100" && r["condition"] == "all" && r["injections"] == "all"
        })
        .collect();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["mean_change"], 30.0);
    assert_eq!(rows[0]["responders"], 1);
    prolo()
        .args(["validate", "--config"])
        .arg(write(d, "bad.toml", "[columns]\nnot_a_field = \"x\"\n"))
        .arg(&data)
        .assert()
        .code(2);
    // injections_top as the command line takes it: 1 to 1000.
    for n in ["0", "1001", "9223372036854775807"] {
        let cfg = write(d, "top.toml", format!("injections_top = {n}\n"));
        prolo()
            .args(["analyze", "--format", "json", "--config"])
            .arg(&cfg)
            .arg(&data)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "injections_top = {n}: expected a whole number from 1 to 1000"
            )));
    }
}

#[test]
fn bad_input_gives_a_clear_message_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let h = "patient_id,condition,day,injection,pain\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, format!("{h}{ROWS}").repeat(200).as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", vec![], "empty"),
        ("garbage.csv", garbage, "UTF-8"),
        (
            "latin1.csv",
            format!("{h}P1,caf\u{e9},0,1,5\n")
                .replace('\u{e9}', "\u{1}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 1 { 0xe9 } else { b })
                .collect(),
            "line 2",
        ),
        ("trunc.csv.gz", gz[..gz.len() / 2].to_vec(), "gzip"),
        (
            "unclosed.csv",
            format!("{h}P1,\"knee,0,1,5\nP1,knee,30,1,3\n").into_bytes(),
            "never closed",
        ),
        (
            "dup.csv",
            b"patient_id,condition,day,injection,pain,Pain\nP1,knee,0,1,5,5\n".to_vec(),
            "both named",
        ),
        (
            "missing.csv",
            b"patient_id,condition,pain\nP1,knee,5\n".to_vec(),
            "required column",
        ),
    ];
    for (name, bytes, says) in cases {
        let p = write(d, name, bytes);
        let out = prolo().arg("validate").arg(&p).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {err}");
        assert!(err.contains(says) && err.contains(name), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn odd_values_are_findings_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let big = "x".repeat(10_000_000);
    let text = format!("patient_id,condition,day,injection,pain\nP1,knee,0,1,1e309\nP1,knee,30,1,NaN\nP1,knee,60,1,inf\nP1,knee,90,0,-0\nP2,knee,0,1,{big}\nP3,knee,99999999999999999999,1,5\nP4,knee,1e30,1,5\nP5,knee,0,1,\"7,5\"\nP6,knee,0,1,\"1,000\"\n");
    let p = write(d, "odd.csv", text);
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3);
    assert_eq!(findings(&r, "invalid pain").len(), 6, "{}", r["counts"]);
    assert_eq!(findings(&r, "invalid day").len(), 2);
    let shown = findings(&r, "invalid pain")
        .iter()
        .map(|f| f["value"].as_str().unwrap().len())
        .max()
        .unwrap();
    assert!(shown < 200, "a 10 MB value is shown whole");
    let header_only = write(d, "header.csv", "patient_id,condition,day,injection,pain\n");
    prolo().arg("validate").arg(&header_only).assert().code(0);
    prolo()
        .args(["analyze", "--format", "json"])
        .arg(&header_only)
        .assert()
        .code(0);
}

#[test]
fn many_columns_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut header = String::from("patient_id,condition,day,injection,pain");
    let mut row = String::from("P1,knee,0,1,5");
    for i in 0..200_000 {
        header.push_str(&format!(",c{i}"));
        row.push(',');
    }
    let p = write(dir.path(), "wide.csv", format!("{header}\n{row}\n"));
    prolo().arg("validate").arg(&p).assert().code(0);
}

/// F8 (found by reading polars' code, not by the fuzzer, whose inputs are at most 8 KiB):
/// polars builds a Parquet schema's tree by recursion, and a schema of a group inside a
/// group 100,000 times (a 0.8 MB footer) overflowed its stack and aborted the process.
#[test]
fn a_parquet_schema_nested_100000_levels_deep_is_refused_not_a_crash() {
    let groups = 100_000usize;
    // FileMetaData { version 1, schema: root > 100,000 groups > an i32 column, 0 rows, no
    // row groups }, Thrift compact.
    let mut meta = vec![0x15, 0x02, 0x19, 0xfc];
    let mut n = groups + 2;
    while n >= 0x80 {
        meta.push((n as u8) | 0x80);
        n >>= 7;
    }
    meta.push(n as u8);
    meta.extend_from_slice(&[0x48, 0x01, b'r', 0x15, 0x02, 0x00]);
    for _ in 0..groups {
        meta.extend_from_slice(&[0x35, 0x00, 0x18, 0x01, b'g', 0x15, 0x02, 0x00]);
    }
    meta.extend_from_slice(&[0x15, 0x02, 0x25, 0x00, 0x18, 0x01, b'x', 0x00]);
    meta.extend_from_slice(&[0x16, 0x00, 0x19, 0x0c, 0x00]);
    let mut file = b"PAR1".to_vec();
    file.extend_from_slice(&meta);
    file.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    file.extend_from_slice(b"PAR1");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "deep.parquet", file);
    for command in ["validate", "analyze"] {
        prolo()
            .arg(command)
            .arg(&p)
            .assert()
            .code(3)
            .stderr(predicates::str::contains(
                "its schema nests columns more than 64 levels deep, which prolo does not read; expected a schema of flat columns",
            ));
    }
}

#[test]
fn unicode_and_right_to_left_names_and_markup_in_every_text_field() {
    let dir = tempfile::tempdir().unwrap();
    let header = "patient_id,condition,day,injection,pain,function,function_instrument,injectate,age,sex,site,adverse_event";
    let mut text = format!("{header}\n");
    let conditions = [
        "Gonarthrose \u{e9}l\u{e8}ve",
        "\u{5d3}\u{5dc}\u{5e7}\u{5ea} \u{5d1}\u{5e8}\u{5da}",
        "\u{202e}evil\u{202c}",
        "=1+1",
    ];
    for (c, cond) in conditions.iter().enumerate() {
        for i in 0..12 {
            let pid = format!("=HYPERLINK(\"\"x{c}_{i}\"\")");
            text.push_str(&format!(
                "\"{pid}\",\"{cond}\",0,1,{},,,\"<b>dextrose</b>\",40,\"<i>F</i>\",\"@SUM(A1)\",\n",
                5 + i % 4
            ));
            text.push_str(&format!("\"{pid}\",\"{cond}\",30,0,{},,,,40,\"<i>F</i>\",\"@SUM(A1)\",\"<script>x</script>\"\n", 2 + i % 3));
        }
    }
    let input = write(dir.path(), "unicode.csv", text);
    let out = dir.path().join("out");
    prolo()
        .args(["analyze", "--min-cell", "0"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let names: Vec<&str> = summary["sessions_received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["condition"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"gonarthrose_\u{e9}l\u{e8}ve"), "{names:?}");
    assert!(
        names.contains(&"\u{5d3}\u{5dc}\u{5e7}\u{5ea}_\u{5d1}\u{5e8}\u{5da}"),
        "{names:?}"
    );
    assert_eq!(summary["cohort"]["courses"], 48);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<b>") && !html.contains("<i>") && !html.contains("<script"));
    let table1 = std::fs::read_to_string(out.join("tables/table1.csv")).unwrap();
    assert!(
        table1.contains("'=1+1") && !table1.contains(",=1+1"),
        "{table1}"
    );
}

#[test]
fn damaged_parquet_metadata_is_invalid_data_not_a_crash() {
    // Found by cargo fuzz: polars' Parquet reader panics on this file's metadata.
    for command in ["validate", "analyze"] {
        let out = prolo()
            .arg(command)
            .arg(fixture("fuzz/parquet-damaged-metadata.bin"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("cannot be read as Parquet") && !err.contains("panicked"),
            "{err}"
        );
    }
}

/// Opens `path` (header read, nothing else), lets `change` act on the file, then reads the
/// records (in `parts` parts, or as prolo chooses): the error message, if any.
fn read_after(path: &Path, parts: Option<usize>, change: impl FnOnce(&Path)) -> Option<String> {
    let settings = prolo::config::Settings {
        parts,
        ..Default::default()
    };
    let mut data = prolo::ingest::read(&[path.to_str().unwrap().to_string()], &settings).unwrap();
    change(path);
    prolo::validate::validate(&mut data, &settings)
        .err()
        .map(|e| e.to_string())
}

#[test]
fn a_file_that_changes_while_it_is_read_is_an_error() {
    // Read whole, and in two parts (whose SHA-256 is computed after them).
    for parts in [None, Some(2)] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("patient_id,condition,day,injection,pain\n{ROWS}");
        let path = write(dir.path(), "a.csv", &text);
        let v = read_after(&path, parts, |_| {});
        assert_eq!(v, None, "an unchanged file reads ({parts:?})");

        let grown = read_after(&path, parts, |p| {
            let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
            std::io::Write::write_all(&mut f, b"P3,knee_oa,0,1,5\n").unwrap();
        })
        .expect("a file that grew");
        assert!(grown.contains("a.csv: the file changed size"), "{grown}");
        assert!(grown.contains("nothing was analysed"), "{grown}");

        let path = write(dir.path(), "b.csv", &text);
        let deleted = read_after(&path, parts, |p| std::fs::remove_file(p).unwrap());
        let deleted = deleted.expect("deleted");
        assert!(
            deleted.contains("b.csv: the file was deleted or moved"),
            "{deleted}"
        );

        let path = write(dir.path(), "c.csv", &text);
        let replaced = read_after(&path, parts, |p| {
            let other = write(p.parent().unwrap(), "other.csv", &text);
            std::fs::rename(other, p).unwrap();
        })
        .expect("replaced");
        assert!(
            replaced.contains("c.csv: the file was replaced"),
            "{replaced}"
        );

        let path = write(dir.path(), "d.csv", &text);
        let truncated = read_after(&path, parts, |p| {
            std::fs::write(p, &text[..text.len() / 2]).unwrap();
        })
        .expect("truncated");
        assert!(
            truncated.contains("d.csv: the file changed size"),
            "{truncated}"
        );
    }
}

#[test]
fn input_larger_than_the_memory_limit_stops_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB holds 8,192 rows of 128 bytes; 20,000 rows do not fit.
    let mut text = String::from("patient_id,condition,day,injection,pain\n");
    for i in 0..5000 {
        for (day, inj, pain) in [(0, 1, 6), (21, 1, 5), (42, 1, 4), (70, 0, 3)] {
            text.push_str(&format!("P{i},knee_oa,{day},{inj},{pain}\n"));
        }
    }
    let path = write(dir.path(), "big.csv", &text);
    for command in ["validate", "analyze"] {
        let out = prolo()
            .args([command, path.to_str().unwrap()])
            .env("PROLO_MEMORY_LIMIT", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("needs more memory than is available"), "{err}");
        assert!(err.contains("1 MiB are available"), "{err}");
        assert!(err.contains("big.csv: line "), "{err}");
    }
    // With room, the same file is analysed.
    prolo()
        .args(["analyze", path.to_str().unwrap()])
        .env("PROLO_MEMORY_LIMIT", "64")
        .assert()
        .success();
}

#[test]
fn a_quote_that_never_closes_in_a_long_file_stops_before_memory_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    // With 32 MiB available, one record may run on for at most 8 MiB.
    let mut text = String::from("patient_id,condition,day,injection,pain\nP0,\"knee_oa,0,1,6\n");
    for i in 0..500_000 {
        text.push_str(&format!("P{i},knee_oa,0,1,6\n"));
    }
    let path = write(dir.path(), "open.csv", &text);
    let out = prolo()
        .args(["validate", path.to_str().unwrap()])
        .env("PROLO_MEMORY_LIMIT", "32")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("open.csv: after line 1: a record runs on for more than 8 MiB"),
        "{err}"
    );
}

#[test]
fn quotes_inside_unquoted_fields_are_text() {
    // A quote that does not start a field is literal, as the CSV reader reads it (F3 of the
    // fuzzing campaign: one such quote was taken for a quoted field that never closes, and
    // two passed unnoticed by a count of quotes).
    let dir = tempfile::tempdir().unwrap();
    let h = "patient_id,condition,day,injection,pain,injectate\n";
    for (name, rows) in [
        (
            "one.csv",
            "P1,knee_oa,0,1,6,dextrose 5\" vial\nP1,knee_oa,30,0,3,\n",
        ),
        (
            "two.csv",
            "P1,knee_oa,0,1,6,dextrose 5\" vial\nP1,knee_oa,30,0,3,a 2\" needle\n",
        ),
        (
            "quoted.csv",
            "P1,knee_oa,0,1,6,\"dextrose, 15%\"\"\"\nP1,knee_oa,30,0,3,\"x\"\"\n\"\n",
        ),
        ("semi.csv", "P1,knee_oa,0,1,6,a;\"b\nP1,knee_oa,30,0,3,\n"),
    ] {
        let p = write(dir.path(), name, format!("{h}{rows}"));
        let (code, report) = validate_json(&p);
        assert_eq!(code, 0, "{name}: {report}");
        let v = analyze_json(&[p.to_str().unwrap()], None);
        assert_eq!(v["cohort"]["valid_courses"], 1, "{name}");
    }
    // A quote at the start of a field that never closes is still an error, located.
    for (name, rows, line) in [
        (
            "open.csv",
            "P1,knee_oa,0,1,6,\"dextrose\nP1,knee_oa,30,0,3,\n",
            2,
        ),
        (
            "late.csv",
            "P1,knee_oa,0,1,6,a\"b\nP1,knee_oa,30,0,3,\"c\n",
            3,
        ),
        (
            "doubled.csv",
            "P1,knee_oa,0,1,6,\"a\"\"\nP1,knee_oa,30,0,3,\n",
            2,
        ),
    ] {
        let p = write(dir.path(), name, format!("{h}{rows}"));
        let out = prolo().arg("validate").arg(&p).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {err}");
        assert!(
            err.contains(&format!(
                "{name}: line {line}: a quoted field opens and is never closed"
            )),
            "{name}: {err}"
        );
    }
}

/// Parquet files as pyarrow, DuckDB, pandas and fastparquet write them
/// (`tests/fixtures/writers/make_writers.py`): with the options that change the footer and
/// the pages (statistics, page index, data page v2, dictionaries, compression, several row
/// groups), every footer passes the check that stops F5 and F7 and every file gives the
/// findings and results of the CSV file it was written from. The typed ones hold the `date`
/// field as a date or a timestamp (with a time of day, with and without a time zone), small,
/// unsigned and decimal numbers, and columns no field reads of types polars cannot hold (a
/// time of day, a struct, a float16, a duration): read like `records_dates.csv`.
#[test]
fn parquet_from_other_writers_reads_like_its_csv() {
    let dir = fixture("writers");
    let strip = |mut report: serde_json::Value| {
        for f in report["findings"].as_array_mut().unwrap() {
            f["file"] = serde_json::Value::Null;
        }
        report
    };
    let analyzed = |path: &Path| results(analyze_json(&[path.to_str().unwrap()], None));
    let mut read = 0;
    for (csv, files) in [
        (
            "records.csv",
            &[
                "pyarrow.parquet",
                "pyarrow_v2_pages_index_zstd.parquet",
                "pyarrow_v1_plain_snappy.parquet",
                "duckdb.parquet",
                "duckdb_v2_gzip.parquet",
                "fastparquet.parquet",
                "fastparquet_groups_stats.parquet",
            ][..],
        ),
        (
            "records_dates.csv",
            &[
                "pyarrow_typed.parquet",
                "pandas_timestamps.parquet",
                "pyarrow_timestamps_utc.parquet",
            ][..],
        ),
    ] {
        let (code, want) = validate_json(&dir.join(csv));
        assert_eq!(code, 0);
        assert_eq!(want["records"], 300);
        assert!(!want["findings"].as_array().unwrap().is_empty());
        let want = strip(want);
        let want_results = analyzed(&dir.join(csv));
        for file in files {
            let path = dir.join(file);
            let (code, report) = validate_json(&path);
            assert_eq!(code, 0, "{file}");
            assert_eq!(strip(report), want, "{file}");
            assert_eq!(analyzed(&path), want_results, "{file}");
            read += 1;
        }
    }
    // Every Parquet file of the folder is one of the above.
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "parquet")
        })
        .count();
    assert_eq!(read, on_disk);
}

/// A Parquet column of a type polars cannot hold stops the read only when a field reads it.
#[test]
fn a_parquet_field_of_a_type_polars_cannot_hold_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "float16_as_pain.parquet",
        std::fs::read(fixture("writers/pyarrow_typed.parquet")).unwrap(),
    );
    prolo()
        .args(["validate", "--config"])
        .arg(write(
            dir.path(),
            "map.toml",
            "[columns]\npain = \"weight16\"\n",
        ))
        .arg(&file)
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "cannot be read as Parquet: column \"weight16\"",
        ))
        .stderr(predicates::str::contains("expected numbers, text or dates"));
}

#[test]
fn parquet_list_columns_are_skipped_unless_a_field_reads_them() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, pain_as_list: bool| {
        let pain = Series::new("pain".into(), [7.0, 3.0, 6.0, 5.0]);
        let lists = |name: &str, s: &Series| -> Column {
            let list: ListChunked = (0..s.len()).map(|i| Some(s.slice(i as i64, 1))).collect();
            list.into_series().with_name(name.into()).into()
        };
        let mut frame = DataFrame::new(
            4,
            vec![
                Column::new("patient_id".into(), ["P1", "P1", "P2", "P2"]),
                Column::new("condition".into(), ["knee_oa"; 4]),
                Column::new("day".into(), [0i64, 30, 0, 20]),
                Column::new("injection".into(), [1i64, 0, 1, 0]),
                if pain_as_list {
                    lists("pain", &pain)
                } else {
                    pain.clone().into()
                },
                lists("tags", &pain),
            ],
        )
        .unwrap();
        let path = dir.path().join(name);
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        path
    };
    // A list column no field reads (here "tags") is left alone.
    prolo()
        .arg("validate")
        .arg(write("extra_list.parquet", false))
        .assert()
        .success()
        .stdout(predicates::str::contains("4 records, 2 courses read"));
    // A field held as lists cannot be read as one value per record: invalid data, said so.
    prolo()
        .arg("validate")
        .arg(write("pain_list.parquet", true))
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "column \"pain\" holds values of type list[f64]; expected one number or text per record",
        ));
}

/// Fuzzing finding F6 (the `parts` target): the identifier guard looked at the first
/// records of the first part only, so a file read in parts whose identifying values came
/// after the first part's records passed the guard that the one-piece read stops at.
#[test]
fn the_identifier_guard_sees_the_first_records_of_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("patient_id,condition,day,injection,pain,contact\n");
    for p in 0..6 {
        text.push_str(&format!("P{p},knee_oa,0,1,6,\nP{p},knee_oa,30,0,3,\n"));
    }
    for p in 6..12 {
        text.push_str(&format!(
            "P{p},knee_oa,0,1,6,pat{p}@example.org\nP{p},knee_oa,30,0,3,pat{p}@example.org\n"
        ));
    }
    let data = write(dir.path(), "later.csv", text);
    let run = |parts: &str| {
        prolo()
            .args(["validate", "--format", "json"])
            .arg(&data)
            .env("PROLO_PARTS", parts)
            .output()
            .unwrap()
    };
    let whole = run("1");
    assert_eq!(whole.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&whole.stdout).contains("identifier column"));
    for parts in ["2", "3", "5"] {
        let split = run(parts);
        assert_eq!(split.status.code(), Some(3), "{parts} parts");
        assert_eq!(split.stdout, whole.stdout, "{parts} parts");
    }
}

/// Fuzzing finding F9 (the `parts` target): a course's key was its patient_id, a 0 byte and
/// the condition id, but a patient seen without a condition had only the 0 byte after its
/// patient_id. So patient "Z5\0\0\0\0" without a condition and patient "Z5" with the first
/// condition (id 0) had one key: the course's rows went to a patient that is not a course,
/// and validation panicked (index out of bounds) or, read in parts (where each part numbers
/// conditions apart), counted courses differently from the one-piece read.
#[test]
fn a_patient_id_holding_0_bytes_is_never_taken_for_another_course() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(
        dir.path(),
        "one.csv",
        &b"patient_id,condition,day,injection,pain\nZ5\0\0\0\0,,0,1,6\nZ5,knee_oa,0,1,6\nZ5,knee_oa,30,0,3\n"[..],
    );
    let out = prolo().arg("validate").arg(&one).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let v = analyze_json(&[one.to_str().unwrap()], None);
    assert_eq!(v["cohort"]["courses"], 1);
    assert_eq!(v["cohort"]["patients"], 2);
    let knee = (v["change"].as_array().unwrap().iter())
        .find(|r| r["condition"] == "knee_oa" && r["injections"] == "all")
        .expect("knee_oa's change row");
    assert_eq!(knee["n"], 1);

    // The fuzzer's input, reduced: in two parts, the second part's first condition had id 0.
    let parts = write(
        dir.path(),
        "parts.csv",
        &b"patient_id,condition,day,injection,pain,function,function_instrumeot,injzctate,age,sex,site,adve0,WOMAC,dextrose 15%,50,F,A,\n50,F,A,\n5,low_back_pain,0,1,8,46,ODI,dextrose 15%,5,40,WOMA333333C,,50,F,A,\nZ5\0\0\0\0\nZ5,low_back_pain,60rse_event\n"[..],
    );
    let run = |n: &str| {
        prolo()
            .args(["validate", "--format", "json"])
            .arg(&parts)
            .env("PROLO_PARTS", n)
            .output()
            .unwrap()
            .stdout
    };
    let whole = run("1");
    assert!(String::from_utf8_lossy(&whole).contains("\"courses\": 3,"));
    for n in ["2", "3"] {
        assert_eq!(run(n), whole, "{n} parts");
    }
}

#[test]
fn columns_prolo_does_not_read_may_be_unnamed_or_named_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = results(analyze_json(
        &[write(
            d,
            "a.csv",
            format!("patient_id,condition,day,injection,pain\n{ROWS}"),
        )
        .to_str()
        .unwrap()],
        None,
    ));
    // A spreadsheet's unnamed trailing columns, and two columns prolo ignores named alike.
    let extra: String = ROWS.lines().map(|r| format!("{r},,,a,b\n")).collect();
    let text = format!("patient_id,condition,day,injection,pain,,,notes,Notes\n{extra}");
    let got = results(analyze_json(
        &[write(d, "b.csv", text).to_str().unwrap()],
        None,
    ));
    assert_eq!(got, base);
    // A column prolo reads must still be named once (covered in `bad_files_...` too), and
    // one excluded by --exclude-columns is not read.
    let sites: String = ROWS.lines().map(|r| format!("{r},a,b\n")).collect();
    let twice = format!("patient_id,condition,day,injection,pain,site,Site\n{sites}");
    let p = write(d, "c.csv", twice);
    let (code, err) = validate_stderr(&p);
    assert_eq!(code, 3);
    assert!(err.contains("both named \"Site\""), "{err}");
    let got = results(analyze_json(
        &["--exclude-columns", "site", p.to_str().unwrap()],
        None,
    ));
    assert_eq!(got["cohort"], base["cohort"]);
}

#[test]
fn every_row_with_too_many_fields_is_named_in_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = String::from("patient_id,condition,day,injection,pain\n");
    for i in 0..40 {
        // Lines 2, 3, …: every third from line 4 has a sixth field.
        let extra = if i % 3 == 2 { ",x" } else { "" };
        text.push_str(&format!("P{i},knee,0,1,5{extra}\n"));
    }
    let (code, err) = validate_stderr(&write(d, "ragged.csv", &text));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(
            "13 rows have more fields than the header's 5: lines 4 (6 fields), 7 (6 fields), 10"
        ),
        "{err}"
    );
    assert!(err.contains("40 (6 fields); a value"), "{err}");
    // Past 20 rows the rest are counted.
    let many: String = (0..30).map(|i| format!("P{i},knee,0,1,5,x\n")).collect();
    let many = format!("patient_id,condition,day,injection,pain\n{many}");
    let (code, err) = validate_stderr(&write(d, "many.csv", many));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("21 (6 fields) and 10 more"), "{err}");
    // One row: named as before.
    let one = format!("patient_id,condition,day,injection,pain\n{ROWS}P9,knee,0,1,5,x\n");
    let (code, err) = validate_stderr(&write(d, "one.csv", one));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("line 7: 6 fields where the header has 5"),
        "{err}"
    );
}

#[test]
fn a_header_without_a_line_end_is_a_file_without_rows() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("plain.csv", "patient_id,condition,day,injection,pain"),
        ("cr.csv", "patient_id,condition,day,injection,pain\r"),
        ("newline.csv", "patient_id,condition,day,injection,pain\n"),
    ] {
        let (code, r) = validate_json(&write(dir.path(), name, text));
        assert_eq!(code, 0, "{name}: {r}");
        assert_eq!(r["records"], 0, "{name}");
    }
}

#[test]
fn a_failure_is_json_on_stdout_when_json_was_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let ragged = write(
        dir.path(),
        "r.csv",
        format!("patient_id,condition,day,injection,pain\n{ROWS}P9,knee,0,1,5,x\n"),
    );
    let missing = dir.path().join("nothing.csv");
    let config = dir.path().join("nothing.toml");
    let cases: Vec<(Vec<&std::ffi::OsStr>, i32, &str)> = vec![
        (
            vec!["validate".as_ref(), ragged.as_os_str()],
            3,
            "invalid_data",
        ),
        (vec!["analyze".as_ref(), missing.as_os_str()], 1, "io"),
        (
            vec![
                "validate".as_ref(),
                "--config".as_ref(),
                config.as_os_str(),
                ragged.as_os_str(),
            ],
            2,
            "usage",
        ),
    ];
    for (args, code, kind) in cases {
        let out = prolo()
            .args(&args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["error"]["kind"], kind, "{args:?}");
        assert_eq!(v["error"]["exit_code"], code, "{args:?}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains(message));
        // Text output keeps stdout empty.
        let out = prolo().args(&args).output().unwrap();
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn mistakes_in_the_setup_are_usage_errors_that_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = write(
        d,
        "a.csv",
        format!("patient_id,condition,day,injection,pain\n{ROWS}"),
    );
    let run = |c: &mut assert_cmd::Command| {
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(prolo()
        .env("PROLO_MEMORY_LIMIT", "abc")
        .arg("validate")
        .arg(&csv));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("PROLO_MEMORY_LIMIT"), "{err}");
    let file = write(d, "report", "mine");
    let (code, err) = run(prolo().arg("analyze").arg("--out").arg(&file).arg(&csv));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a folder"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    let config = write(d, "p.toml", "[columns]\npatient_id = \"pid\"\n");
    let (code, err) = run(prolo()
        .arg("validate")
        .arg("--config")
        .arg(&config)
        .arg(&csv));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("patient_id (as column \"pid\""), "{err}");
}
