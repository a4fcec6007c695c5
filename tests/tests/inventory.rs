//! End to end: the real `cargo-audit-trust` binary against a real workspace resolved by the real
//! cargo from a local registry on a loopback port. Nothing here reaches the internet.

use audit_trust_e2e::fixture::{fixture, package};
use audit_trust_e2e::{CrateSpec, LocalRegistry, cli_command, tamper_crate};
use serde_json::Value;

#[test]
fn stats_and_list_classify_every_kind_of_package() {
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache dir");
    let lock = f.lockfile_arg();
    let stats = f.json(
        cache.path(),
        &["stats", "--lockfile", &lock, "--format", "json"],
    );
    // app, helper + leafy×2, middle, cc, nativelib, macros, devonly.
    assert_eq!(stats["packages"], 9, "{stats}");
    assert_eq!(stats["registry_packages"], 7);
    assert_eq!(stats["workspace_packages"], 2);
    assert_eq!(stats["git_packages"], 0);
    assert_eq!(stats["names"], 8);
    // leafy 1 and 2, cc, macros, devonly have no dependencies; middle and nativelib do.
    assert_eq!(stats["leaf"], 5);
    assert_eq!(stats["micro"], 7);
    assert_eq!(
        stats["uses_unsafe"], 2,
        "leafy 1 (a block) and nativelib (an extern block)"
    );
    assert_eq!(stats["build_scripts"], 1);
    assert_eq!(stats["proc_macros"], 1);
    assert_eq!(stats["native"], 1);
    assert_eq!(stats["duplicate_names"], 1);

    let list = f.json(
        cache.path(),
        &["list", "--lockfile", &lock, "--format", "json"],
    );
    let leafy = package(&list, "leafy", "1.0.0");
    assert_eq!(leafy["code_lines"], 4, "{leafy}");
    assert_eq!(leafy["unsafe"]["blocks"], 1);
    assert_eq!(leafy["unsafe"]["fns"], 0);
    assert_eq!(leafy["leaf"], true);
    assert_eq!(leafy["duplicate"], true);
    assert_eq!(leafy["direct"], false, "only middle uses leafy 1");
    assert_eq!(leafy["source"], "crates.io");
    assert_eq!(package(&list, "leafy", "2.0.0")["direct"], true);
    let native = package(&list, "nativelib", "0.1.0");
    assert_eq!(native["unsafe"]["extern_blocks"], 1);
    assert_eq!(native["native"], true);
    assert_eq!(native["build_script"], true);
    assert_eq!(native["links"], "nat");
    assert_eq!(native["dependencies"], serde_json::json!(["cc@1.0.0"]));
    let macros = package(&list, "macros", "0.1.0");
    assert_eq!(macros["proc_macro"], true);
    assert_eq!(macros["unsafe"]["forbids_unsafe"], true);
    let app = package(&list, "app", "0.1.0");
    assert_eq!(app["source"], "path");
    assert_eq!(
        app["code_lines"],
        Value::Null,
        "workspace packages are not classified"
    );

    // Filters.
    let unsafe_only = f.json(
        cache.path(),
        &["list", "--lockfile", &lock, "--format", "json", "--unsafe"],
    );
    let names: Vec<&str> = unsafe_only
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["leafy", "nativelib"]);
    let direct = f.json(
        cache.path(),
        &["list", "--lockfile", &lock, "--format", "json", "--direct"],
    );
    assert_eq!(direct.as_array().map(Vec::len), Some(5), "{direct}");

    // Human output carries the summary sentence.
    let out = f.run(
        cache.path(),
        &["stats", "--lockfile", &lock, "--color", "never"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(
            "9 packages: 5 leaf, 7 micro (under 300 lines), 2 use unsafe, 1 runs a build script, \
             1 proc-macro, 1 native, 1 name in several versions"
        ),
        "{text}"
    );
}

#[test]
fn second_run_reads_only_the_cache_and_offline_works_then() {
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache dir");
    let lock = f.lockfile_arg();
    let first = f.json(
        cache.path(),
        &["stats", "--lockfile", &lock, "--format", "json"],
    );
    assert_eq!(f.downloads(), 7, "each registry package downloaded once");
    let second = f.json(
        cache.path(),
        &["stats", "--lockfile", &lock, "--format", "json"],
    );
    assert_eq!(f.downloads(), 7, "nothing downloaded again");
    assert_eq!(first, second);
    let verbose = f.run(cache.path(), &["stats", "--lockfile", &lock, "-v"]);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(
        stderr.contains("note: 7 packages from the classification cache, 0 classified from crate files (0 downloaded)"),
        "{stderr}"
    );
    let offline = f.json(
        cache.path(),
        &[
            "stats",
            "--lockfile",
            &lock,
            "--format",
            "json",
            "--offline",
        ],
    );
    assert_eq!(first, offline);
}

