//! End to end: `[[import]]` sets served by a loopback HTTP server made by the test (standing in
//! for a public cargo-vet `audits.toml` on GitHub), pinned by `import refresh` in
//! `Cargo.audit.lock`, and read by `check` from the pin only. Crates are published with the real
//! `cargo package` to a registry on a loopback port. Nothing here reaches the internet.

mod migrate;
mod publishers;

use std::path::PathBuf;
use std::process::{Command, Output};

use audit_trust_e2e::{CrateSpec, LocalRegistry, StaticServer, Workspace, cli_command};
use serde_json::Value;

pub const NOW: &str = "2025-06-01T12:00:00Z";

pub struct World {
    pub reg: LocalRegistry,
    pub ws: Workspace,
    pub home: tempfile::TempDir,
    /// Serves the imported set at `/audits.toml`, as GitHub would.
    pub sets: StaticServer,
}

pub fn world() -> World {
    let reg = LocalRegistry::start();
    reg.publish_crate(&CrateSpec::new("leafy", "1.0.0").file("src/lib.rs", "pub fn one() {}\n"));
    reg.publish_crate(
        &CrateSpec::new("leafy", "1.0.1").file("src/lib.rs", "pub fn one() {}\npub fn two() {}\n"),
    );
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nleafy = \"=1.0.1\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    World {
        reg,
        ws,
        home: tempfile::tempdir().expect("temp dir"),
        sets: StaticServer::start(),
    }
}

impl World {
    pub fn set_url(&self) -> String {
        format!("{}/audits.toml", self.sets.base_url())
    }

    /// A Cargo.audit with one import of the served set; `extra` goes inside the import table.
    pub fn write_audit_file(&self, extra: &str) {
        self.ws.write_file(
            "Cargo.audit",
            &format!(
                "[criteria.deployable]\ndescription = \"d\"\nimplies = [\"reviewed\"]\n\n\
                 [[import]]\nname = \"vet\"\nurl = \"{}\"\nformat = \"cargo-vet\"\n\
                 criteria-map = {{ safe-to-deploy = \"deployable\" }}\ncovers = [\"*\"]\n{extra}",
                self.set_url()
            ),
        );
    }

    pub fn serve_set(&self, text: &str) {
        self.sets.put("/audits.toml", text.as_bytes().to_vec());
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = cli_command(self.reg.cargo_home());
        cmd.env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("CI", "1")
            .current_dir(self.ws.path())
            .arg("--cache-dir")
            .arg(self.home.path().join("cache"))
            .args(["--now", NOW]);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .output()
            .expect("run cargo-audit-trust")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} did not fail with 2:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn lock_path(&self) -> PathBuf {
        self.ws.path().join("Cargo.audit.lock")
    }

