//! The record fields, the accepted values and the instruments table.

use serde::Serialize;

/// One input column of the record schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub kind: &'static str,
    pub required: &'static str,
    pub meaning: &'static str,
}

/// Indices of the canonical fields, in [`FIELDS`] order.
pub mod col {
    pub const PATIENT_ID: usize = 0;
    pub const CONDITION: usize = 1;
    pub const DAY: usize = 2;
    pub const DATE: usize = 3;
    pub const INJECTION: usize = 4;
    pub const PAIN: usize = 5;
    pub const FUNCTION: usize = 6;
    pub const FUNCTION_INSTRUMENT: usize = 7;
    pub const INJECTATE: usize = 8;
    pub const AGE: usize = 9;
    pub const SEX: usize = 10;
    pub const SITE: usize = 11;
    pub const ADVERSE_EVENT: usize = 12;
}

/// The record schema (SPEC "Records").
pub const FIELDS: [Field; 13] = [
    Field { name: "patient_id", kind: "text", required: "yes", meaning: "pseudonymous patient key" },
    Field { name: "condition", kind: "text", required: "yes", meaning: "condition treated, normalised: trimmed, lower case, each run of spaces to one _; \"all\" is refused (it names the overall group)" },
    Field { name: "day", kind: "integer >= 0 (3.0 is read as 3)", required: "yes, or date", meaning: "days since the course's first encounter" },
    Field { name: "date", kind: "YYYY-MM-DD", required: "instead of day", meaning: "converted to day on read (days since the course's first encounter); never written to any output; reported as a warning" },
    Field { name: "injection", kind: "boolean", required: "yes", meaning: "an injection was given at this encounter; empty is invalid" },
    Field { name: "pain", kind: "number", required: "at least one of pain, function", meaning: "pain score, NRS 0-10 (or VAS 0-100 with --pain-scale vas)" },
    Field { name: "function", kind: "number", required: "no", meaning: "function score on the instrument named in function_instrument" },
    Field { name: "function_instrument", kind: "text", required: "when function is given", meaning: "an instrument of the instruments table (case-insensitive)" },
    Field { name: "injectate", kind: "text", required: "no", meaning: "e.g. dextrose 15%, saline" },
    Field { name: "age", kind: "integer", required: "no", meaning: "age in years; above 89 must be given as 90 (Safe Harbor)" },
    Field { name: "sex", kind: "text", required: "no", meaning: "F, M, other, unknown" },
    Field { name: "site", kind: "text", required: "no", meaning: "clinic or site code" },
    Field { name: "adverse_event", kind: "text or boolean", required: "no", meaning: "adverse event after this encounter's injection (empty, 0, no, n, false, f, none = none; other text = an event)" },
];

/// Spellings of true, compared after trimming and lower-casing.
pub const TRUE_WORDS: [&str; 5] = ["1", "true", "t", "yes", "y"];
/// Spellings of false, compared after trimming and lower-casing.
pub const FALSE_WORDS: [&str; 5] = ["0", "false", "f", "no", "n"];
/// Adverse-event values that mean "no event" (besides empty).
pub const NO_EVENT_WORDS: [&str; 6] = ["0", "no", "n", "false", "f", "none"];
/// Accepted values of `sex`.
pub const SEX_VALUES: [&str; 4] = ["F", "M", "other", "unknown"];
/// Ages above this are identifiers (HIPAA Safe Harbor).
pub const MAX_AGE: i64 = 90;

/// Parses a boolean as SPEC accepts it: 1/0, true/false, t/f, yes/no, y/n in any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    let t = trim(text);
    let is = |words: &[&str]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if is(&TRUE_WORDS) {
        Some(true)
    } else if is(&FALSE_WORDS) {
        Some(false)
    } else {
        None
    }
}

