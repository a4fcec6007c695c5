//! End to end: crates with every license case, packaged by the real `cargo package` and served by
//! a loopback registry; `licenses` reads them, `--notice` writes the texts once, and `check`
//! enforces a `[licenses]` policy with exceptions that live and expire.

use audit_trust_e2e::{CrateSpec, LocalRegistry, Workspace};
use serde_json::Value;

const TODAY: &str = "2026-08-20T12:00:00Z";
const KEY: &str = "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Eleven lines of code: more than a license header, less than any license text.
const LIB: &str = "pub fn a() -> u8 {\n    1\n}\npub fn b() -> u8 {\n    2\n}\npub fn c() -> u8 {\n    3\n}\npub fn d() {}\npub fn e() {}\n";

fn text(id: &str) -> &'static str {
    spdx::license_id(id)
        .map(|l| l.text())
        .expect("a known license")
}

fn mit() -> String {
    format!("Copyright (c) 2024 The Demo Authors\n\n{}", text("MIT"))
}

struct World {
    reg: LocalRegistry,
    ws: Workspace,
    cache: tempfile::TempDir,
    home: tempfile::TempDir,
    db: tempfile::TempDir,
}

fn world() -> World {
    let reg = LocalRegistry::start();
    let big_lib: String = (0..400).map(|i| format!("pub fn f{i}() {{}}\n")).collect();
    let specs = [
        CrateSpec::new("dual", "1.0.0")
            .manifest("license = \"MIT OR Apache-2.0\"")
            .file("LICENSE-MIT", &mit())
            .file("LICENSE-APACHE", text("Apache-2.0"))
            .file("src/lib.rs", &big_lib),
        CrateSpec::new("llvm", "1.0.0")
            .manifest("license = \"Apache-2.0 WITH LLVM-exception\"")
            .file("LICENSE", text("Apache-2.0"))
            .file("src/lib.rs", &big_lib),
        CrateSpec::new("fileonly", "1.0.0")
            .manifest("license-file = \"COPYRIGHT.txt\"")
            .file("COPYRIGHT.txt", text("BSD-3-Clause"))
            .file("src/lib.rs", &big_lib),
        CrateSpec::new("notext", "1.0.0")
            .manifest("license = \"MIT\"")
            .file("src/lib.rs", &big_lib),
        CrateSpec::new("liar", "1.0.0")
            .manifest("license = \"MIT\"")
            .file("LICENSE", text("GPL-3.0-only"))
            .file("src/lib.rs", &big_lib),
        CrateSpec::new("copyleft", "1.0.0")
            .manifest("license = \"GPL-3.0-only\"")
            .file("COPYING", text("GPL-3.0-only"))
            .file("src/lib.rs", &big_lib),
        CrateSpec::new("tiny", "0.1.0")
            .manifest("license = \"MIT\"")
            .file("LICENSE", &mit())
            .file("src/lib.rs", LIB),
    ];
    for spec in &specs {
        reg.publish_crate(spec);
    }
    let deps: String = specs
        .iter()
        .map(|s| format!("{} = \"{}\"\n", s.name, s.version))
        .collect();
    let ws = Workspace::single(
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
        ),
        &[],
    );
    ws.generate_lockfile(&reg);
    let w = World {
        reg,
        ws,
        cache: tempfile::tempdir().expect("cache"),
        home: tempfile::tempdir().expect("home"),
        db: tempfile::tempdir().expect("db"),
    };
    std::fs::create_dir_all(w.db.path().join("crates")).expect("empty advisory db");
    w
}

impl World {
    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let db = self.db.path().display().to_string();
        let mut all: Vec<&str> = vec!["--now", TODAY, "--color", "never"];
        all.extend_from_slice(args);
        if args.contains(&"check") {
            all.extend_from_slice(&["--advisory-db", &db, "--allow-stale"]);
        }
        let mut cmd = std::process::Command::new(audit_trust_e2e::binary_path("cargo-audit-trust"));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("CARGO_") {
                cmd.env_remove(k);
            }
        }
        let out = cmd
            .env("CARGO_HOME", self.reg.cargo_home())
            .env("HOME", self.home.path())
            .env("no_proxy", "127.0.0.1")
            .env("NO_PROXY", "127.0.0.1")
            .env_remove("GITHUB_ACTIONS")
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

    fn json(&self, args: &[&str], code: i32) -> Value {
        let (status, stdout, stderr) = self.run(args);
        assert_eq!(status, Some(code), "{args:?}\n{stdout}\n{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing from {report}"))
}

