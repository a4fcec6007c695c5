//! End to end: `cargo audit-trust verify-sources` over a workspace whose four dependencies come
//! from a local registry on loopback, packaged by the real cargo from real git repositories
//! (reached through `[url-rewrite]`; the `https://git.example/…` names do not exist, nothing
//! leaves the machine):
//!
//! - `popular` matches its pinned repository: `--sign` signs it, once, in one batch;
//! - `tampered` was changed after packaging (the index checksum follows, as an attacker with
//!   publish rights would do): `differs`, exit 1;
//! - `novcs` was packaged outside git, so it names no commit, and its pinned repository has no
//!   tag for it: `unverifiable` (`no-commit`);
//! - `claimy` matches the repository it claims, which nobody pinned: listed, never signed.

use std::path::Path;
use std::process::Output;

use audit_trust_e2e::{CrateSpec, GitRepo, LocalRegistry, Published, Workspace, cli_command};
use serde_json::Value;
use tempfile::TempDir;

const NOW: &str = "2026-11-01T12:00:00Z";

fn url(name: &str) -> String {
    format!("https://git.example/{name}/{name}")
}

/// Commits a one-file crate `name@version` naming `url(name)` and publishes it with cargo.
fn release(repo: &GitRepo, reg: &LocalRegistry, name: &str, version: &str) -> Published {
    repo.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
             license = \"MIT\"\nrepository = \"{}\"\n",
            url(name)
        ),
    );
    repo.write(
        "src/lib.rs",
        format!("pub fn name() -> &'static str {{\n    \"{name}\"\n}}\n"),
    );
    repo.commit_all(&format!("release {version}"));
    reg.publish_manifest(&repo.path().join("Cargo.toml"), &[])
}

/// Serves other bytes for a published version, and the index checksum of those bytes.
fn tamper(reg: &LocalRegistry, published: &Published) {
    let bytes = audit_trust_e2e::tamper_crate(
        &published.crate_bytes,
        "src/lib.rs",
        "pub fn name() -> &'static str { std::env!(\"HOME\") }\n",
    );
    let checksum = audit_trust_e2e::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    reg.server()
        .update(&LocalRegistry::index_file_path(&published.name), |file| {
            let text = String::from_utf8_lossy(file).replace(&published.checksum_hex, &checksum);
            *file = text.into_bytes();
        });
    reg.replace_file(
        &LocalRegistry::download_path(&published.name, &published.version),
        bytes,
    );
}

struct World {
    reg: LocalRegistry,
    ws: Workspace,
    home: TempDir,
    /// Kept alive: `[url-rewrite]` points at them.
    _repos: Vec<GitRepo>,
}

impl World {
    fn run(&self, args: &[&str]) -> Output {
        cli_command(self.reg.cargo_home())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("CI", "1")
            .current_dir(self.ws.path())
            .arg("audit-trust")
            .arg("--cache-dir")
            .arg(self.home.path().join("cache"))
            .args(["--now", NOW])
            .args(args)
            .output()
            .expect("run cargo-audit-trust")
    }

