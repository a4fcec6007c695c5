//! The local store: layout, append-only files, name checks, and concurrent writers (threads and
//! processes) that must lose nothing and tear nothing.

use std::path::Path;

use super::*;

const LIFETIME_DAYS: i64 = 365;

fn now() -> crate::time::Timestamp {
    at("2025-03-01T12:00:00Z")
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn records_go_to_one_file_per_crate_and_the_head_to_its_key_s_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::new(dir.path().join("sign-offs"));
    let k = key(1);
    let (a1, a2, b) = (
        reviewed(&k, "serde", "1.0.0"),
        reviewed(&k, "serde", "1.0.1"),
        reviewed(&k, "tokio-util", "0.7.0"),
    );
    store
        .append(std::slice::from_ref(&a1), &k, now(), LIFETIME_DAYS)
        .expect("append");
    let head = store
        .append(
            &[b.clone(), a2.clone(), a1.clone()],
            &k,
            now(),
            LIFETIME_DAYS,
        )
        .expect("append");
    assert_eq!(head.head().sequence, 2);
    assert_eq!(head.head().count, 3, "a1 again is not a duplicate");
    let root = store.root();
    assert_eq!(
        lines(&root.join("crates/serde.jsonl")),
        [a1.to_json_line(), a2.to_json_line()],
        "oldest first"
    );
    assert_eq!(
        lines(&root.join("crates/tokio-util.jsonl")),
        [b.to_json_line()]
    );
    let head_file = root.join(format!("heads/{}.json", k.public_key().hex()));
    assert_eq!(
        std::fs::read_to_string(head_file).expect("head"),
        head.to_json()
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".gitignore")).expect("ignore"),
        "/.lock\n"
    );

    #[cfg(unix)]
    {
        // Store files are shared like any source file: as readable as a plain new file.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).expect("file").permissions().mode() & 0o777;
        let reference = dir.path().join("reference");
        std::fs::write(&reference, "").expect("write");
        assert_eq!(
            mode(&root.join("crates/serde.jsonl")) & 0o644,
            mode(&reference) & 0o644
        );
    }
    let contents = store.read().expect("read");
    assert!(contents.problems.is_empty(), "{:?}", contents.problems);
    assert_eq!(contents.records.len(), 3);
    assert_eq!(contents.heads.get(&k.public_key()), Some(&head));
    let ids: std::collections::BTreeSet<_> =
        contents.records.iter().map(|r| r.record.id()).collect();
    assert_eq!(head.check_records(&ids), Ok(()));
}

#[test]
fn names_are_checked_before_they_become_file_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::new(dir.path());
    for bad in ["../escape", "a/b", ".hidden", ""] {
        assert!(store.crate_file(bad).is_err(), "{bad:?}");
    }
    let k = key(1);
    store
        .append(&[reviewed(&k, "serde", "1.0.0")], &k, now(), LIFETIME_DAYS)
        .expect("append");
    let err = store
        .append(&[reviewed(&k, "Serde", "1.0.1")], &k, now(), LIFETIME_DAYS)
        .expect_err("case-only collision");
    assert!(err.to_string().contains("only in case"), "{err}");

    // A record planted in another crate's file, a stray file, a head in the wrong file: all
    // reported, none accepted.
    let planted = reviewed(&k, "tokio", "1.0.0").to_json_line();
    let serde_file = dir.path().join("crates/serde.jsonl");
    let mut text = std::fs::read_to_string(&serde_file).expect("read");
    text.push_str(&planted);
    text.push('\n');
    std::fs::write(&serde_file, text).expect("write");
    std::fs::write(dir.path().join("crates/Tokio.jsonl"), "").expect("write");
    let head_dir = dir.path().join("heads");
    let own = head_dir.join(format!("{}.json", k.public_key().hex()));
    std::fs::copy(
        &own,
        head_dir.join(format!("{}.json", key(2).public_key().hex())),
    )
    .expect("copy");
    let contents = store.read().expect("read");
    let messages: Vec<String> = contents
        .problems
        .iter()
        .map(|(loc, r)| format!("{loc}: {r}"))
        .collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(
        messages[0].contains("Tokio.jsonl: malformed: not a crate file"),
        "{messages:#?}"
    );
    assert!(
        messages[1].contains("serde.jsonl:2: malformed: a record about `tokio`"),
        "{messages:#?}"
    );
    assert!(
        messages[2].contains("a head in the file of another key"),
        "{messages:#?}"
    );
}

