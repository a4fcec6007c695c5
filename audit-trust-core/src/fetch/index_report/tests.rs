//! Against a real sparse registry on a loopback port (the e2e crate's `LocalRegistry`).

use std::time::Duration;

use audit_trust_e2e::{CrateSpec, LocalRegistry};

use super::*;
use crate::fetch::{DEFAULT_MAX_CRATE_BYTES, StoreOptions};
use crate::http::HttpClient;
use crate::inventory::CRATES_IO_SOURCE_ID;
use crate::progress::NoProgress;

fn package(name: &str, version: &str, checksum: &str) -> Package {
    Package {
        name: name.into(),
        version: semver::Version::parse(version).expect("version"),
        source: SourceKind::from_source_id(Some(CRATES_IO_SOURCE_ID)),
        source_id: Some(CRATES_IO_SOURCE_ID.into()),
        checksum: Some(checksum.into()),
        dependencies: Vec::new(),
        direct: true,
        dev_only: None,
        workspace_member: false,
        lock_line: 1,
    }
}

fn store(reg: &LocalRegistry, cache: &std::path::Path, offline: bool) -> CrateStore {
    let options = StoreOptions {
        cargo_home: reg.cargo_home().to_owned(),
        cache_dir: cache.to_owned(),
        offline,
        jobs: 4,
        max_crate_bytes: DEFAULT_MAX_CRATE_BYTES,
    };
    CrateStore::new(options, cache, HttpClient::default()).expect("store")
}

#[test]
fn reads_checksums_and_yanked_flags_and_caches_them() {
    let reg = LocalRegistry::start();
    let old = reg.publish_crate(&CrateSpec::new("idx", "1.0.0"));
    let new =
        reg.publish_crate(&CrateSpec::new("idx", "1.1.0").file("src/lib.rs", "pub fn x() {}\n"));
    reg.set_yanked("idx", "1.0.0", true);
    let cache = tempfile::tempdir().expect("cache");
    let packages = [
        package("idx", "1.0.0", &old.checksum_hex),
        package("idx", "1.1.0", &new.checksum_hex),
    ];
    let refs: Vec<&Package> = packages.iter().collect();
    let index_path = LocalRegistry::index_file_path("idx");

    let report = store(&reg, cache.path(), false)
        .index_report(&refs, Duration::ZERO, &NoProgress)
        .expect("index read");
    let v1 = report.version(&packages[0]).expect("1.0.0 listed");
    assert!(v1.yanked);
    assert_eq!(v1.checksum, old.checksum_hex);
    let v2 = report.version(&packages[1]).expect("1.1.0 listed");
    assert!(!v2.yanked);
    assert_eq!(v2.checksum, new.checksum_hex);
    assert_eq!(
        reg.request_count(&index_path),
        1,
        "one request per crate, not per version"
    );

    // Younger than max-age: no request at all. Older: asked again.
    let s = store(&reg, cache.path(), false);
    s.index_report(&refs, Duration::from_secs(3600), &NoProgress)
        .expect("cached");
    assert_eq!(reg.request_count(&index_path), 1);
    let again = s
        .index_report(&refs, Duration::ZERO, &NoProgress)
        .expect("revalidated");
    assert_eq!(reg.request_count(&index_path), 2);
    assert_eq!(again.version(&packages[0]), Some(v1));

    // Offline: the cache whatever its age, and the report says how old it is.
    let offline = store(&reg, cache.path(), true)
        .index_report(&refs, Duration::ZERO, &NoProgress)
        .expect("offline from cache");
    assert!(offline.version(&packages[0]).is_some_and(|v| v.yanked));
    assert!(offline.oldest_cached.is_some());
    assert_eq!(reg.request_count(&index_path), 2);
}

