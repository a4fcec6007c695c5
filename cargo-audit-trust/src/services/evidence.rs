//! The auditors' verified records, and the gate evidence they make.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use audit_trust_core::Inventory;
use audit_trust_core::gate::{Evidence, RejectedEvidence, evidence_from_records};
use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::{HeadCache, ProjectRecords, RemoteAccess, verify_project_sources};

use crate::error::CliError;
use crate::project::Project;

/// Verified sign-offs and flags of the auditors in `Cargo.audit`, and what was rejected.
#[derive(Debug, Default)]
pub struct EvidenceSet {
    pub accepted: Vec<Evidence>,
    pub rejected: Vec<RejectedEvidence>,
    pub notes: Vec<String>,
    /// The verified records the evidence was made from, kept so a changed lockfile can be
    /// judged again without syncing every auditor's log ([`EvidenceSet::follow_inventory`]).
    pub records: ProjectRecords,
    /// How many of `accepted` (the first) and of `notes` come from the records; the rest are
    /// the imported sets', which follow the inventory.
    signed: usize,
    record_notes: usize,
}

/// Reads and verifies every auditor's records (pins, signatures, heads, revocations), from local
/// folders and, unless `local_only`, from registries through a mirror in the cache folder.
pub fn verified_records(project: &Project, local_only: bool) -> Result<ProjectRecords, CliError> {
    verified_records_for(project, local_only, None)
}

/// [`verified_records`] for a caller that decides only `packages` (crate → versions): a
/// registry whose transparency log is pinned is then asked for those versions alone, with
/// proofs.
fn verified_records_for(
    project: &Project,
    local_only: bool,
    packages: Option<&BTreeMap<String, BTreeSet<String>>>,
) -> Result<ProjectRecords, CliError> {
    let settings = &project.settings;
    let cache_dir = settings.cache_dir()?;
    let cache = HeadCache::new(&cache_dir);
    let http = HttpClient::default();
    let remote = RemoteAccess {
        http: &http,
        cache_dir: &cache_dir,
        offline: settings.offline,
        max_mirror_age: Duration::from_secs(project.audit_file.policy.cache_max_age_hours() * 3600),
        per_crate: packages,
    };
    Ok(verify_project_sources(
        &project.audit_file,
        &project.audit_dir(),
        &cache,
        settings.now,
        (!local_only).then_some(&remote),
    )?)
}

/// [`verified_records`] (local and remote) turned into gate evidence for the packages of
/// `inventory`, with the evidence of the imported sets (see [`super::imports`]).
pub fn load_evidence(project: &Project, inventory: &Inventory) -> Result<EvidenceSet, CliError> {
    let records = verified_records_for(project, false, Some(&package_versions(inventory)))?;
    evidence_set(project, inventory, records)
}

/// Each crate of `inventory` (lowercase) with its versions there.
fn package_versions(inventory: &Inventory) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &inventory.packages {
        out.entry(p.name.to_ascii_lowercase())
            .or_default()
            .insert(p.version.to_string());
    }
    out
}

fn evidence_set(
    project: &Project,
    inventory: &Inventory,
    records: ProjectRecords,
) -> Result<EvidenceSet, CliError> {
    let (accepted, rejected, notes) = evidence_from_records(&records);
    let mut set = EvidenceSet {
        signed: accepted.len(),
        record_notes: notes.len(),
        accepted,
        rejected,
        notes,
        records,
    };
    set.follow_inventory(project, inventory)?;
    Ok(set)
}

impl EvidenceSet {
    /// Makes the evidence fit `inventory` (again, after `update` moved the lockfile) without
    /// syncing any log: whether an auditor whose log did not verify covers a package now, and
    /// the imported sets' evidence about its packages (local, pinned bytes).
    pub fn follow_inventory(
        &mut self,
        project: &Project,
        inventory: &Inventory,
    ) -> Result<(), CliError> {
        // A registry read per crate was asked only for the versions of the lockfile it was
        // loaded for: a version new to this one needs a fresh read (with proofs).
        if let Some(asked) = &self.records.per_crate
            && !package_versions(inventory)
                .iter()
                .all(|(name, versions)| asked.get(name).is_some_and(|a| versions.is_subset(a)))
        {
            *self = load_evidence(project, inventory)?;
            return Ok(());
        }
        require_logs_for(project, &self.records, inventory)?;
        self.accepted.truncate(self.signed);
        self.notes.truncate(self.record_notes);
        // Imported sets: unsigned evidence from the pinned bytes of Cargo.audit.lock.
        let (mut imported, mut import_notes) = super::imports::load_imported(project, inventory)?;
        self.accepted.append(&mut imported);
        self.notes.append(&mut import_notes);
        Ok(())
    }
}

/// An auditor covering nothing in this lockfile cannot hide a flag that matters here; one that
/// covers something and whose log does not verify stops the gate (exit 2).
fn require_logs_for(
    project: &Project,
    records: &ProjectRecords,
    inventory: &Inventory,
) -> Result<(), CliError> {
    let packages = &inventory.packages;
    records.require_verified_logs(|name| {
        project
            .audit_file
            .auditors
            .iter()
            .filter(|a| a.name == name)
            .any(|a| packages.iter().any(|p| a.covers(&p.name)))
    })?;
    Ok(())
}