    pub fn advisory_db(&self) -> String {
        let dir = self.home.path().join("advisory-db/crates/unrelated");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("RUSTSEC-2025-0001.md"),
            "```toml\n[advisory]\nid = \"RUSTSEC-2025-0001\"\npackage = \"unrelated\"\ndate = \"2025-05-01\"\n\n\
             [versions]\npatched = [\">= 1.0.0\"]\n```\n\n# Unrelated\n\nText.\n",
        )
        .expect("write advisory");
        self.home.path().join("advisory-db").display().to_string()
    }

    /// `check --format FORMAT`: exit code, stdout.
    pub fn check(&self, format: &str) -> (Option<i32>, String) {
        let db = self.advisory_db();
        let out = self
            .cmd()
            .args(["check", "--format", format, "--advisory-db", &db])
            .output()
            .expect("run check");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// leafy's verdict in `check --format json`, and the exit code.
    pub fn leafy(&self) -> (Option<i32>, Value) {
        let (code, stdout) = self.check("json");
        let report: Value = serde_json::from_str(&stdout).expect("JSON report");
        let leafy = report["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == "leafy")
            .expect("leafy")
            .clone();
        (code, leafy)
    }
}

const FULL: &str = "[[audits.leafy]]\nwho = \"A <a@example.com>\"\ncriteria = \"safe-to-deploy\"\n\
                    version = \"1.0.0\"\n\n[[audits.leafy]]\ncriteria = \"safe-to-deploy\"\n\
                    delta = \"1.0.0 -> 1.0.1\"\n";

#[test]
fn a_pinned_set_admits_a_package_labelled_imported() {
    let w = world();
    w.write_audit_file("");
    w.serve_set(FULL);
    // Not pinned yet: check refuses, and says what to run.
    let err = w.fails(&["check", "--advisory-db", &w.advisory_db()]);
    assert!(
        err.contains("import `vet`") && err.contains("cargo audit-trust import refresh vet"),
        "{err}"
    );
    let out = w.ok(&["import", "refresh"]);
    assert!(
        out.contains("import `vet`: pinned for the first time"),
        "{out}"
    );
    assert!(out.contains("audits: 2"), "{out}");
    let lock = std::fs::read_to_string(w.lock_path()).expect("lock written");
    assert!(
        lock.contains("name = \"vet\"") && lock.contains("sha256 = "),
        "{lock}"
    );

    // check reads the pin only: the server may go away.
    w.sets.remove("/audits.toml");
    let (code, leafy) = w.leafy();
    assert_eq!(code, Some(0), "{leafy}");
    assert_eq!(leafy["status"], "audited");
    let reason = &leafy["reasons"][0];
    assert_eq!(reason["details"]["evidence"], "imported", "{leafy}");
    assert_eq!(reason["details"]["imports"][0], "vet");
    let message = reason["message"].as_str().expect("message");
    assert!(message.contains("evidence: imported"), "{message}");
    let human = w.ok(&["check", "-v", "--advisory-db", &w.advisory_db()]);
    assert!(
        human.contains("leafy@1.0.1 audited: reviewed vouched for by the imported set `vet` (evidence: imported, unsigned)"),
        "{human}"
    );
    let (_, plain) = w.check("human");
    assert!(
        plain.contains("passed: 1 audited (1 by imported sets)"),
        "{plain}"
    );
    let query = w.ok(&["query", "leafy"]);
    assert!(
        query.contains("From imported sets (evidence: imported, unsigned):")
            && query.contains("vet full: 1.0.0  safe-to-deploy -> deployable by A <a@example.com>")
            && query.contains("vet delta: 1.0.0 -> 1.0.1"),
        "{query}"
    );
    let json: Value = serde_json::from_str(&w.ok(&["query", "leafy", "1.0.1", "--format", "json"]))
        .expect("JSON");
    assert_eq!(json["imported"][0]["kind"], "delta", "{json}");
    assert_eq!(json["imported"][0]["import"], "vet");
}

#[test]
fn an_imported_violation_blocks_and_hostile_notes_are_escaped() {
    let w = world();
    w.write_audit_file("");
    w.serve_set(&format!(
        "{FULL}\n[[audits.leafy]]\ncriteria = \"safe-to-run\"\nviolation = \"=1.0.1\"\n\
         notes = \"backdoor \\u001b[2J\\u202e here\"\n"
    ));
    let out = w.ok(&["import", "refresh", "vet"]);
    assert!(out.contains("NEW VIOLATIONS: 1"), "{out}");
    let (code, leafy) = w.leafy();
    assert_eq!(code, Some(1), "{leafy}");
    assert_eq!(leafy["status"], "flagged", "{leafy}");
    let (code, human) = w.check("human");
    assert_eq!(code, Some(1));
    assert!(
        human.contains("flagged by the imported set `vet` (evidence: imported)"),
        "{human}"
    );
    assert!(
        !human.contains('\u{1b}') && !human.contains('\u{202e}'),
        "{human:?}"
    );
    assert!(human.contains("\\u{1b}[2J"), "{human}");
    let query = w.ok(&["query", "leafy"]);
    assert!(query.contains("vet violation: =1.0.1"), "{query}");
    assert!(
        !query.contains('\u{1b}') && query.contains("\\u{1b}[2J"),
        "{query:?}"
    );
    let (_, sarif) = w.check("sarif");
    assert!(sarif.contains("evidence: imported"), "{sarif}");
}

#[test]
fn a_pin_that_does_not_match_is_an_error() {
    let w = world();
    w.write_audit_file("");
    w.serve_set(FULL);
    w.ok(&["import", "refresh"]);
    let db = w.advisory_db();
    let lock = std::fs::read_to_string(w.lock_path()).expect("lock");

    // Bytes edited in the lock.
    std::fs::write(
        w.lock_path(),
        lock.replace("1.0.0 -> 1.0.1", "0.1.0 -> 1.0.1"),
    )
    .expect("w");
    let err = w.fails(&["check", "--advisory-db", &db]);
    assert!(
        err.contains("import `vet`") && err.contains("hash to"),
        "{err}"
    );
    assert!(err.contains("import refresh vet"), "{err}");

    // The URL in Cargo.audit moved: the old pin is not followed.
    std::fs::write(w.lock_path(), &lock).expect("restore");
    let moved =
        w.ws.read_file("Cargo.audit")
            .replace("/audits.toml", "/other.toml");
    w.ws.write_file("Cargo.audit", &moved);
    let err = w.fails(&["check", "--advisory-db", &db]);
    assert!(err.contains("now says"), "{err}");

    // A lock that is not a lock.
    std::fs::write(w.lock_path(), "version = 1\nextra = true\n").expect("w");
    let err = w.fails(&["check", "--advisory-db", &db]);
    assert!(err.contains("Cargo.audit.lock:2:1"), "{err}");
}

#[test]
fn refresh_reports_changes_and_offline_refuses_to_fetch() {
    let w = world();
    w.write_audit_file("");
    w.serve_set(FULL);
    w.ok(&["import", "refresh"]);
    let out = w.ok(&["import", "refresh"]);
    assert!(out.contains("import `vet`: unchanged"), "{out}");

    w.serve_set(&FULL.replace("version = \"1.0.0\"", "version = \"0.9.0\""));
    let before = std::fs::read(w.lock_path()).expect("lock");
    let err = w.fails(&["--offline", "import", "refresh"]);
    assert!(err.contains("--offline: not fetching"), "{err}");
    assert_eq!(
        std::fs::read(w.lock_path()).expect("lock"),
        before,
        "lock untouched"
    );

    let out = w.ok(&["import", "refresh", "--format", "json"]);
    let report: Value = serde_json::from_str(&out).expect("JSON");
    let set = &report["sets"][0];
    assert_eq!(set["added"][0], "leafy 0.9.0 (safe-to-deploy)", "{report}");
    assert_eq!(
        set["removed"][0], "leafy 1.0.0 (safe-to-deploy)",
        "{report}"
    );
    // The delta no longer chains: nothing vouches for leafy, and a note says why.
    let (code, stdout) = w.check("human");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("does not chain to a full audit"),
        "{stdout}"
    );

    // An unreachable set with no lock is an error that names it.
    std::fs::remove_file(w.lock_path()).expect("rm");
    w.sets.remove("/audits.toml");
    let err = w.fails(&["import", "refresh"]);
    assert!(err.contains("import `vet`: cannot fetch"), "{err}");
    assert!(!w.lock_path().exists());
}

