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
