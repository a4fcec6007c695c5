//! SARIF 2.1.0 output of the gate report: one rule per reason code, one result per finding,
//! located at the package's entry in `Cargo.lock`. Messages quote records, advisories and
//! package names written by others, and code-scanning viewers show them to people, so every
//! string of the document is escaped ([`escape::document`]).

use std::collections::BTreeMap;

use audit_trust_core::Inventory;
use audit_trust_core::gate::{GateReport, Reason, ReasonCode, Severity};
use audit_trust_core::risk::SignalCode;
use serde_json::{Value, json};

use super::escape;

pub fn render_sarif(report: &GateReport, inventory: &Inventory, lockfile: &str) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for v in &report.packages {
        let line = inventory.lock_line(v.id);
        for r in v.reasons.iter().filter(|r| r.severity != Severity::Info) {
            let (id, description, doc) = rule_of(r);
            // Keyed by the rule's id so rules come out in the same (alphabetical) order.
            rules.entry(id.clone()).or_insert_with(|| {
                json!({
                    "id": id,
                    "name": id,
                    "shortDescription": { "text": description },
                    "helpUri": format!("https://github.com/audit-trust/cargo-audit-trust/blob/main/docs/{doc}"),
                })
            });
            let mut locations = vec![json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": lockfile },
                    "region": { "startLine": line }
                }
            })];
            locations.extend(crate_locations(r));
            results.push(json!({
                "ruleId": id,
                "level": if r.severity == Severity::Deny { "error" } else { "warning" },
                "message": { "text": format!("{}@{}: {}", v.name, v.version, r.message) },
                "locations": locations,
                "properties": { "package": v.name, "version": v.version, "status": v.status, "details": r.details },
            }));
            if let (Some(introduced), Some(last)) = (v.introduced, results.last_mut()) {
                // Pull-request mode: whether the change brought this package version in.
                last["properties"]["introduced"] = json!(introduced);
            }
        }
    }
    escape::document(json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cargo-audit-trust",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/audit-trust/cargo-audit-trust",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
            // Expiring exemptions concern Cargo.audit, not a package of the lockfile: they are
            // notifications of the run, at level note, never results that fail a scan.
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": report.expiring.iter().map(|w| json!({
                    "level": "note",
                    "message": { "text": w.message },
                    "descriptor": { "id": "expiring-soon" },
                })).collect::<Vec<_>>(),
            }],
        }]
    }))
}

/// A reason's rule: its code, or `risk/SIGNAL` for a risk signal (one rule per signal, with the
/// signal's own description); with the docs page that explains it.
fn rule_of(r: &Reason) -> (String, &'static str, &'static str) {
    if r.code == ReasonCode::Risk
        && let Some(signal) = r.details["signal"].as_str().and_then(SignalCode::parse)
    {
        return (format!("risk/{signal}"), signal.description(), "risk.md");
    }
    (r.code.code().to_owned(), r.code.description(), "check.md")
}

/// Where in the published crate a risk signal's evidence is: `NAME-VERSION/FILE` (the path
/// inside the `.crate`, as `cargo package` lays it out) at the line, for each piece of evidence
/// with a file.
fn crate_locations(r: &Reason) -> Vec<Value> {
    let Some(evidence) = r.details["evidence"].as_array() else {
        return Vec::new();
    };
    evidence
        .iter()
        .filter_map(|e| {
            let file = e["file"].as_str()?;
            let (name, version) = e["package"].as_str()?.split_once('@')?;
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": format!("{name}-{version}/{file}") },
                },
                "message": { "text": e["names"].as_array().map(|n| {
                    n.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
                }).unwrap_or_default() },
            });
            if let Some(line) = e["line"].as_u64() {
                location["physicalLocation"]["region"] = json!({ "startLine": line });
            }
            Some(location)
        })
        .collect()
}
