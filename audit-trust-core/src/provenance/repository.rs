//! Which repository a crate is checked against, and the URL rules that keep that choice honest.
//!
//! The repository a tarball names is written by whoever published it, so it is only a claim. The
//! order is: pinned by the user (`--repo`, `[sources]`), then the one an earlier `source-matches`
//! sign-off recorded, then the claim — and a claim that changed since the previous version, or
//! that disagrees with the signed-off repository, makes the check unverifiable, whatever the
//! content (a hijacked account can publish from a look-alike repository it made to match).

use std::collections::BTreeMap;

use serde::Serialize;

use super::report::RepositorySource;
use crate::audit_file::is_supported_repository_url;

/// The repository candidates, gathered by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepositoryChoice {
    /// `--repo` or `[sources]` in `Cargo.audit`.
    pub pinned: Option<String>,
    /// The repository recorded by the newest `source-matches` sign-off of an earlier version.
    pub signed_off: Option<SignedOffRepository>,
    /// What the previous published version named, when it could be looked up (`None`: unknown,
    /// e.g. this is the first version or the registry could not be asked).
    pub previous_claimed: Option<PreviousClaim>,
}

impl RepositoryChoice {
    /// The trusted candidates, by the rule every caller follows: the pinned repository, else the
    /// one an earlier `source-matches` sign-off recorded. `signed_off` (which reads and verifies
    /// records) is asked only when nothing is pinned. The previous version's claim is left
    /// unknown; a caller that uses claims adds it.
    pub fn pinned_else_signed_off<E>(
        pinned: Option<String>,
        signed_off: impl FnOnce() -> Result<Option<SignedOffRepository>, E>,
    ) -> Result<RepositoryChoice, E> {
        let signed_off = match pinned {
            Some(_) => None,
            None => signed_off()?,
        };
        Ok(RepositoryChoice {
            pinned,
            signed_off,
            previous_claimed: None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedOffRepository {
    pub url: String,
    /// The version whose sign-off recorded it.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviousClaim {
    pub version: String,
    /// `package.repository` of that version; `None` when it named none.
    pub url: Option<String>,
}

/// The repository a check uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRepository {
    pub url: String,
    pub source: RepositorySource,
}

/// Either a repository to check against, or why there is none to trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Use {
        repository: SelectedRepository,
        warnings: Vec<String>,
    },
    Unverifiable {
        repository: Option<SelectedRepository>,
        reason: String,
    },
}

/// Applies the order pinned → signed-off → claimed, and the "repository changed" rule.
pub fn select_repository(choice: &RepositoryChoice, claimed: Option<&str>) -> Selection {
    let mut warnings = Vec::new();
    if let Some(pinned) = &choice.pinned {
        if let Some(claimed) = claimed.filter(|c| !same_repository(c, pinned)) {
            warnings.push(format!(
                "the crate names {claimed}, but {pinned} is pinned: the pinned repository is used"
            ));
        }
        return Selection::Use {
            repository: SelectedRepository {
                url: pinned.clone(),
                source: RepositorySource::Pinned,
            },
            warnings,
        };
    }
    if let Some(signed) = &choice.signed_off {
        let repository = SelectedRepository {
            url: signed.url.clone(),
            source: RepositorySource::SignedOff,
        };
        if let Some(claimed) = claimed.filter(|c| !same_repository(c, &signed.url)) {
            return Selection::Unverifiable {
                repository: Some(repository),
                reason: format!(
                    "repository changed from {} (signed off for version {}) to {claimed}; \
                     pin the repository in [sources] once you have checked the move",
                    signed.url, signed.version
                ),
            };
        }
        return Selection::Use {
            repository,
            warnings,
        };
    }
    let Some(claimed) = claimed else {
        return Selection::Unverifiable {
            repository: None,
            reason: "the crate names no repository, and none is pinned (use --repo or [sources])"
                .into(),
        };
    };
    let repository = SelectedRepository {
        url: claimed.to_owned(),
        source: RepositorySource::Claimed,
    };
    if let Some(previous) = &choice.previous_claimed {
        let changed = match &previous.url {
            Some(before) => !same_repository(before, claimed),
            None => true,
        };
        if changed {
            return Selection::Unverifiable {
                repository: Some(repository),
                reason: format!(
                    "repository changed from {} (named by version {}) to {claimed}; a new \
                     repository is a claim only the publisher makes: pin it in [sources] once \
                     you have checked the move",
                    previous.url.as_deref().unwrap_or("none"),
                    previous.version
                ),
            };
        }
    }
    Selection::Use {
        repository,
        warnings,
    }
}

/// Why a URL cannot be fetched, if it cannot. Claimed URLs must be network URLs: a tarball that
/// names a path on the auditor's machine must not make us read local repositories.
pub fn refuse_url(url: &str, source: RepositorySource) -> Option<String> {
    if !is_supported_repository_url(url) || url.trim_start().starts_with('-') {
        return Some(format!(
            "`{}` is not a repository URL this tool fetches (https://, ssh://, git@host:path, \
             file:// or an absolute path)",
            url.escape_debug()
        ));
    }
    let local = url.starts_with("file://") || url.starts_with('/');
    if local && source == RepositorySource::Claimed {
        return Some(format!(
            "the crate names the local path `{}` as its repository; local repositories are used \
             only when pinned",
            url.escape_debug()
        ));
    }
    None
}

/// URL rewrite rules in the spirit of git's `insteadOf`: `original prefix → replacement prefix`.
/// The longest matching prefix wins. Organizations use them to fetch from internal mirrors; the
/// repository's identity (what is compared and reported) stays the original URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlRewrites {
    rules: BTreeMap<String, String>,
}

