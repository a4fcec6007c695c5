//! `audit-registry witness` and the registry that asks it, as real processes on loopback: the
//! registry serves its checkpoints cosigned; a fork of the log (a copy of its database that
//! took another history) and a rolled-back copy get no cosignature; the witness answers bad
//! requests with C2SP's status codes; and its state survives a restart.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use audit_trust_core::signoff::{PublicKey, SigningKey};
use audit_trust_core::tlog::{LogPin, NoteKey, SignedNote, add_checkpoint_body, verify_checkpoint};
use support::processes::*;
use support::*;

/// The log's pin, requiring `min` cosignatures of `witness`.
fn pin(addr: &str, witness: &NoteKey, min: usize) -> LogPin {
    let (_, _, body) = http(addr, "GET", "/v1/log/key", "");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    let origin = body["origin"].as_str().expect("origin").to_owned();
    let key = PublicKey::parse(body["key"].as_str().expect("key")).expect("key");
    LogPin {
        origin: origin.clone(),
        key: NoteKey::new(&origin, key).expect("name"),
        witnesses: vec![witness.clone()],
        min_cosignatures: min,
        cosigned_after: 0,
        cosigned_before: u64::MAX,
    }
}

fn write_key(dir: &Path, name: &str, key: &SigningKey) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, key.to_file_text().as_bytes()).expect("write key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    path
}

struct WitnessSetup {
    key_file: PathBuf,
    state: PathBuf,
    origin: String,
    log_key: String,
}

