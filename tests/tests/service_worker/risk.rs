//! The automatic auditor's risk rule, end to end: a release that matches its pinned repository
//! but newly depends on a look-alike whose build script spawns a process (the arrayref
//! hijack's payload, served by the loopback registry) is not signed, and its verification says
//! which signals stopped it; the ordinary release before it is signed as always.

use audit_trust_e2e::hijack::{OLD_PUBTIME, publish_look_alike};
use serde_json::Value;

use crate::support::{GENUINE, Server, release};
use crate::{verified_signoffs, world};

/// The codes of `field` (`signals` or `denied.signals`) in a verification's risk report.
fn codes(verification: &Value, denied: bool) -> Vec<String> {
    let risk = &verification["report"]["risk"];
    let list = if denied {
        &risk["denied"]["signals"]
    } else {
        &risk["signals"]
    };
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let code = if denied { s } else { &s["code"] };
                    code.as_str().unwrap_or_default().to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_release_whose_new_dependency_spawns_a_process_is_not_signed_and_says_why() {
    let w = world();
    // The look-alike exists before the ordinary release, as on a real index.
    publish_look_alike(&w.reg, OLD_PUBTIME);
    let ordinary = release(&w.repo, &w.reg, "1.0.0");
    w.reg
        .set_pubtime(&ordinary.name, &ordinary.version, OLD_PUBTIME);
    let server = Server::start(&w.config);
    let token = crate::support::admin_token(&w.config.db);
    server.watch(&token, "popular", GENUINE);

    // The ordinary release is signed; its signals are reported with it, none denied.
    let first = server.wait_verification("popular", "1.0.0");
    assert_eq!(
        (&first["verdict"], &first["signed"]),
        (&Value::from("matches"), &Value::from(true)),
        "{first}"
    );
    assert!(first["report"]["risk"].is_object(), "{first}");
    assert!(codes(&first, true).is_empty(), "{first}");

    // The hijacked release: pushed to the repository too, so its source matches, and only the
    // risk rule stands between it and a signature.
    w.repo.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"popular\"\nversion = \"1.0.1\"\nedition = \"2021\"\n\
             license = \"MIT\"\nrepository = \"{GENUINE}\"\n\n[dependencies]\nproc-macro1 = \"0.1\"\n"
        ),
    );
    w.repo.commit_all("release 1.0.1");
    let hijacked = w
        .reg
        .publish_manifest(&w.repo.path().join("Cargo.toml"), &[]);
    assert_eq!(hijacked.version, "1.0.1");
    let second = server.wait_verification("popular", "1.0.1");
    assert_eq!(second["verdict"], "matches", "{second}");
    assert_eq!(second["signed"], false, "{second}");
    let denied = codes(&second, true);
    for code in ["typosquat", "build-script-spawns", "build-script-network"] {
        assert!(denied.contains(&code.to_owned()), "{code}: {second}");
    }
    let reason = second["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("not signed: the worker's [risk] policy denies"),
        "{reason}"
    );
    assert!(
        reason.contains(
            "[typosquat] new dependency `proc-macro1` is one edit away from `proc-macro2`"
        ),
        "{reason}"
    );
    assert!(reason.contains("[build-script-spawns]"), "{reason}");
    // The evidence: the real call in the look-alike's build script, at its line.
    let spawn = second["report"]["risk"]["signals"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["code"] == "build-script-spawns"))
        .cloned()
        .unwrap_or_else(|| panic!("no spawn signal: {second}"));
    let at: Vec<(String, u64)> = spawn["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                format!(
                    "{}/{}",
                    e["package"].as_str().unwrap_or_default(),
                    e["file"].as_str().unwrap_or_default()
                ),
                e["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        at.contains(&("proc-macro1@0.1.0/build.rs".to_owned(), 8)),
        "{at:?}"
    );
    assert_eq!(second["report"]["risk"]["base"], "1.0.0", "{second}");
    // Nothing signed for it, and the ordinary one still has its one sign-off.
    assert!(verified_signoffs(&server, &w.public_key, "1.0.1").is_empty());
    assert_eq!(verified_signoffs(&server, &w.public_key, "1.0.0").len(), 1);
    assert!(
        codes(&second, false).contains(&"new-dependency".to_owned()),
        "{second}"
    );

    // `query` shows what the registry reports of the version, signals and evidence included.
    let audit = w.dir.path().join("Cargo.audit");
    std::fs::write(
        &audit,
        format!(
            "[[auditor]]\nname = \"service\"\ncovers = [\"popular\"]\n\
             records = {{ registry = \"{}\" }}\nkeys = [{{ key = \"{}\" }}]\n",
            server.url, w.public_key
        ),
    )
    .expect("write Cargo.audit");
    let query = |format: &str| {
        let out = audit_trust_e2e::cli_command(&w.dir.path().join("cargo-home"))
            .env("HOME", w.dir.path())
            .current_dir(w.dir.path())
            .args([
                "query",
                "popular",
                "1.0.1",
                "--format",
                format,
                "--audit-file",
            ])
            .arg(&audit)
            .output()
            .expect("run query");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let json: Value = serde_json::from_str(&query("json")).expect("query JSON");
    let reported = &json["registry_risk"];
    assert_eq!(reported.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(reported[0]["version"], "1.0.1", "{json}");
    assert_eq!(reported[0]["signed"], false, "{json}");
    let denied = reported[0]["risk"]["denied"]["signals"].to_string();
    assert!(denied.contains("build-script-spawns"), "{json}");
    let human = query("human");
    assert!(
        human.contains("Reported by the registry's automatic auditor"),
        "{human}"
    );
    assert!(human.contains("1.0.1  matches, not signed"), "{human}");
    assert!(
        human.contains("[build-script-spawns]") && human.contains("proc-macro1@0.1.0 build.rs:8"),
        "{human}"
    );
    assert!(human.contains("(high, denied)"), "{human}");
}