#[test]
fn offline_without_a_cache_and_unknown_versions() {
    let reg = LocalRegistry::start();
    let published = reg.publish_crate(&CrateSpec::new("idx2", "0.1.0"));
    let cache = tempfile::tempdir().expect("cache");
    let real = package("idx2", "0.1.0", &published.checksum_hex);
    let err = store(&reg, cache.path(), true)
        .index_report(&[&real], Duration::ZERO, &NoProgress)
        .expect_err("nothing cached");
    let text = err.to_string();
    assert!(
        text.contains("idx2") && text.contains("no cached index entry"),
        "{text}"
    );

    let ghost = package("idx2", "9.9.9", &published.checksum_hex);
    let report = store(&reg, cache.path(), false)
        .index_report(&[&ghost], Duration::ZERO, &NoProgress)
        .expect("read");
    assert!(report.has_entry(&ghost));
    assert_eq!(
        report.version(&ghost),
        None,
        "a version the index does not list"
    );
}

#[test]
fn an_unreachable_registry_is_an_error_naming_the_crate() {
    let reg = LocalRegistry::start();
    let published = reg.publish_crate(&CrateSpec::new("idx3", "0.1.0"));
    let cache = tempfile::tempdir().expect("cache");
    let home = tempfile::tempdir().expect("home");
    std::fs::write(
        home.path().join("config.toml"),
        "[source.crates-io]\nreplace-with = \"gone\"\n[source.gone]\nregistry = \"sparse+http://127.0.0.1:9/index/\"\n",
    )
    .expect("config");
    let options = StoreOptions {
        cargo_home: home.path().to_owned(),
        cache_dir: cache.path().to_owned(),
        offline: false,
        jobs: 2,
        max_crate_bytes: DEFAULT_MAX_CRATE_BYTES,
    };
    let store = CrateStore::new(options, cache.path(), HttpClient::default()).expect("store");
    let p = package("idx3", "0.1.0", &published.checksum_hex);
    let err = store
        .index_report(&[&p], Duration::ZERO, &NoProgress)
        .expect_err("unreachable");
    assert!(
        err.to_string().contains("idx3") && err.to_string().contains("unreachable"),
        "{err}"
    );
}

/// A cold run's index lookups and downloads are many requests in flight at once over a few
/// kept-alive connections: the server sees them overlap, and far fewer connections than
/// requests. (No time is asserted: the server's delay only makes overlap visible.)
#[test]
fn lookups_and_downloads_run_in_parallel_over_reused_connections() {
    const CRATES: usize = 48;
    const JOBS: usize = 16;
    let reg = LocalRegistry::start();
    let packages: Vec<Package> = (0..CRATES)
        .map(|i| {
            let name = format!("par{i}");
            let published = reg.publish_crate(&CrateSpec::new(&name, "1.0.0"));
            package(&name, "1.0.0", &published.checksum_hex)
        })
        .collect();
    let refs: Vec<&Package> = packages.iter().collect();
    let server = reg.server();
    server.set_keep_alive(true);
    server.set_response_delay(Duration::from_millis(50));
    let before = server.connections();
    let cache = tempfile::tempdir().expect("cache");
    let options = StoreOptions {
        cargo_home: reg.cargo_home().to_owned(),
        cache_dir: cache.path().to_owned(),
        offline: false,
        jobs: JOBS,
        max_crate_bytes: DEFAULT_MAX_CRATE_BYTES,
    };
    let store = CrateStore::new(options, cache.path(), HttpClient::default()).expect("store");

    let report = store
        .index_report(&refs, Duration::ZERO, &NoProgress)
        .expect("index read");
    assert!(packages.iter().all(|p| report.version(p).is_some()));
    let downloaded = store.ensure_all(&refs, &NoProgress).expect("downloads");
    assert_eq!(downloaded, CRATES);
    for p in &packages {
        store.read_verified(p).expect("verified crate file");
    }

    // 48 index files, config.json, 48 crate files.
    let requests = server.requests().len();
    assert_eq!(requests, 2 * CRATES + 1);
    let in_flight = server.max_concurrent_requests();
    assert!(
        in_flight >= 4,
        "requests ran {in_flight} at a time with {JOBS} workers"
    );
    let connections = server.connections() - before;
    assert!(
        connections <= JOBS + 1,
        "{connections} connections for {requests} requests with {JOBS} workers: not reused"
    );
}
