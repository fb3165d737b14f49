//! `prolo analyze`: outputs, determinism, suppression, neutralised text.

use super::*;

#[test]
fn out_dir_is_written_whole_and_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("analyze/clean.csv");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        prolo()
            .arg("analyze")
            .arg(&input)
            .arg("--out")
            .arg(d)
            .assert()
            .success();
    }
    let names = [
        "summary.json",
        "tables/change.csv",
        "tables/cohort_flow.csv",
        "tables/table1.csv",
        "tables/response_curve.csv",
        "tables/response_median.csv",
        "tables/sessions_received.csv",
        "tables/trajectory.csv",
        "tables/safety.csv",
        "tables/tests.csv",
    ];
    for n in names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{n}"
        );
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(v["parameters"]["min_cell"], 11);
    // Re-running into a folder prolo wrote replaces it.
    prolo()
        .arg("analyze")
        .arg(&input)
        .arg("--out")
        .arg(&a)
        .assert()
        .success();
}

#[test]
fn a_foreign_folder_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    write(&out, "thesis.docx", "precious");
    let run = prolo()
        .arg("analyze")
        .arg(fixture("analyze/clean.csv"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("not written by prolo"));
    assert_eq!(
        std::fs::read_to_string(out.join("thesis.docx")).unwrap(),
        "precious"
    );
    assert!(!out.join("summary.json").exists());
}

