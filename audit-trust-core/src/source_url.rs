//! Package sources compared as cargo resolves them, for `[allowed-sources]`.
//!
//! The lockfile's `source` text is not what cargo fetches: cargo parses it with the `url` crate
//! (which resolves `.` and `..` segments and lowercases special schemes' hosts) and identifies it
//! by its "canonical" form (a trailing `/` and `.git` stripped, GitHub paths lowercased). Comparing
//! the raw text let `git+https://github.com/my-org/../evil` pass `https://github.com/my-org/`.
//! Here both sides are reduced to the same [`SourceLocation`] and a prefix matches only whole path
//! segments. What cannot be reduced safely (an encoded `/`, an empty segment) is refused, which
//! for a lockfile source means "not allowed": an unusual spelling costs a denial, never a pass.

use percent_encoding::percent_decode_str;
use url::Url;

/// Why a source URL cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceUrlError {
    #[error("not a URL: {0}")]
    NotAUrl(#[from] url::ParseError),
    #[error("not a hierarchical URL (use `scheme://host/path`)")]
    NotHierarchical,
    #[error("a path segment encodes `/` or `\\`, which a server may decode into another path")]
    EncodedSeparator,
    #[error("a path segment is not UTF-8 once percent-decoded")]
    NotUtf8,
    #[error("an empty path segment (`//`), which servers may collapse")]
    EmptySegment,
    #[error("a `.` or `..` path segment")]
    DotSegment,
    #[error("a query or fragment (`?…`, `#…`): name the location only")]
    QueryOrFragment,
    #[error("a registry source starts with `registry+` or `sparse+` (or is `crates-io`)")]
    NotARegistry,
}

/// How cargo fetches from the location: the kinds never match each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationKind {
    Git,
    Registry,
    SparseRegistry,
}

/// A source reduced to what decides where cargo fetches from. Credentials (`user@`) are left
/// out: they say who connects, not where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    kind: LocationKind,
    scheme: String,
    host: String,
    port: Option<u16>,
    /// Percent-decoded path segments, without the trailing empty one and `.git`.
    segments: Vec<String>,
}

impl SourceLocation {
    /// A git source as the lockfile writes it after `git+`: cargo takes `?branch=`/`?rev=`/`?tag=`
    /// as the reference and `#commit` as the locked commit, and fetches the rest.
    pub fn git_source(url: &str) -> Result<SourceLocation, SourceUrlError> {
        let mut parsed = Url::parse(url)?;
        parsed.set_query(None);
        parsed.set_fragment(None);
        SourceLocation::from_url(LocationKind::Git, &parsed)
    }

    /// A `git` prefix from `[allowed-sources]`: a location, so a query or fragment is a mistake.
    pub fn git_prefix(url: &str) -> Result<SourceLocation, SourceUrlError> {
        let parsed = Url::parse(url)?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(SourceUrlError::QueryOrFragment);
        }
        SourceLocation::from_url(LocationKind::Git, &parsed)
    }

    /// A registry source id (`registry+https://…`, `sparse+https://…`), from the lockfile or from
    /// `[allowed-sources] registries`. Registries are compared whole, not by prefix.
    pub fn registry(id: &str) -> Result<SourceLocation, SourceUrlError> {
        let (kind, rest) = if let Some(rest) = id.strip_prefix("registry+") {
            (LocationKind::Registry, rest)
        } else if let Some(rest) = id.strip_prefix("sparse+") {
            (LocationKind::SparseRegistry, rest)
        } else {
            return Err(SourceUrlError::NotARegistry);
        };
        let parsed = Url::parse(rest)?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(SourceUrlError::QueryOrFragment);
        }
        SourceLocation::from_url(kind, &parsed)
    }

    fn from_url(kind: LocationKind, url: &Url) -> Result<SourceLocation, SourceUrlError> {
        if url.cannot_be_a_base() {
            return Err(SourceUrlError::NotHierarchical);
        }
        // Special schemes' hosts are lowercased by the parser already; `ssh://` hosts are not.
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        // As cargo's `CanonicalUrl`: GitHub paths are case-insensitive.
        let github = host == "github.com";
        let mut segments = Vec::new();
        for raw in url.path_segments().into_iter().flatten() {
            let decoded = percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| SourceUrlError::NotUtf8)?;
            if decoded.contains(['/', '\\']) {
                return Err(SourceUrlError::EncodedSeparator);
            }
            segments.push(if github {
                decoded.to_lowercase()
            } else {
                decoded.into_owned()
            });
        }
        // `https://host/a/` and `https://host` end in an empty segment: cargo strips it.
        if segments.last().is_some_and(String::is_empty) {
            segments.pop();
        }
        for segment in &segments {
            if segment.is_empty() {
                return Err(SourceUrlError::EmptySegment);
            }
            // The parser resolved these, spelled plainly or percent-encoded; one left means a
            // spelling it did not recognize, and the server might.
            if segment == "." || segment == ".." {
                return Err(SourceUrlError::DotSegment);
            }
        }
        if let Some(last) = segments.last_mut()
            && let Some(stem) = last.strip_suffix(".git")
            && !stem.is_empty()
        {
            *last = stem.to_owned();
        }
        Ok(SourceLocation {
            kind,
            scheme: url.scheme().to_ascii_lowercase(),
            host,
            port: url.port_or_known_default(),
            segments,
        })
    }

    /// Whether `self` is `prefix` or lies under it: same kind, scheme, host and port, and the
    /// prefix's path segments are `self`'s first ones, whole (`my-org` never admits `my-org-evil`).
    pub fn starts_with(&self, prefix: &SourceLocation) -> bool {
        self.kind == prefix.kind
            && self.scheme == prefix.scheme
            && self.host == prefix.host
            && self.port == prefix.port
            && self.segments.starts_with(&prefix.segments)
    }
}

#[cfg(test)]
mod tests;
