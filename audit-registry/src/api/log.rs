//! The transparency log's endpoints and the proofs that go with crate answers:
//! `GET /v1/log/checkpoint` (the latest signed checkpoint note, text),
//! `GET /v1/log/key` (the log's origin and public key, to pin),
//! `GET /v1/log/consistency?from=N[&to=M]` (the proof that the tree of M extends the tree of N).
//! See `docs/transparency-log.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use audit_trust_core::tlog::{Hash, IndexProof, IndexedCrate, VersionQuery};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use serde_json::{Value, json};

use super::AppState;
use crate::db::log::LogState;
use crate::error::ApiError;
use crate::witness::collect::with_cosignature_lines;

fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| BASE64.encode(h)).collect()
}

fn no_log() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no-checkpoint",
        "the log has no checkpoint yet",
    )
}

pub(super) async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let checkpoint = state.db.latest_checkpoint().await?.ok_or_else(no_log)?;
    let note = with_cosignature_lines(
        &checkpoint.note,
        &state.db.cosignatures(checkpoint.size).await?,
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

pub(super) async fn key(State(state): State<AppState>) -> Json<Value> {
    let key = state.db.log_key();
    Json(json!({ "origin": key.name, "key": key.key.to_string() }))
}

pub(super) async fn consistency(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let size = |name: &str| -> Result<Option<u64>, ApiError> {
        params
            .get(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request("bad-log-size", format!("`{name}` is not a tree size"))
                })
            })
            .transpose()
    };
    let from =
        size("from")?.ok_or_else(|| ApiError::bad_request("bad-log-size", "`from` is required"))?;
    let log = state.db.log_state().await?;
    let latest = log.checkpoint.as_ref().ok_or_else(no_log)?.size;
    let to = size("to")?.unwrap_or(latest).min(latest);
    let proof = consistency_from(&log, from, to)?;
    Ok(Json(json!({ "from": from, "to": to, "proof": proof })))
}

fn consistency_from(log: &LogState, from: u64, to: u64) -> Result<Vec<String>, ApiError> {
    let proof = log.tree.consistency_proof(from, to).map_err(|e| {
        ApiError::bad_request(
            "bad-log-size",
            format!("no consistency proof from {from} to {to}: {e}"),
        )
    })?;
    Ok(b64(&proof))
}

/// Most entries in one `GET /v1/log/entries` answer.
const MAX_ENTRIES: u64 = 1000;

/// `GET /v1/log/entries?start=N[&limit=M]`: the log's entries from N, each with its signed
/// record, for monitors that replay the whole log (`cargo audit-trust log verify`).
pub(super) async fn entries(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let number = |name: &str, default: u64| -> Result<u64, ApiError> {
        params.get(name).map_or(Ok(default), |v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad_request("bad-log-size", format!("`{name}` is not a number"))
            })
        })
    };
    let start = number("start", 0)?;
    let limit = number("limit", MAX_ENTRIES)?.clamp(1, MAX_ENTRIES);
    let rows = state.db.log_entries(start, limit).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for (index, crate_name, ordinal, record_id, record) in rows {
        let record: Value =
            serde_json::from_str(&record).map_err(|e| ApiError::internal("stored record", &e))?;
        entries.push(json!({
            "index": index, "crate": crate_name, "ordinal": ordinal,
            "record_id": record_id, "record": record,
        }));
    }
    Ok(Json(json!({ "entries": entries })))
}

#[derive(Serialize)]
struct ProvenEntryJson {
    leaf_index: u64,
    ordinal: u64,
    record_id: String,
    proof: Vec<String>,
}

/// The ids of the records an answer scoped to versions commits to, per crate.
pub(super) type Committed = BTreeMap<String, BTreeSet<String>>;

