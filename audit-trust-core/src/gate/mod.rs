//! The CI gate: for every package of the lockfile, may it be used? A pure evaluation over values
//! gathered elsewhere (inventory, policy, verified evidence, advisories, index), so every rule is
//! testable without a network.

pub mod audited;
pub mod change;
#[cfg(test)]
mod change_tests;
mod checks;
mod code;
pub mod evidence;
pub mod expiry;
mod from_records;
#[cfg(test)]
mod input_tests;
mod license_check;
#[cfg(test)]
mod license_tests;
mod mix;
pub mod next_step;
#[cfg(test)]
mod next_step_tests;
#[cfg(test)]
mod plan_tests;
pub mod report;
mod risk_check;
#[cfg(test)]
mod risk_tests;
pub mod suggest;
#[cfg(test)]
mod tests;
pub mod update_plan;

use std::collections::HashSet;

use crate::advisories::AdvisoryDatabase;
use crate::audit_file::AuditFile;
use crate::fetch::index_report::IndexReport;
use crate::inventory::{CRATES_IO_SOURCE_ID, Inventory, PackageId, SourceKind};
use crate::risk::RiskReport;
use crate::source_url::{SourceLocation, SourceUrlError};
use crate::time::Date;

pub use code::ReasonCode;
pub use evidence::{Evidence, EvidenceSubject, RejectedEvidence};
pub use expiry::ExpiryWarning;
pub use from_records::evidence_from_records;
pub use mix::{Backlog, EvidenceMix, backlog};
pub use next_step::{NextStep, StepKind};
pub use report::{AdvisoryDbSummary, GateReport, Reason, Severity, Status, Summary, Verdict};

/// Everything the gate decides from.
#[derive(Debug)]
pub struct GateInput<'a> {
    pub inventory: &'a Inventory,
    pub audit_file: &'a AuditFile,
    pub today: Date,
    /// Verified, unrevoked statements from pinned keys.
    pub evidence: &'a [Evidence],
    /// Records that failed verification (reported as notes).
    pub rejected: &'a [RejectedEvidence],
    /// `None`: advisories were not checked (the caller says why in `notes`).
    pub advisories: Option<&'a AdvisoryDatabase>,
    /// `None`: the index was not consulted (the caller says why in `notes`).
    pub index: Option<&'a IndexReport>,
    /// Packages used on the policy's target platforms; `None` when unknown (lockfile mode or
    /// no `targets`), in which case every package counts.
    pub on_targets: Option<&'a HashSet<PackageId>>,
    /// Risk signals of the packages that are not signed off for their exact version; `None`:
    /// not computed this run (the caller says why in `notes`).
    pub risk: Option<&'a RiskReport>,
    /// Each package's license inventory, indexed like `inventory.packages`; `None`: licenses
    /// were not read (only `check` reads them, and only with a `[licenses]` policy).
    pub licenses: Option<&'a [Option<crate::license::PackageLicense>]>,
    /// Extra notes from the caller (what it could not check).
    pub notes: Vec<String>,
}

/// Decides every package.
pub fn evaluate(input: &GateInput<'_>) -> GateReport {
    let mut packages: Vec<Verdict> = input
        .inventory
        .packages
        .iter()
        .enumerate()
        .map(|(id, p)| checks::verdict(input, id, p))
        .collect();
    let evidence_mix = mix::evidence_mix(&input.inventory.packages, &packages, input.evidence);
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));

    let mut notes = input.notes.clone();
    for r in input.rejected {
        let what = match (&r.name, &r.version) {
            (Some(n), Some(v)) => format!(" for {n}@{v}"),
            (Some(n), None) => format!(" for {n}"),
            _ => String::new(),
        };
        notes.push(format!(
            "ignored a record of auditor `{}`{what}: {}",
            r.auditor, r.reason
        ));
    }
    let advisory_db = input.advisories.map(|db| {
        let age_days = db.age_days(input.today);
        let max = i64::from(
            input
                .audit_file
                .advisories
                .max_age_days
                .unwrap_or(crate::advisories::DEFAULT_MAX_AGE_DAYS as u32),
        );
        AdvisoryDbSummary {
            path: db.source.clone(),
            commit: db.commit.clone(),
            date: db.date,
            age_days,
            advisories: db.advisories,
            stale: age_days.is_none_or(|a| a > max),
        }
    });
    let mut summary = summarize(&packages);
    summary.evidence = evidence_mix;
    GateReport {
        date: input.today,
        packages,
        summary,
        advisory_db,
        notes,
        expiring: expiry::expiring(input),
        change: None,
    }
}

fn summarize(packages: &[Verdict]) -> Summary {
    let mut by_status: Vec<(Status, usize)> = Vec::new();
    for v in packages {
        match by_status.iter_mut().find(|(s, _)| *s == v.status) {
            Some((_, n)) => *n += 1,
            None => by_status.push((v.status, 1)),
        }
    }
    by_status.sort();
    Summary {
        packages: packages.len(),
        blocked: packages.iter().filter(|v| v.blocked).count(),
        // Warnings of packages that pass, as the human report lists them: a blocked package's
        // warnings are part of why it is blocked, and counting them here made the JSON and the
        // human report disagree.
        warnings: packages
            .iter()
            .filter(|v| !v.blocked)
            .flat_map(|v| &v.reasons)
            .filter(|r| r.severity == Severity::Warn)
            .count(),
        by_status,
        evidence: EvidenceMix::default(),
    }
}

/// Whether a package's source is allowed by `[allowed-sources]`, compared as cargo resolves it
/// (see [`crate::source_url`]). `Err` names why the source's URL could not be compared at all.
pub(crate) fn source_allowed(
    audit_file: &AuditFile,
    source: &SourceKind,
) -> Result<bool, SourceUrlError> {
    let allowed = &audit_file.allowed_sources;
    match source {
        SourceKind::Path => Ok(true),
        SourceKind::Registry { id, crates_io } => {
            let lists_crates_io = allowed.registries.iter().any(|r| r == "crates-io");
            if *crates_io && lists_crates_io {
                return Ok(true);
            }
            let location = SourceLocation::registry(id)?;
            // Another spelling of the crates.io index is crates.io to cargo.
            if lists_crates_io
                && SourceLocation::registry(CRATES_IO_SOURCE_ID).is_ok_and(|c| c == location)
            {
                return Ok(true);
            }
            // An entry that does not parse was refused when `Cargo.audit` was read; a value built
            // in code that slipped past that admits nothing.
            Ok(allowed
                .registries
                .iter()
                .any(|r| SourceLocation::registry(r).is_ok_and(|r| r == location)))
        }
        SourceKind::Git { url, .. } => {
            let Some(prefixes) = &allowed.git else {
                return Ok(true);
            };
            let location = SourceLocation::git_source(url)?;
            Ok(prefixes
                .iter()
                .any(|p| SourceLocation::git_prefix(p).is_ok_and(|p| location.starts_with(&p))))
        }
    }
}
