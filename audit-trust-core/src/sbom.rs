//! A CycloneDX 1.5 SBOM (JSON) of the inventory that carries what no other tool knows: each
//! component's gate status, the auditors and criteria that passed it, its exemption, its
//! classification and its licenses as read from the published files.
//!
//! Written with serde structs for the part of the 1.5 schema we fill, not with the
//! `cyclonedx-bom` crate: that crate brings twelve packages this tree does not have (an XML
//! writer, URI and purl parsers, `time`, `uuid`, a proc-macro), each one more package to audit,
//! for a JSON document of a dozen fields. The shape is checked against the schema's required
//! fields and enums in the tests.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::gate::{GateReport, ReasonCode, Severity};
use crate::inventory::{Inventory, SourceKind};
use crate::license::PackageLicense;
use crate::report::InventoryReport;

/// The property namespace of our evidence (CycloneDX's property taxonomy convention).
pub const NAMESPACE: &str = "audit-trust";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    pub bom_format: &'static str,
    pub spec_version: &'static str,
    pub serial_number: String,
    pub version: u32,
    pub metadata: Metadata,
    pub components: Vec<Component>,
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub timestamp: String,
    pub tools: Tools,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

#[derive(Debug, Serialize)]
pub struct Tools {
    pub components: Vec<ToolComponent>,
}

#[derive(Debug, Serialize)]
pub struct ToolComponent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'static str,
    pub version: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(rename = "bom-ref")]
    pub bom_ref: String,
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<ComponentEvidence>,
    pub properties: Vec<Property>,
}

#[derive(Debug, Serialize)]
pub struct Hash {
    pub alg: &'static str,
    pub content: String,
}

/// CycloneDX allows either one SPDX expression or a list of licenses.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LicenseChoice {
    Expression { expression: String },
    License { license: License },
}

#[derive(Debug, Serialize)]
pub struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ComponentEvidence {
    /// The licenses identified from the shipped texts.
    pub licenses: Vec<LicenseChoice>,
}

#[derive(Debug, Serialize)]
pub struct ExternalReference {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
    pub comment: String,
}

#[derive(Debug, Serialize)]
pub struct Property {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    #[serde(rename = "ref")]
    pub reference: String,
    pub depends_on: Vec<String>,
}

fn property(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: format!("{NAMESPACE}:{name}"),
        value: value.into(),
    }
}

/// The package URL of a crate: `pkg:cargo/NAME@VERSION`, with the registry named for others
/// than crates.io, and the git repository for git packages. A version's build metadata keeps
/// its `+` percent-encoded (`0.11.0%2Bwasi-snapshot-preview1`): the purl specification's
/// canonical form, since a bare `+` reads as a space to some parsers. No other character of a
/// crate name or semver version needs encoding.
fn purl(p: &crate::Package) -> Option<String> {
    let version = p.version.to_string().replace('+', "%2B");
    let base = format!("pkg:cargo/{}@{version}", p.name);
    let qualified = |key: &str, url: &str| {
        let url = url.split_once('+').map_or(url, |(_, rest)| rest);
        let encoded =
            percent_encoding::utf8_percent_encode(url, percent_encoding::NON_ALPHANUMERIC);
        format!("{base}?{key}={encoded}")
    };
    match &p.source {
        SourceKind::Path => None,
        SourceKind::Registry {
            crates_io: true, ..
        } => Some(base),
        SourceKind::Registry { id, .. } => Some(qualified("repository_url", id)),
        SourceKind::Git { url, .. } => Some(qualified("vcs_url", url)),
    }
}

/// What the SBOM is built from. `licenses` is indexed like `inventory.packages`.
pub struct SbomInput<'a> {
    pub inventory: &'a Inventory,
    pub gate: &'a GateReport,
    pub sizes: &'a InventoryReport,
    pub licenses: &'a [Option<PackageLicense>],
    /// RFC 3339, from the caller's clock.
    pub timestamp: String,
    pub tool_version: String,
}

