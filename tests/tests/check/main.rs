//! End to end: `check`, the CI gate, with the real binary, a real workspace resolved from a
//! local registry on a loopback port, and an advisory database written by the test (the live
//! RustSec database is never read here).

use std::path::Path;

use audit_trust_e2e::fixture::{Fixture, fixture};
use serde_json::Value;

mod advisory_source;

const TODAY: &str = "2026-11-01T12:00:00Z";

/// Every registry package of the fixture, exempted until `expires`.
fn exemptions(expires: &str) -> String {
    [
        "leafy@1.0.0",
        "leafy@2.0.0",
        "middle@0.2.0",
        "cc@1.0.0",
        "nativelib@0.1.0",
        "macros@0.1.0",
        "devonly@0.1.0",
    ]
    .iter()
    .map(|p| {
        format!("[[exemption]]\npackage = \"{p}\"\nreason = \"fixture\"\nexpires = {expires}\n\n")
    })
    .collect()
}

fn advisory_db(dir: &Path, date: &str) {
    let write = |name: &str, id: &str, extra: &str, patched: &str| {
        let folder = dir.join("crates").join(name);
        std::fs::create_dir_all(&folder).expect("mkdir");
        let text = format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{name}\"\ndate = \"{date}\"\n{extra}\n\
             [versions]\npatched = [{patched}]\n```\n\n# {id} in {name}\n\nText.\n"
        );
        std::fs::write(folder.join(format!("{id}.md")), text).expect("write");
    };
    write("middle", "RUSTSEC-2026-0100", "", "\">= 0.3.0\"");
    write(
        "cc",
        "RUSTSEC-2026-0101",
        "informational = \"unmaintained\"",
        "",
    );
}

struct Setup {
    f: Fixture,
    cache: tempfile::TempDir,
    db: tempfile::TempDir,
}

fn setup(audit: &str) -> Setup {
    let f = fixture();
    if !audit.is_empty() {
        f.ws.write_file("Cargo.audit", audit);
    }
    let db = tempfile::tempdir().expect("db dir");
    advisory_db(db.path(), "2026-10-01");
    Setup {
        f,
        cache: tempfile::tempdir().expect("cache"),
        db,
    }
}

impl Setup {
    fn check(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        let db = self.db.path().display().to_string();
        let lock = self.f.lockfile_arg();
        let mut args = vec![
            "check",
            "--lockfile",
            &lock,
            "--advisory-db",
            &db,
            "--color",
            "never",
        ];
        if !extra.contains(&"--now") {
            args.extend_from_slice(&["--now", TODAY]);
        }
        args.extend_from_slice(extra);
        let out = self.f.run(self.cache.path(), &args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn check_json(&self, extra: &[&str]) -> (Option<i32>, Value) {
        let mut args = if extra.contains(&"--format") {
            vec![]
        } else {
            vec!["--format", "json"]
        };
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = self.check(&args);
        let json =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
        (code, json)
    }
}

fn verdict<'a>(report: &'a Value, name: &str, version: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name}@{version} not in the report"))
}

