//! `report.html` and `report.md`: plain-language findings, cohort flow, tables, charts,
//! Methods and provenance, for readers without statistics training. Pure: returns text.
//!
//! Both reports are built from one list of [`Block`]s, so they always hold the same content.

use std::fmt::Write;

use crate::analysis::{Summary, ALL};
use crate::render::charts::Chart;
use crate::render::{count, fixed as num, pct, WITHHELD};
use crate::schema::Better;

/// One piece of the report.
enum Block {
    Heading(u8, String),
    Para(String),
    Bullets(Vec<String>),
    /// Header, rows; cells are plain text.
    Table(Vec<String>, Vec<Vec<String>>),
    /// Index into the charts.
    Chart(usize),
}

/// Everything the report needs besides the summary.
pub struct Context<'a> {
    pub charts: &'a [Chart],
    /// Date of the run, YYYY-MM-DD (UTC; SOURCE_DATE_EPOCH when set).
    pub run_date: &'a str,
}

fn ci(lo: Option<f64>, hi: Option<f64>, digits: usize) -> String {
    match (lo, hi) {
        (Some(_), _) | (_, Some(_)) => format!("{} to {}", num(lo, digits), num(hi, digits)),
        _ => "—".into(),
    }
}

/// A p-value: four decimals, or `<0.0001`.
fn p_value(x: Option<f64>) -> String {
    match x {
        Some(p) if p < 0.0001 => "<0.0001".into(),
        _ => num(x, 4),
    }
}

