//! Witnesses end to end, every part a real process: two `audit-registry witness` processes (keys
//! from `cargo audit-trust key new`, state files of their own), `audit-registry serve --witness`
//! asking both, and `cargo-audit-trust check` on a project that pins the registry's log, both
//! witnesses and `witnesses-required = 2`. The registry is then rolled back (its database
//! restored from a copy taken before the last publish) and forked (that copy takes another
//! record where the last one was): the witnesses refuse both, so a fresh runner is refused too,
//! and a witness restarted on its state file goes on refusing. On SQLite and (with
//! `AUDIT_REGISTRY_TEST_POSTGRES`) on PostgreSQL, where databases are copied as templates.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::PublicKey;
use audit_trust_core::time::Timestamp;
use audit_trust_core::tlog::{Checkpoint, NoteKey, SignedNote, add_checkpoint_body};
use audit_trust_e2e::{RegistryProcess, WitnessProcess, registry_admin, sqlite_url};

use crate::per_crate::{assert_refused, check, copy_dir, fresh_cache, log_pin};
use crate::registry::copy_database;
use crate::world::{NOW, World, path_arg, world};

/// The witnesses' clock for the first checkpoints: two days before the clients' [`NOW`], so
/// those cosignatures are too old for a client (24 hours by default) once newer ones exist.
const EARLIER: &str = "2025-05-30T12:00:00Z";

/// The registry's databases, by name: the test copies them to roll the registry back or fork it.
enum Store {
    Sqlite(PathBuf),
    /// Databases `<prefix>_<name>` on the server of `base` (URL up to the database name).
    Postgres {
        base: String,
        server: String,
        query: String,
        prefix: String,
    },
}

const DATABASES: [&str; 3] = ["main", "backup", "latest"];

