//! Checkpoints, signatures, cosignatures, the crate index and tiles: every bad input the issue
//! names is refused with its own code.

use super::super::*;
use super::TestLog;
use crate::signoff::SigningKey;

fn sample_log() -> TestLog {
    let mut log = TestLog::new();
    for (i, name) in ["serde", "tokio", "serde", "anyhow", "tokio", "serde"]
        .iter()
        .enumerate()
    {
        log.append(name, i as u8);
    }
    log
}

#[test]
fn checkpoint_text_round_trips_and_verifies() {
    let mut log = sample_log();
    let note = log.note();
    let text = note.to_text();
    assert!(text.starts_with("example.org/log\n6\n"), "{text}");
    assert!(text.contains("\n\n\u{2014} example.org/log "), "{text}");
    assert_eq!(SignedNote::parse(&text), Ok(note.clone()));
    let verified = verify_checkpoint(&log.pin(), &text).expect("verifies");
    assert_eq!(verified.checkpoint, log.checkpoint());
    assert_eq!(verified.checkpoint.crate_index().map(|(n, _)| n), Ok(3));
}

#[test]
fn unknown_key_bad_signature_and_other_origin_are_refused() {
    let mut log = sample_log();
    let text = log.note().to_text();
    let mut other = TestLog::new();
    assert_eq!(
        verify_checkpoint(&other.pin(), &text).map_err(|e| e.code()),
        Err("origin-mismatch").or(Err("unknown-log-key"))
    );
    // Same origin and name, another key: the key id differs, so the line is not the pinned key's.
    other.key.name = "example.org/log".into();
    let mut pin = other.pin();
    pin.origin = "example.org/log".into();
    assert_eq!(
        verify_checkpoint(&pin, &text).map_err(|e| e.code()),
        Err("unknown-log-key")
    );
    let tampered = text.replacen("\n6\n", "\n7\n", 1);
    assert_eq!(
        verify_checkpoint(&log.pin(), &tampered).map_err(|e| e.code()),
        Err("bad-checkpoint-signature")
    );
    let mut wrong_origin = log.pin();
    wrong_origin.origin = "elsewhere.example/log".into();
    assert_eq!(
        verify_checkpoint(&wrong_origin, &text).map_err(|e| e.code()),
        Err("origin-mismatch")
    );
    let unsigned = format!("{}\n", log.checkpoint().body());
    assert!(verify_checkpoint(&log.pin(), &unsigned).is_err());
}

#[test]
fn malformed_notes_and_checkpoints_are_refused() {
    let mut log = sample_log();
    let good = log.note().to_text();
    let body = log.checkpoint().body();
    let sig_line = good.lines().last().expect("line").to_owned();
    for bad in [
        String::new(),
        "no blank line\n".to_owned(),
        format!("{body}\n{sig_line}"),
        format!("{body}\n- ascii dash {}\n", "AAAA"),
        format!("{body}\n\u{2014} name\n"),
        format!("{body}\n\u{2014} name !!!\n"),
        format!("{body}\n\u{2014} na+me AAAAAAAA\n"),
        format!("{body}\n\u{2014} name AAAA\n"),
        format!("{}\u{0007}\n\n{sig_line}\n", body.trim_end()),
        "x".repeat(MAX_NOTE_BYTES + 1),
    ] {
        assert!(SignedNote::parse(&bad).is_err(), "{bad:?}");
    }
    for bad_body in [
        "origin\n",
        "origin\n01\nAAAA\n",
        "origin\n-1\n",
        "\n5\n",
        "origin\n5\nnot-base64\n",
        "origin\n5\nAAAA\n",
        "origin\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "origin\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
        "origin\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ] {
        assert_eq!(
            Checkpoint::parse_body(bad_body).map_err(|e| e.code()),
            Err("malformed-checkpoint"),
            "{bad_body:?}"
        );
    }
    let no_index = Checkpoint::parse_body(
        "origin\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nsome-extension\n",
    )
    .expect("extensions are allowed");
    assert!(no_index.crate_index().is_err());
}

