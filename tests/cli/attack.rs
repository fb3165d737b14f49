//! Small cells against a reader with a spreadsheet: from every count `analyze` shows and the
//! sums that tie them (conditions add up to "all", injection groups to their condition,
//! a curve's points to its total, …), work out what can be worked out, and check that no
//! withheld or unshown count from 1 to 10 is among it. Written apart from prolo's own
//! suppression (src/analysis/derivable.rs), from the tables' definitions in SPEC.

use super::*;
use serde_json::Value;
use std::collections::HashMap;

/// A count: shown (or null) and its true value (from the same run with `--min-cell 0`).
#[derive(Clone, Copy)]
struct Count {
    shown: Option<u64>,
    truth: u64,
}

#[derive(Default)]
struct Reader {
    counts: Vec<Count>,
    /// Σ coefficient × count = 0; a "set" has its total first and its parts after.
    sums: Vec<(Vec<(usize, i64)>, bool)>,
    names: Vec<String>,
}

impl Reader {
    fn count(&mut self, name: String, shown: &Value, truth: &Value) -> Option<usize> {
        let truth = truth.as_u64()?;
        self.counts.push(Count {
            shown: shown.as_u64(),
            truth,
        });
        self.names.push(name);
        Some(self.counts.len() - 1)
    }

    fn unshown(&mut self, name: String, truth: u64) -> usize {
        self.counts.push(Count { shown: None, truth });
        self.names.push(name);
        self.counts.len() - 1
    }

    fn sum(&mut self, total: Option<usize>, parts: &[Option<usize>]) {
        let (Some(total), Some(parts)) = (total, parts.iter().copied().collect::<Option<Vec<_>>>())
        else {
            return;
        };
        if parts.is_empty() {
            return;
        }
        let mut terms = vec![(total, 1)];
        terms.extend(parts.iter().map(|&p| (p, -1)));
        self.sums.push((terms, true));
    }

    fn exact(&mut self, total: Option<usize>, parts: &[Option<usize>]) {
        let mut terms = vec![(total, 1)];
        terms.extend(parts.iter().map(|&p| (p, -1)));
        self.terms(&terms);
    }

    fn terms(&mut self, terms: &[(Option<usize>, i64)]) {
        if let Some(t) = terms.iter().map(|&(c, a)| c.map(|c| (c, a))).collect() {
            self.sums.push((t, false));
        }
    }

    /// Works out what can be worked out (one sum at a time), and returns every small count
    /// it reaches that was not shown, and every set whose unshown parts add up to a small
    /// count.
    fn leaks(&self) -> Vec<String> {
        let small = |c: u64| (1..11).contains(&c);
        let mut known: Vec<bool> = self.counts.iter().map(|c| c.shown.is_some()).collect();
        // Every sum must hold on the true values, or the test's own tables are wrong.
        for (terms, _) in &self.sums {
            let total: i128 = (terms.iter())
                .map(|&(c, a)| i128::from(a) * i128::from(self.counts[c].truth))
                .sum();
            let names: Vec<&str> = terms.iter().map(|(c, _)| self.names[*c].as_str()).collect();
            assert_eq!(total, 0, "a sum that does not hold: {names:?}");
        }
        loop {
            let mut learned = false;
            for (terms, _) in &self.sums {
                let unknown: Vec<usize> = (terms.iter())
                    .map(|(c, _)| *c)
                    .filter(|&c| !known[c])
                    .collect();
                if unknown.len() == 1 {
                    known[unknown[0]] = true;
                    learned = true;
                }
            }
            if !learned {
                break;
            }
        }
        let mut leaks: Vec<String> = (0..self.counts.len())
            .filter(|&i| known[i] && self.counts[i].shown.is_none() && small(self.counts[i].truth))
            .map(|i| {
                format!(
                    "{} = {} can be worked out",
                    self.names[i], self.counts[i].truth
                )
            })
            .collect();
        for (terms, set) in &self.sums {
            if !set || !known[terms[0].0] {
                continue;
            }
            let hidden: Vec<usize> = (terms[1..].iter())
                .map(|(c, _)| *c)
                .filter(|&c| !known[c])
                .collect();
            let sum: u64 = hidden.iter().map(|&c| self.counts[c].truth).sum();
            if hidden.len() >= 2 && small(sum) {
                let names: Vec<&str> = hidden.iter().map(|&c| self.names[c].as_str()).collect();
                leaks.push(format!("{names:?} add up to {sum}"));
            }
        }
        leaks
    }
}

