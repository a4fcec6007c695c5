//! Turns global options into the values the core needs: paths, an inventory, a crate store.

use std::path::{Path, PathBuf};

use audit_trust_core::analyze::{AnalyzeOptions, DEFAULT_MICRO_LINES, analyze};
use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::cache::ClassificationCache;
use audit_trust_core::fetch::{CrateStore, DEFAULT_MAX_CRATE_BYTES, StoreOptions};
use audit_trust_core::http::HttpClient;
use audit_trust_core::inventory::MetadataOptions;
use audit_trust_core::report::InventoryReport;
use audit_trust_core::{Error, Inventory};

use crate::cli::{ClassifyArgs, Format, GlobalArgs};
use crate::output::progress::BarProgress;

/// Builds the inventory the way the options ask: lockfile-only or with `cargo metadata`.
pub fn load_inventory(global: &GlobalArgs) -> Result<Inventory, CliError> {
    if let Some(lockfile) = &global.lockfile {
        return Ok(Inventory::from_lockfile(lockfile)?);
    }
    let manifest = match &global.manifest_path {
        Some(path) => path.clone(),
        None => find_manifest()?,
    };
    let options = MetadataOptions {
        offline: global.offline,
        cargo: None,
    };
    Ok(Inventory::from_manifest(&manifest, &options)?)
}

/// Classifies the inventory's packages, downloading what no cache has.
pub fn analyze_inventory(
    global: &GlobalArgs,
    classify: &ClassifyArgs,
    inventory: &Inventory,
) -> Result<InventoryReport, CliError> {
    let cache_dir = cache_dir(global)?;
    let store_options = StoreOptions {
        cargo_home: cargo_home()?,
        cache_dir: cache_dir.clone(),
        offline: global.offline,
        jobs: 8,
        max_crate_bytes: DEFAULT_MAX_CRATE_BYTES,
    };
    let store = CrateStore::new(store_options, &inventory.root, HttpClient::default())?;
    let cache = ClassificationCache::new(&cache_dir);
    let audit_file = load_audit_file(global, inventory)?;
    let micro_lines = classify
        .micro_lines
        .or(audit_file.policy.micro_lines)
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

/// `--audit-file`, else `Cargo.audit` next to the lockfile, else an empty policy.
pub fn load_audit_file(global: &GlobalArgs, inventory: &Inventory) -> Result<AuditFile, CliError> {
    let path = match &global.audit_file {
        Some(path) => Some(path.clone()),
        None => AuditFile::find(&inventory.root),
    };
    match path {
        Some(path) => Ok(AuditFile::load(&path)?),
        None => Ok(AuditFile::default()),
    }
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
