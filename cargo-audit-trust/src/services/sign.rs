//! Making, signing and appending one record (a sign-off or a flag) for the auditor in
//! `Cargo.audit` that pins the signing key. The record is bound to the SHA-256 of the exact
//! crate file that was read, which must be the one the registry index states. Shared by `sign`
//! and the review UI; prints nothing.

use std::path::{Path, PathBuf};

use audit_trust_core::inventory::{CRATES_IO_SOURCE_ID, SourceKind};
use audit_trust_core::lockfile::LockedPackage;
use audit_trust_core::names::{validate_crate_name, validate_version};
use audit_trust_core::provenance::{FetchLimits, GitCache};
use audit_trust_core::signoff::{
    Criterion, Record, SignedRecord, SourceEvidence, SourceMatchesRequest, Statement, Subject,
    VerifiedCrate, source_matches_evidence, verified_crate,
};

use super::crate_store;
use super::provenance::trusted_repositories;
use super::signing::Signer;
use crate::error::CliError;
use crate::project::{InventoryNeed, Project};
use crate::settings::Settings;

/// A sign-off or a flag, as the user asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    pub name: String,
    pub version: String,
    /// `reviewed`, `source-matches` or custom criteria; empty for a flag.
    pub criteria: Vec<String>,
    /// A delta sign-off: the change from this earlier version was reviewed.
    pub delta_from: Option<String>,
    pub notes: Option<String>,
    /// `Some(reason)`: a flag instead of a sign-off.
    pub flag: Option<String>,
}

impl SignRequest {
    /// What the request asks, in words (the review UI's confirmation).
    pub fn describe(&self) -> String {
        match &self.flag {
            Some(reason) => format!("Flag {} {}: {reason}", self.name, self.version),
            None => {
                let delta = self
                    .delta_from
                    .as_ref()
                    .map(|b| format!(" (the change from {b})"))
                    .unwrap_or_default();
                format!(
                    "Sign off {} {}{delta} as {}",
                    self.name,
                    self.version,
                    self.criteria.join(", ")
                )
            }
        }
    }
}

/// What [`sign_record`] appended, for the caller to show.
#[derive(Debug, Clone)]
pub struct SignedOutcome {
    pub id: String,
    pub kind: &'static str,
    pub auditor: String,
    pub checksum: String,
    pub criteria: Vec<String>,
    pub flagged: bool,
    /// A git dependency: `checksum` holds the commit id.
    pub git: bool,
    pub file: PathBuf,
    pub head_sequence: u64,
    pub head_expires: String,
    pub public_key: String,
    /// Things worth knowing that did not stop the record (not covered, yanked).
    pub notes: Vec<String>,
}

impl SignedOutcome {
    /// "Signed off (reviewed) leafy@1.0.0 as auditor `team`" or "Flagged leafy@1.0.0 as …".
    pub fn summary(&self, name: &str, version: &str) -> String {
        let what = if self.flagged {
            "Flagged".to_owned()
        } else {
            format!("Signed off ({})", self.criteria.join(", "))
        };
        format!("{what} {name}@{version} as auditor `{}`", self.auditor)
    }
}

/// Makes, signs with `key` (see [`super::signing::load_signing_key`]) and appends the record
/// `args` describes, in the project `settings` find.
pub fn sign_record(
    settings: &Settings,
    args: &SignRequest,
    key: Option<&Path>,
) -> Result<SignedOutcome, CliError> {
    let usage = |m: String| CliError::Usage(m);
    validate_crate_name(&args.name).map_err(|e| usage(e.to_string()))?;
    let version = validate_version(&args.version).map_err(|e| usage(e.to_string()))?;
    let project = Project::open(settings, InventoryNeed::None)?;
    let signer = Signer::for_project(&project, key)?;
    let (auditor, pin, now, public) = (signer.auditor, signer.pin, signer.now, signer.public());
    let criteria = parse_criteria(&args.criteria)?;
    // A custom criterion nobody defined is a typo, and would never satisfy a policy.
    if let Some(undefined) = criteria.iter().find(
        |c| matches!(c, Criterion::Custom(name) if !project.audit_file.criteria.contains_key(name)),
    ) {
        return Err(usage(format!(
            "`{undefined}` is not a criterion of {}: define it under `[criteria.{undefined}]`",
            project.audit_file_name()
        )));
    }
    if let Some(denied) = criteria.iter().find(|c| !pin.may_assert(c)) {
        return Err(usage(format!(
            "your key may not assert `{denied}` (its `criteria` in {})",
            project.audit_file_name()
        )));
    }
    let mut notes = Vec::new();
    if !auditor.covers(&args.name) {
        notes.push(format!(
            "auditor `{}` does not cover `{}` in Cargo.audit, so this record will not count for it",
            auditor.name, args.name
        ));
    }

    let (subject, krate) = match locked_git(&project, &args.name, &version)? {
        Some(subject) => {
            // A git dependency has no crate file: the commit id is what binds the record to
            // the reviewed content, and there is no published tarball to compare with git.
            if criteria.contains(&Criterion::SourceMatches) {
                return Err(usage(format!(
                    "{}@{version} is a git dependency: `source-matches` compares a published \
                     crate with git, and this one is git already; sign it `reviewed`",
                    args.name
                )));
            }
            if args.delta_from.is_some() {
                return Err(usage(format!(
                    "{}@{version} is a git dependency: --delta-from names a published version; \
                     review the whole commit instead",
                    args.name
                )));
            }
            (subject, None)
        }
        None => {
            let (source, locked_checksum) = locked_source(&project, &args.name, &version)?;
            let crates = crate_store(&project)?;
            let krate = verified_crate(
                &crates,
                &args.name,
                &version,
                &source,
                locked_checksum.as_deref(),
                &settings.progress(),
            )?;
            if krate.yanked {
                notes.push(format!("{}@{version} is yanked in its registry", args.name));
            }
            (krate.subject.clone(), Some(krate))
        }
    };

    let statement = match &args.flag {
        Some(reason) => Statement::Flag {
            subject: subject.clone(),
            reason: reason.clone(),
            notes: args.notes.clone(),
        },
        None => {
            let delta_from = match (&args.delta_from, &krate) {
                (Some(old), Some(krate)) => {
                    let old = validate_version(old).map_err(|e| usage(e.to_string()))?;
                    Some(krate.delta_base(&old)?)
                }
                _ => None,
            };
            let source = match &krate {
                Some(krate) if criteria.contains(&Criterion::SourceMatches) => {
                    Some(source_evidence(&project, krate, &args.name, &version)?)
                }
                _ => None,
            };
            Statement::SignOff {
                subject: subject.clone(),
                criteria: criteria.clone(),
                delta_from,
                notes: args.notes.clone(),
                source,
            }
        }
    };
    let record = Record {
        key: public,
        created: now,
        statement,
    };
    let signed = SignedRecord::sign(record, &signer.loaded.key)
        .map_err(|m| usage(format!("cannot sign {}@{version}: {m}", args.name)))?;
    let head = signer.append(std::slice::from_ref(&signed))?;
    let file = signer.store.crate_file(&args.name)?;
    let checksum = match &subject {
        Subject::Crate { checksum, .. } => checksum.clone(),
        Subject::Git { commit, .. } => commit.clone(),
    };
    Ok(SignedOutcome {
        id: signed.id().to_string(),
        kind: signed.record().statement.kind(),
        auditor: auditor.name.clone(),
        checksum,
        criteria: criteria.iter().map(|c| c.as_str().to_owned()).collect(),
        flagged: args.flag.is_some(),
        git: matches!(subject, Subject::Git { .. }),
        file,
        head_sequence: head.head().sequence,
        head_expires: head.head().expires.to_string(),
        public_key: public.to_string(),
        notes,
    })
}

