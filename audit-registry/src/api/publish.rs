//! `POST /v1/publish`: a batch of records with their key's new head. Everything is verified
//! before anything is stored: the key is registered, every record is well formed and signed by
//! that key, the head is signed, live, covers exactly the stored and new records and follows the
//! stored head. Success means committed.

use std::collections::HashMap;

use audit_trust_core::signoff::{PublicKey, RecordId, SignedHead, SignedRecord, Statement};
use audit_trust_core::tlog::{Filing, filing_of, key_bucket};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{AppState, BodySize, read_body};
use crate::db::NewRecord;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Kept as the client's JSON text, not parsed into values: each record is parsed once, into a
/// record, instead of into a value, printed again and parsed again (at thousands of records a
/// second that round trip was a fifth of the registry's work).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    head: Box<RawValue>,
    records: Vec<Box<RawValue>>,
}

pub(super) async fn publish(
    State(state): State<AppState>,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(&state, body, BodySize::Large).await?;
    let request: PublishRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad-json", format!("not a publish request: {e}")))?;
    if request.records.len() > state.limits.max_batch {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch-too-large",
            format!("at most {} records per publish", state.limits.max_batch),
        ));
    }
    let head = SignedHead::from_json(request.head.get())
        .map_err(|r| ApiError::bad_request("invalid-head", r.to_string()))?;
    let key = head.head().key;
    if state.db.auditor_for_key(&key).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "unknown-key",
            format!("{key} is not registered with this registry (`audit-registry auditor add`)"),
        ));
    }
    head.check_not_expired(state.clock.now())
        .map_err(|r| ApiError::bad_request("head-expired", r.to_string()))?;

    // Parsing and verifying a batch is the CPU-heavy part of a publish (a thousand ed25519
    // signatures): on the blocking pool, so it never holds up the async workers that drive the
    // one publish holding the sequencer through its database round trips.
    let records = tokio::task::spawn_blocking(move || verify_records(&request.records, &key))
        .await
        .map_err(|e| ApiError::internal("verifying records", &e))??;
    let new_records = file_records(&state, &records).await?;
    let h = head.head();
    let outcome = state
        .db
        .publish(
            &key,
            (h.sequence, &head.id_hex(), &head.to_json()),
            &new_records,
            |ids| head.check_records(ids).map_err(|r| r.to_string()),
        )
        .await?;
    Metrics::add(&state.metrics.publishes, 1);
    Metrics::add(&state.metrics.records_stored, outcome.added as u64);
    tracing::info!(%key, head = h.sequence, stored = outcome.added, "publish");
    // After the commit, so no other append waits; bounded by each witness's timeout. The
    // answer then carries a cosigned checkpoint for clients that pin witnesses.
    if let Some(witnesses) = &state.witnesses
        && outcome.added > 0
    {
        witnesses.cosign_latest(&state.db).await;
    }
    Ok(Json(
        json!({ "stored": outcome.added, "head_sequence": h.sequence }),
    ))
}

/// Every record of a batch, each well formed and signed by `key` (the head's).
fn verify_records(
    values: &[Box<RawValue>],
    key: &PublicKey,
) -> Result<Vec<SignedRecord>, ApiError> {
    let mut records = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let record = SignedRecord::from_json_line(value.get()).map_err(|r| {
            ApiError::bad_request("invalid-record", format!("record {i}: {r} ({})", r.code()))
        })?;
        if record.key() != key {
            return Err(ApiError::bad_request(
                "invalid-record",
                format!("record {i} is signed by another key than the head"),
            ));
        }
        records.push(record);
    }
    Ok(records)
}

/// The crate each record is filed under: its subject's name, or for a revocation the crate of
/// the record it withdraws (in this batch or already stored).
///
/// A revocation may withdraw only its own signer's records, as clients apply it: a stored
/// revocation of another key's record would be ignored by every client yet shown as one.
/// Every record of a batch is signed by the head's key (checked before), so only a stored
/// record can be another key's.
async fn file_records(
    state: &AppState,
    records: &[SignedRecord],
) -> Result<Vec<NewRecord>, ApiError> {
    let mut filed: HashMap<RecordId, Filing> = HashMap::new();
    for r in records {
        if let Some(filing) = filing_of(r, |_| None) {
            filed.insert(r.id(), filing);
        }
    }
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let filing = match &r.record().statement {
            Statement::Revocation { revokes, .. } => match filed.get(revokes) {
                Some(filing) => Filing {
                    key: key_bucket(r.key()),
                    delta_from: None,
                    ..filing.clone()
                },
                None => {
                    let (filing, signer) = state.db.filing_of(revokes).await?.ok_or_else(|| {
                        ApiError::bad_request(
                            "unknown-revoked-record",
                            format!(
                                "record {} revokes {revokes}, which this registry does not \
                                     have",
                                r.id()
                            ),
                        )
                    })?;
                    if signer != r.key().to_string() {
                        return Err(ApiError::bad_request(
                            "revokes-another-key",
                            format!(
                                "record {} revokes {revokes}, which another key signed: a \
                                 revocation withdraws only its own signer's records",
                                r.id()
                            ),
                        ));
                    }
                    Filing {
                        key: key_bucket(r.key()),
                        ..filing
                    }
                }
            },
            _ => match filed.get(&r.id()) {
                Some(filing) => filing.clone(),
                None => {
                    return Err(ApiError::internal(
                        "filing a record",
                        &"a sign-off or flag without a subject",
                    ));
                }
            },
        };
        out.push(NewRecord::new(r, filing));
    }
    Ok(out)
}
