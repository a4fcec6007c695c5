//! Targeted fetches: real repositories served by a real `git daemon` on a loopback port (the
//! smart protocol https and ssh speak, without TLS or keys), and read in place over a local
//! path. `git://` itself is refused by the URL rules, so these tests enter the check after them
//! ([`super::super::verify_at`]); everything from the fetch on is the real path.

use std::path::Path;
use std::sync::Mutex;

use audit_trust_e2e::{GitDaemon, git_command};

use super::*;
use crate::progress::Progress;
use crate::provenance::Unverifiable;

/// Records the object totals of each fetch round (what the server sent).
#[derive(Default)]
struct Totals(Mutex<Vec<u64>>);

impl Progress for Totals {
    fn begin(&self, _phase: &str, total: u64) {
        if let Ok(mut totals) = self.0.lock() {
            totals.push(total);
        }
    }
}

impl Totals {
    fn taken(&self) -> Vec<u64> {
        self.0
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }
}

/// A fixture's repository served by a daemon, and the URL to reach it.
struct Served {
    daemon: GitDaemon,
    url: String,
}

fn serve(f: &Fixture) -> Served {
    let path = f.repo.path();
    let root = path.parent().expect("temp dirs have a parent");
    let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
    let daemon = GitDaemon::serve(root);
    let url = daemon.url(name);
    Served { daemon, url }
}

/// The check of `bytes` against `url`, from the fetch on.
pub(super) fn check_url(
    cache: &GitCache,
    url: &str,
    name: &str,
    version: &str,
    bytes: &[u8],
    progress: &dyn Progress,
) -> ProvenanceReport {
    let archive = archive(bytes, name, version);
    let choice = RepositoryChoice {
        pinned: Some(url.to_owned()),
        ..RepositoryChoice::default()
    };
    let input = ProvenanceInput {
        name,
        version,
        archive: &archive,
        repositories: &choice,
    };
    let mut report = ProvenanceReport::new(name, version);
    report.repository = Some(url.to_owned());
    super::super::verify_at(report, &input, url, cache, progress).expect("the check runs")
}