/// The reason codes, without `risk` ones: these crates are made by the test without publish
/// times, so their signals are partly "not computed" (warnings); tests/tests/risk.rs covers them.
fn reason_codes(v: &Value) -> Vec<&str> {
    v["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .filter(|c| *c != "risk")
        .collect()
}

#[test]
fn without_an_audit_file_everything_is_unassigned_and_advisories_block() {
    let s = setup("");
    let (code, report) = s.check_json(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(report["summary"]["packages"], 9);
    assert_eq!(report["summary"]["blocked"], 7);
    assert_eq!(verdict(&report, "app", "0.1.0")["status"], "first-party");
    let middle = verdict(&report, "middle", "0.2.0");
    assert_eq!(middle["status"], "advisory");
    assert_eq!(reason_codes(middle), ["advisory", "unassigned"]);
    assert_eq!(middle["reasons"][0]["details"]["id"], "RUSTSEC-2026-0100");
    assert!(
        middle["next_step"]["text"]
            .as_str()
            .is_some_and(|s| s.contains(">=0.3.0")),
        "{middle}"
    );
    let leafy = verdict(&report, "leafy", "2.0.0");
    assert_eq!(
        (&leafy["status"], leafy["blocked"].as_bool()),
        (&Value::from("unassigned"), Some(true))
    );
    assert_eq!(report["advisory_db"]["age_days"], 31);
    assert_eq!(report["advisory_db"]["stale"], false);
    // With no auditor at all the way forward is `init`, said once for the whole group.
    assert!(
        leafy["next_step"]["text"]
            .as_str()
            .is_some_and(|s| s.contains("cargo audit-trust init")),
        "{leafy}"
    );
    // The JSON count of warnings is the human report's: warnings of packages that pass.
    let passing_warnings = report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["blocked"] == false)
        .flat_map(|p| p["reasons"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["severity"] == "warn")
        .count();
    assert_eq!(report["summary"]["warnings"], passing_warnings, "{report}");
    // `-q` keeps the verdicts and counts the notes instead of printing them.
    let (_, quiet, _) = s.check(&["-q"]);
    assert!(
        quiet.contains("not shown (-q)")
            && !quiet.contains("note(s)")
            && !quiet.contains("\nnotes:"),
        "{quiet}"
    );
    let (_, human, _) = s.check(&[]);
    assert!(human.contains("\nnotes:"), "{human}");
    if passing_warnings > 0 {
        assert!(
            human.contains(&format!("warnings ({passing_warnings})")),
            "{human}"
        );
    }
    assert_eq!(
        human.matches("cargo audit-trust init").count(),
        1,
        "{human}"
    );
    assert!(human.contains("next, for all "), "{human}");
}

#[test]
fn exemptions_and_an_ignore_make_it_pass_until_they_expire() {
    let ignore = "[[ignore-advisory]]\nid = \"RUSTSEC-2026-0100\"\nreason = \"not reachable\"\nexpires = 2026-12-31\n";
    let s = setup(&format!("{}{ignore}", exemptions("2026-12-31")));
    let (code, stdout, stderr) = s.check(&[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("check passed: 9 packages, none blocked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("passed: 7 exempted, 2 first-party"),
        "{stdout}"
    );
    // The informational advisory on cc warns by default.
    assert!(
        stdout.contains("cc@1.0.0: advisory-informational: RUSTSEC-2026-0101 (unmaintained)"),
        "{stdout}"
    );

    // A month later the exemptions have expired: everything is blocked again, and said why.
    let (code, report) = s.check_json(&["--now", "2027-01-15T12:00:00Z"]);
    assert_eq!(code, Some(1));
    let leafy = verdict(&report, "leafy", "1.0.0");
    assert_eq!(reason_codes(leafy), ["exemption-expired", "unassigned"]);
    let middle = verdict(&report, "middle", "0.2.0");
    assert_eq!(
        reason_codes(middle),
        [
            "ignore-expired",
            "advisory",
            "exemption-expired",
            "unassigned"
        ]
    );
}

#[test]
fn an_exemption_never_waives_an_advisory() {
    let s = setup(&exemptions("2026-12-31"));
    let (code, report) = s.check_json(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(report["summary"]["blocked"], 1);
    assert_eq!(verdict(&report, "middle", "0.2.0")["status"], "advisory");
}

#[test]
fn yanked_versions_and_edited_lockfile_checksums_are_caught_from_the_index() {
    let s = setup(&exemptions("2026-12-31"));
    s.f.reg.set_yanked("leafy", "2.0.0", true);
    let lock = s.f.ws.read_file("Cargo.lock");
    let leafy1 =
        s.f.ws
            .locked_packages()
            .into_iter()
            .find(|p| p.name == "leafy" && p.version == "1.0.0")
            .and_then(|p| p.checksum)
            .expect("leafy 1 checksum");
    let forged: String = std::iter::repeat_n('e', 64).collect();
    s.f.ws
        .write_file("Cargo.lock", &lock.replace(&leafy1, &forged));

    let (code, report) = s.check_json(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(verdict(&report, "leafy", "2.0.0")["status"], "yanked");
    let forged_entry = verdict(&report, "leafy", "1.0.0");
    assert_eq!(forged_entry["status"], "checksum-mismatch");
    assert_eq!(
        forged_entry["reasons"][0]["details"]["index"],
        leafy1.as_str()
    );
}

#[test]
fn a_stale_database_fails_unless_allowed() {
    let s = setup(&format!(
        "{}[[ignore-advisory]]\nid = \"RUSTSEC-2026-0100\"\nreason = \"r\"\nexpires = 2027-12-31\n",
        exemptions("2027-12-31")
    ));
    let (code, stdout, _) = s.check(&["--now", "2027-03-01T12:00:00Z"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("STALE") && stdout.contains("--allow-stale"),
        "{stdout}"
    );
    // The headline agrees with the exit code: never "passed" on a run that fails.
    assert!(
        stdout.starts_with("check failed: the advisory database is stale"),
        "{stdout}"
    );
    let (code, stdout, _) = s.check(&["--now", "2027-03-01T12:00:00Z", "--allow-stale"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.starts_with("check passed"), "{stdout}");
}

#[test]
fn sarif_and_github_annotations() {
    let s = setup("");
    let (code, sarif) = s.check_json(&["--format", "sarif"]);
    assert_eq!(code, Some(1));
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cargo-audit-trust");
    let results = run["results"].as_array().expect("results");
    let advisory = results
        .iter()
        .find(|r| r["ruleId"] == "advisory")
        .expect("advisory result");
    assert_eq!(advisory["level"], "error");
    assert!(advisory["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() > Some(1));
    // Code scanning matches paths relative to the repository: the run's folder.
    assert_eq!(
        advisory["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "Cargo.lock"
    );
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        rule_ids.contains(&"unassigned") && rule_ids.contains(&"advisory-informational"),
        "{rule_ids:?}"
    );

    let db = s.db.path().display().to_string();
    let lock = s.f.lockfile_arg();
    let out = s.f.run_with_env(
        s.cache.path(),
        &[("GITHUB_ACTIONS", "true")],
        &[
            "check",
            "--lockfile",
            &lock,
            "--advisory-db",
            &db,
            "--now",
            TODAY,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("::error file=Cargo.lock,line="), "{stdout}");
    assert!(
        stdout.contains("title=middle@0.2.0 advisory::RUSTSEC-2026-0100"),
        "{stdout}"
    );
}

/// The whole loop through the real binary: a key, a sign-off in the local store, `check` passes;
/// a flag blocks again; a tampered store is rejected and reported, never trusted.
#[test]
fn sign_offs_in_the_local_store_admit_and_flags_block() {
    let s = setup("");
    let home = tempfile::tempdir().expect("home");
    let key = home.path().join("key");
    let key_arg = key.display().to_string();
    let env = [("HOME", home.path().to_str().expect("utf-8"))];
    let run = |args: &[&str]| s.f.run_with_env(s.cache.path(), &env, args);
    let out = run(&["key", "new", "--out", &key_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let others: String = exemptions("2026-12-31")
        .split("\n\n")
        .filter(|e| !e.is_empty() && !e.contains("leafy@2.0.0"))
        .map(|e| format!("{e}\n\n"))
        .collect();
    s.f.ws.write_file(
        "Cargo.audit",
        &format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
             keys = [{{ key = \"{public}\" }}]\n\n{others}\
             [[ignore-advisory]]\nid = \"RUSTSEC-2026-0100\"\nreason = \"r\"\nexpires = 2026-12-31\n"
        ),
    );
    let check = || {
        let (code, report) = s.check_json(&[]);
        let leafy = verdict(&report, "leafy", "2.0.0").clone();
        (code, leafy, report)
    };
    let (code, leafy, _) = check();
    assert_eq!(
        (code, leafy["status"].as_str()),
        (Some(1), Some("unaudited"))
    );

    let signed = run(&[
        "sign",
        "leafy",
        "2.0.0",
        "--criteria",
        "reviewed",
        "--key",
        &key_arg,
        "--now",
        TODAY,
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let (code, leafy, report) = check();
    assert_eq!(
        (code, leafy["status"].as_str()),
        (Some(0), Some("audited")),
        "{report}"
    );
    assert!(
        leafy["reasons"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("signed off by team"))
    );

    // Tampering with the store: the record no longer matches the signed head, so nothing from
    // that key can be trusted, a flag among it included: the gate stops (exit 2) and says why.
    let store_file = walk(&s.f.ws.path().join("sign-offs"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("leafy"))
        .expect("a record file for leafy");
    let text = std::fs::read_to_string(&store_file).expect("read store");
    std::fs::write(&store_file, text.replace("reviewed", "reviewer")).expect("tamper");
    let (code, stdout, stderr) = s.check(&["--format", "json"]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("[records-do-not-match-head]") && stderr.contains("a flag may be withheld"),
        "{stderr}"
    );
    std::fs::write(&store_file, text).expect("restore");

    let flagged = run(&[
        "sign",
        "leafy",
        "2.0.0",
        "--flag",
        "contains a backdoor",
        "--key",
        &key_arg,
        "--now",
        TODAY,
    ]);
    assert!(
        flagged.status.success(),
        "{}",
        String::from_utf8_lossy(&flagged.stderr)
    );
    let (code, leafy, _) = check();
    assert_eq!((code, leafy["status"].as_str()), (Some(1), Some("flagged")));
    assert!(
        leafy["reasons"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("contains a backdoor"))
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// With manifests, `[policy] targets` decides which packages matter: a Windows-only dependency
/// does not block a Linux-only project, and dev-only packages are held to the dev criteria.
#[test]
fn target_platforms_and_dev_only_packages_in_metadata_mode() {
    use audit_trust_e2e::{CrateSpec, LocalRegistry, Workspace};
    let reg = LocalRegistry::start();
    reg.publish_crate(&CrateSpec::new("winonly", "1.0.0"));
    reg.publish_crate(&CrateSpec::new("everywhere", "1.0.0"));
    reg.publish_crate(&CrateSpec::new("testonly", "1.0.0"));
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\neverywhere = \"1\"\n\n\
         [target.'cfg(windows)'.dependencies]\nwinonly = \"1\"\n\n\
         [dev-dependencies]\ntestonly = \"1\"\n",
        &[("src/lib.rs", "")],
    );
    ws.generate_lockfile(&reg);
    ws.write_file(
        "Cargo.audit",
        "[policy]\ntargets = [\"x86_64-unknown-linux-gnu\"]\n\n\
         [[auditor]]\nname = \"team\"\ncovers = [\"testonly\"]\nrecords = { folder = \"sign-offs\" }\n\
         keys = [{ key = \"ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\" }]\n\n\
         [[exemption]]\npackage = \"everywhere@1.0.0\"\nreason = \"r\"\nexpires = 2026-12-31\n",
    );
    let db = tempfile::tempdir().expect("db");
    advisory_db(db.path(), "2026-10-01");
    let cache = tempfile::tempdir().expect("cache");
    let out = audit_trust_e2e::cli_command(reg.cargo_home())
        .current_dir(ws.path())
        .args(["check", "--format", "json", "--now", TODAY, "--advisory-db"])
        .arg(db.path())
        .arg("--cache-dir")
        .arg(cache.path())
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        verdict(&report, "winonly", "1.0.0")["status"],
        "other-platform"
    );
    assert_eq!(
        verdict(&report, "everywhere", "1.0.0")["status"],
        "exempted"
    );
    // The dev-only package is held to the dev criteria (source-matches), not `reviewed`.
    let testonly = verdict(&report, "testonly", "1.0.0");
    assert_eq!(testonly["status"], "unaudited");
    assert_eq!(
        testonly["reasons"][0]["details"]["required"], "source-matches",
        "{testonly}"
    );
    assert_eq!(out.status.code(), Some(1));
}
