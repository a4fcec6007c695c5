//! Imported audit sets for the gate (from the pinned bytes of `Cargo.audit.lock`, never
//! fetched), and `import refresh`, the one place that fetches them.

use audit_trust_core::Inventory;
use audit_trust_core::gate::Evidence;
use audit_trust_core::http::HttpClient;
use audit_trust_core::imports::{
    self, ImportLock, LockedImport, SetChanges, imported_evidence, lock_path, publishers_of,
    sha256_hex,
};

use crate::error::CliError;
use crate::project::Project;

/// Evidence from every `[[import]]` about the packages of `inventory`, and notes. An import
/// without a matching pin is an error (exit 2): the gate never passes on a set it cannot verify.
pub fn load_imported(
    project: &Project,
    inventory: &Inventory,
) -> Result<(Vec<Evidence>, Vec<String>), CliError> {
    let audit_file = &project.audit_file;
    if audit_file.imports.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let lock = ImportLock::load(&lock_path(&project.audit_dir()))?;
    let sets = imports::load_pinned(audit_file, lock.as_ref())?;
    let publishers = publishers_of(lock.as_ref().map_or(&[], |l| l.publishers.as_slice()));
    let mut notes: Vec<String> = sets
        .iter()
        .flat_map(|s| {
            s.set
                .notes
                .iter()
                .map(move |n| format!("import `{}`: {n}", s.import.name))
        })
        .collect();
    let (evidence, mut more) =
        imported_evidence(audit_file, &sets, &inventory.packages, &publishers);
    notes.append(&mut more);
    Ok((evidence, notes))
}

/// What `import refresh` did to one set.
#[derive(Debug, serde::Serialize)]
pub struct Refreshed {
    #[serde(flatten)]
    pub changes: SetChanges,
    pub url: String,
    /// The mirror a `[url-rewrite]` sent the fetch to; the pin stays under `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<String>,
    pub sha256: String,
}

/// What `import refresh` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct RefreshReport {
    pub sets: Vec<Refreshed>,
    /// `name@version` whose publisher was looked up and pinned.
    pub publishers_learned: Vec<String>,
    /// `name@version: why` whose publisher could not be learned: `trusted` and
    /// `wildcard-audits` entries do not vouch for them.
    pub publishers_unknown: Vec<String>,
}

/// Fetches the named import (every import when `only` is `None`), compares each with its pinned
/// copy, looks up the publishers that `trusted` / `wildcard-audits` entries need, and writes the
/// lock atomically once all is fetched. Nothing is written when a set fails.
pub fn refresh(project: &Project, only: Option<&str>) -> Result<RefreshReport, CliError> {
    let audit_file = &project.audit_file;
    project.require_audit_file()?;
    if let Some(name) = only
        && !audit_file.imports.iter().any(|i| i.name == name)
    {
        return Err(CliError::Usage(format!(
            "{} has no [[import]] named `{}`",
            project.audit_file_name(),
            name.escape_default()
        )));
    }
    if audit_file.imports.is_empty() {
        return Err(CliError::Usage(format!(
            "{} has no [[import]]: add one (see docs/cargo-audit.md) first",
            project.audit_file_name()
        )));
    }
    let audit_dir = project.audit_dir();
    let path = lock_path(&audit_dir);
    let old = ImportLock::load(&path)?;
    let mut lock = old.clone().unwrap_or_default();
    // Entries of imports no longer in Cargo.audit go: the lock pins what Cargo.audit names.
    lock.imports
        .retain(|l| audit_file.imports.iter().any(|i| i.name == l.name));
    let http = HttpClient::default();
    let rewrites = super::url_rewrites(project)?;
    let mut done = Vec::new();
    for import in &audit_file.imports {
        if only.is_some_and(|n| n != import.name) {
            continue;
        }
        let text = imports::fetch_set(
            import,
            &audit_dir,
            &http,
            project.settings.offline,
            &rewrites,
        )?;
        let new_set = imports::parse_set(import, &text, &import.url)?;
        let previous = old
            .as_ref()
            .and_then(|l| l.entry(&import.name))
            .filter(|e| e.url == import.url && sha256_hex(e.content.as_bytes()) == e.sha256)
            .map(|e| imports::parse_set(import, &e.content, "the previous pin"))
            .transpose()
            .unwrap_or(None);
        let changes = imports::changes(&import.name, previous.as_ref(), &new_set);
        let sha256 = sha256_hex(text.as_bytes());
        lock.put(LockedImport {
            origin: None,
            name: import.name.clone(),
            url: import.url.clone(),
            sha256: sha256.clone(),
            fetched: project.settings.now.to_string(),
            content: text,
        });
        done.push(Refreshed {
            changes,
            url: import.url.clone(),
            fetched_from: rewrites.apply(&import.url),
            sha256,
        });
    }
    lock.imports.sort_by_key(|l| {
        audit_file
            .imports
            .iter()
            .position(|i| i.name == l.name)
            .unwrap_or(usize::MAX)
    });
    let mut report = RefreshReport {
        sets: done,
        ..RefreshReport::default()
    };
    super::publishers::learn(project, &mut lock, &mut report)?;
    lock.write(&path).map_err(CliError::from)?;
    Ok(report)
}