fn ordinal(n: f64) -> String {
    if n.fract() != 0.0 {
        return format!("{n}");
    }
    let n = n as u64;
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn label(condition: &str) -> String {
    if condition == ALL {
        "all conditions".into()
    } else {
        condition.replace('_', " ")
    }
}

/// The report's content, in the order the issue asks for.
fn blocks(s: &Summary, ctx: &Context) -> Vec<Block> {
    let n = s.parameters.min_cell;
    let pain = &s.parameters.pain_scale;
    let mut b = Vec::new();
    b.push(Block::Heading(1, "Prolotherapy outcomes report".into()));
    let inputs: Vec<String> = s
        .inputs
        .iter()
        .map(|i| {
            format!(
                "{} (SHA-256 {}, {} records)",
                i.path,
                i.sha256,
                count(i.records)
            )
        })
        .collect();
    let config = match &s.parameters.config_file {
        Some(c) => format!(" · config file: {} (SHA-256 {})", c.path, c.sha256),
        None => String::new(),
    };
    b.push(Block::Para(format!(
        "prolo {} · run {} · input: {}{config} · parameters: pain {} with responder threshold {}, function thresholds = instrument MCIDs unless set, small-cell threshold {}, injections grouped up to {}+.",
        s.tool_version,
        ctx.run_date,
        inputs.join("; "),
        pain,
        s.parameters.pain_responder,
        if n > 1 { n.to_string() } else { "off".into() },
        s.parameters.injections_top
    )));

    b.push(Block::Heading(2, "Key findings".into()));
    b.push(Block::Bullets(key_findings(s)));

    b.push(Block::Heading(2, "Who was analysed".into()));
    let c = &s.cohort;
    b.push(Block::Para(format!(
        "Records read: {}; treatment courses: {}; patients: {}; courses that passed validation: {}. Each exclusion below is counted with its reason; a course can be left out of one outcome (no baseline or no follow-up score) and still count for another.",
        count(c.records), count(c.courses), count(c.patients), count(c.valid_courses)
    )));
    let mut rows = vec![vec![
        "records read".into(),
        String::new(),
        count(c.records),
        count(c.courses),
    ]];
    for e in &c.excluded {
        let what = match (&e.outcome, &e.instrument) {
            (Some(o), Some(i)) => format!("{o} ({i})"),
            (Some(o), None) => o.clone(),
            _ => match e.reason.as_str() {
                "no patient_id" | "no condition" => "the row",
                "age above 90" | "invalid age" => "the age value (the row and course stay)",
                _ => "the whole course",
            }
            .into(),
        };
        rows.push(vec![
            format!("excluded: {}", e.reason),
            what,
            count(e.records),
            count(e.courses),
        ]);
    }
    rows.push(vec![
        "valid courses".into(),
        String::new(),
        String::new(),
        count(c.valid_courses),
    ]);
    b.push(Block::Table(
        vec![
            "step".into(),
            "applies to".into(),
            "records".into(),
            "courses".into(),
        ],
        rows,
    ));

    b.push(Block::Heading(2, "Baseline characteristics".into()));
    let mut rows = Vec::new();
    for r in &s.table1 {
        let tally = |t: &crate::analysis::table1::Tally| -> String {
            let cells: Vec<String> = (t.0.iter())
                .map(|(k, v)| format!("{k} {}", count(*v)))
                .collect();
            cells.join(", ")
        };
        let base: Vec<String> = r
            .baseline
            .iter()
            .map(|x| {
                format!(
                    "{} {} (SD {}), n = {}",
                    x.instrument,
                    num(x.mean, 1),
                    num(x.sd, 1),
                    count(x.n)
                )
            })
            .collect();
        rows.push(vec![
            label(&r.condition),
            count(r.courses),
            match (r.age_mean, r.age_n) {
                (Some(_), _) => format!("{} ({})", num(r.age_mean, 1), num(r.age_sd, 1)),
                // Withheld with its n (courses minus it would give the courses without an age).
                (None, None) => WITHHELD.into(),
                (None, Some(_)) => "—".into(),
            },
            tally(&r.sex),
            tally(&r.injectate),
            base.join("; "),
        ]);
    }
    b.push(Block::Table(
        vec![
            "condition".into(),
            "courses".into(),
            "age, mean (SD)".into(),
            "sex".into(),
            "injectate".into(),
            "baseline score, mean (SD)".into(),
        ],
        rows,
    ));

    b.push(Block::Heading(
        2,
        "Change from baseline to final follow-up".into(),
    ));
    b.push(Block::Para("Change is the final follow-up score minus the baseline score, in the instrument's units. For pain and for instruments where lower is better, a negative change is an improvement. Responders improved by at least the responder threshold.".into()));
    let mut outcomes: Vec<(String, String)> = s
        .change
        .iter()
        .map(|r| (r.outcome.clone(), r.instrument.clone()))
        .collect();
    outcomes.dedup();
    for (outcome, instrument) in &outcomes {
        b.push(Block::Heading(
            3,
            format!(
                "{} ({instrument})",
                if outcome == "pain" {
                    "Pain"
                } else {
                    "Function"
                }
            ),
        ));
        let rows: Vec<Vec<String>> = s
            .change
            .iter()
            .filter(|r| {
                &r.outcome == outcome
                    && &r.instrument == instrument
                    && (r.injections == ALL || r.condition == ALL)
            })
            .map(|r| {
                vec![
                    label(&r.condition),
                    if r.injections == ALL {
                        "all".into()
                    } else {
                        r.injections.clone()
                    },
                    count(r.n),
                    format!("{} → {}", num(r.baseline_mean, 1), num(r.followup_mean, 1)),
                    format!("{} ({})", num(r.mean_change, 2), ci(r.ci_low, r.ci_high, 2)),
                    p_value(r.t_p),
                    p_value(r.wilcoxon_p),
                    num(r.srm, 2),
                    if r.responder_rate.is_some() {
                        format!(
                            "{} ({})",
                            pct(r.responder_rate),
                            ci(
                                r.responder_ci_low.map(|x| x * 100.0),
                                r.responder_ci_high.map(|x| x * 100.0),
                                0
                            )
                        )
                    } else {
                        "withheld".into()
                    },
                ]
            })
            .collect();
        b.push(Block::Table(
            header(&[
                "condition",
                "injections received",
                "n",
                "mean baseline → follow-up",
                "mean change (95% CI)",
                "t-test p",
                "Wilcoxon p",
                "SRM",
                "responders (95% CI, %)",
            ]),
            rows,
        ));
    }
    charts(&mut b, ctx, &["change", "waterfall"]);

    b.push(Block::Heading(
        2,
        "How many injections until patients respond".into(),
    ));
    b.push(Block::Para("The cumulative response curve (Kaplan–Meier) shows the share of courses that had responded by each number of injections, counting courses that stopped before responding up to their last follow-up. The median is the number of injections by which half the courses had responded.".into()));
    let rows: Vec<Vec<String>> = s
        .sessions_to_response
        .iter()
        .map(|r| {
            vec![
                format!("{} ({})", r.outcome, r.instrument),
                label(&r.condition),
                count(r.n),
                count(r.events),
                match r.median {
                    Some(m) => format!(
                        "{} ({})",
                        num(Some(m), 1),
                        ci(r.median_ci_low, r.median_ci_high, 1)
                    ),
                    None if r.suppressed && r.n.is_none() => "withheld".into(),
                    None => "not reached".into(),
                },
                match r.responded_by_3 {
                    Some(x) => format!(
                        "{} ({})",
                        pct(Some(x)),
                        ci(
                            r.responded_by_3_ci_low.map(|v| v * 100.0),
                            r.responded_by_3_ci_high.map(|v| v * 100.0),
                            0
                        )
                    ),
                    None => "—".into(),
                },
            ]
        })
        .collect();
    b.push(Block::Table(
        header(&[
            "outcome",
            "condition",
            "courses",
            "responded",
            "median injections (95% CI)",
            "responded by 3 injections (95% CI, %)",
        ]),
        rows,
    ));
    // A test's result, or why it is withheld.
    let result = |name: &str, t: (Option<f64>, Option<f64>, Option<f64>), withheld: bool| {
        if withheld {
            format!(
                "withheld (a condition it compares has fewer than {} courses)",
                s.parameters.min_cell
            )
        } else {
            // `p = <0.0001` would read oddly; `p = 0.0000` would say it is 0.
            let p = match t.2 {
                Some(p) if p < 0.0001 => "p < 0.0001".to_string(),
                p => format!("p = {}", num(p, 4)),
            };
            format!("{name} {} on {} df, {p}", num(t.0, 2), num(t.1, 0))
        }
    };
    for t in &s.logrank {
        b.push(Block::Para(format!(
            "Log-rank test of {} ({}) across {} conditions: {}.",
            t.outcome,
            t.instrument,
            t.conditions,
            result("chi-square", (t.chisq, t.df, t.p), t.suppressed)
        )));
    }
    for t in &s.kruskal_wallis {
        b.push(Block::Para(format!(
            "Kruskal–Wallis test of improvement in {} ({}) across {} conditions: {}.",
            t.outcome,
            t.instrument,
            t.conditions,
            result("statistic", (t.statistic, t.df, t.p), t.suppressed)
        )));
    }
    charts(&mut b, ctx, &["response", "trajectory"]);

    b.push(Block::Heading(2, "Sessions received".into()));
    let rows: Vec<Vec<String>> = s
        .sessions_received
        .iter()
        .map(|r| {
            let counts: Vec<String> = r
                .counts
                .0
                .iter()
                .map(|(k, v)| format!("{k}: {}", count(*v)))
                .collect();
            vec![
                label(&r.condition),
                count(r.n),
                num(r.mean, 2),
                format!(
                    "{} ({} to {})",
                    num(r.median, 1),
                    num(r.q1, 1),
                    num(r.q3, 1)
                ),
                counts.join(", "),
            ]
        })
        .collect();
    b.push(Block::Table(
        header(&[
            "condition",
            "courses",
            "mean",
            "median (Q1 to Q3)",
            "courses by number of sessions",
        ]),
        rows,
    ));
    charts(&mut b, ctx, &["sessions"]);

    b.push(Block::Heading(2, "Safety".into()));
    let rows: Vec<Vec<String>> = s
        .safety
        .iter()
        .map(|r| {
            vec![
                label(&r.condition),
                count(r.courses),
                count(r.injections),
                count(r.events),
                format!("{} ({})", num(r.per_100, 1), ci(r.ci_low, r.ci_high, 1)),
            ]
        })
        .collect();
    b.push(Block::Table(
        header(&[
            "condition",
            "courses",
            "injections",
            "adverse events",
            "per 100 injections (95% CI)",
        ]),
        rows,
    ));

    b.push(Block::Heading(2, "Methods".into()));
    b.push(Block::Para(methods(s)));
    b.push(Block::Heading(2, "Small counts".into()));
    b.push(Block::Para(if n > 1 {
        format!("Small-cell suppression was applied (threshold {n}{}): counts from 1 to {} are withheld, and so are counts that would let one work such a count out from a shown total or rate (so a withheld count is not always small), and the statistics of groups with fewer than {n} courses. Withheld numbers read \"withheld\" in tables and – in charts. Zero may be shown.", if n == 11 { ", as in the CMS cell-size suppression policy" } else { "; the CMS cell-size suppression policy uses 11" }, n - 1)
    } else {
        format!("Small-cell suppression was turned off (--min-cell {n}): this report may show counts small enough to identify patients and must not leave the organisation.")
    }));
    b
}

/// Column headers from text.
fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|h| h.to_string()).collect()
}

