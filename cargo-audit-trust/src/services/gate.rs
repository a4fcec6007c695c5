//! Everything the gate decides from, gathered once for every command that evaluates it
//! (`check`, `prune`, `suggest`, `update`): the project, the index's word on each registry
//! package, the advisory database and the auditors' verified evidence.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use audit_trust_core::advisories::{AdvisoryDatabase, DEFAULT_ADVISORY_DB_URL, fetch_advisory_db};
use audit_trust_core::fetch::index_report::IndexReport;
use audit_trust_core::fetch::{CrateStore, IndexVersion};
use audit_trust_core::gate::{Evidence, GateInput};
use audit_trust_core::progress::Progress;
use audit_trust_core::provenance::git_cache::{FetchLimits, GitCache};
use audit_trust_core::time::{Date, Timestamp};
use audit_trust_core::{Error, Inventory, Package};

use super::crate_store;
use super::evidence::{EvidenceSet, load_evidence};
use crate::error::CliError;
use crate::project::{InventoryNeed, Project};
use crate::settings::Settings;

/// The gate's inputs, owned; [`GateContext::input`] lends them to `evaluate`.
pub struct GateContext {
    pub project: Project,
    /// The project's inventory (the gate always has one; taken out of `project` once).
    pub inventory: Inventory,
    pub store: CrateStore,
    pub index: IndexReport,
    /// `None` when the database could not be read; `db_error` says why.
    pub db: Option<AdvisoryDatabase>,
    pub db_error: Option<Error>,
    pub evidence: EvidenceSet,
    pub now: Timestamp,
    /// What could not be checked, in plain words (the report shows them).
    pub notes: Vec<String>,
    /// Risk signals, once `services::risk::compute` ran (only `check` asks for them).
    pub risk: Option<audit_trust_core::risk::RiskReport>,
    /// License inventories, once `services::licenses::for_gate` ran (only `check` asks, and only
    /// with a `[licenses]` policy).
    pub licenses: Option<Vec<Option<audit_trust_core::license::PackageLicense>>>,
}

impl GateContext {
    /// Reads the project (with `cargo metadata` unless `--lockfile`), the index entries, the
    /// advisory database (`advisory_db`, else `[advisories]`) and the verified sign-offs. An
    /// unreadable advisory database is not an error here: the caller decides (the gate fails).
    pub fn gather(settings: &Settings, advisory_db: Option<&Path>) -> Result<Self, CliError> {
        let mut part = ProjectPart::read(settings)?;
        let (db, db_error) =
            match open_advisory_db(&part.project, advisory_db, &settings.progress()) {
                Ok(db) => (Some(db), None),
                Err(CliError::Core(e @ Error::AdvisoryDb { .. })) => {
                    part.notes.push(db_note(&e));
                    (None, Some(e))
                }
                Err(other) => return Err(other),
            };
        Ok(GateContext {
            project: part.project,
            inventory: part.inventory,
            store: part.store,
            index: part.index,
            db,
            db_error,
            evidence: part.evidence,
            now: settings.now,
            notes: part.notes,
            risk: None,
            licenses: None,
        })
    }

    /// Reads what a move of `update` changed: the project (its `cargo metadata` inventory) and
    /// the index entries, which are cached, so only new packages cost a request. The advisory
    /// database and the auditors' verified records are kept: neither depends on the lockfile,
    /// and syncing every log again per move is what made long plans slow. Whether an auditor
    /// whose log did not verify now covers a package is asked again.
    ///
    /// Returns what it replaced, so a move that is undone puts it back with [`Self::restore`]
    /// instead of reading the restored lockfile once more.
    pub fn reread(&mut self, settings: &Settings) -> Result<LockfileState, CliError> {
        let mut part = LockfilePart::read(settings)?;
        let evidence = (self.evidence.accepted.clone(), self.evidence.notes.clone());
        self.evidence
            .follow_inventory(&part.project, &part.inventory)?;
        part.notes.extend(self.evidence.notes.iter().cloned());
        if let Some(e) = &self.db_error {
            part.notes.push(db_note(e));
        }
        Ok(LockfileState(self.swap(part), evidence))
    }

    /// Puts back what [`Self::reread`] replaced (the lockfile was restored to match it).
    pub fn restore(&mut self, previous: LockfileState) {
        self.swap(previous.0);
        (self.evidence.accepted, self.evidence.notes) = previous.1;
    }

    fn swap(&mut self, part: LockfilePart) -> LockfilePart {
        LockfilePart {
            project: std::mem::replace(&mut self.project, part.project),
            inventory: std::mem::replace(&mut self.inventory, part.inventory),
            store: std::mem::replace(&mut self.store, part.store),
            index: std::mem::replace(&mut self.index, part.index),
            notes: std::mem::replace(&mut self.notes, part.notes),
        }
    }

    /// Every published version of each registry crate in the lockfile, by name, from the index
    /// entries `gather` just cached. A crate whose index cannot be read is left out, with a
    /// note: nothing can move to or be measured against versions nobody can see.
    pub fn published_versions(&mut self) -> HashMap<String, Vec<IndexVersion>> {
        let max_age = self.project.audit_file.policy.index_max_age_minutes() * 60;
        let mut published = HashMap::new();
        for p in &self.inventory.packages {
            if !p.source.is_registry() || published.contains_key(&p.name) {
                continue;
            }
            match self
                .store
                .index_versions_within(&p.name, &p.source, Duration::from_secs(max_age))
            {
                Ok((versions, _)) => {
                    published.insert(p.name.clone(), versions);
                }
                Err(e) => self
                    .notes
                    .push(format!("{}: published versions unknown: {e}", p.name)),
            }
        }
        published
    }

