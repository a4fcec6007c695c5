//! cargo-vet's `audits.toml`, as another project publishes it for import: `[criteria.X]` with
//! `implies`, `[[audits.NAME]]` (full, delta or violation), `[[trusted.NAME]]` and
//! `[[wildcard-audits.NAME]]`.
//!
//! Tolerant where cargo-vet is (unknown top-level tables, `who` and `notes` of any shape it
//! accepts, audits of git revisions, which are not importable), strict where trust changes: a
//! file that is not TOML, a table of the wrong shape, or a violation that cannot be read is an
//! error with its line and column. A positive entry that cannot be read is skipped with a note:
//! leaving it out can only vouch for less.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::audit_file::line_and_column;
use crate::time::Date;

/// Bounds hostile input; the largest public set has about 6,000 audits.
pub const MAX_ENTRIES: usize = 200_000;

/// One parsed set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSet {
    /// Their criteria and what each implies (their names).
    pub criteria: BTreeMap<String, Vec<String>>,
    pub audits: BTreeMap<String, Vec<VetAudit>>,
    pub trusted: BTreeMap<String, Vec<PublisherEntry>>,
    pub wildcard: BTreeMap<String, Vec<PublisherEntry>>,
    /// Entries skipped, in plain words with their line.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VetAudit {
    pub who: Vec<String>,
    /// Their criteria names.
    pub criteria: Vec<String>,
    pub kind: VetKind,
    pub notes: Option<String>,
    /// 1-based line in the set.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VetKind {
    Full(semver::Version),
    Delta {
        from: semver::Version,
        to: semver::Version,
    },
    Violation(semver::VersionReq),
}

/// Who a `trusted` or `wildcard-audits` entry vouches for the releases of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Publisher {
    /// A crates.io user id.
    UserId(u64),
    /// A trusted-publishing identity such as `github:owner/repo`.
    TrustedPublisher(String),
}

/// A `[[trusted.NAME]]` or `[[wildcard-audits.NAME]]` entry: versions published by `publisher`
/// between `start` and `end` (inclusive) meet `criteria`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherEntry {
    pub criteria: Vec<String>,
    pub publisher: Publisher,
    pub start: Date,
    pub end: Date,
    pub notes: Option<String>,
    pub line: usize,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    criteria: BTreeMap<String, Spanned<toml::Table>>,
    #[serde(default)]
    audits: BTreeMap<String, Vec<Spanned<toml::Table>>>,
    #[serde(default)]
    trusted: BTreeMap<String, Vec<Spanned<toml::Table>>>,
    #[serde(default, rename = "wildcard-audits")]
    wildcard_audits: BTreeMap<String, Vec<Spanned<toml::Table>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrVec {
    One(String),
    Many(Vec<String>),
}

impl StrOrVec {
    fn into_vec(self) -> Vec<String> {
        match self {
            StrOrVec::One(s) => vec![s],
            StrOrVec::Many(v) => v,
        }
    }
}

fn list(v: Option<StrOrVec>) -> Vec<String> {
    v.map(StrOrVec::into_vec).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawCriterion {
    description: Option<String>,
    #[serde(rename = "description-url")]
    description_url: Option<String>,
    implies: Option<StrOrVec>,
    #[serde(rename = "aggregated-from")]
    aggregated_from: Option<StrOrVec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAudit {
    who: Option<StrOrVec>,
    criteria: Option<StrOrVec>,
    version: Option<String>,
    delta: Option<String>,
    violation: Option<String>,
    importable: Option<bool>,
    notes: Option<String>,
    #[allow(dead_code)]
    aggregated_from: Option<StrOrVec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPublisherEntry {
    #[allow(dead_code)]
    who: Option<StrOrVec>,
    criteria: Option<StrOrVec>,
    user_id: Option<u64>,
    trusted_publisher: Option<String>,
    start: toml::Value,
    end: toml::Value,
    #[allow(dead_code)]
    renew: Option<bool>,
    notes: Option<String>,
    #[allow(dead_code)]
    aggregated_from: Option<StrOrVec>,
}

/// Byte offsets of line starts, so each entry's line is a binary search, not a scan of the
/// whole text (sets have thousands of entries).
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts)
    }

    /// 1-based line of `offset`.
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// Parses a set's text. `Err(message)` starts with `line:column: ` when it has a place.
pub fn parse(text: &str) -> Result<AuditSet, String> {
    let lines = Lines::new(text);
    let at = |offset: usize| {
        let (l, c) = line_and_column(text, offset);
        format!("{l}:{c}")
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => format!("{}: {}", at(span.start), e.message()),
        None => e.message().to_owned(),
    })?;
    let total = raw.audits.values().map(Vec::len).sum::<usize>()
        + raw.trusted.values().map(Vec::len).sum::<usize>()
        + raw.wildcard_audits.values().map(Vec::len).sum::<usize>();
    if total > MAX_ENTRIES {
        return Err(format!(
            "{total} entries: more than the {MAX_ENTRIES} this tool reads"
        ));
    }
    let mut set = AuditSet::default();
    for (name, table) in raw.criteria {
        let offset = table.span().start;
        let c: RawCriterion = toml::Value::Table(table.into_inner())
            .try_into()
            .map_err(|e| format!("{}: [criteria.{name}]: {}", at(offset), e.message()))?;
        set.criteria.insert(name, list(c.implies));
    }
    for (crate_name, entries) in raw.audits {
        for entry in entries {
            let offset = entry.span().start;
            let line = lines.line(offset);
            let has_violation = entry.get_ref().contains_key("violation");
            match audit_entry(entry.into_inner(), line) {
                Ok(Some(audit)) => set
                    .audits
                    .entry(crate_name.clone())
                    .or_default()
                    .push(audit),
                Ok(None) => {}
                // A violation that cannot be read could be one that blocks: never skipped.
                Err(e) if has_violation => {
                    return Err(format!("{}: [[audits.{crate_name}]]: {e}", at(offset)));
                }
                Err(e) => set.notes.push(format!(
                    "line {line}: an audit of `{crate_name}` was skipped: {e}"
                )),
            }
        }
    }
    for (kind, source, target) in [
        ("trusted", raw.trusted, &mut set.trusted),
        ("wildcard-audits", raw.wildcard_audits, &mut set.wildcard),
    ] {
        for (crate_name, entries) in source {
            for entry in entries {
                let line = lines.line(entry.span().start);
                match publisher_entry(entry.into_inner(), line) {
                    Ok(e) => target.entry(crate_name.clone()).or_default().push(e),
                    Err(e) => set.notes.push(format!(
                        "line {line}: a `{kind}` entry of `{crate_name}` was skipped: {e}"
                    )),
                }
            }
        }
    }
    Ok(set)
}