pub fn cyclonedx(input: &SbomInput<'_>) -> Bom {
    let inventory = input.inventory;
    let verdicts: HashMap<(&str, String), &crate::gate::Verdict> = input
        .gate
        .packages
        .iter()
        .map(|v| ((v.name.as_str(), v.version.to_string()), v))
        .collect();
    let sizes: HashMap<(&str, String, Option<&str>), &crate::report::PackageReport> = input
        .sizes
        .packages
        .iter()
        .map(|p| {
            (
                (
                    p.name.as_str(),
                    p.version.to_string(),
                    p.source_id.as_deref(),
                ),
                p,
            )
        })
        .collect();
    let refs: Vec<String> = inventory
        .packages
        .iter()
        .map(|p| purl(p).unwrap_or_else(|| format!("path:{}@{}", p.name, p.version)))
        .collect();
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    for (id, p) in inventory.packages.iter().enumerate() {
        let version = p.version.to_string();
        let mut properties = vec![property("source", p.source.label())];
        if let Some(v) = verdicts.get(&(p.name.as_str(), version.clone())) {
            properties.push(property("status", v.status.as_str()));
            for r in &v.reasons {
                let name = match (r.code, r.severity) {
                    (ReasonCode::Audited, _) => "evidence:audited",
                    (ReasonCode::Exempted, _) => "evidence:exempted",
                    (_, Severity::Deny) => "finding",
                    (_, Severity::Warn) => "warning",
                    (_, Severity::Info) => "note",
                };
                properties.push(property(name, format!("[{}] {}", r.code, r.message)));
                if matches!(r.code, ReasonCode::Audited) && !r.details.is_null() {
                    properties.push(property("evidence:audited:details", r.details.to_string()));
                }
            }
        }
        let size = sizes.get(&(p.name.as_str(), version.clone(), p.source_id.as_deref()));
        if let Some(s) = size {
            let flags = [
                ("micro", s.micro),
                ("leaf", Some(s.leaf)),
                ("unsafe", s.uses_unsafe),
                ("build-script", s.build_script),
                ("proc-macro", s.proc_macro),
                ("native", s.native),
                ("dev-only", s.dev_only),
            ];
            for (flag, value) in flags {
                if let Some(value) = value {
                    properties.push(property(&format!("class:{flag}"), value.to_string()));
                }
            }
            if let Some(lines) = s.code_lines {
                properties.push(property("class:code-lines", lines.to_string()));
            }
        }
        let license = input.licenses.get(id).and_then(Option::as_ref);
        let mut licenses = Vec::new();
        let mut evidence = None;
        let mut external_references = Vec::new();
        if let Some(l) = license {
            match (&l.expression, &l.declared) {
                (Some(e), _) if e.parsed.is_some() => licenses.push(LicenseChoice::Expression {
                    expression: e.parsed.clone().unwrap_or_default(),
                }),
                (_, Some(raw)) => licenses.push(LicenseChoice::License {
                    license: License {
                        id: None,
                        name: Some(raw.clone()),
                    },
                }),
                _ => {}
            }
            let detected: Vec<LicenseChoice> = l
                .texts
                .iter()
                .filter(|t| t.confidence >= crate::license::IDENTIFIED_CONFIDENCE)
                .filter_map(|t| t.detected.clone())
                .map(|id| LicenseChoice::License {
                    license: License {
                        id: Some(id),
                        name: None,
                    },
                })
                .collect();
            if !detected.is_empty() {
                evidence = Some(ComponentEvidence { licenses: detected });
            }
            for f in &l.findings {
                properties.push(property("license:finding", f.describe()));
            }
            if let Some(url) = l.repository.as_ref().filter(|u| u.starts_with("https://")) {
                external_references.push(ExternalReference {
                    kind: "vcs",
                    url: url.clone(),
                    comment:
                        "the repository the published Cargo.toml names (a claim of the publisher)"
                            .into(),
                });
            }
        }
        let hashes = p
            .checksum
            .iter()
            .map(|c| Hash {
                alg: "SHA-256",
                content: c.clone(),
            })
            .collect();
        components.push(Component {
            kind: "library",
            bom_ref: refs[id].clone(),
            name: p.name.clone(),
            version,
            scope: match p.dev_only {
                Some(true) => Some("excluded"),
                Some(false) => Some("required"),
                None => None,
            },
            purl: purl(p),
            hashes,
            licenses,
            external_references,
            evidence,
            properties,
        });
        let mut depends_on: Vec<String> = p.dependencies.iter().map(|&d| refs[d].clone()).collect();
        depends_on.sort();
        depends_on.dedup();
        dependencies.push(Dependency {
            reference: refs[id].clone(),
            depends_on,
        });
    }
    components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    dependencies.sort_by(|a, b| a.reference.cmp(&b.reference));
    Bom {
        bom_format: "CycloneDX",
        spec_version: "1.5",
        serial_number: serial_number(&refs, &input.timestamp),
        version: 1,
        metadata: Metadata {
            timestamp: input.timestamp.clone(),
            tools: Tools {
                components: vec![ToolComponent {
                    kind: "application",
                    name: "cargo-audit-trust",
                    version: input.tool_version.clone(),
                }],
            },
            properties: vec![property(
                "mode",
                match inventory.mode {
                    crate::inventory::InventoryMode::Lockfile => "lockfile",
                    crate::inventory::InventoryMode::Metadata => "metadata",
                },
            )],
        },
        components,
        dependencies,
    }
}

/// A UUID-shaped serial derived from the content, so the same inventory at the same time gives
/// the same document (reproducible output with `--now`).
fn serial_number(refs: &[String], timestamp: &str) -> String {
    let mut hasher = Sha256::new();
    for r in refs {
        hasher.update(r.as_bytes());
        hasher.update([0]);
    }
    hasher.update(timestamp.as_bytes());
    let d = hasher.finalize();
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-5{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::purl;
    use crate::inventory::{CRATES_IO_SOURCE_ID, Package, SourceKind};

    fn package(version: &str, source: SourceKind) -> Package {
        Package {
            name: "wasi".into(),
            version: semver::Version::parse(version).expect("version"),
            source,
            source_id: None,
            checksum: None,
            dependencies: Vec::new(),
            direct: true,
            dev_only: None,
            workspace_member: false,
            lock_line: 1,
        }
    }

    #[test]
    fn purl_percent_encodes_build_metadata_and_names_other_sources() {
        let crates_io = SourceKind::Registry {
            id: CRATES_IO_SOURCE_ID.into(),
            crates_io: true,
        };
        assert_eq!(
            purl(&package("0.11.0+wasi-snapshot-preview1", crates_io.clone())).as_deref(),
            Some("pkg:cargo/wasi@0.11.0%2Bwasi-snapshot-preview1")
        );
        assert_eq!(
            purl(&package("1.0.0-rc.1", crates_io)).as_deref(),
            Some("pkg:cargo/wasi@1.0.0-rc.1")
        );
        let git = SourceKind::Git {
            url: "git+https://example.com/a.git".into(),
            commit: None,
        };
        assert_eq!(
            purl(&package("1.0.0+x", git)).as_deref(),
            Some("pkg:cargo/wasi@1.0.0%2Bx?vcs_url=https%3A%2F%2Fexample%2Ecom%2Fa%2Egit")
        );
        assert_eq!(purl(&package("1.0.0", SourceKind::Path)), None);
    }
}