    pub fn today(&self) -> Date {
        self.now.date()
    }

    pub fn input(&self) -> GateInput<'_> {
        GateInput {
            inventory: &self.inventory,
            audit_file: &self.project.audit_file,
            today: self.today(),
            evidence: &self.evidence.accepted,
            rejected: &self.evidence.rejected,
            advisories: self.db.as_ref(),
            index: Some(&self.index),
            on_targets: self.inventory.on_targets.as_ref(),
            risk: self.risk.as_ref(),
            licenses: self.licenses.as_deref(),
            notes: self.notes.clone(),
        }
    }
}

/// What the registry indexes say (checksums, yanked flags) of the inventory's registry
/// packages; cached entries younger than `[policy] index-max-age-minutes` count as fresh.
pub fn registry_index_report(
    project: &Project,
    store: &CrateStore,
    inventory: &Inventory,
) -> Result<IndexReport, CliError> {
    let registry: Vec<&Package> = inventory
        .packages
        .iter()
        .filter(|p| p.source.is_registry())
        .collect();
    let max_age = project.audit_file.policy.index_max_age_minutes() * 60;
    Ok(store.index_report(
        &registry,
        Duration::from_secs(max_age),
        &project.settings.progress(),
    )?)
}

/// `--advisory-db`, else `[advisories] db` (relative to Cargo.audit's folder), else the git
/// repository of `[advisories] git` (RustSec's by default), fetched into the cache.
pub fn open_advisory_db(
    project: &Project,
    explicit: Option<&Path>,
    progress: &dyn Progress,
) -> Result<AdvisoryDatabase, CliError> {
    let configured = project
        .audit_file
        .advisories
        .db
        .as_ref()
        .map(|db| project.audit_dir().join(db));
    if let Some(path) = explicit.map(Path::to_path_buf).or(configured) {
        return Ok(AdvisoryDatabase::open(&path)?);
    }
    let url = project
        .audit_file
        .advisories
        .git
        .as_deref()
        .unwrap_or(DEFAULT_ADVISORY_DB_URL);
    let cache_dir = project.settings.cache_dir()?;
    let git = GitCache::new(&cache_dir, FetchLimits::default(), project.settings.offline);
    Ok(fetch_advisory_db(url, &git, &cache_dir, progress)?)
}

fn db_note(e: &Error) -> String {
    format!("ADVISORIES WERE NOT CHECKED: {e}")
}

/// The part of [`GateContext`] that follows the lockfile: the project, its inventory, the index
/// entries and the evidence about its packages.
struct ProjectPart {
    project: Project,
    inventory: Inventory,
    store: CrateStore,
    index: IndexReport,
    evidence: EvidenceSet,
    notes: Vec<String>,
}

impl ProjectPart {
    fn read(settings: &Settings) -> Result<Self, CliError> {
        let mut part = LockfilePart::read(settings)?;
        let evidence = load_evidence(&part.project, &part.inventory)?;
        part.notes.extend(evidence.notes.iter().cloned());
        Ok(ProjectPart {
            project: part.project,
            inventory: part.inventory,
            store: part.store,
            index: part.index,
            evidence,
            notes: part.notes,
        })
    }
}

/// What a lockfile's state was before [`GateContext::reread`].
pub struct LockfileState(LockfilePart, (Vec<Evidence>, Vec<String>));

/// What changes with the lockfile: the project and its inventory, and the index entries.
struct LockfilePart {
    project: Project,
    inventory: Inventory,
    store: CrateStore,
    index: IndexReport,
    notes: Vec<String>,
}

impl LockfilePart {
    fn read(settings: &Settings) -> Result<Self, CliError> {
        let mut project = Project::open(settings, InventoryNeed::Required { targets: true })?;
        let inventory = project.take_inventory()?;
        let mut notes = Vec::new();
        if project.paths.lockfile_only {
            notes.push(
                "lockfile-only mode: dev-only packages and target platforms are unknown, so every \
                 package is held to the full criteria"
                    .to_owned(),
            );
        }
        let store = crate_store(&project)?;
        let index = registry_index_report(&project, &store, &inventory)?;
        // Within the policy's maximum age cached index data is as good as fresh; offline it
        // may be older, and the report says how old.
        if settings.offline
            && let Some(oldest) = index.oldest_cached
            && let Ok(age) = oldest.elapsed()
        {
            let minutes = age.as_secs() / 60;
            let age = if minutes < 120 {
                format!("{minutes} minutes")
            } else {
                format!("{} hours", minutes / 60)
            };
            notes.push(format!(
                "--offline: index data (yanked flags, checksums) is up to {age} old"
            ));
        }
        for (package, why) in &index.unavailable {
            notes.push(format!(
                "{package}: yanked status and index checksum not checked: {why}"
            ));
        }
        Ok(LockfilePart {
            project,
            inventory,
            store,
            index,
            notes,
        })
    }
}
