//! The gate reads a registry per crate when `Cargo.audit` pins the registry's transparency log
//! (`log-origin`, `log-key`): one `POST /v1/crates` for the lockfile's crates, every proof
//! verified, and the checkpoint remembered in the cache folder. A real `audit-registry` process
//! serves on loopback, on SQLite and (with `AUDIT_REGISTRY_TEST_POSTGRES`) on PostgreSQL.
//!
//! What a registry running our own code cannot do — withhold a record, serve a wrong proof,
//! replay an old answer to a fresh cache — is played by the only fake here: a static server
//! answering `POST /v1/crates` with a doctored copy of what the real registry answered. The
//! cosignatures in these doctored answers (missing, too few, too old, or colluding) are made by
//! this test with witness keys of its own; `witnesses.rs` runs real witness processes.

use std::path::{Path, PathBuf};
use std::process::Command;

use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::SigningKey;
use audit_trust_core::time::Timestamp;
use audit_trust_core::tlog::{NoteKey, SignedNote, with_cosignatures};
use audit_trust_e2e::{RegistryProcess, StaticServer, sqlite_url};
use serde_json::{Value, json};

use crate::gate::advisory_db;
use crate::registry::copy_database;
use crate::world::{NOW, World, path_arg, world};

/// Where the registry keeps its records and its log.
enum Db {
    Sqlite(PathBuf),
    /// A PostgreSQL URL whose `search_path` is a schema of this test's own, dropped at the end.
    Postgres {
        url: String,
        base: String,
        schema: String,
    },
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => sqlite_url(path),
            Db::Postgres { url, .. } => url.clone(),
        }
    }

    fn serve(&self) -> RegistryProcess {
        RegistryProcess::serve(&self.url(), &["--now", NOW])
    }

    fn serve_at(&self, url: &str) -> RegistryProcess {
        RegistryProcess::serve_at(url, &self.url(), &["--now", NOW])
    }

    fn admin(&self, args: &[&str]) {
        audit_trust_e2e::registry_admin(&self.url(), args);
    }

    /// A fresh schema in the PostgreSQL test database, or `None` (with why) to skip.
    fn postgres() -> Option<Db> {
        let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") else {
            eprintln!(
                "skipped: set AUDIT_REGISTRY_TEST_POSTGRES=postgres://… to run on PostgreSQL"
            );
            return None;
        };
        let schema = format!("percrate_{}", std::process::id());
        let created = Command::new("psql")
            .arg(&base)
            .args([
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
            ])
            .output()
            .is_ok_and(|out| out.status.success());
        if !created {
            eprintln!("skipped: `psql` could not create a schema in {base}");
            return None;
        }
        let separator = if base.contains('?') { '&' } else { '?' };
        Some(Db::Postgres {
            url: format!("{base}{separator}options=-c%20search_path%3D{schema}"),
            base,
            schema,
        })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Db::Postgres { base, schema, .. } = self {
            let _ = Command::new("psql")
                .arg(&*base)
                .args([
                    "-q",
                    "-c",
                    &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                ])
                .output();
        }
    }
}

struct Team {
    key: PathBuf,
    public: String,
    server: RegistryProcess,
}

/// The team signs leafy 1.0.1 and other 0.1.0 off and publishes both to a registry on `db`.
fn team(w: &World, db: &Db) -> Team {
    let (key, public) = w.new_key("team.key");
    w.write_audit_file(&format!("{{ key = \"{public}\" }}"));
    let server = db.serve();
    db.admin(&["auditor", "add", "team", "--key", &public]);
    for (name, version) in [("other", "0.1.0"), ("leafy", "1.0.1")] {
        w.ok(&[
            "sign",
            name,
            version,
            "--criteria",
            "reviewed",
            "--key",
            path_arg(&key),
        ]);
    }
    w.ok(&[
        "publish",
        "--registry",
        &server.url,
        "--key",
        path_arg(&key),
    ]);
    Team {
        key,
        public,
        server,
    }
}

fn publish(w: &World, team: &Team, url: &str) {
    w.ok(&["publish", "--registry", url, "--key", path_arg(&team.key)]);
}

/// The team flags leafy 1.0.1 and publishes the flag to `url`.
fn flag_leafy(w: &World, team: &Team, url: &str) {
    w.flag_leafy(path_arg(&team.key), url);
}

fn http() -> HttpClient {
    HttpClient::default()
}

/// The registry's log pin, as `GET /v1/log/key` shows it (what an operator publishes).
pub(crate) fn log_pin(url: &str) -> (String, String) {
    let bytes = http()
        .get_ok(&format!("{url}/v1/log/key"), 1 << 20)
        .expect("GET /v1/log/key");
    let key: Value = serde_json::from_slice(&bytes).expect("JSON");
    (
        key["origin"].as_str().expect("origin").to_owned(),
        key["key"].as_str().expect("key").to_owned(),
    )
}

