//! Heads: with its records, each key publishes a signed head — a sequence number, how many
//! records it has signed so far, a hash over all of their ids, and an expiry. A source that
//! withholds a record (a new flag, a revocation) can no longer match the head; serving an older
//! head is caught by the client's cache of the highest head seen ([`super::head_cache`]); and an
//! expired head stops a frozen mirror from being believed forever.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::encoding::{Encoder, RECORD_SET_TAG, head_bytes};
use super::record::{FORMAT_VERSION, RecordId};
use super::rejection::Rejection;
use super::{PublicKey, Signature, SigningKey};
use crate::time::Timestamp;

/// A head file is one small object.
const MAX_HEAD_BYTES: usize = 4096;

/// The highest sequence number a head may carry: databases store it as a signed 64-bit integer
/// (SQLite INTEGER, PostgreSQL BIGINT), and one that cannot be stored losslessly must be refused
/// everywhere alike, not clamped (a clamped number lets a lower or a second head follow it).
pub const MAX_SEQUENCE: u64 = i64::MAX as u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub key: PublicKey,
    /// 1 for the first head, one more for each later one.
    pub sequence: u64,
    /// How many records of this key the head covers.
    pub count: u64,
    /// [`records_hash`] of their ids.
    pub records_hash: [u8; 32],
    /// Informational, like a record's.
    pub created: Timestamp,
    /// After this instant the head, and with it every record of the key from this source, is
    /// refused until the auditor signs a fresh head.
    pub expires: Timestamp,
}

impl Head {
    /// The head that follows `previous` (or the first one) and covers `ids`.
    pub fn next(
        previous: Option<&Head>,
        key: PublicKey,
        ids: &BTreeSet<RecordId>,
        now: Timestamp,
        lifetime_days: i64,
    ) -> Head {
        Head {
            key,
            sequence: previous.map_or(1, |h| h.sequence.saturating_add(1)),
            count: ids.len() as u64,
            records_hash: records_hash(ids),
            created: now,
            expires: now.plus_days(lifetime_days.max(1)),
        }
    }
}

/// The hash over a set of record ids: sorted, so it does not depend on the order a source
/// returns them in.
pub fn records_hash(ids: &BTreeSet<RecordId>) -> [u8; 32] {
    let mut e = Encoder::new(RECORD_SET_TAG);
    e.u64(ids.len() as u64);
    for id in ids {
        e.raw(id.as_bytes());
    }
    Sha256::digest(e.into_bytes()).into()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHead {
    head: Head,
    signature: Signature,
    /// SHA-256 of the signed bytes: two heads with the same number but another id are a fork.
    id: [u8; 32],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct WireHead {
    format: u64,
    kind: String,
    id: String,
    key: String,
    sequence: u64,
    count: u64,
    records_hash: String,
    created: String,
    expires: String,
    signature: String,
}

impl SignedHead {
    pub fn sign(head: Head, key: &SigningKey) -> Result<SignedHead, String> {
        if head.key != key.public_key() {
            return Err("the head names another key than the one signing it".into());
        }
        if head.sequence == 0 || head.expires <= head.created {
            return Err("a head starts at sequence 1 and expires after it was made".into());
        }
        if head.sequence > MAX_SEQUENCE {
            return Err(format!(
                "a head's sequence is at most {MAX_SEQUENCE}; this key's log cannot grow further"
            ));
        }
        let bytes = head_bytes(&head);
        Ok(SignedHead {
            signature: key.sign(&bytes),
            id: Sha256::digest(&bytes).into(),
            head,
        })
    }

    pub fn head(&self) -> &Head {
        &self.head
    }

    pub fn id_hex(&self) -> String {
        super::hex(&self.id)
    }

    /// Pretty JSON (one field per line), with a final newline.
    pub fn to_json(&self) -> String {
        let h = &self.head;
        let wire = WireHead {
            format: u64::from(FORMAT_VERSION),
            kind: "head".into(),
            id: self.id_hex(),
            key: h.key.to_string(),
            sequence: h.sequence,
            count: h.count,
            records_hash: super::hex(&h.records_hash),
            created: h.created.to_string(),
            expires: h.expires.to_string(),
            signature: self.signature.to_string(),
        };
        let mut text = serde_json::to_string_pretty(&wire).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a head and checks its signature against the key it names.
    pub fn from_json(text: &str) -> Result<SignedHead, Rejection> {
        let malformed = |m: &str| Rejection::Malformed(format!("head: {m}"));
        if text.len() > MAX_HEAD_BYTES {
            return Err(malformed("too large"));
        }
        let wire: WireHead = serde_json::from_str(text).map_err(|e| {
            Rejection::Malformed(format!(
                "head: {}",
                e.to_string()
                    .chars()
                    .take(200)
                    .flat_map(char::escape_default)
                    .collect::<String>()
            ))
        })?;
        if wire.format != u64::from(FORMAT_VERSION) {
            return Err(Rejection::UnknownFormat(wire.format));
        }
        if wire.kind != "head" {
            return Err(malformed("`kind` must be `head`"));
        }
        if wire.sequence == 0 || wire.sequence > MAX_SEQUENCE {
            return Err(malformed(&format!(
                "`sequence` must be from 1 to {MAX_SEQUENCE} (2^63 - 1), not {}",
                wire.sequence
            )));
        }
        let key = PublicKey::parse(&wire.key).map_err(|e| malformed(&e.to_string()))?;
        let records_hash = RecordId::parse(&wire.records_hash)
            .map_err(|_| malformed("`records-hash` must be 64 lowercase hex digits"))?;
        let (Some(created), Some(expires)) = (
            Timestamp::parse(&wire.created),
            Timestamp::parse(&wire.expires),
        ) else {
            return Err(malformed(
                "`created` and `expires` look like 2025-01-31T12:00:00Z",
            ));
        };
        let signature = Signature::parse(&wire.signature).map_err(|e| malformed(&e.to_string()))?;
        let head = Head {
            key,
            sequence: wire.sequence,
            count: wire.count,
            records_hash: *records_hash.as_bytes(),
            created,
            expires,
        };
        let bytes = head_bytes(&head);
        if !key.verifies(&bytes, &signature) {
            return Err(Rejection::BadSignature { key });
        }
        let id: [u8; 32] = Sha256::digest(&bytes).into();
        if super::hex(&id) != wire.id {
            return Err(Rejection::IdMismatch);
        }
        Ok(SignedHead {
            head,
            signature,
            id,
        })
    }

    /// The served records of this key are exactly the ones the head covers.
    pub fn check_records(&self, ids: &BTreeSet<RecordId>) -> Result<(), Rejection> {
        if ids.len() as u64 == self.head.count && records_hash(ids) == self.head.records_hash {
            return Ok(());
        }
        Err(Rejection::RecordsDoNotMatchHead {
            key: self.head.key,
            head_count: self.head.count,
            found: ids.len() as u64,
        })
    }

    pub fn check_not_expired(&self, now: Timestamp) -> Result<(), Rejection> {
        if now < self.head.expires {
            Ok(())
        } else {
            Err(Rejection::HeadExpired {
                key: self.head.key,
                expires: self.head.expires,
            })
        }
    }
}