impl UrlRewrites {
    pub fn new(rules: BTreeMap<String, String>) -> UrlRewrites {
        UrlRewrites { rules }
    }

    /// `url` with the longest matching prefix replaced, or `None` when no rule applies.
    pub fn apply(&self, url: &str) -> Option<String> {
        self.rules
            .iter()
            .filter(|(prefix, _)| url.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(prefix, replacement)| format!("{replacement}{}", &url[prefix.len()..]))
    }
}

/// The URL to fetch for a repository URL as written in a manifest. Forge web URLs are common in
/// `package.repository` (`https://github.com/o/r/tree/main/crates/x`): the repository is `o/r`.
pub fn fetch_url(url: &str) -> String {
    let url = url.trim();
    if let Some((host, path)) = forge_https(url) {
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        if let (Some(owner), Some(repo)) = (segments.next(), segments.next()) {
            return format!("https://{host}/{owner}/{repo}");
        }
    }
    url.to_owned()
}

/// Whether two repository URLs name the same repository: scheme (`http`/`https`, `ssh`/`git@`),
/// host case, a trailing `/` or `.git`, and forge web paths do not matter.
pub fn same_repository(a: &str, b: &str) -> bool {
    identity(a) == identity(b)
}

/// A comparable form of a repository URL.
fn identity(url: &str) -> String {
    let url = url.trim();
    if let Some((host, path)) = forge_https(url) {
        let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).take(2).collect();
        return format!("{host}/{}", strip_git(&path.join("/")).to_ascii_lowercase());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("ssh://"))
        .or_else(|| url.strip_prefix("git://"))
        .map(str::to_owned)
        .or_else(|| scp_like(url))
        .unwrap_or_else(|| url.to_owned());
    // Drop `user@` from `user@host/path`.
    let rest = match rest.split_once('/') {
        Some((authority, path)) => {
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{}/{path}", host.to_ascii_lowercase())
        }
        None => rest,
    };
    strip_git(rest.trim_end_matches('/')).to_owned()
}

/// `git@host:owner/repo` → `host/owner/repo`.
fn scp_like(url: &str) -> Option<String> {
    if url.contains("://") {
        return None;
    }
    let (user_host, path) = url.split_once(':')?;
    let host = user_host.rsplit('@').next()?;
    Some(format!("{host}/{}", path.trim_start_matches('/')))
}

fn strip_git(path: &str) -> &str {
    let path = path.trim_end_matches('/');
    path.strip_suffix(".git").unwrap_or(path)
}

