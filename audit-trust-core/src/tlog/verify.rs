//! What a client checks, in order: the checkpoint is the pinned log's, signed by its key and
//! cosigned by enough pinned witnesses; it extends the checkpoint the client saw before; the
//! crate index shows how many entries each asked crate has; and the answer proves every one of
//! them in the log.

use std::collections::BTreeSet;

use super::crate_index::{CrateCommitment, IndexProof, LogEntry, verify_index_proof};
use super::error::TlogError;
use super::merkle::{Hash, root_of, verify_consistency, verify_inclusion};
use super::note::{Checkpoint, NoteKey, SignedNote};
use super::versions::{VersionQuery, VersionsAnswer};
use super::versions_verify::{ListedEntry, verify_versions};

/// What a client pins about a log.
#[derive(Debug, Clone)]
pub struct LogPin {
    pub origin: String,
    pub key: NoteKey,
    pub witnesses: Vec<NoteKey>,
    /// How many of `witnesses` must have cosigned (0 when none are pinned).
    pub min_cosignatures: usize,
    /// Cosignatures older than this (seconds since the Unix epoch) do not count: a witness
    /// cosigns the newest checkpoint it saw, so an old cosigned checkpoint is a rollback.
    pub cosigned_after: u64,
    /// Cosignatures dated after this do not count either: a witness whose clock runs ahead
    /// would otherwise make its cosignatures count for longer than the maximum age.
    pub cosigned_before: u64,
}

/// A checkpoint note that passed [`verify_checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: SignedNote,
}

/// Parses `text` and checks it against `pin`.
pub fn verify_checkpoint(pin: &LogPin, text: &str) -> Result<VerifiedCheckpoint, TlogError> {
    let note = SignedNote::parse(text)?;
    let checkpoint = Checkpoint::parse_body(&note.body)?;
    if checkpoint.origin != pin.origin {
        return Err(TlogError::OriginMismatch {
            expected: pin.origin.clone(),
            got: checkpoint.origin.escape_default().to_string(),
        });
    }
    pin.key.verify(&note)?;
    let cosigned = pin
        .witnesses
        .iter()
        .filter(|w| {
            w.cosignature_time(&note)
                .is_some_and(|t| t >= pin.cosigned_after && t <= pin.cosigned_before)
        })
        .count();
    if cosigned < pin.min_cosignatures {
        return Err(TlogError::MissingCosignatures {
            needed: pin.min_cosignatures,
            got: cosigned,
        });
    }
    Ok(VerifiedCheckpoint { checkpoint, note })
}

/// Checks that `new` does not contradict `seen` (the checkpoint cached earlier): not smaller,
/// not another root at the same size, and extending it by `proof`.
pub fn check_progress(
    seen: Option<&Checkpoint>,
    new: &Checkpoint,
    proof: &[Hash],
) -> Result<(), TlogError> {
    let Some(seen) = seen else {
        return Ok(());
    };
    if new.size < seen.size {
        return Err(TlogError::Rollback {
            seen: seen.size,
            got: new.size,
        });
    }
    verify_consistency(seen.size, new.size, &seen.root, &new.root, proof)
}

/// One entry of an answer and its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenEntry {
    pub leaf_index: u64,
    pub entry: LogEntry,
    pub proof: Vec<Hash>,
}

/// Checks that `entries` are exactly all of `name`'s entries in the log `checkpoint` commits to.
pub fn verify_crate_answer(
    checkpoint: &Checkpoint,
    name: &str,
    index_proof: &IndexProof,
    entries: &[ProvenEntry],
) -> Result<(), TlogError> {
    let (index_size, index_root) = checkpoint.crate_index()?;
    let commitment = verify_index_proof(name, index_proof, index_size, &index_root)?;
    verify_entries(checkpoint, name, &commitment, entries)
}