/// One entry of an imported set about a crate, for `query`.
#[derive(Debug, serde::Serialize)]
pub struct ImportedEntry {
    /// The set's name; imported evidence is unsigned.
    pub import: String,
    /// Whether the set's `covers` (and include/exclude) let it vouch for this crate.
    pub covers: bool,
    /// `full`, `delta`, `violation`, `trusted` or `wildcard`.
    pub kind: &'static str,
    /// The version, `FROM -> TO`, the violated range, or the publisher and dates.
    pub what: String,
    /// Their criteria.
    pub criteria: Vec<String>,
    /// Ours, through `criteria-map` (their `implies` aside).
    pub maps_to: Vec<String>,
    pub who: Vec<String>,
    pub notes: Option<String>,
}

/// What the pinned sets say about `name` (at `version`, when given). Sets that are not pinned
/// are named in the returned notes instead: `query` informs, the gate is what refuses.
pub fn imported_entries(
    project: &Project,
    name: &str,
    version: Option<&semver::Version>,
) -> Result<(Vec<ImportedEntry>, Vec<String>), CliError> {
    use audit_trust_core::imports::vet::{Publisher, VetKind};
    let audit_file = &project.audit_file;
    if audit_file.imports.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let lock = ImportLock::load(&lock_path(&project.audit_dir()))?;
    let (mut out, mut notes) = (Vec::new(), Vec::new());
    for import in &audit_file.imports {
        let set = match ImportLock::pinned(lock.as_ref(), import)
            .and_then(|text| imports::parse_set(import, text, "Cargo.audit.lock"))
        {
            Ok(set) => set,
            Err(e) => {
                notes.push(e.to_string());
                continue;
            }
        };
        if !import.reads(name) {
            continue;
        }
        let covers = import.covers(name) && audit_file.imports_allowed_for(name);
        let maps_to = |criteria: &[String]| -> Vec<String> {
            criteria
                .iter()
                .flat_map(|c| import.criteria_map.get(c).into_iter().flatten())
                .map(|c| c.as_str().to_owned())
                .collect()
        };
        for a in set.audits.get(name).into_iter().flatten() {
            let (kind, what, relevant) = match &a.kind {
                VetKind::Full(v) => ("full", v.to_string(), version.is_none_or(|x| x == v)),
                VetKind::Delta { from, to } => (
                    "delta",
                    format!("{from} -> {to}"),
                    version.is_none_or(|x| x == to),
                ),
                VetKind::Violation(req) => (
                    "violation",
                    req.to_string(),
                    version.is_none_or(|x| req.matches(x)),
                ),
            };
            if relevant {
                out.push(ImportedEntry {
                    import: import.name.clone(),
                    covers,
                    kind,
                    what,
                    criteria: a.criteria.clone(),
                    maps_to: maps_to(&a.criteria),
                    who: a.who.clone(),
                    notes: a.notes.clone(),
                });
            }
        }
        for (kind, map) in [("trusted", &set.trusted), ("wildcard", &set.wildcard)] {
            for e in map.get(name).into_iter().flatten() {
                let publisher = match &e.publisher {
                    Publisher::UserId(id) => format!("crates.io user {id}"),
                    Publisher::TrustedPublisher(p) => p.clone(),
                };
                out.push(ImportedEntry {
                    import: import.name.clone(),
                    covers,
                    kind,
                    what: format!("published by {publisher} from {} to {}", e.start, e.end),
                    criteria: e.criteria.clone(),
                    maps_to: maps_to(&e.criteria),
                    who: Vec::new(),
                    notes: e.notes.clone(),
                });
            }
        }
    }
    Ok((out, notes))
}
