//! `prolo validate`: each kind of finding, with file, line, column, value, expected and cost.

use super::*;
use std::io::Write;

fn course(rows: &[&str]) -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

#[test]
fn clean_file_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ok.csv",
        course(&[
            "P1,knee_oa,0,1,6,50,WOMAC,dextrose 15%,54,F,S1,",
            "P1,knee_oa,28,1,4,40,WOMAC,dextrose 15%,54,F,S1,",
            "P1,knee_oa,56,0,2,30,WOMAC,,54,F,S1,",
        ]),
    );
    let (code, r) = validate_json(&p);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["errors"], 0);
    assert_eq!(r["records"], 3);
}

#[test]
fn every_kind_of_finding_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let text = course(&[
        ",knee_oa,0,1,5,,,,,,,",              // 2 no patient_id
        "P1,  ,0,1,5,,,,,,,",                 // 3 no condition
        "P2,knee_oa,x,1,5,,,,,,,",            // 4 invalid day
        "P2,knee_oa,30,1,4,,,,,,,",           // 5
        "P3,knee_oa,0,maybe,5,,,,,,,",        // 6 invalid injection
        "P4,knee_oa,0,1,5,,,,,,,",            // 7
        "P4,knee_oa,0,0,5,,,,,,,",            // 8 duplicate encounter
        "P5,knee_oa,0,1,11,,,,,,,",           // 9 invalid pain
        "P5,knee_oa,30,1,4,200,WOMAC,,,,,",   // 10 invalid function
        "P5,knee_oa,60,0,3,20,WOMACX,,97,,,", // 11 unknown instrument, age above 90
        "P5,knee_oa,90,0,3,,,,old,,,",        // 12 invalid age
    ]);
    let p = write(dir.path(), "bad.csv", text);
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3);
    let expect = [
        ("no patient_id", 2, "patient_id", "", "row excluded"),
        ("no condition", 3, "condition", "", "row excluded"),
        ("invalid day", 4, "day", "x", "course excluded (2 records)"),
        (
            "invalid injection",
            6,
            "injection",
            "maybe",
            "course excluded (1 records)",
        ),
        (
            "duplicate encounter",
            8,
            "day",
            "0",
            "course excluded (2 records)",
        ),
        ("invalid pain", 9, "pain", "11", "value dropped"),
        ("invalid function", 10, "function", "200", "value dropped"),
        (
            "unknown instrument",
            11,
            "function_instrument",
            "WOMACX",
            "value dropped",
        ),
        ("age above 90", 11, "age", "97", "value dropped"),
        ("invalid age", 12, "age", "old", "value dropped"),
    ];
    for (reason, line, column, value, cost) in expect {
        let f = findings(&r, reason);
        assert_eq!(f.len(), 1, "{reason}: {r}");
        let f = f[0];
        assert_eq!(f["severity"], "error", "{reason}");
        assert_eq!(f["line"], line, "{reason}");
        assert_eq!(f["column"], column, "{reason}");
        assert_eq!(f["value"], value, "{reason}");
        assert_eq!(f["cost"], cost, "{reason}");
        assert!(f["file"].as_str().unwrap().ends_with("bad.csv"));
        assert!(!f["expected"].as_str().unwrap().is_empty());
    }
    // A duplicate names the row it duplicates, so that both can be found.
    let dup = findings(&r, "duplicate encounter")[0]["expected"]
        .as_str()
        .unwrap();
    assert!(
        dup.ends_with("(line 7 has this course and day too)"),
        "{dup}"
    );
}

