//! Witnesses: a witness refuses an inconsistent or stale checkpoint, and a client with no state
//! that pins two witnesses rejects a rolled-back or forked checkpoint.

use super::super::*;
use super::TestLog;
use crate::signoff::SigningKey;

struct Witness {
    secret: SigningKey,
    key: NoteKey,
    state: Option<WitnessState>,
}

impl Witness {
    fn new(name: &str) -> Witness {
        let secret = SigningKey::generate().expect("OS randomness");
        let key = NoteKey::new(name, secret.public_key()).expect("name");
        Witness {
            secret,
            key,
            state: None,
        }
    }

    /// Offers the log's current checkpoint with a proof from the size the witness holds.
    fn offer(&mut self, log: &mut TestLog, time: u64) -> Result<NoteSignature, WitnessRefusal> {
        let old = self.state.as_ref().map_or(0, |s| s.checkpoint.size);
        let proof = log
            .tree
            .consistency_proof(old, log.tree.size())
            .expect("proof");
        let note = log.note().to_text();
        self.offer_at(log, old, &proof, &note, time)
    }

    fn offer_with(
        &mut self,
        log: &TestLog,
        old: u64,
        proof: &[Hash],
        note: &str,
    ) -> Result<NoteSignature, WitnessRefusal> {
        self.offer_at(log, old, proof, note, 1_700_000_000)
    }

    fn offer_at(
        &mut self,
        log: &TestLog,
        old: u64,
        proof: &[Hash],
        note: &str,
        time: u64,
    ) -> Result<NoteSignature, WitnessRefusal> {
        let (state, cosignature) = add_checkpoint(
            &log.pin(),
            self.state.as_ref(),
            AddCheckpoint {
                old_size: old,
                proof,
                note,
            },
            &self.key,
            &self.secret,
            time,
        )?;
        // Stored before the cosignature is released.
        let stored = state.to_text();
        self.state = Some(WitnessState::from_text(&stored).expect("round trip"));
        Ok(cosignature)
    }
}

#[test]
fn a_witness_refuses_an_inconsistent_or_stale_checkpoint() {
    let mut log = TestLog::new();
    log.append("serde", 1);
    log.append("tokio", 2);
    let mut witness = Witness::new("witness.example");
    witness.offer(&mut log, 1).expect("first checkpoint");
    log.append("serde", 3);
    witness.offer(&mut log, 2).expect("an extension");

    // A fork: another log under the same key, of a larger size, that does not extend it.
    let mut fork = TestLog::new();
    fork.secret = SigningKey::parse(&log.secret.to_file_text()).expect("same key");
    fork.key = log.key.clone();
    for i in 0..5 {
        fork.append("serde", 100 + i);
    }
    let held = witness.state.as_ref().expect("state").checkpoint.size;
    let proof = fork.tree.consistency_proof(held, 5).expect("proof");
    let note = fork.note().to_text();
    assert!(matches!(
        witness.offer_with(&fork, held, &proof, &note),
        Err(WitnessRefusal::Invalid(TlogError::BadConsistencyProof(_)))
    ));
    // A rollback to a smaller tree.
    let mut small = TestLog::new();
    small.secret = SigningKey::parse(&log.secret.to_file_text()).expect("same key");
    small.key = log.key.clone();
    small.append("serde", 1);
    let note = small.note().to_text();
    assert_eq!(
        witness
            .offer_with(&small, held, &[], &note)
            .map_err(|r| match r {
                WitnessRefusal::Invalid(e) => e.code(),
                WitnessRefusal::SizeConflict { .. } => "size-conflict",
            }),
        Err("log-rollback")
    );
    // A client that thinks the witness holds another size is told the size it holds.
    let note = log.note().to_text();
    assert_eq!(
        witness.offer_with(&log, 1, &[], &note),
        Err(WitnessRefusal::SizeConflict { held })
    );
    // A checkpoint signed by another key is not cosigned.
    let stranger = TestLog::new();
    let mut other = stranger;
    other.append("serde", 1);
    let note = other.note().to_text();
    assert!(witness.offer_with(&log, held, &[], &note).is_err());
    assert_eq!(witness.state.as_ref().expect("state").checkpoint.size, 3);
}