/// The log's part of a crate answer: one checkpoint, and per crate its index proof and every
/// entry with its inclusion proof; with `client_size`, the consistency proof from it. Also the
/// generation the records must be read at (or later) to include every entry shown.
///
/// A crate in `scoped` is answered for those versions (and those their delta sign-offs start
/// from) instead: the index proof and each version's proof, which lists its entries. The ids
/// listed are returned, for the answer to serve exactly those records. With `keys`, a scoped
/// answer holds only the entries of those key buckets (and proves the others' absence).
pub(super) async fn proofs_for(
    state: &AppState,
    names: &[String],
    scoped: &BTreeMap<String, BTreeSet<String>>,
    keys: Option<&BTreeSet<String>>,
    client_size: Option<u64>,
    shared_index: bool,
) -> Result<(i64, Value, Committed), ApiError> {
    let mut log = state.db.log_state().await?;
    let Some(checkpoint) = log.checkpoint.clone() else {
        return Ok((0, Value::Null, Committed::new()));
    };
    let size = checkpoint.size;
    let mut crates = serde_json::Map::new();
    let mut committed = Committed::new();
    let mut indexes: Vec<(String, IndexProof)> = Vec::with_capacity(names.len());
    for name in names {
        let index: IndexProof = log.index.proof(name);
        indexes.push((name.clone(), index.clone()));
        if let Some(asked) = scoped.get(name) {
            let query = VersionQuery {
                versions: asked,
                keys,
            };
            let answer = log.index.versions_answer(name, query);
            let ids: BTreeSet<String> = answer
                .leaves
                .iter()
                .filter_map(|l| l.records.as_ref())
                .flatten()
                .map(|(_, id)| id.clone())
                .collect();
            crates.insert(name.clone(), json!({ "index": index, "versions": answer }));
            committed.insert(name.clone(), ids);
            continue;
        }
        let leaves = log.by_crate.get(name).cloned().unwrap_or_default();
        let mut entries = Vec::with_capacity(leaves.len());
        for leaf in leaves.into_iter().filter(|l| *l < size) {
            let Some(entry) = log.entries.get(leaf as usize) else {
                continue;
            };
            let proof = log
                .tree
                .inclusion_proof(leaf, size)
                .map_err(|e| ApiError::internal("inclusion proof", &e))?;
            entries.push(ProvenEntryJson {
                leaf_index: leaf,
                ordinal: entry.ordinal,
                record_id: entry.record_id.to_string(),
                proof: b64(&proof),
            });
        }
        crates.insert(name.clone(), json!({ "index": index, "entries": entries }));
    }
    let index_proof = if shared_index {
        Some(share_index_proof(&mut log, &mut indexes)?)
    } else {
        None
    };
    for (name, index) in indexes {
        if let Some(c) = crates.get_mut(&name) {
            c["index"] = json!(index);
        }
    }
    let consistency = client_size
        .map(|from| consistency_from(&log, from, size).map(|proof| (from, proof)))
        .transpose()?;
    // Cosignatures are read after the log is released: witnesses' answers are stored without it.
    drop(log);
    let note = with_cosignature_lines(&checkpoint.note, &state.db.cosignatures(size).await?);
    let mut out = json!({ "checkpoint": note, "crates": crates });
    if let Some(proof) = index_proof {
        out["index_proof"] = json!(b64(&proof));
    }
    if let Some((from, proof)) = consistency {
        out["consistency"] = json!({ "from": from, "proof": proof });
    }
    Ok((checkpoint.generation, out, committed))
}

/// Replaces the index proofs of `indexes` by one multi-leaf proof of every leaf they show, and
/// returns it: a lockfile's crates share the upper levels of the index, which separate proofs
/// repeat once per crate.
fn share_index_proof(
    log: &mut LogState,
    indexes: &mut [(String, IndexProof)],
) -> Result<Vec<Hash>, ApiError> {
    let mut positions = BTreeSet::new();
    for (_, index) in indexes.iter_mut() {
        let shown: Vec<&mut IndexedCrate> = index.leaves_mut();
        for leaf in shown {
            leaf.proof.clear();
            positions.insert(leaf.position);
        }
    }
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let positions: Vec<u64> = positions.into_iter().collect();
    log.index
        .multi_proof(&positions)
        .map_err(|e| ApiError::internal("index proof", &e))
}
