//! `verify-sources`: every registry package of the lockfile through the provenance engine in one
//! pass, each against the repository `diff` would choose, and, with `--sign`, one batch of
//! `source-matches` sign-offs for the packages whose match is evidence.

use std::path::Path;

use audit_trust_core::Package;
use audit_trust_core::progress::{NoProgress, Progress};
use audit_trust_core::provenance::sweep::{
    SignOffState, SourceOutcome, SourcesReport, Sweep, SweepPackage, verify_sources,
};
use audit_trust_core::provenance::{FetchLimits, GitCache, UrlRewrites};
use audit_trust_core::signoff::{
    Criterion, ProjectRecords, PublicKey, Record, SignedRecord, Statement, Subject, verified_crate,
};

use super::crate_store;
use super::evidence::verified_records;
use super::provenance::{rejected_warning, trusted_repositories_in};
use super::signing::Signer;
use crate::error::CliError;
use crate::project::Project;

/// What to check.
#[derive(Debug, Clone)]
pub struct VerifyRequest<'a> {
    /// `-p NAME`: only these names (every locked version); empty for all.
    pub only: &'a [String],
    /// Packages checked at once.
    pub jobs: usize,
}

/// The pass's report and the notes for the run (records that failed verification).
#[derive(Debug)]
pub struct Verified {
    pub report: SourcesReport,
    pub notes: Vec<String>,
}

/// What `--sign` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignedBatch {
    pub auditor: String,
    pub public_key: String,
    /// The head written with the batch (`None` when there was nothing new to sign).
    pub head_sequence: Option<u64>,
}

/// Runs the engine on the lockfile's registry packages (those named by `only`, if any).
pub fn verify_project(
    project: &Project,
    request: &VerifyRequest<'_>,
    progress: &dyn Progress,
) -> Result<Verified, CliError> {
    let inventory = project.inventory.as_ref().ok_or_else(|| {
        CliError::Usage(
            "no Cargo.lock found: run `cargo generate-lockfile`, or pass `--lockfile PATH` or \
             `--manifest-path PATH`"
                .into(),
        )
    })?;
    let packages: Vec<&Package> = inventory
        .packages
        .iter()
        .filter(|p| p.source.is_registry())
        .filter(|p| request.only.is_empty() || request.only.contains(&p.name))
        .collect();
    if let Some(missing) = request
        .only
        .iter()
        .find(|name| !packages.iter().any(|p| &&p.name == name))
    {
        return Err(CliError::Usage(format!(
            "-p {missing}: not a registry package in Cargo.lock"
        )));
    }
    let records = match project.paths.audit_file {
        Some(_) => Some(verified_records(project, true)?),
        None => None,
    };
    let notes: Vec<String> = records.iter().filter_map(rejected_warning).collect();
    let items: Vec<SweepPackage> = packages
        .iter()
        .map(|p| SweepPackage {
            package: (*p).clone(),
            repositories: trusted_repositories_in(project, records.as_ref(), &p.name, &p.version),
        })
        .collect();
    let settings = &project.settings;
    let store = crate_store(project)?;
    let git = GitCache::new(
        &settings.cache_dir()?,
        FetchLimits::default(),
        settings.offline,
    );
    let rewrites = UrlRewrites::new(project.audit_file.url_rewrite.clone());
    let sweep = Sweep {
        store: &store,
        git: &git,
        rewrites: &rewrites,
        workers: request.jobs.max(1),
    };
    let report = verify_sources(&sweep, &items, progress)?;
    Ok(Verified { report, notes })
}