/// Adds the charts whose names start with one of `prefixes`, in their order.
fn charts(b: &mut Vec<Block>, ctx: &Context, prefixes: &[&str]) {
    for (k, chart) in ctx.charts.iter().enumerate() {
        if prefixes.iter().any(|p| chart.name.starts_with(p)) {
            b.push(Block::Chart(k));
        }
    }
}

fn key_findings(s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    let pain = &s.parameters.pain_scale;
    let all = s
        .change
        .iter()
        .find(|r| r.outcome == "pain" && r.condition == ALL && r.injections == ALL);
    if let Some(r) = all.filter(|r| r.mean_change.is_some()) {
        out.push(format!(
            "Across all conditions, pain ({pain}) went from {} at baseline to {} at final follow-up, a mean change of {} points (95% CI {}) over {} courses; {} of courses (95% CI {}) were responders.",
            num(r.baseline_mean, 1), num(r.followup_mean, 1), num(r.mean_change, 1), ci(r.ci_low, r.ci_high, 1), count(r.n), pct(r.responder_rate),
            ci(r.responder_ci_low.map(|x| x * 100.0), r.responder_ci_high.map(|x| x * 100.0), 0) + "%"
        ));
    }
    for r in s
        .sessions_to_response
        .iter()
        .filter(|r| r.outcome == "pain")
    {
        let who = if r.condition == ALL {
            "all".to_string()
        } else {
            label(&r.condition)
        };
        match r.median {
            Some(m) => out.push(format!(
                "Half of {who} courses responded (pain) by the {} injection (95% CI {}).",
                ordinal(m),
                match (r.median_ci_low, r.median_ci_high) {
                    (Some(a), Some(b)) => format!("{} to {}", num(Some(a), 0), num(Some(b), 0)),
                    (Some(a), None) => format!("{} to not estimable", num(Some(a), 0)),
                    _ => "not estimable".into(),
                }
            )),
            None if r.n.is_some() => out.push(format!(
                "Fewer than half of {who} courses responded (pain) within the injections observed."
            )),
            None => {}
        }
    }
    if let Some(r) = s
        .safety
        .iter()
        .find(|r| r.condition == ALL)
        .filter(|r| r.per_100.is_some())
    {
        out.push(format!(
            "Adverse events were recorded after {} of every 100 injections (95% CI {}).",
            num(r.per_100, 1),
            ci(r.ci_low, r.ci_high, 1)
        ));
    }
    if out.is_empty() {
        out.push("No group was large enough to report (see Small counts).".into());
    }
    out
}

