//! Signing as the service: a `source-matches` sign-off stored through the same publish path as
//! any auditor's (a new signed head covering all of the key's records, moved by an optimistic
//! update). Before each attempt the service's own records are read again, so a version is signed
//! at most once however many instances or retries race for it: the loser of the head race sees
//! the winner's record and stops.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::provenance::SignedOffRepository;
use audit_trust_core::provenance::signed_off::newest_signed_off_repository;
use audit_trust_core::signoff::{
    Criterion, Head, PublicKey, Record, RecordId, SignedHead, SignedRecord, SourceEvidence,
    Statement, Subject,
};

use super::Worker;
use crate::db::{Db, DbError, NewRecord};

/// Publish attempts when other instances keep winning the head race.
const HEAD_RACE_ATTEMPTS: usize = 8;

/// Registers the service key as an auditor named `name` unless the key is registered already
/// (under any name).
pub async fn ensure_service_auditor(
    db: &Db,
    key: &PublicKey,
    name: &str,
    today: &str,
) -> Result<(), String> {
    if db
        .auditor_for_key(key)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Ok(());
    }
    match db.add_auditor(name, key, today).await {
        Ok(()) => Ok(()),
        // Another instance registered it at the same moment.
        Err(DbError::Conflict(m)) => match db.auditor_for_key(key).await {
            Ok(Some(_)) => Ok(()),
            _ => Err(format!(
                "cannot register the service key as auditor `{name}`: {m}"
            )),
        },
        Err(e) => Err(e.to_string()),
    }
}

/// What the service has already said about a crate.
#[derive(Debug, Default)]
pub(super) struct OwnRecords {
    /// A `source-matches` sign-off of exactly this version and checksum exists.
    pub already_signed: bool,
    /// The repository of the newest `source-matches` sign-off of an earlier version, by core's
    /// rule ([`newest_signed_off_repository`]) over the service's own records.
    pub signed_off: Option<SignedOffRepository>,
}

pub(super) async fn own_records(
    worker: &Worker,
    name: &str,
    version: &str,
    checksum: &str,
) -> Result<OwnRecords, DbError> {
    let key = worker.config.signing_key.public_key().to_string();
    // Our own records, but read like any input: a line that does not parse is skipped.
    let records: Vec<SignedRecord> = worker
        .db
        .crate_records(&[name.to_ascii_lowercase()])
        .await?
        .into_iter()
        .filter(|r| r.public_key == key)
        .filter_map(|row| SignedRecord::from_json_line(&row.body).ok())
        .collect();
    let already_signed = records.iter().any(|record| {
        matches!(
            &record.record().statement,
            Statement::SignOff {
                subject: Subject::Crate {
                    name: signed_name,
                    version: signed_version,
                    checksum: signed_checksum,
                },
                criteria,
                source: Some(_),
                ..
            } if signed_name.eq_ignore_ascii_case(name)
                && signed_version.to_string() == version
                && signed_checksum == checksum
                && criteria.contains(&Criterion::SourceMatches)
        )
    });
    let signed_off = semver::Version::parse(version).ok().and_then(|target| {
        newest_signed_off_repository(records.iter().map(SignedRecord::record), name, &target)
    });
    Ok(OwnRecords {
        already_signed,
        signed_off,
    })
}

/// Signs `source-matches` for `name@version` unless the service already has. Returns whether
/// a record was stored by this call.
pub(super) async fn sign_source_matches(
    worker: &Worker,
    name: &str,
    version: &str,
    checksum: &str,
    evidence: SourceEvidence,
) -> Result<bool, String> {
    let key = &worker.config.signing_key;
    let public = key.public_key();
    let parsed = semver::Version::parse(version).map_err(|e| e.to_string())?;
    // An admin who removed the service's auditor stops its new records, like anyone's.
    if worker
        .db
        .auditor_for_key(&public)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(format!(
            "the service key {public} is no longer a registered auditor; nothing is signed"
        ));
    }
    for _ in 0..HEAD_RACE_ATTEMPTS {
        let own = own_records(worker, name, version, checksum)
            .await
            .map_err(|e| e.to_string())?;
        if own.already_signed {
            return Ok(false);
        }
        let record = Record {
            key: public,
            created: worker.clock.now(),
            statement: Statement::SignOff {
                subject: Subject::Crate {
                    name: name.to_owned(),
                    version: parsed.clone(),
                    checksum: checksum.to_owned(),
                },
                criteria: vec![Criterion::SourceMatches],
                delta_from: None,
                notes: Some("signed by the registry's automatic auditor".into()),
                source: Some(evidence.clone()),
            },
        };
        let signed = SignedRecord::sign(record, key)?;
        let new = NewRecord {
            id: signed.id(),
            crate_name: name.to_ascii_lowercase(),
            body: signed.to_json_line(),
            version: parsed.to_string(),
            key: audit_trust_core::tlog::key_bucket(signed.key()),
            delta_from: None,
        };
        match publish(worker, std::slice::from_ref(&new), &[signed.id()]).await {
            Ok(()) => return Ok(true),
            Err(DbError::Conflict(why)) => {
                tracing::debug!(%why, "head race lost; reading the service's records again");
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("other publishes for the service key kept winning; will retry".into())
}

/// Moves the service key's head over its stored records plus `new` (none: a renewal).
async fn publish(worker: &Worker, records: &[NewRecord], new: &[RecordId]) -> Result<(), DbError> {
    let key = &worker.config.signing_key;
    let public = key.public_key();
    let (previous, mut ids) = key_state(&worker.db, &public).await?;
    ids.extend(new.iter().copied());
    let head = Head::next(
        previous.as_ref().map(SignedHead::head),
        public,
        &ids,
        worker.clock.now(),
        worker.config.head_lifetime_days,
    );
    let head = SignedHead::sign(head, key).map_err(DbError::Unavailable)?;
    worker
        .db
        .publish(
            &public,
            (head.head().sequence, &head.id_hex(), &head.to_json()),
            records,
            |all| head.check_records(all).map_err(|r| r.to_string()),
        )
        .await
        .map(|_| ())
}

/// The key's stored head and the ids of all its records.
async fn key_state(
    db: &Db,
    key: &PublicKey,
) -> Result<(Option<SignedHead>, BTreeSet<RecordId>), DbError> {
    let (head, _) = db.log_after(key, u64::MAX).await?;
    let head = head.and_then(|h| SignedHead::from_json(&h.body).ok());
    let ids = db
        .record_ids(key)
        .await?
        .iter()
        .filter_map(|id| RecordId::parse(id).ok())
        .collect();
    Ok((head, ids))
}

/// Keeps the service's head fresh: clients refuse an expired head, and with it every record of
/// the key, so a quiet service re-signs its head when half its lifetime has passed.
pub(super) async fn renew_heads(worker: Arc<Worker>) {
    loop {
        if let Err(e) = renew_once(&worker).await {
            tracing::warn!(error = %e, "renewing the service's head");
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

async fn renew_once(worker: &Worker) -> Result<(), DbError> {
    let public = worker.config.signing_key.public_key();
    let (head, _) = key_state(&worker.db, &public).await?;
    let Some(head) = head else {
        return Ok(()); // nothing signed yet
    };
    let half = worker.config.head_lifetime_days.max(1) * 86_400 / 2;
    if head.head().expires.0 - worker.now() > half {
        return Ok(());
    }
    match publish(worker, &[], &[]).await {
        Ok(()) | Err(DbError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
