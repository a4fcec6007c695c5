//! `[[import]]`: an external audit set (today cargo-vet's `audits.toml`) whose audits count as
//! unsigned evidence, pinned by content hash in `Cargo.audit.lock` (see [`crate::imports`]).
//!
//! ```toml
//! [[import]]
//! name = "mozilla"
//! url = "https://raw.githubusercontent.com/mozilla/supply-chain/main/audits.toml"
//! format = "cargo-vet"
//! criteria-map = { safe-to-deploy = "reviewed" }   # theirs -> ours; unmapped grant nothing
//! covers = ["*"]                                    # which packages it may vouch for
//! exclude = ["openssl"]                             # optional: crates whose audits are ignored
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::auditor::{CratePattern, check_http_url};
use crate::names::validate_crate_name;
use crate::signoff::Criterion;

const MAX_IMPORT_NAME_LEN: usize = 64;

/// The format of an imported set. Only cargo-vet's today; the key is required so that another
/// format can be added without guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ImportFormat {
    #[serde(rename = "cargo-vet")]
    CargoVet,
}

/// Where an import's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    /// An https URL (plain http only on loopback, as for auditors' records).
    Url(String),
    /// A local file, relative to the folder of `Cargo.audit` unless absolute.
    Path(PathBuf),
}

impl ImportSource {
    /// The file to read, for a local import.
    pub fn local_path(&self, audit_file_dir: &Path) -> Option<PathBuf> {
        match self {
            ImportSource::Path(p) => Some(audit_file_dir.join(p)),
            ImportSource::Url(_) => None,
        }
    }
}

/// One `[[import]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Spanned<RawImport>")]
pub struct Import {
    pub name: String,
    /// The `url` value exactly as written: the lock entry must name the same.
    pub url: String,
    pub source: ImportSource,
    pub format: ImportFormat,
    /// Their criterion -> our criteria. A criterion of theirs that is not a key grants nothing.
    pub criteria_map: BTreeMap<String, Vec<Criterion>>,
    /// When present, only these crates' audits are read.
    pub include: Option<Vec<String>>,
    /// These crates' audits (and violations) are ignored.
    pub exclude: Vec<String>,
    /// The packages this set may vouch for (violations count for every package it names).
    pub covers: Vec<CratePattern>,
    /// Byte range of the table in `Cargo.audit`, for messages.
    pub span: Range<usize>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Criterion),
    Many(Vec<Criterion>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawImport {
    name: String,
    url: String,
    format: ImportFormat,
    criteria_map: BTreeMap<String, OneOrMany>,
    include: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    covers: Vec<CratePattern>,
}

impl TryFrom<Spanned<RawImport>> for Import {
    type Error = String;

    fn try_from(raw: Spanned<RawImport>) -> Result<Import, String> {
        let span = raw.span();
        let raw = raw.into_inner();
        let name_ok = !raw.name.is_empty()
            && raw.name.len() <= MAX_IMPORT_NAME_LEN
            && raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(format!(
                "[[import]] name `{}` must be 1 to {MAX_IMPORT_NAME_LEN} ASCII letters, digits, `-`, `_` or `.`",
                raw.name.escape_default()
            ));
        }
        let name = raw.name;
        let source = parse_source(&raw.url).map_err(|e| format!("[[import]] `{name}`: {e}"))?;
        if raw.covers.is_empty() {
            return Err(format!(
                "[[import]] `{name}` covers no package: add patterns such as `covers = [\"*\"]`"
            ));
        }
        let mut criteria_map = BTreeMap::new();
        for (theirs, ours) in raw.criteria_map {
            let ours = match ours {
                OneOrMany::One(c) => vec![c],
                OneOrMany::Many(list) => list,
            };
            if theirs.is_empty() || theirs.len() > 64 || theirs.chars().any(char::is_control) {
                return Err(format!(
                    "[[import]] `{name}`: criteria-map key `{}` is not a criterion name",
                    theirs.escape_default()
                ));
            }
            criteria_map.insert(theirs, ours);
        }
        for crate_name in raw.include.iter().flatten().chain(&raw.exclude) {
            validate_crate_name(crate_name)
                .map_err(|e| format!("[[import]] `{name}` include/exclude: {e}"))?;
        }
        Ok(Import {
            name,
            url: raw.url,
            source,
            format: raw.format,
            criteria_map,
            include: raw.include,
            exclude: raw.exclude,
            covers: raw.covers,
            span,
        })
    }
}

fn parse_source(url: &str) -> Result<ImportSource, String> {
    if url.contains("://") {
        check_http_url(url)?;
        return Ok(ImportSource::Url(url.to_owned()));
    }
    if url.trim().is_empty() || url.chars().any(char::is_control) {
        return Err(format!(
            "url `{}` is neither an https:// URL nor a file path",
            url.escape_default()
        ));
    }
    Ok(ImportSource::Path(PathBuf::from(url)))
}