fn witness_args(w: &WitnessSetup, listen: &str) -> Vec<String> {
    let path = |p: &Path| p.to_str().expect("utf-8").to_owned();
    [
        "witness",
        "--name",
        "witness.example/w1",
        "--key",
        &path(&w.key_file),
        "--log-origin",
        &w.origin,
        "--log-key",
        &w.log_key,
        "--state",
        &path(&w.state),
        "--listen",
        listen,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn start_witness(w: &WitnessSetup, listen: &str) -> Process {
    let args = witness_args(w, listen);
    start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn a_witness_cosigns_the_log_refuses_a_fork_and_a_rollback_and_keeps_its_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (alice, witness_secret) = (key(), key());
    let witness_key = NoteKey::new("witness.example/w1", witness_secret.public_key()).expect("n");
    let db_a = dir.path().join("a.db");
    let added = Command::new(BIN)
        .args(["auditor", "add", "alice", "--key"])
        .arg(alice.public_key().to_string())
        .args(["--db", &sqlite(&db_a)])
        .output()
        .expect("auditor add");
    assert!(added.status.success(), "{added:?}");

    // The log's key, for the witness to pin.
    let first = serve(&db_a, "127.0.0.1:0", None);
    let log = pin(&first.1, &witness_key, 1);
    drop(first);
    let setup = WitnessSetup {
        key_file: write_key(dir.path(), "witness.key", &witness_secret),
        state: dir.path().join("witness.state"),
        origin: log.origin.clone(),
        log_key: log.key.key.to_string(),
    };
    let witness = start_witness(&setup, "127.0.0.1:0");
    let witness_arg = format!(
        "witness.example/w1,{},http://{}",
        witness_secret.public_key(),
        witness.1
    );
    let registry = serve(&db_a, "127.0.0.1:0", Some(&witness_arg));

    // Each publish is answered once the checkpoint is cosigned.
    let r1 = signoff(&alice, "serde", "1.0.0");
    let h1 = head(&alice, None, &[&r1]);
    publish(&registry.1, &[&r1], &h1);
    let note1 = checkpoint(&registry.1);
    assert_eq!(size_of(&note1), 1);
    verify_checkpoint(&log, &note1).expect("cosigned by the pinned witness");
    let fork_db = dir.path().join("fork.db");
    copy_database(&db_a, &fork_db);

    let r2 = signoff(&alice, "tokio", "1.0.0");
    let h2 = head(&alice, Some(&h1), &[&r1, &r2]);
    publish(&registry.1, &[&r2], &h2);
    let note2 = checkpoint(&registry.1);
    assert_eq!(size_of(&note2), 2);
    verify_checkpoint(&log, &note2).expect("cosigned again");
    let (_, _, crate_answer) = http(&registry.1, "GET", "/v1/crates/tokio", "");
    let crate_answer: serde_json::Value = serde_json::from_str(&crate_answer).expect("json");
    let served = crate_answer["log"]["checkpoint"]
        .as_str()
        .expect("checkpoint");
    verify_checkpoint(&log, served).expect("crate answers carry the cosigned checkpoint");
    let held = std::fs::read_to_string(&setup.state).expect("state written");
    assert_eq!(held, SignedNote::parse(&note2).expect("note").body);
    drop(registry);

    // A copy of the database taken at size 1 takes another history: the same log key signs a
    // second checkpoint of size 2 and one of 3. The witness cosigns neither.
    let other = signoff(&alice, "rand", "1.0.0");
    let fork = serve(&fork_db, "127.0.0.1:0", Some(&witness_arg));
    let h_other = head(&alice, Some(&h1), &[&r1, &other]);
    publish(&fork.1, &[&other], &h_other);
    let fork2 = checkpoint(&fork.1);
    assert_eq!(size_of(&fork2), 2);
    assert_eq!(
        verify_checkpoint(&log, &fork2)
            .expect_err("not cosigned")
            .code(),
        "missing-cosignatures"
    );
    let other2 = signoff(&alice, "rand", "1.0.1");
    let h_other2 = head(&alice, Some(&h_other), &[&r1, &other, &other2]);
    publish(&fork.1, &[&other2], &h_other2);
    let fork3 = checkpoint(&fork.1);
    assert_eq!(size_of(&fork3), 3);
    assert_eq!(
        verify_checkpoint(&log, &fork3)
            .expect_err("not cosigned")
            .code(),
        "missing-cosignatures"
    );
    let (_, _, proof) = http(&fork.1, "GET", "/v1/log/consistency?from=2", "");
    let proof: serde_json::Value = serde_json::from_str(&proof).expect("json");
    let proof: Vec<String> = serde_json::from_value(proof["proof"].clone()).expect("proof");
    drop(fork);

    // The same refusals, asked directly, with C2SP's status codes.
    let mut body_fork3 = "old 2\n".to_owned();
    for line in &proof {
        body_fork3.push_str(line);
        body_fork3.push('\n');
    }
    body_fork3.push('\n');
    body_fork3.push_str(&fork3);
    let refusals = |addr: &str| {
        let ask = |body: &str| http(addr, "POST", "/add-checkpoint", body);
        // A consistency proof from the witness's size 2 that does not lead to its root: 422.
        assert_eq!(ask(&body_fork3).0, 422);
        // Another root at the size it holds: 409.
        assert_eq!(ask(&add_checkpoint_body(2, &[], &fork2)).0, 409);
        // A stale old size: 409 with the size it holds.
        let (status, content_type, body) = ask(&add_checkpoint_body(0, &[], &note1));
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (409, "text/x.tlog.size", "2\n")
        );
        // A rolled-back checkpoint (smaller than the old size): 400.
        assert_eq!(ask(&add_checkpoint_body(2, &[], &note1)).0, 400);
        // Not signed by the log key: 403. Another log: 404. Not a request: 400.
        let unsigned = format!("{}\n", SignedNote::parse(&note2).expect("n").body);
        let forged = {
            let mut n = SignedNote::parse(&note2).expect("n");
            n.signatures = vec![
                NoteKey::new(&log.origin, alice.public_key())
                    .expect("n")
                    .sign(&alice, &n.body),
            ];
            n.to_text()
        };
        assert_eq!(ask(&add_checkpoint_body(2, &[], &forged)).0, 403);
        assert_eq!(ask(&add_checkpoint_body(2, &[], &unsigned)).0, 400);
        let elsewhere = note2.replacen(&log.origin, "another.example/log", 1);
        assert_eq!(ask(&add_checkpoint_body(2, &[], &elsewhere)).0, 404);
        assert_eq!(ask("hello").0, 400);
        // The true checkpoint again: cosigned.
        let (status, _, line) = ask(&add_checkpoint_body(2, &[], &note2));
        assert_eq!(status, 200, "{line}");
        assert!(line.starts_with("\u{2014} witness.example/w1 "), "{line}");
    };
    refusals(&witness.1);

    // Restarted on its state file, the witness still holds size 2 of the true log.
    let address = witness.1.clone();
    drop(witness);
    let witness = start_witness(&setup, &address);
    refusals(&witness.1);
    let registry = serve(&db_a, "127.0.0.1:0", Some(&witness_arg));
    let r3 = signoff(&alice, "tokio", "1.1.0");
    let h3 = head(&alice, Some(&h2), &[&r1, &r2, &r3]);
    publish(&registry.1, &[&r3], &h3);
    let note3 = checkpoint(&registry.1);
    assert_eq!(size_of(&note3), 3);
    verify_checkpoint(&log, &note3).expect("the true log goes on being cosigned");
}

#[test]
fn a_second_witness_on_the_same_state_file_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log_secret = key();
    let setup = WitnessSetup {
        key_file: write_key(dir.path(), "witness.key", &key()),
        state: dir.path().join("witness.state"),
        origin: "audit-registry/lock-test".to_owned(),
        log_key: log_secret.public_key().to_string(),
    };
    let first = start_witness(&setup, "127.0.0.1:0");
    let second = Command::new(BIN)
        .args(witness_args(&setup, "127.0.0.1:0"))
        .output()
        .expect("run a second witness");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    let lock_file = dir.path().join("witness.state.lock");
    for part in [
        setup.state.display().to_string(),
        lock_file.display().to_string(),
        "another witness process".to_owned(),
    ] {
        assert!(stderr.contains(&part), "`{part}` missing from: {stderr}");
    }
    assert!(
        second.stdout.is_empty(),
        "the second witness must not listen"
    );
    // The first one still answers.
    let (status, _, _) = http(&first.1, "POST", "/add-checkpoint", "hello");
    assert_eq!(status, 400);
    // The lock goes with the process that held it: a killed witness leaves none behind.
    drop(first);
    let again = start_witness(&setup, "127.0.0.1:0");
    assert_eq!(http(&again.1, "POST", "/add-checkpoint", "hello").0, 400);
}
