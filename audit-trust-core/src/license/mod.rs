//! The license inventory of one published crate, from its own files: the `license` expression of
//! its normalized `Cargo.toml` (parsed as SPDX), its `license-file`, and the license texts it ships
//! (`LICENSE*`, `COPYING*`, `NOTICE*`, and the `license-file`), each identified by text.
//!
//! Like classification, nothing here touches the filesystem or the network and no input can make
//! it panic: a hostile value becomes a [`LicenseFinding`], never an error that hides the rest.

mod cache;
mod collect;
pub mod expression;
mod matcher;
pub mod policy;
pub mod report;
#[cfg(test)]
mod tests;

pub use cache::LicenseCache;
pub use collect::{LicenseWork, collect_licenses};
pub use expression::{DeclaredExpression, parse_declared};
pub use matcher::{IDENTIFIED_CONFIDENCE, identify_text};

use serde::{Deserialize, Serialize};

use crate::classify::ClassifyError;
use sha2::{Digest, Sha256};

/// A shipped license text larger than this is not read (real ones are under 40 KiB; the GPL-3.0
/// is 35 KiB); it is named in a finding instead.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// What one package says and ships about its license.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageLicense {
    /// The `license` value exactly as written, if any.
    pub declared: Option<String>,
    /// The parsed expression, or why it did not parse.
    pub expression: Option<DeclaredExpression>,
    /// The `license-file` value exactly as written, if any.
    pub license_file: Option<String>,
    /// License texts shipped in the package, sorted by path.
    pub texts: Vec<LicenseText>,
    /// Problems found; see [`LicenseFinding`].
    pub findings: Vec<LicenseFinding>,
    /// The manifest's `repository` (what the publisher claims; the SBOM names it as such).
    #[serde(default)]
    pub repository: Option<String>,
}

/// One license text file in the package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenseText {
    /// Path inside the package, `/`-separated.
    pub path: String,
    /// What kind of file it is: a license, a NOTICE, or the manifest's `license-file`.
    pub kind: TextKind,
    /// Lines of the text (all lines, blank ones included: they ship too).
    pub lines: u64,
    /// SHA-256 of the text with line endings and trailing whitespace normalized: the same text
    /// shipped by two packages has one digest, so a notice file carries it once.
    pub digest: String,
    /// The best-matching SPDX license and the matcher's confidence (0 to 1).
    pub detected: Option<String>,
    pub confidence: f32,
    /// The text itself (`None` when it is binary, too large or not UTF-8: see the findings).
    pub content: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextKind {
    License,
    Notice,
    LicenseFile,
}

/// A problem with what a package declares or ships. Values are shown escaped by the renderers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LicenseFinding {
    /// Neither `license` nor `license-file` is set.
    NoLicense,
    /// `license` is not an SPDX expression, even read leniently.
    Unparseable { expression: String, reason: String },
    /// `license-file` names a path outside the package (absolute, or through `..`).
    LicenseFileEscapes { path: String },
    /// `license-file` names a file the package does not contain.
    LicenseFileMissing { path: String },
    /// A license expression is declared but no license text is shipped.
    NoTexts,
    /// A text could not be read as a license: `reason` is `binary`, `too large` or `not UTF-8`.
    UnreadableText { path: String, reason: String },
    /// A shipped text is clearly a license the expression does not name.
    Mismatch {
        path: String,
        detected: String,
        confidence: f32,
        declared: String,
    },
}

impl LicenseFinding {
    /// One line for people; the caller escapes it.
    pub fn describe(&self) -> String {
        match self {
            LicenseFinding::NoLicense => "no `license` and no `license-file` in Cargo.toml".into(),
            LicenseFinding::Unparseable { expression, reason } => {
                format!("`license = {expression:?}` is not an SPDX expression: {reason}")
            }
            LicenseFinding::LicenseFileEscapes { path } => {
                format!("`license-file = {path:?}` points outside the package")
            }
            LicenseFinding::LicenseFileMissing { path } => {
                format!("`license-file = {path:?}` is not in the package")
            }
            LicenseFinding::NoTexts => "declares a license but ships no license text".into(),
            LicenseFinding::UnreadableText { path, reason } => {
                format!("{path:?} is not a readable license text ({reason})")
            }
            LicenseFinding::Mismatch {
                path,
                detected,
                confidence,
                declared,
            } => format!(
                "{path:?} is the text of {detected} ({:.0}% match), which `{declared}` does not name",
                confidence * 100.0
            ),
        }
    }

    /// Whether this finding means the declared license cannot be trusted as is.
    pub fn is_mismatch(&self) -> bool {
        matches!(self, LicenseFinding::Mismatch { .. })
    }
}

/// Builds the license inventory of a crate from its files: `(path relative to the crate root,
/// '/'-separated, contents)`, reading `license` and `license-file` from its `Cargo.toml`.
pub fn inspect_crate<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<PackageLicense, ClassifyError> {
    let files: Vec<(&str, &[u8])> = files.into_iter().collect();
    let manifest = files
        .iter()
        .find(|(path, _)| path.strip_prefix("./").unwrap_or(path) == "Cargo.toml")
        .map(|(_, bytes)| *bytes)
        .ok_or(ClassifyError::MissingManifest)?;
    let manifest = std::str::from_utf8(manifest).map_err(|_| ClassifyError::ManifestNotUtf8)?;
    let fields = crate::classify::manifest::license_fields(manifest)?;
    let mut license = inspect_files(
        fields.license.as_deref(),
        fields.license_file.as_deref(),
        files,
    );
    license.repository = fields.repository;
    Ok(license)
}

