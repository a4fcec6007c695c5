//! `POST /v1/sync`: for each key asked about, its current head and the records first covered
//! by a head after the one the client already has. One round trip brings a client up to date for
//! every auditor of a lockfile; the client then verifies the whole set against the head itself.

use std::collections::BTreeMap;

use audit_trust_core::signoff::PublicKey;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AppState, BodySize, read_body};
use crate::error::ApiError;
use crate::metrics::Metrics;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    /// Public key → the sequence of the head the client has (0: none).
    keys: BTreeMap<String, u64>,
}

pub(super) async fn sync(
    State(state): State<AppState>,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(&state, body, BodySize::Large).await?;
    let request: SyncRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad-json", format!("not a sync request: {e}")))?;
    if request.keys.len() > state.limits.max_sync_keys {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch-too-large",
            format!("at most {} keys per sync", state.limits.max_sync_keys),
        ));
    }
    let mut logs = Map::new();
    for (text, after) in &request.keys {
        let key =
            PublicKey::parse(text).map_err(|e| ApiError::bad_request("bad-key", e.to_string()))?;
        let (head, bodies) = state.db.log_after(&key, *after).await?;
        let head = match head {
            Some(h) => serde_json::from_str::<Value>(&h.body)
                .map_err(|e| ApiError::internal("stored head", &e))?,
            None => Value::Null,
        };
        let records = bodies
            .iter()
            .map(|b| serde_json::from_str::<Value>(b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::internal("stored record", &e))?;
        logs.insert(key.to_string(), json!({ "head": head, "records": records }));
    }
    Metrics::add(&state.metrics.syncs, 1);
    Ok(Json(json!({ "logs": logs })))
}
