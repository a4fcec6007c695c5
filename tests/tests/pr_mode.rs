//! End to end: pull-request mode, `check --base REV|PATH`. A real git repository in a temp dir
//! holds two commits of a workspace resolved from the loopback registry: the base, and a change
//! that adds one dependency and bumps another. An advisory (written by the test) lands on a
//! package the change did not touch. Real crates, a real sparse registry, the real binary.

use audit_trust_e2e::check_world::{CheckWorld, verdict};
use audit_trust_e2e::{CrateSpec, LocalRegistry, Workspace};
use serde_json::Value;

const TODAY: &str = "2026-08-20T12:00:00Z";
const OLD: &str = "2024-09-14T12:24:40Z";
/// An hour before `TODAY`: younger than the default `min-age`, so `recently-published`.
const FRESH: &str = "2026-08-20T11:00:00Z";
const LIB: &str = "pub fn one() -> u8 {\n    1\n}\n";

/// The shared world, and the base commit of the pull request.
struct World {
    check: CheckWorld,
    base_commit: String,
}

impl std::ops::Deref for World {
    type Target = CheckWorld;

    fn deref(&self) -> &CheckWorld {
        &self.check
    }
}

fn manifest(deps: &str) -> String {
    format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
    )
}

fn world(audit_extra: &str) -> World {
    let reg = LocalRegistry::start();
    let publish = |spec: CrateSpec, pubtime: &str| {
        let p = reg.publish_crate(&spec);
        reg.set_pubtime(&p.name, &p.version, pubtime);
    };
    // `steady` was published an hour ago too: a full check computes its signals; a check
    // of the change must not (the change did not touch it).
    publish(
        CrateSpec::new("steady", "1.0.0").file("src/lib.rs", LIB),
        FRESH,
    );
    publish(
        CrateSpec::new("bumped", "1.0.0").file("src/lib.rs", LIB),
        OLD,
    );
    let ws = Workspace::single(&manifest("steady = \"1\"\nbumped = \"=1.0.0\"\n"), &[]);
    ws.generate_lockfile(&reg);
    let w = CheckWorld::new(reg, ws, TODAY);
    let publish = |spec: CrateSpec, pubtime: &str| {
        let p = w.reg.publish_crate(&spec);
        w.reg.set_pubtime(&p.name, &p.version, pubtime);
    };
    let db = &w.db;
    // A vulnerability advisory against the untouched `steady`, with no fixed version.
    let folder = db.path().join("crates").join("steady");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("RUSTSEC-2026-0900.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-0900\"\npackage = \"steady\"\ndate = \"2026-08-19\"\n\n\
         [versions]\npatched = []\n```\n\n# A flaw in steady\n\nText.\n",
    )
    .expect("advisory");
    // Every crate exempted: only advisories and risk signals can block.
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "[[exemption]]\npackage = \"steady\"\nversions = \"*\"\nreason = \"test\"\nexpires = 2027-01-01\n\n\
             [[exemption]]\npackage = \"bumped\"\nversions = \"*\"\nreason = \"test\"\nexpires = 2027-01-01\n\n\
             [[exemption]]\npackage = \"added\"\nversions = \"*\"\nreason = \"test\"\nexpires = 2027-01-01\n\n{audit_extra}"
        ),
    );
    w.ws.write_file(".gitignore", "/target\n");
    w.git(&["init", "-q", "-b", "main"]);
    w.git(&["add", "-A"]);
    w.git(&["commit", "-q", "-m", "base"]);
    let base_commit = w.git(&["rev-parse", "HEAD"]);
    // The change: a new dependency, and a bump of another.
    publish(
        CrateSpec::new("added", "0.1.0").file("src/lib.rs", LIB),
        FRESH,
    );
    publish(
        CrateSpec::new("bumped", "1.1.0")
            .file("src/lib.rs", LIB)
            .file("build.rs", "fn main() {}\n"),
        OLD,
    );
    w.ws.write_file(
        "Cargo.toml",
        &manifest("steady = \"1\"\nbumped = \"1.1\"\nadded = \"0.1\"\n"),
    );
    w.ws.generate_lockfile(&w.reg);
    w.git(&["checkout", "-q", "-b", "change"]);
    w.git(&["commit", "-q", "-am", "add `added`, bump `bumped`"]);
    World {
        check: w,
        base_commit,
    }
}

