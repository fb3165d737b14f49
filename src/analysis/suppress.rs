//! Small-cell suppression (SPEC, CMS cell-size policy): counts from 1 to N − 1 are withheld,
//! statistics of groups under N courses are withheld, and a second cell is withheld wherever
//! a single withheld count could be worked out from a shown total.

use super::{Summary, ALL};

/// True when `c` is a small count under threshold `n` (0 is never small).
pub fn is_small(c: u64, n: u64) -> bool {
    c >= 1 && c < n
}

/// Withholds `x` when it is small; returns whether it was withheld.
fn hide(x: &mut Option<u64>, n: u64) -> bool {
    if x.is_some_and(|c| is_small(c, n)) {
        *x = None;
        true
    } else {
        false
    }
}

/// Complementary suppression within a set of cells that add up to a shown total: when exactly
/// one cell is withheld, the smallest shown non-zero cell is withheld too. Returns its index.
pub fn complement(cells: &mut [(u64, &mut Option<u64>)]) -> Option<usize> {
    let hidden = cells
        .iter()
        .filter(|(orig, x)| x.is_none() && *orig > 0)
        .count();
    if hidden != 1 {
        return None;
    }
    let k = cells
        .iter()
        .enumerate()
        .filter(|(_, (orig, x))| x.is_some() && *orig > 0)
        .min_by_key(|(i, (orig, _))| (*orig, *i))
        .map(|(i, _)| i)?;
    *cells[k].1 = None;
    Some(k)
}

/// Applies suppression at threshold `n` to every table of the summary (0 or 1: off).
pub fn apply(s: &mut Summary, n: u64) {
    if n <= 1 {
        return;
    }
    cohort(s, n);
    tests(s, n);
    change(s, n);
    for r in &mut s.sessions_to_response {
        if r.n.is_some_and(|c| c < n) {
            r.suppressed = true;
            r.n = None;
            r.events = None;
            r.median = None;
            r.median_ci_low = None;
            r.median_ci_high = None;
            r.responded_by_3 = None;
            r.responded_by_3_ci_low = None;
            r.responded_by_3_ci_high = None;
            r.curve.clear();
            continue;
        }
        let total = r.n.unwrap_or(0);
        if r.events
            .is_some_and(|e| is_small(e, n) || is_small(total - e, n))
        {
            r.events = None;
            r.suppressed = true;
        }
        // From a point with a small count on, the curve is withheld: each step of the
        // estimate is 1 - events / at risk, so a shown estimate beside a shown at-risk count
        // would give the events away.
        let mut truncated = false;
        for p in &mut r.curve {
            truncated |= [p.at_risk, p.events, p.censored]
                .iter()
                .any(|c| c.is_some_and(|c| is_small(c, n)));
            if truncated {
                r.withheld_from.get_or_insert(p.injections);
                p.at_risk = None;
                p.events = None;
                p.censored = None;
                p.cum_response = None;
                p.ci_low = None;
                p.ci_high = None;
                p.suppressed = true;
                r.suppressed = true;
            }
        }
        // Response by 3 injections is the curve's value at 3: withheld with it.
        if r.withheld_from.is_some_and(|k| k <= 3) {
            r.responded_by_3 = None;
            r.responded_by_3_ci_low = None;
            r.responded_by_3_ci_high = None;
        }
    }
    for r in &mut s.trajectory {
        if r.n.is_some_and(|c| c < n) {
            r.suppressed = true;
            r.n = None;
            r.mean = None;
            r.ci_low = None;
            r.ci_high = None;
        }
    }
    for r in &mut s.sessions_received {
        if r.n.is_some_and(|c| c < n) {
            r.suppressed = true;
            r.n = None;
            r.mean = None;
            r.median = None;
            r.q1 = None;
            r.q3 = None;
            r.counts.0.clear();
            continue;
        }
        let orig: Vec<u64> = r.counts.0.iter().map(|(_, c)| c.unwrap_or(0)).collect();
        for (_, c) in &mut r.counts.0 {
            r.suppressed |= hide(c, n);
        }
        let mut cells: Vec<(u64, &mut Option<u64>)> = orig
            .into_iter()
            .zip(r.counts.0.iter_mut().map(|(_, c)| c))
            .collect();
        complement(&mut cells);
        // The counts' mean and quartiles beside n would give withheld counts away (with 3
        // and 5 sessions withheld, n and the mean fix how many of each): withheld with them.
        if r.counts.0.iter().any(|(_, c)| c.is_none()) {
            (r.mean, r.median, r.q1, r.q3) = (None, None, None, None);
        }
    }
    for r in &mut s.safety {
        if r.courses.is_some_and(|c| c < n) {
            r.suppressed = true;
            r.courses = None;
            r.injections = None;
            r.events = None;
            r.per_100 = None;
            r.ci_low = None;
            r.ci_high = None;
            continue;
        }
        let inj = r.injections.unwrap_or(0);
        if r.events
            .is_some_and(|e| is_small(e, n) || is_small(inj - e, n))
        {
            r.suppressed = true;
            r.events = None;
            r.per_100 = None;
            r.ci_low = None;
            r.ci_high = None;
        }
    }
    for r in &mut s.table1 {
        if r.courses.is_some_and(|c| c < n) {
            r.suppressed = true;
            r.courses = None;
            r.age_n = None;
            r.age_mean = None;
            r.age_sd = None;
            r.sex.0.clear();
            r.injectate.0.clear();
            r.baseline.clear();
            continue;
        }
        if r.age_n.is_some_and(|c| is_small(c, n)) {
            r.suppressed = true;
            r.age_n = None;
            r.age_mean = None;
            r.age_sd = None;
        }
        for tally in [&mut r.sex, &mut r.injectate] {
            let orig: Vec<u64> = tally.0.iter().map(|(_, c)| c.unwrap_or(0)).collect();
            for (_, c) in &mut tally.0 {
                r.suppressed |= hide(c, n);
            }
            let mut cells: Vec<(u64, &mut Option<u64>)> = orig
                .into_iter()
                .zip(tally.0.iter_mut().map(|(_, c)| c))
                .collect();
            complement(&mut cells);
        }
        for b in &mut r.baseline {
            if b.n.is_some_and(|c| is_small(c, n)) {
                r.suppressed = true;
                b.n = None;
                b.mean = None;
                b.sd = None;
            }
        }
    }
}

