//! The "signed-off" repository of the repository rule: the repository that the newest
//! `source-matches` sign-off of an earlier version recorded. It outranks what a tarball claims:
//! an auditor already checked that repository against a release of this crate.

use super::repository::SignedOffRepository;
use crate::signoff::{Criterion, ProjectRecords, Record, Statement, Subject};

/// Among the verified records, the repository of the newest `source-matches` sign-off for a
/// version of `name` older than `version`.
pub fn signed_off_repository(
    records: &ProjectRecords,
    name: &str,
    version: &semver::Version,
) -> Option<SignedOffRepository> {
    newest_signed_off_repository(
        records.accepted.iter().map(|a| a.record.record()),
        name,
        version,
    )
}

/// The rule itself, over records the caller has chosen and verified: the CLI passes the
/// accepted records of `Cargo.audit`'s auditors, the registry's automatic auditor its own.
pub fn newest_signed_off_repository<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    name: &str,
    version: &semver::Version,
) -> Option<SignedOffRepository> {
    records
        .into_iter()
        .filter_map(|record| match &record.statement {
            Statement::SignOff {
                subject:
                    Subject::Crate {
                        name: n,
                        version: v,
                        ..
                    },
                criteria,
                source: Some(evidence),
                ..
            } if n == name && v < version && criteria.contains(&Criterion::SourceMatches) => {
                Some((v, &evidence.repository))
            }
            _ => None,
        })
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(v, url)| SignedOffRepository {
            url: url.clone(),
            version: v.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signoff::{
        AcceptedRecord, Location, Record, RepositoryTrust, SignedRecord, SigningKey, SourceEvidence,
    };
    use crate::time::Timestamp;

    fn key() -> SigningKey {
        use base64::Engine as _;
        let text = format!(
            "ed25519-secret:{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 32])
        );
        SigningKey::parse(&text).expect("fixed seed")
    }

    fn accepted(
        name: &str,
        version: &str,
        criteria: Vec<Criterion>,
        repository: Option<&str>,
    ) -> AcceptedRecord {
        let key = key();
        let record = Record {
            key: key.public_key(),
            created: Timestamp(0),
            statement: Statement::SignOff {
                subject: Subject::Crate {
                    name: name.into(),
                    version: version.parse().expect("version"),
                    checksum: "a".repeat(64),
                },
                criteria,
                delta_from: None,
                notes: None,
                source: repository.map(|r| SourceEvidence {
                    repository: r.into(),
                    commit: "0123456789abcdef0123456789abcdef01234567".into(),
                    git_ref: None,
                    repository_trust: RepositoryTrust::Pinned,
                }),
            },
        };
        AcceptedRecord {
            auditor: "team".into(),
            record: SignedRecord::sign(record, &key).expect("valid"),
            location: Location {
                path: "store".into(),
                line: None,
            },
        }
    }

    #[test]
    fn the_newest_earlier_source_matches_sign_off_wins() {
        let sm = || vec![Criterion::SourceMatches];
        let records = ProjectRecords {
            accepted: vec![
                accepted("foo", "1.0.0", sm(), Some("https://example.com/old")),
                accepted("foo", "1.2.0", sm(), Some("https://example.com/new")),
                // Not earlier than 1.3.0, another crate, or not source-matches: ignored.
                accepted("foo", "1.3.0", sm(), Some("https://example.com/same")),
                accepted("bar", "1.2.5", sm(), Some("https://example.com/bar")),
                accepted("foo", "1.2.9", vec![Criterion::Reviewed], None),
            ],
            ..ProjectRecords::default()
        };
        let found = signed_off_repository(&records, "foo", &"1.3.0".parse().expect("v"));
        assert_eq!(
            found,
            Some(SignedOffRepository {
                url: "https://example.com/new".into(),
                version: "1.2.0".into()
            })
        );
        assert_eq!(
            signed_off_repository(&records, "foo", &"1.0.0".parse().expect("v")),
            None
        );
    }
}
