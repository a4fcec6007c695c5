//! `sign`: sign off on (or flag) one crate version. The record is bound to the SHA-256 of the
//! exact crate file that was read, which must be the one the registry index states; it goes into
//! the local store of the auditor in `Cargo.audit` that pins the signing key.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use audit_trust_core::inventory::{CRATES_IO_SOURCE_ID, SourceKind};
use audit_trust_core::names::{validate_crate_name, validate_version};
use audit_trust_core::provenance::signed_off::signed_off_repository;
use audit_trust_core::provenance::{FetchLimits, GitCache, UrlRewrites};
use audit_trust_core::signoff::{
    Criterion, HeadCache, Record, SignedRecord, SourceEvidence, SourceMatchesRequest, Statement,
    Subject, VerifiedCrate, source_matches_evidence, verified_crate, verify_project_sources,
};
use audit_trust_core::time::Timestamp;
use serde::Serialize;

use crate::cli::{Format, GlobalArgs, SignArgs};
use crate::context::{CliError, cache_dir, crate_store_at};
use crate::output::progress::BarProgress;
use crate::output::{escape, write_json, write_stdout};
use crate::project::{Project, load_lockfile, load_project};
use crate::signing::Signer;

#[derive(Serialize)]
struct SignJson<'a> {
    id: String,
    kind: &'a str,
    auditor: &'a str,
    name: &'a str,
    version: &'a str,
    checksum: &'a str,
    criteria: Vec<&'a str>,
    file: String,
    head_sequence: u64,
    head_expires: String,
}

pub fn run(global: &GlobalArgs, args: &SignArgs) -> Result<ExitCode, CliError> {
    let show_progress =
        !global.quiet && global.format == Format::Human && std::env::var_os("CI").is_none();
    let signed = sign_record(global, args, show_progress)?;
    if !global.quiet {
        for note in &signed.notes {
            let _ = writeln!(std::io::stderr(), "note: {}", escape::line(note));
        }
    }
    match global.format {
        Format::Json => write_json(&SignJson {
            id: signed.id.clone(),
            kind: signed.kind,
            auditor: &signed.auditor,
            name: &args.name,
            version: &args.crate_version,
            checksum: &signed.checksum,
            criteria: signed.criteria.iter().map(String::as_str).collect(),
            file: signed.file.display().to_string(),
            head_sequence: signed.head_sequence,
            head_expires: signed.head_expires.clone(),
        })?,
        Format::Human | Format::Sarif => write_stdout(&format!(
            "{}\n  record {} in {}\n  {} {}\n  head #{} of {}, valid until {}\n",
            signed.summary(&args.name, &args.crate_version),
            signed.id,
            signed.file.display(),
            if signed.git { "commit" } else { "checksum" },
            signed.checksum,
            signed.head_sequence,
            signed.public_key,
            signed.head_expires,
        ))?,
    }
    Ok(ExitCode::SUCCESS)
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

/// Makes, signs and appends the record `args` describe; prints nothing, so `sign` and the
/// review UI share it.
pub fn sign_record(
    global: &GlobalArgs,
    args: &SignArgs,
    show_progress: bool,
) -> Result<SignedOutcome, CliError> {
    let usage = |m: String| CliError::Usage(m);
    validate_crate_name(&args.name).map_err(|e| usage(e.to_string()))?;
    let version = validate_version(&args.crate_version).map_err(|e| usage(e.to_string()))?;
    let project = load_project(global)?;
    let signer = Signer::for_project(global, &project, args.key.key.as_deref())?;
    let (auditor, pin, now, public) = (signer.auditor, signer.pin, signer.now, signer.public());
    let criteria = parse_criteria(&args.criteria)?;
    // A custom criterion nobody defined is a typo, and would never satisfy a policy.
    if let Some(undefined) = criteria.iter().find(
        |c| matches!(c, Criterion::Custom(name) if !project.audit_file.criteria.contains_key(name)),
    ) {
        return Err(usage(format!(
            "`{undefined}` is not a criterion of {}: define it under `[criteria.{undefined}]`",
            project.audit_path.display()
        )));
    }
    if let Some(denied) = criteria.iter().find(|c| !pin.may_assert(c)) {
        return Err(usage(format!(
            "your key may not assert `{denied}` (its `criteria` in {})",
            project.audit_path.display()
        )));
    }
    let mut notes = Vec::new();
    if !auditor.covers(&args.name) {
        notes.push(format!(
            "auditor `{}` does not cover `{}` in Cargo.audit, so this record will not count for it",
            auditor.name, args.name
        ));
    }

    let (subject, krate) = match locked_git(global, &project, &args.name, &version)? {
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
            let (source, locked_checksum) = locked_source(global, &project, &args.name, &version)?;
            let crates = crate_store_at(global, &project.dir)?;
            let krate = verified_crate(
                &crates,
                &args.name,
                &version,
                &source,
                locked_checksum.as_deref(),
                &BarProgress::new(show_progress),
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
                Some(krate) if criteria.contains(&Criterion::SourceMatches) => Some(
                    source_evidence(global, &project, krate, &args.name, &version, now)?,
                ),
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
    global: &GlobalArgs,
    project: &Project,
    name: &str,
    version: &semver::Version,
) -> Result<Option<Subject>, CliError> {
    let Some(lockfile) = load_lockfile(global, project)? else {
        return Ok(None);
    };
    let same =
        |p: &&audit_trust_core::lockfile::LockedPackage| p.name == name && &p.version == version;
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
    global: &GlobalArgs,
    project: &Project,
    name: &str,
    version: &semver::Version,
) -> Result<(SourceKind, Option<String>), CliError> {
    let lockfile = load_lockfile(global, project)?;
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
    global: &GlobalArgs,
    project: &Project,
    krate: &VerifiedCrate,
    name: &str,
    version: &semver::Version,
    now: Timestamp,
) -> Result<SourceEvidence, CliError> {
    let pinned = project.audit_file.sources.get(name).map(String::as_str);
    let signed_off = match pinned {
        Some(_) => None,
        None => {
            let cache = HeadCache::new(&cache_dir(global)?);
            let records =
                verify_project_sources(&project.audit_file, &project.dir, &cache, now, None)?;
            signed_off_repository(&records, name, version)
        }
    };
    let git = GitCache::new(&cache_dir(global)?, FetchLimits::default(), global.offline);
    let rewrites = UrlRewrites::new(project.audit_file.url_rewrite.clone());
    let show_progress =
        !global.quiet && global.format == Format::Human && std::env::var_os("CI").is_none();
    let progress = BarProgress::new(show_progress);
    Ok(source_matches_evidence(&SourceMatchesRequest {
        krate,
        pinned_repository: pinned,
        signed_off,
        git: &git,
        rewrites: &rewrites,
        progress: &progress,
    })?)
}