/// What the registry answers a fresh client asking for leafy 1.0.1, as `check` asks: scoped to
/// the lockfile's version.
fn crates_answer(url: &str) -> Value {
    let body = json!({ "crates": { "leafy": null }, "versions": { "leafy": ["1.0.1"] } })
        .to_string()
        .into_bytes();
    let (status, bytes) = http()
        .post_json(&format!("{url}/v1/crates"), body, 1 << 24)
        .expect("POST /v1/crates");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Test witnesses: names and secret keys.
struct Witness {
    name: String,
    secret: SigningKey,
}

impl Witness {
    fn new(name: &str) -> Witness {
        Witness {
            name: name.to_owned(),
            secret: SigningKey::generate().expect("witness key"),
        }
    }

    fn pin(&self) -> String {
        format!(
            "[[witness]]\nname = \"{}\"\nkey = \"{}\"\n\n",
            self.name,
            self.secret.public_key()
        )
    }

    fn note_key(&self) -> NoteKey {
        NoteKey::new(&self.name, self.secret.public_key()).expect("key name")
    }
}

/// `answer` with its checkpoint cosigned by `witnesses` at `time` (seconds since the epoch).
fn cosigned(answer: &Value, witnesses: &[&Witness], time: u64) -> Value {
    let text = answer["log"]["checkpoint"].as_str().expect("checkpoint");
    let note = SignedNote::parse(text).expect("note");
    let lines: Vec<_> = witnesses
        .iter()
        .map(|w| w.note_key().cosign(&w.secret, &note.body, time))
        .collect();
    let mut out = answer.clone();
    out["log"]["checkpoint"] = Value::from(with_cosignatures(note, &lines).to_text());
    out
}

fn now_secs() -> u64 {
    u64::try_from(Timestamp::parse(NOW).expect("NOW").0).expect("after 1970")
}

/// The consumer's `Cargo.audit`: auditor `team` read from the registry at `url` with its log
/// pinned as `pin`, plus `extra` (witnesses, policy).
fn consumer(w: &World, team: &Team, url: &str, pin: &(String, String), extra: &str) -> PathBuf {
    let dir = w.home.path().join("consumer");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let audit = dir.join("Cargo.audit");
    std::fs::write(
        &audit,
        format!(
            "{extra}[[auditor]]\nname = \"team\"\ncovers = [\"leafy\", \"other\"]\n\
             records = {{ registry = \"{url}\", log-origin = \"{}\", log-key = \"{}\" }}\n\
             keys = [{{ key = \"{}\" }}]\n",
            pin.0, pin.1, team.public
        ),
    )
    .expect("write");
    audit
}

/// `check --format json` with `audit`: exit code, leafy's status, stderr.
pub(crate) fn check(w: &World, audit: &Path) -> (Option<i32>, String, String) {
    let db_dir = advisory_db(w);
    let out = w
        .cmd()
        .args(["check", "--format", "json", "--advisory-db", &db_dir])
        .arg("--audit-file")
        .arg(audit)
        .output()
        .expect("run check");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let status = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .map(|report| audit_trust_e2e::status_of(&report, "leafy"))
        .unwrap_or_default();
    (out.status.code(), status, stderr)
}

/// The gate refuses: exit 2, no report, and the error names the registry, the reason code and
/// (when given) the crate.
pub(crate) fn assert_refused(
    w: &World,
    audit: &Path,
    url: &str,
    code: &str,
    crate_name: Option<&str>,
) {
    let (exit, status, stderr) = check(w, audit);
    assert_eq!((exit, status.as_str()), (Some(2), ""), "{code}: {stderr}");
    let named = crate_name.map(|n| format!("crate `{n}`"));
    for part in [Some(url), Some(&*format!("[{code}]")), named.as_deref()]
        .into_iter()
        .flatten()
    {
        assert!(stderr.contains(part), "`{part}` missing from: {stderr}");
    }
}

/// Forgets every checkpoint and head seen: a fresh CI runner.
pub(crate) fn fresh_cache(w: &World) {
    let _ = std::fs::remove_dir_all(w.cache_dir());
}

fn without_flag_record(answer: &Value) -> Value {
    let mut out = answer.clone();
    let records = out["crates"]["leafy"]["records"]
        .as_array_mut()
        .expect("records");
    records.retain(|r| r["kind"] != "flag");
    out
}

/// The hostile cases every database runs: a withheld flag (with and without its log entry), a
/// bad inclusion proof, an old answer replayed to a client that saw a newer checkpoint, and
/// witness cosignatures that are missing, too few or too old.
fn hostile_cases(w: &World, team: &Team, before: &Value, after: &Value, pin: &(String, String)) {
    let hostile = StaticServer::start();
    let url = hostile.base_url();
    let audit = consumer(w, team, &url, pin, "");

    hostile.put("/v1/crates", without_flag_record(after).to_string());
    fresh_cache(w);
    assert_refused(w, &audit, &url, "withheld-record", Some("leafy"));

    // A crate without its record list is refused, not read as having none; records that are
    // not a list make the whole answer unreadable.
    let mut listless = after.clone();
    listless["crates"]["leafy"]
        .as_object_mut()
        .expect("leafy's part of the answer")
        .remove("records");
    hostile.put("/v1/crates", listless.to_string());
    fresh_cache(w);
    assert_refused(w, &audit, &url, "malformed-proof", Some("leafy"));
    let mut garbled = after.clone();
    garbled["crates"]["leafy"]["records"] = json!("one record");
    hostile.put("/v1/crates", garbled.to_string());
    fresh_cache(w);
    let (exit, status, stderr) = check(w, &audit);
    assert_eq!((exit, status.as_str()), (Some(2), ""), "{stderr}");
    assert!(stderr.contains("not a crate answer"), "{stderr}");

    // The flag left out of 1.0.1's list too: the signed version tree still lists it.
    let mut doctored = without_flag_record(after);
    let kept: Vec<String> = doctored["crates"]["leafy"]["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    for leaf in doctored["log"]["crates"]["leafy"]["versions"]["leaves"]
        .as_array_mut()
        .expect("leafy's version leaves")
        .iter_mut()
        .filter(|l| l["version"] == "1.0.1")
    {
        leaf["records"]
            .as_array_mut()
            .expect("1.0.1's entries")
            .retain(|e| kept.iter().any(|id| e[1] == id.as_str()));
    }
    hostile.put("/v1/crates", doctored.to_string());
    fresh_cache(w);
    assert_refused(w, &audit, &url, "withheld-record", Some("leafy"));

    // ... or 1.0.1's leaves left out, as if it had none.
    let mut absent = without_flag_record(after);
    absent["log"]["crates"]["leafy"]["versions"]["leaves"]
        .as_array_mut()
        .expect("leafy's version leaves")
        .retain(|l| l["version"] != "1.0.1");
    hostile.put("/v1/crates", absent.to_string());
    fresh_cache(w);
    assert_refused(w, &audit, &url, "bad-index-proof", Some("leafy"));

    // One hash of the index proof the answer's crates share.
    let mut bad_proof = after.clone();
    let proof = &mut bad_proof["log"]["index_proof"][0];
    assert!(
        proof.is_string(),
        "an index of several crates has proofs: {after}"
    );
    *proof = Value::from("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    hostile.put("/v1/crates", bad_proof.to_string());
    fresh_cache(w);
    assert_refused(w, &audit, &url, "bad-index-proof", None);

    // The version asked for not answered at all.
    let mut unanswered = after.clone();
    unanswered["log"]["crates"]["leafy"]["versions"]["versions"]
        .as_array_mut()
        .expect("the versions answered")
        .retain(|v| v != "1.0.1");
    hostile.put("/v1/crates", unanswered.to_string());
    fresh_cache(w);
    assert_refused(w, &audit, &url, "malformed-proof", Some("leafy"));

    // The honest answer passes and is remembered; the answer from before the flag, replayed
    // afterwards, is a rollback.
    hostile.put("/v1/crates", after.to_string());
    fresh_cache(w);
    assert_eq!(check(w, &audit).1, "flagged");
    hostile.put("/v1/crates", before.to_string());
    assert_refused(w, &audit, &url, "log-rollback", None);

    // Two pinned witnesses required: a fresh runner needs both cosignatures, recent ones.
    let (one, two) = (
        Witness::new("witness-one.test"),
        Witness::new("witness-two.test"),
    );
    let witnessed = format!(
        "{}{}[policy]\nwitnesses-required = 2\n\n",
        one.pin(),
        two.pin()
    );
    let audit = consumer(w, team, &url, pin, &witnessed);
    hostile.put("/v1/crates", after.to_string());
    fresh_cache(w);
    assert_refused(w, &audit, &url, "missing-cosignatures", None);
    hostile.put(
        "/v1/crates",
        cosigned(after, &[&one], now_secs()).to_string(),
    );
    fresh_cache(w);
    assert_refused(w, &audit, &url, "missing-cosignatures", None);
    let two_days_ago = now_secs() - 2 * 86_400;
    hostile.put(
        "/v1/crates",
        cosigned(after, &[&one, &two], two_days_ago).to_string(),
    );
    fresh_cache(w);
    assert_refused(w, &audit, &url, "missing-cosignatures", None);
    hostile.put(
        "/v1/crates",
        cosigned(after, &[&one, &two], now_secs() - 60).to_string(),
    );
    fresh_cache(w);
    let (exit, status, stderr) = check(w, &audit);
    assert_eq!((exit, status.as_str()), (Some(1), "flagged"), "{stderr}");
    // The old checkpoint, freshly cosigned by both (colluding) witnesses, still cannot roll
    // back a runner that saw the newer one.
    hostile.put(
        "/v1/crates",
        cosigned(before, &[&one, &two], now_secs()).to_string(),
    );
    assert_refused(w, &audit, &url, "log-rollback", None);
}

/// Per-crate reading against the real registry: passes, sees a new flag, and remembers the
/// checkpoint instead of mirroring whole logs. Returns the answers before and after the flag.
fn honest_reads(w: &World, team: &Team, pin: &(String, String)) -> (Value, Value) {
    let url = team.server.url.clone();
    let audit = consumer(w, team, &url, pin, "");
    fresh_cache(w);
    let (exit, status, stderr) = check(w, &audit);
    assert_eq!((exit, status.as_str()), (Some(0), "audited"), "{stderr}");
    assert!(w.cache_dir().join("log-checkpoints-v1").is_dir());
    assert!(
        !w.cache_dir().join("registry-mirrors").exists(),
        "no whole-log mirror for a log-pinned registry"
    );
    let before = crates_answer(&url);
    flag_leafy(w, team, &url);
    let (exit, status, stderr) = check(w, &audit);
    assert_eq!((exit, status.as_str()), (Some(1), "flagged"), "{stderr}");
    let after = crates_answer(&url);
    (before, after)
}

#[test]
fn the_gate_reads_per_crate_and_catches_every_hostile_answer_on_sqlite() {
    let w = world();
    let path = w.home.path().join("registry.db");
    let db = Db::Sqlite(path.clone());
    let team = team(&w, &db);
    let url = team.server.url.clone();
    let pin = log_pin(&url);
    // Before the flag: the registry's database and the team's store, for the rollback and
    // the fork below.
    let backup = w.home.path().join("registry-backup.db");
    copy_database(&path, &backup);
    let store_backup = w.home.path().join("store-backup");
    copy_dir(&w.store(), &store_backup);

    let (before, after) = honest_reads(&w, &team, &pin);
    hostile_cases(&w, &team, &before, &after, &pin);

    // A runner that saw the flag's checkpoint, then the real registry restored from the
    // backup at the same URL: it refuses the size the runner sends, and its smaller
    // checkpoint is a rollback.
    let audit = consumer(&w, &team, &url, &pin, "");
    fresh_cache(&w);
    assert_eq!(check(&w, &audit).1, "flagged");
    let Team {
        key,
        public,
        server,
    } = team;
    drop(server);
    copy_database(&backup, &path);
    let team = Team {
        key,
        public,
        server: db.serve_at(&url),
    };
    assert_refused(&w, &audit, &url, "log-rollback", None);

    // A fork: the restored registry takes another record where the flag was, so its log has
    // as many entries as the checkpoint the runner saw, with another root.
    std::fs::remove_dir_all(w.store()).expect("remove store");
    copy_dir(&store_backup, &w.store());
    let key = path_arg(&team.key);
    w.ok(&[
        "sign",
        "other",
        "0.1.0",
        "--criteria",
        "c-one",
        "--key",
        key,
    ]);
    publish(&w, &team, &url);
    assert_refused(&w, &audit, &url, "log-fork", None);
}

#[test]
fn the_gate_reads_per_crate_and_catches_every_hostile_answer_on_postgres() {
    let Some(db) = Db::postgres() else {
        return;
    };
    let w = world();
    let team = team(&w, &db);
    let pin = log_pin(&team.server.url);
    let (before, after) = honest_reads(&w, &team, &pin);
    hostile_cases(&w, &team, &before, &after, &pin);
    // Pinned witnesses and a registry that serves no cosignatures: a fresh runner refuses.
    let witness = Witness::new("witness.test");
    let extra = format!("{}[policy]\nwitnesses-required = 1\n\n", witness.pin());
    let audit = consumer(&w, &team, &team.server.url, &pin, &extra);
    fresh_cache(&w);
    assert_refused(&w, &audit, &team.server.url, "missing-cosignatures", None);
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
