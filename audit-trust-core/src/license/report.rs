//! The value `licenses` renders (its JSON output is these structs): one row per registry package,
//! the distinct texts attribution needs, and what micro-dependencies cost in license text.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{LicenseFinding, PackageLicense, TextKind};
use crate::inventory::Inventory;
use crate::report::InventoryReport;

/// One registry package's license facts next to its size.
#[derive(Debug, Clone, Serialize)]
pub struct LicenseRow {
    pub name: String,
    pub version: String,
    pub checksum: Option<String>,
    pub declared: Option<String>,
    /// The canonical SPDX expression, when `declared` parsed.
    pub expression: Option<String>,
    /// The licenses the expression names.
    pub licenses: Vec<String>,
    /// How a non-standard `license` was read, or why it did not parse.
    pub note: Option<String>,
    pub license_file: Option<String>,
    pub texts: Vec<TextRef>,
    /// Lines of all license and notice texts the package ships.
    pub license_lines: u64,
    pub code_lines: Option<u64>,
    pub micro: Option<bool>,
    pub direct: bool,
    pub dev_only: Option<bool>,
    pub findings: Vec<LicenseFinding>,
}

impl LicenseRow {
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// License text longer than the code: the micro-dependency cost in one flag.
    pub fn license_longer_than_code(&self) -> bool {
        self.code_lines
            .is_some_and(|code| self.license_lines > code)
    }
}

/// A shipped text, without its content (that is in [`DistinctText`], once).
#[derive(Debug, Clone, Serialize)]
pub struct TextRef {
    pub path: String,
    pub kind: TextKind,
    pub lines: u64,
    pub digest: String,
    pub detected: Option<String>,
    pub confidence: f32,
}

