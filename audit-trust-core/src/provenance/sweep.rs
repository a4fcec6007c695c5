//! One pass over many packages (`verify-sources`): the provenance engine on every package, in
//! parallel, each against the repositories the caller chose for it by the usual rule
//! ([`RepositoryChoice::pinned_else_signed_off`]; the claim, checked against the previous
//! version's claim, when nothing is trusted). Same engine, same verdicts as `diff` on one package.
//!
//! The work is network-bound (git fetches, index lookups for previous versions), so it runs
//! [`PARALLEL_CHECKS`] packages at a time, not one per core. Packages fetched from the same
//! repository (the members of a workspace) take turns on it: one bare repository in the cache is
//! never fetched into by two threads at once.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::previous::previous_claim;
use super::repository::{Selection, fetch_url, select_repository};
use super::{
    GitCache, ProvenanceInput, ProvenanceReport, RepositoryChoice, RepositorySource, Unverifiable,
    UrlRewrites, Verdict, check_provenance, claimed_repository,
};
use crate::fetch::{CrateStore, sha256_hex};
use crate::progress::{NoProgress, Progress};
use crate::signoff::{SourceEvidence, source_evidence_in};
use crate::tarball::{Limits, read_crate};
use crate::{Error, Package};

/// Packages checked at once: each mostly waits for a remote (connect, list refs, fetch).
pub const PARALLEL_CHECKS: usize = 8;

/// One package to check, with its trusted repository candidates.
#[derive(Debug, Clone)]
pub struct SweepPackage {
    pub package: Package,
    /// From [`RepositoryChoice::pinned_else_signed_off`]; `previous_claimed` is looked up here
    /// when the claim is what would be used, as `diff` does.
    pub repositories: RepositoryChoice,
}

/// Where crate files and repositories come from.
#[derive(Debug, Clone, Copy)]
pub struct Sweep<'a> {
    pub store: &'a CrateStore,
    pub git: &'a GitCache,
    pub rewrites: &'a UrlRewrites,
    /// Packages checked at once (at least one); [`PARALLEL_CHECKS`] unless a caller has a
    /// reason to differ.
    pub workers: usize,
}

/// What the pass concluded about one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceVerdict {
    Matches,
    Differs,
    Unverifiable,
    /// The package could not be checked at all (its crate file is unreadable, the cache
    /// failed): not a verdict, and the run exits 2.
    Error,
}

/// Why a package is `unverifiable`, as a stable kebab-case code (the reason says it in words).
/// Mirrors [`Unverifiable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnverifiableCode {
    NoTrustedRepository,
    RefusedUrl,
    BadVcsInfo,
    RepositoryUnreachable,
    NoCommit,
    CommitNotPublished,
    NoPackageFolder,
}

impl From<&Unverifiable> for UnverifiableCode {
    fn from(why: &Unverifiable) -> UnverifiableCode {
        match why {
            Unverifiable::NoTrustedRepository(_) => UnverifiableCode::NoTrustedRepository,
            Unverifiable::RefusedUrl { .. } => UnverifiableCode::RefusedUrl,
            Unverifiable::BadVcsInfo(_) => UnverifiableCode::BadVcsInfo,
            Unverifiable::RepositoryUnreachable(_) => UnverifiableCode::RepositoryUnreachable,
            Unverifiable::NoCommit { .. } => UnverifiableCode::NoCommit,
            Unverifiable::CommitNotPublished(_) => UnverifiableCode::CommitNotPublished,
            Unverifiable::NoPackageFolder { .. } => UnverifiableCode::NoPackageFolder,
        }
    }
}

/// A file that makes the verdict `differs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DifferingFile {
    pub path: String,
    /// `modified`, `line_endings`, `only_in_tarball`, `manifest_mismatch`.
    pub status: &'static str,
}

/// What `--sign` did with a package (set by the caller that signs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignOffState {
    /// A `source-matches` sign-off was made in this run.
    Signed,
    /// The signer already had a `source-matches` sign-off for these exact bytes.
    AlreadySigned,
}

/// One package's result: the verdict, why, and against what.
#[derive(Debug, Clone, Serialize)]
pub struct SourceOutcome {
    pub name: String,
    pub version: String,
    pub verdict: SourceVerdict,
    /// One sentence (the provenance report's reason, or the error).
    pub reason: String,
    /// Set when the verdict is `unverifiable`.
    pub unverifiable: Option<UnverifiableCode>,
    /// The repository checked against, and where it came from (`pinned`, `signed-off`,
    /// `claimed`).
    pub repository: Option<String>,
    pub repository_source: Option<RepositorySource>,
    /// What the crate names, whether it was used or not.
    pub claimed_repository: Option<String>,
    pub commit: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// SHA-256 of the crate file compared (the lockfile's checksum, verified).
    pub checksum: Option<String>,
    pub differing_files: Vec<DifferingFile>,
    pub warnings: Vec<String>,
    /// The match is evidence for a `source-matches` sign-off: the repository was pinned or
    /// signed off, not merely claimed by the crate.
    pub signable: bool,
    /// What `--sign` did, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_off: Option<SignOffState>,
    /// The evidence a sign-off records, when `signable`.
    #[serde(skip)]
    pub evidence: Option<SourceEvidence>,
}

