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