/// `git rev-list --count REVS` in the cached repository (which honours its shallow file).
fn commits_in(dir: &Path, revs: &str) -> usize {
    let out = git_command(dir)
        .args(["rev-list", "--count", revs])
        .output()
        .expect("git rev-list");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// A crate with `files` more files in `docs/`, released as `v{version}` after a few commits,
/// with more commits on `main` after it. Returns the packaged release.
pub(super) fn released_with_history(
    f: &Fixture,
    name: &str,
    version: &str,
    files: usize,
) -> Vec<u8> {
    for n in 0..3 {
        f.repo
            .write("history.txt", format!("before the release {n}\n"));
        f.repo.commit_all("earlier work");
    }
    f.write_crate("", name, version, "exclude = [\"history.txt\", \"docs\"]\n");
    for n in 0..files {
        f.repo.write(&format!("docs/{n}.md"), format!("page {n}\n"));
    }
    let release = f.repo.commit_all("release");
    f.repo.tag(&format!("v{version}"), &release);
    let bytes = f.package();
    for n in 0..2 {
        f.repo
            .write("history.txt", format!("after the release {n}\n"));
        f.repo.commit_all("later work");
    }
    bytes
}

#[test]
fn a_tag_at_the_commit_is_fetched_one_commit_deep() {
    let f = Fixture::empty();
    let bytes = released_with_history(&f, "deep", "1.0.0", 3);
    let served = serve(&f);
    let cache = f.cache();

    let report = check_url(&cache, &served.url, "deep", "1.0.0", &bytes, &NoProgress);
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(report.reference.as_deref(), Some("refs/tags/v1.0.0"));
    let dir = cache.repository_dir(&served.url);
    assert!(dir.join("shallow").is_file(), "the cache is shallow");
    assert_eq!(commits_in(&dir, "--all"), 1, "one commit, not the history");
    assert!(
        report
            .fetch
            .iter()
            .any(|n| n.contains("tag v1.0.0 one commit deep")),
        "{:?}",
        report.fetch
    );

    // A local path is read in place: nothing is copied into the cache.
    let local = f.check("deep", "1.0.0", &bytes);
    assert_verdict(&local, Verdict::Matches);
    assert!(
        !cache
            .repository_dir(&f.repo.path().display().to_string())
            .exists()
    );
    assert!(
        local.fetch.iter().any(|n| n.contains("in place")),
        "{:?}",
        local.fetch
    );
}

#[test]
fn a_commit_behind_a_moved_tag_is_found_in_deeper_history() {
    let f = Fixture::empty();
    let bytes = released_with_history(&f, "moved", "1.0.0", 1);
    let released = f.repo.git(&["rev-parse", "v1.0.0"]);
    f.repo.tag("v1.0.0", &f.repo.head());
    let served = serve(&f);

    let report = check_url(
        &f.cache(),
        &served.url,
        "moved",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(report.commit.as_deref(), Some(released.as_str()));
    assert!(report.tag_commit_mismatch);
    assert!(report.reference.is_some());
    assert!(
        report
            .fetch
            .iter()
            .any(|n| n.contains("fetching 200 commits")),
        "{:?}",
        report.fetch
    );
    assert!(
        !report.fetch.iter().any(|n| n.contains("whole history")),
        "{:?}",
        report.fetch
    );
}

#[test]
fn a_commit_only_on_a_side_branch_is_found_there() {
    let f = Fixture::with_crate("side", "1.0.0");
    f.repo.checkout("release-1.x", true);
    f.repo
        .write("src/lib.rs", "pub fn answer() -> u32 {\n    43\n}\n");
    let release = f.repo.commit_all("fix on the release branch");
    let bytes = f.package();
    f.repo.checkout("main", false);
    f.repo.write("src/other.rs", "// main moves on\n");
    f.repo.commit_all("main moves on");
    let served = serve(&f);

    let report = check_url(
        &f.cache(),
        &served.url,
        "side",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(report.commit.as_deref(), Some(release.as_str()));
    assert_eq!(report.reference.as_deref(), Some("refs/heads/release-1.x"));
}

#[test]
fn a_commit_only_on_a_pull_request_ref_is_unpublished_after_the_whole_history() {
    let f = Fixture::with_crate("forked", "1.0.0");
    f.repo.checkout("contributor", true);
    f.repo
        .write("src/lib.rs", "pub fn answer() -> u32 {\n    666\n}\n");
    let fork_commit = f.repo.commit_all("from a fork");
    let bytes = f.package();
    f.repo
        .git(&["update-ref", "refs/pull/1/head", &fork_commit]);
    f.repo.checkout("main", false);
    f.repo.git(&["branch", "--quiet", "-D", "contributor"]);
    let served = serve(&f);

    let report = check_url(
        &f.cache(),
        &served.url,
        "forked",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(
        matches!(
            report.unverifiable,
            Some(Unverifiable::CommitNotPublished(_))
        ),
        "{:?}",
        report.unverifiable
    );
    assert!(
        report.reason.contains("refs/pull/1/head"),
        "{}",
        report.reason
    );
    assert!(
        report.fetch.iter().any(|n| n.contains("whole history")),
        "{:?}",
        report.fetch
    );
}

#[test]
fn a_deleted_object_in_an_old_tree_does_not_change_the_verdict() {
    let f = Fixture::with_crate("holed", "1.0.0");
    f.repo.write("old.txt", "an object that will be lost\n");
    f.repo.commit_all("an old file");
    let lost = f.repo.git(&["rev-parse", "HEAD:old.txt"]);
    f.repo.git(&["rm", "--quiet", "old.txt"]);
    let release = f.repo.commit_all("release");
    f.repo.tag("v1.0.0", &release);
    let bytes = f.package();
    let object = f
        .repo
        .path()
        .join(".git/objects")
        .join(&lost[..2])
        .join(&lost[2..]);
    std::fs::remove_file(&object).expect("the old blob is a loose object");
    let served = serve(&f);

    let report = check_url(
        &f.cache(),
        &served.url,
        "holed",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&report, Verdict::Matches);
    assert_eq!(statuses(&report), clean_release());
    let local = f.check("holed", "1.0.0", &bytes);
    assert_verdict(&local, Verdict::Matches);
}

#[test]
fn a_second_version_fetches_only_what_is_new() {
    let f = Fixture::empty();
    let first = released_with_history(&f, "grows", "1.0.0", 60);
    let served = serve(&f);
    let cache = f.cache();
    let totals = Totals::default();
    let report = check_url(&cache, &served.url, "grows", "1.0.0", &first, &totals);
    assert_verdict(&report, Verdict::Matches);
    let first_objects: u64 = totals.taken().iter().sum();
    assert!(first_objects > 60, "the whole tree came: {first_objects}");
    let dir = cache.repository_dir(&served.url);
    let marker = dir.join("audit-trust-test-marker");
    std::fs::write(&marker, "kept").expect("write");

    f.write_crate(
        "",
        "grows",
        "1.1.0",
        "exclude = [\"history.txt\", \"docs\"]\n",
    );
    f.repo
        .write("src/lib.rs", "pub fn answer() -> u32 {\n    44\n}\n");
    let release = f.repo.commit_all("release 1.1.0");
    f.repo.tag("v1.1.0", &release);
    let second = f.package();
    let report = check_url(&cache, &served.url, "grows", "1.1.0", &second, &totals);
    assert_verdict(&report, Verdict::Matches);
    assert!(marker.is_file(), "fetched into the same cache");
    let second_objects: u64 = totals.taken().iter().sum();
    assert!(
        second_objects < 10,
        "only the new commit, trees and files came: {second_objects} objects"
    );
    assert_eq!(
        commits_in(&dir, "--all"),
        2,
        "two releases, one commit each"
    );

    // The first version again: already in the cache, nothing is fetched.
    let again = check_url(&cache, &served.url, "grows", "1.0.0", &first, &totals);
    assert_verdict(&again, Verdict::Matches);
    assert_eq!(totals.taken(), Vec::<u64>::new());
}

#[test]
fn an_interrupted_fetch_leaves_a_cache_the_next_run_repairs() {
    let f = Fixture::empty();
    // Enough content, not compressible, that the pack is still being sent when the connection
    // is cut.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for n in 0..40 {
        let noise: String = (0..2048)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                format!("{:x}", state >> 60)
            })
            .collect();
        f.repo.write(&format!("docs/{n}.md"), noise);
    }
    let bytes = released_with_history(&f, "cut", "1.0.0", 1);
    let served = serve(&f);
    let cache = f.cache();

    served.daemon.cut_after(Some(4096));
    let cut = check_url(&cache, &served.url, "cut", "1.0.0", &bytes, &NoProgress);
    assert_verdict(&cut, Verdict::Unverifiable);
    assert!(
        matches!(
            cut.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ),
        "{}",
        cut.reason
    );
    served.daemon.cut_after(None);
    let report = check_url(&cache, &served.url, "cut", "1.0.0", &bytes, &NoProgress);
    assert_verdict(&report, Verdict::Matches);

    // A cache damaged behind its refs (packs lost) is fetched again, not trusted.
    let packs = cache.repository_dir(&served.url).join("objects/pack");
    for entry in std::fs::read_dir(&packs).expect("packs").flatten() {
        std::fs::remove_file(entry.path()).expect("remove a pack");
    }
    let repaired = check_url(&cache, &served.url, "cut", "1.0.0", &bytes, &NoProgress);
    assert_verdict(&repaired, Verdict::Matches);
    assert!(
        repaired.fetch.iter().any(|n| n.contains("damaged")),
        "{:?}",
        repaired.fetch
    );
}

#[test]
fn later_runs_fetch_into_the_cache_and_follow_the_remote() {
    let f = Fixture::with_crate("cached", "1.0.0");
    let bytes = f.package();
    let served = serve(&f);
    let cache = f.cache();
    let dir = cache.repository_dir(&served.url);
    let first = check_url(&cache, &served.url, "cached", "1.0.0", &bytes, &NoProgress);
    assert_verdict(&first, Verdict::Matches);
    assert!(dir.join("HEAD").is_file(), "a bare repository in the cache");
    let marker = dir.join("audit-trust-test-marker");
    std::fs::write(&marker, "kept").expect("write");

    // The release commit leaves every branch: the next run must notice, on the same cache.
    let released = f.repo.head();
    f.repo.git(&["checkout", "--quiet", "--orphan", "fresh"]);
    f.repo.commit_all("history rewritten");
    f.repo.git(&["branch", "--quiet", "-D", "main"]);
    f.repo.git(&["branch", "--quiet", "-m", "main"]);

    let report = check_url(&cache, &served.url, "cached", "1.0.0", &bytes, &NoProgress);
    assert!(
        marker.is_file(),
        "the cache was fetched into, not cloned again"
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert_eq!(report.commit.as_deref(), Some(released.as_str()));
    assert!(
        report
            .reason
            .contains("exists but is not on any branch or tag"),
        "{}",
        report.reason
    );

    // Offline, the pruned cache gives the same answer without touching the remote.
    let connections = served.daemon.connections();
    let offline = GitCache::new(
        dir.parent().and_then(Path::parent).expect("cache root"),
        FetchLimits::default(),
        true,
    );
    let report = check_url(
        &offline,
        &served.url,
        "cached",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(
        report
            .reason
            .contains("exists but is not on any branch or tag"),
        "{}",
        report.reason
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("--offline")),
        "{:?}",
        report.warnings
    );
    assert_eq!(
        served.daemon.connections(),
        connections,
        "offline connects to nothing"
    );
}

#[test]
fn offline_a_shallow_cache_cannot_call_a_commit_unpublished() {
    let f = Fixture::empty();
    let bytes = released_with_history(&f, "edge", "1.0.0", 1);
    let served = serve(&f);
    let cache = f.cache();
    // Only the tag, one commit deep, is cached.
    assert_verdict(
        &check_url(&cache, &served.url, "edge", "1.0.0", &bytes, &NoProgress),
        Verdict::Matches,
    );
    // The tag is deleted upstream and main is fetched one commit deep by another check: the
    // release is behind main's tip, beyond what the cache holds.
    let tip = f.repo.head();
    f.repo.git(&["tag", "-d", "v1.0.0"]);
    let dir = cache.repository_dir(&served.url);
    git_command(&dir)
        .args([
            "fetch",
            "--quiet",
            "--depth=1",
            &served.url,
            "+refs/heads/main:refs/heads/main",
        ])
        .status()
        .expect("git fetch");
    git_command(&dir)
        .args(["tag", "-d", "v1.0.0"])
        .status()
        .expect("git tag -d");
    assert_eq!(f.repo.git(&["rev-parse", "main"]), tip);

    let offline = GitCache::new(
        dir.parent().and_then(Path::parent).expect("cache root"),
        FetchLimits::default(),
        true,
    );
    let report = check_url(&offline, &served.url, "edge", "1.0.0", &bytes, &NoProgress);
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(
        matches!(
            report.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ) && report.reason.contains("incomplete"),
        "{}",
        report.reason
    );
}

#[test]
fn a_fetch_over_the_size_limit_is_abandoned_and_the_next_run_works() {
    let f = Fixture::empty();
    // Incompressible, so the pack really is large.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: String = (0..50_000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            format!("{:02x}", state >> 56)
        })
        .collect();
    f.repo.write("big.txt", noise);
    let bytes = released_with_history(&f, "huge", "1.0.0", 1);
    let served = serve(&f);
    let cache_dir = tempfile::tempdir().expect("temp dir");
    let limits = FetchLimits {
        max_bytes: 2048,
        ..FetchLimits::default()
    };
    let limited = GitCache::new(cache_dir.path(), limits, false);
    let stopped = check_url(&limited, &served.url, "huge", "1.0.0", &bytes, &NoProgress);
    assert_verdict(&stopped, Verdict::Unverifiable);
    assert!(
        matches!(
            stopped.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ) && stopped.reason.contains("more than the limit of 2048 bytes"),
        "{}",
        stopped.reason
    );
    let unlimited = GitCache::new(cache_dir.path(), FetchLimits::default(), false);
    let report = check_url(
        &unlimited,
        &served.url,
        "huge",
        "1.0.0",
        &bytes,
        &NoProgress,
    );
    assert_verdict(&report, Verdict::Matches);
}

#[test]
fn a_shallow_local_clone_cannot_call_a_commit_unpublished() {
    let f = Fixture::empty();
    let bytes = released_with_history(&f, "clone", "1.0.0", 1);
    f.repo.git(&["tag", "-d", "v1.0.0"]);
    let clone = tempfile::tempdir().expect("temp dir");
    let target = clone.path().join("r");
    audit_trust_e2e::run_checked(
        git_command(clone.path())
            .args(["clone", "--quiet", "--bare", "--depth=1", &f.repo.url()])
            .arg(&target),
    );
    let choice = RepositoryChoice {
        pinned: Some(target.display().to_string()),
        ..RepositoryChoice::default()
    };
    let report = f.check_with("clone", "1.0.0", &bytes, &choice, &UrlRewrites::default());
    assert_verdict(&report, Verdict::Unverifiable);
    assert!(
        matches!(
            report.unverifiable,
            Some(Unverifiable::RepositoryUnreachable(_))
        ) && report.reason.contains("shallow clone"),
        "{}",
        report.reason
    );
}