/// A day given three times, in two files: each later row names the first one, with its file
/// when that is another.
#[test]
fn a_duplicate_encounter_names_the_first_row_of_its_day() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.csv",
        course(&[
            "P1,knee_oa,0,1,5,,,,,,,",
            "P1,knee_oa,30,1,4,,,,,,,",
            "P1,knee_oa,30,0,3,,,,,,,",
        ]),
    );
    let b = write(dir.path(), "b.csv", course(&["P1,knee_oa,30,0,2,,,,,,,"]));
    let out = prolo()
        .args(["validate", "--format", "json"])
        .args([&a, &b])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dups = findings(&r, "duplicate encounter");
    let said: Vec<(&str, u64, &str)> = (dups.iter())
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let file = &file[file.len() - 5..];
            (
                file,
                f["line"].as_u64().unwrap(),
                f["expected"].as_str().unwrap(),
            )
        })
        .collect();
    let first = a.display().to_string();
    assert_eq!(
        said,
        [
            (
                "a.csv",
                4,
                "one encounter per course and day (line 3 has this course and day too)"
            ),
            (
                "b.csv",
                2,
                &*format!(
                    "one encounter per course and day ({first}, line 3 has this course and day too)"
                )
            ),
        ]
    );
    // The first row read from standard input is named as such.
    let out = prolo()
        .args(["validate", "--format", "json", "-"])
        .arg(&b)
        .write_stdin(std::fs::read(&a).unwrap())
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dups = findings(&r, "duplicate encounter");
    assert_eq!(
        dups[1]["expected"],
        "one encounter per course and day (standard input, line 3 has this course and day too)"
    );
}

#[test]
fn missing_baseline_and_follow_up_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.csv",
        course(&[
            "P1,knee_oa,0,1,,,,,,,,",
            "P1,knee_oa,30,0,3,,,,,,,",
            "P2,hip_oa,0,0,5,,,,,,,",
        ]),
    );
    let (code, r) = validate_json(&p);
    assert_eq!(code, 0, "{r}");
    assert_eq!(findings(&r, "no baseline")[0]["line"], 2);
    assert_eq!(findings(&r, "no follow-up")[0]["line"], 4);
    assert_eq!(r["warnings"], 2);
}

#[test]
fn text_report_shows_20_then_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (0..30)
        .map(|i| format!("P{i},knee_oa,0,1,99,,,,,,,"))
        .collect();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let p = write(dir.path(), "many.csv", course(&refs));
    let out = prolo().arg("validate").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("error:")).count(),
        20,
        "{text}"
    );
    assert!(text.contains("and 40 more"), "{text}");
    assert!(
        text.contains("invalid pain") && text.contains("30"),
        "{text}"
    );
}

#[test]
fn date_column_becomes_day_with_a_warning_and_no_date_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let text = "patient_id,condition,date,injection,pain\nP1,knee_oa,2024-02-27,1,6\nP1,knee_oa,2024-03-26,1,4\nP1,knee_oa,2024-03-26,0,3\n";
    let p = write(dir.path(), "dated.csv", text);
    let out = prolo()
        .args(["validate", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("date column"), "{stdout}");
    assert!(stdout.contains("duplicate encounter"), "{stdout}");
    assert!(!stdout.contains("2024"), "a date leaked: {stdout}");
}

#[test]
fn a_date_column_beside_day_is_a_warning_and_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ("P1,knee_oa,0,1,6", "2024-02-27"),
        ("P1,knee_oa,28,1,4", "2024-03-26"),
        // A date that is no date: ignored with the column, so no finding.
        ("P1,knee_oa,56,0,3", "soon"),
    ];
    let plain: String = rows.iter().map(|(r, _)| format!("{r}\n")).collect();
    let dated: String = rows.iter().map(|(r, d)| format!("{r},{d}\n")).collect();
    let a = write(
        dir.path(),
        "a.csv",
        format!("patient_id,condition,day,injection,pain\n{plain}"),
    );
    let b = write(
        dir.path(),
        "b.csv",
        format!("patient_id,condition,day,injection,pain,date\n{dated}"),
    );
    let (code, r) = validate_json(&b);
    assert_eq!(code, 0, "{r}");
    let date = findings(&r, "date column");
    assert_eq!(date.len(), 1, "{r}");
    assert_eq!(date[0]["severity"], "warning");
    assert!(date[0]["expected"]
        .as_str()
        .unwrap()
        .contains("date is ignored"));
    let (_, ra) = validate_json(&a);
    assert_eq!(
        r["findings"].as_array().unwrap().len(),
        ra["findings"].as_array().unwrap().len() + 1
    );
    let out = dir.path().join("out");
    prolo()
        .args(["analyze", "--min-cell", "0", "--out"])
        .arg(&out)
        .arg(&b)
        .assert()
        .success();
    for f in ["summary.json", "report.md", "report.html"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!text.contains("2024-0"), "{f}: a date leaked");
    }
}