/// [`inspect_crate`] with the manifest's `license` and `license-file` values already read.
pub fn inspect_files<'a>(
    license: Option<&str>,
    license_file: Option<&str>,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> PackageLicense {
    let mut files: Vec<(&str, &[u8])> = files
        .into_iter()
        .map(|(path, bytes)| (path.strip_prefix("./").unwrap_or(path), bytes))
        .collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut findings = Vec::new();
    let expression = license.map(parse_declared);
    if let Some(DeclaredExpression {
        parsed: None,
        note: Some(reason),
        ..
    }) = &expression
    {
        findings.push(LicenseFinding::Unparseable {
            expression: license.unwrap_or_default().to_owned(),
            reason: reason.clone(),
        });
    }
    if license.is_none() && license_file.is_none() {
        findings.push(LicenseFinding::NoLicense);
    }
    let license_file_path = license_file.and_then(|raw| match normalize_inside(raw) {
        Some(path) => Some(path),
        None => {
            findings.push(LicenseFinding::LicenseFileEscapes {
                path: raw.to_owned(),
            });
            None
        }
    });
    if let (Some(raw), Some(path)) = (license_file, &license_file_path)
        && !files.iter().any(|(p, _)| p == path)
    {
        findings.push(LicenseFinding::LicenseFileMissing {
            path: raw.to_owned(),
        });
    }

    let mut texts = Vec::new();
    for (path, bytes) in &files {
        let kind = if license_file_path.as_deref() == Some(*path) {
            TextKind::LicenseFile
        } else {
            match text_kind_by_name(path) {
                Some(kind) => kind,
                None => continue,
            }
        };
        match read_text(bytes) {
            Ok(text) => texts.push(describe_text(path, kind, text)),
            Err(reason) => findings.push(LicenseFinding::UnreadableText {
                path: (*path).to_owned(),
                reason: reason.to_owned(),
            }),
        }
    }
    if license.is_some() && !texts.iter().any(|t| t.kind != TextKind::Notice) {
        findings.push(LicenseFinding::NoTexts);
    }
    if let Some(DeclaredExpression {
        parsed: Some(canonical),
        licenses,
        ..
    }) = &expression
    {
        for text in &texts {
            if text.kind == TextKind::Notice || text.confidence < IDENTIFIED_CONFIDENCE {
                continue;
            }
            let Some(detected) = &text.detected else {
                continue;
            };
            if !licenses.iter().any(|named| same_license(named, detected)) {
                findings.push(LicenseFinding::Mismatch {
                    path: text.path.clone(),
                    detected: detected.clone(),
                    confidence: text.confidence,
                    declared: canonical.clone(),
                });
            }
        }
    }
    PackageLicense {
        declared: license.map(str::to_owned),
        expression,
        license_file: license_file.map(str::to_owned),
        texts,
        findings,
        repository: None,
    }
}

/// `LICENSE*`, `LICENCE*`, `COPYING*`, `UNLICENSE*` and `NOTICE*` at the crate root or in a
/// `license(s)/` folder (case-insensitive), the usual places cargo and the ecosystem put them.
fn text_kind_by_name(path: &str) -> Option<TextKind> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let dir_ok = dir.is_empty()
        || matches!(
            dir.to_ascii_lowercase().as_str(),
            "license" | "licenses" | "licences"
        );
    if !dir_ok {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("NOTICE") {
        return Some(TextKind::Notice);
    }
    let license_like = ["LICENSE", "LICENCE", "COPYING", "UNLICENSE", "COPYRIGHT"]
        .iter()
        .any(|prefix| upper.starts_with(prefix));
    // Inside a licenses folder every file is a license text (`LICENSES/MIT.txt`).
    (license_like || !dir.is_empty()).then_some(TextKind::License)
}

/// A `license-file` value as a path inside the package, or `None` when it leaves it.
fn normalize_inside(raw: &str) -> Option<String> {
    let raw = raw.replace('\\', "/");
    if raw.starts_with('/') || raw.contains(':') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn read_text(bytes: &[u8]) -> Result<&str, &'static str> {
    if bytes.len() > MAX_TEXT_BYTES {
        return Err("too large");
    }
    if bytes.contains(&0) {
        return Err("binary");
    }
    std::str::from_utf8(bytes).map_err(|_| "not UTF-8")
}

fn describe_text(path: &str, kind: TextKind, text: &str) -> LicenseText {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let normalized = normalize_for_digest(text);
    let digest = hex(&Sha256::digest(normalized.as_bytes()));
    let identified = if kind == TextKind::Notice {
        None
    } else {
        matcher::identify_by_digest(&digest, text)
    };
    LicenseText {
        path: path.to_owned(),
        kind,
        lines: text.lines().count() as u64,
        digest,
        detected: identified.as_ref().map(|(id, _)| id.clone()),
        confidence: identified.map_or(0.0, |(_, score)| score),
        content: Some(text.to_owned()),
    }
}

/// Line endings unified, trailing whitespace and surrounding blank lines dropped.
pub fn normalize_for_digest(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n").trim_matches('\n').to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a license named in an expression and a detected text are the same license, ignoring
/// the `-only` / `-or-later` / `+` variants that share one text.
pub fn same_license(named: &str, detected: &str) -> bool {
    fn base(id: &str) -> &str {
        let id = id.trim_end_matches('+');
        id.strip_suffix("-only")
            .or_else(|| id.strip_suffix("-or-later"))
            .unwrap_or(id)
    }
    base(named).eq_ignore_ascii_case(base(detected))
}
