//! End to end: signing `source-matches` runs the provenance engine on the exact crate bytes —
//! refused for a repository the crate only claims, accepted for a pinned one, and then for the
//! next release through the repository that sign-off recorded ("signed-off"). Real git
//! repositories, real `cargo package`, a local registry on loopback; no internet.

use std::process::{Command, Output};

use audit_trust_e2e::{GitRepo, LocalRegistry, Workspace, binary_path};
use serde_json::Value;

const GENUINE: &str = "https://git.example/popular/popular";
const NOW: &str = "2026-11-01T12:00:00Z";

fn release(repo: &GitRepo, reg: &LocalRegistry, version: &str) {
    repo.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"popular\"\nversion = \"{version}\"\nedition = \"2021\"\n\
             license = \"MIT\"\nrepository = \"{GENUINE}\"\n"
        ),
    );
    repo.write(
        "src/lib.rs",
        format!("pub fn version() -> &'static str {{\n    \"{version}\"\n}}\n"),
    );
    repo.commit_all(&format!("release {version}"));
    reg.publish_manifest(&repo.path().join("Cargo.toml"), &[]);
}

struct World {
    reg: LocalRegistry,
    ws: Workspace,
    repo: GitRepo,
    home: tempfile::TempDir,
}

impl World {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(binary_path("cargo-audit-trust"));
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("CARGO_") || k.starts_with("AUDIT_TRUST_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("CARGO_HOME", self.reg.cargo_home())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("CI", "1")
            .env("NO_PROXY", "127.0.0.1")
            .current_dir(self.ws.path())
            .arg("--cache-dir")
            .arg(self.home.path().join("cache"))
            .args(["--now", NOW])
            .args(args)
            .output()
            .expect("run cargo-audit-trust")
    }

    fn audit_file(&self, public: &str, pinned: bool) {
        let sources = if pinned {
            format!("[sources]\npopular = \"{GENUINE}\"\n\n")
        } else {
            String::new()
        };
        self.ws.write_file(
            "Cargo.audit",
            &format!(
                "[policy]\ncriteria = [\"source-matches\"]\n\n{sources}\
                 [url-rewrite]\n\"{GENUINE}\" = \"{}\"\n\n\
                 [[auditor]]\nname = \"bot\"\ncovers = [\"popular\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
                 keys = [{{ key = \"{public}\", criteria = [\"source-matches\"] }}]\n",
                self.repo.url()
            ),
        );
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn source_matches_needs_a_pinned_or_signed_off_repository() {
    let reg = LocalRegistry::start();
    let repo = GitRepo::init();
    release(&repo, &reg, "1.0.0");
    release(&repo, &reg, "1.1.0");
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\npopular = \"=1.1.0\"\n",
        &[("src/main.rs", "fn main() {}\n")],
    );
    ws.generate_lockfile(&reg);
    let w = World {
        reg,
        ws,
        repo,
        home: tempfile::tempdir().expect("home"),
    };
    let key = w.home.path().join("bot.key");
    let key_arg = key.to_str().expect("utf-8").to_owned();
    let out = w.run(&["key", "new", "--out", &key_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    // Only claimed by the crate: refused, and nothing is written.
    w.audit_file(&public, false);
    let out = w.run(&[
        "sign",
        "popular",
        "1.0.0",
        "--criteria",
        "source-matches",
        "--key",
        &key_arg,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("only because the crate names it"),
        "{}",
        stderr(&out)
    );
    assert!(
        !w.ws.path().join("sign-offs/crates/popular.jsonl").exists(),
        "nothing was written"
    );

    // Pinned in [sources]: the engine finds the commit and the files match.
    w.audit_file(&public, true);
    let out = w.run(&[
        "sign",
        "popular",
        "1.0.0",
        "--criteria",
        "source-matches",
        "--key",
        &key_arg,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Without the pin, 1.1.0 is checked against the repository the 1.0.0 sign-off recorded.
    w.audit_file(&public, false);
    let out = w.run(&[
        "sign",
        "popular",
        "1.1.0",
        "--criteria",
        "source-matches",
        "--key",
        &key_arg,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = w.run(&["query", "popular", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let query: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        query["records"].as_array().map(Vec::len),
        Some(2),
        "both verified: {query}"
    );
    // The records carry what they were checked against: the repository's identity (not the
    // mirror it was fetched from), the commit, and why that repository was trusted.
    let store =
        std::fs::read_to_string(w.ws.path().join("sign-offs/crates/popular.jsonl")).expect("store");
    let lines: Vec<&str> = store.lines().collect();
    assert!(
        lines[0].contains(GENUINE) && lines[0].contains("\"pinned\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(GENUINE) && lines[1].contains("\"signed-off\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(&w.repo.head()),
        "the release commit: {}",
        lines[1]
    );

    // The gate accepts the locked 1.1.0 on the bot's source-matches sign-off.
    let db = tempfile::tempdir().expect("db");
    std::fs::create_dir_all(db.path().join("crates")).expect("db");
    // (An empty advisory database has no date, so it counts as stale: allowed here.)
    let out = w.run(&[
        "check",
        "--format",
        "json",
        "--allow-stale",
        "--advisory-db",
        db.path().to_str().expect("utf-8"),
    ]);
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let popular = report["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|v| v["name"] == "popular"))
        .expect("popular in the report");
    assert_eq!(popular["status"], "audited", "{report}");
    assert_eq!(out.status.code(), Some(0), "{report}");
}
