//! `sign --criteria source-matches` through the provenance engine: crates packaged by the real
//! cargo from real git repositories. Evidence is recorded only for a match against a pinned or
//! signed-off repository; later versions are held to the signed-off one, so a hijacked release
//! from a look-alike repository is refused even though it matches its own repository. The gate
//! then admits the locked version on that sign-off.

use audit_trust_e2e::{GitRepo, LocalRegistry, Workspace, status_of};
use serde_json::Value;

use crate::gate::advisory_db;
use crate::world::{CRITERIA, World, path_arg};

const GENUINE: &str = "https://git.example/popular/popular";
const LOOKALIKE: &str = "https://git.example/attacker/popular";

fn release(reg: &LocalRegistry, repo: &GitRepo, version: &str, repository: &str, body: &str) {
    repo.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"popular\"\nversion = \"{version}\"\nedition = \"2021\"\n\
             description = \"a popular crate\"\nlicense = \"MIT\"\nrepository = \"{repository}\"\n"
        ),
    );
    repo.write("src/lib.rs", body);
    repo.commit_all(&format!("release {version}"));
    reg.publish_manifest(&repo.path().join("Cargo.toml"), &[]);
}

/// The `source` evidence of the last record in popular's crate file.
fn last_evidence(w: &World) -> Value {
    let text = std::fs::read_to_string(w.store().join("crates/popular.jsonl")).expect("store");
    let last = text.lines().last().expect("a record");
    serde_json::from_str::<Value>(last).expect("JSON")["source"].clone()
}

#[test]
fn source_matches_is_signed_only_against_a_pinned_or_signed_off_repository() {
    let reg = LocalRegistry::start();
    let (genuine, lookalike) = (GitRepo::init(), GitRepo::init());
    release(
        &reg,
        &genuine,
        "1.0.0",
        GENUINE,
        "pub fn answer() -> u32 {\n    42\n}\n",
    );
    let v100_commit = genuine.head();
    release(
        &reg,
        &genuine,
        "1.1.0",
        GENUINE,
        "pub fn answer() -> u32 {\n    6 * 7\n}\n",
    );
    let v110_commit = genuine.head();
    // The hijack: the attacker's repository matches its own release exactly.
    release(
        &reg,
        &lookalike,
        "1.2.0",
        LOOKALIKE,
        "pub fn answer() -> u32 {\n    0\n}\n",
    );
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\npopular = \"=1.1.0\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    let w = World::of(reg, ws);
    let (key, public) = w.new_key("team.key");
    let key = path_arg(&key);
    let audit_file = |pin: bool| {
        let sources = if pin {
            format!("[sources]\npopular = \"{GENUINE}\"\n\n")
        } else {
            String::new()
        };
        w.ws.write_file(
            "Cargo.audit",
            &format!(
                "[policy]\ncriteria = [\"source-matches\"]\n\n{sources}[url-rewrite]\n\"{GENUINE}\" = \"{}\"\n\"{LOOKALIKE}\" = \"{}\"\n\n{CRITERIA}\
                 [[auditor]]\nname = \"team\"\ncovers = [\"popular\"]\n\
                 records = {{ folder = \"supply-chain/sign-offs\" }}\nkeys = [{{ key = \"{public}\" }}]\n",
                genuine.url(),
                lookalike.url()
            ),
        );
    };

    // No pin, no earlier sign-off: a repository the crate merely claims is not evidence.
    audit_file(false);
    let err = w.fails(&[
        "sign",
        "popular",
        "1.0.0",
        "--criteria",
        "source-matches",
        "--key",
        key,
    ]);
    assert!(err.contains("cannot sign source-matches"), "{err}");
    assert!(err.contains("only because the crate names it"), "{err}");
    assert!(
        !w.store().join("crates/popular.jsonl").exists(),
        "nothing was written"
    );

    // Pinned: matches, and the evidence says so.
    audit_file(true);
    w.ok(&[
        "sign",
        "popular",
        "1.0.0",
        "--criteria",
        "source-matches,reviewed",
        "--key",
        key,
    ]);
    let evidence = last_evidence(&w);
    assert_eq!(evidence["repository"], GENUINE);
    assert_eq!(evidence["commit"], v100_commit.as_str());
    assert_eq!(evidence["verdict"], "matches");
    assert_eq!(evidence["repository-trust"], "pinned");

    // The pin is gone, but the earlier sign-off recorded the repository: 1.1.0 is checked
    // against it.
    audit_file(false);
    w.ok(&[
        "sign",
        "popular",
        "1.1.0",
        "--criteria",
        "source-matches",
        "--key",
        key,
    ]);
    let evidence = last_evidence(&w);
    assert_eq!(evidence["repository"], GENUINE);
    assert_eq!(evidence["commit"], v110_commit.as_str());
    assert_eq!(evidence["repository-trust"], "signed-off");

    // 1.2.0 claims the look-alike repository, which disagrees with the signed-off one.
    let err = w.fails(&[
        "sign",
        "popular",
        "1.2.0",
        "--criteria",
        "source-matches",
        "--key",
        key,
    ]);
    assert!(err.contains("cannot sign source-matches"), "{err}");
    assert!(err.contains("unverifiable"), "{err}");
    let q = w.query(&["popular"]);
    assert_eq!(q["records"].as_array().map(Vec::len), Some(2), "{q}");

    // The gate admits the locked 1.1.0 on its source-matches sign-off (the policy asks for just
    // that criterion).
    let db = advisory_db(&w);
    let (code, report) = w.check_json(&["--advisory-db", &db]);
    assert_eq!(status_of(&report, "popular"), "audited", "{report}");
    assert_eq!(code, Some(0), "{report}");
}