/// The risk signal codes raised for a verdict.
fn signals(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["details"]["signal"].as_str().map(str::to_owned))
        .collect()
}

fn reason<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {v}"))
}

#[test]
fn a_change_is_split_from_what_was_there_and_only_the_change_is_judged_for_risk() {
    let w = world("");

    // Without a base, by default, a package already blocked (`steady` is unaudited) is not
    // judged: its signals could not change the verdict, and judging it costs two downloads.
    let full = w.json(&["--format", "json", "check"], 1);
    let steady = verdict(&full, "steady", "1.0.0");
    assert_eq!(steady["blocked"], true, "{steady}");
    assert!(signals(steady).is_empty(), "{steady}");
    let skipped = steady["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["details"]["not-computed"] == "skipped")
        .unwrap_or_else(|| panic!("no skipped reason: {steady}"));
    assert_eq!(skipped["severity"], "info", "{skipped}");
    assert_eq!(skipped["details"]["why"], "already-blocked", "{skipped}");
    assert!(
        full["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains("--signals all"))),
        "{full}"
    );

    // `--signals all` judges every unsigned package: `steady` is an hour old too.
    let full = w.json(&["--format", "json", "check", "--signals", "all"], 1);
    assert!(full.get("change").is_none(), "{full}");
    let steady = verdict(&full, "steady", "1.0.0");
    assert!(steady.get("introduced").is_none(), "{steady}");
    assert!(
        signals(steady).contains(&"recently-published".to_owned()),
        "{steady}"
    );

    // Against the base commit: the split, and signals only for what the change brings in.
    let report = w.json(&["--format", "json", "check", "--base", &w.base_commit], 1);
    let change = &report["change"];
    assert_eq!(
        change["base"],
        format!("{}:Cargo.lock", w.base_commit),
        "{change}"
    );
    let changes = change["changes"].as_array().expect("changes");
    assert!(
        changes.iter().any(|c| c["name"] == "added"
            && c["from"] == serde_json::json!([])
            && c["to"] == serde_json::json!(["0.1.0"])),
        "{change}"
    );
    assert!(
        changes.iter().any(|c| c["name"] == "bumped"
            && c["from"] == serde_json::json!(["1.0.0"])
            && c["to"] == serde_json::json!(["1.1.0"])),
        "{change}"
    );
    assert!(!changes.iter().any(|c| c["name"] == "steady"), "{change}");
    let steady = verdict(&report, "steady", "1.0.0");
    assert_eq!(steady["introduced"], false, "{steady}");
    assert_eq!(steady["status"], "advisory", "{steady}");
    assert_eq!(steady["blocked"], true, "{steady}");
    assert!(signals(steady).is_empty(), "untouched: no signals {steady}");
    assert_eq!(change["present_blocked"], 1, "{change}");

    let added = verdict(&report, "added", "0.1.0");
    assert_eq!(added["introduced"], true, "{added}");
    assert!(
        signals(added).contains(&"recently-published".to_owned()),
        "{added}"
    );
    let bumped = verdict(&report, "bumped", "1.1.0");
    assert_eq!(bumped["introduced"], true, "{bumped}");
    // The bump is compared with the base lockfile's version, not the index's previous one.
    let risk = reason(bumped, "risk");
    assert_eq!(risk["details"]["base"], "1.0.0", "{bumped}");
    assert_eq!(risk["details"]["base-from"], "lockfile", "{bumped}");
    assert!(
        signals(bumped).contains(&"build-script-added".to_owned()),
        "{bumped}"
    );

    // The same base as a file gives the same split.
    let base_text = w.git(&["show", &format!("{}:Cargo.lock", w.base_commit)]);
    // Written in the older lockfile format 3: the comparison does not depend on it.
    assert!(base_text.contains("version = 4"), "{base_text}");
    let base_v3 = base_text.replacen("version = 4", "version = 3", 1);
    w.ws.write_file("base.lock", &format!("{base_v3}\n"));
    let from_file = w.json(&["--format", "json", "check", "--base", "base.lock"], 1);
    assert_eq!(from_file["change"]["changes"], report["change"]["changes"]);
    assert_eq!(from_file["change"]["base"], "base.lock");

    // The markdown summary says both sides.
    let (code, md, stderr) = w.run(&["--format", "markdown", "check", "--base", "main"]);
    assert_eq!(code, Some(1), "{md}{stderr}");
    assert!(md.contains("#### Introduced by this change"), "{md}");
    assert!(md.contains("#### Already present: 1 blocked"), "{md}");
    assert!(md.contains("RUSTSEC-2026-0900"), "{md}");
    assert!(md.contains("- `bumped` 1.0.0 → 1.1.0"), "{md}");
    assert!(md.contains("- `added` added 0.1.0"), "{md}");

    // On a GitHub Actions pull request the base is the merge base with origin/$GITHUB_BASE_REF;
    // a shallow checkout without it judges the whole lockfile, and says so.
    let github = [("GITHUB_ACTIONS", "true"), ("GITHUB_BASE_REF", "main")];
    let (code, stdout, stderr) = w.run_env(&github, &["--format", "json", "check"]);
    assert_eq!(code, Some(1), "{stderr}");
    let shallow: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(shallow.get("change").is_none(), "{stdout}");
    assert!(
        shallow["notes"]
            .to_string()
            .contains("pull-request mode is off"),
        "{stdout}"
    );
    w.git(&["update-ref", "refs/remotes/origin/main", "main"]);
    let (code, stdout, stderr) = w.run_env(&github, &["--format", "json", "check"]);
    assert_eq!(code, Some(1), "{stderr}");
    let ci: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(
        ci["change"]["base"],
        format!("{}:Cargo.lock", w.base_commit),
        "{stdout}"
    );

    // The human report tags each package with its side.
    let (_, human, _) = w.run(&["check", "--base", "main"]);
    assert!(human.contains("steady@1.0.0 (already present)"), "{human}");
}

#[test]
fn preexisting_warn_keeps_an_untouched_package_s_new_advisory_from_failing_the_change() {
    // The change's own signals only warn by default: only `steady`'s advisory can block.
    let w = world("[policy]\npreexisting = \"warn\"\n");
    let report = w.json(&["--format", "json", "check", "--base", "main"], 0);
    let steady = verdict(&report, "steady", "1.0.0");
    assert_eq!(steady["blocked"], false, "{steady}");
    let advisory = reason(steady, "advisory");
    assert_eq!(advisory["severity"], "warn", "{steady}");
    assert_eq!(report["change"]["present_warned"], 1, "{report}");
    // Without a base there is no change to be untouched by: the advisory blocks as before.
    w.json(&["--format", "json", "check"], 1);
    // And with the default (deny) it blocks the change too.
    w.ws.write_file(
        "Cargo.audit",
        &w.ws
            .read_file("Cargo.audit")
            .replace("preexisting = \"warn\"", "preexisting = \"deny\""),
    );
    w.json(&["--format", "json", "check", "--base", "main"], 1);
}

#[test]
fn a_bad_base_is_a_clear_error() {
    let w = world("");
    let (code, _, stderr) = w.run(&["check", "--base", "no-such-branch"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("`no-such-branch` is not a revision"),
        "{stderr}"
    );

    let (code, _, stderr) = w.run(&["check", "--base", "missing/Cargo.lock"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no such file"), "{stderr}");

    w.ws.write_file(
        "broken.lock",
        "version = 4\n\n[[package]]\nname = \"x\"\nversion = \"not a version\"\n",
    );
    let (code, _, stderr) = w.run(&["check", "--base", "broken.lock"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("broken.lock:3"), "{stderr}");

    // A revision without a lockfile at that path.
    w.git(&["checkout", "-q", "--orphan", "empty"]);
    w.git(&["rm", "-q", "--cached", "Cargo.lock"]);
    w.git(&["commit", "-q", "-m", "no lockfile"]);
    let (code, _, stderr) = w.run(&["check", "--base", "empty"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("empty:Cargo.lock does not exist"),
        "{stderr}"
    );
}