/// Cells grouped by key: the "all" cell and the others, to add up.
type Sets<K> = HashMap<K, (Option<usize>, Vec<Option<usize>>)>;

fn add<K: std::hash::Hash + Eq>(sets: &mut Sets<K>, key: K, all: bool, id: Option<usize>) {
    let g = sets.entry(key).or_default();
    match all {
        true => g.0 = id,
        false => g.1.push(id),
    }
}

fn sum_all<K>(r: &mut Reader, sets: Sets<K>) {
    for (total, parts) in sets.into_values() {
        r.sum(total, &parts);
    }
}

/// A curve: (outcome/instrument, is "all", injections of each point, its cells).
type Curve = (String, bool, Vec<u64>, Vec<[Option<usize>; 3]>);

/// A change row: (outcome/instrument, condition, injections, n, responders).
type ChangeCells = (String, String, String, Option<usize>, Option<usize>);

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// The reader's counts and sums for one run: `s` as shown, `t` the true values.
fn read(s: &Value, t: &Value) -> Reader {
    let mut r = Reader::default();
    let all = |v: &Value| v.as_str() == Some("all");

    // Cohort flow.
    let (c, ct) = (&s["cohort"], &t["cohort"]);
    let records = r.count("records read".into(), &c["records"], &ct["records"]);
    let files: Vec<Option<usize>> = (s["inputs"].as_array().unwrap().iter())
        .zip(t["inputs"].as_array().unwrap())
        .map(|(i, it)| {
            r.count(
                format!("records of {}", i["path"]),
                &i["records"],
                &it["records"],
            )
        })
        .collect();
    r.exact(records, &files);
    let courses = r.count("courses read".into(), &c["courses"], &ct["courses"]);
    let valid = r.count(
        "valid courses".into(),
        &c["valid_courses"],
        &ct["valid_courses"],
    );
    let mut course_level = vec![valid];
    let mut pain_excluded = Vec::new();
    for (e, et) in c["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ct["excluded"].as_array().unwrap())
    {
        let name = format!(
            "exclusion {} {} {}",
            e["reason"], e["outcome"], e["instrument"]
        );
        let id = r.count(name, &e["courses"], &et["courses"]);
        match (e["reason"].as_str().unwrap(), e["outcome"].as_str()) {
            ("invalid day" | "invalid injection" | "duplicate encounter", _) => {
                course_level.push(id)
            }
            (_, Some("pain")) => pain_excluded.push(id),
            _ => {}
        }
    }
    // The cohort's sums are guarded against exact working-out only (README: the sum of
    // several withheld exclusions is the difference of two totals shown everywhere).
    r.exact(courses, &course_level);

    // Change: n and responders by outcome, condition and injections group.
    let mut change_n: HashMap<(String, String, String), Option<usize>> = HashMap::new();
    let mut change: Vec<ChangeCells> = Vec::new();
    for (row, rt) in s["change"]
        .as_array()
        .unwrap()
        .iter()
        .zip(t["change"].as_array().unwrap())
    {
        let key = format!(
            "{}/{}/{}/{}",
            row["outcome"], row["instrument"], row["condition"], row["injections"]
        );
        let n = r.count(format!("change n {key}"), &row["n"], &rt["n"]);
        let k = r.count(
            format!("change responders {key}"),
            &row["responders"],
            &rt["responders"],
        );
        let non = rt["n"]
            .as_u64()
            .zip(rt["responders"].as_u64())
            .map(|(n, k)| n - k);
        if let Some(non) = non {
            let non = r.unshown(format!("change non-responders {key}"), non);
            r.terms(&[(n, 1), (k, -1), (Some(non), -1)]);
        }
        let group = format!("{}/{}", row["outcome"], row["instrument"]);
        if all(&row["injections"]) {
            change_n.insert(
                (
                    text(&row["outcome"]),
                    text(&row["instrument"]),
                    text(&row["condition"]),
                ),
                n,
            );
        }
        change.push((
            group,
            text(&row["condition"]),
            text(&row["injections"]),
            n,
            k,
        ));
    }
    let pain_all = change_n
        .get(&("pain".into(), "NRS".into(), "all".into()))
        .copied()
        .flatten();
    let mut parts = vec![pain_all];
    parts.extend(pain_excluded);
    r.exact(valid, &parts);
    for pick in [3, 4] {
        let id = |x: &ChangeCells| if pick == 3 { x.3 } else { x.4 };
        let (mut by_group, mut by_condition): (Sets<_>, Sets<_>) = Default::default();
        for x in &change {
            add(
                &mut by_group,
                (x.0.clone(), x.2.clone()),
                x.1 == "all",
                id(x),
            );
            add(
                &mut by_condition,
                (x.0.clone(), x.1.clone()),
                x.2 == "all",
                id(x),
            );
        }
        sum_all(&mut r, by_group);
        sum_all(&mut r, by_condition);
    }

    // Injections to response: n and events by condition, the curve.
    let (mut km_n, mut km_events): (Sets<String>, Sets<String>) = Default::default();
    let mut curves: Vec<Curve> = Vec::new();
    for (row, rt) in (s["sessions_to_response"].as_array().unwrap().iter())
        .zip(t["sessions_to_response"].as_array().unwrap())
    {
        let key = format!(
            "{}/{}/{}",
            row["outcome"], row["instrument"], row["condition"]
        );
        let n = r.count(format!("km n {key}"), &row["n"], &rt["n"]);
        let e = r.count(format!("km events {key}"), &row["events"], &rt["events"]);
        let censored = rt["n"].as_u64().unwrap() - rt["events"].as_u64().unwrap();
        let censored = Some(r.unshown(format!("km censored {key}"), censored));
        r.terms(&[(n, 1), (e, -1), (censored, -1)]);
        let twin = change_n.get(&(
            text(&row["outcome"]),
            text(&row["instrument"]),
            text(&row["condition"]),
        ));
        if let Some(&twin) = twin {
            r.terms(&[(n, 1), (twin, -1)]);
        }
        // Points by injections, from the true curve (a withheld point is a row of nulls).
        let shown_curve = row["curve"].as_array().unwrap();
        let true_curve = rt["curve"].as_array().unwrap();
        let mut points = Vec::new();
        for (i, pt) in true_curve.iter().enumerate() {
            let ps = shown_curve.get(i).unwrap_or(&Value::Null);
            let k = &pt["injections"];
            let cell =
                |r: &mut Reader, f: &str| r.count(format!("km {f} {key} at {k}"), &ps[f], &pt[f]);
            points.push([
                cell(&mut r, "at_risk"),
                cell(&mut r, "events"),
                cell(&mut r, "censored"),
            ]);
        }
        if let Some(first) = points.first() {
            r.terms(&[(n, 1), (first[0], -1)]);
        }
        for (i, p) in points.iter().enumerate() {
            match points.get(i + 1) {
                Some(next) => r.terms(&[(p[0], 1), (p[1], -1), (p[2], -1), (next[0], -1)]),
                None => r.sum(p[0], &[p[1], p[2]]),
            }
        }
        r.sum(e, &points.iter().map(|p| p[1]).collect::<Vec<_>>());
        r.sum(censored, &points.iter().map(|p| p[2]).collect::<Vec<_>>());
        let group = format!("{}/{}", row["outcome"], row["instrument"]);
        add(&mut km_n, group.clone(), all(&row["condition"]), n);
        add(&mut km_events, group.clone(), all(&row["condition"]), e);
        let times: Vec<u64> = true_curve
            .iter()
            .map(|p| p["injections"].as_u64().unwrap())
            .collect();
        curves.push((group, all(&row["condition"]), times, points));
    }
    sum_all(&mut r, km_n);
    sum_all(&mut r, km_events);
    // At each number of injections the conditions' curves add up to "all": events and
    // censored there, and at risk (a condition without a point there has its next point's
    // at risk, none after its last).
    for (group, _, times, total) in curves.iter().filter(|c| c.1) {
        let conditions: Vec<_> = curves.iter().filter(|c| !c.1 && c.0 == *group).collect();
        for (k, t) in times.iter().zip(total) {
            let mut parts: [Vec<Option<usize>>; 3] = Default::default();
            for (_, _, ctimes, cpoints) in &conditions {
                match ctimes.iter().position(|j| j >= k) {
                    Some(i) if ctimes[i] == *k => (0..3).for_each(|f| parts[f].push(cpoints[i][f])),
                    Some(i) => parts[0].push(cpoints[i][0]),
                    None => {}
                }
            }
            for (f, parts) in parts.iter().enumerate() {
                r.sum(t[f], parts);
            }
        }
    }

    // Table 1, sessions received and safety, by condition.
    let mut courses_of: HashMap<String, Option<usize>> = HashMap::new();
    let mut table1: Sets<String> = HashMap::new();
    for (row, rt) in s["table1"]
        .as_array()
        .unwrap()
        .iter()
        .zip(t["table1"].as_array().unwrap())
    {
        let cond = text(&row["condition"]);
        let courses = r.count(
            format!("table1 courses {cond}"),
            &row["courses"],
            &rt["courses"],
        );
        courses_of.insert(cond.clone(), courses);
        let is_all = cond == "all";
        add(&mut table1, "courses".into(), is_all, courses);
        let age = r.count(format!("table1 age n {cond}"), &row["age_n"], &rt["age_n"]);
        let no_age = rt["courses"].as_u64().unwrap() - rt["age_n"].as_u64().unwrap();
        let no_age = Some(r.unshown(format!("table1 no age recorded {cond}"), no_age));
        r.terms(&[(courses, 1), (age, -1), (no_age, -1)]);
        add(&mut table1, "age".into(), is_all, age);
        for tally in ["sex", "injectate"] {
            let mut parts = Vec::new();
            for (k, v) in rt[tally].as_object().unwrap() {
                let shown = row[tally].get(k).unwrap_or(&Value::Null);
                let id = r.count(format!("table1 {tally} {k} {cond}"), shown, v);
                add(&mut table1, format!("{tally} {k}"), is_all, id);
                parts.push(id);
            }
            r.sum(courses, &parts);
        }
        for (i, b) in rt["baseline"].as_array().unwrap().iter().enumerate() {
            let shown = row["baseline"].get(i).map_or(&Value::Null, |x| &x["n"]);
            let key = format!("{}/{}", b["outcome"], b["instrument"]);
            let id = r.count(format!("table1 baseline n {key} {cond}"), shown, &b["n"]);
            add(&mut table1, format!("baseline {key}"), is_all, id);
            if let Some(&twin) =
                change_n.get(&(text(&b["outcome"]), text(&b["instrument"]), cond.clone()))
            {
                r.terms(&[(id, 1), (twin, -1)]);
            }
        }
    }
    if let Some(&t1_all) = courses_of.get("all") {
        r.terms(&[(valid, 1), (t1_all, -1)]);
    }
    sum_all(&mut r, table1);
    let mut safety_of: HashMap<String, [Option<usize>; 3]> = HashMap::new();
    let mut safety: Sets<usize> = HashMap::new();
    for (row, rt) in s["safety"]
        .as_array()
        .unwrap()
        .iter()
        .zip(t["safety"].as_array().unwrap())
    {
        let cond = text(&row["condition"]);
        let ids = ["courses", "injections", "events"]
            .map(|f| r.count(format!("safety {f} {cond}"), &row[f], &rt[f]));
        let without = rt["injections"].as_u64().unwrap() - rt["events"].as_u64().unwrap();
        let without = Some(r.unshown(
            format!("safety injections without an event {cond}"),
            without,
        ));
        r.terms(&[(ids[1], 1), (ids[2], -1), (without, -1)]);
        r.terms(&[(ids[0], 1), (courses_of.get(&cond).copied().flatten(), -1)]);
        for (k, id) in ids.iter().enumerate() {
            add(&mut safety, k, cond == "all", *id);
        }
        safety_of.insert(cond, ids);
    }
    sum_all(&mut r, safety);
    let mut sessions: Sets<String> = HashMap::new();
    for (row, rt) in (s["sessions_received"].as_array().unwrap().iter())
        .zip(t["sessions_received"].as_array().unwrap())
    {
        let cond = text(&row["condition"]);
        let n = r.count(format!("sessions n {cond}"), &row["n"], &rt["n"]);
        let mut parts = Vec::new();
        let mut weighted = vec![(safety_of.get(&cond).and_then(|s| s[1]), 1)];
        for (k, v) in rt["counts"].as_object().unwrap() {
            let shown = row["counts"].get(k).unwrap_or(&Value::Null);
            let id = r.count(format!("sessions {k} {cond}"), shown, v);
            parts.push(id);
            weighted.push((id, -k.parse::<i64>().unwrap()));
            add(&mut sessions, k.clone(), cond == "all", id);
        }
        r.sum(n, &parts);
        r.terms(&weighted);
        r.terms(&[(n, 1), (courses_of.get(&cond).copied().flatten(), -1)]);
        add(&mut sessions, "n".into(), cond == "all", n);
    }
    sum_all(&mut r, sessions);

    // Trajectory: n at each number of injections, by condition.
    let mut trajectory: Sets<String> = HashMap::new();
    for (row, rt) in s["trajectory"]
        .as_array()
        .unwrap()
        .iter()
        .zip(t["trajectory"].as_array().unwrap())
    {
        let key = format!(
            "{}/{}/{}",
            row["outcome"], row["instrument"], row["injections"]
        );
        let id = r.count(
            format!("trajectory n {key} {}", row["condition"]),
            &row["n"],
            &rt["n"],
        );
        add(&mut trajectory, key, all(&row["condition"]), id);
    }
    sum_all(&mut r, trajectory);
    r
}

/// Data sets where small cells meet shown totals: a small group beside "all", a curve whose
/// tail is small, a single small exclusion, and synthetic clinics of a few hundred courses.
#[test]
fn no_withheld_count_can_be_worked_out_by_sums_and_differences() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<std::path::PathBuf> =
        ["cond_leak", "km_tail", "km_tail2", "lost2", "one_file"]
            .iter()
            .map(|f| fixture(&format!("suppression/{f}.csv")))
            .collect();
    for (courses, seed) in [
        (150, 1),
        (300, 7),
        (400, 1),
        (500, 3),
        (600, 3),
        (1200, 5),
        (1500, 3),
    ] {
        files.push(synth(
            dir.path(),
            &format!("synth_{courses}_{seed}.csv"),
            courses,
            seed,
        ));
    }
    let mut shown_counts = 0;
    for f in &files {
        let (shown, truth) = (summary_of(f, "11"), summary_of(f, "0"));
        let reader = read(&shown, &truth);
        shown_counts += reader.counts.iter().filter(|c| c.shown.is_some()).count();
        let leaks = reader.leaks();
        assert!(leaks.is_empty(), "{}: {leaks:#?}", f.display());
        // Nothing shown differs from the truth.
        for c in &reader.counts {
            assert!(c.shown.is_none_or(|s| s == c.truth));
        }
    }
    assert!(
        shown_counts > 1000,
        "the data sets should show counts: {shown_counts}"
    );
}

fn summary_of(file: &Path, min_cell: &str) -> Value {
    let out = prolo()
        .args(["analyze", "--format", "json", "--min-cell", min_cell])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}
