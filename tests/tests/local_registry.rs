//! Sanity checks for the e2e harness itself: the local registry must behave like crates.io for
//! the real cargo (resolution, checksums, downloads, caching), without any network access.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;

use audit_trust_e2e::{
    CrateSpec, LocalRegistry, LockedPackage, Workspace, crate_files, tamper_crate,
};

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

fn locked<'a>(pkgs: &'a [LockedPackage], name: &str, version: &str) -> &'a LockedPackage {
    pkgs.iter()
        .find(|p| p.name == name && p.version == version)
        .unwrap_or_else(|| panic!("{name} {version} not in Cargo.lock: {pkgs:#?}"))
}

#[test]
fn cargo_resolves_and_fetches_from_the_local_registry() {
    let reg = LocalRegistry::start();
    let leafy1 = reg
        .publish_crate(&CrateSpec::new("leafy", "1.0.0").file("src/lib.rs", "pub fn one() {}\n"));
    let middle = reg.publish_crate(&CrateSpec::new("middle", "0.2.0").dep("leafy", "^1"));
    let leafy2 = reg
        .publish_crate(&CrateSpec::new("leafy", "2.0.0").file("src/lib.rs", "pub fn two() {}\n"));
    assert_eq!(middle.index_line["deps"][0]["name"], "leafy");
    assert_eq!(middle.index_line["deps"][0]["req"], "^1");
    assert_eq!(middle.index_line["deps"][0]["kind"], "normal");
    assert!(crate_files(&leafy1.crate_bytes).contains_key("leafy-1.0.0/src/lib.rs"));

    let ws = Workspace::new(&[(
        "app",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nmiddle = \"0.2\"\nleafy = \"2\"\n",
        &[("src/main.rs", "fn main() {}\n")],
    )]);
    let lock = ws.generate_lockfile(&reg);
    let pkgs = LockedPackage::parse(&lock);
    for p in [&leafy1, &leafy2, &middle] {
        let entry = locked(&pkgs, &p.name, &p.version);
        // Source replacement is invisible in the lockfile: it still names crates.io.
        assert_eq!(entry.source.as_deref(), Some(CRATES_IO), "{lock}");
        assert_eq!(
            entry.checksum.as_deref(),
            Some(p.checksum_hex.as_str()),
            "{lock}"
        );
    }
    assert_eq!(locked(&pkgs, "app", "0.1.0").source, None);

    ws.fetch(&reg);
    let cache = reg.cargo_home().join("registry/cache");
    let cached: Vec<_> = fs::read_dir(&cache)
        .expect("registry/cache exists after cargo fetch")
        .flat_map(|dir| fs::read_dir(dir.expect("cache dir entry").path()).expect("read cache dir"))
        .map(|f| f.expect("cache file").path())
        .collect();
    for p in [&leafy1, &leafy2, &middle] {
        let file = format!("{}-{}.crate", p.name, p.version);
        let path = cached
            .iter()
            .find(|c| c.ends_with(&file))
            .unwrap_or_else(|| panic!("{file} in {cached:?}"));
        assert_eq!(fs::read(path).expect("read cached crate"), p.crate_bytes);
        assert_eq!(
            reg.request_count(&LocalRegistry::download_path(&p.name, &p.version)),
            1
        );
    }

    // A second fetch is served from the cache: no downloads, index revalidated with ETags (304).
    reg.server().reset_requests();
    ws.fetch(&reg);
    let requests = reg.requests();
    assert!(
        requests.iter().all(|r| !r.path.starts_with("/dl/")),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.status == 304 || r.path.ends_with("config.json")),
        "{requests:#?}"
    );
}

#[test]
fn tampered_crate_fails_cargo_checksum_verification() {
    let reg = LocalRegistry::start();
    let p = reg.publish_crate(&CrateSpec::new("tamp", "0.1.0"));
    let bad = tamper_crate(&p.crate_bytes, "src/lib.rs", "pub fn evil() {}\n");
    assert_eq!(
        crate_files(&bad)["tamp-0.1.0/src/lib.rs"],
        b"pub fn evil() {}\n"
    );
    reg.replace_file(&LocalRegistry::download_path("tamp", "0.1.0"), bad);

    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\ntamp = \"0.1\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    let out = ws
        .cargo(&reg)
        .arg("fetch")
        .output()
        .expect("run cargo fetch");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("checksum"), "{stderr}");
}

#[test]
fn index_entry_reflects_manifest_extras_and_yanking() {
    let reg = LocalRegistry::start();
    reg.publish_crate(&CrateSpec::new("cc", "1.0.0"));
    reg.publish_crate(&CrateSpec::new("opt", "1.0.0"));
    let spec = CrateSpec::new("sys-thing", "0.3.1")
        .build_dep("cc", "1")
        .manifest("links = \"thing\"")
        .manifest("[dependencies]\nopt = { version = \"1\", optional = true }\n[features]\nfancy = [\"dep:opt\"]")
        .file("build.rs", "fn main() {}\n");
    let p = reg.publish_crate(&spec);
    let line = &p.index_line;
    assert_eq!(line["links"], "thing");
    assert_eq!(line["features2"]["fancy"][0], "dep:opt");
    let kinds: Vec<_> = line["deps"]
        .as_array()
        .expect("deps")
        .iter()
        .map(|d| d["kind"].clone())
        .collect();
    assert!(
        kinds.contains(&"build".into()) && kinds.contains(&"normal".into()),
        "{line}"
    );

    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
         [dependencies]\nsys-thing = { version = \"0.3\", features = [\"fancy\"] }\n",
        &[],
    );
    let pkgs = LockedPackage::parse(&ws.generate_lockfile(&reg));
    locked(&pkgs, "opt", "1.0.0");
    locked(&pkgs, "cc", "1.0.0");

    reg.set_yanked("sys-thing", "0.3.1", true);
    fs::remove_file(ws.lockfile_path()).expect("remove Cargo.lock");
    let out = ws
        .cargo(&reg)
        .arg("generate-lockfile")
        .output()
        .expect("run cargo");
    // A yanked-only requirement must not resolve.
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("yanked"), "{stderr}");
}

#[test]
fn server_ignores_keep_alive_and_gzip_and_counts_requests() {
    let reg = LocalRegistry::start();
    let mut conn = TcpStream::connect(reg.server().addr()).expect("connect");
    conn.write_all(
        b"GET /index/config.json?x=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAccept-Encoding: gzip\r\n\r\n",
    )
    .expect("send");
    let mut response = String::new();
    conn.read_to_string(&mut response)
        .expect("server closes the connection");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("\"dl\":"), "{response}");
    assert!(
        !response.to_ascii_lowercase().contains("content-encoding"),
        "{response}"
    );

    let mut conn = TcpStream::connect(reg.server().addr()).expect("connect");
    conn.write_all(b"HEAD /nope HTTP/1.1\r\n\r\n")
        .expect("send");
    response.clear();
    conn.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(
        response.ends_with("\r\n\r\n"),
        "HEAD has no body: {response:?}"
    );
    assert_eq!(reg.request_count("/index/config.json"), 1);
    assert_eq!(reg.request_count("/nope"), 1);
}

#[test]
fn binary_path_says_how_to_build_a_missing_binary() {
    let panic = std::panic::catch_unwind(|| audit_trust_e2e::binary_path("no-such-binary"))
        .expect_err("a missing binary panics");
    let msg = panic
        .downcast_ref::<String>()
        .expect("formatted panic message");
    assert!(msg.contains("cargo build --workspace"), "{msg}");
}