#[test]
fn identifier_guard_by_name_and_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ids.csv", "patient_id,condition,day,injection,pain,patient_name,notes\nP1,knee_oa,0,1,5,Jane Roe,call 555-123-4567\n");
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3);
    let cols: Vec<&str> = findings(&r, "identifier column")
        .iter()
        .map(|f| f["column"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["patient_name"], "{r}");
    let p = write(
        dir.path(),
        "ids2.csv",
        "patient_id,condition,day,injection,pain,contact\nP1,knee_oa,0,1,5,jane@example.org\n",
    );
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3);
    assert_eq!(findings(&r, "identifier column")[0]["column"], "contact");
    let out = prolo().args(["analyze"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("contact"));
    let out = prolo()
        .args(["analyze", "--exclude-columns", "Contact"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn look_alikes_pass_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ok.csv",
        course(&[
            "P0000001,knee_oa,0,1,5,40,VISA-A,dextrose 12.5%,90,F,S-01,none",
            "P0000001,knee_oa,28,1,4,50,VISA-A,dextrose 12.5%,90,F,S-01,",
        ]),
    );
    let (code, r) = validate_json(&p);
    assert!(findings(&r, "identifier column").is_empty(), "{r}");
    assert_eq!(code, 0);
}

#[test]
fn usage_errors_exit_2() {
    prolo().args(["validate"]).assert().code(2);
    prolo()
        .args(["analyze", "x.csv", "--min-cell", "many"])
        .assert()
        .code(2);
    prolo().args(["frobnicate"]).assert().code(2);
    let f = fixture("analyze/edge_single.csv");
    prolo()
        .args(["analyze", "--responder", "pain=lots"])
        .arg(&f)
        .assert()
        .code(2);
    prolo()
        .args(["analyze", "--responder", "nothing=2"])
        .arg(&f)
        .assert()
        .code(2);
}

#[test]
fn missing_file_exits_1() {
    let out = prolo()
        .args(["validate", "/nonexistent/records.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/records.csv"));
}

#[test]
fn strict_makes_errors_fatal_for_analyze() {
    let f = fixture("analyze/defects.csv");
    prolo()
        .args(["analyze", "--min-cell", "0"])
        .arg(&f)
        .assert()
        .code(0);
    prolo()
        .args(["analyze", "--strict"])
        .arg(&f)
        .assert()
        .code(3);
    // A pipeline asking for JSON gets one document: the failure, and every finding as
    // `validate --format json` gives them (not just their count).
    let out = prolo()
        .args(["analyze", "--strict", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "invalid_data");
    assert_eq!(doc["error"]["exit_code"], 3);
    let errors = doc["validation"]["errors"].as_u64().unwrap();
    assert!(errors > 0);
    assert_eq!(doc["validation"]["valid"], false);
    let listed = (doc["validation"]["findings"].as_array().unwrap().iter())
        .filter(|f| f["severity"] == "error")
        .count();
    assert_eq!(listed as u64, errors);
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("{errors} error finding(s)")));
}

#[test]
fn line_numbers_count_blank_lines_crlf_and_quoted_line_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let h = "patient_id,condition,day,injection,pain";
    for (name, text, line) in [
        (
            "lf.csv",
            format!("{h}\nP1,knee,0,1,5\n\n\nP1,knee,30,1,x\n"),
            5,
        ),
        (
            "crlf.csv",
            format!("{h}\r\nP1,knee,0,1,5\r\n\r\nP1,knee,30,1,x\r\n"),
            4,
        ),
        (
            "quoted.csv",
            format!("{h}\nP1,\"knee\n\nOA\",0,1,5\nP1,knee,30,1,x\n"),
            5,
        ),
        (
            "no_final_newline.csv",
            format!("{h}\nP1,knee,0,1,5\n\nP1,knee,30,1,x"),
            4,
        ),
        ("bom.csv", format!("\u{feff}{h}\nP1,knee,0,1,x\n"), 2),
    ] {
        let p = write(dir.path(), name, text);
        let (_, r) = validate_json(&p);
        assert_eq!(findings(&r, "invalid pain")[0]["line"], line, "{name}: {r}");
    }
}