#[test]
fn a_malformed_set_is_never_pinned() {
    let w = world();
    w.write_audit_file("");
    w.serve_set("[[audits.leafy]]\ncriteria = \"safe-to-deploy\"\nviolation = \"nonsense\"\n");
    let err = w.fails(&["import", "refresh"]);
    assert!(
        err.contains("import `vet`") && err.contains(":1:1: [[audits.leafy]]: violation"),
        "{err}"
    );
    assert!(!w.lock_path().exists());
}

/// A machine without access to the set's host fetches it from a mirror named in its own
/// `config.toml` (`[url-rewrite]`, as for repositories). The pin stays under the URL written in
/// `Cargo.audit`, so another machine's refresh compares like with like. The host is a reserved
/// `.invalid` name: nothing is fetched from it.
#[test]
fn a_url_rewrite_in_the_user_config_fetches_the_set_from_a_local_mirror() {
    let w = world();
    let written = "https://audits.invalid/org/audits.toml";
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "[criteria.deployable]\ndescription = \"d\"\nimplies = [\"reviewed\"]\n\n\
             [[import]]\nname = \"vet\"\nurl = \"{written}\"\nformat = \"cargo-vet\"\n\
             criteria-map = {{ safe-to-deploy = \"deployable\" }}\ncovers = [\"*\"]\n"
        ),
    );
    let mirror = w.home.path().join("mirror");
    std::fs::create_dir_all(&mirror).expect("mkdir");
    std::fs::write(mirror.join("audits.toml"), FULL).expect("write set");
    let config = w.home.path().join("config/cargo-audit-trust");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::write(
        config.join("config.toml"),
        format!(
            "[url-rewrite]\n\"https://audits.invalid/org/\" = \"{}/\"\n",
            mirror.display()
        ),
    )
    .expect("write config");

    // --offline: a local mirror is not the network.
    let out = w.ok(&["--offline", "import", "refresh"]);
    assert!(
        out.contains("fetched from") && out.contains(&mirror.display().to_string()),
        "{out}"
    );
    let lock = std::fs::read_to_string(w.lock_path()).expect("lock");
    assert!(lock.contains(written), "{lock}");
    assert!(!lock.contains(&mirror.display().to_string()), "{lock}");
    let (code, stdout) = w.check("json");
    assert_eq!(code, Some(0), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["summary"]["evidence"]["imported"], 1, "{report}");

    // Without the rewrite the URL is fetched as written, and the failure names it.
    std::fs::remove_file(config.join("config.toml")).expect("rm");
    let err = w.fails(&["import", "refresh"]);
    assert!(err.contains("audits.invalid"), "{err}");
}

