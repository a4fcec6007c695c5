//! End to end: the whole adoption loop on one workspace with findings, as a team walks it:
//! `init --baseline`, `check`, `suggest`, `sign`, `update` (a good move kept while another
//! package stays blocked, a move undone because it brings in a blocker, a semver-crossing fix
//! named with the `Cargo.toml` to change), exemptions coming due with a warning, `exemptions
//! renew`, and `prune`. Real binaries, a workspace resolved by the real cargo against a local
//! registry on a loopback port, and an advisory database written by the test (never RustSec's).
//! The clock is set with the documented `--now`.

use std::path::Path;

use audit_trust_e2e::{CrateSpec, LocalRegistry, Workspace, cli_command};
use serde_json::Value;

const DAY_0: &str = "2026-11-01T12:00:00Z";
const CODE: &str = "pub fn f() -> u32 {\n    1\n}\n";

struct World {
    reg: LocalRegistry,
    ws: Workspace,
    cache: tempfile::TempDir,
    home: tempfile::TempDir,
    db: tempfile::TempDir,
}

fn publish(reg: &LocalRegistry, name: &str, version: &str) {
    reg.publish_crate(&CrateSpec::new(name, version).file("src/lib.rs", CODE));
}

fn advisory(db: &Path, name: &str, id: &str, patched: &str) {
    let folder = db.join("crates").join(name);
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join(format!("{id}.md")),
        format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{name}\"\ndate = \"2026-10-20\"\n\n\
             [versions]\npatched = [{patched}]\n```\n\n# {name} is broken\n\nText.\n"
        ),
    )
    .expect("write advisory");
}

impl World {
    /// `app` depends on leafy, vuln, pulls, major (0.16) and old; the lockfile is made while
    /// only the first versions exist. `old` is under an advisory nobody fixed: the finding the
    /// project has on the day it adopts the tool.
    fn new() -> World {
        let reg = LocalRegistry::start();
        for (name, version) in [
            ("leafy", "1.0.0"),
            ("vuln", "0.3.0"),
            ("pulls", "1.0.0"),
            ("major", "0.16.0"),
            ("old", "1.0.0"),
            ("stuck", "1.0.0"),
        ] {
            publish(&reg, name, version);
        }
        let ws = Workspace::single(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nleafy = \"1\"\nvuln = \"0.3\"\npulls = \"1\"\nmajor = \"0.16\"\nold = \"1\"\n",
            &[],
        );
        ws.generate_lockfile(&reg);
        publish(&reg, "vuln", "0.3.1");
        publish(&reg, "newdep", "1.0.0");
        reg.publish_crate(
            &CrateSpec::new("pulls", "1.1.0")
                .dep("newdep", "1")
                .file("src/lib.rs", CODE),
        );
        publish(&reg, "major", "0.16.1");
        publish(&reg, "major", "0.17.1");
        let w = World {
            reg,
            ws,
            cache: tempfile::tempdir().expect("cache"),
            home: tempfile::tempdir().expect("home"),
            db: tempfile::tempdir().expect("db"),
        };
        advisory(w.db.path(), "old", "RUSTSEC-2026-0001", "");
        w
    }

    fn key(&self) -> String {
        self.home.path().join("key").display().to_string()
    }