impl SourceOutcome {
    fn failed(package: &Package, error: &Error) -> SourceOutcome {
        SourceOutcome {
            name: package.name.clone(),
            version: package.version.to_string(),
            verdict: SourceVerdict::Error,
            reason: error.to_string(),
            unverifiable: None,
            repository: None,
            repository_source: None,
            claimed_repository: None,
            commit: None,
            reference: None,
            checksum: None,
            differing_files: Vec::new(),
            warnings: Vec::new(),
            signable: false,
            sign_off: None,
            evidence: None,
        }
    }

    fn from_report(report: ProvenanceReport, checksum: String) -> SourceOutcome {
        let evidence = source_evidence_in(&report).ok();
        let verdict = match report.verdict {
            Verdict::Matches => SourceVerdict::Matches,
            Verdict::Differs => SourceVerdict::Differs,
            Verdict::Unverifiable => SourceVerdict::Unverifiable,
        };
        let differing_files = report
            .differing_files()
            .map(|f| DifferingFile {
                path: f.path.clone(),
                status: f.status.as_str(),
            })
            .collect();
        SourceOutcome {
            unverifiable: report.unverifiable.as_ref().map(UnverifiableCode::from),
            signable: evidence.is_some(),
            evidence,
            name: report.name,
            version: report.version,
            verdict,
            reason: report.reason,
            repository: report.repository,
            repository_source: report.repository_source,
            claimed_repository: report.claimed_repository,
            commit: report.commit,
            reference: report.reference,
            checksum: Some(checksum),
            differing_files,
            warnings: report.warnings,
            sign_off: None,
        }
    }

    /// `matches`, but only against the repository the crate names: never signed.
    pub fn matches_claimed_only(&self) -> bool {
        self.verdict == SourceVerdict::Matches && !self.signable
    }
}

/// Counts over the outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourcesSummary {
    pub packages: usize,
    /// Every `matches`, signable or not.
    pub matches: usize,
    /// Of `matches`: against a repository the crate only claims (not evidence).
    pub matches_claimed_only: usize,
    pub differs: usize,
    pub unverifiable: usize,
    pub errors: usize,
    /// Set by `--sign`.
    pub signed: usize,
    pub already_signed: usize,
}

/// The result of the pass: one outcome per package, in the order given.
#[derive(Debug, Clone, Serialize)]
pub struct SourcesReport {
    pub summary: SourcesSummary,
    pub packages: Vec<SourceOutcome>,
}

impl SourcesReport {
    pub fn new(packages: Vec<SourceOutcome>) -> SourcesReport {
        let mut report = SourcesReport {
            summary: SourcesSummary::default(),
            packages,
        };
        report.recount();
        report
    }

    /// Recomputes the summary (after `sign_off` states were set).
    pub fn recount(&mut self) {
        let packages = &self.packages;
        let count = |f: fn(&SourceOutcome) -> bool| packages.iter().filter(|p| f(p)).count();
        self.summary = SourcesSummary {
            packages: packages.len(),
            matches: count(|p| p.verdict == SourceVerdict::Matches),
            matches_claimed_only: count(SourceOutcome::matches_claimed_only),
            differs: count(|p| p.verdict == SourceVerdict::Differs),
            unverifiable: count(|p| p.verdict == SourceVerdict::Unverifiable),
            errors: count(|p| p.verdict == SourceVerdict::Error),
            signed: count(|p| p.sign_off == Some(SignOffState::Signed)),
            already_signed: count(|p| p.sign_off == Some(SignOffState::AlreadySigned)),
        };
    }
}

/// Checks every package: downloads the crate files that are missing (verified), then runs the
/// engine on each, [`Sweep::workers`] at a time. A package that cannot be checked is an `error`
/// outcome, not a failed run; only a failing download phase fails the whole pass.
pub fn verify_sources(
    sweep: &Sweep<'_>,
    packages: &[SweepPackage],
    progress: &dyn Progress,
) -> Result<SourcesReport, Error> {
    let refs: Vec<&Package> = packages.iter().map(|p| &p.package).collect();
    sweep.store.ensure_all(&refs, progress)?;
    let locks = RepositoryLocks::default();
    progress.begin("Verifying", packages.len() as u64);
    let outcomes = crate::parallel::map_until_error(packages, sweep.workers, |item| {
        let outcome = match check_one(sweep, item, &locks) {
            Ok(outcome) => outcome,
            Err(e) => SourceOutcome::failed(&item.package, &e),
        };
        progress.advance(1);
        Ok::<_, Infallible>(outcome)
    })
    .unwrap_or_else(|never| match never {});
    progress.finish();
    Ok(SourcesReport::new(outcomes))
}

