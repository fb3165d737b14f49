//! Which withheld counts could be worked out from the counts shown, and which further counts
//! to withhold so that none can (complementary suppression).
//!
//! Every count prolo shows is a cell; the sums that tie cells together (conditions add up to
//! "all", injection groups to their condition, responders and non-responders to n, curve
//! points to the curve's total, …) are constraints. A reader who knows every shown cell and
//! every constraint can work out a hidden cell whenever a constraint has it as its only
//! unknown, and then use what was worked out in further constraints: [`Cells::solve`]
//! follows that to its end, and withholds one more shown cell wherever a small count (1 to
//! N − 1, withheld or never shown) would be reached, until none is. The cell withheld is the
//! cheapest (by the cost its caller gave it, then the smallest count) among the shown cells
//! the working-out used. Within a set that adds up to a shown total, the withheld cells'
//! sum is itself worked out: it must not be small either.
//!
//! This is the attack by sums and differences (what a spreadsheet can do); it does not
//! guard against bounds from inequalities, which no count-suppression policy asks for.

use std::collections::BTreeMap;

/// The cells and constraints of one summary, at threshold `n`.
pub struct Cells {
    n: u64,
    value: Vec<u64>,
    withheld: Vec<bool>,
    /// Never shown (non-responders, censored courses): unknown unless worked out.
    implicit: Vec<bool>,
    /// Withheld with its group's statistics, whatever can be worked out.
    forced: Vec<bool>,
    cost: Vec<u8>,
    constraints: Vec<Constraint>,
    /// Curves: from the first point with a withheld cell on, every point is withheld.
    curves: Vec<Vec<Vec<usize>>>,
}

/// Σ coefficient × cell = 0. `set`: the first term is a total and the others its parts
/// (coefficients 1 and −1), so the sum of the hidden parts is worked out too.
struct Constraint {
    terms: Vec<(usize, i64)>,
    set: bool,
}

/// What the reader can work out: `known[i]`, and through which constraint (None: shown).
struct Closure {
    known: Vec<bool>,
    /// Index into `reasons`.
    source: Vec<Option<usize>>,
    /// The constraints each working-out used.
    reasons: Vec<Vec<usize>>,
}

/// A reading in progress: what is known, how many cells each constraint still has unknown,
/// and the constraints that have one left to work out.
struct Reading<'a> {
    /// The constraints each cell is in.
    members: &'a [Vec<usize>],
    known: Vec<bool>,
    unknown: Vec<usize>,
    source: Vec<Option<usize>>,
    work: Vec<usize>,
}

impl Reading<'_> {
    /// `cell` is worked out, by the constraints of `reason`.
    fn learn(&mut self, cell: usize, reason: usize) {
        self.known[cell] = true;
        self.source[cell] = Some(reason);
        for &j in &self.members[cell] {
            self.unknown[j] -= 1;
            if self.unknown[j] == 1 {
                self.work.push(j);
            }
        }
    }
}

/// Most hidden cells solved together; a larger connected set (thousands of conditions) is
/// left to the one-constraint-at-a-time working-out.
const MAX_SYSTEM: usize = 400;

/// The columns (cells) that the rows (constraints) fix: reduced row echelon form in f64
/// (coefficients are small whole numbers), then a pivot column whose row has no non-zero
/// entry in a free column.
fn fixed_columns<'a>(
    rows: &[usize],
    columns: &[usize],
    terms: impl Fn(usize) -> &'a Vec<(usize, i64)>,
) -> Vec<usize> {
    const EPS: f64 = 1e-9;
    let width = columns.len();
    let mut m: Vec<Vec<f64>> = (rows.iter())
        .map(|&k| {
            let mut row = vec![0.0; width];
            for &(c, a) in terms(k) {
                if let Ok(j) = columns.binary_search(&c) {
                    row[j] += a as f64;
                }
            }
            row
        })
        .collect();
    let mut pivots: Vec<usize> = Vec::new();
    let mut rank = 0;
    for col in 0..width {
        let Some(p) = (rank..m.len()).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
        else {
            break;
        };
        if m[p][col].abs() < EPS {
            continue;
        }
        m.swap(rank, p);
        let lead = m[rank][col];
        m[rank].iter_mut().for_each(|x| *x /= lead);
        let pivot_row = m[rank].clone();
        for (r, row) in m.iter_mut().enumerate() {
            let f = row[col];
            if r != rank && f.abs() >= EPS {
                row.iter_mut()
                    .zip(&pivot_row)
                    .for_each(|(x, p)| *x -= f * p);
            }
        }
        pivots.push(col);
        rank += 1;
    }
    let free: Vec<usize> = (0..width).filter(|c| !pivots.contains(c)).collect();
    (pivots.iter().enumerate())
        .filter(|&(r, _)| free.iter().all(|&f| m[r][f].abs() < EPS))
        .map(|(_, &col)| columns[col])
        .collect()
}