#[test]
fn a_vas_read_as_nrs_says_so_and_an_identifier_column_is_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "vas.csv",
        "patient_id,condition,day,injection,pain\nP1,knee,0,1,55\nP1,knee,30,0,12.5\nP2,knee,0,1,11\nP2,knee,30,0,140\n",
    );
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3);
    let pain = findings(&r, "invalid pain");
    assert_eq!(pain.len(), 4);
    for f in &pain {
        let hint = f["expected"].as_str().unwrap().contains("--pain-scale vas");
        // 140 is no VAS score either.
        assert_eq!(hint, f["value"] != "140", "{f}");
    }
    // 140 is out of range on the VAS too.
    prolo()
        .args(["validate", "--pain-scale", "vas"])
        .arg(&p)
        .assert()
        .code(3);
    // A column stopped for its name and its values: one finding giving both reasons.
    let p = write(
        dir.path(),
        "ids.csv",
        "patient_id,condition,day,injection,pain,email\nP1,knee,0,1,5,a@b.org\n",
    );
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3);
    let ids = findings(&r, "identifier column");
    assert_eq!(ids.len(), 1, "{r}");
    let why = ids[0]["expected"].as_str().unwrap();
    assert!(
        why.contains("its name") && why.contains("e-mail addresses"),
        "{why}"
    );
}

/// Stderr of a run expected to stop with a usage error (exit 2).
fn usage_error(args: &[&str]) -> String {
    let out = prolo().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    stderr
}

/// A path as text, for argument lists (test paths are UTF-8).
fn text(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn a_file_given_twice_is_refused_before_anything_is_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    let f = text(&fixture("analyze/clean.csv"));
    let copy = text(&dir.path().join("copy.csv"));
    std::fs::copy(&f, &copy).unwrap();
    let h = "patient_id,condition,day,injection,pain";
    let other = write(dir.path(), "other.csv", format!("{h}\nQ1,knee,0,1,5\n"));
    let gzip_copy = |of: &str, name: &str, level: u32| {
        let path = dir.path().join(name);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        gz.write_all(&std::fs::read(of).unwrap()).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        text(&path)
    };
    let gz = gzip_copy(&f, "copy.csv.gz", 1);
    let gz9 = gzip_copy(&f, "best.csv.gz", 9);
    for command in ["validate", "analyze"] {
        let e = usage_error(&[command, &f, &f]);
        assert!(
            e.contains("are the same file") && e.contains("give each file once"),
            "{e}"
        );
        let e = usage_error(&[command, &f, &copy]);
        assert!(e.contains("have the same contents (SHA-256 "), "{e}");
        // A gzip copy, before or after the plain file, and two gzip copies made at
        // different levels (different bytes, the same text).
        for (a, b) in [(&f, &gz), (&gz, &f), (&gz, &gz9)] {
            let e = usage_error(&[command, a, b]);
            assert!(
                e.contains("hold the same text once decompressed (SHA-256 ")
                    && e.contains("give each file once"),
                "{e}"
            );
        }
        let e = usage_error(&[command, "-", "-"]);
        assert!(e.contains("standard input"), "{e}");
    }
    // Two different files are one data set, as always, gzip or not.
    let other_gz = gzip_copy(&text(&other), "other.csv.gz", 6);
    for second in [text(&other), other_gz] {
        prolo().args(["validate", &gz, &second]).assert().success();
    }
}