/// A test across conditions is a statistic of every condition it compares: withheld when
/// one of them has fewer than `n` courses in the outcome's analysis (read from the change
/// rows before they are suppressed).
fn tests(s: &mut Summary, n: u64) {
    let small: Vec<(&str, &str)> = (s.change.iter())
        .filter(|r| r.injections == ALL && r.condition != ALL && r.n.is_some_and(|c| c < n))
        .map(|r| (r.outcome.as_str(), r.instrument.as_str()))
        .collect();
    let has_small = |outcome: &str, instrument: &str| small.contains(&(outcome, instrument));
    for t in &mut s.logrank {
        if has_small(&t.outcome, &t.instrument) {
            (t.chisq, t.df, t.p, t.suppressed) = (None, None, None, true);
        }
    }
    for t in &mut s.kruskal_wallis {
        if has_small(&t.outcome, &t.instrument) {
            (t.statistic, t.df, t.p, t.suppressed) = (None, None, None, true);
        }
    }
}

fn cohort(s: &mut Summary, n: u64) {
    let c = &mut s.cohort;
    for x in [
        &mut c.records,
        &mut c.courses,
        &mut c.patients,
        &mut c.valid_courses,
    ] {
        c.suppressed |= hide(x, n);
    }
    for e in &mut c.excluded {
        e.suppressed = hide(&mut e.records, n) | hide(&mut e.courses, n);
        c.suppressed |= e.suppressed;
    }
    // Courses read = valid courses + course exclusions: one withheld is derivable.
    let course_level = ["invalid day", "invalid injection", "duplicate encounter"];
    let mut cells: Vec<(u64, &mut Option<u64>)> = Vec::new();
    for e in c
        .excluded
        .iter_mut()
        .filter(|e| course_level.contains(&e.reason.as_str()))
    {
        cells.push((
            e.courses.unwrap_or(n.saturating_sub(1).max(1)),
            &mut e.courses,
        ));
    }
    complement(&mut cells);
}