#[test]
fn a_revocation_is_stored_next_to_what_it_revokes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::new(dir.path());
    let k = key(1);
    let target = reviewed(&k, "serde", "1.0.0");
    store
        .append(std::slice::from_ref(&target), &k, now(), LIFETIME_DAYS)
        .expect("append");
    let revocation = SignedRecord::sign(
        Record {
            key: k.public_key(),
            created: now(),
            statement: Statement::Revocation {
                revokes: target.id(),
                reason: "wrong version".into(),
            },
        },
        &k,
    )
    .expect("valid");
    store
        .append(std::slice::from_ref(&revocation), &k, now(), LIFETIME_DAYS)
        .expect("append");
    assert_eq!(
        lines(&dir.path().join("crates/serde.jsonl")),
        [target.to_json_line(), revocation.to_json_line()]
    );
    let unknown = SignedRecord::sign(
        Record {
            key: k.public_key(),
            created: now(),
            statement: Statement::Revocation {
                revokes: revocation.id(),
                reason: "x".into(),
            },
        },
        &k,
    )
    .expect("valid");
    let other_store = LocalStore::new(dir.path().join("other"));
    assert!(
        other_store
            .append(&[unknown], &k, now(), LIFETIME_DAYS)
            .is_err()
    );
}

#[test]
fn removed_records_are_never_blessed_by_a_new_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::new(dir.path());
    let k = key(1);
    store
        .append(
            &[reviewed(&k, "a", "1.0.0"), reviewed(&k, "b", "1.0.0")],
            &k,
            now(),
            LIFETIME_DAYS,
        )
        .expect("append");
    std::fs::remove_file(dir.path().join("crates/b.jsonl")).expect("remove");
    let err = store
        .append(&[reviewed(&k, "c", "1.0.0")], &k, now(), LIFETIME_DAYS)
        .expect_err("must refuse");
    assert!(err.to_string().contains("records were removed"), "{err}");
}

/// How many records each concurrent writer appends.
const PER_WRITER: usize = 12;

fn write_many(root: &Path, writer: u8) {
    let store = LocalStore::new(root);
    // Writers 0 and 1 share a key (they contend for the same head); the others have their own.
    let k = key(writer.max(1));
    for i in 0..PER_WRITER {
        // Half the writers share crate files too.
        let name = if i % 2 == 0 {
            "shared".to_owned()
        } else {
            format!("w{writer}")
        };
        let record = reviewed(&k, &name, &format!("{writer}.{i}.0"));
        store
            .append(&[record], &k, now(), LIFETIME_DAYS)
            .expect("append");
    }
}

fn check_nothing_lost(root: &Path, writers: u8) {
    let contents = LocalStore::new(root).read().expect("read");
    assert!(
        contents.problems.is_empty(),
        "torn or bad lines: {:?}",
        contents.problems
    );
    assert_eq!(contents.records.len(), usize::from(writers) * PER_WRITER);
    for (key, head) in &contents.heads {
        let ids: std::collections::BTreeSet<_> = contents
            .records
            .iter()
            .filter(|r| r.record.key() == key)
            .map(|r| r.record.id())
            .collect();
        assert_eq!(head.check_records(&ids), Ok(()));
        // One head per append: the sequence counts every append of that key.
        assert_eq!(head.head().sequence, head.head().count);
    }
    assert_eq!(contents.heads.len(), usize::from(writers) - 1);
}

#[test]
fn concurrent_threads_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writers = 6u8;
    std::thread::scope(|scope| {
        for w in 0..writers {
            let root = dir.path();
            scope.spawn(move || write_many(root, w));
        }
    });
    check_nothing_lost(dir.path(), writers);
}

/// The child side of [`concurrent_processes_lose_nothing`]: does nothing unless started by it.
#[test]
#[ignore]
fn store_child_writer() {
    if let (Some(root), Some(writer)) = (
        std::env::var_os("AUDIT_TRUST_TEST_STORE"),
        std::env::var("AUDIT_TRUST_TEST_WRITER").ok(),
    ) {
        write_many(Path::new(&root), writer.parse().expect("writer number"));
    }
}

#[test]
fn concurrent_processes_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writers = 5u8;
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..writers)
        .map(|w| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "signoff::tests::store::store_child_writer",
                    "--ignored",
                    "--quiet",
                ])
                .env("AUDIT_TRUST_TEST_STORE", dir.path())
                .env("AUDIT_TRUST_TEST_WRITER", w.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start a writer process")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success());
    }
    check_nothing_lost(dir.path(), writers);
}

#[test]
fn a_long_unverified_head_is_kept_bounded_and_the_mirror_stays_readable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::new(dir.path());
    let k = key(1);
    // 2,000 four-byte characters: 8,000 bytes, twice what a head file may hold.
    let served = "\u{1F600}".repeat(2000);
    store
        .import_unverified_head(&k.public_key(), &served)
        .expect("import");
    let contents = store.read().expect("the mirror stays readable");
    assert!(contents.heads.is_empty());
    assert_eq!(contents.problems.len(), 1, "{:?}", contents.problems);
    assert!(
        contents.problems[0]
            .0
            .path
            .ends_with(format!("{}.json", k.public_key().hex()))
    );
}