#[test]
fn unreachable_responder_thresholds_and_unknown_excluded_columns_are_usage_errors() {
    let f = text(&fixture("analyze/clean.csv"));
    for (responder, says) in [
        ("pain=150%", "150% of baseline cannot be reached on NRS"),
        ("pain=11", "11 points cannot be reached on NRS (0 to 10"),
        ("WOMAC=101%", "expected at most 100%"),
    ] {
        let e = usage_error(&["analyze", &f, "--responder", responder]);
        assert!(e.contains(says), "{responder}: {e}");
    }
    // The edges are reachable: a fall to 0, the whole scale, and above 100% where higher
    // is better (a score can more than double); on a 0–100 VAS, 50 points.
    for ok in [
        &["--responder", "pain=100%"][..],
        &["--responder", "pain=10"],
        &["--responder", "VISA-A=150%"],
        &["--pain-scale", "vas", "--responder", "pain=50"],
    ] {
        prolo().args(["analyze", &f]).args(ok).assert().success();
    }
    let e = usage_error(&["analyze", &f, "--exclude-columns", "mrn_typo"]);
    let says = "\"mrn_typo\": no input file has a column of that name; the columns are patient_id";
    assert!(e.contains(says), "{e}");
    (prolo().args(["analyze", &f, "--exclude-columns", " SITE "]))
        .assert()
        .success();
}

#[test]
fn an_empty_result_is_said_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let h = "patient_id,condition,day,injection,pain";
    let header = write(dir.path(), "h.csv", format!("{h}\n"));
    let all_bad = write(
        dir.path(),
        "bad.csv",
        format!("{h}\nP1,knee,-1,1,5\nP2,knee,-3,1,5\n"),
    );
    for (file, says) in [
        (&header, "the input holds no records"),
        (&all_bad, "no course is valid"),
    ] {
        let out = prolo().arg("analyze").arg(file).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{out:?}"
        );
    }
    let out = (prolo().arg("analyze").arg(fixture("analyze/clean.csv")))
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
fn a_pain_scale_cannot_be_defined_as_a_function_instrument() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "prolo.toml",
        "[[instruments]]\nname = \"VAS\"\nmax = 100\nbetter = \"lower\"\nmcid = \"10\"\n",
    );
    let f = text(&fixture("analyze/clean.csv"));
    let e = usage_error(&["validate", &f, "--config", &text(&config)]);
    assert!(
        e.contains("\"VAS\" is a pain scale, not a function instrument"),
        "{e}"
    );
}

#[test]
fn a_parquet_name_on_other_bytes_gets_a_parquet_message() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "export.parquet", b"\xff\xfe\x00garbage\x81\x82");
    let (code, e) = validate_stderr(&p);
    assert_eq!(code, 3);
    assert!(
        e.contains("not a Parquet file (a Parquet file begins with the bytes PAR1)"),
        "{e}"
    );
}

#[test]
fn mapping_an_identifier_column_onto_a_field_does_not_pass_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "mrn.csv",
        "MRN,condition,day,injection,pain\nA1,knee_oa,0,1,8\nA1,knee_oa,30,1,5\n",
    );
    let config = write(
        dir.path(),
        "prolo.toml",
        "[columns]\npatient_id = \"MRN\"\n",
    );
    let out = (prolo().args(["validate", "--format", "json", "--config"]))
        .arg(&config)
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = findings(&r, "identifier column");
    assert_eq!(found.len(), 1, "{r}");
    assert_eq!(found[0]["column"], "MRN");
    // A pseudonymous column mapped the same way passes.
    let q = write(
        dir.path(),
        "redcap.csv",
        "record_id,condition,day,injection,pain\nA1,knee_oa,0,1,8\nA1,knee_oa,30,1,5\n",
    );
    let config = write(
        dir.path(),
        "p2.toml",
        "[columns]\npatient_id = \"record_id\"\n",
    );
    (prolo().args(["validate", "--config"]).arg(&config).arg(&q))
        .assert()
        .success();
}

#[test]
fn a_config_that_contradicts_itself_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = text(&fixture("analyze/clean.csv"));
    let instrument = |name: &str, max: u32| {
        format!(
            "[[instruments]]\nname = \"{name}\"\nmax = {max}\nbetter = \"lower\"\nmcid = \"2\"\n"
        )
    };
    for (toml, says) in [
        (
            "[columns]\npatient_id = \"dx\"\ncondition = \"DX\"\n".to_string(),
            "maps both condition and patient_id onto column",
        ),
        (
            format!("{}{}", instrument("X", 10), instrument("x", 50)),
            "defines \"x\" twice",
        ),
    ] {
        let config = write(dir.path(), "prolo.toml", toml);
        let e = usage_error(&["validate", &f, "--config", &text(&config)]);
        assert!(e.contains(says), "{e}");
    }
}