impl Cells {
    pub fn new(n: u64) -> Cells {
        Cells {
            n,
            value: Vec::new(),
            withheld: Vec::new(),
            implicit: Vec::new(),
            forced: Vec::new(),
            cost: Vec::new(),
            constraints: Vec::new(),
            curves: Vec::new(),
        }
    }

    pub fn threshold(&self) -> u64 {
        self.n
    }

    fn small(&self, c: u64) -> bool {
        c >= 1 && c < self.n
    }

    /// A shown count (withheld from the start when small); `cost`: how much withholding it
    /// takes from the reader, for choosing which cell to withhold.
    pub fn cell(&mut self, value: u64, cost: u8) -> usize {
        self.value.push(value);
        self.withheld.push(self.small(value));
        self.implicit.push(false);
        self.forced.push(false);
        self.cost.push(cost);
        self.value.len() - 1
    }

    /// The count `part` leaves of `total` (non-responders of n, censored courses): never
    /// shown, but not to be worked out when small; `total` = `part` + it.
    pub fn rest(&mut self, total: usize, part: usize) -> usize {
        let id = self.cell(self.value[total].saturating_sub(self.value[part]), u8::MAX);
        self.withheld[id] = false;
        self.implicit[id] = true;
        self.weighted(&[(total, 1), (part, -1), (id, -1)]);
        id
    }

    /// Withholds a count with its group (never shown again).
    pub fn withhold(&mut self, id: usize) {
        self.withheld[id] = true;
        self.forced[id] = true;
    }

    pub fn is_withheld(&self, id: usize) -> bool {
        self.withheld[id]
    }

    /// `total` = Σ `parts`, a set: the sum of its withheld parts may not be small either.
    /// Added only when the counts agree (a constraint that does not hold would let nothing
    /// be worked out).
    pub fn sum(&mut self, total: usize, parts: &[usize]) {
        self.add_sum(total, parts, true);
    }

    /// `total` = Σ `parts`, guarded against exact working-out only.
    pub fn sum_exact(&mut self, total: usize, parts: &[usize]) {
        self.add_sum(total, parts, false);
    }

    fn add_sum(&mut self, total: usize, parts: &[usize], set: bool) {
        let sum = parts
            .iter()
            .map(|&p| self.value[p])
            .fold(0u64, u64::saturating_add);
        if parts.is_empty() || sum != self.value[total] {
            return;
        }
        let mut terms = vec![(total, 1)];
        terms.extend(parts.iter().map(|&p| (p, -1)));
        self.constraints.push(Constraint { terms, set });
    }

    /// Σ coefficient × cell = 0 (added only when it holds).
    pub fn weighted(&mut self, terms: &[(usize, i64)]) {
        let total = (terms.iter()).try_fold(0i128, |s, &(c, a)| {
            s.checked_add(i128::from(a) * i128::from(self.value[c]))
        });
        if total == Some(0) && terms.len() > 1 {
            self.constraints.push(Constraint {
                terms: terms.to_vec(),
                set: false,
            });
        }
    }

    /// `a` and `b` are the same count shown twice (added when they are equal).
    pub fn same(&mut self, a: usize, b: usize) {
        if a != b {
            self.weighted(&[(a, 1), (b, -1)]);
        }
    }

    /// A curve: its points' cells in order.
    pub fn curve(&mut self, points: Vec<Vec<usize>>) {
        self.curves.push(points);
    }