fn methods(s: &Summary) -> String {
    let p = &s.parameters;
    let mut m = String::new();
    let _ = write!(
        m,
        "A course is one patient's treatment of one condition. Encounters are ordered by day; the baseline is the last score before the first injection (a score on the first injection day counts as before it) and the final follow-up the last score after at least one injection; courses without either are left out of that outcome. Change is follow-up minus baseline; improvement is the change signed so that positive is better. A course is a responder when its improvement is above 0 and at least the threshold: pain {} ({}); function instruments (the minimal clinically important difference in points unless set for this run): ",
        p.pain_responder,
        if p.pain_responder == crate::schema::Threshold::Percent(30.0).to_string() {
            "IMMPACT, Dworkin 2008 J Pain 9:105; Farrar 2001 Pain 94:149"
        } else {
            "set for this run"
        }
    );
    let defaults = crate::schema::default_instruments();
    let mcids: Vec<String> = p
        .instruments
        .iter()
        .filter(|i| s.change.iter().any(|r| r.instrument == i.name))
        .map(|i| {
            // The threshold in force; the instrument keeps the MCID it was defined with.
            let defined = i.mcid.to_string();
            let threshold = p.function_responders.get(&i.name).unwrap_or(&defined);
            format!(
                "{} {} ({}, {} is better; {})",
                i.name,
                threshold,
                format_range(i.min, i.max),
                if i.better == Better::Lower {
                    "lower"
                } else {
                    "higher"
                },
                match defaults.iter().find(|d| d.name == i.name) {
                    _ if *threshold != defined => "set for this run",
                    Some(d) if d.mcid != i.mcid => "set for this run",
                    _ if i.source.is_empty() => "no source",
                    _ => &i.source,
                }
            )
        })
        .collect();
    let _ = write!(
        m,
        "{}. ",
        if mcids.is_empty() {
            "none measured".to_string()
        } else {
            mcids.join("; ")
        }
    );
    let _ = write!(
        m,
        "Comparisons use a relative tolerance of {}. Means are given with 95% confidence intervals from the t distribution; medians and quartiles use R's type 7 quantiles; the change is tested with the one-sample t-test and the Wilcoxon signed-rank test (exact below 50 non-zero changes without ties, else the normal approximation with continuity and tie correction, as R's wilcox.test). Proportions have Wilson score intervals without continuity correction. The standardized response mean is the mean change divided by the SD of change; the effect size is the mean change divided by the SD at baseline (0.2, 0.5, 0.8: small, medium, large; Cohen). Injections to response were analysed with the Kaplan–Meier estimator (Greenwood variance, log-transformed 95% CI as R's survfit), counting a course as an event at the first injection count at which it was a responder and censoring it at its final follow-up; the median and its CI follow R's quantile.survfit; conditions were compared with the log-rank test (R survdiff) and improvement across conditions with the Kruskal–Wallis test. Adverse events are counted on injection encounters, per 100 injections with Wilson intervals. Injections received are grouped {}. Every statistic is checked against R (stats and survival) in prolo's test suite.",
        p.responder_tolerance,
        match p.injections_top {
            0 | 1 => "into one group, 1+".to_string(),
            2 => "1 and 2+".to_string(),
            top => format!("1 to {} and {top}+", top - 1),
        }
    );
    m
}

