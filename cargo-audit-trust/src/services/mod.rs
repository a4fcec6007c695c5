//! Work that several commands share, on a [`Project`](crate::project::Project): commands call
//! these and never each other. Each function takes plain values, prints nothing and returns
//! what it found, so the command (or the review UI) decides how to show it.

pub mod audit_file_edit;
pub mod base;
pub mod classify;
pub mod crate_source;
pub mod evidence;
pub mod gate;
pub mod imports;
pub mod licenses;
pub mod project_upload;
pub mod provenance;
pub mod publish;
pub mod publishers;
pub mod risk;
pub mod sign;
pub mod signing;
pub mod standing;
pub mod verify_sources;

use audit_trust_core::audit_file::UserConfig;
use audit_trust_core::fetch::{CrateStore, DEFAULT_MAX_CRATE_BYTES, StoreOptions};
use audit_trust_core::http::HttpClient;
use audit_trust_core::provenance::UrlRewrites;

use crate::error::CliError;
use crate::project::Project;
use crate::settings::cargo_home;

/// The repository URL rewrites in force: `Cargo.audit`'s `[url-rewrite]`, with this machine's
/// (`config.toml` in the user's config folder, see [`crate::settings::user_config_path`]) on
/// top; for the same prefix the machine's entry wins. A config file that does not parse is an
/// error naming its line; one that does not exist adds nothing.
pub fn url_rewrites(project: &Project) -> Result<UrlRewrites, CliError> {
    let rules = match crate::settings::user_config_path() {
        Some(path) => UserConfig::load(&path)?.merged_rewrites(&project.audit_file.url_rewrite),
        None => project.audit_file.url_rewrite.clone(),
    };
    Ok(UrlRewrites::new(rules))
}

/// Where crate files and index entries come from: cargo's caches, this tool's cache, the
/// registries (not with `--offline`). Cargo's configuration is read from the project root.
pub fn crate_store(project: &Project) -> Result<CrateStore, CliError> {
    let settings = &project.settings;
    let options = StoreOptions {
        cargo_home: cargo_home()?,
        cache_dir: settings.cache_dir()?,
        offline: settings.offline,
        jobs: audit_trust_core::http::PARALLEL_REQUESTS,
        max_crate_bytes: DEFAULT_MAX_CRATE_BYTES,
    };
    Ok(CrateStore::new(
        options,
        &project.root(),
        HttpClient::default(),
    )?)
}