/// Parses a finite decimal number; `NaN`, `inf`, `7,5` and empty text are not numbers.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = trim(text);
    if let Some(v) = plain_decimal(t) {
        return Some(v);
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A number written as digits (`45`), or digits, a point and digits (`6.5`, `45.25`), at
/// most 15 digits in all: the integer of its digits divided by the power of ten of its
/// decimals. Both are exact doubles (below 2^53 and 10^22), and a division rounds its exact
/// quotient once, so this is the double nearest the number, as `str::parse` gives it
/// (Clinger's fast path), without its general parser (which took about 5 % of a run's
/// processor time for the scores). None for any other form.
fn plain_decimal(t: &str) -> Option<f64> {
    let (int, frac) = match t.split_once('.') {
        Some((int, frac)) if !frac.is_empty() => (int, frac),
        Some(_) => return None,
        None => (t, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() + frac.len() > 15 || !(digits(int) && digits(frac)) {
        return None;
    }
    let n = (int.bytes().chain(frac.bytes())).fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    Some(n as f64 / POWERS_OF_TEN[frac.len()])
}

/// 10^0 to 10^15, each exact.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Parses a whole number (`3.0` is 3); None for fractions and for values beyond ±2^53.
pub fn parse_whole(text: &str) -> Option<i64> {
    let v = parse_number(text)?;
    (v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0).then_some(v as i64)
}

/// True when an adverse-event value reports an event.
pub fn is_adverse_event(text: &str) -> bool {
    let t = trim(text);
    !(t.is_empty() || NO_EVENT_WORDS.iter().any(|w| t.eq_ignore_ascii_case(w)))
}

/// `text.trim()`, with a quick way out for the usual field that starts and ends in a visible
/// ASCII character.
pub fn trim(text: &str) -> &str {
    let b = text.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Normalises a condition: trimmed, lower case, each run of white space to one `_`.
pub fn normalise_condition(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push('_');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Which direction of an instrument is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
}

/// A responder threshold: points on the instrument's scale or a percentage of baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Threshold {
    Points(f64),
    Percent(f64),
}

impl Threshold {
    /// Parses `2`, `2.5` (points) or `30%` (percent of baseline).
    pub fn parse(text: &str) -> Option<Threshold> {
        let t = trim(text);
        match t.strip_suffix('%') {
            Some(p) => parse_number(p)
                .filter(|v| *v >= 0.0)
                .map(Threshold::Percent),
            None => parse_number(t).filter(|v| *v >= 0.0).map(Threshold::Points),
        }
    }

    /// The improvement needed from `baseline`.
    pub fn needed(self, baseline: f64) -> f64 {
        match self {
            Threshold::Points(p) => p,
            Threshold::Percent(p) => p / 100.0 * baseline.abs(),
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Points(p) => write!(f, "{p} points"),
            Threshold::Percent(p) => write!(f, "{p}% of baseline"),
        }
    }
}

/// One row of the instruments table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instrument {
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub better: Better,
    pub mcid: Threshold,
    pub typical: String,
    pub source: String,
}

impl Instrument {
    fn new(
        name: &str,
        max: f64,
        better: Better,
        mcid: Threshold,
        typical: &str,
        source: &str,
    ) -> Instrument {
        Instrument {
            name: name.into(),
            min: 0.0,
            max,
            better,
            mcid,
            typical: typical.into(),
            source: source.into(),
        }
    }

    /// Improvement from `baseline` to `value`: positive is better.
    pub fn improvement(&self, baseline: f64, value: f64) -> f64 {
        match self.better {
            Better::Lower => baseline - value,
            Better::Higher => value - baseline,
        }
    }
}

/// The pain scales: NRS 0–10 and VAS 0–100 mm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PainScale {
    Nrs,
    Vas,
}

impl PainScale {
    /// The pain instrument of this scale (lower is better, default 30% of baseline).
    pub fn instrument(self) -> Instrument {
        match self {
            PainScale::Nrs => Instrument::new(
                "NRS",
                10.0,
                Better::Lower,
                Threshold::Percent(30.0),
                "pain, all conditions",
                "Farrar 2001 Pain 94:149; Dworkin 2008 J Pain 9:105 (IMMPACT)",
            ),
            PainScale::Vas => Instrument::new(
                "VAS",
                100.0,
                Better::Lower,
                Threshold::Percent(30.0),
                "pain, all conditions",
                "Ostelo 2008 Spine 33:90",
            ),
        }
    }
}

/// The function instruments compiled in (shared/domain.md); the config file may add or override.
pub fn default_instruments() -> Vec<Instrument> {
    use Better::{Higher, Lower};
    use Threshold::Points as P;
    vec![
        Instrument::new(
            "WOMAC",
            96.0,
            Lower,
            P(12.0),
            "knee/hip OA (Likert total)",
            "Angst 2001 J Rheumatol",
        ),
        Instrument::new(
            "KOOS",
            100.0,
            Higher,
            P(10.0),
            "knee OA, ACL, meniscus (subscale)",
            "Paradowski 2004 HQLO 2:38",
        ),
        Instrument::new(
            "HOOS",
            100.0,
            Higher,
            P(10.0),
            "hip OA, labral (subscale)",
            "unconfirmed, by analogy with KOOS",
        ),
        Instrument::new(
            "ODI",
            100.0,
            Lower,
            P(10.0),
            "low back, sacroiliac",
            "Ostelo 2008 Spine",
        ),
        Instrument::new("RMDQ", 24.0, Lower, P(5.0), "low back", "Ostelo 2008 Spine"),
        Instrument::new(
            "NDI",
            100.0,
            Lower,
            P(10.0),
            "neck (percent form)",
            "Auffinger 2013 (unconfirmed; range of estimates)",
        ),
        Instrument::new(
            "DASH",
            100.0,
            Lower,
            P(11.0),
            "elbow, shoulder",
            "Franchignoni 2014 JOSPT",
        ),
        Instrument::new(
            "QuickDASH",
            100.0,
            Lower,
            P(16.0),
            "elbow, shoulder",
            "Franchignoni 2014 JOSPT",
        ),
        Instrument::new(
            "PRTEE",
            100.0,
            Lower,
            P(11.0),
            "lateral epicondylosis",
            "Poltawski & Watson 2011",
        ),
        Instrument::new(
            "VISA-A",
            100.0,
            Higher,
            P(14.0),
            "Achilles",
            "JOSPT 2021 (12-week value)",
        ),
        Instrument::new(
            "FFI",
            100.0,
            Lower,
            P(12.0),
            "plantar fasciitis",
            "unconfirmed",
        ),
        Instrument::new(
            "FAAM",
            100.0,
            Higher,
            P(8.0),
            "foot/ankle, plantar fasciitis (ADL)",
            "Martin 2005 Foot Ankle Int",
        ),
        Instrument::new(
            "SPADI",
            100.0,
            Lower,
            P(13.0),
            "rotator cuff, shoulder OA",
            "Roy 2009 Arthritis Care Res",
        ),
        Instrument::new(
            "ASES",
            100.0,
            Higher,
            P(6.4),
            "rotator cuff",
            "Roy 2009 Arthritis Care Res",
        ),
    ]
}

/// Column-name fragments that mark a direct identifier (HIPAA Safe Harbor's 18): matched
/// inside the name with separators removed when 5 characters or longer, else as a word.
pub const IDENTIFIER_NAMES: [&str; 57] = [
    "name",
    "firstname",
    "lastname",
    "forename",
    "surname",
    "zipcode",
    "website",
    "webpage",
    "homepage",
    "recordnumber",
    "medicalrecord",
    "ssn",
    "socialsecurity",
    "mrn",
    "email",
    "phone",
    "telephone",
    "mobile",
    "fax",
    "address",
    "street",
    "zip",
    "postcode",
    "postalcode",
    "dob",
    "dateofbirth",
    "birthdate",
    "ipaddress",
    "url",
    "licence",
    "license",
    "accountnumber",
    "accountno",
    "accountid",
    "acctno",
    "acctnum",
    "healthplan",
    "beneficiary",
    "insuranceid",
    "insurancenumber",
    "memberid",
    "membernumber",
    "subscriberid",
    "policynumber",
    "certificate",
    "vehicle",
    "licenseplate",
    "serialnumber",
    "serialno",
    "deviceid",
    "deviceserial",
    "username",
    "passport",
    "biometric",
    "fingerprint",
    "photograph",
    "nationalid",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_in_every_spelling() {
        for t in ["1", "TRUE", " yes ", "Y", "t"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for t in ["0", "False", "no", "N", "f"] {
            assert_eq!(parse_bool(t), Some(false), "{t}");
        }
        for t in ["", "maybe", "2", "1.0"] {
            assert_eq!(parse_bool(t), None, "{t}");
        }
    }

    #[test]
    fn numbers_are_finite_decimals() {
        assert_eq!(parse_number(" 7.5 "), Some(7.5));
        assert_eq!(parse_number("1e2"), Some(100.0));
        assert_eq!(parse_number("-0"), Some(0.0));
        for t in [
            "", "7,5", "n/a", "NaN", "inf", "-inf", "1e309", "1,000", "0x10",
        ] {
            assert_eq!(parse_number(t), None, "{t}");
        }
        assert_eq!(parse_whole("3.0"), Some(3));
        assert_eq!(parse_whole("3.5"), None);
        assert_eq!(parse_whole("99999999999999999999"), None);
    }

    /// Plain decimals read by the fast path are the doubles `str::parse` gives, to the bit:
    /// every number of up to 15 digits with 1 to 14 decimals tried (a generator's sample,
    /// long runs of 9s and 0s, the largest and smallest), and every other form is left to
    /// the general parser.
    #[test]
    fn plain_decimals_read_as_the_general_parser_reads_them() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut forms: Vec<String> = Vec::new();
        for _ in 0..200_000 {
            let total = 2 + (next() % 14) as usize;
            let decimals = 1 + (next() % (total as u64 - 1)) as usize;
            let digits: String = (0..total)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            forms.push(format!(
                "{}.{}",
                &digits[..total - decimals],
                &digits[total - decimals..]
            ));
        }
        for d in 1..15 {
            forms.push(format!("{}.{}", "9".repeat(15 - d), "9".repeat(d)));
            forms.push(format!("0.{}1", "0".repeat(d - 1)));
            forms.push(format!("{}.{}", "1".repeat(15 - d), "5".repeat(d)));
        }
        forms.extend(
            [
                "6.5",
                "0.1",
                "0.3",
                "7.0",
                "00.50",
                "45.25",
                "1.7976931348623",
                "0",
                "45",
                "999999999999999",
            ]
            .map(String::from),
        );
        for t in &forms {
            let fast = plain_decimal(t).unwrap_or_else(|| panic!("{t} not read"));
            assert_eq!(fast.to_bits(), t.parse::<f64>().unwrap().to_bits(), "{t}");
            assert_eq!(parse_number(t), Some(fast));
        }
        for t in [
            "",
            ".",
            "5.",
            ".5",
            "-0.5",
            "+1.5",
            "1.5e2",
            "1.2.3",
            "1234567890.123456",
            "1,5",
            "1000000000000000",
        ] {
            assert_eq!(plain_decimal(t), None, "{t}");
        }
    }

    #[test]
    fn conditions_are_normalised() {
        assert_eq!(normalise_condition("  Knee   OA "), "knee_oa");
        assert_eq!(normalise_condition("low\tback pain"), "low_back_pain");
        assert_eq!(normalise_condition("   "), "");
    }

    #[test]
    fn thresholds_parse() {
        assert_eq!(Threshold::parse("30%"), Some(Threshold::Percent(30.0)));
        assert_eq!(Threshold::parse("2"), Some(Threshold::Points(2.0)));
        assert_eq!(Threshold::parse("-2"), None);
        assert_eq!(Threshold::Percent(30.0).needed(10.0), 3.0);
    }
}