    /// Runs the binary on `day` with this world's registry, cache, key and advisory database.
    fn run_on(&self, day: &str, args: &[&str]) -> (Option<i32>, String, String) {
        let db = self.db.path().display().to_string();
        let key = self.key();
        let mut all: Vec<&str> = vec!["--now", day, "--color", "never"];
        all.extend_from_slice(args);
        let command = args.iter().find(|a| !a.starts_with('-') && **a != "json");
        match command.copied() {
            Some("update" | "suggest" | "check" | "prune") => {
                all.extend_from_slice(&["--advisory-db", &db]);
            }
            Some("sign") => all.extend_from_slice(&["--key", &key]),
            _ => {}
        }
        let out = cli_command(self.reg.cargo_home())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env_remove("PAGER")
            .current_dir(self.ws.path())
            .arg("--cache-dir")
            .arg(self.cache.path())
            .args(&all)
            .output()
            .expect("run cargo-audit-trust");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn expect(&self, day: &str, args: &[&str], code: i32) -> String {
        let (got, stdout, stderr) = self.run_on(day, args);
        assert_eq!(got, Some(code), "{args:?}\n{stdout}\n{stderr}");
        stdout
    }

    fn json(&self, day: &str, args: &[&str], code: i32) -> Value {
        let stdout = self.expect(day, &[&["--format", "json"], args].concat(), code);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    fn sign(&self, name: &str, version: &str) {
        self.expect(DAY_0, &["sign", name, version, "--criteria", "reviewed"], 0);
    }

    fn locked(&self, name: &str) -> Vec<String> {
        self.ws
            .locked_packages()
            .into_iter()
            .filter(|p| p.name == name)
            .map(|p| p.version)
            .collect()
    }
}

fn verdict<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

fn names<'a>(out: &'a Value, list: &str) -> Vec<&'a str> {
    out[list]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn the_adoption_loop_closes_on_a_project_with_findings() {
    let w = World::new();
    let key = w.key();
    w.expect(DAY_0, &["key", "new", "--out", &key], 0);

    // Day 0: without a baseline CI would be red (old's advisory); with it, green, and the
    // waived finding is listed.
    let db = w.db.path().display().to_string();
    let init = w.expect(
        DAY_0,
        &[
            "init",
            "--key",
            &key,
            "--exempt-days",
            "30",
            "--baseline",
            "--advisory-db",
            &db,
        ],
        0,
    );
    assert!(init.contains("RUSTSEC-2026-0001"), "{init}");
    let mut audit = w.ws.read_file("Cargo.audit");
    // The team's one policy choice: a three-line crate is not "micro" here.
    audit.push_str("\n[policy]\nmicro-lines = 2\n");
    w.ws.write_file("Cargo.audit", &audit);
    let green = w.expect(DAY_0, &["check"], 0);
    assert!(
        green.starts_with("check passed: 6 packages, none blocked"),
        "{green}"
    );

    // Then the world moves: advisories for vuln and major appear, and a developer adds
    // `stuck`, which nobody has reviewed.
    advisory(w.db.path(), "vuln", "RUSTSEC-2026-0002", "\">= 0.3.1\"");
    advisory(w.db.path(), "major", "RUSTSEC-2026-0003", "\">= 0.17.1\"");
    let manifest = w.ws.read_file("Cargo.toml");
    w.ws.write_file("Cargo.toml", &format!("{manifest}stuck = \"1\"\n"));
    let fetched = w.ws.run_cargo(&w.reg, &["fetch"]);
    assert!(fetched.status.success(), "{fetched:?}");
    assert_eq!(w.locked("leafy"), ["1.0.0"], "fetch added stuck only");

    let report = w.json(DAY_0, &["check"], 1);
    // major's only fix crosses a semver boundary: check names it and the requirement to
    // change, never "`cargo audit-trust update`".
    let step = &verdict(&report, "major")["next_step"];
    assert_eq!(
        (
            step["kind"].as_str(),
            step["version"].as_str(),
            step["semver_crossing"].as_bool()
        ),
        (Some("review-fix"), Some("0.17.1"), Some(true)),
        "{step}"
    );
    assert_eq!(step["declared_in"][0]["requirement"], "^0.16", "{step}");
    let text = step["text"].as_str().unwrap_or_default();
    assert!(text.contains("Cargo.toml [dependencies]"), "{text}");
    assert!(
        !text.contains("`cargo audit-trust update` (fixed"),
        "{text}"
    );
    let step = &verdict(&report, "vuln")["next_step"];
    assert_eq!(
        (step["kind"].as_str(), step["version"].as_str()),
        (Some("review-fix"), Some("0.3.1")),
        "{step}"
    );

    // suggest: the fixes first, then the rest by size; stuck is among the reviews to do.
    let suggestions = w.json(DAY_0, &["suggest"], 0);
    let list = suggestions.as_array().expect("array");
    let first_two: Vec<(&str, &str)> = list[..2]
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or(""),
                s["version"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        first_two,
        [("major", "0.17.1"), ("vuln", "0.3.1")],
        "{suggestions}"
    );
    assert_eq!(list[0]["semver_crossing"], true);
    assert!(list.iter().any(|s| s["name"] == "stuck"), "{suggestions}");
    // With a database too old for the policy, suggest says fixes may be missing, unless
    // --allow-stale (as for check).
    const LATE: &str = "2027-06-01T12:00:00Z";
    let stale = w.expect(LATE, &["suggest"], 0);
    assert!(stale.contains("the advisory database is stale"), "{stale}");
    let allowed = w.expect(LATE, &["suggest", "--allow-stale"], 0);
    assert!(!allowed.contains("is stale"), "{allowed}");

    // Sign what the team reviewed: both fixes, and pulls 1.1.0 (which brings in newdep).
    w.sign("vuln", "0.3.1");
    w.sign("major", "0.17.1");
    w.sign("pulls", "1.1.0");
    let report = w.json(DAY_0, &["check"], 1);
    let step = &verdict(&report, "major")["next_step"];
    assert_eq!(step["kind"], "change-requirement", "{step}");
    assert_eq!(
        step["command"],
        "cargo add major@0.17.1 --manifest-path Cargo.toml"
    );
    assert_eq!(verdict(&report, "vuln")["next_step"]["kind"], "update");

    // update --dry-run says the same as check for major.
    let plan = w.json(DAY_0, &["update", "--dry-run"], 0);
    let major = plan["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "major"))
        .expect("major in the plan");
    assert!(major["to"].is_null(), "{plan}");
    assert_eq!(major["next"]["version"], "0.17.1", "{plan}");

    // update: vuln's move is kept, pulls' move undone (newdep is unaudited), stuck and major
    // stay blocked; exit 1 because blockers remain.
    let out = w.json(DAY_0, &["update"], 1);
    assert_eq!(names(&out, "kept"), ["vuln"], "{out}");
    assert_eq!(names(&out, "undone"), ["pulls"], "{out}");
    assert_eq!(out["undone"][0]["added"][0], "newdep@1.0.0", "{out}");
    let impossible = names(&out, "impossible");
    assert!(
        impossible.contains(&"major") && impossible.contains(&"stuck"),
        "{out}"
    );
    assert_eq!(w.locked("vuln"), ["0.3.1"]);
    assert_eq!(w.locked("pulls"), ["1.0.0"]);
    assert_eq!(w.locked("major"), ["0.16.0"]);
    assert!(w.locked("newdep").is_empty());

    // Day 20: the exemptions (30 days) come due within the warning window (14 days).
    const DAY_20: &str = "2026-11-21T12:00:00Z";
    let (_, soon, _) = w.run_on(DAY_20, &["check"]);
    assert!(
        soon.contains("exemptions expire within 14 days (first: 2026-12-01)"),
        "{soon}"
    );
    assert!(
        soon.contains("advisory ignore expires within 14 days"),
        "{soon}"
    );

    // Renew them with a reason; the warning about exemptions is gone.
    w.expect(
        DAY_20,
        &[
            "exemptions",
            "renew",
            "--days",
            "60",
            "--reason",
            "review booked for January",
        ],
        0,
    );
    let audit = w.ws.read_file("Cargo.audit");
    assert!(
        audit.contains("renewed 2026-11-21: review booked for January"),
        "{audit}"
    );
    let (_, later, _) = w.run_on(DAY_20, &["check"]);
    assert!(!later.contains("exemptions expire within"), "{later}");

    // Sign leafy; prune drops its exemption (a sign-off made it unnecessary) and vuln 0.3.0's
    // (nothing locks it any more), and keeps the others.
    w.sign("leafy", "1.0.0");
    w.expect(DAY_20, &["prune"], 0);
    let audit = w.ws.read_file("Cargo.audit");
    for gone in ["leafy@1.0.0", "vuln@0.3.0"] {
        assert!(!audit.contains(gone), "{gone} still exempted:\n{audit}");
    }
    for kept in ["pulls@1.0.0", "major@0.16.0", "old@1.0.0"] {
        assert!(audit.contains(kept), "{kept} was pruned:\n{audit}");
    }
    let report = w.json(DAY_20, &["check"], 1);
    let blocked: Vec<&str> = report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["blocked"] == true)
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(blocked, ["major", "stuck"], "{report}");
    assert_eq!(verdict(&report, "leafy")["status"], "audited");
}
