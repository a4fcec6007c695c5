//! Registering a lockfile as a project's latest with an audit-registry
//! (`POST /v1/admin/projects/{name}`, admin token): the registry evaluates it against the
//! organization's policy and shows it on its project pages.

use std::path::Path;

use audit_trust_core::http::HttpClient;
use serde::Serialize;

use crate::error::CliError;

/// The registry refuses larger lockfiles; checked here first for a clear message.
const MAX_LOCKFILE_BYTES: u64 = 4 * 1024 * 1024;
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// What the registry said it stored.
#[derive(Debug, Serialize)]
pub struct ProjectUploaded {
    pub name: String,
    /// The lockfile's sequence number in the project's history.
    pub lockfile: u64,
    /// False when the registry already had this exact lockfile as the latest.
    pub changed: bool,
    pub packages: u64,
}

/// A project name as the registry accepts it: 1 to 64 ASCII letters, digits, `-`, `_` or `.`,
/// starting with a letter or digit.
pub fn valid_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Sends the lockfile at `path` as project `name`'s latest.
pub fn register(
    http: &HttpClient,
    registry: &str,
    token: &str,
    name: &str,
    path: &Path,
) -> Result<ProjectUploaded, CliError> {
    if !valid_project_name(name) {
        return Err(CliError::Usage(format!(
            "--project `{}`: a project name is 1 to 64 ASCII letters, digits, `-`, `_` or `.`, starting with a letter or digit",
            name.escape_default()
        )));
    }
    let size = std::fs::metadata(path)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?
        .len();
    if size > MAX_LOCKFILE_BYTES {
        return Err(CliError::Usage(format!(
            "{}: {size} bytes; a registry takes lockfiles of at most {MAX_LOCKFILE_BYTES}",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let url = format!(
        "{}/v1/admin/projects/{name}",
        registry.trim_end_matches('/')
    );
    let body = serde_json::json!({ "lockfile": text });
    let (status, answer) = http
        .post_json_with_bearer(&url, token, body.to_string().into_bytes(), MAX_ANSWER_BYTES)
        .map_err(|e| CliError::Usage(format!("cannot reach {url}: {e}")))?;
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
    if status != 200 {
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or("no explanation")
            .escape_debug()
            .to_string();
        return Err(CliError::Usage(format!(
            "{url} answered {status}: {message}"
        )));
    }
    Ok(ProjectUploaded {
        name: name.to_owned(),
        lockfile: answer["lockfile"].as_u64().unwrap_or(0),
        changed: answer["changed"].as_bool().unwrap_or(false),
        packages: answer["packages"].as_u64().unwrap_or(0),
    })
}

/// One line for people.
pub fn describe(p: &ProjectUploaded, registry: &str) -> String {
    if p.changed {
        format!(
            "Registered the lockfile ({} packages) as project `{}`'s lockfile #{} at {registry}\n",
            p.packages, p.name, p.lockfile
        )
    } else {
        format!(
            "Project `{}` at {registry} already has this lockfile as its latest (#{})\n",
            p.name, p.lockfile
        )
    }
}
