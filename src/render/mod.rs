//! Results to bytes: JSON, CSV tables, text, charts and reports. Pure: nothing here writes
//! files or prints.

pub mod charts;
pub mod findings;
pub mod report;
pub mod tables;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::{Summary, ALL};

/// The most conditions a chart draws or the printed summary lists: eight colours, solid and
/// dashed. A registry coding thousands of conditions gets the largest sixteen shown (by
/// Table 1's courses; every condition is in the tables), not a chart of thousands of lines,
/// legend rows or forest rows, nor a printed summary of thousands of lines.
pub const MOST_CONDITIONS: usize = 16;

/// The conditions shown, sorted by name, and how many the summary holds: every condition, or
/// the [`MOST_CONDITIONS`] with the most courses as Table 1 shows them (a withheld count ranks
/// as 0; ties by name) when there are more.
pub fn largest_conditions(s: &Summary) -> (Vec<String>, usize) {
    let mut set = BTreeSet::new();
    set.extend(s.sessions_received.iter().map(|r| &r.condition));
    set.extend(s.sessions_to_response.iter().map(|r| &r.condition));
    set.extend(s.trajectory.iter().map(|r| &r.condition));
    set.extend(s.change.iter().map(|r| &r.condition));
    let mut conditions: Vec<String> = set
        .into_iter()
        .filter(|c| c.as_str() != ALL)
        .cloned()
        .collect();
    let all = conditions.len();
    if all > MOST_CONDITIONS {
        let courses: BTreeMap<&str, u64> = (s.table1.iter())
            .map(|r| (r.condition.as_str(), r.courses.unwrap_or(0)))
            .collect();
        let size = |c: &String| courses.get(c.as_str()).copied().unwrap_or(0);
        conditions.sort_by(|a, b| size(b).cmp(&size(a)).then_with(|| a.cmp(b)));
        conditions.truncate(MOST_CONDITIONS);
        conditions.sort();
    }
    (conditions, all)
}

/// `summary.json`: every result at full precision; `null`, never NaN.
pub fn summary_json(summary: &Summary) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(summary)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}").into_bytes());
    out.push(b'\n');
    out
}

/// Formats a number at full precision (shortest text that reads back as the same f64), with
/// an exponent when very small or large (2.7e-311, not 311 digits a spreadsheet reads as 0).
pub fn number(x: Option<f64>) -> String {
    match x {
        // -0 prints as 0.
        Some(0.0) => "0".into(),
        Some(v) if !(1e-5..1e16).contains(&v.abs()) => format!("{v:e}"),
        Some(v) => format!("{v}"),
        None => String::new(),
    }
}

/// A number with `digits` decimals for people to read; `—` when absent; never `-0.00`.
pub fn fixed(x: Option<f64>, digits: usize) -> String {
    x.map_or("—".into(), |v| {
        let s = format!("{v:.digits$}");
        let unsigned = s.trim_start_matches('-');
        if unsigned.chars().all(|c| c == '0' || c == '.') {
            unsigned.to_string()
        } else {
            s
        }
    })
}

/// A proportion as a whole percentage, e.g. `55%`; `—` when absent.
pub fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

/// A count, or `withheld`. A withheld count is not always small: one withheld because it
/// would give a small one away (complementary suppression) can be large, so no `<N` is shown.
pub fn count(x: Option<u64>) -> String {
    match x {
        Some(c) => c.to_string(),
        None => WITHHELD.to_string(),
    }
}

/// How a withheld count or statistic is shown.
pub const WITHHELD: &str = "withheld";

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_read_back_exactly_and_tiny_ones_keep_an_exponent() {
        for v in [
            0.5,
            -12.25,
            1e-5,
            0.00001234,
            123456.789,
            2.703833602389e-311,
            1e16,
            5e-324,
        ] {
            let text = number(Some(v));
            assert_eq!(text.parse::<f64>().unwrap(), v, "{text}");
            assert!(text.len() < 30, "{text}");
        }
        assert_eq!(number(Some(2.703833602389e-311)), "2.703833602389e-311");
        assert_eq!(number(Some(0.0001)), "0.0001");
        assert_eq!(number(Some(-0.0)), "0");
        assert_eq!(number(None), "");
    }
}
