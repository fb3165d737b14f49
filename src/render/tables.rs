//! `tables/*.csv`: one tidy table per analysis; text from the input has spreadsheet
//! formulas neutralised.

use crate::analysis::Summary;

use super::{count, number};

/// Prefixes `'` to text a spreadsheet would run as a formula.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// A CSV table under construction.
struct Table {
    writer: csv::Writer<Vec<u8>>,
}

impl Table {
    fn new(header: &[&str]) -> Table {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let _ = writer.write_record(header);
        Table { writer }
    }

    fn row(&mut self, cells: Vec<String>) {
        let _ = self.writer.write_record(cells);
    }

    fn finish(self) -> Vec<u8> {
        self.writer.into_inner().unwrap_or_default()
    }
}

fn text(s: &str) -> String {
    neutralise(s)
}

fn opt_text(s: &Option<String>) -> String {
    s.as_deref().map(neutralise).unwrap_or_default()
}

/// Every table, as (file name, bytes), in a fixed order.
pub fn all(s: &Summary) -> Vec<(String, Vec<u8>)> {
    let c = count;
    let mut out = Vec::new();

    let mut t = Table::new(&[
        "step",
        "reason",
        "outcome",
        "instrument",
        "records",
        "courses",
    ]);
    t.row(vec![
        "read".into(),
        String::new(),
        String::new(),
        String::new(),
        c(s.cohort.records),
        c(s.cohort.courses),
    ]);
    t.row(vec![
        "patients".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        c(s.cohort.patients),
    ]);
    for e in &s.cohort.excluded {
        t.row(vec![
            "excluded".into(),
            e.reason.clone(),
            opt_text(&e.outcome),
            opt_text(&e.instrument),
            c(e.records),
            c(e.courses),
        ]);
    }
    t.row(vec![
        "valid courses".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        c(s.cohort.valid_courses),
    ]);
    out.push(("cohort_flow.csv".to_string(), t.finish()));

    let mut t = Table::new(&["condition", "characteristic", "level", "n", "mean", "sd"]);
    for r in &s.table1 {
        let cond = text(&r.condition);
        t.row(vec![
            cond.clone(),
            "courses".into(),
            String::new(),
            c(r.courses),
            String::new(),
            String::new(),
        ]);
        t.row(vec![
            cond.clone(),
            "age".into(),
            String::new(),
            c(r.age_n),
            number(r.age_mean),
            number(r.age_sd),
        ]);
        for (level, k) in &r.sex.0 {
            t.row(vec![
                cond.clone(),
                "sex".into(),
                text(level),
                c(*k),
                String::new(),
                String::new(),
            ]);
        }
        for (level, k) in &r.injectate.0 {
            t.row(vec![
                cond.clone(),
                "injectate".into(),
                text(level),
                c(*k),
                String::new(),
                String::new(),
            ]);
        }
        for b in &r.baseline {
            t.row(vec![
                cond.clone(),
                format!("baseline {}", b.outcome),
                text(&b.instrument),
                c(b.n),
                number(b.mean),
                number(b.sd),
            ]);
        }
    }
    out.push(("table1.csv".to_string(), t.finish()));

    let mut t = Table::new(&[
        "outcome",
        "instrument",
        "condition",
        "injections",
        "n",
        "baseline_mean",
        "followup_mean",
        "mean_change",
        "sd_change",
        "ci_low",
        "ci_high",
        "median_change",
        "q1",
        "q3",
        "t_p",
        "wilcoxon_p",
        "srm",
        "effect_size",
        "mean_pct_change",
        "responders",
        "responder_rate",
        "responder_ci_low",
        "responder_ci_high",
    ]);
    for r in &s.change {
        t.row(vec![
            r.outcome.clone(),
            text(&r.instrument),
            text(&r.condition),
            r.injections.clone(),
            c(r.n),
            number(r.baseline_mean),
            number(r.followup_mean),
            number(r.mean_change),
            number(r.sd_change),
            number(r.ci_low),
            number(r.ci_high),
            number(r.median_change),
            number(r.q1),
            number(r.q3),
            number(r.t_p),
            number(r.wilcoxon_p),
            number(r.srm),
            number(r.effect_size),
            number(r.mean_pct_change),
            c(r.responders),
            number(r.responder_rate),
            number(r.responder_ci_low),
            number(r.responder_ci_high),
        ]);
    }
    out.push(("change.csv".to_string(), t.finish()));

    let mut t = Table::new(&[
        "outcome",
        "instrument",
        "condition",
        "n",
        "events",
        "median",
        "median_ci_low",
        "median_ci_high",
        "responded_by_3",
        "responded_by_3_ci_low",
        "responded_by_3_ci_high",
    ]);
    let mut curve = Table::new(&[
        "outcome",
        "instrument",
        "condition",
        "injections",
        "at_risk",
        "events",
        "censored",
        "cum_response",
        "ci_low",
        "ci_high",
    ]);
    for r in &s.sessions_to_response {
        t.row(vec![
            r.outcome.clone(),
            text(&r.instrument),
            text(&r.condition),
            c(r.n),
            c(r.events),
            number(r.median),
            number(r.median_ci_low),
            number(r.median_ci_high),
            number(r.responded_by_3),
            number(r.responded_by_3_ci_low),
            number(r.responded_by_3_ci_high),
        ]);
        for p in &r.curve {
            let c = |x: Option<u64>| {
                if p.suppressed {
                    super::WITHHELD.to_string()
                } else {
                    c(x)
                }
            };
            curve.row(vec![
                r.outcome.clone(),
                text(&r.instrument),
                text(&r.condition),
                p.injections.to_string(),
                c(p.at_risk),
                c(p.events),
                c(p.censored),
                number(p.cum_response),
                number(p.ci_low),
                number(p.ci_high),
            ]);
        }
    }
    out.push(("response_median.csv".to_string(), t.finish()));
    out.push(("response_curve.csv".to_string(), curve.finish()));

    let mut t = Table::new(&[
        "test",
        "outcome",
        "instrument",
        "statistic",
        "df",
        "p",
        "conditions",
    ]);
    let tests = s
        .logrank
        .iter()
        .map(|r| {
            (
                "log-rank",
                &r.outcome,
                &r.instrument,
                r.chisq,
                r.df,
                r.p,
                r.conditions,
                r.suppressed,
            )
        })
        .chain(s.kruskal_wallis.iter().map(|r| {
            (
                "Kruskal-Wallis",
                &r.outcome,
                &r.instrument,
                r.statistic,
                r.df,
                r.p,
                r.conditions,
                r.suppressed,
            )
        }));
    for (name, outcome, instrument, statistic, df, p, conditions, suppressed) in tests {
        let shown = |x: Option<f64>| match suppressed {
            true => super::WITHHELD.to_string(),
            false => number(x),
        };
        t.row(vec![
            name.into(),
            outcome.clone(),
            text(instrument),
            shown(statistic),
            shown(df),
            shown(p),
            conditions.to_string(),
        ]);
    }
    out.push(("tests.csv".to_string(), t.finish()));

    let mut t = Table::new(&[
        "condition",
        "n",
        "mean",
        "median",
        "q1",
        "q3",
        "sessions",
        "courses",
    ]);
    for r in &s.sessions_received {
        if r.counts.0.is_empty() {
            t.row(vec![
                text(&r.condition),
                c(r.n),
                number(r.mean),
                number(r.median),
                number(r.q1),
                number(r.q3),
                String::new(),
                String::new(),
            ]);
        }
        for (k, v) in &r.counts.0 {
            t.row(vec![
                text(&r.condition),
                c(r.n),
                number(r.mean),
                number(r.median),
                number(r.q1),
                number(r.q3),
                k.to_string(),
                c(*v),
            ]);
        }
    }
    out.push(("sessions_received.csv".to_string(), t.finish()));

    let mut t = Table::new(&[
        "outcome",
        "instrument",
        "condition",
        "injections",
        "n",
        "mean",
        "ci_low",
        "ci_high",
    ]);
    for r in &s.trajectory {
        t.row(vec![
            r.outcome.clone(),
            text(&r.instrument),
            text(&r.condition),
            r.injections.to_string(),
            c(r.n),
            number(r.mean),
            number(r.ci_low),
            number(r.ci_high),
        ]);
    }
    out.push(("trajectory.csv".to_string(), t.finish()));

    let mut t = Table::new(&[
        "condition",
        "courses",
        "injections",
        "events",
        "per_100",
        "ci_low",
        "ci_high",
    ]);
    for r in &s.safety {
        t.row(vec![
            text(&r.condition),
            c(r.courses),
            c(r.injections),
            c(r.events),
            number(r.per_100),
            number(r.ci_low),
            number(r.ci_high),
        ]);
    }
    out.push(("safety.csv".to_string(), t.finish()));
    out
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-1+2"), "'-1+2");
        assert_eq!(neutralise("knee_oa"), "knee_oa");
    }
}
