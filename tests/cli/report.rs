//! `report.html` and `report.md`: structure, self-containment, escaping.

use super::*;

fn analyze_into(input: &Path, dir: &Path, min_cell: &str) {
    prolo()
        .env("SOURCE_DATE_EPOCH", "1764288000")
        .args(["analyze", "--min-cell", min_cell])
        .arg(input)
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
}

fn headings(text: &str, prefix: &str, suffix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix).and_then(|l| l.strip_suffix(suffix)))
        .map(str::to_string)
        .collect()
}

const SECTIONS: [&str; 9] = [
    "Key findings",
    "Who was analysed",
    "Baseline characteristics",
    "Change from baseline to final follow-up",
    "How many injections until patients respond",
    "Sessions received",
    "Safety",
    "Methods",
    "Small counts",
];

#[test]
fn report_sections_come_in_order_in_html_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze_into(&fixture("analyze/clean.csv"), &out, "11");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(headings(&html, "<h2>", "</h2>"), SECTIONS);
    assert_eq!(headings(&md, "## ", ""), SECTIONS);
    assert!(html.contains("Prolotherapy outcomes report") && html.contains("run 2025-11-28"));
    assert!(html.contains(&"SHA-256 ".to_string()), "provenance line");
    for needle in [
        "Half of",
        "Wilson",
        "Kaplan",
        "Greenwood",
        "IMMPACT",
        "Small-cell suppression was applied",
        "<figure>",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    // Markdown links every chart it shows to a file that exists.
    for line in md.lines().filter(|l| l.starts_with("![")) {
        let target = line.rsplit_once("](").unwrap().1.trim_end_matches(')');
        assert!(out.join(target).is_file(), "{target}");
    }
    let again = dir.path().join("again");
    analyze_into(&fixture("analyze/clean.csv"), &again, "11");
    for f in [
        "report.html",
        "report.md",
        "charts/response_pain_nrs.png",
        "charts/response_pain_nrs.svg",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn html_references_nothing_outside_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze_into(&fixture("analyze/clean.csv"), &out, "11");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let without_ns = html
        .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace("xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "");
    for bad in [
        "<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "http://",
        "https://",
    ] {
        assert!(!without_ns.contains(bad), "report.html contains {bad}");
    }
}

#[test]
fn text_from_the_input_is_harmless_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("patient_id,condition,day,injection,pain,injectate\n");
    for (k, cond) in [
        "\"<script>alert(1)</script>\"",
        "\"=HYPERLINK(\"\"http://x\"\")\"",
    ]
    .iter()
    .enumerate()
    {
        for i in 0..12 {
            csv.push_str(&format!(
                "P{k}_{i},{cond},0,1,{},\"<img src=x onerror=alert(2)>\"\n",
                5 + i % 4
            ));
            csv.push_str(&format!("P{k}_{i},{cond},30,0,{},\n", 2 + i % 3));
        }
    }
    let input = write(dir.path(), "evil.csv", csv);
    let out = dir.path().join("out");
    analyze_into(&input, &out, "0");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "raw markup in HTML"
    );
    assert!(html.contains("&lt;script&gt;"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        !md.contains("<script") && !md.contains("<img") && !md.contains("](http"),
        "raw markup in Markdown"
    );
    for entry in std::fs::read_dir(out.join("charts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(
                !svg.contains("<script") && !svg.contains("<img"),
                "{}",
                path.display()
            );
        }
    }
    for entry in std::fs::read_dir(out.join("tables")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for cell in text.lines().flat_map(|l| l.split(',')) {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with('=') && !cell.starts_with('@'),
                "{}: {cell}",
                path.display()
            );
        }
    }
}

#[test]
fn suppressed_groups_are_not_drawn_and_the_report_says_so() {
    let svgs_mentioning = |dir: &Path, word: &str| -> usize {
        let Ok(entries) = std::fs::read_dir(dir.join("charts")) else {
            return 0;
        };
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .filter(|p| std::fs::read_to_string(p).unwrap().contains(word))
            .count()
    };
    let dir = tempfile::tempdir().unwrap();
    let (open, closed) = (dir.path().join("open"), dir.path().join("closed"));
    analyze_into(&fixture("analyze/edge_two_conditions.csv"), &open, "0");
    analyze_into(&fixture("analyze/edge_two_conditions.csv"), &closed, "11");
    assert!(
        svgs_mentioning(&open, "knee") > 0,
        "without suppression the group is drawn"
    );
    assert_eq!(
        svgs_mentioning(&closed, "knee"),
        0,
        "a withheld group was drawn"
    );
    let html = std::fs::read_to_string(closed.join("report.html")).unwrap();
    assert!(html.contains("Small-cell suppression was applied"));
    let html = std::fs::read_to_string(open.join("report.html")).unwrap();
    assert!(html.contains("suppression was turned off"));
}

