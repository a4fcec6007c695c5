//! Which secret key signs: `--key PATH`, else `AUDIT_TRUST_SIGNING_KEY`, else the default key
//! file in the user's config folder. The secret itself is never printed.

use std::path::{Path, PathBuf};

use audit_trust_core::signoff::{SIGNING_KEY_ENV, SigningKey, key_from_env_value, load_key_file};

use crate::context::{CliError, config_dir};

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
