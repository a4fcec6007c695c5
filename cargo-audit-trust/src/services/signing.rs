//! Who signs: the secret key (`--key PATH`, else `AUDIT_TRUST_SIGNING_KEY`, else the default key
//! file in the user's config folder), the auditor in `Cargo.audit` that pins it, and that
//! auditor's local store. The secret itself is never printed.

use std::path::{Path, PathBuf};

use audit_trust_core::audit_file::{Auditor, PinnedKey};
use audit_trust_core::signoff::{
    LocalStore, PublicKey, SIGNING_KEY_ENV, SignedHead, SignedRecord, SigningKey,
    key_from_env_value, load_key_file,
};
use audit_trust_core::time::Timestamp;

use crate::error::CliError;
use crate::project::Project;
use crate::settings::config_dir;

/// How long a head written by this tool stays valid. A frozen copy of the store stops being
/// believed after this; `refresh-head` (or any new record) renews it.
pub const HEAD_LIFETIME_DAYS: i64 = 365;

/// The default key file: `signing-key` in the config folder.
pub fn default_key_path() -> Result<PathBuf, CliError> {
    Ok(config_dir()?.join("signing-key"))
}

/// A loaded key and a description of where it came from (a path, or the variable's name).
pub struct LoadedKey {
    pub key: SigningKey,
    pub origin: String,
}

pub fn load_signing_key(explicit: Option<&Path>) -> Result<LoadedKey, CliError> {
    if let Some(path) = explicit {
        return from_file(path);
    }
    if let Some(value) = std::env::var_os(SIGNING_KEY_ENV).filter(|v| !v.is_empty()) {
        let value = value
            .into_string()
            .map_err(|_| CliError::Usage(format!("{SIGNING_KEY_ENV} is not valid UTF-8")))?;
        let value = zeroize::Zeroizing::new(value);
        return Ok(LoadedKey {
            key: key_from_env_value(&value)?,
            origin: SIGNING_KEY_ENV.to_owned(),
        });
    }
    from_file(&default_key_path()?)
}

fn from_file(path: &Path) -> Result<LoadedKey, CliError> {
    Ok(LoadedKey {
        key: load_key_file(path)?,
        origin: path.display().to_string(),
    })
}

/// Everything needed to add records: the key, the auditor pinning it (live), its store, now.
pub struct Signer<'a> {
    pub loaded: LoadedKey,
    pub auditor: &'a Auditor,
    pub pin: &'a PinnedKey,
    pub store: LocalStore,
    pub now: Timestamp,
}

impl<'a> Signer<'a> {
    /// The signer of `key` (see [`load_signing_key`]) for the project's audit file, which must
    /// exist and pin the key.
    pub fn for_project(project: &'a Project, key: Option<&Path>) -> Result<Signer<'a>, CliError> {
        let usage = CliError::Usage;
        let audit_path = project.require_audit_file()?;
        let loaded = load_signing_key(key)?;
        let public = loaded.key.public_key();
        let (auditor, pin) = project
            .audit_file
            .auditors
            .iter()
            .find_map(|a| a.key(&public).map(|pin| (a, pin)))
            .ok_or_else(|| {
                usage(format!(
                    "no auditor in {} pins the key {public} (from {}); add it to an auditor's \
                     `keys`, or sign with a key that is pinned (`--key PATH`)",
                    audit_path.display(),
                    loaded.origin
                ))
            })?;
        let now = project.settings.now;
        if !pin.is_live(now) {
            return Err(usage(format!(
                "the pin of your key {public} in {} ended on {}: nothing it signs would count",
                audit_path.display(),
                pin.not_after.map(|d| d.to_string()).unwrap_or_default()
            )));
        }
        let folder = auditor
            .records
            .folder(&project.audit_dir())
            .ok_or_else(|| {
                usage(format!(
                    "auditor `{}` keeps its records in a registry; publishing to one is not \
                 available yet, so sign into a local folder (`records = {{ folder = \"…\" }}`)",
                    auditor.name
                ))
            })?;
        Ok(Signer {
            loaded,
            auditor,
            pin,
            store: LocalStore::new(folder),
            now,
        })
    }

    pub fn public(&self) -> PublicKey {
        self.loaded.key.public_key()
    }

    /// Appends records (possibly none) and a new head of the key to the auditor's store.
    pub fn append(&self, records: &[SignedRecord]) -> Result<SignedHead, CliError> {
        Ok(self
            .store
            .append(records, &self.loaded.key, self.now, HEAD_LIFETIME_DAYS)?)
    }
}
