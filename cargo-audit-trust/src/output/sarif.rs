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
        let line = inventory.lock_line(&v.name, &v.version);
        for r in v.reasons.iter().filter(|r| r.severity != Severity::Info) {
            rules.entry(r.code).or_insert_with(|| {
                json!({
                    "id": r.code,
                    "name": r.code,
                    "shortDescription": { "text": rule_description(r.code) },
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

fn rule_description(code: &str) -> &'static str {
    match code {
        "unaudited" => "No sign-off from a covering auditor meets the required criteria",
        "unassigned" => "No auditor in Cargo.audit covers the package",
        "flagged" => "An auditor flagged this version",
        "advisory" => "A RustSec vulnerability advisory covers this version",
        "advisory-informational" => {
            "An informational RustSec advisory (unmaintained, unsound, notice) covers this version"
        }
        "yanked" => "The version was yanked from its registry",
        "checksum-mismatch" => "Cargo.lock's checksum differs from the registry index's",
        "not-in-index" => "The registry index does not list this version",
        "source-not-allowed" => "The package comes from a source [allowed-sources] does not list",
        "exemption-expired" => "An exemption for the package has expired",
        "ignore-expired" => "An advisory ignore has expired",
        _ => "cargo audit-trust finding",
    }
}