impl Store {
    /// Databases on the PostgreSQL server of `AUDIT_REGISTRY_TEST_POSTGRES`, or `None` (with
    /// why) to skip.
    fn postgres() -> Option<Store> {
        let Ok(base) = std::env::var("AUDIT_REGISTRY_TEST_POSTGRES") else {
            eprintln!(
                "skipped: set AUDIT_REGISTRY_TEST_POSTGRES=postgres://… to run on PostgreSQL"
            );
            return None;
        };
        let (url, query) = base.split_once('?').unwrap_or((&base, ""));
        let (server, _) = url.rsplit_once('/').expect("a database URL");
        let store = Store::Postgres {
            server: server.to_owned(),
            query: if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            },
            prefix: format!("witnesses_{}", std::process::id()),
            base: base.clone(),
        };
        if !store.psql(&[]) {
            eprintln!("skipped: `psql` cannot reach {base}");
            return None;
        }
        store.drop_all();
        let Store::Postgres { prefix, .. } = &store else {
            unreachable!()
        };
        assert!(store.psql(&[&format!("CREATE DATABASE {prefix}_main")]));
        Some(store)
    }

    fn url(&self, name: &str) -> String {
        match self {
            Store::Sqlite(dir) => sqlite_url(&dir.join(format!("{name}.db"))),
            Store::Postgres {
                server,
                query,
                prefix,
                ..
            } => format!("{server}/{prefix}_{name}{query}"),
        }
    }

    /// Makes database `to` a copy of `from`. No registry may be running on `from`: PostgreSQL
    /// copies only a database no one is connected to.
    fn copy(&self, from: &str, to: &str) {
        match self {
            Store::Sqlite(dir) => copy_database(
                &dir.join(format!("{from}.db")),
                &dir.join(format!("{to}.db")),
            ),
            Store::Postgres { prefix, .. } => assert!(
                self.psql(&[
                    &format!("DROP DATABASE IF EXISTS {prefix}_{to}"),
                    &format!("CREATE DATABASE {prefix}_{to} TEMPLATE {prefix}_{from}"),
                ]),
                "copy {from} to {to}"
            ),
        }
    }

    /// Runs each statement on its own (`CREATE DATABASE` cannot run in a transaction).
    fn psql(&self, statements: &[&str]) -> bool {
        let Store::Postgres { base, .. } = self else {
            return true;
        };
        let mut cmd = Command::new("psql");
        cmd.arg(base)
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1"]);
        for statement in statements {
            cmd.args(["-c", statement]);
        }
        cmd.output().is_ok_and(|out| out.status.success())
    }

    fn drop_all(&self) {
        if let Store::Postgres { prefix, .. } = self {
            for name in DATABASES {
                self.psql(&[&format!(
                    "DROP DATABASE IF EXISTS {prefix}_{name} WITH (FORCE)"
                )]);
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.drop_all();
    }
}

/// One witness: its key file and public key (from `key new`), its state file, and the address
/// it listens on (kept across restarts, so the registry's `--witness` URL stays right).
struct Witness {
    name: String,
    key_file: PathBuf,
    public: String,
    state: PathBuf,
    listen: String,
}

impl Witness {
    fn new(w: &World, name: &str) -> Witness {
        let (key_file, public) = w.new_key(&format!("{name}.key"));
        Witness {
            name: name.to_owned(),
            key_file,
            public,
            state: w.home.path().join(format!("{name}.state")),
            listen: "127.0.0.1:0".to_owned(),
        }
    }

    /// Starts (or restarts) the witness on its state file, cosigning at `now`.
    fn start(&mut self, log: &(String, String), now: &str) -> WitnessProcess {
        let process = WitnessProcess::start(&[
            "--name",
            &self.name,
            "--key",
            path_arg(&self.key_file),
            "--log-origin",
            &log.0,
            "--log-key",
            &log.1,
            "--state",
            path_arg(&self.state),
            "--listen",
            &self.listen,
            "--now",
            now,
        ]);
        self.listen = process.url.trim_start_matches("http://").to_owned();
        process
    }

    /// The `[[witness]]` pin a consumer writes.
    fn pin(&self) -> String {
        format!(
            "[[witness]]\nname = \"{}\"\nkey = \"{}\"\n\n",
            self.name, self.public
        )
    }

    /// `serve --witness NAME,KEY,URL`.
    fn serve_arg(&self) -> String {
        format!("{},{},http://{}", self.name, self.public, self.listen)
    }

    fn note_key(&self) -> NoteKey {
        NoteKey::new(&self.name, PublicKey::parse(&self.public).expect("key")).expect("name")
    }

    /// The time of this witness's newest valid cosignature on `note`, if any.
    fn cosigned(&self, note: &str) -> Option<u64> {
        self.note_key()
            .cosignature_time(&SignedNote::parse(note).expect("note"))
    }

    /// The cosignature time on `note` that a client at [`NOW`] counts (24 hours), if any.
    fn recent_cosignature(&self, note: &str) -> Option<u64> {
        self.cosigned(note).filter(|&t| t >= secs(NOW) - 24 * 3600)
    }
}

/// Seconds since the Unix epoch of an instant such as [`NOW`].
fn secs(instant: &str) -> u64 {
    u64::try_from(Timestamp::parse(instant).expect("instant").0).expect("after 1970")
}

/// The registry's latest checkpoint note, as served (with cosignatures).
fn checkpoint(url: &str) -> String {
    let bytes = HttpClient::default()
        .get_ok(&format!("{url}/v1/log/checkpoint"), 1 << 20)
        .expect("GET /v1/log/checkpoint");
    String::from_utf8(bytes).expect("UTF-8")
}

fn parsed(note: &str) -> Checkpoint {
    Checkpoint::parse_body(&SignedNote::parse(note).expect("note").body).expect("checkpoint")
}

/// Polls `GET /v1/log/checkpoint` until it is of `size` and cosigned by every one of
/// `witnesses` at `time` or later; panics after 30 seconds. The registry answers a publish after asking its
/// witnesses, so the first poll normally has them: the bound only keeps a broken build from
/// hanging the suite.
fn cosigned_by_all(url: &str, size: u64, witnesses: &[Witness], time: u64) -> String {
    let mut note = String::new();
    for _ in 0..300 {
        note = checkpoint(url);
        let all = witnesses
            .iter()
            .all(|w| w.cosigned(&note).is_some_and(|t| t >= time));
        if parsed(&note).size == size && all {
            return note;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no checkpoint of size {size} cosigned by every witness; the last one:\n{note}");
}

/// `note` with the log's own signature only (what the registry sends a witness).
fn log_signed(note: &str, origin: &str) -> String {
    let mut note = SignedNote::parse(note).expect("note");
    note.signatures.retain(|s| s.name == origin);
    note.to_text()
}

/// Asks a witness directly (`POST /add-checkpoint`): its status and body.
fn ask(witness: &WitnessProcess, old_size: u64, note: &str) -> (u16, String) {
    let addr = witness.url.trim_start_matches("http://");
    let body = add_checkpoint_body(old_size, &[], note);
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /add-checkpoint HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

/// The consumer's `Cargo.audit`: auditor `team` read per crate from the registry at `url`,
/// its log pinned, plus `extra` (witness pins and policy).
fn consumer(
    w: &World,
    name: &str,
    team: &str,
    url: &str,
    log: &(String, String),
    extra: &str,
) -> PathBuf {
    let dir = w.home.path().join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let audit = dir.join("Cargo.audit");
    std::fs::write(
        &audit,
        format!(
            "{extra}[[auditor]]\nname = \"team\"\ncovers = [\"leafy\", \"other\"]\n\
             records = {{ registry = \"{url}\", log-origin = \"{}\", log-key = \"{}\" }}\n\
             keys = [{{ key = \"{team}\" }}]\n",
            log.0, log.1
        ),
    )
    .expect("write");
    audit
}

fn replace_dir(dir: &Path, with: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    copy_dir(with, dir);
}

fn witnesses_refuse_a_rollback_and_a_fork(store: &Store) {
    let w = world();
    let (key, team) = w.new_key("team.key");
    let key = path_arg(&key);
    w.write_audit_file(&format!("{{ key = \"{team}\" }}"));
    let sign = |args: &[&str]| {
        let mut all = vec!["sign"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--key", key]);
        w.ok(&all);
    };
    let main = store.url("main");

    // The registry's first start makes its log key, which the witnesses pin.
    let first = RegistryProcess::serve(&main, &["--now", NOW]);
    registry_admin(&main, &["auditor", "add", "team", "--key", &team]);
    let url = first.url.clone();
    let log = log_pin(&url);
    let mut witnesses = [
        Witness::new(&w, "witness-one.test"),
        Witness::new(&w, "witness-two.test"),
    ];
    let mut running: Vec<WitnessProcess> = witnesses
        .iter_mut()
        .map(|x| x.start(&log, EARLIER))
        .collect();
    // Stopped only now: the registry comes back on its port, which a witness asking for any
    // free port could otherwise be given (seen in CI: "Address already in use").
    drop(first);
    let mut options = vec!["--now".to_owned(), NOW.to_owned()];
    for x in &witnesses {
        options.extend(["--witness".to_owned(), x.serve_arg()]);
    }
    let serve = |db: &str| RegistryProcess::serve_at(&url, db, &options);
    let publish = || w.ok(&["publish", "--registry", &url, "--key", key]);

    let mut server = Some(serve(&main));
    sign(&["other", "0.1.0", "--criteria", "reviewed"]);
    sign(&["leafy", "1.0.1", "--criteria", "reviewed"]);
    publish();
    let old_size = parsed(&checkpoint(&url)).size;
    cosigned_by_all(&url, old_size, &witnesses, secs(EARLIER));

    // A copy from before the last publish: the database (the registry stopped) and the store.
    drop(server.take());
    store.copy("main", "backup");
    let store_backup = w.home.path().join("store-backup");
    copy_dir(&w.store(), &store_backup);
    // From now on the witnesses cosign at NOW: restarted on their state files.
    running.clear();
    running = witnesses.iter_mut().map(|x| x.start(&log, NOW)).collect();
    server = Some(serve(&main));
    // The last publish flags `other`, which the app does not use: the gate still passes.
    sign(&["other", "0.1.0", "--flag", "compromised release"]);
    publish();
    let size = parsed(&checkpoint(&url)).size;
    assert!(size > old_size);
    let true_note = cosigned_by_all(&url, size, &witnesses, secs(NOW));

    // a. A fresh runner requiring both witnesses passes.
    let pins = format!(
        "{}{}[policy]\nwitnesses-required = 2\n\n",
        witnesses[0].pin(),
        witnesses[1].pin()
    );
    let witnessed = consumer(&w, "witnessed", &team, &url, &log, &pins);
    let plain = consumer(&w, "plain", &team, &url, &log, "");
    fresh_cache(&w);
    let (exit, status, stderr) = check(&w, &witnessed);
    assert_eq!((exit, status.as_str()), (Some(0), "audited"), "{stderr}");
    let cache_at_true = w.home.path().join("cache-at-true");
    copy_dir(&w.cache_dir(), &cache_at_true);

    // b. Rolled back: the database restored from the copy, with the same log key and witnesses.
    drop(server.take());
    store.copy("main", "latest");
    let store_latest = w.home.path().join("store-latest");
    copy_dir(&w.store(), &store_latest);
    store.copy("backup", "main");
    server = Some(serve(&main));
    let rolled = checkpoint(&url);
    assert_eq!(parsed(&rolled).size, old_size);
    for (x, process) in witnesses.iter().zip(&running) {
        // They hold the larger size: from it, a smaller checkpoint is a rollback (400); from
        // the size the restored registry remembers, they answer with the size they hold (409).
        let rolled = log_signed(&rolled, &log.0);
        assert_eq!(ask(process, size, &rolled).0, 400, "{}", x.name);
        assert_eq!(ask(process, old_size, &rolled), (409, format!("{size}\n")));
        // The registry still serves their cosignatures of that checkpoint, from two days
        // before: too old for a client now.
        assert_eq!(x.cosigned(&checkpoint(&url)), Some(secs(EARLIER)));
        assert_eq!(x.recent_cosignature(&checkpoint(&url)), None, "{}", x.name);
    }
    assert_refused(&w, &plain, &url, "log-rollback", None);
    fresh_cache(&w);
    assert_refused(&w, &witnessed, &url, "missing-cosignatures", None);
    // What remains (docs/threat-model.md): with a window that still counts the two-day-old
    // cosignatures the restored database serves, a fresh runner accepts the rollback; without
    // witnesses, nothing tells it a newer checkpoint exists.
    let wide = pins.replace(
        "witnesses-required = 2\n",
        "witnesses-required = 2\ncosignature-max-age-hours = 72\n",
    );
    let wide = consumer(&w, "wide-window", &team, &url, &log, &wide);
    for audit in [&wide, &plain] {
        fresh_cache(&w);
        let (exit, status, stderr) = check(&w, audit);
        assert_eq!((exit, status.as_str()), (Some(0), "audited"), "{stderr}");
    }

    // c. Forked: the restored copy takes another record where the flag was, so its log has
    // as many entries as the true one, with another root.
    replace_dir(&w.store(), &store_backup);
    sign(&["other", "0.1.0", "--criteria", "c-one"]);
    publish();
    let fork = checkpoint(&url);
    assert_eq!(parsed(&fork).size, size);
    assert_ne!(parsed(&fork).root, parsed(&true_note).root);
    let fork = log_signed(&fork, &log.0);
    for (x, process) in witnesses.iter().zip(&running) {
        assert_eq!(x.recent_cosignature(&checkpoint(&url)), None, "{}", x.name);
        assert_eq!(
            ask(process, size, &fork),
            (409, format!("{size}\n")),
            "{}",
            x.name
        );
    }
    fresh_cache(&w);
    assert_refused(&w, &witnessed, &url, "missing-cosignatures", None);
    replace_dir(&w.cache_dir(), &cache_at_true);
    assert_refused(&w, &plain, &url, "log-fork", None);

    // d. Witness one, restarted on its state file, holds the true checkpoint and refuses what
    // it refused, asked directly and by the fork's registry publishing on.
    let held = std::fs::read_to_string(&witnesses[0].state).expect("state");
    assert_eq!(held, SignedNote::parse(&true_note).expect("note").body);
    drop(running.remove(0));
    running.insert(0, witnesses[0].start(&log, NOW));
    assert_eq!(ask(&running[0], size, &fork).0, 409);
    assert_eq!(ask(&running[0], size, &log_signed(&rolled, &log.0)).0, 400);
    sign(&["other", "0.1.0", "--criteria", "c-two"]);
    publish();
    let fork_next = checkpoint(&url);
    assert_eq!(parsed(&fork_next).size, size + 1);
    for x in &witnesses {
        assert_eq!(x.recent_cosignature(&fork_next), None, "{}", x.name);
    }
    fresh_cache(&w);
    assert_refused(&w, &witnessed, &url, "missing-cosignatures", None);

    // The true log, back in service, goes on being cosigned by both.
    drop(server.take());
    store.copy("latest", "main");
    replace_dir(&w.store(), &store_latest);
    server = Some(serve(&main));
    sign(&["other", "0.1.0", "--criteria", "c-three"]);
    publish();
    cosigned_by_all(&url, size + 1, &witnesses, secs(NOW));
    fresh_cache(&w);
    let (exit, status, stderr) = check(&w, &witnessed);
    assert_eq!((exit, status.as_str()), (Some(0), "audited"), "{stderr}");
    drop(server);
}

#[test]
fn two_witnesses_refuse_a_rolled_back_and_a_forked_registry_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    witnesses_refuse_a_rollback_and_a_fork(&Store::Sqlite(dir.path().to_owned()));
}

#[test]
fn two_witnesses_refuse_a_rolled_back_and_a_forked_registry_on_postgres() {
    if let Some(store) = Store::postgres() {
        witnesses_refuse_a_rollback_and_a_fork(&store);
    }
}
