//! What a record says: a sign-off, a flag or a revocation, by one key. The values here are
//! always valid (names, versions, checksums, sizes); [`super::SignedRecord`] adds the signature.

use std::fmt;

use super::{Criterion, PublicKey};
use crate::lockfile::is_sha256_hex;
use crate::names::{validate_crate_name, validate_version};
use crate::time::Timestamp;

/// The record format this code writes and reads. Another version is refused, never guessed at.
pub const FORMAT_VERSION: u32 = 1;

/// Free text is for people; bounded so that a record stays small.
pub const MAX_NOTES_BYTES: usize = 8 * 1024;
pub const MAX_REASON_BYTES: usize = 2 * 1024;
const MAX_URL_BYTES: usize = 2048;
const MAX_REF_BYTES: usize = 256;
const MAX_CRITERIA: usize = 32;

/// A record's id: the SHA-256 of its signed bytes, so it names exactly one statement.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(pub(super) [u8; 32]);

impl RecordId {
    pub fn parse(text: &str) -> Result<RecordId, String> {
        if !is_sha256_hex(text) {
            return Err("a record id is 64 lowercase hex digits".into());
        }
        let mut bytes = [0u8; 32];
        for (slot, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let hex = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            *slot = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        }
        Ok(RecordId(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::hex(&self.0))
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What a sign-off or flag is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A registry crate version, bound to the SHA-256 of its `.crate` file.
    Crate {
        name: String,
        version: semver::Version,
        checksum: String,
    },
    /// A git dependency, bound to one commit of one repository.
    Git {
        name: String,
        version: semver::Version,
        repository: String,
        commit: String,
    },
}

impl Subject {
    pub fn name(&self) -> &str {
        match self {
            Subject::Crate { name, .. } | Subject::Git { name, .. } => name,
        }
    }

    pub fn version(&self) -> &semver::Version {
        match self {
            Subject::Crate { version, .. } | Subject::Git { version, .. } => version,
        }
    }
}

/// "Reviewed the change from this version": the earlier version and its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaBase {
    pub version: semver::Version,
    pub checksum: String,
}

/// Why a repository was trusted for a `source-matches` check: pinned in `Cargo.audit`, or named
/// by an earlier sign-off. A repository named only by the tarball itself never counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepositoryTrust {
    Pinned,
    SignedOff,
}

impl RepositoryTrust {
    pub fn as_str(self) -> &'static str {
        match self {
            RepositoryTrust::Pinned => "pinned",
            RepositoryTrust::SignedOff => "signed-off",
        }
    }

    pub fn parse(text: &str) -> Option<RepositoryTrust> {
        match text {
            "pinned" => Some(RepositoryTrust::Pinned),
            "signed-off" => Some(RepositoryTrust::SignedOff),
            _ => None,
        }
    }
}

/// The only verdict a positive sign-off may carry.
pub const VERDICT_MATCHES: &str = "matches";

/// What a `source-matches` sign-off was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEvidence {
    pub repository: String,
    pub commit: String,
    /// The tag or branch the commit was found on, e.g. `refs/tags/v1.2.3`.
    pub git_ref: Option<String>,
    pub repository_trust: RepositoryTrust,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    SignOff {
        subject: Subject,
        /// Sorted, without duplicates, never empty.
        criteria: Vec<Criterion>,
        delta_from: Option<DeltaBase>,
        notes: Option<String>,
        /// Present exactly when `criteria` holds `source-matches`.
        source: Option<SourceEvidence>,
    },
    /// A negative sign-off: this version must not be used.
    Flag {
        subject: Subject,
        reason: String,
        notes: Option<String>,
    },
    /// Withdraws an earlier record of the same auditor.
    Revocation { revokes: RecordId, reason: String },
}

impl Statement {
    pub fn kind(&self) -> &'static str {
        match self {
            Statement::SignOff { .. } => "sign-off",
            Statement::Flag { .. } => "flag",
            Statement::Revocation { .. } => "revocation",
        }
    }

    pub fn subject(&self) -> Option<&Subject> {
        match self {
            Statement::SignOff { subject, .. } | Statement::Flag { subject, .. } => Some(subject),
            Statement::Revocation { .. } => None,
        }
    }
}

/// An unsigned record. `created` is informational: it is the signer's claim, and no decision
/// depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: PublicKey,
    pub created: Timestamp,
    pub statement: Statement,
}

