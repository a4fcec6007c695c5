//! End to end: the arrayref hijack replayed on a loopback registry. A popular-looking crate's
//! new patch release adds `proc-macro1` (one character from `proc-macro2`), whose build script
//! spawns a process, opens a socket and build-depends on a download crate; it was published
//! minutes ago and the versions before it are yanked. `check` blocks it with reason `risk`,
//! the signal codes and their evidence, and never advises the lure; `update` does not move to
//! it. The same release brought in by a pull request is blocked by `check --base REV` as
//! introduced by the change, compared with the base lockfile's version. Real `cargo package`
//! crates, a real sparse registry, the real binary.

use std::path::Path;

use audit_trust_e2e::check_world::{CheckWorld, risk_signals, verdict};
use audit_trust_e2e::{CrateSpec, LocalRegistry, Workspace};
use serde_json::Value;

const TODAY: &str = "2026-08-20T12:00:00Z";
const OLD: &str = audit_trust_e2e::hijack::OLD_PUBTIME;
const KEY: &str = "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const LIB: &str = "pub fn get(a: &[u8]) -> u8 {\n    a[0]\n}\n";

fn world() -> CheckWorld {
    let reg = LocalRegistry::start();
    let publish = |spec: CrateSpec, pubtime: &str| {
        let p = reg.publish_crate(&spec);
        reg.set_pubtime(&p.name, &p.version, pubtime);
    };
    publish(
        CrateSpec::new("proc-macro2", "1.0.0").file("src/lib.rs", LIB),
        OLD,
    );
    for patch in 7..=9 {
        publish(
            CrateSpec::new("arrayref", &format!("0.3.{patch}")).file("src/lib.rs", LIB),
            OLD,
        );
    }
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\narrayref = \"0.3\"\nproc-macro2 = \"1\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    // The attack: a download crate, the look-alike that build-depends on it, the release.
    audit_trust_e2e::hijack::publish_look_alike(&reg, "2026-08-20T11:20:00Z");
    publish(
        CrateSpec::new("arrayref", "0.3.10")
            .dep("proc-macro1", "0.1")
            .file("src/lib.rs", LIB),
        "2026-08-20T11:30:00Z",
    );
    // The three versions before the release are yanked: nothing older is left to move to.
    for patch in 7..=9 {
        reg.set_yanked("arrayref", &format!("0.3.{patch}"), true);
    }
    let w = CheckWorld::new(reg, ws, TODAY);
    // One auditor for everything; a range exemption for arrayref, as many projects write
    // them: it admits the unaudited release, so only the risk rule stands in the way.
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
             keys = [{{ key = \"{KEY}\" }}]\n\n[[exemption]]\npackage = \"arrayref\"\nversions = \"^0.3\"\n\
             reason = \"small and old\"\nexpires = 2027-01-01\n"
        ),
    );
    w
}

fn has(list: &[(String, String)], signal: &str, severity: &str) -> bool {
    list.iter().any(|(s, v)| s == signal && v == severity)
}

#[test]
fn the_hijacked_release_is_blocked_with_its_signals_and_the_yanked_one_is_not_a_lure() {
    let w = world();

    // The lockfile still has 0.3.9, now yanked; the only way out is the new, unaudited 0.3.10.
    let report = w.json(&["--format", "json", "check"], 1);
    let old = verdict(&report, "arrayref", "0.3.9");
    assert_eq!(old["status"], "yanked", "{old}");
    let step = old["next_step"]["text"].as_str().unwrap_or_default();
    // Review the newer version before moving; never move to it because it is not yanked.
    assert!(step.contains("review arrayref 0.3.10"), "{step}");
    assert!(step.contains("pattern of a hijack"), "{step}");
    assert!(
        step.contains("the yanked version may be the safe one"),
        "{step}"
    );
    assert!(!step.contains("cargo update -p"), "{step}");
    // `update` does not treat "not yanked" as a reason to move to 0.3.10.
    let (_, stdout, stderr) = w.run(&["--format", "json", "update", "--dry-run"]);
    let plan: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let moves: Vec<&Value> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["name"] == "arrayref" && !s["to"].is_null())
        .collect();
    assert!(moves.is_empty(), "{plan}");

    // Someone runs the lure by hand: the release and its look-alike are blocked.
    w.ws.run_cargo(&w.reg, &["update", "-p", "arrayref", "--precise", "0.3.10"]);
    assert!(
        w.ws.lockfile().contains("proc-macro1"),
        "{}",
        w.ws.lockfile()
    );
    let report = w.json(&["--format", "json", "check"], 1);
    let bad = verdict(&report, "arrayref", "0.3.10");
    assert_eq!(
        (bad["status"].as_str(), bad["blocked"].as_bool()),
        (Some("risk"), Some(true)),
        "{bad}"
    );
    let found = risk_signals(bad);
    for (signal, severity) in [
        ("typosquat", "deny"),
        ("build-script-spawns", "deny"),
        ("build-script-network", "deny"),
        ("new-dependency", "warn"),
        ("young-crate", "warn"),
        ("few-versions", "warn"),
        ("no-repository", "warn"),
        ("recently-published", "warn"),
        ("yanked-predecessors", "warn"),
    ] {
        assert!(
            has(&found, signal, severity),
            "{signal} {severity} missing: {found:?}\n{bad}"
        );
    }
    let spawn = bad["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["details"]["signal"] == "build-script-spawns")
        .expect("spawn reason");
    let evidence = spawn["details"]["evidence"].as_array().expect("evidence");
    // Only the real call, at its line: the comment and the string raised nothing.
    let lines: Vec<(&str, &str, u64)> = evidence
        .iter()
        .map(|e| {
            (
                e["package"].as_str().unwrap_or_default(),
                e["file"].as_str().unwrap_or_default(),
                e["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        lines.contains(&("proc-macro1@0.1.0", "build.rs", 8)),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|(_, _, l)| *l != 4 && *l != 6),
        "{lines:?}"
    );
    let typo = bad["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["details"]["signal"] == "typosquat")
        .expect("typosquat reason");
    assert_eq!(
        typo["details"]["evidence"][0]["names"],
        serde_json::json!(["proc-macro1", "proc-macro2"])
    );
    assert_eq!(
        bad["reasons"][0]["code"], "exempted",
        "the range exemption did not save it"
    );
    let step = bad["next_step"]["text"].as_str().unwrap_or_default();
    assert!(
        step.starts_with("do not build it before reading it"),
        "{step}"
    );
    assert!(
        step.contains("cargo audit-trust diff arrayref 0.3.9 0.3.10"),
        "{step}"
    );
    assert!(!step.contains("cargo update -p"), "{step}");
    // The look-alike is blocked on its own signals too.
    let squat = verdict(&report, "proc-macro1", "0.1.0");
    let found = risk_signals(squat);
    assert!(has(&found, "build-script-spawns", "deny"), "{found:?}");
    assert!(has(&found, "build-script-network", "deny"), "{found:?}");

    // The human report names them; SARIF locates the call inside the crate.
    let (code, human, _) = w.run(&["check"]);
    assert_eq!(code, Some(1));
    assert!(
        human.contains(
            "risk: [typosquat] new dependency `proc-macro1` is one edit away from `proc-macro2`"
        ),
        "{human}"
    );
    let sarif = w.json(&["--format", "sarif", "check"], 1);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let in_crate = results.iter().any(|r| {
        r["ruleId"] == "risk/build-script-spawns"
            && r["locations"].as_array().is_some_and(|l| {
                l.iter().any(|loc| {
                    loc["physicalLocation"]["artifactLocation"]["uri"]
                        == "proc-macro1-0.1.0/build.rs"
                        && loc["physicalLocation"]["region"]["startLine"] == 8
                })
            })
    });
    assert!(
        in_crate,
        "{}",
        serde_json::to_string_pretty(&sarif).unwrap_or_default()
    );
}

#[test]
fn an_ordinary_release_raises_no_denied_signal() {
    let reg = LocalRegistry::start();
    let spec = |version: &str, code: &str| {
        CrateSpec::new("steady", version)
            .build_dep("proc-macro2", "1")
            .file(
                "build.rs",
                "fn main() {\n    let rustc = std::env::var(\"RUSTC\").unwrap_or_default();\n    \
                 let _ = std::process::Command::new(rustc).arg(\"--version\").output();\n}\n",
            )
            .file("src/lib.rs", code)
            .file("tests/t.rs", "#[test]\nfn t() {}\n")
    };
    let p = reg.publish_crate(&CrateSpec::new("proc-macro2", "1.0.0").file("src/lib.rs", LIB));
    reg.set_pubtime(&p.name, &p.version, OLD);
    for (version, code) in [
        ("1.4.2", LIB),
        (
            "1.4.3",
            "/// Docs.\npub fn get(a: &[u8]) -> u8 {\n    a[1]\n}\n",
        ),
    ] {
        let p = reg.publish_crate(&spec(version, code));
        reg.set_pubtime(&p.name, &p.version, "2026-07-01T00:00:00Z");
    }
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsteady = \"1\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    let w = CheckWorld::new(reg, ws, TODAY);
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
             keys = [{{ key = \"{KEY}\" }}]\n\n[[exemption]]\npackage = \"steady\"\nversions = \"^1\"\n\
             reason = \"r\"\nexpires = 2027-01-01\n\n[[exemption]]\npackage = \"proc-macro2@1.0.0\"\n\
             reason = \"r\"\nexpires = 2027-01-01\n"
        ),
    );
    let report = w.json(&["--format", "json", "check"], 0);
    let steady = verdict(&report, "steady", "1.4.3");
    assert_eq!(steady["status"], "exempted", "{steady}");
    assert!(
        risk_signals(steady)
            .iter()
            .all(|(_, severity)| severity != "deny"),
        "{steady}"
    );
    assert!(Path::new(&w.ws.lockfile_path()).is_file());
}

#[test]
fn check_base_blocks_the_hijacked_release_a_change_brings_in_and_update_does_not_move_to_it() {
    let w = world();
    w.ws.write_file(".gitignore", "/target\n");
    w.git(&["init", "-q", "-b", "main"]);
    w.git(&["add", "-A"]);
    w.git(&["commit", "-q", "-m", "base: arrayref 0.3.9"]);
    let base = w.git(&["rev-parse", "HEAD"]);

    // On the base, `update` stays on the yanked 0.3.9 rather than move to the unaudited release.
    let (_, stdout, stderr) = w.run(&["--format", "json", "update", "--dry-run"]);
    let plan: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let moves_arrayref = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .any(|s| s["name"] == "arrayref" && !s["to"].is_null());
    assert!(!moves_arrayref, "{plan}");

    // The pull request: someone moves off the yanked version, into the hijacked release.
    w.git(&["checkout", "-q", "-b", "move-off-yanked"]);
    w.ws.run_cargo(&w.reg, &["update", "-p", "arrayref", "--precise", "0.3.10"]);
    w.git(&["commit", "-q", "-am", "arrayref 0.3.10"]);
    let report = w.json(&["--format", "json", "check", "--base", &base], 1);
    let change = &report["change"];
    let changes = change["changes"].as_array().expect("changes");
    assert!(
        changes.iter().any(|c| c["name"] == "arrayref"
            && c["from"] == serde_json::json!(["0.3.9"])
            && c["to"] == serde_json::json!(["0.3.10"])),
        "{change}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["name"] == "proc-macro1" && c["from"] == serde_json::json!([])),
        "{change}"
    );

    let bad = verdict(&report, "arrayref", "0.3.10");
    assert_eq!(bad["introduced"], true, "{bad}");
    assert_eq!(
        (bad["status"].as_str(), bad["blocked"].as_bool()),
        (Some("risk"), Some(true)),
        "{bad}"
    );
    let found = risk_signals(bad);
    for signal in ["typosquat", "build-script-spawns", "build-script-network"] {
        assert!(has(&found, signal, "deny"), "{signal}: {found:?}\n{bad}");
    }
    let reason = |signal: &str| {
        bad["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .find(|r| r["details"]["signal"] == signal)
            .cloned()
            .unwrap_or_else(|| panic!("no {signal} in {bad}"))
    };
    // Compared with the base lockfile's version, with the evidence of each signal.
    let spawn = reason("build-script-spawns");
    assert_eq!(spawn["details"]["base"], "0.3.9", "{spawn}");
    assert_eq!(spawn["details"]["base-from"], "lockfile", "{spawn}");
    let at = |r: &Value| -> Vec<(String, String, u64)> {
        r["details"]["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .map(|e| {
                let text = |x: &Value| x.as_str().unwrap_or_default().to_owned();
                (
                    text(&e["package"]),
                    text(&e["file"]),
                    e["line"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    };
    assert!(
        at(&spawn).contains(&("proc-macro1@0.1.0".into(), "build.rs".into(), 8)),
        "{spawn}"
    );
    let network = reason("build-script-network");
    assert!(
        at(&network)
            .iter()
            .any(|(p, f, _)| p == "proc-macro1@0.1.0" && f == "build.rs"),
        "{network}"
    );
    assert_eq!(
        reason("typosquat")["details"]["evidence"][0]["names"],
        serde_json::json!(["proc-macro1", "proc-macro2"])
    );
    // The look-alike the change brings in is blocked on its own; what it did not touch is
    // already present and judged for nothing new.
    let squat = verdict(&report, "proc-macro1", "0.1.0");
    assert_eq!(squat["introduced"], true, "{squat}");
    assert!(
        has(&risk_signals(squat), "build-script-spawns", "deny"),
        "{squat}"
    );
    let untouched = verdict(&report, "proc-macro2", "1.0.0");
    assert_eq!(untouched["introduced"], false, "{untouched}");
    assert!(risk_signals(untouched).is_empty(), "{untouched}");
    assert!(change["introduced_blocked"].as_u64() >= Some(2), "{change}");
}
