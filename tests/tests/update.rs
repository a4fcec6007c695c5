//! End to end: `update` moves packages only to versions the project's auditors signed off, and
//! `suggest` orders the reviews to do. A real workspace resolved by cargo against a local
//! registry with several published versions, real keys and sign-offs made with the binary.

use std::path::Path;

use audit_trust_e2e::{CrateSpec, LocalRegistry, Workspace};
use serde_json::Value;

const TODAY: &str = "2026-11-01T12:00:00Z";
const CODE: &str = "pub fn f() -> u32 {\n    1\n}\n";

struct World {
    reg: LocalRegistry,
    ws: Workspace,
    cache: tempfile::TempDir,
    home: tempfile::TempDir,
    db: tempfile::TempDir,
}

fn publish(reg: &LocalRegistry, name: &str, version: &str, code: &str) {
    reg.publish_crate(&CrateSpec::new(name, version).file("src/lib.rs", code));
}

/// `app` depends on `leafy = "1"`, `vuln = "0.3"` and `tiny = "1"` (plus `extra` deps); the
/// lockfile is made while only the oldest versions exist, then newer ones are published.
fn world(
    extra_deps: &str,
    before_lock: impl Fn(&LocalRegistry),
    after_lock: impl Fn(&LocalRegistry),
) -> World {
    let reg = LocalRegistry::start();
    publish(&reg, "leafy", "1.0.0", CODE);
    publish(&reg, "vuln", "0.3.0", CODE);
    publish(&reg, "tiny", "1.0.0", "");
    before_lock(&reg);
    let ws = Workspace::single(
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nleafy = \"1\"\nvuln = \"0.3\"\ntiny = \"1\"\n{extra_deps}"
        ),
        &[],
    );
    ws.generate_lockfile(&reg);
    publish(
        &reg,
        "leafy",
        "1.1.0",
        "pub fn f() -> u32 {\n    11\n}\npub fn g() {}\n",
    );
    publish(&reg, "leafy", "1.2.0", CODE);
    publish(&reg, "vuln", "0.3.1", CODE);
    publish(&reg, "vuln", "0.3.2", CODE);
    publish(&reg, "tiny", "1.1.0", "");
    after_lock(&reg);
    let w = World {
        reg,
        ws,
        cache: tempfile::tempdir().expect("cache"),
        home: tempfile::tempdir().expect("home"),
        db: tempfile::tempdir().expect("db"),
    };
    advisory(w.db.path());
    w
}

fn advisory(dir: &Path) {
    let folder = dir.join("crates").join("vuln");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("RUSTSEC-2026-0300.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-0300\"\npackage = \"vuln\"\ndate = \"2026-10-01\"\n\n\
         [versions]\npatched = [\">= 0.3.1\"]\n```\n\n# Bad\n\nText.\n",
    )
    .expect("write advisory");
}

impl World {
    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let db = self.db.path().display().to_string();
        let key = self.home.path().join("key").display().to_string();
        let mut all: Vec<&str> = vec!["--now", TODAY, "--color", "never"];
        all.extend_from_slice(args);
        if args
            .iter()
            .any(|a| ["update", "suggest", "check"].contains(a))
        {
            all.extend_from_slice(&["--advisory-db", &db]);
        } else if args.first() == Some(&"sign") {
            all.extend_from_slice(&["--key", &key]);
        }
        let out = audit_trust_e2e::cli_command(self.reg.cargo_home())
            .env("HOME", self.home.path())
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

    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, Some(0), "{args:?}\n{stdout}\n{stderr}");
        stdout
    }

    /// A key, an auditor covering everything, today's versions exempted.
    fn audit_file(&self, exempt: &[&str]) {
        let key = self.home.path().join("key").display().to_string();
        let public = self.ok(&["key", "new", "--out", &key]).trim().to_owned();
        let exemptions: String = exempt
            .iter()
            .map(|p| {
                format!(
                    "[[exemption]]\npackage = \"{p}\"\nreason = \"r\"\nexpires = 2027-01-01\n\n"
                )
            })
            .collect();
        self.ws.write_file(
            "Cargo.audit",
            &format!(
                "[policy]\nmicro-lines = 2\n\n[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\n\
                 records = {{ folder = \"sign-offs\" }}\nkeys = [{{ key = \"{public}\" }}]\n\n{exemptions}"
            ),
        );
    }

    fn sign(&self, name: &str, version: &str) {
        self.ok(&["sign", name, version, "--criteria", "reviewed"]);
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

fn step<'a>(plan: &'a Value, name: &str) -> Option<&'a Value> {
    plan["steps"].as_array()?.iter().find(|s| s["name"] == name)
}

