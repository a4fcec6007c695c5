//! The registry's transparency log: an append-only RFC 6962 Merkle tree of every record the
//! registry accepted, C2SP checkpoints signed by the registry's log key and cosigned by
//! witnesses, inclusion and consistency proofs, and a crate index that makes a withheld record
//! detectable. The design and its argument are in `docs/transparency-log.md`.

mod answer;
mod crate_index;
mod error;
mod merkle;
mod monitor;
mod multiproof;
mod note;
mod static_crates;
mod tile_proofs;
mod tiles;
mod tree;
mod verify;
mod versions;
mod versions_verify;
mod witness;

pub use answer::{CrateProofs, LogAnswer};
pub use crate_index::{
    CrateCommitment, CrateIndex, IndexProof, IndexedCrate, LogEntry, verify_index_proof,
};
pub use error::TlogError;
pub use merkle::{
    Hash, MAX_PROOF_HASHES, empty_root, leaf_hash, node_hash, root_of, verify_consistency,
    verify_inclusion,
};
pub use monitor::{Replay, ServedEntry};
pub use multiproof::{MAX_MULTI_PROOF_HASHES, verify_multi_inclusion};
pub use note::{
    CRATE_INDEX_EXTENSION, Checkpoint, MAX_NOTE_BYTES, NoteKey, NoteSignature, SignedNote,
    valid_key_name,
};
pub use static_crates::{
    INDEX_CHUNK_LEAVES, IndexLeaf, MAX_STATIC_FILE_BYTES, StaticIndex, StaticVersionLeaf,
    commitment_in_runs, crate_path, index_files, index_path, leaf_file, leaf_path, parse_leaf_file,
    path_safe_name, run_path, verify_crate_leaves, verify_run,
};
pub use tile_proofs::{
    MemoryTiles, TILE_HEIGHT, TileProver, TileReader, consistency_from_tiles, inclusion_from_tiles,
    tile_bytes, tile_width, tiles_between, tiles_to_write, verify_upper_tiles,
};
pub use tiles::{
    entries_path, entry_bundle, hash_tile, parse_entry_bundle, parse_hash_tile, records_path,
    tile_count,
};
pub use tree::MemoryTree;
pub use verify::{
    LogPin, ProvenEntry, TILE_WIDTH, VerifiedCheckpoint, check_progress, tile_path,
    verify_checkpoint, verify_crate_answer, verify_leaf_tiles, verify_versions_answer,
};
pub use versions::{
    FiledLeaf, Filing, KEY_BUCKET_CHARS, MAX_CLOSURE_VERSIONS, VersionLeaf, VersionQuery,
    VersionsAnswer, digest as version_leaf_digest, filing_of, is_key_bucket, key_bucket,
};
pub use versions_verify::{ListedEntry, verify_versions};
pub use witness::{
    AddCheckpoint, MAX_WITNESS_PROOF_LINES, WitnessRefusal, WitnessState, add_checkpoint,
    add_checkpoint_body, parse_add_checkpoint_body, with_cosignatures,
};

/// Proof hashes as base64 strings in JSON, for the wire formats that carry proofs.
pub mod serde_hashes {
    pub use super::crate_index::hashes_b64::{deserialize, serialize};
}

#[cfg(test)]
mod tests;
