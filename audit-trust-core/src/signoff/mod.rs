//! Sign-offs: signed statements by auditors about crate versions, the keys that sign them, the
//! heads that make withheld records detectable, and the local store that keeps them next to
//! `Cargo.audit`. The format is documented in `docs/signoff-format.md`.
//!
//! Trust flows one way: a record is first checked against the key it names
//! ([`SignedRecord::from_json_line`]), then against the pins in `Cargo.audit`
//! ([`verify::authorize`]); a source's records must match the key's signed head, and that head
//! must not be older than the highest one seen ([`HeadCache`]).

mod checkpoint_cache;
mod crate_file;
mod criteria;
mod encoding;
mod head;
mod head_cache;
mod key;
mod key_file;
mod log_reader;

mod project_sources;
mod record;
mod registry_client;
mod registry_sync;
mod rejection;
mod signed;
mod source;
mod static_client;
pub mod static_export;
mod static_file_cache;
mod static_log_reader;
pub mod static_writer;
mod store;
mod verified_ids;
pub mod verify;
mod wire;

pub use checkpoint_cache::CheckpointCache;
pub use crate_file::{
    SourceMatchesRequest, VerifiedCrate, source_evidence_in, source_matches_evidence,
    verified_crate,
};
pub use criteria::Criterion;
pub use head::{Head, SignedHead, records_hash};
pub use head_cache::HeadCache;
pub use key::{KeyError, PUBLIC_KEY_PREFIX, PublicKey, SECRET_KEY_PREFIX, Signature, SigningKey};
pub use key_file::{SIGNING_KEY_ENV, create_key_file, key_from_env_value, load_key_file};

pub use log_reader::{PerCrateRead, read_per_crate};
pub use project_sources::{ProjectRecords, RemoteAccess, verify_project_sources};
pub use record::{
    DeltaBase, FORMAT_VERSION, MAX_NOTES_BYTES, MAX_REASON_BYTES, Record, RecordId,
    RepositoryTrust, SourceEvidence, Statement, Subject, VERDICT_MATCHES,
};
pub use registry_client::{
    KeyLog, RegistryClient, ReportedDenied, ReportedEvidence, ReportedNotComputed, ReportedRisk,
    ReportedSignal, ReportedVerification,
};
pub use registry_sync::{
    LogSource, PublishSummary, mirror_age, mirror_path, publish_records, static_mirror_path,
    sync_mirror,
};
pub use rejection::Rejection;
pub use signed::SignedRecord;
pub use source::{
    AcceptedRecord, RejectedItem, RevokedRecord, UnverifiedLog, VerifiedSource, verify_source,
};
pub use static_client::StaticClient;
pub use store::{LocalStore, Location, PossibleFlag, StoreContents, StoredRecord};
pub use wire::MAX_RECORD_LINE_BYTES;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests;