#[test]
fn a_command_line_clap_cannot_read_still_gives_json_when_json_was_asked_for() {
    for args in [
        &["analyze", "--format", "json", "x.csv", "--min-cell", "abc"][..],
        &["validate", "--format=json"],
        &["analyze", "--format", "json", "x.csv", "--bogus"],
    ] {
        let out = prolo().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["error"]["kind"], "usage", "{args:?}");
        assert_eq!(v["error"]["exit_code"], 2);
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("error:"));
    }
    // Without --format json, stdout stays empty; --help is no failure.
    let out = prolo()
        .args(["analyze", "--min-cell", "abc"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty() && out.status.code() == Some(2));
    prolo().args(["analyze", "--help"]).assert().success();
}

#[test]
fn a_course_split_between_a_file_with_dates_and_one_with_days_is_excluded() {
    let dir = tempfile::tempdir().unwrap();
    let dated = write(
        dir.path(),
        "a.csv",
        "patient_id,condition,date,injection,pain\nA,knee_oa,2024-01-01,1,8\nA,knee_oa,2024-02-01,1,6\nB,knee_oa,2024-01-01,1,7\nB,knee_oa,2024-01-29,0,4\n",
    );
    let days = write(
        dir.path(),
        "b.csv",
        "patient_id,condition,day,injection,pain\nA,knee_oa,60,0,3\nC,knee_oa,0,1,6\nC,knee_oa,30,0,2\n",
    );
    let out = (prolo()
        .args(["validate", "--format", "json"])
        .arg(&dated)
        .arg(&days))
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bad = findings(&r, "invalid day");
    assert_eq!(bad.len(), 1, "{r}");
    assert!(bad[0]["expected"]
        .as_str()
        .unwrap()
        .contains("one time scale per course"));
    // Only the mixed course goes: B (dates) and C (days) stay valid.
    assert_eq!(r["valid_courses"], 2, "{r}");
}

/// A function score with no instrument: the finding says the instrument is missing (SPEC:
/// function_instrument is required when function is given), not just that "" is unknown.
#[test]
fn a_function_score_without_its_instrument_says_the_instrument_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "fi.csv",
        "patient_id,condition,day,injection,pain,function,function_instrument\nA,knee_oa,0,1,5,40,\nA,knee_oa,30,0,3,30,WOMACX\n",
    );
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3);
    let f = findings(&r, "unknown instrument");
    assert_eq!(f.len(), 2, "{r}");
    let expected = |i: usize| f[i]["expected"].as_str().unwrap();
    assert!(
        expected(0).starts_with("the instrument the function score is on (function_instrument is required when function is given): an instrument of the instruments table"),
        "{}",
        expected(0)
    );
    assert!(expected(1).starts_with("an instrument of the instruments table"));
}

/// "all" names the overall group in every output: a condition written so (in any case or
/// spacing) could not be told from it, so its rows are excluded with a finding that says
/// why, and the overall row stays the only "all".
#[test]
fn a_condition_called_all_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "all.csv",
        course(&[
            "P1,knee_oa,0,1,6,,,,,,,",
            "P1,knee_oa,28,0,3,,,,,,,",
            "P2, ALL ,0,1,7,,,,,,,",
            "P2,all,30,0,5,,,,,,,",
        ]),
    );
    let (code, r) = validate_json(&p);
    assert_eq!(code, 3, "{r}");
    let f = findings(&r, "no condition");
    assert_eq!(f.len(), 2, "{r}");
    assert_eq!(f[0]["line"], 4);
    assert_eq!(f[0]["value"], "ALL");
    assert_eq!(f[0]["cost"], "row excluded");
    assert!(f[1]["expected"]
        .as_str()
        .unwrap()
        .contains("other than \"all\""));
    let out = prolo()
        .args(["analyze", "--min-cell", "0", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let alls = (s["table1"].as_array().unwrap().iter())
        .filter(|r| r["condition"] == "all")
        .count();
    assert_eq!(alls, 1, "{s}");
    assert_eq!(s["cohort"]["valid_courses"], 1);
}
