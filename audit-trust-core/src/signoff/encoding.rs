//! The bytes that are signed. Deterministic and unambiguous by construction: a domain-separation
//! tag (records and heads have different ones, so one can never pass for the other), the format
//! version, then every field in a fixed order; strings carry their length, optional fields a
//! presence byte, lists their count. Two different records never encode to the same bytes, and
//! the JSON form is only a view of these fields: re-encoding what was read is what is verified.

use super::head::Head;
use super::record::{FORMAT_VERSION, Record, Statement, Subject};

pub(super) const RECORD_TAG: &[u8] = b"cargo-audit-trust signed record\n";
pub(super) const HEAD_TAG: &[u8] = b"cargo-audit-trust signed head\n";
pub(super) const RECORD_SET_TAG: &[u8] = b"cargo-audit-trust record set\n";

/// Appends fields to a buffer.
#[derive(Default)]
pub(super) struct Encoder {
    bytes: Vec<u8>,
}

impl Encoder {
    pub fn new(tag: &[u8]) -> Encoder {
        let mut e = Encoder::default();
        e.bytes.extend_from_slice(tag);
        e.u32(FORMAT_VERSION);
        e
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    pub fn raw(&mut self, v: &[u8]) {
        self.bytes.extend_from_slice(v);
    }

    pub fn str(&mut self, v: &str) {
        // Every string is bounded far below 4 GiB by validation; saturate rather than wrap.
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.bytes.extend_from_slice(v.as_bytes());
    }

    pub fn opt_str(&mut self, v: Option<&str>) {
        match v {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
}

/// The signed bytes of a record.
pub(super) fn record_bytes(record: &Record) -> Vec<u8> {
    let mut e = Encoder::new(RECORD_TAG);
    e.str("ed25519");
    e.raw(record.key.as_bytes());
    e.i64(record.created.0);
    match &record.statement {
        Statement::SignOff {
            subject,
            criteria,
            delta_from,
            notes,
            source,
        } => {
            e.u8(1);
            subject_bytes(&mut e, subject);
            e.u32(u32::try_from(criteria.len()).unwrap_or(u32::MAX));
            for c in criteria {
                e.str(c.as_str());
            }
            match delta_from {
                None => e.u8(0),
                Some(base) => {
                    e.u8(1);
                    e.str(&base.version.to_string());
                    e.str(&base.checksum);
                }
            }
            e.opt_str(notes.as_deref());
            match source {
                None => e.u8(0),
                Some(s) => {
                    e.u8(1);
                    e.str(&s.repository);
                    e.str(&s.commit);
                    e.opt_str(s.git_ref.as_deref());
                    e.str(super::record::VERDICT_MATCHES);
                    e.str(s.repository_trust.as_str());
                }
            }
        }
        Statement::Flag {
            subject,
            reason,
            notes,
        } => {
            e.u8(2);
            subject_bytes(&mut e, subject);
            e.str(reason);
            e.opt_str(notes.as_deref());
        }
        Statement::Revocation { revokes, reason } => {
            e.u8(3);
            e.raw(revokes.as_bytes());
            e.str(reason);
        }
    }
    e.into_bytes()
}

fn subject_bytes(e: &mut Encoder, subject: &Subject) {
    match subject {
        Subject::Crate {
            name,
            version,
            checksum,
        } => {
            e.u8(1);
            e.str(name);
            e.str(&version.to_string());
            e.str(checksum);
        }
        Subject::Git {
            name,
            version,
            repository,
            commit,
        } => {
            e.u8(2);
            e.str(name);
            e.str(&version.to_string());
            e.str(repository);
            e.str(commit);
        }
    }
}

/// The signed bytes of a head.
pub(super) fn head_bytes(head: &Head) -> Vec<u8> {
    let mut e = Encoder::new(HEAD_TAG);
    e.str("ed25519");
    e.raw(head.key.as_bytes());
    e.u64(head.sequence);
    e.u64(head.count);
    e.raw(&head.records_hash);
    e.i64(head.created.0);
    e.i64(head.expires.0);
    e.into_bytes()
}
