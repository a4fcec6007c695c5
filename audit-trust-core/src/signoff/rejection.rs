//! Why a record or a head was not accepted. These are findings, not errors: a source with a bad
//! record still serves its good ones, and the gate reports what it ignored. Each reason has a
//! stable kebab-case code for JSON output.

use super::{Criterion, PublicKey};
use crate::time::{Date, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("malformed: {0}")]
    Malformed(String),

    #[error(
        "format version {0} is not one this tool reads (it reads version 1); update cargo audit-trust"
    )]
    UnknownFormat(u64),

    #[error(
        "the signature does not match: a field was changed after signing, or {key} did not sign it"
    )]
    BadSignature { key: PublicKey },

    #[error("the stored id is not the hash of what was signed")]
    IdMismatch,

    #[error("signed by {key}, which auditor `{auditor}` does not pin")]
    KeyNotPinned { key: PublicKey, auditor: String },

    #[error("signed by {key}, whose pin in Cargo.audit ended on {not_after}")]
    KeyExpired { key: PublicKey, not_after: Date },

    #[error("{key} may not assert `{criterion}` (see its `criteria` in Cargo.audit)")]
    CriterionNotAllowed {
        key: PublicKey,
        criterion: Criterion,
    },

    #[error("signed for checksum {signed}, but the package's checksum is {actual}")]
    ChecksumMismatch { signed: String, actual: String },

    #[error("not about {expected}")]
    OtherPackage { expected: String },

    #[error("there is no head for {key}, so withheld records could not be noticed")]
    NoHead { key: PublicKey },

    #[error("the head of {key} does not verify ({why}), so withheld records could not be noticed")]
    UnreadableHead { key: PublicKey, why: String },

    #[error(
        "the head of {key} covers {}, but {found} {} served: records were withheld or added",
        crate::words::plural(*.head_count, "record", "records"),
        if *.found == 1 { "was" } else { "were" }
    )]
    RecordsDoNotMatchHead {
        key: PublicKey,
        head_count: u64,
        found: u64,
    },

    #[error("the head of {key} expired at {expires}; the auditor must sign a fresh one")]
    HeadExpired { key: PublicKey, expires: Timestamp },

    #[error(
        "rollback: this source serves head #{served} of {key}, but head #{seen} was seen before"
    )]
    HeadRollback {
        key: PublicKey,
        seen: u64,
        served: u64,
    },

    #[error(
        "fork: this source serves a head #{sequence} of {key} that differs from the one seen before"
    )]
    HeadFork { key: PublicKey, sequence: u64 },

    #[error(
        "truncation: head #{served} of {key} lacks {} that head #{seen} covered",
        crate::words::plural(*.missing as u64, "record", "records")
    )]
    HeadTruncation {
        key: PublicKey,
        seen: u64,
        served: u64,
        missing: usize,
    },
}

impl Rejection {
    /// A stable identifier for machine-readable output.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::UnknownFormat(_) => "unknown-format",
            Rejection::BadSignature { .. } => "bad-signature",
            Rejection::IdMismatch => "id-mismatch",
            Rejection::KeyNotPinned { .. } => "key-not-pinned",
            Rejection::KeyExpired { .. } => "key-expired",
            Rejection::CriterionNotAllowed { .. } => "criterion-not-allowed",
            Rejection::ChecksumMismatch { .. } => "checksum-mismatch",
            Rejection::OtherPackage { .. } => "other-package",
            Rejection::NoHead { .. } => "no-head",
            Rejection::UnreadableHead { .. } => "unreadable-head",
            Rejection::RecordsDoNotMatchHead { .. } => "records-do-not-match-head",
            Rejection::HeadExpired { .. } => "head-expired",
            Rejection::HeadRollback { .. } => "head-rollback",
            Rejection::HeadFork { .. } => "head-fork",
            Rejection::HeadTruncation { .. } => "head-truncation",
        }
    }
}