#[test]
fn offline_with_empty_caches_lists_what_is_missing() {
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache dir");
    let out = f.run(
        cache.path(),
        &["stats", "--lockfile", &f.lockfile_arg(), "--offline"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--offline: 7 crate files are not cached"),
        "{stderr}"
    );
    assert!(
        stderr.contains("leafy@1.0.0") && stderr.contains("nativelib@0.1.0"),
        "{stderr}"
    );
    assert_eq!(f.downloads(), 0);
}

#[test]
fn a_tampered_download_is_refused_and_nothing_is_cached() {
    let f = fixture();
    let path = LocalRegistry::download_path("middle", "0.2.0");
    let original = f.reg.server().get(&path).expect("middle is served");
    f.reg.replace_file(
        &path,
        tamper_crate(&original, "src/lib.rs", "pub fn mid() -> u8 { 3 }\n"),
    );
    let cache = tempfile::tempdir().expect("cache dir");
    let out = f.run(cache.path(), &["stats", "--lockfile", &f.lockfile_arg()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("checksum mismatch for middle@0.2.0"),
        "{stderr}"
    );
    let cached_middle = std::fs::read_dir(cache.path().join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("middle-"));
    assert!(
        !cached_middle,
        "a file that failed verification must not be cached"
    );
}

#[test]
fn a_tampered_file_in_cargos_cache_is_a_hard_error() {
    let f = fixture();
    f.ws.fetch(&f.reg);
    let cached = std::fs::read_dir(f.reg.cargo_home().join("registry/cache"))
        .expect("cargo cache")
        .flatten()
        .map(|d| d.path().join("leafy-2.0.0.crate"))
        .find(|p| p.is_file())
        .expect("cargo fetched leafy 2");
    let bytes = std::fs::read(&cached).expect("read");
    std::fs::write(
        &cached,
        tamper_crate(&bytes, "src/lib.rs", "pub fn two() {}\n"),
    )
    .expect("write");
    let cache = tempfile::tempdir().expect("cache dir");
    let out = f.run(cache.path(), &["list", "--lockfile", &f.lockfile_arg()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("checksum mismatch for leafy@2.0.0"),
        "{stderr}"
    );
    assert!(
        stderr.contains("leafy-2.0.0.crate"),
        "the message names the file: {stderr}"
    );
}

#[test]
fn unreachable_registry_names_the_package_and_suggests_offline() {
    let f = fixture();
    // Close the registry: the lockfile is already resolved, the crate files are nowhere cached.
    let lock = f.lockfile_arg();
    let port_free_home = tempfile::tempdir().expect("home");
    std::fs::write(
        port_free_home.path().join("config.toml"),
        "[source.crates-io]\nreplace-with = \"gone\"\n[source.gone]\nregistry = \"sparse+http://127.0.0.1:9/index/\"\n",
    )
    .expect("config");
    let cache = tempfile::tempdir().expect("cache dir");
    let out = cli_command(port_free_home.path())
        .args(["stats", "--lockfile", &lock, "--cache-dir"])
        .arg(cache.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unreachable") && stderr.contains("--offline"),
        "{stderr}"
    );
    assert!(stderr.contains("cannot download "), "{stderr}");
}

#[test]
fn metadata_mode_agrees_with_lockfile_mode_and_knows_dev_only() {
    let f = fixture();
    // Metadata mode makes cargo download the crates into CARGO_HOME; we then read them there.
    let cache = tempfile::tempdir().expect("cache dir");
    let from_metadata = f.json(cache.path(), &["list", "--format", "json"]);
    let downloads_by_cargo = f.downloads();
    let cache2 = tempfile::tempdir().expect("cache dir");
    let from_lockfile = f.json(
        cache2.path(),
        &["list", "--format", "json", "--lockfile", &f.lockfile_arg()],
    );
    assert_eq!(
        f.downloads(),
        downloads_by_cargo,
        "cargo's own cache was used, nothing downloaded"
    );

    let strip = |v: &Value| -> Vec<Value> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|p| {
                let mut p = p.clone();
                let o = p.as_object_mut().expect("object");
                o.remove("dev_only");
                o.remove("workspace_member");
                p
            })
            .collect()
    };
    assert_eq!(strip(&from_metadata), strip(&from_lockfile));
    assert_eq!(
        package(&from_metadata, "devonly", "0.1.0")["dev_only"],
        true
    );
    assert_eq!(package(&from_metadata, "leafy", "1.0.0")["dev_only"], false);
    assert_eq!(
        package(&from_lockfile, "devonly", "0.1.0")["dev_only"],
        Value::Null
    );
    assert_eq!(
        package(&from_metadata, "helper", "0.1.0")["workspace_member"],
        true
    );
}

#[test]
fn cargo_audit_policy_sets_the_micro_threshold_and_typos_fail() {
    let f = fixture();
    let cache = tempfile::tempdir().expect("cache dir");
    f.ws.write_file("Cargo.audit", "[policy]\nmicro-lines = 4\n");
    let list = f.json(
        cache.path(),
        &["list", "--format", "json", "--lockfile", &f.lockfile_arg()],
    );
    assert_eq!(
        package(&list, "leafy", "1.0.0")["micro"],
        false,
        "4 lines is not under 4"
    );
    assert_eq!(package(&list, "leafy", "2.0.0")["micro"], true);
    // The command line wins over the file.
    let list = f.json(
        cache.path(),
        &[
            "list",
            "--format",
            "json",
            "--micro-lines",
            "5",
            "--lockfile",
            &f.lockfile_arg(),
        ],
    );
    assert_eq!(package(&list, "leafy", "1.0.0")["micro"], true);

    f.ws.write_file("Cargo.audit", "[policy]\nmicro_lines = 4\n");
    let out = f.run(cache.path(), &["stats", "--lockfile", &f.lockfile_arg()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Cargo.audit:2:1: unknown field `micro_lines`"),
        "{stderr}"
    );
}

/// A registry that serves a hostile archive whose checksum the lockfile agrees with (a malicious
/// registry plus a pull request that edits `Cargo.lock`): the checksum passes, the safe reader
/// must still refuse the archive and name the package and the entry.
#[test]
fn a_hostile_archive_with_a_matching_checksum_is_refused() {
    let f = fixture();
    let path = LocalRegistry::download_path("leafy", "2.0.0");
    let original = f.reg.server().get(&path).expect("leafy 2 is served");
    let mut files = audit_trust_e2e::crate_files(&original);
    files.insert(
        "other-1.0.0/src/evil.rs".into(),
        b"pub fn evil() {}\n".to_vec(),
    );
    let hostile = audit_trust_e2e::build_crate(&files);
    f.reg.replace_file(&path, hostile.clone());
    let old_sum = audit_trust_e2e::hex(&sha256(&original));
    let lock =
        f.ws.read_file("Cargo.lock")
            .replace(&old_sum, &audit_trust_e2e::hex(&sha256(&hostile)));
    f.ws.write_file("Cargo.lock", &lock);

    let cache = tempfile::tempdir().expect("cache dir");
    let out = f.run(cache.path(), &["stats", "--lockfile", &f.lockfile_arg()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("leafy@2.0.0: corrupt or unsafe crate file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("other-1.0.0/src/evil.rs"),
        "names the entry: {stderr}"
    );
}

/// An entry name is written by whoever made the archive: the error that quotes it shows its
/// bidirectional and control characters as escapes, so it cannot reorder or redraw the
/// terminal, and the entry is still named.
#[test]
fn a_hostile_entry_name_is_escaped_in_the_error() {
    let f = fixture();
    let path = LocalRegistry::download_path("leafy", "2.0.0");
    let original = f.reg.server().get(&path).expect("leafy 2 is served");
    let mut files = audit_trust_e2e::crate_files(&original);
    files.insert(
        "other-1.0.0/\u{202E}sr.txt\u{2066}\u{1b}[2J".into(),
        b"pub fn evil() {}\n".to_vec(),
    );
    let hostile = audit_trust_e2e::build_crate(&files);
    f.reg.replace_file(&path, hostile.clone());
    let old_sum = audit_trust_e2e::hex(&sha256(&original));
    let lock =
        f.ws.read_file("Cargo.lock")
            .replace(&old_sum, &audit_trust_e2e::hex(&sha256(&hostile)));
    f.ws.write_file("Cargo.lock", &lock);

    let cache = tempfile::tempdir().expect("cache dir");
    let out = f.run(cache.path(), &["stats", "--lockfile", &f.lockfile_arg()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    assert!(
        stderr.contains("entry `other-1.0.0/\\u{202e}sr.txt\\u{2066}\\u{1b}[2J`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(['\u{202E}', '\u{2066}', '\u{1b}']),
        "raw characters reached the terminal: {stderr:?}"
    );
}

/// A package whose lockfile source is a sparse registry URL (an alternative registry) is
/// downloaded from that registry directly.
#[test]
fn alternative_sparse_registries_are_downloaded_from_directly() {
    let reg = LocalRegistry::start();
    let published = reg
        .publish_crate(&CrateSpec::new("altcrate", "1.2.3").file("src/lib.rs", "pub fn a() {}\n"));
    let dir = tempfile::tempdir().expect("dir");
    let lock = format!(
        "version = 4\n\n[[package]]\nname = \"altcrate\"\nversion = \"1.2.3\"\nsource = \"{}\"\nchecksum = \"{}\"\n\n\
         [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"altcrate\"]\n",
        reg.index_url(),
        published.checksum_hex
    );
    let lockfile = dir.path().join("Cargo.lock");
    std::fs::write(&lockfile, lock).expect("write lockfile");
    let empty_home = tempfile::tempdir().expect("home");
    let cache = tempfile::tempdir().expect("cache");
    let out = cli_command(empty_home.path())
        .args(["list", "--format", "json", "--lockfile"])
        .arg(&lockfile)
        .arg("--cache-dir")
        .arg(cache.path())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    let alt = package(&list, "altcrate", "1.2.3");
    assert_eq!(alt["source"], "registry");
    assert_eq!(alt["code_lines"], 1);
    assert_eq!(alt["direct"], true);
    assert_eq!(
        reg.request_count(&LocalRegistry::download_path("altcrate", "1.2.3")),
        1
    );
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}