#[test]
fn small_cells_are_withheld_everywhere() {
    let out = prolo()
        .args(["analyze", "--format", "json"])
        .arg(fixture("analyze/edge_two_conditions.csv"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in v["change"].as_array().unwrap() {
        assert!(
            r["n"].is_null() && r["mean_change"].is_null() && r["suppressed"] == true,
            "{r}"
        );
    }
    for r in v["sessions_to_response"].as_array().unwrap() {
        assert!(r["n"].is_null() && r["median"].is_null(), "{r}");
    }
    assert!(v["cohort"]["patients"].is_null() && v["cohort"]["records"] == 21);
    let text = String::from_utf8(
        prolo()
            .arg("analyze")
            .arg(fixture("analyze/edge_two_conditions.csv"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(text.contains("withheld") && !text.contains("<11"), "{text}");
}

#[test]
fn complementary_cells_are_withheld() {
    let out = prolo()
        .args(["analyze", "--format", "json", "--min-cell", "11"])
        .arg(fixture("analyze/clean.csv"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in v["sessions_received"].as_array().unwrap() {
        let counts = r["counts"].as_object().unwrap();
        let hidden = counts.values().filter(|c| c.is_null()).count();
        assert_ne!(
            hidden, 1,
            "one withheld count can be worked out from n: {r}"
        );
        for c in counts.values().filter_map(|c| c.as_u64()) {
            assert!(c == 0 || c >= 11, "{r}");
        }
    }
    for r in v["change"].as_array().unwrap() {
        if let (Some(n), Some(k)) = (r["n"].as_u64(), r["responders"].as_u64()) {
            assert!((k == 0 || k >= 11) && (n - k == 0 || n - k >= 11), "{r}");
        }
    }
}

#[test]
fn text_from_the_input_is_harmless_in_csv() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "evil.csv", "patient_id,condition,day,injection,pain\nP1,\"=HYPERLINK(\"\"http://x\"\")\",0,1,6\nP1,\"=HYPERLINK(\"\"http://x\"\")\",28,0,3\n");
    let out = dir.path().join("out");
    prolo()
        .args(["analyze", "--min-cell", "0"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let change = std::fs::read_to_string(out.join("tables/change.csv")).unwrap();
    assert!(change.contains("'=hyperlink"), "{change}");
    assert!(
        !change.contains(",=hyperlink") && !change.contains(",\"=hyperlink"),
        "{change}"
    );
}

#[test]
fn text_summary_names_conditions_and_key_numbers() {
    let out = prolo()
        .args(["analyze", "--min-cell", "0"])
        .arg(fixture("analyze/clean.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for w in [
        "knee_oa",
        "mean change (95% CI)",
        "responders",
        "median injections to response",
    ] {
        assert!(text.contains(w), "{w}: {text}");
    }
}

#[test]
fn a_killed_run_never_leaves_a_partial_report_or_replaces_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.csv");
    prolo()
        .args(["synth", "--courses", "20000", "--seed", "9", "--out"])
        .arg(&input)
        .assert()
        .success();
    let out = dir.path().join("report");
    let files = |d: &Path| -> Vec<String> {
        let mut names = Vec::new();
        let mut stack = vec![d.to_path_buf()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    names.push(path.strip_prefix(d).unwrap().display().to_string());
                }
            }
        }
        names.sort();
        names
    };
    prolo()
        .args(["analyze", "--min-cell", "11"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let good = std::fs::read(out.join("summary.json")).unwrap();
    let good_files = files(&out);
    let bin = assert_cmd::cargo::cargo_bin("prolo");
    for delay_ms in [20, 80, 200, 400, 700, 1000, 1500] {
        let mut child = std::process::Command::new(&bin)
            .args(["analyze", "--min-cell", "5"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the moment of the kill, DIR holds one whole report: the old or the new.
        let now =
            std::fs::read(out.join("summary.json")).expect("the report folder lost its summary");
        assert_eq!(
            files(&out),
            good_files,
            "killed after {delay_ms} ms: files differ"
        );
        if now != good {
            let v: serde_json::Value =
                serde_json::from_slice(&now).expect("a partial summary.json");
            assert_eq!(v["parameters"]["min_cell"], 5);
        }
    }
}

#[test]
fn response_curves_stop_where_a_count_would_be_small() {
    let out = prolo()
        .args(["analyze", "--format", "json"])
        .arg(fixture("analyze/clean.csv"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut truncated = 0;
    for r in v["sessions_to_response"].as_array().unwrap() {
        let mut withheld = false;
        for p in r["curve"].as_array().unwrap() {
            // Each point says whether it was withheld (SPEC: null with "suppressed": true).
            assert_eq!(p["suppressed"], p["cum_response"].is_null(), "{r}");
            if p["cum_response"].is_null() {
                withheld = true;
                assert!(
                    p["at_risk"].is_null() && p["events"].is_null() && p["censored"].is_null(),
                    "{r}"
                );
                continue;
            }
            assert!(
                !withheld,
                "a curve point is shown after a withheld one: {r}"
            );
            for k in ["at_risk", "events", "censored"] {
                let c = p[k].as_u64().unwrap();
                assert!(c == 0 || c >= 11, "{k} {c}: {r}");
            }
        }
        if withheld {
            truncated += 1;
            assert!(
                r["withheld_from"].is_u64() && r["suppressed"] == true,
                "{r}"
            );
        }
    }
    assert!(truncated > 0, "the fixture should exercise truncation");
}

/// The JSON summary of `file` with `--min-cell min_cell`.
fn summary_of(file: &Path, min_cell: &str) -> serde_json::Value {
    let out = prolo()
        .args(["analyze", "--format", "json", "--min-cell", min_cell])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Walks the unsuppressed summary `open` beside the suppressed `shown`: every count field
/// whose true value is small must be withheld, and no rate may stand beside its n once its
/// count is withheld.
fn audit(open: &serde_json::Value, shown: &serde_json::Value, path: &str, checked: &mut usize) {
    use serde_json::Value;
    const COUNTS: [&str; 10] = [
        "records",
        "courses",
        "patients",
        "valid_courses",
        "n",
        "events",
        "responders",
        "at_risk",
        "censored",
        "age_n",
    ];
    match (open, shown) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let Some(vb) = b.get(k) else { continue };
                let here = format!("{path}.{k}");
                // `injections` is a count in the safety table, a number of injections elsewhere.
                let is_count = COUNTS.contains(&k.as_str())
                    || path.ends_with(".counts")
                    || path.ends_with(".sex")
                    || path.ends_with(".injectate")
                    || (k == "injections" && path.starts_with(".safety"));
                if let (true, Some(x)) = (is_count, va.as_u64()) {
                    if (1..11).contains(&x) {
                        *checked += 1;
                        assert!(vb.is_null(), "{here}: {x} is small and shown as {vb}");
                    }
                }
                audit(va, vb, &here, checked);
            }
            // A rate beside its n gives the count away: withheld together.
            for (count, rate, total) in [
                ("responders", "responder_rate", "n"),
                ("events", "per_100", "injections"),
            ] {
                if b.get(count).is_some_and(|c| c.is_null())
                    && b.get(total).is_some_and(|n| !n.is_null())
                {
                    assert!(
                        b.get(rate).is_none_or(|r| r.is_null()),
                        "{path}: {rate} shown beside {total} while {count} is withheld"
                    );
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                audit(x, y, &format!("{path}[{i}]"), checked);
            }
        }
        _ => {}
    }
}

#[test]
fn no_small_count_is_shown_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        fixture("analyze/clean.csv"),
        fixture("analyze/defects.csv"),
        fixture("analyze/edge_two_conditions.csv"),
    ] {
        let mut checked = 0;
        audit(
            &summary_of(&file, "0"),
            &summary_of(&file, "11"),
            "",
            &mut checked,
        );
        assert!(checked > 0, "{}: no small count to check", file.display());
        // Every text output: no `<N` (a withheld count is not always small) and a note.
        let out = dir.path().join("out");
        prolo()
            .args(["analyze", "--out"])
            .arg(&out)
            .arg(&file)
            .assert()
            .success();
        let mut texts = vec![
            std::fs::read_to_string(out.join("report.html")).unwrap(),
            std::fs::read_to_string(out.join("report.md")).unwrap(),
        ];
        for t in std::fs::read_dir(out.join("tables")).unwrap() {
            texts.push(std::fs::read_to_string(t.unwrap().path()).unwrap());
        }
        for t in &texts {
            assert!(
                !t.contains("<11") && !t.contains("&lt;11"),
                "{}",
                file.display()
            );
        }
        assert!(texts[0].contains("withheld") && texts[1].contains("withheld"));
    }
}

#[test]
fn a_test_across_conditions_is_withheld_when_one_condition_is_small() {
    let (mut withheld, mut shown) = (0, 0);
    for file in [
        fixture("analyze/clean.csv"),
        fixture("analyze/defects.csv"),
        fixture("analyze/edge_two_conditions.csv"),
    ] {
        let (open, s) = (summary_of(&file, "0"), summary_of(&file, "11"));
        for (table, statistic) in [("logrank", "chisq"), ("kruskal_wallis", "statistic")] {
            let rows = s[table].as_array().unwrap();
            assert_eq!(rows.len(), open[table].as_array().unwrap().len());
            for (r, o) in rows.iter().zip(open[table].as_array().unwrap()) {
                let small = open["change"].as_array().unwrap().iter().any(|c| {
                    c["outcome"] == r["outcome"]
                        && c["instrument"] == r["instrument"]
                        && c["injections"] == "all"
                        && c["condition"] != "all"
                        && c["n"].as_u64().unwrap() < 11
                });
                if small {
                    withheld += 1;
                    for k in [statistic, "df", "p"] {
                        assert!(r[k].is_null(), "{table} {r}");
                    }
                    assert_eq!(r["suppressed"], true, "{table} {r}");
                } else {
                    shown += 1;
                    assert_eq!(r, o, "{table}: withheld with no small condition");
                }
            }
        }
    }
    assert!(
        withheld > 0 && shown > 0,
        "withheld {withheld}, shown {shown}"
    );
}

#[test]
fn a_file_put_into_prolos_folder_stops_the_next_run_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = fixture("analyze/edge_two_conditions.csv");
    let run = || {
        prolo()
            .arg("analyze")
            .arg("--out")
            .arg(&out)
            .arg(&input)
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    // Re-running into prolo's own folder replaces it.
    assert!(run().status.success());
    let summary = std::fs::read(out.join("summary.json")).unwrap();
    for (rel, is_dir) in [
        ("notes.txt", false),
        ("tables/mine.csv", false),
        ("mine", true),
    ] {
        let path = out.join(rel);
        match is_dir {
            true => std::fs::create_dir(&path).unwrap(),
            false => std::fs::write(&path, "mine").unwrap(),
        }
        let o = run();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{rel}: {err}");
        assert!(
            err.contains(rel) && err.contains("did not write"),
            "{rel}: {err}"
        );
        assert!(path.exists(), "{rel} was deleted");
        assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), summary);
        match is_dir {
            true => std::fs::remove_dir(&path).unwrap(),
            false => std::fs::remove_file(&path).unwrap(),
        }
    }
    assert!(run().status.success());
    // A marker without the list of files (as earlier versions wrote it): prolo's own file
    // names are still recognised, and anything else still stops the run.
    std::fs::write(
        out.join(".prolo-output"),
        "This folder was written by prolo; prolo may replace it.\n",
    )
    .unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    assert_eq!(run().status.code(), Some(2));
    std::fs::remove_file(out.join("notes.txt")).unwrap();
    assert!(run().status.success());
}

#[test]
fn no_withheld_count_can_be_worked_out_from_a_mean_or_a_curve() {
    let s = summary_of(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/sample.csv"),
        "11",
    );
    let (mut sessions, mut curves) = (0, 0);
    for r in s["sessions_received"].as_array().unwrap() {
        let counts = r["counts"].as_object().unwrap();
        if counts.values().any(|c| c.is_null()) && !r["n"].is_null() {
            sessions += 1;
            for k in ["mean", "median", "q1", "q3"] {
                assert!(r[k].is_null(), "{k} beside withheld counts: {r}");
            }
        }
    }
    for r in s["sessions_to_response"].as_array().unwrap() {
        let withheld_by_3 = (r["curve"].as_array().unwrap().iter())
            .any(|p| p["injections"].as_u64().unwrap() <= 3 && p["at_risk"].is_null());
        if withheld_by_3 {
            curves += 1;
            assert!(r["responded_by_3"].is_null(), "the curve's value at 3: {r}");
        }
    }
    assert!(
        sessions > 0 && curves > 0,
        "sessions {sessions}, curves {curves}"
    );
}

#[test]
fn a_zero_count_is_shown_and_the_methods_say_what_was_set() {
    let dir = tempfile::tempdir().unwrap();
    // No age column: no course has an age, and 0 is shown, not withheld.
    let text = std::fs::read_to_string(fixture("analyze/clean.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let age = header.iter().position(|h| *h == "age").unwrap();
    let drop = |l: &str| -> String {
        let cells: Vec<&str> = l.split(',').collect();
        let kept: Vec<&str> = (cells.iter().enumerate())
            .filter(|(i, _)| *i != age)
            .map(|(_, c)| *c)
            .collect();
        kept.join(",")
    };
    let mut out = drop(&header.join(","));
    out.push('\n');
    for l in lines {
        out.push_str(&drop(l));
        out.push('\n');
    }
    let csv = write(dir.path(), "no_age.csv", out);
    let s = summary_of(&csv, "11");
    for r in s["table1"].as_array().unwrap() {
        assert_eq!(r["age_n"], 0, "{r}");
    }
    let config = write(dir.path(), "p.toml", "min_cell = 5\n");
    let report = dir.path().join("r");
    prolo()
        .args([
            "analyze",
            "--responder",
            "pain=2",
            "--responder",
            "WOMAC=15%",
        ])
        .args(["--injections-top", "1", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&report)
        .arg(&csv)
        .assert()
        .success();
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("pain 2 points (set for this run)"), "{md}");
    assert!(
        md.contains("WOMAC 15% of baseline (0–96, lower is better; set for this run)"),
        "{md}"
    );
    assert!(md.contains("grouped into one group, 1+"), "{md}");
    assert!(
        md.contains("threshold 5; the CMS cell-size suppression policy uses 11"),
        "{md}"
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    let sha = s["parameters"]["config_file"]["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    // The threshold in force is a parameter of the run; the instrument table keeps the MCID
    // its source gives.
    assert_eq!(
        s["parameters"]["function_responders"]["WOMAC"],
        "15% of baseline"
    );
    let womac = (s["parameters"]["instruments"].as_array().unwrap().iter())
        .find(|i| i["name"] == "WOMAC")
        .unwrap();
    assert_eq!(
        womac["mcid"],
        serde_json::json!({"kind": "points", "value": 12.0})
    );
    assert_eq!(womac["source"], "Angst 2001 J Rheumatol");
    assert!(
        md.contains(sha),
        "the config file's hash is in the provenance line"
    );
}

#[cfg(unix)]
#[test]
fn out_through_a_symbolic_link_writes_the_folder_it_points_to_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let (real, link) = (dir.path().join("real"), dir.path().join("link"));
    std::fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    for _ in 0..2 {
        (prolo().arg("analyze").arg(fixture("analyze/clean.csv")))
            .arg("--out")
            .arg(&link)
            .assert()
            .success();
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_symlink());
        assert!(real.join("summary.json").is_file() && real.join(".prolo-output").is_file());
    }
    // A link to nothing is refused, and left as it is.
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
    let out = (prolo().arg("analyze").arg(fixture("analyze/clean.csv")))
        .arg("--out")
        .arg(&dangling)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a symbolic link to nothing"));
    assert!(std::fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn json_asked_for_beside_out_gives_the_summary_as_json_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = (prolo().args(["analyze", "--format", "json", "--out"]))
        .arg(dir.path().join("r"))
        .arg(fixture("analyze/clean.csv"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/summary.json")).unwrap()).unwrap();
    assert_eq!(v, written);
}
