//! Fixtures shared by the sign-off tests: fixed keys, a record of each kind, an auditor.

mod export;
mod heads;
mod records;
mod source;
mod store;

use super::*;
use crate::audit_file::{Auditor, CratePattern, PinnedKey, RecordLocation};
use crate::time::Timestamp;

/// A key from a fixed seed, so failures are reproducible.
pub(super) fn key(seed: u8) -> SigningKey {
    use base64::Engine as _;
    let text = format!(
        "ed25519-secret:{}",
        base64::engine::general_purpose::STANDARD.encode([seed; 32])
    );
    SigningKey::parse(&text).expect("fixed seed")
}

pub(super) fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("valid timestamp")
}

pub(super) const CHECKSUM: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub(super) const OTHER_CHECKSUM: &str =
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
pub(super) const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

pub(super) fn crate_subject(name: &str, version: &str) -> Subject {
    Subject::Crate {
        name: name.into(),
        version: version.parse().expect("version"),
        checksum: CHECKSUM.into(),
    }
}

pub(super) fn reviewed(key: &SigningKey, name: &str, version: &str) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: at("2025-03-01T10:00:00Z"),
        statement: Statement::SignOff {
            subject: crate_subject(name, version),
            criteria: vec![Criterion::Reviewed],
            delta_from: None,
            notes: Some("read all of it\nlooks fine".into()),
            source: None,
        },
    };
    SignedRecord::sign(record, key).expect("valid record")
}

/// A sign-off with every optional field set.
pub(super) fn full_signoff(key: &SigningKey) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: at("2025-03-01T10:00:00Z"),
        statement: Statement::SignOff {
            subject: crate_subject("tokio-util", "0.7.11"),
            criteria: vec![
                Criterion::Reviewed,
                Criterion::Custom("safe-to-deploy".into()),
                Criterion::SourceMatches,
            ],
            delta_from: Some(DeltaBase {
                version: "0.7.10".parse().expect("version"),
                checksum: OTHER_CHECKSUM.into(),
            }),
            notes: Some("diff reviewed".into()),
            source: Some(SourceEvidence {
                repository: "https://github.com/tokio-rs/tokio".into(),
                commit: COMMIT.into(),
                git_ref: Some("refs/tags/tokio-util-0.7.11".into()),
                repository_trust: RepositoryTrust::Pinned,
            }),
        },
    };
    SignedRecord::sign(record, key).expect("valid record")
}

pub(super) fn auditor(pins: Vec<PinnedKey>) -> Auditor {
    Auditor {
        name: "team".into(),
        keys: pins,
        records: RecordLocation::Folder("sign-offs".into()),
        registry_log: None,
        covers: vec![CratePattern::parse("*").expect("pattern")],
        span: 0..0,
    }
}

pub(super) fn pin(key: &SigningKey) -> PinnedKey {
    PinnedKey {
        key: key.public_key(),
        not_after: None,
        criteria: None,
    }
}
