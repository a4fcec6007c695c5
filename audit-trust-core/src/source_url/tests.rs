use super::*;

fn git(url: &str) -> SourceLocation {
    SourceLocation::git_source(url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn prefix(url: &str) -> SourceLocation {
    SourceLocation::git_prefix(url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn admits(prefix_url: &str, source: &str) -> bool {
    SourceLocation::git_source(source).is_ok_and(|s| s.starts_with(&prefix(prefix_url)))
}

#[test]
fn dot_segments_are_resolved_before_comparing() {
    let org = "https://github.com/my-org/";
    assert!(!admits(org, "https://github.com/my-org/../evil/repo"));
    assert!(!admits(org, "https://github.com/my-org/%2e%2e/evil/repo"));
    assert!(!admits(org, "https://github.com/my-org/.%2E/evil/repo"));
    assert!(!admits(org, "https://github.com/my-org/./../evil/repo"));
    assert_eq!(
        git("https://github.com/my-org/x/../repo"),
        git("https://github.com/my-org/repo")
    );
    assert!(admits(org, "https://github.com/my-org/./repo"));
    // Non-special schemes are resolved the same way.
    assert!(!admits(
        "ssh://git@github.com/my-org/",
        "ssh://git@github.com/my-org/../evil/repo"
    ));
}

#[test]
fn a_prefix_ends_at_a_segment_boundary() {
    for org in ["https://github.com/my-org/", "https://github.com/my-org"] {
        assert!(admits(org, "https://github.com/my-org/repo"), "{org}");
        assert!(!admits(org, "https://github.com/my-org-evil/repo"), "{org}");
        assert!(!admits(org, "https://github.com/my-orgevil"), "{org}");
    }
    assert!(admits(
        "https://example.com/my-org/repo",
        "https://example.com/my-org/repo.git"
    ));
    assert!(!admits(
        "https://example.com/my-org/repo",
        "https://example.com/my-org/repo-evil"
    ));
}

#[test]
fn case_follows_cargo() {
    // Scheme and host are case-insensitive everywhere; paths only on GitHub (as cargo's
    // `CanonicalUrl`).
    assert!(admits(
        "https://github.com/my-org/",
        "HTTPS://GitHub.COM/My-Org/Repo"
    ));
    assert!(admits(
        "https://git.example.com/my-org/",
        "https://GIT.example.com/my-org/repo"
    ));
    assert!(!admits(
        "https://git.example.com/my-org/",
        "https://git.example.com/My-Org/repo"
    ));
    assert!(admits(
        "ssh://git@GIT.example.com/my-org/",
        "ssh://git.example.com/my-org/repo"
    ));
}

#[test]
fn percent_encoding_is_decoded_and_encoded_separators_refused() {
    assert!(admits(
        "https://github.com/my-org/",
        "https://github.com/%6Dy-org/repo"
    ));
    assert!(admits(
        "https://example.com/my%20org/",
        "https://example.com/my org/repo"
    ));
    for hostile in [
        "https://github.com/my-org/x%2F..%2F..%2Fevil",
        "https://github.com/my-org/x%5C..%5Cevil",
        "ssh://git@github.com/my-org/..\\evil",
    ] {
        assert_eq!(
            SourceLocation::git_source(hostile),
            Err(SourceUrlError::EncodedSeparator),
            "{hostile}"
        );
    }
    assert_eq!(
        SourceLocation::git_source("https://github.com/my-org//evil"),
        Err(SourceUrlError::EmptySegment)
    );
    assert_eq!(
        SourceLocation::git_source("https://github.com/%FF/x"),
        Err(SourceUrlError::NotUtf8)
    );
}

#[test]
fn git_query_and_fragment_are_the_reference_not_the_location() {
    assert_eq!(
        git("https://github.com/my-org/repo?branch=main#0123abcd"),
        git("https://github.com/my-org/repo.git/")
    );
    // A query cannot smuggle a path: it is dropped whole.
    assert!(!admits(
        "https://github.com/my-org/",
        "https://github.com/evil/repo?x=/my-org/"
    ));
    assert_eq!(
        SourceLocation::git_prefix("https://github.com/my-org/?branch=main"),
        Err(SourceUrlError::QueryOrFragment)
    );
}

#[test]
fn host_port_scheme_and_credentials() {
    let org = "https://github.com/my-org/";
    assert!(!admits(org, "https://github.com@evil.example/my-org/repo"));
    assert!(!admits(org, "https://github.com.evil.example/my-org/repo"));
    assert!(!admits(org, "https://github.com:8443/my-org/repo"));
    assert!(admits(org, "https://github.com:443/my-org/repo"));
    assert!(admits(org, "https://token@github.com/my-org/repo"));
    // Another transport is another source: list it separately.
    assert!(!admits(org, "ssh://git@github.com/my-org/repo"));
    assert!(!admits(org, "http://github.com/my-org/repo"));
    assert_eq!(
        SourceLocation::git_source("git@github.com:my-org/repo"),
        Err(SourceUrlError::NotAUrl(
            url::ParseError::RelativeUrlWithoutBase
        ))
    );
}

#[test]
fn registries_are_compared_whole_after_the_same_normalization() {
    let reg = |id: &str| SourceLocation::registry(id).unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(
        reg("sparse+https://Corp.Example/index/"),
        reg("sparse+https://corp.example/./index")
    );
    assert_eq!(
        reg("registry+https://github.com/rust-lang/crates.io-index"),
        reg("registry+https://github.com/Rust-Lang/crates.io-index.git/")
    );
    assert_ne!(
        reg("sparse+https://corp.example/index/"),
        reg("registry+https://corp.example/index/")
    );
    assert_ne!(
        reg("sparse+https://corp.example/index/"),
        reg("sparse+https://corp.example/index/../other/")
    );
    assert_eq!(
        SourceLocation::registry("https://corp.example/index/"),
        Err(SourceUrlError::NotARegistry)
    );
}
