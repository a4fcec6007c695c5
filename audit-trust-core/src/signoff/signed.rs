//! A record with its signature. A [`SignedRecord`] exists only if its signature verifies against
//! the key it names and its id is the hash of its signed bytes; whether that key is trusted for
//! it is decided later, against `Cargo.audit` ([`super::verify`]).

use sha2::{Digest, Sha256};

use super::encoding::record_bytes;
use super::record::{FORMAT_VERSION, Record, RecordId};
use super::rejection::Rejection;
use super::wire::{FormatOnly, MAX_RECORD_LINE_BYTES, WireRecord, statement_from_wire, to_wire};
use super::{PublicKey, Signature, SigningKey};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    record: Record,
    signature: Signature,
    id: RecordId,
}

impl SignedRecord {
    /// Signs `record` with `key`, which must be the key the record names.
    pub fn sign(record: Record, key: &SigningKey) -> Result<SignedRecord, String> {
        if record.key != key.public_key() {
            return Err("the record names another key than the one signing it".into());
        }
        record.validate()?;
        let bytes = record_bytes(&record);
        let signature = key.sign(&bytes);
        Ok(SignedRecord {
            id: id_of(&bytes),
            record,
            signature,
        })
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    pub fn id(&self) -> RecordId {
        self.id
    }

    pub fn key(&self) -> &PublicKey {
        &self.record.key
    }

    /// One line of JSON, without the newline.
    pub fn to_json_line(&self) -> String {
        let wire = to_wire(
            &self.record.key,
            self.record.created,
            &self.record.statement,
            &self.id,
            self.signature.to_string(),
        );
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Reads and checks one JSON record: well formed, known format version, valid values, a
    /// signature by the key it names over exactly these values, and the right id.
    pub fn from_json_line(line: &str) -> Result<SignedRecord, Rejection> {
        SignedRecord::from_json_line_known(line, &|_| false)
    }

    /// As [`Self::from_json_line`], but a record whose id `known` says this machine verified
    /// before (see `verified_ids`) is not verified again: its id is the hash of the bytes the
    /// key signed, so those bytes were seen signed.
    pub fn from_json_line_known(
        line: &str,
        known: &(dyn Fn(&RecordId) -> bool + Sync),
    ) -> Result<SignedRecord, Rejection> {
        if line.len() > MAX_RECORD_LINE_BYTES {
            return Err(Rejection::Malformed(format!(
                "longer than {MAX_RECORD_LINE_BYTES} bytes"
            )));
        }
        let malformed = |e: String| Rejection::Malformed(e);
        let format: FormatOnly = serde_json::from_str(line)
            .map_err(|e| malformed(format!("not a record: {}", short_json_error(&e))))?;
        if format.format != u64::from(FORMAT_VERSION) {
            return Err(Rejection::UnknownFormat(format.format));
        }
        let mut wire: WireRecord =
            serde_json::from_str(line).map_err(|e| malformed(short_json_error(&e)))?;
        let key = PublicKey::parse(&wire.key).map_err(|e| malformed(e.to_string()))?;
        let created = Timestamp::parse(&wire.created)
            .ok_or_else(|| malformed("`created` must look like 2025-01-31T12:00:00Z".into()))?;
        let signature = Signature::parse(&wire.signature).map_err(|e| malformed(e.to_string()))?;
        let stored_id = RecordId::parse(&wire.id).map_err(malformed)?;
        let statement = statement_from_wire(&mut wire).map_err(malformed)?;
        let record = Record {
            key,
            created,
            statement,
        };
        record.validate().map_err(malformed)?;
        let bytes = record_bytes(&record);
        let id = id_of(&bytes);
        let seen = id == stored_id && known(&id);
        if !seen && !key.verifies(&bytes, &signature) {
            return Err(Rejection::BadSignature { key });
        }
        if id != stored_id {
            return Err(Rejection::IdMismatch);
        }
        Ok(SignedRecord {
            record,
            signature,
            id,
        })
    }
}

fn id_of(signed_bytes: &[u8]) -> RecordId {
    RecordId(Sha256::digest(signed_bytes).into())
}

/// serde_json's message with its position, without echoing input.
fn short_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.chars()
        .take(200)
        .flat_map(char::escape_default)
        .collect()
}
