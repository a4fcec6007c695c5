//! SARIF 2.1.0 output of the gate report: one rule per reason code, one result per finding,
//! located at the package's entry in `Cargo.lock`. Messages quote records, advisories and
//! package names written by others, and code-scanning viewers show them to people, so every
//! string of the document is escaped ([`escape::document`]).

use std::collections::BTreeMap;

use audit_trust_core::Inventory;
use audit_trust_core::gate::{GateReport, Severity};
use serde_json::{Value, json};

use super::escape;

pub fn render_sarif(report: &GateReport, inventory: &Inventory, lockfile: &str) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for v in &report.packages {
        let line = inventory.lock_line(v.id);
        for r in v.reasons.iter().filter(|r| r.severity != Severity::Info) {
            // Keyed by the code's name so rules come out in the same (alphabetical) order.
            rules.entry(r.code.code()).or_insert_with(|| {
                json!({
                    "id": r.code,
                    "name": r.code,
                    "shortDescription": { "text": r.code.description() },
                    "helpUri": "https://github.com/audit-trust/cargo-audit-trust/blob/main/docs/check.md",
                })
            });
            results.push(json!({
                "ruleId": r.code,
                "level": if r.severity == Severity::Deny { "error" } else { "warning" },
                "message": { "text": format!("{}@{}: {}", v.name, v.version, r.message) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": lockfile },
                        "region": { "startLine": line }
                    }
                }],
                "properties": { "package": v.name, "version": v.version, "status": v.status, "details": r.details },
            }));
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