fn audit_entry(table: toml::Table, line: usize) -> Result<Option<VetAudit>, String> {
    let raw: RawAudit = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    let criteria = list(raw.criteria);
    if criteria.is_empty() {
        return Err("it names no criteria".into());
    }
    let kind = match (raw.version, raw.delta, raw.violation) {
        (Some(v), None, None) => match version(&v)? {
            Some(v) => VetKind::Full(v),
            None => return Ok(None),
        },
        (None, Some(d), None) => {
            let Some((from, to)) = d.split_once("->") else {
                return Err(format!(
                    "delta `{}` is not `FROM -> TO`",
                    d.escape_default()
                ));
            };
            match (version(from)?, version(to)?) {
                (Some(from), Some(to)) => VetKind::Delta { from, to },
                _ => return Ok(None),
            }
        }
        (None, None, Some(req)) => VetKind::Violation(
            semver::VersionReq::parse(req.trim())
                .map_err(|e| format!("violation `{}`: {e}", req.escape_default()))?,
        ),
        _ => return Err("it needs exactly one of `version`, `delta` or `violation`".into()),
    };
    // `importable = false` marks audits the publisher does not share; violations always are.
    if raw.importable == Some(false) && !matches!(kind, VetKind::Violation(_)) {
        return Ok(None);
    }
    Ok(Some(VetAudit {
        who: list(raw.who),
        criteria,
        kind,
        notes: raw.notes,
        line,
    }))
}

/// A version; `None` for an audit of a git revision (`1.0.0@git:…`), which cargo-vet never
/// imports.
fn version(text: &str) -> Result<Option<semver::Version>, String> {
    let text = text.trim();
    if text.contains("@git:") {
        return Ok(None);
    }
    semver::Version::parse(text)
        .map(Some)
        .map_err(|e| format!("`{}` is not a version: {e}", text.escape_default()))
}

fn publisher_entry(table: toml::Table, line: usize) -> Result<PublisherEntry, String> {
    let raw: RawPublisherEntry = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    let criteria = list(raw.criteria);
    if criteria.is_empty() {
        return Err("it names no criteria".into());
    }
    let publisher = match (raw.user_id, raw.trusted_publisher) {
        (Some(id), None) => Publisher::UserId(id),
        (None, Some(p)) if !p.is_empty() && p.len() <= 200 => Publisher::TrustedPublisher(p),
        _ => return Err("it needs exactly one of `user-id` or `trusted-publisher`".into()),
    };
    let (start, end) = (date(&raw.start)?, date(&raw.end)?);
    Ok(PublisherEntry {
        criteria,
        publisher,
        start,
        end,
        notes: raw.notes,
        line,
    })
}

fn date(value: &toml::Value) -> Result<Date, String> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => return Err(format!("`{other}` is not a date")),
    };
    Date::parse(&text).ok_or_else(|| format!("`{}` is not a date", text.escape_default()))
}

/// Every criterion of theirs that `criteria` stands for, through the set's own `implies`.
pub fn closure(set: &AuditSet, criteria: &[String]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut stack: Vec<&str> = criteria.iter().map(String::as_str).collect();
    // cargo-vet's built-in pair: safe-to-deploy implies safe-to-run.
    while let Some(c) = stack.pop() {
        if !out.insert(c.to_owned()) {
            continue;
        }
        if c == "safe-to-deploy" {
            stack.push("safe-to-run");
        }
        if let Some(implied) = set.criteria.get(c) {
            stack.extend(implied.iter().map(String::as_str));
        }
    }
    out
}
