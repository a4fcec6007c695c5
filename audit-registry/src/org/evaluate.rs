//! Building a [`Snapshot`]: the policy, every project's lockfiles, the records of the crates they
//! use; then the core gate per project, off the async runtime.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::gate::{self, Evidence, GateInput, RejectedEvidence, Status};
use audit_trust_core::inventory::Inventory;
use audit_trust_core::lockfile::Lockfile;
use audit_trust_core::signoff::verify::authorize;
use audit_trust_core::signoff::{
    AcceptedRecord, Location, ProjectRecords, RejectedItem, SignedRecord, Statement,
};
use audit_trust_core::time::Timestamp;

use super::{
    AuditorPins, Changes, EvidenceMix, NOT_CONSULTED, PolicyInfo, ProjectStatus, ProjectView,
    Snapshot, WeekCount, changes, week_of,
};
use crate::db::projects::ProjectRow;
use crate::db::views::CoverageSample;
use crate::db::{CrateRow, Db, DbError};

/// Packages one registered lockfile may hold (a large workspace has a few thousand).
pub const MAX_LOCKFILE_PACKAGES: usize = 20_000;

/// A lockfile's text as a registered project's: parsed and validated as `check` parses one
/// (names, versions, checksums, dependencies), within [`MAX_LOCKFILE_PACKAGES`]. The error names
/// the line and says what is wrong.
pub fn parse_lockfile(text: &str) -> Result<Lockfile, String> {
    let lock = Lockfile::parse(text, Path::new("Cargo.lock")).map_err(|e| e.to_string())?;
    if lock.packages.len() > MAX_LOCKFILE_PACKAGES {
        return Err(format!(
            "Cargo.lock: {} packages; a registered lockfile holds at most {MAX_LOCKFILE_PACKAGES}",
            lock.packages.len()
        ));
    }
    Ok(lock)
}

/// The organization's policy: a `Cargo.audit` file, checked as `check` checks one.
pub fn parse_policy(text: &str) -> Result<AuditFile, String> {
    AuditFile::parse(text, Path::new("Cargo.audit")).map_err(|e| e.to_string())
}

