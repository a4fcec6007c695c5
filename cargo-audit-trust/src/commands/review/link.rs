//! The link shown with each package: its repository's page for the published commit (from
//! `.cargo_vcs_info.json`) or, without one, for the version's tag. The URL only, printed as
//! text so it can be copied; never a terminal hyperlink escape. Both the repository and the
//! commit are the publisher's claims: the link is where to look, not evidence.

use audit_trust_core::Package;
use audit_trust_core::classify::manifest::license_fields;
use audit_trust_core::fetch::CrateStore;
use audit_trust_core::provenance::vcs_info::{VCS_INFO_FILE, parse_vcs_info};
use audit_trust_core::tarball::{Limits, read_crate};

use crate::output::escape;

/// Longest repository URL shown (a manifest field is free text).
const MAX_URL_LEN: usize = 512;

/// The details pane's lines for a registry package: read from its verified crate file, which
/// `check`'s signals already brought into the crate store.
pub fn package_link(store: &CrateStore, p: &Package) -> Vec<String> {
    let (repository, commit) = match read_claims(store, p) {
        Ok(claims) => claims,
        Err(why) => return vec![escape::cell(&format!("link: none ({why})"))],
    };
    let Some(repository) = repository else {
        return vec!["link: none (the manifest names no repository)".to_owned()];
    };
    match repository_link(&repository, commit.as_deref(), &p.version.to_string()) {
        Some(lines) => lines.iter().map(|l| escape::cell(l)).collect(),
        None => vec![escape::cell(&format!(
            "link: none (repository `{repository}` is not an http(s) URL)"
        ))],
    }
}

/// The manifest's `repository` and the commit `cargo package` recorded.
fn read_claims(
    store: &CrateStore,
    p: &Package,
) -> Result<(Option<String>, Option<String>), String> {
    let bytes = store
        .read_verified(p)
        .map_err(|e| format!("crate file not read: {e}"))?;
    let archive = read_crate(&bytes, &p.name, &p.version.to_string(), &Limits::default())
        .map_err(|e| format!("crate file refused: {e}"))?;
    let repository = archive
        .get("Cargo.toml")
        .and_then(|f| std::str::from_utf8(&f.contents).ok())
        .and_then(|text| license_fields(text).ok())
        .and_then(|fields| fields.repository);
    let commit = archive
        .get(VCS_INFO_FILE)
        .and_then(|f| parse_vcs_info(&f.contents).ok())
        .map(|info| info.sha1);
    Ok((repository, commit))
}

/// `commit page: URL`, or `tag page: URL` when no commit was recorded, each alone on its line
/// (so it can be copied) and followed by a line of explanation when needed; `None` unless the
/// repository is a plain http(s) URL. The forge decides the path: GitHub, Codeberg and other
/// Gitea/Forgejo hosts and sourcehut use `/commit/`, GitLab `/-/commit/`, Bitbucket
/// `/commits/`; on an unknown host the repository URL itself is the link.
pub fn repository_link(
    repository: &str,
    commit: Option<&str>,
    version: &str,
) -> Option<Vec<String>> {
    let base = plain_http_url(repository)?;
    let host = base
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let no_commit = "  (no commit recorded in .cargo_vcs_info.json)".to_owned();
    let (commits, tags) = match host.as_str() {
        "github.com" | "codeberg.org" | "gitea.com" => ("/commit/", Some("/releases/tag/")),
        "gitlab.com" => ("/-/commit/", Some("/-/tags/")),
        "bitbucket.org" => ("/commits/", None),
        "git.sr.ht" => ("/commit/", Some("/refs/")),
        _ => {
            let what = match commit {
                Some(c) => format!("  (commit {c})"),
                None => no_commit,
            };
            return Some(vec![format!("repository: {base}"), what]);
        }
    };
    let version_ok = version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    Some(match (commit, tags) {
        (Some(c), _) => vec![format!("commit page: {base}{commits}{c}")],
        (None, Some(tags)) if version_ok => vec![
            format!("tag page: {base}{tags}v{version}"),
            format!("  (no commit recorded: the tag v{version} is assumed)"),
        ],
        (None, _) => vec![format!("repository: {base}"), no_commit],
    })
}

/// The repository as a link: `http(s)://host/path` without whitespace, controls, quotes,
/// userinfo, query or fragment, and without a trailing `/` or `.git`.
fn plain_http_url(repository: &str) -> Option<String> {
    let url = repository.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    let clean = url.len() <= MAX_URL_LEN
        && !host.is_empty()
        && !host.contains('@')
        && url.chars().all(|c| {
            c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '`' | '?' | '#' | '\\')
        });
    if !clean {
        return None;
    }
    let base = url.trim_end_matches('/');
    Some(base.strip_suffix(".git").unwrap_or(base).to_owned())
}