/// Checks that `entries` are exactly the `commitment.count` entries of `name` in the log.
pub(super) fn verify_entries(
    checkpoint: &Checkpoint,
    name: &str,
    commitment: &CrateCommitment,
    entries: &[ProvenEntry],
) -> Result<(), TlogError> {
    let expected = commitment.count;
    let mut ordinals = BTreeSet::new();
    for e in entries {
        if e.entry.crate_name != name {
            return Err(TlogError::EntryMismatch(format!(
                "an entry for `{}` was served as one of `{}`'s",
                e.entry.crate_name.escape_default(),
                name.escape_default()
            )));
        }
        verify_inclusion(
            e.leaf_index,
            checkpoint.size,
            &e.entry.leaf_hash(),
            &e.proof,
            &checkpoint.root,
        )?;
        if e.entry.ordinal >= expected || !ordinals.insert(e.entry.ordinal) {
            return Err(TlogError::EntryMismatch(format!(
                "entry #{} of `{}` is beyond the {expected} the index commits to, or repeated",
                e.entry.ordinal,
                name.escape_default()
            )));
        }
    }
    let got = ordinals.len() as u64;
    if got != expected {
        return Err(TlogError::WithheldRecord {
            name: name.to_owned(),
            expected,
            got,
        });
    }
    Ok(())
}

/// Checks an answer scoped to some versions of `name` (and maybe some keys): the crate's
/// index proof, then the version tree's leaves and their multi-leaf proof. Returns every entry
/// the log files under what was asked, which the answer must serve.
pub fn verify_versions_answer(
    checkpoint: &Checkpoint,
    name: &str,
    index_proof: &IndexProof,
    answer: &VersionsAnswer,
    query: VersionQuery<'_>,
) -> Result<Vec<ListedEntry>, TlogError> {
    let (index_size, index_root) = checkpoint.crate_index()?;
    let commitment = verify_index_proof(name, index_proof, index_size, &index_root)?;
    verify_listed_versions(checkpoint, name, &commitment, answer, query)
}

/// As [`verify_versions_answer`], for a crate whose index `commitment` is already checked.
pub(super) fn verify_listed_versions(
    checkpoint: &Checkpoint,
    name: &str,
    commitment: &CrateCommitment,
    answer: &VersionsAnswer,
    query: VersionQuery<'_>,
) -> Result<Vec<ListedEntry>, TlogError> {
    let listed = verify_versions(
        name,
        answer,
        query,
        commitment.versions,
        &commitment.versions_root,
    )?;
    if let Some(beyond) = listed.iter().find(|e| e.leaf >= checkpoint.size) {
        return Err(TlogError::EntryMismatch(format!(
            "`{}@{}` lists entry {}, beyond the log's {} entries",
            name.escape_default(),
            beyond.version.escape_default(),
            beyond.leaf,
            checkpoint.size
        )));
    }
    Ok(listed)
}

/// Hashes per C2SP tile (`tlog-tiles` uses tiles of height 8).
pub const TILE_WIDTH: u64 = 256;

/// The C2SP `tlog-tiles` path of a tile: `tile/<L>/<N>` with N written in 3-digit groups, the
/// leading ones prefixed `x`, and `.p/<W>` for a partial tile of width W.
pub fn tile_path(level: u8, index: u64, width: u64) -> String {
    let digits = format!("{index}");
    let padded = format!("{:0>width$}", digits, width = digits.len().div_ceil(3) * 3);
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|c| std::str::from_utf8(c).unwrap_or("000"))
        .collect();
    let last = groups.len() - 1;
    let mut path = format!("tile/{level}");
    for (i, g) in groups.iter().enumerate() {
        path.push('/');
        if i < last {
            path.push('x');
        }
        path.push_str(g);
    }
    if width < TILE_WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

/// Checks that the level-0 tiles (each `TILE_WIDTH` leaf hashes, the last possibly fewer) hash
/// to `checkpoint`'s tree. A monitor replaying the log reads them all.
pub fn verify_leaf_tiles(checkpoint: &Checkpoint, tiles: &[Vec<Hash>]) -> Result<(), TlogError> {
    let mut leaves = Vec::new();
    for (i, tile) in tiles.iter().enumerate() {
        let start = i as u64 * TILE_WIDTH;
        let expected = checkpoint.size.saturating_sub(start).min(TILE_WIDTH);
        if tile.len() as u64 != expected {
            return Err(TlogError::TileMismatch {
                tile: tile_path(0, i as u64, expected),
            });
        }
        leaves.extend_from_slice(tile);
    }
    if leaves.len() as u64 != checkpoint.size || root_of(&leaves) != checkpoint.root {
        let last = tiles.len().saturating_sub(1) as u64;
        return Err(TlogError::TileMismatch {
            tile: format!("{} and the tiles before it", tile_path(0, last, TILE_WIDTH)),
        });
    }
    Ok(())
}
