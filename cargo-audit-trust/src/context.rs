//! Turns global options into the values the core needs: paths, an inventory, a crate store.

use std::path::{Path, PathBuf};

use audit_trust_core::analyze::{AnalyzeOptions, DEFAULT_MICRO_LINES, analyze};
use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::cache::ClassificationCache;
use audit_trust_core::fetch::{CrateStore, DEFAULT_MAX_CRATE_BYTES, StoreOptions};
use audit_trust_core::gate::{Evidence, RejectedEvidence, evidence_from_records};
use audit_trust_core::http::HttpClient;
use audit_trust_core::inventory::{MetadataOptions, find_lockfile};
use audit_trust_core::report::InventoryReport;
use audit_trust_core::signoff::{HeadCache, RemoteAccess, verify_project_sources};
use audit_trust_core::time::Timestamp;
use audit_trust_core::{Error, Inventory};

use crate::cli::{ClassifyArgs, Format, GlobalArgs};
use crate::output::progress::BarProgress;

/// A project as the commands see it: its inventory and its audit file.
pub struct Project {
    pub inventory: Inventory,
    pub audit_file: AuditFile,
    /// Where the audit file was read from (`None`: no audit file, defaults apply).
    pub audit_path: Option<PathBuf>,
}

/// Reads the audit file, then builds the inventory the way the options ask: lockfile-only or
/// with `cargo metadata` (for the policy's target platforms when `with_targets`).
pub fn load_project(global: &GlobalArgs, with_targets: bool) -> Result<Project, CliError> {
    let (lockfile, manifest) = match &global.lockfile {
        Some(lockfile) => (lockfile.clone(), None),
        None => {
            let manifest = match &global.manifest_path {
                Some(path) => path.clone(),
                None => find_manifest()?,
            };
            let lockfile = find_lockfile(&manifest).ok_or_else(|| Error::NoLockfile {
                manifest: manifest.clone(),
            })?;
            (lockfile, Some(manifest))
        }
    };
    let audit_path = match &global.audit_file {
        Some(path) => Some(path.clone()),
        None => lockfile.parent().and_then(AuditFile::find),
    };
    let audit_file = match &audit_path {
        Some(path) => AuditFile::load(path)?,
        None => AuditFile::default(),
    };
    let inventory = match manifest {
        None => Inventory::from_lockfile(&lockfile)?,
        Some(manifest) => {
            let options = MetadataOptions {
                offline: global.offline,
                cargo: None,
                targets: if with_targets {
                    audit_file.policy.targets.clone()
                } else {
                    Vec::new()
                },
            };
            Inventory::from_manifest(&manifest, &options)?
        }
    };
    Ok(Project {
        inventory,
        audit_file,
        audit_path,
    })
}

/// Classifies the inventory's packages, downloading what no cache has.
pub fn analyze_inventory(
    global: &GlobalArgs,
    classify: &ClassifyArgs,
    project: &Project,
) -> Result<InventoryReport, CliError> {
    let inventory = &project.inventory;
    if global.format == Format::Sarif {
        return Err(CliError::Usage(
            "--format sarif is for `check`; use human or json".into(),
        ));
    }
    let cache_dir = cache_dir(global)?;
    let store = crate_store(global, project)?;
    let cache = ClassificationCache::new(&cache_dir);
    let micro_lines = classify
        .micro_lines
        .or(project.audit_file.policy.micro_lines)
        .unwrap_or(DEFAULT_MICRO_LINES);
    let options = AnalyzeOptions {
        micro_lines,
        ..AnalyzeOptions::default()
    };
    let show_progress =
        !global.quiet && global.format == Format::Human && std::env::var_os("CI").is_none();
    let progress = BarProgress::new(show_progress);
    let report = analyze(inventory, &store, &cache, &options, &progress)?;
    if global.verbose > 0 {
        let w = &report.work;
        eprintln!(
            "note: {} packages from the classification cache, {} classified from crate files ({} downloaded); \
             cache folder {}",
            w.cached,
            w.classified,
            w.downloaded,
            cache_dir.display()
        );
    }
    Ok(report)
}

/// Where crate files and index entries come from, per the global options.
pub fn crate_store(global: &GlobalArgs, project: &Project) -> Result<CrateStore, CliError> {
    crate_store_at(global, &project.inventory.root)
}