impl Import {
    /// Whether the set's audits of `crate_name` are read at all (`include` / `exclude`).
    pub fn reads(&self, crate_name: &str) -> bool {
        !self.exclude.iter().any(|x| x == crate_name)
            && self
                .include
                .as_ref()
                .is_none_or(|list| list.iter().any(|x| x == crate_name))
    }

    /// Whether the set may vouch for `crate_name`: read, and matched by `covers`.
    pub fn covers(&self, crate_name: &str) -> bool {
        self.reads(crate_name) && self.covers.iter().any(|p| p.matches(crate_name))
    }
}

/// Checks across entries: unique names, distinct from auditors' (evidence is labelled by either),
/// and a criteria map that names only criteria this file knows. Returns the offending span.
pub(super) fn check_imports(
    imports: &[Import],
    auditor_names: &[&str],
    custom: &BTreeMap<String, super::CustomCriterion>,
) -> Result<(), (Range<usize>, String)> {
    for (i, import) in imports.iter().enumerate() {
        if imports[..i].iter().any(|other| other.name == import.name) {
            return Err((
                import.span.clone(),
                format!("there are two imports named `{}`", import.name),
            ));
        }
        if auditor_names.contains(&import.name.as_str()) {
            return Err((
                import.span.clone(),
                format!(
                    "`{}` names both an auditor and an import: give the import another name",
                    import.name
                ),
            ));
        }
        for (theirs, ours) in &import.criteria_map {
            for c in ours {
                if let Criterion::Custom(n) = c
                    && !custom.contains_key(n)
                {
                    return Err((
                        import.span.clone(),
                        format!(
                            "[[import]] `{}` maps `{theirs}` to `{n}`, which is not defined; add a \
                             `[criteria.{n}]` table or map it to `reviewed` or `source-matches`",
                            import.name
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::audit_file::AuditFile;

    fn parse(text: &str) -> Result<AuditFile, String> {
        AuditFile::parse(text, Path::new("Cargo.audit")).map_err(|e| e.to_string())
    }

    fn import(extra: &str) -> String {
        format!(
            "[[import]]\nname = \"moz\"\nurl = \"https://example.com/audits.toml\"\n\
             format = \"cargo-vet\"\ncriteria-map = {{ safe-to-deploy = \"reviewed\" }}\n\
             covers = [\"*\"]\n{extra}"
        )
    }

    #[test]
    fn reads_an_import() {
        let f = parse(&import("include = [\"serde\"]\nexclude = [\"openssl\"]\n")).expect("valid");
        let i = &f.imports[0];
        assert_eq!(i.name, "moz");
        assert_eq!(
            i.source,
            super::ImportSource::Url("https://example.com/audits.toml".into())
        );
        assert!(i.covers("serde") && !i.covers("tokio") && !i.reads("openssl"));
        assert_eq!(
            i.criteria_map["safe-to-deploy"],
            [crate::signoff::Criterion::Reviewed]
        );
        let local =
            parse(&import("").replace("https://example.com/audits.toml", "vet/audits.toml"))
                .expect("a local path");
        assert_eq!(
            local.imports[0].source.local_path(Path::new("/p")),
            Some(Path::new("/p/vet/audits.toml").to_path_buf())
        );
    }

    #[test]
    fn bad_imports_are_errors_at_their_place() {
        let cases = [
            (
                import("colour = 1\n"),
                "Cargo.audit:7:1: unknown field `colour`",
            ),
            (
                import("").replace("cargo-vet", "crev"),
                "Cargo.audit:4:10: unknown variant `crev`",
            ),
            (
                import("").replace("https://example.com/audits.toml", "http://example.com/a"),
                "is not an https:// URL",
            ),
            (
                import("").replace("\"reviewed\"", "\"deployable\""),
                "Cargo.audit:1:1: [[import]] `moz` maps `safe-to-deploy` to `deployable`, which is not defined",
            ),
            (import("").replace("[\"*\"]", "[]"), "covers no package"),
            (import("exclude = [\"../x\"]\n"), "include/exclude"),
            (
                format!("{}\n{}", import(""), import("")),
                "two imports named `moz`",
            ),
            (
                import("").replace("criteria-map = { safe-to-deploy = \"reviewed\" }\n", ""),
                "missing field `criteria-map`",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(&text);
            assert!(
                err.contains(expected),
                "{text}\n=> {err}\nexpected {expected}"
            );
        }
        let clash = format!(
            "[[auditor]]\nname = \"moz\"\ncovers = [\"*\"]\nrecords = {{ folder = \"s\" }}\n\
             keys = [{{ key = \"ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\" }}]\n\n{}",
            import("")
        );
        let err = parse(&clash).expect_err("clash");
        assert!(err.contains("names both an auditor and an import"), "{err}");
        let err = parse("[policy]\nimports-not-allowed = [\"a b\"]\n").expect_err("pattern");
        assert!(err.starts_with("Cargo.audit:2:"), "{err}");
        let f = parse("[criteria.x]\ndescription = \"d\"\nimports-allowed = false\n").expect("ok");
        assert!(!f.criteria["x"].allows_imports());
    }
}