fn finding_kinds(row: &Value) -> Vec<String> {
    row["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn licenses_reads_every_case_from_the_crate_files_and_writes_a_notice() {
    let w = world();
    let report = w.json(&["licenses", "--format", "json"], 0);
    assert_eq!(report["packages"], 7, "{report}");

    let dual = row(&report, "dual");
    assert_eq!(dual["expression"], "MIT OR Apache-2.0");
    let detected: Vec<&str> = dual["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .map(|t| t["detected"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(detected, vec!["Apache-2.0", "MIT"]);
    assert!(finding_kinds(dual).is_empty());

    let llvm = row(&report, "llvm");
    assert_eq!(llvm["expression"], "Apache-2.0 WITH LLVM-exception");
    assert_eq!(llvm["licenses"], serde_json::json!(["Apache-2.0"]));

    let fileonly = row(&report, "fileonly");
    assert_eq!(fileonly["expression"], Value::Null);
    assert_eq!(fileonly["license_file"], "COPYRIGHT.txt");
    assert_eq!(fileonly["texts"][0]["kind"], "license-file");
    assert_eq!(fileonly["texts"][0]["detected"], "BSD-3-Clause");

    assert_eq!(finding_kinds(row(&report, "notext")), vec!["no-texts"]);
    let liar = row(&report, "liar");
    assert_eq!(finding_kinds(liar), vec!["mismatch"]);
    assert_eq!(liar["findings"][0]["detected"], "GPL-3.0-only");

    // The micro crate: 11 lines of code, a longer MIT text.
    let tiny = row(&report, "tiny");
    assert_eq!(tiny["code_lines"], 11);
    assert_eq!(tiny["micro"], true);
    assert!(tiny["license_lines"].as_u64().expect("lines") > 11);
    let cost = &report["micro_cost"];
    assert_eq!(cost["micro_packages"], 1);
    assert_eq!(
        cost["license_longer_than_code"],
        serde_json::json!(["tiny@0.1.0"])
    );
    // tiny's MIT text (same copyright line as dual's) is also needed by dual: it adds nothing.
    assert_eq!(cost["micro_only_text_lines"], 0);

    // Filters: only packages naming GPL; only those with findings.
    let gpl = w.json(
        &["licenses", "--format", "json", "--license", "GPL-3.0-only"],
        0,
    );
    let names: Vec<&str> = gpl["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, vec!["copyleft"]);
    let findings = w.json(&["licenses", "--format", "json", "--findings"], 0);
    assert_eq!(findings["packages"], 2);

    // The notice: every text once, each with the packages needing it.
    let notice = w.ws.path().join("THIRD-PARTY.txt");
    let (code, stdout, stderr) = w.run(&["licenses", "--notice", "THIRD-PARTY.txt"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("7 registry packages"), "{stdout}");
    let notice = std::fs::read_to_string(notice).expect("notice written");
    let once = |text: &str| {
        notice
            .matches(text.lines().next().unwrap_or_default())
            .count()
    };
    assert_eq!(once(text("GPL-3.0-only")), 1, "GPL text once");
    assert_eq!(once("Apache-2.0, used by:"), 1, "Apache text once");
    assert_eq!(notice.matches(", used by:").count(), 4, "{notice}");
    assert!(
        notice.contains("MIT, used by:\n  dual@1.0.0\n  tiny@0.1.0\n"),
        "{notice}"
    );
    assert!(notice.contains("GPL-3.0-only, used by:\n  copyleft@1.0.0\n  liar@1.0.0\n"));
    assert!(notice.contains("BSD-3-Clause, used by:\n  fileonly@1.0.0\n"));
}

fn reasons(report: &Value, name: &str) -> Vec<(String, String)> {
    report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing"))["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter(|r| r["code"].as_str().is_some_and(|c| c.starts_with("license")))
        .map(|r| {
            (
                r["code"].as_str().unwrap_or_default().to_owned(),
                r["severity"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn status(report: &Value, name: &str) -> String {
    report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| p["status"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[test]
fn check_enforces_the_license_policy_with_exceptions_that_expire() {
    let w = world();
    let exemptions: String = ["dual", "llvm", "fileonly", "notext", "liar", "copyleft", "tiny"]
        .iter()
        .map(|n| format!("[[exemption]]\npackage = \"{n}\"\nversions = \"*\"\nreason = \"test\"\nexpires = 2027-01-01\n\n"))
        .collect();
    w.ws.write_file(
        "Cargo.audit",
        &format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
             keys = [{{ key = \"{KEY}\" }}]\n\n{exemptions}\
             [licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\nmismatch = \"deny\"\n\n\
             [[licenses.exception]]\npackage = \"fileonly\"\nreason = \"BSD text, legal agreed\"\nexpires = 2027-01-01\n\n\
             [[licenses.exception]]\npackage = \"copyleft@1.0.0\"\nallow = [\"GPL-3.0-only\"]\nreason = \"until we replace it\"\nexpires = 2026-01-01\n"
        ),
    );
    let report = w.json(&["check", "--format", "json"], 1);
    assert_eq!(reasons(&report, "dual"), vec![]);
    assert_eq!(
        reasons(&report, "llvm"),
        vec![],
        "an exception only adds permissions"
    );
    assert_eq!(reasons(&report, "tiny"), vec![]);
    assert_eq!(
        reasons(&report, "fileonly"),
        vec![("license-not-allowed".to_owned(), "info".to_owned())]
    );
    assert_eq!(status(&report, "fileonly"), "exempted");
    assert_eq!(
        reasons(&report, "liar"),
        vec![("license-mismatch".to_owned(), "deny".to_owned())]
    );
    assert_eq!(status(&report, "liar"), "license");
    assert_eq!(
        reasons(&report, "copyleft"),
        vec![("license-not-allowed".to_owned(), "deny".to_owned())]
    );
    let text = report.to_string();
    assert!(text.contains("expired on 2026-01-01"), "{text}");

    // SARIF names the new rules.
    let (code, sarif, _) = w.run(&["check", "--format", "sarif"]);
    assert_eq!(code, Some(1));
    assert!(sarif.contains("license-mismatch") && sarif.contains("license-not-allowed"));

    // A typo never weakens the policy: an unknown key and a misspelt license are errors at
    // their line.
    w.ws.write_file(
        "Cargo.audit",
        "[licenses]\nallow = [\"MIT\"]\nalow = [\"GPL-3.0-only\"]\n",
    );
    let (code, _, stderr) = w.run(&["check"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("Cargo.audit") && stderr.contains(":3:"),
        "{stderr}"
    );
    w.ws.write_file(
        "Cargo.audit",
        "[licenses]\nallow = [\"MIT\",\n  \"Apache2\"]\n",
    );
    let (code, _, stderr) = w.run(&["check"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("Apache2") && stderr.contains(":3:"),
        "{stderr}"
    );
}

fn property<'a>(component: &'a Value, name: &str) -> Vec<&'a str> {
    component["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .filter(|p| p["name"] == name)
        .filter_map(|p| p["value"].as_str())
        .collect()
}

/// The parts of the CycloneDX 1.5 JSON schema (bom-1.5.schema.json) this document uses: the
/// required top-level fields, each component's required fields and enums, the hash and license
/// shapes, and a dependency graph whose every reference is a component.
fn assert_cyclonedx_1_5_shape(bom: &Value) {
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    let serial = bom["serialNumber"].as_str().expect("serialNumber");
    let uuid = serial.strip_prefix("urn:uuid:").expect("urn:uuid:");
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, vec![8, 4, 4, 4, 12], "{serial}");
    assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    assert!(bom["version"].as_u64().is_some_and(|v| v >= 1));
    assert!(
        bom["metadata"]["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let components = bom["components"].as_array().expect("components");
    let mut refs = std::collections::BTreeSet::new();
    for c in components {
        let types = [
            "application",
            "framework",
            "library",
            "container",
            "platform",
            "operating-system",
            "device",
            "device-driver",
            "firmware",
            "file",
            "machine-learning-model",
            "data",
        ];
        assert!(
            types.contains(&c["type"].as_str().unwrap_or_default()),
            "{c}"
        );
        assert!(c["name"].is_string(), "{c}");
        assert!(
            refs.insert(c["bom-ref"].as_str().expect("bom-ref").to_owned()),
            "bom-ref unique"
        );
        if let Some(scope) = c.get("scope") {
            assert!(
                ["required", "optional", "excluded"].contains(&scope.as_str().unwrap_or_default())
            );
        }
        for h in c["hashes"].as_array().into_iter().flatten() {
            assert_eq!(h["alg"], "SHA-256");
            let content = h["content"].as_str().expect("content");
            assert!(content.len() == 64 && content.chars().all(|c| c.is_ascii_hexdigit()));
        }
        let licenses = c["licenses"]
            .as_array()
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        // Either exactly one expression, or license objects with an id or a name.
        if licenses.iter().any(|l| l.get("expression").is_some()) {
            assert_eq!(licenses.len(), 1, "{c}");
        } else {
            for l in &licenses {
                assert!(
                    l["license"]["id"].is_string() || l["license"]["name"].is_string(),
                    "{c}"
                );
            }
        }
        for p in c["properties"].as_array().into_iter().flatten() {
            assert!(
                p["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("audit-trust:")),
                "{p}"
            );
            assert!(p["value"].is_string(), "{p}");
        }
    }
    for d in bom["dependencies"].as_array().expect("dependencies") {
        assert!(refs.contains(d["ref"].as_str().expect("ref")), "{d}");
        for on in d["dependsOn"].as_array().expect("dependsOn") {
            assert!(refs.contains(on.as_str().expect("ref")), "{on}");
        }
    }
}

#[test]
fn sbom_carries_licenses_and_who_audited_what() {
    let w = world();
    let key = w.home.path().join("key").display().to_string();
    let db = w.db.path().display().to_string();
    let run = |args: &[&str]| {
        let (code, stdout, stderr) = w.run(args);
        assert_eq!(code, Some(0), "{args:?}\n{stdout}\n{stderr}");
    };
    run(&["key", "new", "--out", &key]);
    run(&["init", "--key", &key, "--exempt-days", "30"]);
    run(&[
        "sign",
        "dual",
        "1.0.0",
        "--criteria",
        "reviewed",
        "--key",
        &key,
    ]);
    run(&["sbom", "--advisory-db", &db, "--output", "bom.json"]);
    let bom: Value = serde_json::from_str(&w.ws.read_file("bom.json")).expect("JSON");
    assert_cyclonedx_1_5_shape(&bom);

    let component = |name: &str| {
        bom["components"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .clone()
    };
    let dual = component("dual");
    assert_eq!(dual["purl"], "pkg:cargo/dual@1.0.0");
    assert_eq!(dual["licenses"][0]["expression"], "MIT OR Apache-2.0");
    let detected: Vec<&str> = dual["evidence"]["licenses"]
        .as_array()
        .expect("detected")
        .iter()
        .filter_map(|l| l["license"]["id"].as_str())
        .collect();
    assert_eq!(detected, vec!["Apache-2.0", "MIT"]);
    assert_eq!(property(&dual, "audit-trust:status"), vec!["audited"]);
    assert_eq!(property(&dual, "audit-trust:evidence:audited").len(), 1);
    assert!(property(&dual, "audit-trust:evidence:audited:details")[0].contains("reviewed"));
    assert_eq!(property(&dual, "audit-trust:class:micro"), vec!["false"]);

    let tiny = component("tiny");
    assert_eq!(property(&tiny, "audit-trust:status"), vec!["exempted"]);
    assert_eq!(property(&tiny, "audit-trust:evidence:exempted").len(), 1);
    assert_eq!(property(&tiny, "audit-trust:class:micro"), vec!["true"]);
    let checksum =
        w.ws.locked_packages()
            .into_iter()
            .find(|p| p.name == "tiny")
            .and_then(|p| p.checksum)
            .expect("checksum");
    assert_eq!(tiny["hashes"][0]["content"], checksum.as_str());

    let liar = component("liar");
    assert!(property(&liar, "audit-trust:license:finding")[0].contains("GPL-3.0-only"));
    let fileonly = component("fileonly");
    assert!(fileonly.get("licenses").is_none(), "no declared expression");
    assert_eq!(
        fileonly["evidence"]["licenses"][0]["license"]["id"],
        "BSD-3-Clause"
    );

    // The graph: the app depends on all seven.
    let app = bom["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .find(|d| d["ref"] == "path:app@0.1.0")
        .expect("app in the graph");
    assert_eq!(app["dependsOn"].as_array().map(Vec::len), Some(7));
}
