//! End to end: the registry's automatic auditor as real `audit-registry serve --worker`
//! processes. The index is a [`LocalRegistry`] on loopback (configured as a mirror), the
//! repository a real git repository reached through `--git-rewrite` (the crate and the watch list
//! name `https://git.example/…`, which does not exist: nothing leaves the machine).
//!
//! - a new version that matches its pinned repository gets exactly one `source-matches` sign-off,
//!   readable and verifiable; the next one is signed through the repository that sign-off
//!   recorded;
//! - a tampered version gets a recorded `differs` with its report and no sign-off;
//! - an unreachable index is polled again with growing failures, then works when it is back;
//! - a worker killed mid-job leaves the job to be done exactly once after its lease;
//! - a release whose new dependency's build script spawns a process is not signed, and says
//!   which risk signal stopped it (`risk.rs`);
//! - two instances on one PostgreSQL database share the queue (skipped without
//!   `AUDIT_REGISTRY_TEST_POSTGRES`).

mod risk;
mod support;

use std::collections::BTreeSet;

use audit_trust_core::signoff::{RecordId, SignedHead, SignedRecord, Statement};
use audit_trust_e2e::{GitRepo, LocalRegistry};
use serde_json::Value;
use support::{GENUINE, Server, ServerConfig, SwitchProxy, release, tamper, wait_for};

pub(crate) struct World {
    reg: LocalRegistry,
    repo: GitRepo,
    dir: tempfile::TempDir,
    public_key: String,
    config: ServerConfig,
}

pub(crate) fn world() -> World {
    let reg = LocalRegistry::start();
    let repo = GitRepo::init();
    let dir = tempfile::tempdir().expect("temp dir");
    let (key, public_key) = support::new_key(dir.path());
    let config = ServerConfig {
        db: format!("sqlite://{}", dir.path().join("registry.db").display()),
        key,
        index_url: reg.index_url(),
        mirrors: vec![format!("127.0.0.1:{}", reg.server().port())],
        rewrite: format!("{GENUINE}={}", repo.url()),
        git_cache: dir.path().join("git-cache"),
        hold_job_secs: 0,
        lease_secs: 60,
    };
    World {
        reg,
        repo,
        dir,
        public_key,
        config,
    }
}

