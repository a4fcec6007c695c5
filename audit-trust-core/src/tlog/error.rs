//! Why a log answer was refused. Every case has a stable kebab-case code for JSON output and
//! tests; none of them is ever passed over.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    #[error("the signed note is malformed: {0}")]
    MalformedNote(String),

    #[error("the checkpoint is malformed: {0}")]
    MalformedCheckpoint(String),

    #[error("the proof is malformed: {0}")]
    MalformedProof(String),

    #[error("the checkpoint is for log `{got}`, not the pinned log `{expected}`")]
    OriginMismatch { expected: String, got: String },

    #[error(
        "the checkpoint carries no signature by the pinned log key `{name}`: it was signed by an \
         unknown key, or not at all"
    )]
    UnknownKey { name: String },

    #[error("the checkpoint's signature by `{name}` does not verify")]
    BadSignature { name: String },

    #[error("the inclusion proof does not verify: {0}")]
    BadInclusionProof(String),

    #[error("the consistency proof does not verify: {0}")]
    BadConsistencyProof(String),

    #[error(
        "the log shrank: a checkpoint of {seen} records was seen before, this one has {got} \
         (a rollback)"
    )]
    Rollback { seen: u64, got: u64 },

    #[error(
        "two checkpoints of {size} records have different roots: the log shows different \
         histories to different clients (a fork)"
    )]
    Fork { size: u64 },

    #[error(
        "the checkpoint carries {got} valid cosignatures of pinned witnesses, {needed} are \
         required"
    )]
    MissingCosignatures { needed: usize, got: usize },

    #[error("tile {tile} does not hash to the tree the checkpoint commits to")]
    TileMismatch { tile: String },

    #[error("tile {tile} cannot be read: {why}")]
    TileUnavailable { tile: String, why: String },

    #[error("the crate index proof for `{name}` does not verify: {why}")]
    BadIndexProof { name: String, why: String },

    #[error(
        "the log commits to {expected} records for `{name}`, but the answer proves {got}: \
         records were withheld"
    )]
    WithheldRecord {
        name: String,
        expected: u64,
        got: u64,
    },

    #[error("a record does not match its log entry: {0}")]
    EntryMismatch(String),

    #[error("a record in the log does not verify: {0}")]
    BadRecord(String),

    /// A request a log cannot answer (a size it does not have); servers answer it with 4xx.
    #[error("{0}")]
    BadRequest(String),
}

impl TlogError {
    pub fn code(&self) -> &'static str {
        match self {
            TlogError::MalformedNote(_) => "malformed-note",
            TlogError::MalformedCheckpoint(_) => "malformed-checkpoint",
            TlogError::MalformedProof(_) => "malformed-proof",
            TlogError::OriginMismatch { .. } => "origin-mismatch",
            TlogError::UnknownKey { .. } => "unknown-log-key",
            TlogError::BadSignature { .. } => "bad-checkpoint-signature",
            TlogError::BadInclusionProof(_) => "bad-inclusion-proof",
            TlogError::BadConsistencyProof(_) => "bad-consistency-proof",
            TlogError::Rollback { .. } => "log-rollback",
            TlogError::Fork { .. } => "log-fork",
            TlogError::MissingCosignatures { .. } => "missing-cosignatures",
            TlogError::TileMismatch { .. } => "tile-mismatch",
            TlogError::TileUnavailable { .. } => "tile-unavailable",
            TlogError::BadIndexProof { .. } => "bad-index-proof",
            TlogError::WithheldRecord { .. } => "withheld-record",
            TlogError::EntryMismatch(_) => "entry-mismatch",
            TlogError::BadRecord(_) => "bad-record",
            TlogError::BadRequest(_) => "bad-request",
        }
    }
}