/// Criteria as given, parsed, sorted and without duplicates.
fn parse_criteria(given: &[String]) -> Result<Vec<Criterion>, CliError> {
    let mut criteria = given
        .iter()
        .map(|c| Criterion::parse(c.trim()).map_err(CliError::Usage))
        .collect::<Result<Vec<_>, _>>()?;
    criteria.sort();
    criteria.dedup();
    Ok(criteria)
}

/// The subject of a git dependency: when the lockfile has `name version` only from git (not
/// from a registry), its repository (without `?branch=`/`?rev=`) and the full commit id.
fn locked_git(
    project: &Project,
    name: &str,
    version: &semver::Version,
) -> Result<Option<Subject>, CliError> {
    let Some(lockfile) = project.lockfile()? else {
        return Ok(None);
    };
    let same = |p: &&LockedPackage| p.name == name && &p.version == version;
    if lockfile
        .packages
        .iter()
        .filter(same)
        .any(|p| SourceKind::from_source_id(p.source.as_deref()).is_registry())
    {
        return Ok(None);
    }
    for p in lockfile.packages.iter().filter(same) {
        if let SourceKind::Git { url, commit } = SourceKind::from_source_id(p.source.as_deref()) {
            let commit = commit
                .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "{}:{}: {name}@{version} comes from git without a full commit id; \
                         run `cargo update -p {name}` so the lockfile pins one",
                        lockfile.path.display(),
                        p.line
                    ))
                })?;
            let repository = url.split(['?', '#']).next().unwrap_or(&url).to_owned();
            return Ok(Some(Subject::Git {
                name: name.to_owned(),
                version: version.clone(),
                repository,
                commit: commit.to_ascii_lowercase(),
            }));
        }
    }
    Ok(None)
}

/// Where the package comes from and the checksum the lockfile states, when the project's
/// lockfile has it; otherwise crates.io and no lockfile checksum.
fn locked_source(
    project: &Project,
    name: &str,
    version: &semver::Version,
) -> Result<(SourceKind, Option<String>), CliError> {
    let lockfile = project.lockfile()?;
    let locked = lockfile.as_ref().and_then(|l| {
        l.packages
            .iter()
            .filter(|p| p.name == name && &p.version == version)
            .find(|p| SourceKind::from_source_id(p.source.as_deref()).is_registry())
    });
    match locked {
        Some(p) => Ok((
            SourceKind::from_source_id(p.source.as_deref()),
            p.checksum.clone(),
        )),
        None => Ok((SourceKind::from_source_id(Some(CRATES_IO_SOURCE_ID)), None)),
    }
}

/// Runs the provenance engine on the exact bytes being signed, against the pinned repository or
/// the one an earlier verified `source-matches` sign-off recorded.
fn source_evidence(
    project: &Project,
    krate: &VerifiedCrate,
    name: &str,
    version: &semver::Version,
) -> Result<SourceEvidence, CliError> {
    let settings = &project.settings;
    let (repositories, _) = trusted_repositories(project, name, version, None)?;
    let git = GitCache::new(
        &settings.cache_dir()?,
        FetchLimits::default(),
        settings.offline,
    );
    let rewrites = super::url_rewrites(project)?;
    let progress = settings.progress();
    Ok(source_matches_evidence(&SourceMatchesRequest {
        krate,
        repositories,
        git: &git,
        rewrites: &rewrites,
        progress: &progress,
    })?)
}