/// Largest policy file accepted.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// A policy file's text, bounded and checked (for `audit-registry policy set FILE`).
pub fn read_policy_file(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if size > MAX_POLICY_BYTES as u64 {
        return Err(format!(
            "{}: {size} bytes; a policy is at most {MAX_POLICY_BYTES}",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    AuditFile::parse(&text, path).map_err(|e| e.to_string())?;
    Ok(text)
}

/// Parsed lockfiles by SHA-256, kept from one snapshot to the next: parsing is most of the
/// work (an 880-package lockfile takes far longer to parse than to evaluate), and lockfiles
/// change far less often than records.
pub type ParsedLockfiles = HashMap<String, Arc<Lockfile>>;

type Parsed = (
    ProjectRow,
    Result<Arc<Lockfile>, String>,
    Option<Arc<Lockfile>>,
);

pub(super) async fn build(
    db: &Db,
    key: (i64, i64),
    now: Timestamp,
    known: &ParsedLockfiles,
) -> Result<Snapshot, DbError> {
    let stored_policy = db.org_policy().await?;
    let rows = db.projects().await?;
    let record_names = db.record_crate_names().await?;
    let lines = db.code_lines().await?;
    let bodies = db.record_bodies().await?;
    let known = known.clone();
    // CPU work, off the runtime.
    let (parsed, lockfiles) = tokio::task::spawn_blocking(move || parse_all(rows, known))
        .await
        .map_err(|e| DbError::Unavailable(format!("parsing lockfiles: {e}")))?;
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (_, lock, _) in &parsed {
        if let Ok(lock) = lock {
            used.extend(lock.packages.iter().map(|p| p.name.to_ascii_lowercase()));
        }
    }
    let policy = match &stored_policy {
        // Validated when it was set; a policy this version cannot read counts as none.
        Some(stored) => match parse_policy(&stored.text) {
            Ok(policy) => Some(policy),
            Err(e) => {
                tracing::error!(error = %e, "the stored organization policy does not parse");
                None
            }
        },
        None => None,
    };
    let crate_rows = if policy.is_some() {
        let names: Vec<String> = used.iter().cloned().collect();
        db.crate_records(&names).await?
    } else {
        Vec::new()
    };
    let mut crate_names: BTreeSet<String> = record_names.into_iter().collect();
    crate_names.extend(used);
    let info = match (&stored_policy, &policy) {
        (Some(stored), Some(p)) => Some(PolicyInfo {
            set_at: stored.set_at.clone(),
            set_by: stored.set_by.clone(),
            auditors: p.auditors.iter().map(|a| a.name.clone()).collect(),
            pins: p
                .auditors
                .iter()
                .map(|a| {
                    let pins = AuditorPins {
                        keys: a
                            .keys
                            .iter()
                            .map(|k| (k.key.to_string(), k.not_after.map(|d| d.to_string())))
                            .collect(),
                        covers: a.covers.iter().map(|c| c.as_str().to_owned()).collect(),
                    };
                    (a.name.clone(), pins)
                })
                .collect(),
        }),
        _ => None,
    };
    let (projects, signoff_weeks) = tokio::task::spawn_blocking(move || {
        (
            evaluate_all(policy, &crate_rows, parsed, now, &lines),
            signoffs_per_week(&bodies),
        )
    })
    .await
    .map_err(|e| DbError::Unavailable(format!("evaluating projects: {e}")))?;
    if info.is_some() {
        db.record_coverage(&now.date().to_string(), coverage(&projects))
            .await?;
    }
    Ok(Snapshot {
        key,
        day: now.date(),
        lockfiles,
        policy: info,
        projects,
        crate_names: crate_names.into_iter().collect(),
        signoff_weeks,
    })
}

/// Today's coverage over every project: third-party packages (first-party ones left out), how
/// many have evidence (signed, exempted, other platform), how many none.
fn coverage(projects: &[ProjectView]) -> CoverageSample {
    let mut sample = CoverageSample::default();
    for p in projects {
        let m = &p.mix;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        sample.projects += 1;
        sample.packages += count(m.signed + m.exempted + m.other_platform + m.none + m.findings);
        sample.covered += count(m.signed + m.exempted + m.other_platform);
        sample.backlog += count(m.none);
        if p.status == ProjectStatus::Blocked {
            sample.blocked_projects += 1;
        }
    }
    sample
}

/// The parts of a stored record the trends need (each was verified when it was published).
#[derive(serde::Deserialize)]
struct KindAndDate {
    kind: String,
    created: String,
}

/// Sign-offs per week by their signing date, oldest first.
fn signoffs_per_week(bodies: &[String]) -> Vec<WeekCount> {
    let mut weeks: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for body in bodies {
        let Ok(r) = serde_json::from_str::<KindAndDate>(body) else {
            continue;
        };
        if r.kind != "sign-off" {
            continue;
        }
        if let Some(at) = Timestamp::parse(&r.created) {
            *weeks.entry(week_of(at.0)).or_default() += 1;
        }
    }
    weeks
        .into_iter()
        .map(|(week, count)| WeekCount { week, count })
        .collect()
}

/// Each project's latest and previous lockfile, parsed or taken from `known`; the map of those
/// in use, for the next snapshot.
fn parse_all(rows: Vec<ProjectRow>, known: ParsedLockfiles) -> (Vec<Parsed>, ParsedLockfiles) {
    let mut kept = ParsedLockfiles::new();
    let mut get = |sha256: &str, text: &str| -> Result<Arc<Lockfile>, String> {
        if let Some(lock) = kept.get(sha256).or_else(|| known.get(sha256)) {
            let lock = Arc::clone(lock);
            kept.insert(sha256.to_owned(), Arc::clone(&lock));
            return Ok(lock);
        }
        let lock = Arc::new(parse_lockfile(text)?);
        kept.insert(sha256.to_owned(), Arc::clone(&lock));
        Ok(lock)
    };
    let parsed = rows
        .into_iter()
        .map(|row| {
            let latest = get(&row.latest.sha256, &row.latest.text);
            let previous = row
                .previous
                .as_ref()
                .and_then(|p| get(&p.sha256, &p.text).ok());
            (row, latest, previous)
        })
        .collect();
    (parsed, kept)
}

fn evaluate_all(
    policy: Option<AuditFile>,
    crate_rows: &[CrateRow],
    parsed: Vec<Parsed>,
    now: Timestamp,
    lines: &HashMap<(String, String), u64>,
) -> Vec<ProjectView> {
    let evidence = policy
        .as_ref()
        .map(|p| evidence_of(p, crate_rows, now))
        .unwrap_or_default();
    parsed
        .into_iter()
        .map(|(row, latest, previous)| {
            let lock = match latest {
                Ok(lock) => Lockfile::clone(&lock),
                Err(e) => {
                    // Validated when it was stored: only a newer format than this version reads.
                    tracing::error!(project = %row.name, error = %e, "a stored lockfile does not parse");
                    Lockfile {
                        path: PathBuf::from("Cargo.lock"),
                        version: None,
                        packages: Vec::new(),
                    }
                }
            };
            let change = match (&previous, &row.previous) {
                (Some(before), Some(stored)) => changes(before, &lock, stored.seq),
                _ => Changes::default(),
            };
            let names = lock
                .packages
                .iter()
                .map(|p| p.name.to_ascii_lowercase())
                .collect();
            let packages = lock.packages.len();
            let inventory = Inventory::from_parsed_lockfile(lock);
            let report = policy.as_ref().map(|policy| {
                let (accepted, rejected, notes) = &evidence;
                let mut all_notes = vec![NOT_CONSULTED.to_owned()];
                all_notes.extend(notes.iter().cloned());
                gate::evaluate(&GateInput {
                    inventory: &inventory,
                    audit_file: policy,
                    today: now.date(),
                    evidence: accepted,
                    rejected,
                    advisories: None,
                    index: None,
                    on_targets: None,
                    risk: None,
                    licenses: None,
                    notes: all_notes,
                })
            });
            let (mut backlog_lines, mut backlog_lines_unknown) = (0u64, 0usize);
            for v in report.iter().flat_map(|r| &r.packages) {
                if matches!(v.status, Status::Unaudited | Status::Unassigned) {
                    let key = (v.name.to_ascii_lowercase(), v.version.to_string());
                    match lines.get(&key) {
                        Some(n) => backlog_lines += n,
                        None => backlog_lines_unknown += 1,
                    }
                }
            }
            let mix_of = |r| EvidenceMix::of(r, &inventory, &evidence.0);
            let (status, mix) = match &report {
                Some(r) if r.is_clean() => (ProjectStatus::Passes, mix_of(r)),
                Some(r) => (ProjectStatus::Blocked, mix_of(r)),
                None => (ProjectStatus::NoPolicy, EvidenceMix::default()),
            };
            ProjectView {
                name: row.name,
                created: row.created,
                updated: row.latest.uploaded,
                uploaded_by: row.latest.uploaded_by,
                lockfile_seq: row.latest.seq,
                sha256: row.latest.sha256,
                status,
                report,
                packages,
                mix,
                changes: change,
                names,
                backlog_lines,
                backlog_lines_unknown,
            }
        })
        .collect()
}

/// The registry's records as gate evidence: each was verified (signature, head) when it was
/// published; here it must also be signed by a key the policy pins, live, and allowed to assert
/// its criteria, as `check` requires. Revocations by the same key withdraw records.
fn evidence_of(
    policy: &AuditFile,
    rows: &[CrateRow],
    now: Timestamp,
) -> (Vec<Evidence>, Vec<RejectedEvidence>, Vec<String>) {
    let mut records = ProjectRecords::default();
    let mut revoked: HashSet<(String, String)> = HashSet::new();
    for row in rows {
        let Ok(record) = SignedRecord::from_json_line(&row.body) else {
            continue;
        };
        let key = *record.key();
        let Some(auditor) = policy.auditors.iter().find(|a| a.key(&key).is_some()) else {
            continue; // a key the policy does not pin: not evidence, not a problem either
        };
        if let Statement::Revocation { revokes, .. } = &record.record().statement {
            revoked.insert((key.to_string(), revokes.to_string()));
            continue;
        }
        let location = Location {
            path: PathBuf::from(format!("registry/crates/{}.jsonl", row.crate_name)),
            line: None,
        };
        match authorize(&record, auditor, now) {
            Ok(()) => records.accepted.push(AcceptedRecord {
                auditor: auditor.name.clone(),
                record,
                location,
            }),
            Err(rejection) => records.rejected.push(RejectedItem {
                auditor: Some(auditor.name.clone()),
                location,
                rejection,
            }),
        }
    }
    records
        .accepted
        .retain(|a| !revoked.contains(&(a.record.key().to_string(), a.record.id().to_string())));
    gate::evidence_from_records(&records)
}