/// The signer for `--sign`, checked before the pass starts: a key that `Cargo.audit` pins, for
/// an auditor with a local folder, allowed to assert `source-matches`.
pub fn signer_for_sources<'a>(
    project: &'a Project,
    key: Option<&Path>,
) -> Result<Signer<'a>, CliError> {
    project.require_audit_file()?;
    let signer = Signer::for_project(project, key).map_err(|e| {
        let message = match e {
            CliError::Usage(message) => message,
            CliError::Core(e) => e.to_string(),
        };
        CliError::Usage(format!(
            "--sign needs a signing key that {} pins: {message}",
            project.audit_file_name()
        ))
    })?;
    if !signer.pin.may_assert(&Criterion::SourceMatches) {
        return Err(CliError::Usage(format!(
            "--sign: your key may not assert `source-matches` (its `criteria` in {})",
            project.audit_file_name()
        )));
    }
    Ok(signer)
}

/// Signs `source-matches` for every signable outcome of `report`, all in one append (one new
/// head). Packages this key already signed for the same bytes are left as they are. Each record
/// is bound to the crate file as the registry index states it, and only if that is the file the
/// pass compared.
pub fn sign_matches(
    project: &Project,
    signer: &Signer<'_>,
    report: &mut SourcesReport,
) -> Result<SignedBatch, CliError> {
    let public = signer.public();
    let records = verified_records(project, true)?;
    let inventory = project.inventory.as_ref();
    let store = crate_store(project)?;
    let mut batch = Vec::new();
    let mut signed_at = Vec::new();
    for (i, outcome) in report.packages.iter_mut().enumerate() {
        let (Some(evidence), Some(checksum)) = (&outcome.evidence, &outcome.checksum) else {
            continue;
        };
        if already_signed(&records, &public, outcome, checksum) {
            outcome.sign_off = Some(SignOffState::AlreadySigned);
            continue;
        }
        let package = inventory
            .and_then(|inv| {
                inv.packages.iter().find(|p| {
                    p.name == outcome.name
                        && p.version.to_string() == outcome.version
                        && p.source.is_registry()
                })
            })
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "{}@{} is no longer in Cargo.lock",
                    outcome.name, outcome.version
                ))
            })?;
        let krate = verified_crate(
            &store,
            &package.name,
            &package.version,
            &package.source,
            package.checksum.as_deref(),
            &NoProgress,
        )?;
        if let Subject::Crate {
            checksum: indexed, ..
        } = &krate.subject
            && indexed != checksum
        {
            return Err(CliError::Usage(format!(
                "{}: the crate file compared has SHA-256 {checksum}, the registry index states \
                 {indexed}; nothing was signed",
                package.spec()
            )));
        }
        let record = Record {
            key: public,
            created: signer.now,
            statement: Statement::SignOff {
                subject: krate.subject.clone(),
                criteria: vec![Criterion::SourceMatches],
                delta_from: None,
                notes: None,
                source: Some(evidence.clone()),
            },
        };
        let signed = SignedRecord::sign(record, &signer.loaded.key)
            .map_err(|m| CliError::Usage(format!("cannot sign {}: {m}", package.spec())))?;
        batch.push(signed);
        signed_at.push(i);
    }
    let head_sequence = if batch.is_empty() {
        None
    } else {
        Some(signer.append(&batch)?.head().sequence)
    };
    for i in signed_at {
        report.packages[i].sign_off = Some(SignOffState::Signed);
    }
    report.recount();
    Ok(SignedBatch {
        auditor: signer.auditor.name.clone(),
        public_key: public.to_string(),
        head_sequence,
    })
}

/// Whether `key` already has a verified `source-matches` sign-off for exactly these bytes.
fn already_signed(
    records: &ProjectRecords,
    key: &PublicKey,
    outcome: &SourceOutcome,
    checksum: &str,
) -> bool {
    records.accepted.iter().any(|a| {
        let record = a.record.record();
        record.key == *key
            && matches!(
                &record.statement,
                Statement::SignOff {
                    subject: Subject::Crate { name, version, checksum: c },
                    criteria,
                    ..
                } if *name == outcome.name
                    && version.to_string() == outcome.version
                    && c == checksum
                    && criteria.contains(&Criterion::SourceMatches)
            )
    })
}