impl Record {
    /// Checks every value against the format's rules; the first problem is returned.
    pub fn validate(&self) -> Result<(), String> {
        match &self.statement {
            Statement::SignOff {
                subject,
                criteria,
                delta_from,
                notes,
                source,
            } => {
                validate_subject(subject)?;
                if criteria.is_empty() {
                    return Err("a sign-off needs at least one criterion".into());
                }
                if criteria.len() > MAX_CRITERIA {
                    return Err(format!("more than {MAX_CRITERIA} criteria"));
                }
                if criteria.windows(2).any(|w| w[0] >= w[1]) {
                    return Err("criteria must be sorted and listed once each".into());
                }
                if let Some(base) = delta_from {
                    let Subject::Crate { version, .. } = subject else {
                        return Err("a delta base applies to crate versions only".into());
                    };
                    check_version_text(&base.version)?;
                    check_checksum(&base.checksum)?;
                    if &base.version == version {
                        return Err("a delta base must be another version".into());
                    }
                }
                validate_text("notes", notes.as_deref(), 0, MAX_NOTES_BYTES)?;
                let claims_source = criteria.contains(&Criterion::SourceMatches);
                match (claims_source, source) {
                    (true, Some(evidence)) => validate_evidence(evidence),
                    (true, None) => Err("`source-matches` needs its evidence (`source`)".into()),
                    (false, Some(_)) => {
                        Err("`source` evidence belongs to `source-matches` sign-offs only".into())
                    }
                    (false, None) => Ok(()),
                }
            }
            Statement::Flag {
                subject,
                reason,
                notes,
            } => {
                validate_subject(subject)?;
                validate_text("reason", Some(reason), 1, MAX_REASON_BYTES)?;
                validate_text("notes", notes.as_deref(), 0, MAX_NOTES_BYTES)
            }
            Statement::Revocation { reason, .. } => {
                validate_text("reason", Some(reason), 1, MAX_REASON_BYTES)
            }
        }
    }
}

fn validate_subject(subject: &Subject) -> Result<(), String> {
    validate_crate_name(subject.name()).map_err(|e| e.to_string())?;
    check_version_text(subject.version())?;
    match subject {
        Subject::Crate { checksum, .. } => check_checksum(checksum),
        Subject::Git {
            repository, commit, ..
        } => {
            check_repository(repository)?;
            check_commit(commit)
        }
    }
}

/// A version must read back as the same text, so the signed bytes and the file agree.
fn check_version_text(version: &semver::Version) -> Result<(), String> {
    validate_version(&version.to_string())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn check_checksum(checksum: &str) -> Result<(), String> {
    if is_sha256_hex(checksum) {
        Ok(())
    } else {
        Err("a checksum is the SHA-256 of the .crate file in 64 lowercase hex digits".into())
    }
}

fn check_commit(commit: &str) -> Result<(), String> {
    let hex = commit
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex && (commit.len() == 40 || commit.len() == 64) {
        Ok(())
    } else {
        Err("a commit is a full git object id in lowercase hex (40 or 64 digits)".into())
    }
}

fn check_repository(url: &str) -> Result<(), String> {
    if url.len() <= MAX_URL_BYTES && crate::audit_file::is_supported_repository_url(url) {
        Ok(())
    } else {
        Err("the repository is not an https://, ssh://, git@host:path, file:// URL or an absolute path".into())
    }
}

fn validate_evidence(evidence: &SourceEvidence) -> Result<(), String> {
    check_repository(&evidence.repository)?;
    check_commit(&evidence.commit)?;
    if let Some(git_ref) = &evidence.git_ref {
        let ok = !git_ref.is_empty()
            && git_ref.len() <= MAX_REF_BYTES
            && !git_ref.chars().any(|c| c.is_control() || c.is_whitespace());
        if !ok {
            return Err(
                "the git ref is empty, too long or has spaces or control characters".into(),
            );
        }
    }
    Ok(())
}

fn validate_text(field: &str, text: Option<&str>, min: usize, max: usize) -> Result<(), String> {
    let Some(text) = text else { return Ok(()) };
    if text.len() < min || text.trim().len() < min {
        return Err(format!("`{field}` must not be empty"));
    }
    if text.len() > max {
        return Err(format!("`{field}` is longer than {max} bytes"));
    }
    if text.contains('\0') {
        return Err(format!("`{field}` contains a NUL character"));
    }
    Ok(())
}