/// Forges whose web URLs put the repository in the first two path segments.
const FORGES: &[&str] = &["github.com", "gitlab.com", "codeberg.org", "bitbucket.org"];

/// `(host, path)` of an `http(s)://` URL on a known forge.
fn forge_https(url: &str) -> Option<(&'static str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let forge = FORGES.iter().find(|f| **f == host)?;
    Some((forge, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_repository_is_not_looked_past() {
        let signed = || SignedOffRepository {
            url: "https://example.com/signed".into(),
            version: "1.0.0".into(),
        };
        let pinned = RepositoryChoice::pinned_else_signed_off(
            Some("https://example.com/pinned".into()),
            || -> Result<_, ()> { panic!("records are not read when a repository is pinned") },
        );
        assert_eq!(
            pinned,
            Ok(RepositoryChoice {
                pinned: Some("https://example.com/pinned".into()),
                ..RepositoryChoice::default()
            })
        );
        let unpinned =
            RepositoryChoice::pinned_else_signed_off(None, || Ok::<_, ()>(Some(signed())));
        assert_eq!(
            unpinned,
            Ok(RepositoryChoice {
                signed_off: Some(signed()),
                ..RepositoryChoice::default()
            })
        );
        let failed = RepositoryChoice::pinned_else_signed_off(None, || Err("unreadable"));
        assert_eq!(failed, Err("unreadable"));
    }

    #[test]
    fn same_repository_ignores_spelling() {
        for (a, b) in [
            ("https://github.com/o/r", "https://github.com/O/R.git"),
            ("https://github.com/o/r", "http://www.github.com/o/r/"),
            (
                "https://github.com/o/r",
                "https://github.com/o/r/tree/main/x",
            ),
            ("git@example.com:o/r.git", "ssh://git@example.com/o/r"),
            ("https://git.example/o/r", "https://GIT.example/o/r.git"),
            ("/srv/git/r.git", "/srv/git/r"),
        ] {
            assert!(same_repository(a, b), "{a} vs {b}");
        }
        for (a, b) in [
            ("https://github.com/o/r", "https://github.com/evil/r"),
            ("https://git.example/o/r", "https://git.example/O/R"),
            ("https://a.example/o/r", "https://b.example/o/r"),
        ] {
            assert!(!same_repository(a, b), "{a} vs {b}");
        }
    }

    #[test]
    fn forge_web_urls_fetch_the_repository() {
        assert_eq!(
            fetch_url("https://github.com/o/r/tree/main/crates/x"),
            "https://github.com/o/r"
        );
        assert_eq!(
            fetch_url("http://www.github.com/o/r"),
            "https://github.com/o/r"
        );
        assert_eq!(
            fetch_url("https://git.example/a/b/c"),
            "https://git.example/a/b/c"
        );
    }

    #[test]
    fn longest_rewrite_prefix_wins() {
        let rules = UrlRewrites::new(BTreeMap::from([
            ("https://github.com/".into(), "https://mirror/gh/".into()),
            (
                "https://github.com/corp/".into(),
                "file:///srv/corp/".into(),
            ),
        ]));
        assert_eq!(
            rules.apply("https://github.com/o/r").as_deref(),
            Some("https://mirror/gh/o/r")
        );
        assert_eq!(
            rules.apply("https://github.com/corp/r").as_deref(),
            Some("file:///srv/corp/r")
        );
        assert_eq!(rules.apply("https://gitlab.com/o/r"), None);
    }

    #[test]
    fn claims_may_not_name_local_paths() {
        assert!(refuse_url("/srv/r", RepositorySource::Claimed).is_some());
        assert!(refuse_url("file:///srv/r", RepositorySource::Claimed).is_some());
        assert!(refuse_url("/srv/r", RepositorySource::Pinned).is_none());
        assert!(refuse_url("http://example.com/r", RepositorySource::Pinned).is_some());
        assert!(refuse_url("ext::sh -c x", RepositorySource::Pinned).is_some());
        assert!(refuse_url("https://github.com/o/r", RepositorySource::Claimed).is_none());
    }
}