    fn json(&self, args: &[&str], expected_exit: i32) -> Value {
        let out = self.run(&[args, &["--format", "json"]].concat());
        assert_eq!(
            out.status.code(),
            Some(expected_exit),
            "{args:?}: {}",
            stderr(&out)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    fn store_lines(&self, name: &str) -> usize {
        let path = self
            .ws
            .path()
            .join(format!("sign-offs/crates/{name}.jsonl"));
        std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn world() -> World {
    let reg = LocalRegistry::start();
    let (popular, tampered, novcs, claimy) = (
        GitRepo::init(),
        GitRepo::init(),
        GitRepo::init(),
        GitRepo::init(),
    );
    release(&popular, &reg, "popular", "1.0.0");
    let published = release(&tampered, &reg, "tampered", "1.0.0");
    tamper(&reg, &published);
    release(&claimy, &reg, "claimy", "2.1.0");
    // Packaged outside any git repository: no `.cargo_vcs_info.json`. Its repository has a
    // commit but no tag for the version.
    novcs.write("README.md", "novcs\n");
    novcs.commit_all("start");
    reg.publish_crate(
        &CrateSpec::new("novcs", "0.3.0")
            .manifest(&format!("repository = \"{}\"\n", url("novcs")))
            .file("src/lib.rs", "pub fn n() {}\n"),
    );

    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         popular = \"1\"\ntampered = \"1\"\nnovcs = \"0.3\"\nclaimy = \"2\"\n",
        &[("src/main.rs", "fn main() {}\n")],
    );
    ws.generate_lockfile(&reg);
    let rewrites: String = [
        ("popular", &popular),
        ("tampered", &tampered),
        ("novcs", &novcs),
        ("claimy", &claimy),
    ]
    .iter()
    .map(|(name, repo)| format!("\"{}\" = \"{}\"\n", url(name), repo.url()))
    .collect();
    ws.write_file(
        "Cargo.audit",
        &format!(
            "[sources]\npopular = \"{}\"\ntampered = \"{}\"\nnovcs = \"{}\"\n\n[url-rewrite]\n{rewrites}",
            url("popular"),
            url("tampered"),
            url("novcs")
        ),
    );
    World {
        reg,
        ws,
        home: tempfile::tempdir().expect("home"),
        _repos: vec![popular, tampered, novcs, claimy],
    }
}

fn package<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|v| v["name"] == name))
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

/// Pins `public` as auditor `bot` (source-matches only, every package) in `Cargo.audit`.
fn add_auditor(w: &World, public: &str) {
    let mut text = w.ws.read_file("Cargo.audit");
    text.insert_str(
        0,
        &format!(
            "[policy]\ncriteria = [\"source-matches\"]\n\n[[auditor]]\nname = \"bot\"\n\
             covers = [\"*\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
             keys = [{{ key = \"{public}\", criteria = [\"source-matches\"] }}]\n\n"
        ),
    );
    w.ws.write_file("Cargo.audit", &text);
}

#[test]
fn one_pass_over_every_source_and_one_batch_of_sign_offs() {
    let w = world();
    let report = w.json(&["verify-sources"], 1);
    assert_eq!(
        report["summary"],
        serde_json::json!({
            "packages": 4, "matches": 2, "matches_claimed_only": 1, "differs": 1,
            "unverifiable": 1, "errors": 0, "signed": 0, "already_signed": 0
        }),
        "{report}"
    );
    assert!(report.get("signed").is_none(), "{report}");

    let popular = package(&report, "popular");
    assert_eq!(popular["verdict"], "matches", "{popular}");
    assert_eq!(popular["repository"], url("popular"));
    assert_eq!(popular["repository_source"], "pinned");
    assert_eq!(popular["signable"], true);
    assert_eq!(popular["unverifiable"], Value::Null);
    assert_eq!(popular["ref"], "refs/heads/main");
    assert_eq!(popular["checksum"].as_str().map(str::len), Some(64));

    let tampered = package(&report, "tampered");
    assert_eq!(tampered["verdict"], "differs", "{tampered}");
    assert_eq!(
        tampered["differing_files"],
        serde_json::json!([{ "path": "src/lib.rs", "status": "modified" }])
    );
    assert_eq!(tampered["signable"], false);

    let novcs = package(&report, "novcs");
    assert_eq!(novcs["verdict"], "unverifiable", "{novcs}");
    assert_eq!(novcs["unverifiable"], "no-commit");
    assert!(
        novcs["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no tag for version 0.3.0")),
        "{novcs}"
    );

    let claimy = package(&report, "claimy");
    assert_eq!(claimy["verdict"], "matches", "{claimy}");
    assert_eq!(claimy["repository_source"], "claimed");
    assert_eq!(claimy["signable"], false);

    // The table: problems first, the claimed match named as such, one summary line.
    let out = w.run(&["verify-sources", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert!(rows[0].starts_with("PACKAGE "), "{text}");
    assert!(rows[1].starts_with("tampered 1.0.0  DIFFERS"), "{text}");
    assert!(rows[2].starts_with("novcs 0.3.0"), "{text}");
    assert!(
        rows[3].contains("matches (claimed repository, not signed)"),
        "{text}"
    );
    assert!(rows[4].starts_with("popular 1.0.0"), "{text}");
    assert!(
        text.contains("no-commit: the crate has no .cargo_vcs_info.json"),
        "{text}"
    );
    assert!(
        text.contains(
            "4 packages: 2 match (1 only against a claimed repository), 1 differs, 1 unverifiable\n"
        ),
        "{text}"
    );

    // `-p` limits the pass; a name that is not locked is a usage error.
    let only = w.json(&["verify-sources", "-p", "popular", "-p", "claimy"], 0);
    assert_eq!(only["summary"]["packages"], 2, "{only}");
    let out = w.run(&["verify-sources", "-p", "absent"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // `--sign` without a key: refused before the pass, nothing written.
    let key = w.home.path().join("bot.key");
    let key_arg = key.to_str().expect("utf-8").to_owned();
    let out = w.run(&["verify-sources", "--sign"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--sign needs a signing key"),
        "{}",
        stderr(&out)
    );
    assert!(!w.ws.path().join("sign-offs").exists());

    let out = w.run(&["key", "new", "--out", &key_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    add_auditor(&w, &public);

    // Only the pinned match is signed; the claimed one never is.
    let signed = w.json(&["verify-sources", "--sign", "--key", &key_arg], 1);
    assert_eq!(signed["summary"]["signed"], 1, "{signed}");
    assert_eq!(package(&signed, "popular")["sign_off"], "signed");
    assert!(
        package(&signed, "claimy").get("sign_off").is_none(),
        "{signed}"
    );
    assert_eq!(signed["signed"]["auditor"], "bot");
    assert_eq!(signed["signed"]["public_key"], public.as_str());
    assert!(signed["signed"]["head_sequence"].is_u64(), "{signed}");
    assert_eq!(w.store_lines("popular"), 1);
    assert_eq!(w.store_lines("claimy"), 0);
    assert_eq!(w.store_lines("tampered"), 0);
    let store = std::fs::read_to_string(w.ws.path().join("sign-offs/crates/popular.jsonl"))
        .expect("the store");
    assert!(
        store.contains(&url("popular")) && store.contains("\"pinned\""),
        "{store}"
    );

    // Again: nothing new to sign, no new head.
    let again = w.json(&["verify-sources", "--sign", "--key", &key_arg], 1);
    assert_eq!(
        package(&again, "popular")["sign_off"],
        "already-signed",
        "{again}"
    );
    assert_eq!(again["summary"]["already_signed"], 1);
    assert_eq!(again["signed"]["head_sequence"], Value::Null);
    assert_eq!(w.store_lines("popular"), 1);

    // The sign-off counts: `query` verifies it.
    let out = w.run(&["query", "popular", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let query: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        query["records"].as_array().map(Vec::len),
        Some(1),
        "{query}"
    );
    assert!(Path::new(&w.ws.path().join("sign-offs")).is_dir());

    // `check` says how many packages have one. (An empty advisory database has no date, so it
    // counts as stale: allowed here; the other three packages are blocked, unaudited.)
    let db = tempfile::tempdir().expect("db");
    std::fs::create_dir_all(db.path().join("crates")).expect("db");
    let db_arg = db.path().to_str().expect("utf-8").to_owned();
    let out = w.run(&["check", "--allow-stale", "--advisory-db", &db_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "evidence: 4 packages: 1 signed, 0 imported, 1 source-matches, 0 exempted, 3 with none\n"
        ),
        "{text}"
    );
}