#[test]
fn a_fresh_client_pinning_two_witnesses_rejects_a_rolled_back_checkpoint() {
    let mut log = TestLog::new();
    log.append("serde", 1);
    let (mut w1, mut w2) = (Witness::new("w1.example"), Witness::new("w2.example"));
    let old_note = log.note();
    let old_cosigned = with_cosignatures(
        old_note.clone(),
        &[
            w1.offer(&mut log, 1_000).expect("w1"),
            w2.offer(&mut log, 1_000).expect("w2"),
        ],
    );
    // A flag is appended; both witnesses move on.
    log.append("serde", 2);
    let new_cosigned = with_cosignatures(
        log.note(),
        &[
            w1.offer(&mut log, 2_000).expect("w1"),
            w2.offer(&mut log, 2_001).expect("w2"),
        ],
    );
    let mut pin = log.pin();
    pin.witnesses = vec![w1.key.clone(), w2.key.clone()];
    pin.min_cosignatures = 2;
    // The client accepts cosignatures from the last while (its clock minus the window).
    pin.cosigned_after = 1_500;
    assert!(verify_checkpoint(&pin, &new_cosigned.to_text()).is_ok());
    // Cosignatures dated after the client's clock (plus its allowance) do not count: one
    // witness's clock running ahead leaves one cosignature, not two.
    pin.cosigned_before = 2_000;
    assert_eq!(
        verify_checkpoint(&pin, &new_cosigned.to_text()).map_err(|e| e.code()),
        Err("missing-cosignatures")
    );
    pin.cosigned_before = u64::MAX;
    // The old checkpoint was cosigned, but long ago: the witnesses have cosigned newer ones
    // since, so serving it to a fresh client is a rollback, and it is refused.
    assert_eq!(
        verify_checkpoint(&pin, &old_cosigned.to_text()).map_err(|e| e.code()),
        Err("missing-cosignatures")
    );
    // A fresh cosignature for the old tree cannot be had: the witnesses hold the newer one.
    let stale = old_note.to_text();
    assert!(w1.offer_at(&log, 2, &[], &stale, 3_000).is_err());
    // Nor for a forked tree of the same or a larger size.
    let mut rolled_back = TestLog::new();
    rolled_back.secret = SigningKey::parse(&log.secret.to_file_text()).expect("same key");
    rolled_back.key = log.key.clone();
    rolled_back.append("serde", 1);
    rolled_back.append("serde", 9);
    let forged = rolled_back.note();
    let refused_1 = w1.offer_with(&rolled_back, 2, &[], &forged.to_text());
    let refused_2 = w2.offer_with(&rolled_back, 2, &[], &forged.to_text());
    assert!(refused_1.is_err() && refused_2.is_err());
    // Without the witnesses' cosignatures, the fresh client refuses the forked checkpoint.
    assert_eq!(
        verify_checkpoint(&pin, &forged.to_text()).map_err(|e| e.code()),
        Err("missing-cosignatures")
    );
    // With one witness colluding, still refused: two are required.
    let colluding = w1.key.cosign(&w1.secret, &forged.body, 1);
    let one = with_cosignatures(forged, &[colluding]);
    assert_eq!(
        verify_checkpoint(&pin, &one.to_text()).map_err(|e| e.code()),
        Err("missing-cosignatures")
    );
}

#[test]
fn add_checkpoint_bodies_and_cosignature_lines_round_trip() {
    let mut log = TestLog::new();
    for i in 0..5u8 {
        log.append("serde", i);
    }
    let proof = log.tree.consistency_proof(3, 5).expect("proof");
    let note = log.note().to_text();
    let body = add_checkpoint_body(3, &proof, &note);
    assert!(body.starts_with("old 3\n"), "{body}");
    let (old, parsed, text) = parse_add_checkpoint_body(&body).expect("parses");
    assert_eq!(
        (old, parsed.as_slice(), text),
        (3, proof.as_slice(), note.as_str())
    );

    for bad in [
        "old 03\n\nx".to_owned(),
        "old 1\nnot base64\n\nx".to_owned(),
        "new 1\n\nx".to_owned(),
        format!("old 0\n{}\n\nx", "A".repeat(43) + "="),
        format!("old 9\n{}\nx", "A".repeat(43) + "="),
    ] {
        let err = parse_add_checkpoint_body(&bad).expect_err(&bad);
        assert_eq!(err.code(), "malformed-proof", "{bad}");
    }

    let mut witness = Witness::new("witness.example/w1");
    let cosignature = witness.offer(&mut log, 1_700_000_000).expect("cosigns");
    let line = cosignature.to_line();
    assert!(line.starts_with("\u{2014} witness.example/w1 ") && line.ends_with('\n'));
    assert_eq!(
        NoteSignature::parse_lines(&line).expect("parses"),
        vec![cosignature]
    );
    assert!(NoteSignature::parse_lines("\u{2014} w x\n").is_err());
}