    /// Withholds cells until no small count can be worked out.
    pub fn solve(&mut self) {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); self.value.len()];
        for (k, c) in self.constraints.iter().enumerate() {
            for &(cell, _) in &c.terms {
                members[cell].push(k);
            }
        }
        loop {
            self.truncate();
            let closure = self.closure(&members);
            let fixes = self.fixes(&closure);
            if fixes.is_empty() {
                self.show_derivable(&closure);
                return;
            }
            for id in fixes {
                self.withheld[id] = true;
            }
        }
    }

    /// Shows again the counts withheld to stop a working-out that did not need them: a
    /// count the reader can work out anyway tells nothing more when shown (unless it is
    /// small, or went with its group or with a curve's withheld tail).
    fn show_derivable(&mut self, closure: &Closure) {
        for i in 0..self.value.len() {
            if self.withheld[i] && closure.known[i] && !self.forced[i] && !self.small(self.value[i])
            {
                self.withheld[i] = false;
            }
        }
    }

    fn truncate(&mut self) {
        for curve in &self.curves {
            let first = (curve
                .iter()
                .position(|p| p.iter().any(|&c| self.withheld[c])))
            .unwrap_or(curve.len());
            // A point is shown whole or not at all.
            for point in curve.iter().skip(first) {
                for &c in point {
                    self.withheld[c] = true;
                    self.forced[c] = true;
                }
            }
        }
    }

    fn shown(&self, id: usize) -> bool {
        !self.withheld[id] && !self.implicit[id]
    }

    /// Everything a reader can work out from the shown cells: one constraint at a time, and
    /// by solving the constraints together (two sums over the same two hidden counts fix
    /// both).
    fn closure(&self, members: &[Vec<usize>]) -> Closure {
        let known: Vec<bool> = (0..self.value.len()).map(|i| self.shown(i)).collect();
        let unknown: Vec<usize> = (self.constraints.iter())
            .map(|c| c.terms.iter().filter(|(cell, _)| !known[*cell]).count())
            .collect();
        let work = (0..unknown.len()).filter(|&k| unknown[k] == 1).collect();
        let mut r = Reading {
            members,
            known,
            unknown,
            source: vec![None; self.value.len()],
            work,
        };
        let mut reasons: Vec<Vec<usize>> = Vec::new();
        loop {
            while let Some(k) = r.work.pop() {
                if r.unknown[k] != 1 {
                    continue;
                }
                let terms = &self.constraints[k].terms;
                if let Some(&(cell, _)) = terms.iter().find(|(c, _)| !r.known[*c]) {
                    reasons.push(vec![k]);
                    r.learn(cell, reasons.len() - 1);
                }
            }
            let solved = self.systems(&r.known, &r.unknown);
            if solved.is_empty() {
                break;
            }
            for (cells, constraints) in solved {
                reasons.push(constraints);
                for cell in cells {
                    if !r.known[cell] {
                        r.learn(cell, reasons.len() - 1);
                    }
                }
            }
        }
        Closure {
            known: r.known,
            source: r.source,
            reasons,
        }
    }

    /// The hidden cells fixed by the constraints with two or more hidden cells taken
    /// together, with those constraints: each connected set of hidden cells (up to
    /// [`MAX_SYSTEM`]) is reduced to row echelon form; a cell whose row has no free cell in
    /// it is fixed.
    fn systems(&self, known: &[bool], unknown: &[usize]) -> Vec<(Vec<usize>, Vec<usize>)> {
        let open: Vec<usize> = (0..self.constraints.len())
            .filter(|&k| unknown[k] >= 2)
            .collect();
        // Connected hidden cells (union–find over the open constraints).
        let mut parent: Vec<usize> = (0..self.value.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for &k in &open {
            let mut cells = (self.constraints[k].terms.iter()).filter(|(c, _)| !known[*c]);
            if let Some(&(first, _)) = cells.next() {
                for &(c, _) in cells {
                    let (a, b) = (root(&mut parent, first), root(&mut parent, c));
                    parent[a] = b;
                }
            }
        }
        let mut components: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &k in &open {
            let first = (self.constraints[k].terms.iter()).find(|(c, _)| !known[*c]);
            if let Some(&(c, _)) = first {
                components.entry(root(&mut parent, c)).or_default().push(k);
            }
        }
        let mut solved = Vec::new();
        for constraints in components.into_values() {
            let mut columns: Vec<usize> = (constraints.iter())
                .flat_map(|&k| self.constraints[k].terms.iter().map(|(c, _)| *c))
                .filter(|&c| !known[c])
                .collect();
            columns.sort_unstable();
            columns.dedup();
            if columns.len() > MAX_SYSTEM || constraints.len() < 2 {
                continue;
            }
            let fixed = fixed_columns(&constraints, &columns, |k| &self.constraints[k].terms);
            if !fixed.is_empty() {
                solved.push((fixed, constraints));
            }
        }
        solved
    }

    /// One cell to withhold for each small count (or small sum of a set's hidden cells) that
    /// can be worked out; empty when there is none.
    fn fixes(&self, closure: &Closure) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::new();
        let choose = |candidates: Vec<usize>, chosen: &mut Vec<usize>| {
            // Another fix of this round may already stop this working-out; the next round
            // checks again.
            if candidates.iter().any(|c| chosen.contains(c)) {
                return;
            }
            let best = (candidates.into_iter())
                .filter(|&c| self.value[c] > 0)
                .min_by_key(|&c| (self.cost[c], self.value[c], c));
            if let Some(c) = best {
                chosen.push(c);
            }
        };
        for i in 0..self.value.len() {
            let hidden = self.withheld[i] || self.implicit[i];
            if hidden && closure.known[i] && self.small(self.value[i]) {
                choose(self.used(closure, &[i]), &mut chosen);
            }
        }
        for c in self.constraints.iter().filter(|c| c.set) {
            let total = c.terms[0].0;
            if !closure.known[total] {
                continue;
            }
            let parts = &c.terms[1..];
            let hidden: Vec<usize> = (parts.iter())
                .map(|&(p, _)| p)
                .filter(|&p| !closure.known[p])
                .collect();
            let sum = (hidden.iter()).fold(0u64, |s, &p| s.saturating_add(self.value[p]));
            if hidden.len() >= 2 && self.small(sum) {
                // Another part joins the hidden ones, or the total goes: among the shown
                // cells, and those the working-out of a known part or the total used (a
                // part shown here may be worked out elsewhere too).
                let known: Vec<usize> = (c.terms.iter())
                    .map(|&(p, _)| p)
                    .filter(|&p| closure.known[p])
                    .collect();
                choose(self.used(closure, &known), &mut chosen);
            }
        }
        chosen
    }

    /// The shown cells the working-out of `cells` used.
    fn used(&self, closure: &Closure, cells: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = vec![false; closure.reasons.len()];
        let mut stack: Vec<usize> = Vec::new();
        for &c in cells {
            match closure.source[c] {
                Some(r) => stack.push(r),
                None if self.shown(c) => out.push(c),
                None => {}
            }
        }
        while let Some(r) = stack.pop() {
            if std::mem::replace(&mut seen[r], true) {
                continue;
            }
            for &k in &closure.reasons[r] {
                for &(m, _) in &self.constraints[k].terms {
                    if self.shown(m) {
                        out.push(m);
                    } else if let Some(j) = closure.source[m] {
                        if !seen[j] {
                            stack.push(j);
                        }
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Cells;

    #[test]
    fn a_withheld_count_beside_its_shown_total_takes_the_cheapest_other_cell() {
        let mut c = Cells::new(11);
        let all = c.cell(45, 3);
        let (a, b, d) = (c.cell(5, 1), c.cell(25, 1), c.cell(15, 1));
        c.sum(all, &[a, b, d]);
        c.solve();
        assert!(c.is_withheld(a) && c.is_withheld(d));
        assert!(!c.is_withheld(b) && !c.is_withheld(all));
    }

    #[test]
    fn a_large_withheld_count_is_protected_when_it_leads_to_a_small_one() {
        // Condition a: 20 courses, 15 responders (5 non-responders: small). Condition b:
        // 25 courses, 12 responders. "all" shows 27 responders.
        let mut c = Cells::new(11);
        let (na, nb) = (c.cell(20, 3), c.cell(25, 3));
        let (ra, rb, rall) = (c.cell(15, 1), c.cell(12, 1), c.cell(27, 1));
        // Non-responders: 5 and 13.
        c.rest(na, ra);
        c.rest(nb, rb);
        c.sum(rall, &[ra, rb]);
        c.solve();
        assert!(c.is_withheld(ra), "n − responders is small");
        assert!(
            c.is_withheld(rb),
            "else 27 − 12 gives a's 15, and 20 − 15 its 5"
        );
        assert!(!c.is_withheld(na) && !c.is_withheld(nb) && !c.is_withheld(rall));
    }

    #[test]
    fn the_hidden_cells_of_a_set_may_not_add_up_to_a_small_count() {
        // Sex: F 182, M 114, other 3, unknown 1 of 300: other + unknown = 4 is small.
        let mut c = Cells::new(11);
        let total = c.cell(300, 3);
        let cells = [c.cell(182, 1), c.cell(114, 1), c.cell(3, 1), c.cell(1, 1)];
        c.sum(total, &cells);
        c.solve();
        assert!(
            c.is_withheld(cells[1]),
            "the smallest shown cell joins them"
        );
        assert!(!c.is_withheld(cells[0]) && !c.is_withheld(total));
    }

    #[test]
    fn a_curve_is_withheld_from_its_first_withheld_point_and_its_tail_cannot_be_worked_out() {
        // 42 courses: point 1 (at risk 42, 15 events, 12 censored), point 2 (at risk 15,
        // 3 events, 12 censored); 18 events in all.
        let mut c = Cells::new(11);
        let n = c.cell(42, 3);
        let events = c.cell(18, 1);
        let censored = c.rest(n, events);
        let p1 = [c.cell(42, 2), c.cell(15, 2), c.cell(12, 2)];
        let p2 = [c.cell(15, 2), c.cell(3, 2), c.cell(12, 2)];
        c.sum(events, &[p1[1], p2[1]]);
        c.sum(censored, &[p1[2], p2[2]]);
        c.same(n, p1[0]);
        c.weighted(&[(p1[0], 1), (p1[1], -1), (p1[2], -1), (p2[0], -1)]);
        c.sum(p2[0], &[p2[1], p2[2]]);
        c.curve(vec![p1.to_vec(), p2.to_vec()]);
        c.solve();
        assert!(p2.iter().all(|&x| c.is_withheld(x)));
        // 18 − 15 would give point 2's 3 events: the total goes (cost 1), not the curve.
        assert!(c.is_withheld(events));
        assert!(p1.iter().all(|&x| !c.is_withheld(x)) && !c.is_withheld(n));
    }

    #[test]
    fn two_sums_over_the_same_hidden_counts_are_solved_together() {
        // 25 courses had 1 session and 5 had 2: n = 30 and 35 injections fix both.
        let mut c = Cells::new(11);
        let (n, injections) = (c.cell(30, 3), c.cell(35, 1));
        let (one, two) = (c.cell(25, 1), c.cell(5, 1));
        c.sum(n, &[one, two]);
        c.weighted(&[(injections, 1), (one, -1), (two, -2)]);
        c.solve();
        assert!(c.is_withheld(one) && c.is_withheld(two));
        assert!(
            c.is_withheld(injections),
            "else 35 − 30 = 5 courses had 2 sessions"
        );
        assert!(!c.is_withheld(n));
        // Three hidden counts under two sums: none is fixed.
        let cols = [0, 1, 2];
        let rows = [vec![(0, 1), (1, 1), (2, 1)], vec![(0, 1), (1, 2), (2, 3)]];
        assert!(super::fixed_columns(&[0, 1], &cols, |k| &rows[k]).is_empty());
        // Two of them under three: all fixed.
        let rows = [vec![(0, 1), (1, 1)], vec![(0, 1), (1, 2)], vec![(2, 1)]];
        assert_eq!(
            super::fixed_columns(&[0, 1, 2], &cols, |k| &rows[k]),
            [0, 1, 2]
        );
    }

    #[test]
    fn a_constraint_that_does_not_hold_is_not_added() {
        let mut c = Cells::new(11);
        let total = c.cell(50, 3);
        let (a, b) = (c.cell(5, 1), c.cell(40, 1));
        c.sum(total, &[a, b]);
        c.solve();
        assert!(c.is_withheld(a) && !c.is_withheld(b));
    }
}
