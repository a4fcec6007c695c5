//! Work that several commands share, on a [`Project`](crate::project::Project): commands call
//! these and never each other. Each function takes plain values, prints nothing and returns
//! what it found, so the command (or the review UI) decides how to show it.

pub mod audit_file_edit;
pub mod classify;
pub mod crate_source;
pub mod evidence;
pub mod gate;
pub mod provenance;
pub mod publish;
pub mod risk;
pub mod sign;
pub mod signing;

use audit_trust_core::fetch::{CrateStore, DEFAULT_MAX_CRATE_BYTES, StoreOptions};
use audit_trust_core::http::HttpClient;

use crate::error::CliError;
use crate::project::Project;
use crate::settings::cargo_home;

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