fn check_one(
    sweep: &Sweep<'_>,
    item: &SweepPackage,
    locks: &RepositoryLocks,
) -> Result<SourceOutcome, Error> {
    let package = &item.package;
    let (name, version) = (package.name.as_str(), package.version.to_string());
    let bytes = sweep.store.read_verified(package)?;
    let checksum = sha256_hex(&bytes);
    let archive = read_crate(&bytes, name, &version, &Limits::default()).map_err(|source| {
        Error::Tarball {
            package: package.spec(),
            source,
        }
    })?;
    drop(bytes);
    let claimed = claimed_repository(&archive);
    let mut choice = item.repositories.clone();
    let mut warnings = Vec::new();
    // As `diff` does: the previous version's claim matters only when the claim would be used.
    if choice.pinned.is_none() && choice.signed_off.is_none() && claimed.is_some() {
        match previous_claim(
            sweep.store,
            name,
            &package.version,
            &package.source,
            &Limits::default(),
        ) {
            Ok(previous) => choice.previous_claimed = previous,
            Err(e) => warnings.push(format!(
                "the repository named by the previous version could not be looked up, so a \
                 change of repository would go unnoticed: {e}"
            )),
        }
    }
    let input = ProvenanceInput {
        name,
        version: &version,
        archive: &archive,
        repositories: &choice,
    };
    let lock = fetched_url(&choice, claimed.as_deref(), sweep.rewrites)
        .map(|url| locks.get(&sweep.git.repository_dir(&url).display().to_string()));
    let report = {
        let _turn = lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
        check_provenance(&input, sweep.git, sweep.rewrites, &NoProgress)?
    };
    let mut outcome = SourceOutcome::from_report(report, checksum);
    outcome.warnings.splice(0..0, warnings);
    Ok(outcome)
}

/// The URL the engine will fetch for this choice, when it fetches one (as
/// [`check_provenance`] computes it: the selected repository, forge web URLs made repository
/// URLs, then the rewrite rules).
fn fetched_url(
    choice: &RepositoryChoice,
    claimed: Option<&str>,
    rewrites: &UrlRewrites,
) -> Option<String> {
    match select_repository(choice, claimed) {
        Selection::Use { repository, .. } => {
            let canonical = fetch_url(&repository.url);
            Some(rewrites.apply(&canonical).unwrap_or(canonical))
        }
        Selection::Unverifiable { .. } => None,
    }
}

/// One lock per cached repository, so two packages of one repository never fetch into it at
/// the same time.
#[derive(Default)]
struct RepositoryLocks {
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl RepositoryLocks {
    fn get(&self, key: &str) -> Arc<Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(key.to_owned()).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(verdict: SourceVerdict, signable: bool) -> SourceOutcome {
        let package = Package {
            name: "a".into(),
            version: "1.0.0".parse().expect("version"),
            source: crate::SourceKind::Path,
            source_id: None,
            checksum: None,
            dependencies: Vec::new(),
            direct: true,
            dev_only: None,
            workspace_member: false,
            lock_line: 1,
        };
        let mut o = SourceOutcome::failed(
            &package,
            &Error::Sign {
                package: "a@1.0.0".into(),
                message: "x".into(),
            },
        );
        o.verdict = verdict;
        o.signable = signable;
        o
    }

    #[test]
    fn the_summary_separates_claimed_matches() {
        let mut report = SourcesReport::new(vec![
            outcome(SourceVerdict::Matches, true),
            outcome(SourceVerdict::Matches, false),
            outcome(SourceVerdict::Differs, false),
            outcome(SourceVerdict::Unverifiable, false),
            outcome(SourceVerdict::Error, false),
        ]);
        assert_eq!(report.summary.matches, 2);
        assert_eq!(report.summary.matches_claimed_only, 1);
        assert_eq!(report.summary.differs, 1);
        assert_eq!(report.summary.unverifiable, 1);
        assert_eq!(report.summary.errors, 1);
        report.packages[0].sign_off = Some(SignOffState::Signed);
        report.recount();
        assert_eq!(report.summary.signed, 1);
    }

    #[test]
    fn every_unverifiable_reason_has_a_code() {
        let code = |u: &Unverifiable| serde_json::to_value(UnverifiableCode::from(u)).ok();
        assert_eq!(
            code(&Unverifiable::RepositoryUnreachable("x".into())),
            Some(serde_json::json!("repository-unreachable"))
        );
        assert_eq!(
            code(&Unverifiable::NoTrustedRepository("x".into())),
            Some(serde_json::json!("no-trusted-repository"))
        );
    }
}