/// One distinct license or notice text and every package whose attribution needs it.
#[derive(Debug, Clone, Serialize)]
pub struct DistinctText {
    pub digest: String,
    pub kind: TextKind,
    pub detected: Option<String>,
    pub confidence: f32,
    pub lines: u64,
    /// `name@version`, sorted.
    pub packages: Vec<String>,
    pub content: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LicenseCount {
    pub license: String,
    pub packages: usize,
}

/// What micro packages cost in license text.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MicroCost {
    pub micro_packages: usize,
    /// Micro packages whose license texts are longer than their code, `name@version`.
    pub license_longer_than_code: Vec<String>,
    /// Lines of license text the micro packages ship, summed per package.
    pub micro_license_lines: u64,
    /// Lines of the distinct texts that only micro packages need: what a notice file would lose
    /// without them.
    pub micro_only_text_lines: u64,
    /// Lines of code of the micro packages, for scale.
    pub micro_code_lines: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LicenseReport {
    pub micro_lines: u64,
    pub packages: usize,
    /// Each license named in an expression, with how many packages name it.
    pub by_license: Vec<LicenseCount>,
    /// Each declared expression, with how many packages declare it.
    pub by_expression: Vec<LicenseCount>,
    pub with_findings: usize,
    pub micro_cost: MicroCost,
    pub rows: Vec<LicenseRow>,
    pub texts: Vec<DistinctText>,
}

/// Rows for every registry package (`licenses` indexed like `inventory.packages`), sorted by name
/// and version like the classification report they take sizes from.
pub fn license_rows(
    inventory: &Inventory,
    licenses: &[Option<PackageLicense>],
    sizes: &InventoryReport,
) -> Vec<LicenseRow> {
    let by_spec: HashMap<(&str, String, Option<&str>), _> = sizes
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
    let mut rows = Vec::new();
    for (package, license) in inventory.packages.iter().zip(licenses) {
        let Some(license) = license else { continue };
        let version = package.version.to_string();
        let size = by_spec.get(&(
            package.name.as_str(),
            version.clone(),
            package.source_id.as_deref(),
        ));
        let expression = license.expression.as_ref();
        rows.push(LicenseRow {
            name: package.name.clone(),
            version: version.clone(),
            checksum: package.checksum.clone(),
            declared: license.declared.clone(),
            expression: expression.and_then(|e| e.parsed.clone()),
            licenses: expression.map(|e| e.licenses.clone()).unwrap_or_default(),
            note: expression.and_then(|e| e.note.clone()),
            license_file: license.license_file.clone(),
            texts: license
                .texts
                .iter()
                .map(|t| TextRef {
                    path: t.path.clone(),
                    kind: t.kind,
                    lines: t.lines,
                    digest: t.digest.clone(),
                    detected: t.detected.clone(),
                    confidence: t.confidence,
                })
                .collect(),
            license_lines: license.texts.iter().map(|t| t.lines).sum(),
            code_lines: size.and_then(|s| s.code_lines),
            micro: size.and_then(|s| s.micro),
            direct: package.direct,
            dev_only: package.dev_only,
            findings: license.findings.clone(),
        });
    }
    rows.sort_by(|a, b| (a.name.as_str(), &a.version).cmp(&(b.name.as_str(), &b.version)));
    rows
}

impl LicenseReport {
    /// The summary over `rows` (already filtered by the caller). `contents` gives each text's
    /// content by digest; `packages` are the inventories the rows came from.
    pub fn build(rows: Vec<LicenseRow>, packages: &[&PackageLicense], micro_lines: u64) -> Self {
        let mut contents: HashMap<&str, &str> = HashMap::new();
        for license in packages {
            for text in &license.texts {
                if let Some(content) = &text.content {
                    contents.entry(text.digest.as_str()).or_insert(content);
                }
            }
        }
        let mut by_license: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_expression: BTreeMap<String, usize> = BTreeMap::new();
        let mut texts: BTreeMap<&str, DistinctText> = BTreeMap::new();
        let mut text_users: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
        let mut micro_cost = MicroCost::default();
        for row in &rows {
            for license in &row.licenses {
                *by_license.entry(license).or_default() += 1;
            }
            let expression = row
                .expression
                .clone()
                .or_else(|| row.declared.clone())
                .unwrap_or_else(|| "(none)".to_owned());
            *by_expression.entry(expression).or_default() += 1;
            let micro = row.micro == Some(true);
            if micro {
                micro_cost.micro_packages += 1;
                micro_cost.micro_license_lines += row.license_lines;
                micro_cost.micro_code_lines += row.code_lines.unwrap_or(0);
                if row.license_longer_than_code() {
                    micro_cost.license_longer_than_code.push(row.spec());
                }
            }
            for text in &row.texts {
                let Some(content) = contents.get(text.digest.as_str()) else {
                    continue;
                };
                let entry = texts.entry(&text.digest).or_insert_with(|| DistinctText {
                    digest: text.digest.clone(),
                    kind: text.kind,
                    detected: text.detected.clone(),
                    confidence: text.confidence,
                    lines: text.lines,
                    packages: Vec::new(),
                    content: (*content).to_owned(),
                });
                let spec = row.spec();
                if !entry.packages.contains(&spec) {
                    entry.packages.push(spec);
                }
                let users = text_users.entry(&text.digest).or_default();
                users.0 |= micro;
                users.1 |= !micro;
            }
        }
        micro_cost.micro_only_text_lines = text_users
            .iter()
            .filter(|(_, (micro, other))| *micro && !*other)
            .filter_map(|(digest, _)| texts.get(digest).map(|t| t.lines))
            .sum();
        let mut texts: Vec<DistinctText> = texts.into_values().collect();
        for text in &mut texts {
            text.packages.sort();
        }
        // Most-needed first: that is the order a reader of the notice file expects.
        texts.sort_by(|a, b| {
            (b.packages.len(), &a.detected, &a.digest).cmp(&(
                a.packages.len(),
                &b.detected,
                &b.digest,
            ))
        });
        LicenseReport {
            micro_lines,
            packages: rows.len(),
            by_license: counts(by_license.into_iter().map(|(k, v)| (k.to_owned(), v))),
            by_expression: counts(by_expression),
            with_findings: rows.iter().filter(|r| !r.findings.is_empty()).count(),
            micro_cost,
            rows,
            texts,
        }
    }
}

fn counts(entries: impl IntoIterator<Item = (String, usize)>) -> Vec<LicenseCount> {
    let mut counts: Vec<LicenseCount> = entries
        .into_iter()
        .map(|(license, packages)| LicenseCount { license, packages })
        .collect();
    counts.sort_by(|a, b| b.packages.cmp(&a.packages).then(a.license.cmp(&b.license)));
    counts
}

/// A third-party notice file: every text once, most-needed first, each with the packages it
/// covers. Plain text, ready to ship.
pub fn notice_file(report: &LicenseReport) -> String {
    let mut out = String::from("THIRD-PARTY SOFTWARE NOTICES\n\n");
    out.push_str(&format!(
        "This software includes {} third-party packages. Their license and notice texts follow, \
         each once, with the packages it applies to.\n",
        report.packages
    ));
    for text in &report.texts {
        out.push('\n');
        out.push_str(&"=".repeat(78));
        out.push('\n');
        let title = match (text.kind, &text.detected) {
            (TextKind::Notice, _) => "NOTICE".to_owned(),
            (_, Some(id)) if text.confidence >= super::IDENTIFIED_CONFIDENCE => id.clone(),
            _ => "License text".to_owned(),
        };
        out.push_str(&format!("{title}, used by:\n"));
        for package in &text.packages {
            out.push_str(&format!("  {package}\n"));
        }
        out.push_str(&"-".repeat(78));
        out.push_str("\n\n");
        out.push_str(text.content.trim_end());
        out.push('\n');
    }
    out
}
