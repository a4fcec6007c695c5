//! Secret key files. A key file is created with mode 0600 from its first byte (the temporary file
//! is opened with that mode, then linked into place without replacing anything), and a key file
//! others can read is refused, as ssh does.

use std::io::{Read as _, Write as _};
use std::path::Path;

use zeroize::Zeroizing;

use super::SigningKey;
use crate::Error;

/// A key file is a few lines; anything larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// The environment variable a CI bot may pass its secret key in. It is read once and removed
/// from the environment of every process this tool starts (see [`crate::child_env`]).
pub const SIGNING_KEY_ENV: &str = "AUDIT_TRUST_SIGNING_KEY";

/// Writes a new key file at `path`. An existing file is never replaced.
pub fn create_key_file(path: &Path, key: &SigningKey) -> Result<(), Error> {
    let key_error = |message: String| Error::Key {
        origin: path.display().to_string(),
        message,
    };
    if path.symlink_metadata().is_ok() {
        return Err(key_error(
            "a file already exists there; it is never overwritten (move it away, or pass `--out PATH`)".into(),
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    create_private_dir(dir)?;
    let mut tmp = private_temp_file(dir)?;
    tmp.write_all(key.to_file_text().as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            key_error("a file appeared there while the key was written; it was left alone".into())
        } else {
            Error::io(path, e.error)
        }
    })?;
    Ok(())
}

/// Reads a key file, refusing one that others may read.
pub fn load_key_file(path: &Path) -> Result<SigningKey, Error> {
    let key_error = |message: String| Error::Key {
        origin: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            key_error(
                "no key file here: create one with `cargo audit-trust key new`, or pass `--key PATH`"
                    .into(),
            )
        } else {
            Error::io(path, e)
        }
    })?;
    check_private_mode(&file, path)?;
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, e))?;
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(key_error("too large to be a key file".into()));
    }
    SigningKey::parse(&text).map_err(|e| key_error(e.to_string()))
}

/// Parses the secret key passed in [`SIGNING_KEY_ENV`].
pub fn key_from_env_value(value: &str) -> Result<SigningKey, Error> {
    SigningKey::parse(value).map_err(|e| Error::Key {
        origin: SIGNING_KEY_ENV.into(),
        message: e.to_string(),
    })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

#[cfg(unix)]
fn private_temp_file(dir: &Path) -> Result<tempfile::NamedTempFile, Error> {
    use std::os::unix::fs::PermissionsExt as _;
    tempfile::Builder::new()
        .prefix(".signing-key-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))
}

#[cfg(not(unix))]
fn private_temp_file(dir: &Path) -> Result<tempfile::NamedTempFile, Error> {
    // The file inherits the folder's access list, which is the user's profile by default.
    tempfile::Builder::new()
        .prefix(".signing-key-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))
}

#[cfg(unix)]
fn check_private_mode(file: &std::fs::File, path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = file
        .metadata()
        .map_err(|e| Error::io(path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::Key {
            origin: path.display().to_string(),
            message: format!(
                "others may read this key file (mode {:o}); run `chmod 600 {}`",
                mode & 0o777,
                path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_mode(_file: &std::fs::File, _path: &Path) -> Result<(), Error> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_file_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/folder/signing-key");
        let key = SigningKey::generate().expect("OS randomness");
        create_key_file(&path, &key).expect("create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode =
                |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("sub/folder")), 0o700);
        }
        assert_eq!(
            load_key_file(&path).expect("load").public_key(),
            key.public_key()
        );
        let before = std::fs::read(&path).expect("read");
        let other = SigningKey::generate().expect("OS randomness");
        let err = create_key_file(&path, &other).expect_err("must not overwrite");
        assert!(err.to_string().contains("never overwritten"), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), before);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub/folder"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["signing-key"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key");
        let key = SigningKey::generate().expect("OS randomness");
        create_key_file(&path, &key).expect("create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = load_key_file(&path).expect_err("too open");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn env_values_are_parsed_without_echoing_them() {
        let key = SigningKey::generate().expect("OS randomness");
        let text = key.to_file_text();
        let line = text.lines().last().expect("secret line");
        assert_eq!(
            key_from_env_value(line).expect("parse").public_key(),
            key.public_key()
        );
        let err = key_from_env_value("ed25519-secret:hunter2").expect_err("bad");
        assert!(
            err.to_string()
                .starts_with("signing key AUDIT_TRUST_SIGNING_KEY:"),
            "{err}"
        );
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
