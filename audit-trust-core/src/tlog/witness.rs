//! A witness's decision, as C2SP `tlog-witness` describes it: cosign a log's checkpoint only if
//! the log key signed it and it extends the last checkpoint this witness cosigned for that log
//! (a consistency proof from the size the witness holds). The witness keeps the last cosigned
//! checkpoint; the caller stores [`WitnessState::to_text`] durably *before* releasing the
//! cosignature, so a witness that crashes can never cosign a second history.

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
