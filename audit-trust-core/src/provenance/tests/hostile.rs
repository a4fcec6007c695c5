//! Servers that lie. Each test serves a real repository through [`HostileGitServer`], a fake
//! of a hostile git host (a real `git upload-pack` whose answers are rewritten on the way), and
//! checks that the lie is bounded, reported, and ends `unverifiable` with the reason: never a
//! `matches`, never a confident "not on any branch". Then the same host tells the truth, and
//! the cache the lie left behind still gives the right verdict.

use audit_trust_e2e::{HostileGitServer, Lie};

use super::fetch::{check_url, released_with_history};
use super::*;
use crate::provenance::Unverifiable;

fn served(f: &Fixture) -> HostileGitServer {
    HostileGitServer::serve(f.repo.path())
}

#[test]
fn a_server_hiding_its_shallow_boundaries_cannot_settle_reachability() {
    let f = Fixture::empty();
    let bytes = released_with_history(&f, "hidden", "1.0.0", 1);
    // No tag: the release is two commits behind `main`, so only deeper history finds it.
    f.repo.git(&["tag", "-d", "v1.0.0"]);
    let server = served(&f);
    let cache = f.cache();

    server.lie(Lie::HidesShallowBoundary);
    let lied = check_url(
        &cache,
        &server.url(),
        "hidden",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&lied, Verdict::Unverifiable);
    // The holes show when the fetch walks its own history; started over once on an empty
    // cache, the server leaves them again.
    assert!(
        matches!(
            lied.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ) && lied
            .reason
            .contains("the server sent less than it advertised"),
        "{}",
        lied.reason
    );

    // The truth, into the cache the lie left full of holes: it is fetched again, and matches.
    server.lie(Lie::None);
    let honest = check_url(
        &cache,
        &server.url(),
        "hidden",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&honest, Verdict::Matches);
    assert_eq!(honest.reference.as_deref(), Some("refs/heads/main"));
    assert!(
        honest.fetch.iter().any(|n| n.contains("damaged")),
        "{:?}",
        honest.fetch
    );
}

#[test]
fn a_pack_without_the_wanted_commit_is_unverifiable() {
    let f = Fixture::empty();
    let bytes = released_with_history(&f, "swapped", "1.0.0", 1);
    let tag = f.repo.git(&["rev-parse", "refs/tags/v1.0.0"]);
    let first = f.repo.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let server = served(&f);
    let cache = f.cache();

    server.lie(Lie::SwapsWant {
        asked: tag.trim().to_owned(),
        instead: first.trim().to_owned(),
    });
    let lied = check_url(
        &cache,
        &server.url(),
        "swapped",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&lied, Verdict::Unverifiable);
    assert!(
        lied.files.is_empty(),
        "nothing was compared: {:?}",
        lied.files
    );
    assert!(
        matches!(
            lied.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ) && lied
            .reason
            .contains("the server sent less than it advertised")
            && lied
                .reason
                .contains("target OID for the reference doesn't exist"),
        "{}",
        lied.reason
    );

    server.lie(Lie::None);
    let honest = check_url(
        &cache,
        &server.url(),
        "swapped",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&honest, Verdict::Matches);
    assert_eq!(honest.reference.as_deref(), Some("refs/tags/v1.0.0"));
}

#[test]
fn an_endless_pack_stops_at_the_byte_limit_and_leaves_the_cache_usable() {
    let f = Fixture::empty();
    let bytes = released_with_history(&f, "endless", "1.0.0", 1);
    let server = served(&f);
    let cache_dir = tempfile::tempdir().expect("temp dir");
    let limits = FetchLimits {
        max_bytes: 1024 * 1024,
        ..FetchLimits::default()
    };

    server.lie(Lie::EndlessPack);
    let limited = GitCache::new(cache_dir.path(), limits, false);
    let lied = check_url(
        &limited,
        &server.url(),
        "endless",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&lied, Verdict::Unverifiable);
    assert!(
        matches!(
            lied.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ) && lied.reason.contains("more than the limit of 1048576 bytes"),
        "{}",
        lied.reason
    );

    server.lie(Lie::None);
    let honest = check_url(
        &limited,
        &server.url(),
        "endless",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&honest, Verdict::Matches);
}
