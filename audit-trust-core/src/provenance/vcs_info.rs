//! `.cargo_vcs_info.json`, written by `cargo package` inside a git checkout:
//! `{"git": {"sha1": "…", "dirty": true}, "path_in_vcs": "crates/foo"}`. Every field is the
//! publisher's claim and is validated before use.

use serde::Deserialize;

pub const VCS_INFO_FILE: &str = ".cargo_vcs_info.json";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsInfo {
    /// The commit, as 40 lowercase hex digits.
    pub sha1: String,
    pub dirty: bool,
    /// The package's folder in the repository (`""` for the root); absent before cargo 1.58.
    pub path_in_vcs: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    git: Option<RawGit>,
    path_in_vcs: Option<String>,
}

#[derive(Deserialize)]
struct RawGit {
    sha1: String,
    #[serde(default)]
    dirty: bool,
}

/// Parses and validates the file; the error is a sentence for an `unverifiable` reason.
pub fn parse_vcs_info(bytes: &[u8]) -> Result<VcsInfo, String> {
    let raw: Raw =
        serde_json::from_slice(bytes).map_err(|e| format!("{VCS_INFO_FILE} is not valid: {e}"))?;
    let git = raw
        .git
        .ok_or_else(|| format!("{VCS_INFO_FILE} names no git commit"))?;
    let sha1 = git.sha1.to_ascii_lowercase();
    if sha1.len() != 40 || !sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{VCS_INFO_FILE} names `{}`, which is not a git commit id",
            git.sha1.escape_debug()
        ));
    }
    let path_in_vcs =
        match raw.path_in_vcs {
            Some(path) => Some(validate_relative_path(&path).map_err(|why| {
                format!("path_in_vcs `{}` is refused: {why}", path.escape_debug())
            })?),
            None => None,
        };
    Ok(VcsInfo {
        sha1,
        dirty: git.dirty,
        path_in_vcs,
    })
}

/// Longest repository path accepted from a tarball.
const MAX_PATH_LEN: usize = 4096;

/// A `/`-separated path inside the repository, without a trailing `/`. Absolute paths, `..`,
/// `.`, empty components, backslashes and control characters are refused: such a path could
/// reach outside the repository or display as something else.
pub fn validate_relative_path(path: &str) -> Result<String, String> {
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return Ok(String::new());
    }
    if path.len() > MAX_PATH_LEN {
        return Err("it is too long".into());
    }
    if path.starts_with('/') {
        return Err("it is absolute".into());
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return Err("it contains a backslash or a control character".into());
    }
    for component in path.split('/') {
        match component {
            ".." => return Err("it contains `..`".into()),
            "" | "." => return Err("it contains an empty or `.` component".into()),
            _ if component.len() >= 2 && component.as_bytes()[1] == b':' => {
                return Err("it starts like a Windows drive".into());
            }
            _ => {}
        }
    }
    Ok(path.to_owned())
}

/// `folder/path`, or `path` for the root folder.
pub fn join(folder: &str, path: &str) -> String {
    if folder.is_empty() {
        path.to_owned()
    } else {
        format!("{folder}/{path}")
    }
}

/// Lexically resolves `relative` (which may use `..` and `.`) against the repository folder
/// `base`. `None` when it is absolute or climbs above the repository root.
pub fn resolve_within_repository(base: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') || relative.contains('\\') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for component in relative.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_cargo_writes() {
        let info = parse_vcs_info(
            br#"{"git":{"sha1":"0123456789ABCDEF0123456789abcdef01234567","dirty":true},"path_in_vcs":"crates/a"}"#,
        )
        .expect("valid");
        assert_eq!(info.sha1, "0123456789abcdef0123456789abcdef01234567");
        assert!(info.dirty);
        assert_eq!(info.path_in_vcs.as_deref(), Some("crates/a"));
        let old = parse_vcs_info(br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567"}}"#)
            .expect("valid");
        assert_eq!(old.path_in_vcs, None);
        assert!(!old.dirty);
    }

    #[test]
    fn hostile_fields_are_refused() {
        for path in [
            "../x",
            "/etc",
            "a/../../b",
            "a\\b",
            "a//b",
            "C:/x",
            "a/\u{1b}[2J",
        ] {
            let json = format!(
                r#"{{"git":{{"sha1":"0123456789abcdef0123456789abcdef01234567"}},"path_in_vcs":{path:?}}}"#
            );
            assert!(parse_vcs_info(json.as_bytes()).is_err(), "{path:?}");
        }
        for sha in ["abc", "zz23456789abcdef0123456789abcdef01234567", "../../x"] {
            let json = format!(r#"{{"git":{{"sha1":{sha:?}}}}}"#);
            assert!(parse_vcs_info(json.as_bytes()).is_err(), "{sha:?}");
        }
        assert!(parse_vcs_info(b"not json").is_err());
    }

    #[test]
    fn resolves_inside_the_repository_only() {
        assert_eq!(
            resolve_within_repository("crates/a", "../../README.md").as_deref(),
            Some("README.md")
        );
        assert_eq!(
            resolve_within_repository("crates/a", "./docs/x.md").as_deref(),
            Some("crates/a/docs/x.md")
        );
        assert_eq!(resolve_within_repository("crates/a", "../../../x"), None);
        assert_eq!(resolve_within_repository("", "/etc/passwd"), None);
    }
}