#[test]
fn cosignatures_are_counted_only_for_pinned_witnesses() {
    let mut log = sample_log();
    let mut note = log.note();
    let witnesses: Vec<(SigningKey, NoteKey)> = (0..3)
        .map(|i| {
            let secret = SigningKey::generate().expect("OS randomness");
            let key = NoteKey::new(&format!("witness{i}.example"), secret.public_key()).expect("n");
            (secret, key)
        })
        .collect();
    let mut pin = log.pin();
    pin.witnesses = witnesses.iter().map(|(_, k)| k.clone()).collect();
    pin.min_cosignatures = 2;
    let (s0, k0) = &witnesses[0];
    note.signatures
        .push(k0.cosign(s0, &note.body, 1_700_000_000));
    assert_eq!(
        verify_checkpoint(&pin, &note.to_text()).map_err(|e| e.code()),
        Err("missing-cosignatures")
    );
    // A cosignature by an unpinned key, or the log's own signature type under a witness name,
    // does not count.
    let stranger = SigningKey::generate().expect("OS randomness");
    let (_, k1) = &witnesses[1];
    let forged = NoteKey::new(&k1.name, stranger.public_key()).expect("name");
    note.signatures
        .push(forged.cosign(&stranger, &note.body, 1));
    note.signatures.push(k1.sign(&witnesses[1].0, &note.body));
    assert_eq!(
        verify_checkpoint(&pin, &note.to_text()).map_err(|e| e.code()),
        Err("missing-cosignatures")
    );
    let (s2, k2) = &witnesses[2];
    note.signatures
        .push(k2.cosign(s2, &note.body, 1_700_000_001));
    let text = note.to_text();
    assert!(verify_checkpoint(&pin, &text).is_ok());
    // A cosignature is over the body: moved to another checkpoint, it counts for nothing.
    log.append("late", 99);
    let mut newer = log.note();
    newer
        .signatures
        .extend(note.signatures.iter().skip(1).cloned());
    assert_eq!(
        verify_checkpoint(&pin, &newer.to_text()).map_err(|e| e.code()),
        Err("missing-cosignatures")
    );
}

#[test]
fn rollback_fork_and_bad_consistency_are_caught() {
    let mut log = sample_log();
    let old = log.checkpoint();
    log.append("rand", 50);
    log.append("serde", 51);
    let new = log.checkpoint();
    let proof = log
        .tree
        .consistency_proof(old.size, new.size)
        .expect("proof");
    assert_eq!(check_progress(Some(&old), &new, &proof), Ok(()));
    assert_eq!(check_progress(None, &old, &[]), Ok(()));
    assert_eq!(
        check_progress(Some(&new), &old, &[]).map_err(|e| e.code()),
        Err("log-rollback")
    );
    let mut fork = new.clone();
    fork.root[3] ^= 1;
    assert_eq!(
        check_progress(Some(&new), &fork, &[]).map_err(|e| e.code()),
        Err("log-fork")
    );
    assert_eq!(
        check_progress(Some(&old), &fork, &proof).map_err(|e| e.code()),
        Err("bad-consistency-proof")
    );
    assert_eq!(
        check_progress(Some(&old), &new, &proof[1..]).map_err(|e| e.code()),
        Err("bad-consistency-proof")
    );
}

