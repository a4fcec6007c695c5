//! Which repository counts: the hijack, sign-offs, refused URLs, unreachable remotes and bounds.

use std::collections::BTreeMap;

use super::*;
use crate::provenance::{PreviousClaim, RepositorySource, SignedOffRepository, Unverifiable};

const GENUINE: &str = "https://git.example/popular/popular";
const LOOKALIKE: &str = "https://git.example/attacker/popular";

/// The genuine repository and an attacker's copy of it, each publishing `popular@1.1.0` and
/// naming itself as the repository. Both are reached through rewrite rules, as an organization
/// reaches forges through its mirrors.
struct Hijack {
    genuine: Fixture,
    lookalike: Fixture,
    rewrites: UrlRewrites,
}

fn hijack() -> Hijack {
    let genuine = Fixture::empty();
    genuine.write_crate(
        "",
        "popular",
        "1.1.0",
        &format!("repository = \"{GENUINE}\"\n"),
    );
    genuine.repo.commit_all("1.1.0");
    let lookalike = Fixture::empty();
    lookalike.write_crate(
        "",
        "popular",
        "1.1.0",
        &format!("repository = \"{LOOKALIKE}\"\n"),
    );
    lookalike.repo.write(
        "src/lib.rs",
        "pub fn answer() -> u32 {\n    steal()\n}\nfn steal() -> u32 { 0 }\n",
    );
    lookalike.repo.commit_all("1.1.0");
    let rewrites = UrlRewrites::new(BTreeMap::from([
        (GENUINE.to_owned(), genuine.repo.url()),
        (LOOKALIKE.to_owned(), lookalike.repo.url()),
    ]));
    Hijack {
        genuine,
        lookalike,
        rewrites,
    }
}

fn previous_named(url: Option<&str>) -> RepositoryChoice {
    RepositoryChoice {
        previous_claimed: Some(PreviousClaim {
            version: "1.0.0".into(),
            url: url.map(str::to_owned),
        }),
        ..RepositoryChoice::default()
    }
}

