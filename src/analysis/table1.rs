//! Analysis 2, baseline characteristics ("Table 1") by condition.
//!
//! Courses, age, sex and injectate describe every valid course; baseline scores describe
//! the courses in each outcome's analysis (with a baseline and a follow-up).

use rayon::prelude::*;
use serde::ser::SerializeMap;
use serde::Serialize;

use super::{Groups, ALL};
use crate::courses::Outcome;
use crate::stats::describe;
use crate::validate::Validated;

/// Counts keyed by text, in key order.
#[derive(Debug, Clone, Default)]
pub struct Tally(pub Vec<(String, Option<u64>)>);

impl Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The level of a course with no recorded value.
pub const NOT_RECORDED: &str = "not recorded";

/// Mean (SD) of a baseline score.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub outcome: String,
    pub instrument: String,
    pub n: Option<u64>,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
}

/// One column of Table 1.
#[derive(Debug, Clone, Serialize)]
pub struct Table1Row {
    pub condition: String,
    pub courses: Option<u64>,
    pub age_n: Option<u64>,
    pub age_mean: Option<f64>,
    pub age_sd: Option<f64>,
    pub sex: Tally,
    pub injectate: Tally,
    pub baseline: Vec<Baseline>,
    pub suppressed: bool,
}

/// Table 1 overall and per condition.
pub fn analyse(v: &Validated, groups: &[Groups]) -> Vec<Table1Row> {
    let mut names = vec![ALL.to_string()];
    names.extend(v.conditions.iter().cloned());
    // Courses by condition, in course order, from one pass.
    let mut by_condition: Vec<Vec<&crate::validate::Course>> = vec![Vec::new(); names.len()];
    for c in &v.courses {
        if let Some(list) = by_condition.get_mut(c.condition as usize + 1) {
            list.push(c);
        }
    }
    by_condition[0] = v.courses.iter().collect();
    // The groups on every core.
    let work: Vec<(&String, &Vec<&crate::validate::Course>)> = (names.iter().zip(&by_condition))
        .filter(|(_, courses)| !courses.is_empty())
        .collect();
    work.par_iter()
        .map(|&(name, courses)| row(v, groups, name, courses))
        .collect()
}

/// The row of one group: `name` and its `courses`.
fn row(
    v: &Validated,
    groups: &[Groups],
    name: &str,
    courses: &[&crate::validate::Course],
) -> Table1Row {
    let ages: Vec<f64> = courses
        .iter()
        .filter_map(|c| c.age.map(f64::from))
        .collect();
    let ages = describe::moments(&ages);
    let tally = |values: &[String], id: &dyn Fn(&crate::validate::Course) -> Option<u16>| {
        let mut counts = vec![0u64; values.len() + 1];
        for c in courses {
            counts[id(c).map_or(values.len(), usize::from)] += 1;
        }
        let mut t: Vec<(String, Option<u64>)> = values
            .iter()
            .cloned()
            .chain(std::iter::once(NOT_RECORDED.to_string()))
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k, Some(n)))
            .collect();
        t.sort();
        // A value written as "not recorded" joins the courses without one.
        t.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 = Some(a.1.unwrap_or(0) + b.1.unwrap_or(0));
            }
            same
        });
        Tally(t)
    };
    let baseline = groups
        .iter()
        .map(|g| {
            let members = g
                .groups
                .iter()
                .find(|(c, _)| c == name)
                .map(|(_, m)| m.as_slice())
                .unwrap_or(&[]);
            let x: Vec<f64> = members.iter().map(|c| c.baseline).collect();
            let m = describe::moments(&x);
            Baseline {
                outcome: g.kind.to_string(),
                instrument: g.instrument.clone(),
                n: Some(x.len() as u64),
                mean: m.mean,
                sd: m.var.map(f64::sqrt),
            }
        })
        .filter(|b| {
            b.n != Some(0)
                || matches!(groups.first().map(|g| g.outcome), Some(Outcome::Pain))
                    && b.outcome == "pain"
        })
        .collect();
    Table1Row {
        condition: name.to_string(),
        courses: Some(courses.len() as u64),
        age_n: Some(ages.n as u64),
        age_mean: ages.mean,
        age_sd: ages.var.map(f64::sqrt),
        sex: tally(&v.sexes, &|c| c.sex),
        injectate: tally(&v.injectates, &|c| c.injectate),
        baseline,
        suppressed: false,
    }
}