/// Change rows: small groups withheld whole; a single withheld group within a shown total
/// (injection groups of a condition, conditions of "all") takes a second one with it.
fn change(s: &mut Summary, n: u64) {
    let small_row = |r: &super::change::ChangeRow| r.n.is_some_and(|c| c < n);
    let mut withhold = vec![false; s.change.len()];
    for (i, r) in s.change.iter().enumerate() {
        withhold[i] = small_row(r);
    }
    // Sets: for each (outcome, instrument, condition) its injection groups; for each
    // (outcome, instrument) the conditions' "all" rows.
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let key = |r: &super::change::ChangeRow| (r.outcome.clone(), r.instrument.clone());
    let mut i = 0;
    while i < s.change.len() {
        let k = key(&s.change[i]);
        let mut j = i;
        while j < s.change.len() && key(&s.change[j]) == k {
            j += 1;
        }
        let rows = i..j;
        let conditions: Vec<usize> = rows
            .clone()
            .filter(|&r| s.change[r].injections == ALL && s.change[r].condition != ALL)
            .collect();
        sets.push(conditions);
        for c in rows.clone().filter(|&r| s.change[r].injections == ALL) {
            let cond = s.change[c].condition.clone();
            sets.push(
                rows.clone()
                    .filter(|&r| s.change[r].condition == cond && s.change[r].injections != ALL)
                    .collect(),
            );
        }
        i = j;
    }
    loop {
        let mut changed = false;
        for set in &sets {
            if set.iter().filter(|&&r| withhold[r]).count() == 1 {
                if let Some(&r) = set
                    .iter()
                    .filter(|&&r| !withhold[r])
                    .min_by_key(|&&r| (s.change[r].n, r))
                {
                    withhold[r] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (r, w) in s.change.iter_mut().zip(withhold) {
        if w {
            *r = super::change::ChangeRow {
                outcome: std::mem::take(&mut r.outcome),
                instrument: std::mem::take(&mut r.instrument),
                condition: std::mem::take(&mut r.condition),
                injections: std::mem::take(&mut r.injections),
                ..blank()
            };
            r.suppressed = true;
            continue;
        }
        let total = r.n.unwrap_or(0);
        if r.responders
            .is_some_and(|x| is_small(x, n) || is_small(total - x, n))
        {
            r.suppressed = true;
            r.responders = None;
            r.responder_rate = None;
            r.responder_ci_low = None;
            r.responder_ci_high = None;
        }
    }
}

fn blank() -> super::change::ChangeRow {
    super::change::ChangeRow {
        outcome: String::new(),
        instrument: String::new(),
        condition: String::new(),
        injections: String::new(),
        n: None,
        baseline_mean: None,
        followup_mean: None,
        mean_change: None,
        sd_change: None,
        ci_low: None,
        ci_high: None,
        median_change: None,
        q1: None,
        q3: None,
        t_p: None,
        wilcoxon_p: None,
        srm: None,
        effect_size: None,
        mean_pct_change: None,
        responders: None,
        responder_rate: None,
        responder_ci_low: None,
        responder_ci_high: None,
        suppressed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_withheld_cell_takes_the_smallest_other() {
        let (mut a, mut b, mut c) = (None, Some(40), Some(20));
        let k = complement(&mut [(5, &mut a), (40, &mut b), (20, &mut c)]);
        assert_eq!(k, Some(2));
        assert_eq!(c, None);
        assert_eq!(b, Some(40));
    }

    #[test]
    fn small_means_one_to_n_minus_one() {
        assert!(!is_small(0, 11));
        assert!(is_small(1, 11));
        assert!(is_small(10, 11));
        assert!(!is_small(11, 11));
    }
}