fn format_range(min: f64, max: f64) -> String {
    format!("{min}–{max}")
}

/// Escapes text for HTML (element content and attribute values).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown so that no input can become markup, a link or HTML, while
/// plain text stays readable: `<` only where it could open a tag (`<b`, `</`, `<!`, `<?`),
/// `>` only where it could open a quote, and the characters of emphasis, code, links,
/// headings and tables with a backslash. (`&`, parentheses and braces make nothing without
/// those: an entity decodes to text.)
pub fn escape_md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' if chars
                .peek()
                .is_some_and(|n| n.is_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("&lt;")
            }
            '>' if out.trim().is_empty() => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.3rem;border-bottom:1px solid #999;margin-top:2rem}h3{font-size:1.05rem}
p.prov{font-size:.8rem;color:#444;word-break:break-all}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem;width:100%}th,td{border:1px solid #bbb;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}tr:nth-child(even) td{background:#fafafa}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.85rem;color:#333}
ul.findings li{margin:.3rem 0}
@page{margin:15mm}
@media print{body{max-width:none;margin:0;font-size:10pt}h2,h3{break-after:avoid}table,figure{break-inside:avoid}tr{break-inside:avoid}}";

/// The self-contained HTML report (inline CSS and SVG; nothing fetched).
pub fn html(s: &Summary, ctx: &Context) -> String {
    let mut h = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Prolotherapy outcomes report</title>\n<style>\n");
    h.push_str(CSS);
    h.push_str("\n</style>\n</head>\n<body>\n");
    let mut first_para = true;
    for block in blocks(s, ctx) {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(h, "<h{level}>{}</h{level}>", escape_html(&text));
            }
            Block::Para(text) => {
                let class = if first_para { " class=\"prov\"" } else { "" };
                first_para = false;
                let _ = writeln!(h, "<p{class}>{}</p>", escape_html(&text));
            }
            Block::Bullets(items) => {
                h.push_str("<ul class=\"findings\">\n");
                for i in items {
                    let _ = writeln!(h, "<li>{}</li>", escape_html(&i));
                }
                h.push_str("</ul>\n");
            }
            Block::Table(header, rows) => {
                h.push_str("<table>\n<thead><tr>");
                for c in header {
                    let _ = write!(h, "<th>{}</th>", escape_html(&c));
                }
                h.push_str("</tr></thead>\n<tbody>\n");
                for r in rows {
                    h.push_str("<tr>");
                    for c in r {
                        let _ = write!(h, "<td>{}</td>", escape_html(&c));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
            Block::Chart(k) => {
                let c = &ctx.charts[k];
                let svg = String::from_utf8_lossy(&c.svg);
                let svg = svg.find("<svg").map_or(svg.as_ref(), |i| &svg[i..]);
                let _ = writeln!(
                    h,
                    "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
                    escape_html(&c.alt)
                );
            }
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// The Markdown report; charts are linked as files under `charts/`.
pub fn markdown(s: &Summary, ctx: &Context) -> String {
    let mut m = String::new();
    for block in blocks(s, ctx) {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(m, "{} {}\n", "#".repeat(level as usize), escape_md(&text));
            }
            Block::Para(text) => {
                let _ = writeln!(m, "{}\n", escape_md(&text));
            }
            Block::Bullets(items) => {
                for i in items {
                    let _ = writeln!(m, "- {}", escape_md(&i));
                }
                m.push('\n');
            }
            Block::Table(header, rows) => {
                let _ = writeln!(
                    m,
                    "| {} |",
                    header
                        .iter()
                        .map(|c| escape_md(c))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
                let _ = writeln!(m, "|{}", " --- |".repeat(header.len()));
                for r in rows {
                    let _ = writeln!(
                        m,
                        "| {} |",
                        r.iter()
                            .map(|c| escape_md(c))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                }
                m.push('\n');
            }
            Block::Chart(k) => {
                let c = &ctx.charts[k];
                let _ = writeln!(m, "![{}](charts/{}.svg)\n", escape_md(&c.alt), c.name);
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_input_text_inert() {
        assert_eq!(
            escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        let md = escape_md("=HYPERLINK(\"http://x\") <b>[x](y)</b>");
        assert!(!md.contains("<b>") && !md.contains("[x](y)"), "{md}");
        assert!(!escape_md("<!-- x -->").contains('<'));
        assert!(!escape_md("<?php").contains('<'));
        assert_eq!(escape_md("> quote"), "&gt; quote");
        // Plain text stays readable.
        assert_eq!(
            escape_md("p <0.0001 (Poltawski & Watson)"),
            "p <0.0001 (Poltawski & Watson)"
        );
        assert_eq!(escape_md("a > b"), "a > b");
        assert_eq!(
            escape_md("knee_oa *x* `y` # | \\"),
            "knee\\_oa \\*x\\* \\`y\\` \\# \\| \\\\"
        );
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(1.0), "1st");
        assert_eq!(ordinal(2.0), "2nd");
        assert_eq!(ordinal(3.0), "3rd");
        assert_eq!(ordinal(11.0), "11th");
        assert_eq!(ordinal(22.0), "22nd");
        assert_eq!(ordinal(2.5), "2.5");
    }
}
