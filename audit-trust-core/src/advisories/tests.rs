use super::*;

/// Writes a tiny advisory database in RustSec's layout (a fixture of our own: tests never read
/// the live database).
fn fixture(dir: &Path) {
    let write = |name: &str, id: &str, extra: &str, date: &str, versions: &str| {
        let folder = dir.join("crates").join(name);
        std::fs::create_dir_all(&folder).expect("mkdir");
        let text = format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{name}\"\ndate = \"{date}\"\n{extra}\n\
             [versions]\n{versions}\n```\n\n# Title of {id}\n\nDescription.\n"
        );
        std::fs::write(folder.join(format!("{id}.md")), text).expect("write");
    };
    write(
        "smallvec",
        "RUSTSEC-2021-0003",
        "url = \"https://example.com/a\"",
        "2021-01-08",
        "patched = [\">= 1.6.1\"]",
    );
    write(
        "smallvec",
        "RUSTSEC-2019-0009",
        "aliases = [\"CVE-2019-1234\"]",
        "2019-06-06",
        "patched = [\">= 0.6.10\"]",
    );
    write(
        "oldcrate",
        "RUSTSEC-2020-0001",
        "informational = \"unmaintained\"",
        "2020-02-02",
        "patched = []",
    );
    write(
        "gone",
        "RUSTSEC-2022-0002",
        "withdrawn = \"2022-03-03\"",
        "2022-03-01",
        "patched = []",
    );
}

fn open() -> (tempfile::TempDir, AdvisoryDatabase) {
    let dir = tempfile::tempdir().expect("temp dir");
    fixture(dir.path());
    let db = AdvisoryDatabase::open(dir.path()).expect("opens");
    (dir, db)
}

fn v(s: &str) -> semver::Version {
    semver::Version::parse(s).expect("version")
}

#[test]
fn finds_vulnerabilities_by_version() {
    let (_dir, db) = open();
    let found = db.for_package("smallvec", &v("0.6.9"));
    let ids: Vec<&str> = found.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["RUSTSEC-2019-0009", "RUSTSEC-2021-0003"]);
    assert_eq!(found[0].kind, AdvisoryKind::Vulnerability);
    assert_eq!(found[0].patched, [">=0.6.10"]);
    assert_eq!(found[0].aliases, ["CVE-2019-1234"]);
    assert_eq!(found[1].title, "Title of RUSTSEC-2021-0003");
    assert_eq!(db.for_package("smallvec", &v("1.6.1")), []);
    assert_eq!(db.for_package("smallvec", &v("1.0.0")).len(), 1);
}

#[test]
fn informational_and_withdrawn() {
    let (_dir, db) = open();
    let found = db.for_package("oldcrate", &v("1.0.0"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, AdvisoryKind::Unmaintained);
    assert!(
        db.for_package("gone", &v("1.0.0")).is_empty(),
        "withdrawn advisories never match"
    );
}

#[test]
fn date_is_the_newest_advisory() {
    let (_dir, db) = open();
    assert_eq!(db.date, Date::parse("2022-03-01"));
    assert_eq!(db.advisories, 4);
    assert_eq!(
        db.age_days(Date::parse("2022-03-31").expect("date")),
        Some(30)
    );
}

#[test]
fn a_folder_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = AdvisoryDatabase::open(dir.path()).expect_err("no crates/ folder");
    assert!(
        err.to_string().contains("not an advisory database"),
        "{err}"
    );
    fixture(dir.path());
    std::fs::write(
        dir.path().join("crates/smallvec/RUSTSEC-2023-0001.md"),
        "garbage",
    )
    .expect("write");
    let err = AdvisoryDatabase::open(dir.path()).expect_err("bad advisory");
    assert!(
        err.to_string().contains("RUSTSEC-2023-0001.md"),
        "names the bad file: {err}"
    );
}

/// Commits the fixture database into a new git repository with a fixed commit date.
fn git_fixture(dir: &Path) -> git2::Oid {
    fixture(dir);
    let repo = git2::Repository::init(dir).expect("init");
    let mut index = repo.index().expect("index");
    index
        .add_all(["crates"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    // 2026-11-20T00:00:00Z
    let when = git2::Time::new(1_795_132_800, 0);
    let sig = git2::Signature::new("RustSec", "rustsec@example.com", &when).expect("signature");
    repo.commit(Some("HEAD"), &sig, &sig, "advisories", &tree, &[])
        .expect("commit")
}

#[test]
fn a_git_working_copy_is_dated_by_its_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let commit = git_fixture(dir.path());
    let db = AdvisoryDatabase::open(dir.path()).expect("opens");
    assert_eq!(
        db.date,
        Date::parse("2026-11-20"),
        "the commit date, not the newest advisory"
    );
    assert_eq!(db.commit, Some(commit.to_string()));
}

#[test]
fn fetched_with_git_from_a_local_repository() {
    use crate::provenance::git_cache::{FetchLimits, GitCache};
    let upstream = tempfile::tempdir().expect("upstream");
    let commit = git_fixture(upstream.path());
    let url = format!("file://{}", upstream.path().display());
    let cache = tempfile::tempdir().expect("cache");
    let git = GitCache::new(cache.path(), FetchLimits::default(), false);
    let db =
        fetch_advisory_db(&url, &git, cache.path(), &crate::progress::NoProgress).expect("fetched");
    assert_eq!(db.commit, Some(commit.to_string()));
    assert_eq!(db.date, Date::parse("2026-11-20"));
    assert_eq!(db.advisories, 4);
    assert_eq!(db.for_package("smallvec", &v("0.6.9")).len(), 2);
    assert_eq!(db.source, url);

    // Offline, the cached copy serves; an unknown URL offline is a clear error.
    let offline = GitCache::new(cache.path(), FetchLimits::default(), true);
    let again = fetch_advisory_db(&url, &offline, cache.path(), &crate::progress::NoProgress)
        .expect("cached");
    assert_eq!(again.commit, db.commit);
    let err = fetch_advisory_db(
        "file:///nonexistent/db",
        &offline,
        cache.path(),
        &crate::progress::NoProgress,
    )
    .expect_err("nothing cached");
    assert!(err.to_string().contains("--advisory-db"), "{err}");
}

#[test]
fn an_unreachable_repository_is_an_error_not_a_pass() {
    use crate::provenance::git_cache::{FetchLimits, GitCache};
    let cache = tempfile::tempdir().expect("cache");
    let git = GitCache::new(cache.path(), FetchLimits::default(), false);
    let err = fetch_advisory_db(
        "file:///nonexistent/advisory-db",
        &git,
        cache.path(),
        &crate::progress::NoProgress,
    )
    .expect_err("unreachable");
    assert!(err.to_string().contains("advisory database"), "{err}");
}