#[test]
fn a_hijacked_release_from_a_matching_lookalike_repository_is_unverifiable() {
    let h = hijack();
    let bytes = h.lookalike.package();

    // The look-alike repository matches its release exactly: content alone proves nothing.
    let alone = h.lookalike.check_with(
        "popular",
        "1.1.0",
        &bytes,
        &RepositoryChoice::default(),
        &h.rewrites,
    );
    assert_verdict(&alone, Verdict::Matches);
    assert_eq!(alone.repository_source, Some(RepositorySource::Claimed));
    assert_eq!(alone.fetched_from, Some(h.lookalike.repo.url()));

    // The previous version named the genuine repository: the claim changed, so no verdict on
    // content is given, whatever it is.
    let report = h.lookalike.check_with(
        "popular",
        "1.1.0",
        &bytes,
        &previous_named(Some(GENUINE)),
        &h.rewrites,
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(report.files.is_empty());
    assert_eq!(report.repository.as_deref(), Some(LOOKALIKE));
    assert_eq!(report.claimed_repository.as_deref(), Some(LOOKALIKE));
    assert_eq!(report.repository_source, Some(RepositorySource::Claimed));
    assert!(
        report.reason.contains(&format!(
            "repository changed from {GENUINE} (named by version 1.0.0) to {LOOKALIKE}"
        )),
        "{}",
        report.reason
    );

    // The genuine release, same previous version: matches, and says the repository was claimed.
    let genuine = h.genuine.package();
    let report = h.genuine.check_with(
        "popular",
        "1.1.0",
        &genuine,
        &previous_named(Some(GENUINE)),
        &h.rewrites,
    );
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    assert_eq!(report.repository_source, Some(RepositorySource::Claimed));
}

#[test]
fn a_repository_named_for_the_first_time_is_a_change_too() {
    let h = hijack();
    let report = h.lookalike.check_with(
        "popular",
        "1.1.0",
        &h.lookalike.package(),
        &previous_named(None),
        &h.rewrites,
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(
        report.reason.contains("repository changed from none"),
        "{}",
        report.reason
    );
}

#[test]
fn a_signed_off_repository_outranks_the_claim() {
    let h = hijack();
    let signed = RepositoryChoice {
        signed_off: Some(SignedOffRepository {
            url: GENUINE.into(),
            version: "1.0.0".into(),
        }),
        ..RepositoryChoice::default()
    };
    let report = h.lookalike.check_with(
        "popular",
        "1.1.0",
        &h.lookalike.package(),
        &signed,
        &h.rewrites,
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert_eq!(report.repository.as_deref(), Some(GENUINE));
    assert_eq!(report.repository_source, Some(RepositorySource::SignedOff));
    assert!(
        report.reason.contains("signed off for version 1.0.0"),
        "{}",
        report.reason
    );

    let report = h.genuine.check_with(
        "popular",
        "1.1.0",
        &h.genuine.package(),
        &signed,
        &h.rewrites,
    );
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(report.repository_source, Some(RepositorySource::SignedOff));
}

#[test]
fn a_pinned_repository_wins_and_a_different_claim_is_a_warning() {
    let h = hijack();
    let pinned = RepositoryChoice {
        pinned: Some(GENUINE.into()),
        ..previous_named(Some(GENUINE))
    };
    // The attacker's tarball against the pinned genuine repository: its commit is not there.
    let report = h.lookalike.check_with(
        "popular",
        "1.1.0",
        &h.lookalike.package(),
        &pinned,
        &h.rewrites,
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert_eq!(report.repository_source, Some(RepositorySource::Pinned));
    assert!(
        report.reason.contains("is not on any branch or tag"),
        "{}",
        report.reason
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("is pinned")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn claims_of_local_paths_and_plain_http_are_refused() {
    for (claim, expected) in [
        (
            "/srv/git/local",
            "local repositories are used only when pinned",
        ),
        (
            "file:///srv/git/local",
            "local repositories are used only when pinned",
        ),
        (
            "http://git.example/plain",
            "not a repository URL this tool fetches",
        ),
        (
            "ext::sh -c touch% /tmp/pwned",
            "not a repository URL this tool fetches",
        ),
    ] {
        let f = Fixture::empty();
        f.write_crate("", "claims", "1.0.0", &format!("repository = {claim:?}\n"));
        f.repo.commit_all("release");
        let report = f.check_with(
            "claims",
            "1.0.0",
            &f.package(),
            &RepositoryChoice::default(),
            &UrlRewrites::default(),
        );
        assert_verdict(&report, Verdict::Unverifiable);
        assert!(
            report.reason.contains(expected),
            "{claim}: {}",
            report.reason
        );
    }
}

#[test]
fn no_repository_at_all_is_unverifiable() {
    let f = Fixture::with_crate("orphan", "1.0.0");
    let report = f.check_with(
        "orphan",
        "1.0.0",
        &f.package(),
        &RepositoryChoice::default(),
        &UrlRewrites::default(),
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert_eq!(report.repository, None);
    assert!(
        report.reason.contains("names no repository"),
        "{}",
        report.reason
    );
}

#[test]
fn an_unreachable_repository_is_a_verdict_not_an_error() {
    let f = Fixture::with_crate("gone", "1.0.0");
    let missing = f.outside().join("no-such-repository");
    let choice = RepositoryChoice {
        pinned: Some(missing.display().to_string()),
        ..RepositoryChoice::default()
    };
    let report = f.check_with(
        "gone",
        "1.0.0",
        &f.package(),
        &choice,
        &UrlRewrites::default(),
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(
        report.reason.starts_with("the repository is unreachable: "),
        "{}",
        report.reason
    );
    // The registry's worker retries on this variant, not on the words.
    assert!(
        matches!(
            report.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ),
        "{:?}",
        report.unverifiable
    );
}

#[test]
fn hostile_vcs_info_is_refused() {
    let f = Fixture::with_crate("hostile", "1.0.0");
    let original = f.package();
    for (vcs_info, expected) in [
        (
            r#"{"git":{"sha1":"0000000000000000000000000000000000000000"},"path_in_vcs":"../../etc"}"#,
            "path_in_vcs `../../etc` is refused",
        ),
        (
            r#"{"git":{"sha1":"--upload-pack=evil"}}"#,
            "not a git commit id",
        ),
    ] {
        let bytes = rebuild(&original, |files| {
            files.insert(
                "hostile-1.0.0/.cargo_vcs_info.json".into(),
                vcs_info.as_bytes().to_vec(),
            );
        });
        let report = f.check("hostile", "1.0.0", &bytes);
        assert_verdict(&report, Verdict::Unverifiable);
        assert!(report.reason.contains(expected), "{}", report.reason);
    }
}

#[test]
fn a_remote_that_never_answers_is_abandoned_at_the_deadline() {
    let f = Fixture::with_crate("silent", "1.0.0");
    // Accepts connections and never says a word: a hung forge.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let limits = FetchLimits {
        timeout: std::time::Duration::from_secs(1),
        ..FetchLimits::default()
    };
    let cache = GitCache::new(&f.outside().join("timeout-cache"), limits, false);
    let choice = RepositoryChoice {
        pinned: Some(format!("https://127.0.0.1:{port}/silent.git")),
        ..RepositoryChoice::default()
    };
    let started = std::time::Instant::now();
    let report = check_in(
        &cache,
        "silent",
        "1.0.0",
        &f.package(),
        &choice,
        &UrlRewrites::default(),
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(
        report.reason.contains("took longer than 1 s"),
        "{}",
        report.reason
    );
    drop(listener);
}