/// Checks every record against its signature and the service key's head as served by sync, and
/// returns the `source-matches` sign-offs of `version` by `key`.
pub(crate) fn verified_signoffs(server: &Server, key: &str, version: &str) -> Vec<SignedRecord> {
    let (status, sync) = support::request(
        &server.url,
        "POST",
        "/v1/sync",
        None,
        Some(&serde_json::json!({ "keys": { key: 0 } })),
    );
    assert_eq!(status, 200, "{sync}");
    let log = &sync["logs"][key];
    let head = SignedHead::from_json(&log["head"].to_string()).expect("a valid signed head");
    let records: Vec<SignedRecord> = log["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| SignedRecord::from_json_line(&r.to_string()).expect("a valid signed record"))
        .collect();
    let ids: BTreeSet<RecordId> = records.iter().map(SignedRecord::id).collect();
    head.check_records(&ids)
        .expect("the head covers exactly the records");
    records
        .into_iter()
        .filter(|r| match &r.record().statement {
            Statement::SignOff {
                subject, source, ..
            } => subject.version().to_string() == version && source.is_some(),
            _ => false,
        })
        .collect()
}

#[test]
fn a_matching_release_is_signed_once_and_a_tampered_one_is_recorded() {
    let w = world();
    release(&w.repo, &w.reg, "0.9.0");
    release(&w.repo, &w.reg, "1.0.0");
    let server = Server::start(&w.config);
    let token = support::admin_token(&w.config.db);
    server.watch(&token, "popular", GENUINE);

    // The newest version at the first poll is audited against the pinned repository; older
    // ones are only filed as known.
    let first = server.wait_verification("popular", "1.0.0");
    let (_, jobs) = server.get("/v1/admin/jobs?crate=popular", Some(&token));
    let states: Vec<(String, String)> = jobs["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| (j["version"].to_string(), j["state"].to_string()))
        .collect();
    assert!(
        states.contains(&("\"0.9.0\"".into(), "\"baseline\"".into())),
        "{jobs}"
    );
    assert_eq!(first["verdict"], "matches", "{first}");
    assert_eq!(first["signed"], true, "{first}");
    let signed = verified_signoffs(&server, &w.public_key, "1.0.0");
    assert_eq!(signed.len(), 1, "exactly one sign-off");
    let line = signed[0].to_json_line();
    assert!(
        line.contains(GENUINE) && line.contains("\"pinned\""),
        "{line}"
    );
    assert!(line.contains(&w.repo.head()), "the release commit: {line}");
    assert_eq!(server.records("popular").len(), 1);
    // Polls are conditional: an unchanged index file costs a 304.
    let index_file = LocalRegistry::index_file_path("popular");
    wait_for("a revalidated poll", || {
        w.reg
            .requests()
            .iter()
            .any(|r| r.path == index_file && r.status == 304)
            .then_some(())
    });

    // The next release, with the pin removed: checked against the repository the 1.0.0
    // sign-off recorded.
    let (status, body) = support::request(
        &server.url,
        "DELETE",
        "/v1/admin/watch/popular",
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.post(
        "/v1/admin/watch",
        &token,
        &serde_json::json!({ "crates": ["popular"] }),
    );
    assert_eq!(status, 200, "{body}");
    release(&w.repo, &w.reg, "1.1.0");
    let second = server.wait_verification("popular", "1.1.0");
    assert_eq!(second["signed"], true, "{second}");
    let signed = verified_signoffs(&server, &w.public_key, "1.1.0");
    assert_eq!(signed.len(), 1);
    assert!(signed[0].to_json_line().contains("\"signed-off\""));

    // A tampered upload: the index checksum matches the bytes, the bytes do not match git.
    let published = release(&w.repo, &w.reg, "1.2.0");
    tamper(&w.reg, &published);
    let third = server.wait_verification("popular", "1.2.0");
    assert_eq!(third["verdict"], "differs", "{third}");
    assert_eq!(third["signed"], false, "{third}");
    let differing: Vec<&Value> = third["report"]["files"]
        .as_array()
        .expect("the full report")
        .iter()
        .filter(|f| f["path"] == "src/lib.rs")
        .collect();
    assert_eq!(differing.len(), 1, "{third}");
    assert_ne!(differing[0]["status"], "same", "{third}");
    assert!(verified_signoffs(&server, &w.public_key, "1.2.0").is_empty());
    assert_eq!(
        server.records("popular").len(),
        2,
        "nothing signed for 1.2.0"
    );
    // People see it on the dashboard (from the `verification-failed` event).
    let (status, page) = support::request_text(&server.url, "GET", "/crates/popular", None, None);
    assert_eq!(status, 200);
    assert!(page.contains("1.2.0") && page.contains("differs"), "{page}");
    // What the worker read of each .crate reaches the crate's summary: sizes, provenance,
    // and risk signals against the previous version it read.
    let (status, summary) = server.get("/v1/crates/popular/summary", None);
    assert_eq!(status, 200, "{summary}");
    let risk = summary["risk"].as_array().expect("risk");
    let versions: Vec<&str> = risk.iter().filter_map(|r| r["version"].as_str()).collect();
    assert_eq!(versions, ["1.2.0", "1.1.0", "1.0.0"], "{summary}");
    assert_eq!(risk[0]["base"], "1.1.0", "{summary}");
    assert_eq!(risk[2]["base"], Value::Null, "{summary}");
    assert_eq!(summary["provenance"].as_array().map(Vec::len), Some(3));
    let (_, page) = support::request_text(&server.url, "GET", "/crates/popular", None, None);
    assert!(page.contains("<section id=\"risk\">"), "{page}");
    let (_, metrics) = support::request_text(&server.url, "GET", "/metrics", None, None);
    assert!(
        metrics.contains("audit_registry_worker_signoffs_total 2\n")
            && metrics.contains("audit_registry_worker_not_signed_total 1\n"),
        "{metrics}"
    );
}

#[test]
fn an_unreachable_index_is_polled_again_until_it_answers() {
    let mut w = world();
    release(&w.repo, &w.reg, "1.0.0");
    let proxy = SwitchProxy::start(w.reg.server().addr(), false);
    w.config.index_url = format!("sparse+http://127.0.0.1:{}/index/", proxy.port);
    w.config.mirrors.push(format!("127.0.0.1:{}", proxy.port));
    let server = Server::start(&w.config);
    let token = support::admin_token(&w.config.db);
    server.watch(&token, "popular", GENUINE);

    let failures = wait_for("two failed polls", || {
        let (_, body) = server.get("/v1/watch", None);
        let entry = body["crates"][0].clone();
        (entry["poll_failures"].as_i64()? >= 2).then_some(entry)
    });
    assert!(
        failures["last_poll_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{failures}"
    );
    let (_, verifications) = server.get("/v1/verifications/popular", None);
    assert_eq!(verifications["verifications"], serde_json::json!([]));

    proxy.set_up(true);
    let found = server.wait_verification("popular", "1.0.0");
    assert_eq!(found["signed"], true, "{found}");
    let (_, body) = server.get("/v1/watch", None);
    assert_eq!(body["crates"][0]["poll_failures"], 0, "{body}");
    assert_eq!(verified_signoffs(&server, &w.public_key, "1.0.0").len(), 1);

    // A download that fails is a job retried with backoff, then done once it works.
    let published = release(&w.repo, &w.reg, "1.1.0");
    let path = LocalRegistry::download_path("popular", "1.1.0");
    w.reg.server().remove(&path);
    let token = audit_trust_e2e::admin_token(&w.config.db, "tests-2");
    let failing = wait_for("two failed attempts", || {
        let (_, body) = server.get("/v1/admin/jobs?crate=popular", Some(&token));
        body["jobs"]
            .as_array()?
            .iter()
            .find(|j| j["version"] == "1.1.0" && j["attempts"].as_i64() >= Some(2))
            .cloned()
    });
    assert!(
        failing["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("404")),
        "{failing}"
    );
    w.reg.replace_file(&path, published.crate_bytes);
    let found = server.wait_verification("popular", "1.1.0");
    assert_eq!(found["signed"], true, "{found}");
    assert_eq!(verified_signoffs(&server, &w.public_key, "1.1.0").len(), 1);
}

#[test]
fn a_worker_killed_mid_job_leaves_the_job_done_exactly_once() {
    let mut w = world();
    release(&w.repo, &w.reg, "1.0.0");
    w.config.hold_job_secs = 600;
    w.config.lease_secs = 3;
    let doomed = Server::start(&w.config);
    let token = support::admin_token(&w.config.db);
    doomed.watch(&token, "popular", GENUINE);
    let claimed = wait_for("the job to be claimed", || {
        let (_, body) = doomed.get("/v1/admin/jobs?crate=popular", Some(&token));
        body["jobs"]
            .as_array()?
            .iter()
            .find(|j| j["state"] == "running")
            .cloned()
    });
    assert_eq!(claimed["attempts"], 1, "{claimed}");
    doomed.kill(); // SIGKILL, mid-job

    w.config.hold_job_secs = 0;
    let server = Server::start(&w.config);
    let found = server.wait_verification("popular", "1.0.0");
    assert_eq!(found["signed"], true, "{found}");
    // The verification is recorded just before the job is marked done: wait for both.
    let job = wait_for("the job to be done", || {
        let (_, body) = server.get("/v1/admin/jobs?crate=popular", Some(&token));
        let job = body["jobs"][0].clone();
        (job["state"] == "done").then_some(job)
    });
    assert_eq!(job["attempts"], 2, "claimed again after the lease: {job}");
    assert_eq!(verified_signoffs(&server, &w.public_key, "1.0.0").len(), 1);
    let _ = &w.dir;
}

/// Drops the `worker_<pid>_…` schemas of test runs whose process has ended.
fn drop_schemas_of_finished_runs(base: &str) {
    let Ok(out) = std::process::Command::new("psql")
        .arg(base)
        .args([
            "-Atc",
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'worker\\_%'",
        ])
        .output()
    else {
        return;
    };
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        let pid = name.split('_').nth(1).unwrap_or("");
        let valid = !pid.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::process::Command::new("psql")
                .arg(base)
                .args(["-q", "-c", &format!("DROP SCHEMA IF EXISTS {name} CASCADE")])
                .output();
        }
    }
}

/// A fresh schema in the PostgreSQL test database, through `psql`.
fn postgres_schema(base: &str) -> Option<String> {
    drop_schemas_of_finished_runs(base);
    let schema = format!(
        "worker_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let status = std::process::Command::new("psql")
        .arg(base)
        .args(["-q", "-c", &format!("CREATE SCHEMA {schema}")])
        .status()
        .ok()?;
    assert!(status.success(), "psql could not create a schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(format!(
        "{base}{separator}options=-c%20search_path%3D{schema}"
    ))
}

#[test]
fn two_instances_on_one_postgres_database_share_the_queue() {
    let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") else {
        eprintln!(
            "skipped: set AUDIT_REGISTRY_TEST_POSTGRES=postgres://… to run the scale-out test"
        );
        return;
    };
    let Some(db) = postgres_schema(&base) else {
        eprintln!("skipped: `psql` is not installed");
        return;
    };
    let mut w = world();
    w.config.db = db;
    release(&w.repo, &w.reg, "1.0.0");
    let one = Server::start(&w.config);
    let mut second_config = w.config.clone();
    second_config.git_cache = w.dir.path().join("git-cache-2");
    let two = Server::start(&second_config);
    let token = support::admin_token(&w.config.db);
    // Written through one instance…
    one.watch(&token, "popular", GENUINE);
    // …read through the other.
    let (_, listed) = two.get("/v1/watch", None);
    assert_eq!(listed["crates"][0]["name"], "popular", "{listed}");
    two.wait_verification("popular", "1.0.0");
    let versions = ["1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"];
    for version in versions {
        release(&w.repo, &w.reg, version);
    }
    for version in versions {
        let found = one.wait_verification("popular", version);
        assert_eq!(found["signed"], true, "{found}");
    }
    for version in std::iter::once("1.0.0").chain(versions) {
        assert_eq!(
            verified_signoffs(&two, &w.public_key, version).len(),
            1,
            "{version} signed exactly once"
        );
    }
    assert_eq!(one.records("popular").len(), 6);
    // Both instances did work (or at least both ran their loops without duplicating any).
    // Each version's job ends done (once: the sign-offs above are one per version).
    wait_for("every job to be done", || {
        let (_, jobs) = one.get("/v1/admin/jobs?crate=popular", Some(&token));
        let all = jobs["jobs"].as_array()?.clone();
        (all.len() == 6 && all.iter().all(|j| j["state"] == "done")).then_some(())
    });
}

#[test]
fn watch_sends_the_lockfiles_crates_io_packages_with_the_token_from_the_environment() {
    let w = world();
    release(&w.repo, &w.reg, "1.0.0");
    let ws = audit_trust_e2e::Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\npopular = \"1\"\n",
        &[("src/main.rs", "fn main() {}\n")],
    );
    ws.generate_lockfile(&w.reg);
    let server = Server::start(&w.config);
    let token = support::admin_token(&w.config.db);
    let run = |token: Option<&str>| {
        let mut cmd = audit_trust_e2e::cli_command(w.reg.cargo_home());
        cmd.current_dir(ws.path())
            .args(["watch", "--registry", &server.url]);
        if let Some(token) = token {
            cmd.env("AUDIT_REGISTRY_TOKEN", token);
        }
        cmd.output().expect("run cargo-audit-trust watch")
    };
    let missing = run(None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("AUDIT_REGISTRY_TOKEN"));
    let refused = run(Some("atr_not-a-token"));
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refused the token"));
    let (_, listed) = server.get("/v1/watch", None);
    assert_eq!(listed["crates"], serde_json::json!([]), "nothing added yet");

    let done = run(Some(&token));
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let (_, listed) = server.get("/v1/watch", None);
    let names: Vec<&str> = listed["crates"]
        .as_array()
        .expect("crates")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    // The workspace member is not a registry package; only `popular` is sent.
    assert_eq!(names, ["popular"], "{listed}");
    assert_eq!(listed["crates"][0]["added_by"], "tests");
}

#[test]
fn watching_a_lockfile_audits_its_versions_now_even_those_filed_as_baseline() {
    let w = world();
    release(&w.repo, &w.reg, "0.9.0");
    release(&w.repo, &w.reg, "1.0.0");
    let server = Server::start(&w.config);
    let token = support::admin_token(&w.config.db);
    server.watch(&token, "popular", GENUINE);
    // The first poll audits the newest version and files 0.9.0 as known, never audited.
    server.wait_verification("popular", "1.0.0");
    let job_state = |version: &str| {
        let (_, jobs) = server.get("/v1/admin/jobs?crate=popular", Some(&token));
        jobs["jobs"]
            .as_array()
            .and_then(|j| j.iter().find(|j| j["version"] == version))
            .map(|j| j["state"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(job_state("0.9.0").as_deref(), Some("baseline"));

    // A project locks the older 0.9.0: watching its lockfile audits that version now.
    let ws = audit_trust_e2e::Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\npopular = \"=0.9.0\"\n",
        &[("src/main.rs", "fn main() {}\n")],
    );
    ws.generate_lockfile(&w.reg);
    let lockfile = ws.lockfile_path();
    let out = audit_trust_e2e::cli_command(w.reg.cargo_home())
        .env("AUDIT_REGISTRY_TOKEN", &token)
        .args([
            "watch",
            "--registry",
            &server.url,
            "--format",
            "json",
            "--lockfile",
        ])
        .arg(&lockfile)
        .output()
        .expect("run cargo-audit-trust watch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(answer["backfill_sent"], 1, "{answer}");
    assert_eq!(answer["backfill_requested"], 1, "{answer}");
    assert_eq!(answer["already_watched"], 1, "{answer}");

    let old = server.wait_verification("popular", "0.9.0");
    assert_eq!(old["verdict"], "matches", "{old}");
    assert_eq!(old["signed"], true, "{old}");
    assert_eq!(verified_signoffs(&server, &w.public_key, "0.9.0").len(), 1);
    // The pin was kept (a bare name with versions does not remove it).
    let (_, listed) = server.get("/v1/watch", None);
    assert_eq!(listed["crates"][0]["repository"], GENUINE, "{listed}");
    wait_for("the backfilled job to be done", || {
        (job_state("0.9.0").as_deref() == Some("done")).then_some(())
    });
    // Asking again changes nothing: the version was audited.
    let (status, body) = server.post(
        "/v1/admin/watch",
        &token,
        &serde_json::json!({ "crates": [{ "name": "popular", "versions": ["0.9.0"] }] }),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.post(
        "/v1/admin/watch",
        &token,
        &serde_json::json!({ "crates": [{ "name": "popular", "versions": ["not-semver"] }] }),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad-version", "{body}");
}
