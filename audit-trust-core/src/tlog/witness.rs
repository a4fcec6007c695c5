//! A witness's decision, as C2SP `tlog-witness` describes it: cosign a log's checkpoint only if
//! the log key signed it and it extends the last checkpoint this witness cosigned for that log
//! (a consistency proof from the size the witness holds). The witness keeps the last cosigned
//! checkpoint; the caller stores [`WitnessState::to_text`] durably *before* releasing the
//! cosignature, so a witness that crashes can never cosign a second history.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::error::TlogError;
use super::merkle::Hash;
use super::note::{Checkpoint, NoteKey, NoteSignature, SignedNote};
use super::verify::{LogPin, check_progress, verify_checkpoint};
use crate::signoff::SigningKey;

/// The last checkpoint a witness cosigned for one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessState {
    pub checkpoint: Checkpoint,
}

impl WitnessState {
    /// The state as text: the checkpoint body (origin, size, root, extensions).
    pub fn to_text(&self) -> String {
        self.checkpoint.body()
    }

    pub fn from_text(text: &str) -> Result<WitnessState, TlogError> {
        Ok(WitnessState {
            checkpoint: Checkpoint::parse_body(text)?,
        })
    }
}

/// Why a witness refused, with what it holds (C2SP answers a stale `old` size with 409 and the
/// size the witness has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessRefusal {
    /// The client's `old` size is not the size the witness holds.
    SizeConflict { held: u64 },
    /// The checkpoint does not verify or does not extend what the witness holds.
    Invalid(TlogError),
}

/// What a log asks a witness (C2SP `add-checkpoint`): the size it believes the witness holds,
/// the consistency proof from it, and the new checkpoint note.
#[derive(Debug, Clone, Copy)]
pub struct AddCheckpoint<'a> {
    pub old_size: u64,
    pub proof: &'a [Hash],
    pub note: &'a str,
}

/// Checks the request's note against the log's pin and the witness's state and, if it may, cosigns it.
/// Returns the new state (to store before answering) and the cosignature line.
pub fn add_checkpoint(
    log: &LogPin,
    state: Option<&WitnessState>,
    request: AddCheckpoint<'_>,
    witness: &NoteKey,
    secret: &SigningKey,
    time: u64,
) -> Result<(WitnessState, NoteSignature), WitnessRefusal> {
    // The witness needs no cosignatures of others to cosign.
    let pin = LogPin {
        witnesses: Vec::new(),
        min_cosignatures: 0,
        cosigned_after: 0,
        cosigned_before: u64::MAX,
        ..log.clone()
    };
    let AddCheckpoint {
        old_size,
        proof,
        note,
    } = request;
    let verified = verify_checkpoint(&pin, note).map_err(WitnessRefusal::Invalid)?;
    let held = state.map(|s| &s.checkpoint);
    if old_size != held.map_or(0, |c| c.size) {
        return Err(WitnessRefusal::SizeConflict {
            held: held.map_or(0, |c| c.size),
        });
    }
    check_progress(held, &verified.checkpoint, proof).map_err(WitnessRefusal::Invalid)?;
    let body = verified.note.body.clone();
    let cosignature = witness.cosign(secret, &body, time);
    Ok((
        WitnessState {
            checkpoint: verified.checkpoint,
        },
        cosignature,
    ))
}

/// `note` with `cosignatures` added (as the log serves it once witnesses answered).
pub fn with_cosignatures(mut note: SignedNote, cosignatures: &[NoteSignature]) -> SignedNote {
    note.signatures.extend(cosignatures.iter().cloned());
    note
}

/// Most consistency proof lines in an `add-checkpoint` request (C2SP `tlog-witness`).
pub const MAX_WITNESS_PROOF_LINES: usize = 63;

/// The body of a C2SP `add-checkpoint` request: `old <size>`, one base64 proof hash per line,
/// a blank line, then the checkpoint note.
pub fn add_checkpoint_body(old_size: u64, proof: &[Hash], note: &str) -> String {
    let mut out = format!("old {old_size}\n");
    for hash in proof {
        out.push_str(&BASE64.encode(hash));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

/// Reads an `add-checkpoint` request body: the old size, the proof and the note's text.
pub fn parse_add_checkpoint_body(text: &str) -> Result<(u64, Vec<Hash>, &str), TlogError> {
    let bad = |why: &str| TlogError::MalformedProof(format!("add-checkpoint request: {why}"));
    let (head, note) = text
        .split_once("\n\n")
        .ok_or_else(|| bad("no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let size_text = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .ok_or_else(|| bad("the first line is not `old <size>`"))?;
    let canonical = size_text == "0" || !size_text.starts_with('0');
    let old_size = size_text
        .parse::<u64>()
        .ok()
        .filter(|_| canonical && size_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| bad("the old size is not a decimal number"))?;
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() == MAX_WITNESS_PROOF_LINES {
            return Err(bad("more than 63 proof lines"));
        }
        let hash = BASE64
            .decode(line)
            .ok()
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or_else(|| bad("a proof line is not a base64 hash"))?;
        proof.push(hash);
    }
    if old_size == 0 && !proof.is_empty() {
        return Err(bad("a proof from size 0 must be empty"));
    }
    Ok((old_size, proof, note))
}