/// [`crate_store`] for a project folder (cargo config lookups start there).
pub fn crate_store_at(global: &GlobalArgs, project_dir: &Path) -> Result<CrateStore, CliError> {
    let options = StoreOptions {
        cargo_home: cargo_home()?,
        cache_dir: cache_dir(global)?,
        offline: global.offline,
        jobs: audit_trust_core::http::PARALLEL_REQUESTS,
        max_crate_bytes: DEFAULT_MAX_CRATE_BYTES,
    };
    Ok(CrateStore::new(
        options,
        project_dir,
        HttpClient::default(),
    )?)
}

/// Verified sign-offs and flags of the auditors in `Cargo.audit`, and what was rejected.
#[derive(Debug, Default)]
pub struct EvidenceSet {
    pub accepted: Vec<Evidence>,
    pub rejected: Vec<RejectedEvidence>,
    pub notes: Vec<String>,
}

/// Reads and verifies every auditor's records (pins, signatures, heads, revocations), from local
/// folders and from registries through a mirror in the cache folder, and turns what counts into
/// gate evidence.
pub fn load_evidence(
    global: &GlobalArgs,
    project: &Project,
    now: Timestamp,
) -> Result<EvidenceSet, CliError> {
    let audit_dir = project
        .audit_path
        .as_ref()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| project.inventory.root.clone());
    let cache_dir = cache_dir(global)?;
    let cache = HeadCache::new(&cache_dir);
    let http = HttpClient::default();
    let remote = RemoteAccess {
        http: &http,
        cache_dir: &cache_dir,
        offline: global.offline,
        max_mirror_age: std::time::Duration::from_secs(
            project.audit_file.policy.cache_max_age_hours() * 3600,
        ),
    };
    let records =
        verify_project_sources(&project.audit_file, &audit_dir, &cache, now, Some(&remote))?;
    // An auditor covering nothing in this lockfile cannot hide a flag that matters here.
    records.require_verified_logs(|name| {
        project
            .audit_file
            .auditors
            .iter()
            .filter(|a| a.name == name)
            .any(|a| project.inventory.packages.iter().any(|p| a.covers(&p.name)))
    })?;
    let (accepted, rejected, notes) = evidence_from_records(&records);
    Ok(EvidenceSet {
        accepted,
        rejected,
        notes,
    })
}

/// The nearest `Cargo.toml` in the current folder or above, as cargo finds it.
fn find_manifest() -> Result<PathBuf, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::Usage(format!("cannot read the current folder: {e}")))?;
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no Cargo.toml in {} or any folder above it; pass `--manifest-path PATH` or `--lockfile PATH`",
                cwd.display()
            ))
        })
}

/// The user's configuration folder for this tool (where `key new` puts the key by default).
pub fn config_dir() -> Result<PathBuf, CliError> {
    let base = if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(PathBuf::from(xdg))
    } else if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        home_dir().map(|h| h.join("Library").join("Application Support"))
    } else {
        home_dir().map(|h| h.join(".config"))
    };
    base.map(|b| absolute(&b.join("cargo-audit-trust")))
        .ok_or_else(|| {
            CliError::Usage("cannot find a config folder: set HOME or XDG_CONFIG_HOME".into())
        })
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `CARGO_HOME`, or `~/.cargo` as cargo defaults it.
pub fn cargo_home() -> Result<PathBuf, CliError> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Ok(absolute(Path::new(&home)));
    }
    home_dir()
        .map(|h| h.join(".cargo"))
        .ok_or_else(|| CliError::Usage("cannot find CARGO_HOME: set CARGO_HOME or HOME".into()))
}

/// `--cache-dir`, else the platform's cache folder.
pub fn cache_dir(global: &GlobalArgs) -> Result<PathBuf, CliError> {
    if let Some(dir) = &global.cache_dir {
        return Ok(absolute(dir));
    }
    let base = if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(PathBuf::from(xdg))
    } else if cfg!(windows) {
        std::env::var_os("LOCALAPPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        home_dir().map(|h| h.join("Library").join("Caches"))
    } else {
        home_dir().map(|h| h.join(".cache"))
    };
    base.map(|b| b.join("cargo-audit-trust")).ok_or_else(|| {
        CliError::Usage("cannot find a cache folder: pass `--cache-dir PATH`".into())
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Errors the binary reports; all of them exit with code 2.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Core(Error),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}