/// The text elements of an SVG chart (plotters writes `<text …>\nTEXT\n</text>`).
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    svg.split("</text>")
        .filter_map(|t| t.rsplit_once('>').map(|(_, text)| text.trim().to_string()))
        .collect()
}

/// A registry coding 40 conditions gets the 16 with the most courses (Table 1's count, ties
/// by name) drawn in every chart, with a note saying so, not 40 lines or rows.
#[test]
fn charts_draw_the_sixteen_largest_of_many_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let csv = synth_over_conditions(dir.path(), "c40.csv", 1500, 5, 40);
    let out = dir.path().join("out");
    analyze_into(&csv, &out, "0");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let mut sizes: Vec<(u64, String)> = (summary["table1"].as_array().unwrap().iter())
        .filter(|r| r["condition"] != "all")
        .map(|r| {
            let courses = r["courses"].as_u64().unwrap();
            (courses, r["condition"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(sizes.len(), 40);
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let largest: std::collections::BTreeSet<String> =
        sizes.iter().take(16).map(|s| s.1.clone()).collect();
    // Not just the first 16 names: the test would pass with a cap that ignored the counts.
    assert_ne!(
        largest.iter().cloned().collect::<Vec<_>>(),
        (0..16).map(|k| format!("c{k:03}")).collect::<Vec<_>>()
    );
    let note = "The 16 conditions with the most courses are drawn, of 40; the tables hold every condition.";
    for chart in [
        "response_pain_nrs",
        "trajectory_pain_nrs",
        "change_pain_nrs",
        "sessions_received",
    ] {
        let texts = svg_texts(&out.join(format!("charts/{chart}.svg")));
        // A legend or row label: "c012", or "c012 (n = 41)".
        let drawn: std::collections::BTreeSet<String> = (texts.iter())
            .filter_map(|t| t.split(' ').next())
            .filter(|t| {
                t.len() == 4 && t.starts_with('c') && t[1..].bytes().all(|b| b.is_ascii_digit())
            })
            .map(str::to_string)
            .collect();
        assert_eq!(drawn, largest, "{chart}");
        assert!(
            texts.iter().any(|t| t == note),
            "{chart}: no note in {texts:?}"
        );
    }
    let table = std::fs::read_to_string(out.join("tables/change.csv")).unwrap();
    assert!(
        table.contains("\nc039,") || table.contains(",c039,"),
        "the tables hold every condition"
    );
    // The printed summary (no --out) lists the same 16 under each outcome, with a note.
    let printed = prolo()
        .args(["analyze", "--min-cell", "0"])
        .arg(&csv)
        .assert()
        .success();
    let printed = String::from_utf8(printed.get_output().stdout.clone()).unwrap();
    let sections: Vec<&str> = printed
        .split("\n\n")
        .filter(|s| s.contains(" n  "))
        .collect();
    assert!(!sections.is_empty(), "{printed}");
    for (i, section) in sections.into_iter().enumerate() {
        let listed: std::collections::BTreeSet<String> = (section.lines())
            .filter_map(|l| l.split_whitespace().next())
            .filter(|t| {
                t.len() == 4 && t.starts_with('c') && t[1..].bytes().all(|b| b.is_ascii_digit())
            })
            .map(str::to_string)
            .collect();
        // Pain has every condition; a function instrument may lack a few of the sixteen.
        if i == 0 {
            assert_eq!(listed, largest, "{section}");
        } else {
            assert!(
                listed.is_subset(&largest) && listed.len() >= 12,
                "{section}"
            );
        }
        assert!(
            section.lines().any(|l| l.trim_start().starts_with("all ")),
            "{section}"
        );
    }
    assert!(printed.contains(
        "The 16 of 40 conditions with the most courses are listed; summary.json and the tables (--out) hold every condition."
    ), "{printed}");
}

/// A condition whose curve and median are both withheld has nothing to draw: it is left out
/// of the response chart's legend and at-risk table, and a note says why (the testers' case:
/// condition b of 25 courses, every point withheld so that a's small counts stay hidden).
#[test]
fn a_response_curve_withheld_whole_is_left_out_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    analyze_into(&fixture("suppression/cond_leak.csv"), dir.path(), "11");
    let texts = svg_texts(&dir.path().join("charts/response_pain_nrs.svg"));
    assert!(
        texts.iter().any(|t| t == "a"),
        "a (median shown) is drawn: {texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t == "b"),
        "b has nothing to draw: {texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Conditions whose whole curve and median are withheld")),
        "{texts:?}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let b = (summary["sessions_to_response"].as_array().unwrap().iter())
        .find(|r| r["condition"] == "b")
        .unwrap();
    assert!(
        b["n"].is_u64() && b["median"].is_null(),
        "the fixture's b: {b}"
    );
}

/// The report's wording on a clinic's defective export (the testers' case): each exclusion
/// says what it costs (an age above 90 drops the age value, not the row or course); a
/// p-value below 0.0001 is written `p < 0.0001`, never `p = 0.0000`; an age withheld with its
/// n says "withheld", as other withheld cells do, where "—" means no age was recorded.
#[test]
fn the_report_says_what_exclusions_cost_and_writes_small_p_values_as_below() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clinic.csv");
    prolo()
        .args([
            "synth",
            "--courses",
            "3000",
            "--seed",
            "3",
            "--defects",
            "--out",
        ])
        .arg(&input)
        .assert()
        .success();
    let out = dir.path().join("out");
    analyze_into(&input, &out, "11");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };

    let flow: Vec<Vec<String>> = (md.lines())
        .filter(|l| l.starts_with("| excluded: "))
        .map(cells)
        .collect();
    let applies = |reason: &str| {
        let row = flow.iter().find(|r| r[0] == format!("excluded: {reason}"));
        row.unwrap_or_else(|| panic!("{reason}: {flow:?}"))[1].clone()
    };
    assert_eq!(applies("no patient\\_id"), "the row");
    assert_eq!(applies("invalid day"), "the whole course");
    assert_eq!(
        applies("age above 90"),
        "the age value (the row and course stay)"
    );
    assert_eq!(applies("invalid pain"), "pain");

    assert!(!md.contains("p = 0.0000"), "{md}");
    let tests = ["logrank", "kruskal_wallis"].map(|k| summary[k].as_array().unwrap().clone());
    let small = tests
        .iter()
        .flatten()
        .filter(|t| t["p"].as_f64().is_some_and(|p| p < 1e-4));
    let small: Vec<&serde_json::Value> = small.collect();
    assert!(!small.is_empty(), "no p below 0.0001 to check");
    for t in small {
        let line = (md.lines())
            .find(|l| {
                l.contains(&format!(
                    "{} ({}) across",
                    t["outcome"].as_str().unwrap(),
                    t["instrument"].as_str().unwrap()
                )) && l.contains(&format!(
                    "{:.2} on",
                    t.get("chisq")
                        .or(t.get("statistic"))
                        .unwrap()
                        .as_f64()
                        .unwrap()
                ))
            })
            .unwrap();
        assert!(line.ends_with("p < 0.0001."), "{line}");
    }

    let table1 = summary["table1"].as_array().unwrap();
    let withheld = table1
        .iter()
        .filter(|r| r["age_n"].is_null() && !r["courses"].is_null());
    assert!(withheld.count() > 0, "no age withheld with its n to check");
    for r in table1 {
        let name = match r["condition"].as_str().unwrap() {
            "all" => "all conditions".to_string(),
            c => c.replace('_', " "),
        };
        let row = (md.lines())
            .map(cells)
            .find(|c| c.len() == 6 && c[0].replace("\\_", " ").eq_ignore_ascii_case(&name))
            .unwrap_or_else(|| panic!("{name}"));
        let expected = if !r["age_mean"].is_null() {
            None
        } else if r["age_n"].is_null() {
            Some("withheld")
        } else {
            Some("—")
        };
        if let Some(e) = expected {
            assert_eq!(row[2], e, "{name}");
        }
    }
}