#[test]
fn update_moves_only_to_audited_versions_and_leaves_micro_packages() {
    let w = world("", |_| {}, |_| {});
    w.audit_file(&["leafy@1.0.0", "vuln@0.3.0", "tiny@1.0.0"]);
    for (name, version) in [
        ("leafy", "1.1.0"),
        ("vuln", "0.3.1"),
        ("vuln", "0.3.2"),
        ("tiny", "1.1.0"),
    ] {
        w.sign(name, version);
    }
    let plan: Value =
        serde_json::from_str(&w.ok(&["--format", "json", "update", "--dry-run"])).expect("json");
    // The newest audited version, never the newer unaudited 1.2.0.
    let leafy = step(&plan, "leafy").expect("leafy moves");
    assert_eq!(
        (leafy["from"].as_str(), leafy["to"].as_str()),
        (Some("1.0.0"), Some("1.1.0"))
    );
    assert_eq!(leafy["auditors"][0], "team");
    // Under an advisory: the oldest audited version it does not cover, not the newest.
    let vuln = step(&plan, "vuln").expect("vuln moves");
    assert_eq!(vuln["to"], "0.3.1", "{plan}");
    // tiny is micro (no code): it stays although 1.1.0 is audited.
    assert!(step(&plan, "tiny").is_none(), "{plan}");
    // A dry run changes nothing.
    assert_eq!(w.locked("leafy"), ["1.0.0"]);

    let human = w.ok(&["update", "--dry-run"]);
    assert!(
        human.contains("leafy 1.0.0 -> 1.1.0 (signed off by team)"),
        "{human}"
    );

    let applied = w.ok(&["update"]);
    assert!(applied.contains("updated 2 packages"), "{applied}");
    assert_eq!(w.locked("leafy"), ["1.1.0"]);
    assert_eq!(w.locked("vuln"), ["0.3.1"]);
    assert_eq!(w.locked("tiny"), ["1.0.0"]);
    w.ok(&["check"]);

    // Out from under the advisory, vuln may now go on to its newest audited version; leafy is
    // already there.
    let again = w.ok(&["update", "--dry-run"]);
    assert!(again.contains("vuln 0.3.1 -> 0.3.2"), "{again}");
    assert!(!again.contains("leafy"), "{again}");
    w.ok(&["update"]);
    let done = w.ok(&["update", "--dry-run"]);
    assert!(done.starts_with("nothing to update"), "{done}");
}

fn moves<'a>(out: &'a Value, kind: &str) -> Vec<&'a Value> {
    out[kind]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

#[test]
fn a_move_that_adds_a_blocker_is_undone_on_its_own_and_the_others_stay() {
    let w = world(
        "pulls = \"1\"\n",
        |reg| publish(reg, "pulls", "1.0.0", CODE),
        |reg| {
            publish(reg, "newdep", "1.0.0", CODE);
            reg.publish_crate(
                &CrateSpec::new("pulls", "1.1.0")
                    .dep("newdep", "1")
                    .file("src/lib.rs", CODE),
            );
        },
    );
    w.audit_file(&["leafy@1.0.0", "vuln@0.3.0", "tiny@1.0.0", "pulls@1.0.0"]);
    w.sign("vuln", "0.3.1");
    w.sign("pulls", "1.1.0");
    let (code, stdout, stderr) = w.run(&["update"]);
    // Nothing is blocked afterwards: vuln left its advisory, pulls stayed where it was.
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "undone: pulls 1.0.0 -> 1.1.0 (signed off by team): would bring in blocked newdep@1.0.0"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("kept: vuln 0.3.0 -> 0.3.1 (signed off by team): unblocks vuln@0.3.0"),
        "{stdout}"
    );
    assert_eq!(w.locked("pulls"), ["1.0.0"]);
    assert!(w.locked("newdep").is_empty(), "{}", w.ws.lockfile());
    assert_eq!(w.locked("vuln"), ["0.3.1"]);
    w.ok(&["check"]);
}

