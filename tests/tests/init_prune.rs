//! End to end: `init` writes a starter Cargo.audit that passes `check` at once and refuses to
//! overwrite; `prune` removes only the entries nothing uses, leaving every other byte.

use std::path::Path;

use audit_trust_e2e::fixture::{Fixture, fixture};

const TODAY: &str = "2026-11-01T12:00:00Z";

/// An advisory database with one advisory for a crate the fixture does not use.
fn advisory_db(dir: &Path) {
    let folder = dir.join("crates").join("elsewhere");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("RUSTSEC-2026-0200.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-0200\"\npackage = \"elsewhere\"\n\
         date = \"2026-10-01\"\n\n[versions]\npatched = [\">= 2.0.0\"]\n```\n\n# Bad\n\nText.\n",
    )
    .expect("write advisory");
}

struct Setup {
    f: Fixture,
    cache: tempfile::TempDir,
    home: tempfile::TempDir,
    db: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let s = Setup {
            f: fixture(),
            cache: tempfile::tempdir().expect("cache"),
            home: tempfile::tempdir().expect("home"),
            db: tempfile::tempdir().expect("db"),
        };
        advisory_db(s.db.path());
        let key = s.key();
        let out = s.run(&["key", "new", "--out", &key]);
        assert!(out.0 == Some(0), "{out:?}");
        s
    }

    fn key(&self) -> String {
        self.home.path().join("key").display().to_string()
    }

    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let lock = self.f.lockfile_arg();
        let db = self.db.path().display().to_string();
        let mut all = vec!["--lockfile", &lock, "--now", TODAY, "--color", "never"];
        all.extend_from_slice(args);
        if matches!(args.first(), Some(&"check" | &"prune")) {
            all.extend_from_slice(&["--advisory-db", &db]);
        }
        let home = self.home.path().to_str().expect("utf-8");
        let out = self
            .f
            .run_with_env(self.cache.path(), &[("HOME", home)], &all);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn init_writes_a_starter_that_passes_check_and_never_overwrites() {
    let s = Setup::new();
    let key = s.key();
    let (code, stdout, stderr) = s.run(&["init", "--key", &key, "--exempt-days", "30"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("7 exemptions until 2026-12-01"), "{stdout}");
    let written = s.f.ws.read_file("Cargo.audit");
    assert!(written.contains("package = \"leafy@2.0.0\""), "{written}");
    assert!(written.contains("cargo audit-trust suggest"), "{written}");
    assert!(s.f.ws.path().join("supply-chain/sign-offs").is_dir());

    let (code, stdout, stderr) = s.run(&["check"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("7 exempted, 2 first-party"), "{stdout}");

    // A second init refuses, and the file is untouched.
    let (code, _, stderr) = s.run(&["init", "--key", &key]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(s.f.ws.read_file("Cargo.audit"), written);

    // After the expiry the debt shows: check blocks.
    let (code, _, _) = {
        let lock = s.f.lockfile_arg();
        let db = s.db.path().display().to_string();
        let out = s.f.run(
            s.cache.path(),
            &[
                "check",
                "--lockfile",
                &lock,
                "--advisory-db",
                &db,
                "--now",
                "2026-12-02T00:00:00Z",
            ],
        );
        (out.status.code(), (), ())
    };
    assert_eq!(code, Some(1));
}

#[test]
fn init_needs_a_key() {
    let s = Setup::new();
    let missing = s.home.path().join("no-such-key").display().to_string();
    let (code, _, stderr) = s.run(&["init", "--key", &missing]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!s.f.ws.path().join("Cargo.audit").exists());
}

#[test]
fn prune_removes_only_what_nothing_uses() {
    let s = Setup::new();
    let key = s.key();
    let (code, _, stderr) = s.run(&["init", "--key", &key]);
    assert_eq!(code, Some(0), "{stderr}");
    let starter = s.f.ws.read_file("Cargo.audit");
    let stale = "\n# gone since the upgrade\n[[exemption]]\npackage = \"leafy@0.9.0\"\nreason = \"old\"\nexpires = 2027-01-01\n\n\
                 [[ignore-advisory]]\nid = \"RUSTSEC-2026-0200\"\nreason = \"not ours\"\nexpires = 2027-01-01\n";
    s.f.ws
        .write_file("Cargo.audit", &format!("{starter}{stale}"));

    let (code, stdout, stderr) = s.run(&["prune", "--dry-run"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("would remove 2 entries"), "{stdout}");
    assert!(stdout.contains("exemption for leafy@0.9.0"), "{stdout}");
    assert!(stdout.contains("ignore of RUSTSEC-2026-0200"), "{stdout}");
    assert_eq!(s.f.ws.read_file("Cargo.audit"), format!("{starter}{stale}"));

    let (code, stdout, stderr) = s.run(&["prune", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json["removed"].as_array().map(Vec::len), Some(2), "{json}");
    // Everything else is byte for byte what it was; the comment above the removed entry is
    // the only trace (comments are never guessed away).
    assert_eq!(
        s.f.ws.read_file("Cargo.audit"),
        format!("{starter}\n# gone since the upgrade\n")
    );
    let (code, stdout, _) = s.run(&["prune"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("nothing to prune"), "{stdout}");
}

#[test]
fn check_warns_before_exemptions_expire_and_never_blocks_for_it() {
    let s = Setup::new();
    let key = s.key();
    let (code, _, stderr) = s.run(&["init", "--key", &key, "--exempt-days", "10"]);
    assert_eq!(code, Some(0), "{stderr}");

    let (code, stdout, stderr) = s.run(&["check"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("warning: 7 exemptions expire within 14 days (first: 2026-11-11)"),
        "{stdout}"
    );
    let (code, stdout, _) = s.run(&["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json["expiring"][0]["kind"], "exemption", "{json}");
    assert_eq!(json["expiring"][0]["count"], 7, "{json}");
    assert_eq!(json["expiring"][0]["first"], "2026-11-11", "{json}");
    let (code, stdout, _) = s.run(&["check", "--format", "sarif"]);
    assert_eq!(code, Some(0), "{stdout}");
    let sarif: serde_json::Value = serde_json::from_str(&stdout).expect("sarif");
    let note = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "note", "{sarif}");
    assert!(
        note["message"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("7 exemptions expire")),
        "{sarif}"
    );

    // The window is the policy's: 5 days is not yet.
    let text = s.f.ws.read_file("Cargo.audit");
    s.f.ws.write_file(
        "Cargo.audit",
        &format!("{text}\n[policy]\nexpiry-warning-days = 5\n"),
    );
    let (code, stdout, _) = s.run(&["check"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!stdout.contains("expire"), "{stdout}");
}

#[test]
fn renew_extends_matching_exemptions_in_place_with_the_reason() {
    let s = Setup::new();
    let key = s.key();
    let (code, _, stderr) = s.run(&["init", "--key", &key, "--exempt-days", "10"]);
    assert_eq!(code, Some(0), "{stderr}");
    let before = s.f.ws.read_file("Cargo.audit");

    let (code, stdout, stderr) = s.run(&[
        "exemptions",
        "renew",
        "--days",
        "30",
        "--reason",
        "review booked",
        "lea*",
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("renewed 2 exemptions until 2026-12-01"),
        "{stdout}"
    );
    let after = s.f.ws.read_file("Cargo.audit");
    // Exactly the two leafy entries changed, in their reason and expiry; nothing else did.
    let old = "reason = \"In Cargo.lock when the project adopted cargo audit-trust.\"\nexpires = 2026-11-11\n";
    let new = "reason = \"In Cargo.lock when the project adopted cargo audit-trust.; \
               renewed 2026-11-01: review booked\"\nexpires = 2026-12-01\n";
    for version in ["1.0.0", "2.0.0"] {
        let entry = format!("package = \"leafy@{version}\"\n");
        assert!(after.contains(&format!("{entry}{new}")), "{after}");
    }
    let restored = after.replace(new, old);
    assert_eq!(restored, before);

    // The warning now counts only what still comes due.
    let (code, stdout, _) = s.run(&["check"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("5 exemptions expire within 14 days (first: 2026-11-11)"),
        "{stdout}"
    );
    // Renewing never shortens.
    let (code, stdout, _) = s.run(&["exemptions", "renew", "--days", "5", "leafy"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("nothing to renew"), "{stdout}");
    assert_eq!(s.f.ws.read_file("Cargo.audit"), after);
}

#[test]
fn prune_removes_exemptions_that_sign_offs_made_unnecessary() {
    let s = Setup::new();
    let key = s.key();
    let (code, _, stderr) = s.run(&["init", "--key", &key]);
    assert_eq!(code, Some(0), "{stderr}");
    let starter = s.f.ws.read_file("Cargo.audit");
    let (code, _, stderr) = s.run(&[
        "sign",
        "leafy",
        "2.0.0",
        "--criteria",
        "reviewed",
        "--key",
        &key,
    ]);
    assert_eq!(code, Some(0), "{stderr}");

    let (code, stdout, stderr) = s.run(&["prune", "--dry-run"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("would remove 1 entry"), "{stdout}");
    assert!(
        stdout.contains("exemption for leafy@2.0.0: its packages pass without it"),
        "{stdout}"
    );
    let (code, stdout, _) = s.run(&["prune"]);
    assert_eq!(code, Some(0), "{stdout}");
    let entry = "\n[[exemption]]\npackage = \"leafy@2.0.0\"\n\
                 reason = \"In Cargo.lock when the project adopted cargo audit-trust.\"\n\
                 expires = 2027-01-30\n";
    assert!(starter.contains(entry), "{starter}");
    assert_eq!(
        s.f.ws.read_file("Cargo.audit"),
        starter.replacen(entry, "", 1)
    );

    let (code, stdout, stderr) = s.run(&["check"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 audited, 6 exempted"), "{stdout}");
}

/// The expiry written for `name@version` in `text`.
fn expiry_of(text: &str, spec: &str) -> String {
    let at = text
        .find(&format!("package = \"{spec}\""))
        .unwrap_or_else(|| panic!("{spec} not in {text}"));
    let rest = &text[at..];
    let line = rest
        .lines()
        .find(|l| l.starts_with("expires = "))
        .expect("expires");
    line.trim_start_matches("expires = ").to_owned()
}

#[test]
fn init_spread_staggers_expiry_smallest_first() {
    let s = Setup::new();
    let key = s.key();
    let (code, stdout, stderr) = s.run(&["init", "--key", &key, "--spread", "7"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("7 exemptions coming due one after another until 2026-11-08"),
        "{stdout}"
    );
    let text = s.f.ws.read_file("Cargo.audit");
    let mut dates: Vec<String> = [
        "cc@1.0.0",
        "devonly@0.1.0",
        "leafy@1.0.0",
        "leafy@2.0.0",
        "macros@0.1.0",
        "middle@0.2.0",
        "nativelib@0.1.0",
    ]
    .iter()
    .map(|spec| expiry_of(&text, spec))
    .collect();
    // The largest package (leafy 1.0.0's seven lines) comes due last.
    assert_eq!(expiry_of(&text, "leafy@1.0.0"), "2026-11-08", "{text}");
    dates.sort();
    dates.dedup();
    assert_eq!(
        dates,
        [
            "2026-11-02",
            "2026-11-03",
            "2026-11-04",
            "2026-11-05",
            "2026-11-06",
            "2026-11-07",
            "2026-11-08"
        ],
        "one a day: {text}"
    );
    let (code, stdout, _) = s.run(&["check"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("7 exemptions expire within 14 days (first: 2026-11-02)"),
        "{stdout}"
    );
}

#[test]
fn init_baseline_waives_todays_advisories_and_yanked_versions_and_lists_them() {
    let s = Setup::new();
    let key = s.key();
    let folder = s.db.path().join("crates").join("leafy");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("RUSTSEC-2026-0300.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-0300\"\npackage = \"leafy\"\n\
         date = \"2026-10-01\"\n\n[versions]\npatched = [\">= 3.0.0\"]\n```\n\n# Leaks\n\nText.\n",
    )
    .expect("write advisory");
    s.f.reg.set_yanked("middle", "0.2.0", true);
    let db = s.db.path().display().to_string();

    // Without the baseline, CI is red on day one.
    let (code, _, stderr) = s.run(&["init", "--key", &key]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, _) = s.run(&["check"]);
    assert_eq!(code, Some(1), "{stdout}");
    std::fs::remove_file(s.f.ws.path().join("Cargo.audit")).expect("rm");

    let (code, stdout, stderr) =
        s.run(&["init", "--key", &key, "--baseline", "--advisory-db", &db]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Baseline: waived until 2027-01-30 (1 advisory, 1 yanked version)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ignore-advisory RUSTSEC-2026-0300: Leaks (leafy@1.0.0, leafy@2.0.0)"),
        "{stdout}"
    );
    assert!(stdout.contains("yanked middle@0.2.0"), "{stdout}");
    let text = s.f.ws.read_file("Cargo.audit");
    assert!(
        text.contains("[[ignore-advisory]]\nid = \"RUSTSEC-2026-0300\"\n"),
        "{text}"
    );

    // The yank is waived in middle's own exemption, not by a policy switch that never expires.
    let entry = "package = \"middle@0.2.0\"\n\
                 reason = \"In Cargo.lock when the project adopted cargo audit-trust. Yanked then.\"\n\
                 expires = 2027-01-30\nallow-yanked = true\n";
    assert!(text.contains(entry), "{text}");
    assert!(!text.contains("yanked = \"warn\""), "{text}");

    // Green, and the waived findings stay visible.
    let (code, stdout, stderr) = s.run(&["check"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("middle@0.2.0: yanked: this version was yanked from its registry; allowed until 2027-01-30"),
        "{stdout}"
    );

    // The waiver comes due with the exemption: then the yank blocks again.
    let due = text.replace(entry, &entry.replace("2027-01-30", "2026-10-31"));
    s.f.ws.write_file("Cargo.audit", &due);
    let (code, stdout, _) = s.run(&["check"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("the exemption that allowed it expired on 2026-10-31"),
        "{stdout}"
    );
}