/// `stats` says where the evidence comes from and sizes what is left in lines of code: leafy
/// rests on the imported set; an exempted package is backlog, with its lines.
#[test]
fn stats_shows_the_evidence_mix_and_the_backlog_in_lines() {
    let w = world();
    w.reg.publish_crate(&CrateSpec::new("debt", "2.0.0").file(
        "src/lib.rs",
        "pub fn a() {}\npub fn b() {}\npub fn c() {}\n",
    ));
    w.ws.write_file(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nleafy = \"=1.0.1\"\ndebt = \"=2.0.0\"\n",
    );
    w.ws.generate_lockfile(&w.reg);
    w.write_audit_file(
        "\n[[exemption]]\npackage = \"debt@2.0.0\"\nreason = \"adopted\"\nexpires = 2026-01-01\n",
    );
    w.serve_set(FULL);
    w.ok(&["import", "refresh"]);

    let out = w.ok(&["stats"]);
    assert!(
        out.contains("evidence: 2 packages: 0 signed, 1 imported (vet 1), 0 source-matches, 1 exempted, 0 with none"),
        "{out}"
    );
    assert!(
        out.contains("backlog: 1 package, 3 lines of code to review (1 exempted, 3 lines"),
        "{out}"
    );
    let json: Value = serde_json::from_str(&w.ok(&["stats", "--format", "json"])).expect("JSON");
    assert_eq!(json["evidence"]["imported"], 1, "{json}");
    assert_eq!(json["backlog"]["lines"], 3, "{json}");
    assert_eq!(json["backlog"]["exempted"], 1, "{json}");
}