#[test]
fn a_complete_answer_verifies_and_a_withheld_record_is_caught() {
    let mut log = sample_log();
    let checkpoint = log.checkpoint();
    for name in ["serde", "tokio", "anyhow"] {
        let (index, entries) = log.answer(name);
        assert_eq!(
            verify_crate_answer(&checkpoint, name, &index, &entries),
            Ok(())
        );
    }
    let (index, mut entries) = log.answer("serde");
    assert_eq!(entries.len(), 3);
    entries.remove(1);
    assert_eq!(
        verify_crate_answer(&checkpoint, "serde", &index, &entries).map_err(|e| e.code()),
        Err("withheld-record")
    );
    // Claiming the crate is absent needs neighbours that are adjacent: serde sits between
    // anyhow and tokio, which are not.
    let (IndexProof::Present { entry: anyhow }, _) = log.answer("anyhow") else {
        panic!("anyhow is in the index");
    };
    let (IndexProof::Present { entry: tokio }, _) = log.answer("tokio") else {
        panic!("tokio is in the index");
    };
    let lie = IndexProof::Absent {
        before: Some(anyhow.clone()),
        after: Some(tokio.clone()),
    };
    assert_eq!(
        verify_crate_answer(&checkpoint, "serde", &lie, &[]).map_err(|e| e.code()),
        Err("bad-index-proof")
    );
    // A lower count than the index holds does not verify.
    let (IndexProof::Present { entry: mut serde }, entries) = log.answer("serde") else {
        panic!("serde is in the index");
    };
    serde.count = 2;
    let lower = IndexProof::Present { entry: serde };
    assert_eq!(
        verify_crate_answer(&checkpoint, "serde", &lower, &entries[..2]).map_err(|e| e.code()),
        Err("bad-index-proof")
    );
    // Another crate's entry passed off as this one's, and a tampered inclusion proof.
    let (index, mut entries) = log.answer("tokio");
    entries[0].entry.crate_name = "serde".into();
    assert!(verify_crate_answer(&checkpoint, "tokio", &index, &entries).is_err());
    let (index, mut entries) = log.answer("tokio");
    entries[1].proof[0][0] ^= 1;
    assert_eq!(
        verify_crate_answer(&checkpoint, "tokio", &index, &entries).map_err(|e| e.code()),
        Err("bad-inclusion-proof")
    );
}

#[test]
fn absence_is_proven_at_both_ends_and_in_the_middle() {
    let mut log = sample_log();
    let checkpoint = log.checkpoint();
    for name in ["aaa", "rand", "zzz"] {
        let (index, entries) = log.answer(name);
        assert!(matches!(index, IndexProof::Absent { .. }), "{name}");
        assert!(entries.is_empty());
        assert_eq!(verify_crate_answer(&checkpoint, name, &index, &[]), Ok(()));
    }
    let mut empty = TestLog::new();
    let checkpoint = empty.checkpoint();
    let (index, _) = empty.answer("serde");
    assert_eq!(
        verify_crate_answer(&checkpoint, "serde", &index, &[]),
        Ok(())
    );
    let lie = IndexProof::Absent {
        before: None,
        after: None,
    };
    let mut log = sample_log();
    let checkpoint = log.checkpoint();
    assert!(verify_crate_answer(&checkpoint, "rand", &lie, &[]).is_err());
}

#[test]
fn tiles_must_hash_to_the_tree() {
    let mut log = TestLog::new();
    for i in 0..600u32 {
        log.append(&format!("c{}", i % 40), (i % 250) as u8);
    }
    let checkpoint = log.checkpoint();
    let leaves: Vec<Hash> = (0..600).map(|i| log.tree.leaf(i).expect("leaf")).collect();
    let tiles: Vec<Vec<Hash>> = leaves.chunks(256).map(<[Hash]>::to_vec).collect();
    assert_eq!(verify_leaf_tiles(&checkpoint, &tiles), Ok(()));
    let mut bad = tiles.clone();
    bad[1][17][0] ^= 1;
    assert_eq!(
        verify_leaf_tiles(&checkpoint, &bad).map_err(|e| e.code()),
        Err("tile-mismatch")
    );
    let mut short = tiles.clone();
    short[2].pop();
    assert_eq!(
        verify_leaf_tiles(&checkpoint, &short).map_err(|e| e.code()),
        Err("tile-mismatch")
    );
    assert_eq!(tile_path(0, 1_234_067, 256), "tile/0/x001/x234/067");
    assert_eq!(tile_path(1, 5, 17), "tile/1/005.p/17");
}