#[test]
fn a_pre_existing_blocker_never_cancels_a_good_move() {
    // `stuck` is unaudited and nobody signed any version of it: nothing `update` does fixes it.
    let w = world(
        "stuck = \"1\"\n",
        |reg| publish(reg, "stuck", "1.0.0", CODE),
        |_| {},
    );
    w.audit_file(&["leafy@1.0.0", "vuln@0.3.0", "tiny@1.0.0"]);
    w.sign("vuln", "0.3.1");
    let (code, stdout, stderr) = w.run(&["--format", "json", "update"]);
    // Blockers remain (stuck), so exit 1, but the move that fixes the advisory stays.
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let out: Value = serde_json::from_str(&stdout).expect("json");
    let kept = moves(&out, "kept");
    assert_eq!(kept.len(), 1, "{out}");
    assert_eq!(
        (kept[0]["name"].as_str(), kept[0]["to"].as_str()),
        (Some("vuln"), Some("0.3.1")),
        "{out}"
    );
    assert_eq!(kept[0]["fixed"][0], "vuln@0.3.0", "{out}");
    assert!(moves(&out, "undone").is_empty(), "{out}");
    let impossible = moves(&out, "impossible");
    assert!(
        impossible
            .iter()
            .any(|m| m["name"] == "stuck" && m["to"].is_null() && m["reason"].is_string()),
        "{out}"
    );
    let blocked: Vec<&str> = moves(&out, "blocked")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(blocked, ["stuck"], "{out}");
    assert_eq!(w.locked("vuln"), ["0.3.1"]);
    assert_eq!(w.locked("stuck"), ["1.0.0"]);

    // The human report says the same; with nothing left to move, blockers still mean exit 1.
    let (code, stdout, _) = w.run(&["update"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("impossible: stuck 1.0.0: "), "{stdout}");
    assert!(stdout.contains("still blocked: 1 package"), "{stdout}");
    assert!(stdout.contains("  stuck@1.0.0: unaudited"), "{stdout}");
}

#[test]
fn package_limits_update_to_the_named_packages() {
    let w = world("", |_| {}, |_| {});
    w.audit_file(&["leafy@1.0.0", "vuln@0.3.0", "tiny@1.0.0"]);
    w.sign("leafy", "1.1.0");
    w.sign("vuln", "0.3.1");
    let plan: Value =
        serde_json::from_str(&w.ok(&["--format", "json", "update", "--dry-run", "-p", "vuln"]))
            .expect("json");
    assert!(step(&plan, "vuln").is_some(), "{plan}");
    assert!(step(&plan, "leafy").is_none(), "{plan}");

    // Only leafy moves; vuln stays under its advisory, so blockers remain: exit 1.
    let (code, stdout, stderr) = w.run(&["update", "--package", "leafy"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("kept: leafy 1.0.0 -> 1.1.0"), "{stdout}");
    assert!(!stdout.contains("kept: vuln"), "{stdout}");
    assert_eq!(w.locked("leafy"), ["1.1.0"]);
    assert_eq!(w.locked("vuln"), ["0.3.0"]);

    // Repeatable; and a name not in the lockfile is a usage error, not a silent no-op.
    w.ok(&["update", "-p", "vuln", "-p", "leafy"]);
    assert_eq!(w.locked("vuln"), ["0.3.1"]);
    let (code, _, stderr) = w.run(&["update", "-p", "nosuch"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("nosuch"), "{stderr}");
}

#[test]
fn suggest_orders_reviews_by_lines_to_read() {
    let w = world("", |_| {}, |_| {});
    w.audit_file(&["leafy@1.0.0", "vuln@0.3.0", "tiny@1.0.0"]);
    // leafy 1.0.0 audited, the lockfile moved to 1.2.0 by hand: a delta review from 1.0.0.
    w.sign("leafy", "1.0.0");
    w.ws.run_cargo(&w.reg, &["update", "-p", "leafy", "--precise", "1.2.0"]);
    let json: Value = serde_json::from_str(&w.ok(&["--format", "json", "suggest"])).expect("json");
    let list = json.as_array().expect("array");
    let names: Vec<&str> = list.iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(
        names.contains(&"leafy") && names.contains(&"tiny"),
        "{json}"
    );
    let leafy = list.iter().find(|s| s["name"] == "leafy").expect("leafy");
    assert_eq!(leafy["delta_from"], "1.0.0");
    assert_eq!(leafy["start"], "cargo audit-trust diff leafy 1.0.0 1.2.0");
    assert_eq!(
        leafy["sign"],
        "cargo audit-trust sign leafy 1.2.0 --criteria reviewed --delta-from 1.0.0"
    );
    // vuln 0.3.0 is under an advisory (an exemption never waives one) and nobody audited a
    // fix: reviewing the oldest fixed version comes first, whatever its size.
    assert_eq!(
        (
            list[0]["name"].as_str(),
            list[0]["version"].as_str(),
            list[0]["fixes"].as_str(),
            list[0]["urgent"].as_bool()
        ),
        (Some("vuln"), Some("0.3.1"), Some("0.3.0"), Some(true)),
        "{json}"
    );
    assert_eq!(list[0]["start"], "cargo audit-trust diff vuln@0.3.1");
    let rest = &list[1..];
    let lines: Vec<u64> = rest
        .iter()
        .filter_map(|s| s["lines_to_read"].as_u64())
        .collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "ordered: {json}");
    // Then tiny, which has no code at all.
    assert_eq!(rest[0]["name"], "tiny", "{json}");
}

#[test]
fn update_needs_the_workspace_not_a_bare_lockfile() {
    let w = world("", |_| {}, |_| {});
    let lock = w.ws.lockfile_path().display().to_string();
    let (code, _, stderr) = w.run(&["update", "--lockfile", &lock, "--dry-run"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not --lockfile"), "{stderr}");
}

#[test]
fn a_flag_beats_sign_offs_when_choosing_a_target() {
    let w = world("", |_| {}, |_| {});
    w.audit_file(&["leafy@1.0.0", "vuln@0.3.0", "tiny@1.0.0"]);
    w.sign("leafy", "1.1.0");
    w.ok(&["sign", "leafy", "1.1.0", "--flag", "leaks the token"]);
    let plan: Value =
        serde_json::from_str(&w.ok(&["update", "--dry-run", "--format", "json"])).expect("json");
    // 1.1.0 is signed off and flagged, 1.2.0 is not signed off: leafy has nowhere to go. The
    // package is exempted today, so it is not listed as blocked either.
    assert!(step(&plan, "leafy").is_none(), "{plan}");
    // vuln is under an advisory with no audited way out: the plan says so.
    let vuln = step(&plan, "vuln").expect("vuln is listed");
    assert!(vuln["to"].is_null(), "{plan}");
    assert!(
        vuln["why"]
            .as_str()
            .is_some_and(|w| w.contains("no audited")),
        "{plan}"
    );
    let human = w.ok(&["suggest"]);
    assert!(
        human.contains("reviews to do, findings first, then fewest lines"),
        "{human}"
    );
    // The fix of vuln's advisory is the first review, named by version.
    assert!(
        human.contains("vuln@0.3.1 (fixes advisory 0.3.0, "),
        "{human}"
    );
    assert!(
        human.contains("start: cargo audit-trust diff leafy@1.0.0"),
        "{human}"
    );
}

#[test]
fn a_move_cargo_refuses_is_reported_and_the_others_go_on() {
    let w = world("", |_| {}, |_| {});
    w.audit_file(&["leafy@1.0.0", "vuln@0.3.0", "tiny@1.0.0"]);
    w.sign("leafy", "1.1.0");
    w.sign("vuln", "0.3.1");
    // An exact requirement: cargo will not move leafy, whatever the plan says.
    let manifest =
        w.ws.read_file("Cargo.toml")
            .replace("leafy = \"1\"", "leafy = \"=1.0.0\"");
    w.ws.write_file("Cargo.toml", &manifest);
    let out = w.ok(&["update"]);
    assert!(
        out.contains("impossible: leafy 1.0.0 -> 1.1.0 (signed off by team): cargo refused: error"),
        "{out}"
    );
    assert!(out.contains("updated 1 package;"), "{out}");
    assert_eq!(w.locked("leafy"), ["1.0.0"]);
    assert_eq!(w.locked("vuln"), ["0.3.1"]);
}
