//! Validation of crate names and versions read from untrusted input (lockfiles, index entries,
//! records) before they become part of a file name, a URL or a cache key.

use std::fmt;

/// The longest crate name crates.io accepts.
const MAX_NAME_LEN: usize = 64;
/// Far longer than any real version string; keeps paths and keys bounded.
const MAX_VERSION_LEN: usize = 128;

/// Why a name or version was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(pub String);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidName {}

/// Checks a crate name against crates.io's rules: ASCII letters, digits, `-` and `_`, starting
/// with a letter, at most 64 characters. Such a name can never name a parent directory, an
/// absolute path or a hidden file.
pub fn validate_crate_name(name: &str) -> Result<(), InvalidName> {
    let Some(first) = name.chars().next() else {
        return Err(InvalidName("the crate name is empty".into()));
    };
    if name.len() > MAX_NAME_LEN {
        return Err(InvalidName(format!(
            "crate name `{}…` is longer than {MAX_NAME_LEN} characters",
            truncate(name, 32)
        )));
    }
    if !first.is_ascii_alphabetic() {
        return Err(InvalidName(format!(
            "crate name `{}` must start with an ASCII letter",
            escape(name)
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(InvalidName(format!(
            "crate name `{}` contains `{}`; only ASCII letters, digits, `-` and `_` are allowed",
            escape(name),
            bad.escape_default()
        )));
    }
    Ok(())
}

/// Checks that a version is valid semver (which also rules out `/`, `\`, `..` and spaces).
pub fn validate_version(version: &str) -> Result<semver::Version, InvalidName> {
    if version.len() > MAX_VERSION_LEN {
        return Err(InvalidName(format!(
            "version `{}…` is longer than {MAX_VERSION_LEN} characters",
            truncate(version, 32)
        )));
    }
    semver::Version::parse(version).map_err(|e| {
        InvalidName(format!(
            "version `{}` is not valid semver: {e}",
            escape(version)
        ))
    })
}

fn truncate(s: &str, max: usize) -> String {
    escape(&s.chars().take(max).collect::<String>())
}

/// Escapes control characters so that hostile names cannot drive a terminal.
fn escape(s: &str) -> String {
    s.chars().flat_map(char::escape_default).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_names() {
        for name in [
            "serde",
            "serde_json",
            "tokio-util",
            "a",
            "Inflector",
            "windows_x86_64_gnu",
        ] {
            assert_eq!(validate_crate_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_path_like_and_odd_names() {
        for name in [
            "", "../etc", "a/b", "a\\b", ".hidden", "-dash", "1abc", "a b", "é", "a\0",
        ] {
            assert!(validate_crate_name(name).is_err(), "{name:?} was accepted");
        }
        assert!(validate_crate_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn versions_must_be_semver() {
        assert!(validate_version("1.0.0").is_ok());
        assert!(validate_version("0.3.0-alpha.1+build.5").is_ok());
        for v in ["", "1.0", "../1.0.0", "1.0.0/x", "v1.0.0", "1.0.0 "] {
            assert!(validate_version(v).is_err(), "{v:?} was accepted");
        }
    }
}
