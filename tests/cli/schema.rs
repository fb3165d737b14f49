//! `prolo schema`: fields, accepted values and instruments, as text and JSON.

use super::*;

#[test]
fn schema_lists_fields_and_instruments() {
    let out = prolo().arg("schema").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for word in [
        "patient_id",
        "adverse_event",
        "WOMAC",
        "VISA-A",
        "higher is better",
        "30% of baseline",
        "Farrar 2001",
    ] {
        assert!(text.contains(word), "{word}");
    }
    let out = prolo()
        .args(["schema", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fields"].as_array().unwrap().len(), 13);
    let womac = v["instruments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "WOMAC")
        .unwrap();
    assert_eq!(womac["max"], 96.0);
    assert_eq!(womac["better"], "lower");
}

/// With a config file, the table shows each instrument as defined (its MCID beside its
/// source; a config's own `[[instruments]]` with theirs) and says which responder
/// thresholds the config's `[responder]` set; the JSON gives the thresholds in force as
/// `analyze` does in `parameters`.
#[test]
fn schema_with_a_config_keeps_the_definitions_and_names_the_thresholds_set() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prolo.toml",
        "[responder]\npain = \"2\"\nWOMAC = \"20%\"\n\n[[instruments]]\nname = \"KSS\"\nmax = 100\nbetter = \"higher\"\nmcid = \"9\"\n",
    );
    let cfg = cfg.to_str().unwrap();
    let out = prolo().args(["schema", "--config", cfg]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let womac = text
        .lines()
        .find(|l| l.trim_start().starts_with("WOMAC"))
        .unwrap();
    assert!(!womac.contains("20%"), "{womac}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("KSS")),
        "{text}"
    );
    assert!(
        text.contains(
            "Responder thresholds set by the config file: pain 2 points; WOMAC 20% of baseline."
        ),
        "{text}"
    );
    let plain = prolo().arg("schema").output().unwrap();
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(plain.lines().any(|l| l == womac), "{womac}");
    assert!(!plain.contains("set by the config file"));

    let out = prolo()
        .args(["schema", "--format", "json", "--config", cfg])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let defined = |name: &str| {
        let all = v["instruments"].as_array().unwrap();
        all.iter().find(|i| i["name"] == name).unwrap()["mcid"].clone()
    };
    assert_eq!(defined("WOMAC")["kind"], "points");
    assert_eq!(defined("KSS")["value"], 9.0);
    assert_eq!(v["pain_responder"], "2 points");
    assert_eq!(v["function_responders"]["WOMAC"], "20% of baseline");
    assert_eq!(v["function_responders"]["KSS"], "9 points");
}
