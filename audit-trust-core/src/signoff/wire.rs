//! The JSON form of records: one object per line, fields in a fixed order, so files diff well.
//! Reading is strict: an unknown field is malformed (it would not be covered by the signature),
//! and fields that do not belong to the record's kind are refused.

use serde::{Deserialize, Serialize};

use super::record::{
    DeltaBase, RecordId, RepositoryTrust, SourceEvidence, Statement, Subject, VERDICT_MATCHES,
};
use super::{Criterion, PublicKey};
use crate::time::Timestamp;

/// A record line longer than this is malformed: notes are capped at 8 KiB.
pub const MAX_RECORD_LINE_BYTES: usize = 64 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct WireRecord {
    pub format: u64,
    pub id: String,
    pub kind: String,
    pub key: String,
    pub created: String,
    #[serde(rename = "crate", default, skip_serializing_if = "Option::is_none")]
    pub krate: Option<WireCrate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<WireGit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_from: Option<WireDelta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<WireSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revokes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub signature: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireCrate {
    name: String,
    version: String,
    checksum: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireGit {
    name: String,
    version: String,
    repository: String,
    commit: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireDelta {
    version: String,
    checksum: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct WireSource {
    repository: String,
    commit: String,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    git_ref: Option<String>,
    verdict: String,
    repository_trust: String,
}

/// Just the version field, read first so that a future format is reported as such rather than
/// as a malformed record.
#[derive(Deserialize)]
pub(super) struct FormatOnly {
    pub format: u64,
}

pub(super) fn to_wire(
    key: &PublicKey,
    created: Timestamp,
    statement: &Statement,
    id: &RecordId,
    signature: String,
) -> WireRecord {
    let mut wire = WireRecord {
        format: u64::from(super::record::FORMAT_VERSION),
        id: id.to_string(),
        kind: statement.kind().to_owned(),
        key: key.to_string(),
        created: created.to_string(),
        krate: None,
        git: None,
        criteria: None,
        delta_from: None,
        source: None,
        revokes: None,
        reason: None,
        notes: None,
        signature,
    };
    if let Some(subject) = statement.subject() {
        match subject {
            Subject::Crate {
                name,
                version,
                checksum,
            } => {
                wire.krate = Some(WireCrate {
                    name: name.clone(),
                    version: version.to_string(),
                    checksum: checksum.clone(),
                });
            }
            Subject::Git {
                name,
                version,
                repository,
                commit,
            } => {
                wire.git = Some(WireGit {
                    name: name.clone(),
                    version: version.to_string(),
                    repository: repository.clone(),
                    commit: commit.clone(),
                });
            }
        }
    }
    match statement {
        Statement::SignOff {
            criteria,
            delta_from,
            notes,
            source,
            ..
        } => {
            wire.criteria = Some(criteria.iter().map(|c| c.as_str().to_owned()).collect());
            wire.delta_from = delta_from.as_ref().map(|d| WireDelta {
                version: d.version.to_string(),
                checksum: d.checksum.clone(),
            });
            wire.notes = notes.clone();
            wire.source = source.as_ref().map(|s| WireSource {
                repository: s.repository.clone(),
                commit: s.commit.clone(),
                git_ref: s.git_ref.clone(),
                verdict: VERDICT_MATCHES.to_owned(),
                repository_trust: s.repository_trust.as_str().to_owned(),
            });
        }
        Statement::Flag { reason, notes, .. } => {
            wire.reason = Some(reason.clone());
            wire.notes = notes.clone();
        }
        Statement::Revocation { revokes, reason } => {
            wire.revokes = Some(revokes.to_string());
            wire.reason = Some(reason.clone());
        }
    }
    wire
}

/// The statement a wire record carries, refusing fields that do not belong to its kind.
pub(super) fn statement_from_wire(wire: &mut WireRecord) -> Result<Statement, String> {
    let subject = match (wire.krate.take(), wire.git.take()) {
        (Some(c), None) => Some(Subject::Crate {
            name: c.name,
            version: parse_version(&c.version)?,
            checksum: c.checksum,
        }),
        (None, Some(g)) => Some(Subject::Git {
            name: g.name,
            version: parse_version(&g.version)?,
            repository: g.repository,
            commit: g.commit,
        }),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err("a record is about a crate or a git commit, not both".into());
        }
    };
    let kind = wire.kind.clone();
    let statement = match kind.as_str() {
        "sign-off" => {
            let subject = subject.ok_or("a sign-off needs `crate` or `git`")?;
            let criteria = wire
                .criteria
                .take()
                .ok_or("a sign-off needs `criteria`")?
                .iter()
                .map(|c| Criterion::parse(c))
                .collect::<Result<Vec<_>, _>>()?;
            let delta_from = match wire.delta_from.take() {
                Some(d) => Some(DeltaBase {
                    version: parse_version(&d.version)?,
                    checksum: d.checksum,
                }),
                None => None,
            };
            let source = match wire.source.take() {
                Some(s) => Some(evidence_from_wire(s)?),
                None => None,
            };
            Statement::SignOff {
                subject,
                criteria,
                delta_from,
                notes: wire.notes.take(),
                source,
            }
        }
        "flag" => Statement::Flag {
            subject: subject.ok_or("a flag needs `crate` or `git`")?,
            reason: wire.reason.take().ok_or("a flag needs a `reason`")?,
            notes: wire.notes.take(),
        },
        "revocation" => {
            if subject.is_some() {
                return Err("a revocation names a record (`revokes`), not a crate".into());
            }
            let revokes = wire.revokes.take().ok_or("a revocation needs `revokes`")?;
            Statement::Revocation {
                revokes: RecordId::parse(&revokes)?,
                reason: wire.reason.take().ok_or("a revocation needs a `reason`")?,
            }
        }
        other => {
            return Err(format!(
                "unknown kind `{}`",
                other
                    .chars()
                    .take(40)
                    .flat_map(char::escape_default)
                    .collect::<String>()
            ));
        }
    };
    let leftovers = [
        ("criteria", wire.criteria.is_some()),
        ("delta-from", wire.delta_from.is_some()),
        ("source", wire.source.is_some()),
        ("revokes", wire.revokes.is_some()),
        ("reason", wire.reason.is_some()),
        ("notes", wire.notes.is_some()),
    ];
    if let Some((field, _)) = leftovers.iter().find(|(_, present)| *present) {
        return Err(format!("`{field}` does not belong to a {kind}"));
    }
    Ok(statement)
}

fn evidence_from_wire(s: WireSource) -> Result<SourceEvidence, String> {
    if s.verdict != VERDICT_MATCHES {
        return Err(format!(
            "a sign-off's source verdict must be `{VERDICT_MATCHES}`"
        ));
    }
    let repository_trust = RepositoryTrust::parse(&s.repository_trust)
        .ok_or("`repository-trust` is `pinned` or `signed-off`")?;
    Ok(SourceEvidence {
        repository: s.repository,
        commit: s.commit,
        git_ref: s.git_ref,
        repository_trust,
    })
}

/// A version that reads back as the same text (the signed bytes hold the text).
fn parse_version(text: &str) -> Result<semver::Version, String> {
    let version = crate::names::validate_version(text).map_err(|e| e.to_string())?;
    if version.to_string() != text {
        return Err(format!("version `{text}` is not in canonical form"));
    }
    Ok(version)
}
