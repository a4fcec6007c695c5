//! Reads by crate: `GET /v1/crates/{name}` and `POST /v1/crates` (a whole lockfile in one
//! round trip), with ETags so clients re-download only crates whose records changed.
//!
//! A crate's ETag is a hash of the ids of its records: records are immutable and only ever
//! added, so the id set names the content exactly. Answers are cached in memory per crate and
//! the whole cache is dropped when the database's generation moves (any publish, through any
//! instance), so a read costs one tiny query plus copying cached text.
//!
//! Each answer carries the transparency log's proofs (`"log"`): one signed checkpoint, each
//! crate's index proof and every log entry of the crate with its inclusion proof, so a client
//! can tell that no record was left out (see `docs/transparency-log.md`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use audit_trust_core::names::validate_crate_name;
use audit_trust_core::tlog::{KEY_BUCKET_CHARS, is_key_bucket};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::gzip::Encoded;
use super::{AppState, BodySize, read_body};
use crate::error::ApiError;
use crate::metrics::Metrics;

/// One crate's answer, rendered once: its ETag and the JSON object `{"etag":…,"records":[…]}`.
#[derive(Debug)]
struct Rendered {
    etag: String,
    json: String,
}

/// One answer being built, shared by the requests waiting for it.
type Flight = Arc<tokio::sync::OnceCell<Arc<Encoded>>>;

/// Rendered answers valid for one database generation.
#[derive(Debug, Default)]
pub struct CrateCache {
    generation: i64,
    entries: HashMap<String, Arc<Rendered>>,
    /// Bytes of rendered JSON held.
    bytes: usize,
    /// Whole answers to batch queries, by SHA-256 of the request body: a CI fleet asks for the
    /// same lockfile again and again, and then an answer is one lookup and no copying.
    answers: HashMap<[u8; 32], Arc<Encoded>>,
    answer_bytes: usize,
    /// Answers being built for this generation, shared by every request that asks the same.
    pending: HashMap<[u8; 32], (i64, Flight)>,
}

impl CrateCache {
    /// Empties the cache when the database moved on or the cache grew past its budget. A
    /// request that read an older generation leaves the cache alone: what it holds is newer,
    /// which is as good for that request (it needs a state no older than its arrival).
    fn follow(&mut self, generation: i64) {
        if generation > self.generation || self.bytes + self.answer_bytes > CACHE_BYTES {
            *self = CrateCache {
                generation,
                ..CrateCache::default()
            };
        }
    }
}

impl CrateCache {
    /// The flight building the answer to body `key`: joined if one builds from a state at least
    /// as new as this request needs, else started.
    fn join_flight(&mut self, key: [u8; 32], generation: i64) -> Flight {
        match self.pending.get(&key) {
            Some((built_from, cell)) if *built_from >= generation => Arc::clone(cell),
            _ => {
                if self.pending.len() >= MAX_FLIGHTS {
                    // Only the map holds these: their requests were dropped (the client went
                    // away mid-build) before they could remove them.
                    self.pending
                        .retain(|_, (_, cell)| Arc::strong_count(cell) > 1);
                }
                let cell = Arc::new(tokio::sync::OnceCell::new());
                self.pending.insert(key, (generation, Arc::clone(&cell)));
                cell
            }
        }
    }
}

/// Whole answers kept at most.
const CACHE_ANSWERS: usize = 64;

/// Flights remembered before abandoned ones (nobody waits on them) are swept.
const MAX_FLIGHTS: usize = 1024;

/// The cache starts afresh rather than grow past this much rendered JSON.
const CACHE_BYTES: usize = 256 * 1024 * 1024;

pub type SharedCrateCache = Arc<Mutex<CrateCache>>;

fn lowercase_name(name: &str) -> Result<String, ApiError> {
    validate_crate_name(name).map_err(|e| ApiError::bad_request("bad-name", e.to_string()))?;
    Ok(name.to_ascii_lowercase())
}

fn etag_of(ids: &[&str]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let mut hasher = Sha256::new();
    for id in sorted {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    let digest = hasher.finalize();
    digest[..16]
        .iter()
        .fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The rendered answers for `names` (lowercase, valid) as of `generation`, from the cache or
/// the database.
async fn rendered(
    state: &AppState,
    generation: i64,
    names: &[String],
) -> Result<BTreeMap<String, Arc<Rendered>>, ApiError> {
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    {
        let mut cache = state.crate_cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.follow(generation);
        for name in names {
            match cache.entries.get(name) {
                Some(r) => {
                    out.insert(name.clone(), Arc::clone(r));
                }
                None => missing.push(name.clone()),
            }
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let rows = state.db.crate_records(&missing).await?;
    let mut by_crate: HashMap<&str, Vec<&crate::db::CrateRow>> = HashMap::new();
    for row in &rows {
        by_crate
            .entry(row.crate_name.as_str())
            .or_default()
            .push(row);
    }
    let mut fresh = Vec::with_capacity(missing.len());
    for name in missing {
        let rows = by_crate.get(name.as_str()).map_or(&[][..], Vec::as_slice);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let etag = etag_of(&ids);
        // Stored bodies are the canonical JSON the registry verified on the way in.
        let mut json = format!("{{\"etag\":\"{etag}\",\"records\":[");
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&row.body);
        }
        json.push_str("]}");
        fresh.push((name, Arc::new(Rendered { etag, json })));
    }
    let mut cache = state.crate_cache.lock().unwrap_or_else(|p| p.into_inner());
    for (name, r) in fresh {
        // A publish may have moved the generation meanwhile: cache only what is still current.
        if cache.generation == generation {
            cache.bytes += r.json.len();
            if let Some(old) = cache.entries.insert(name.clone(), Arc::clone(&r)) {
                cache.bytes -= old.json.len();
            }
        }
        out.insert(name, r);
    }
    Ok(out)
}

fn json_response(status: StatusCode, etag: Option<&str>, body: impl Into<Body>) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.into(),
    )
        .into_response();
    if let Some(tag) = etag
        && let Ok(value) = format!("\"{tag}\"").parse()
    {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches_if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == etag || t == "*")
}

/// `GET /v1/crates/{name}`: every record filed under the crate, by every key.
pub(super) async fn one(
    State(state): State<AppState>,
    Path(name): Path<String>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let name = lowercase_name(&name)?;
    let client_size =
        match params.get("log_size") {
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                ApiError::bad_request("bad-log-size", "`log_size` is not a tree size")
            })?),
            None => None,
        };
    let generation = state.generation.current(&state.db).await?;
    let names = std::slice::from_ref(&name);
    let (log_generation, log, _) =
        super::log::proofs_for(&state, names, &BTreeMap::new(), None, client_size, false).await?;
    let answers = rendered(&state, generation.max(log_generation), names).await?;
    let Some(answer) = answers.get(&name) else {
        return Err(ApiError::internal("crate read", &"no answer rendered"));
    };
    Metrics::add(&state.metrics.crate_reads, 1);
    if matches_if_none_match(&headers, &answer.etag) {
        return Ok(json_response(
            StatusCode::NOT_MODIFIED,
            Some(&answer.etag),
            String::new(),
        ));
    }
    let body = format!("{{\"crate\":\"{name}\",\"log\":{log},{}", &answer.json[1..]);
    Ok(json_response(StatusCode::OK, Some(&answer.etag), body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    /// Crate name → the ETag the client has for it ("" or null: none).
    crates: BTreeMap<String, Option<String>>,
    /// The size of the last checkpoint the client verified: the answer then proves the
    /// current checkpoint consistent with it.
    #[serde(default)]
    log_size: Option<u64>,
    /// Crate name → the versions the client decides: that crate's answer (records and proofs)
    /// is scoped to them and the versions their delta sign-offs start from.
    #[serde(default)]
    versions: BTreeMap<String, Vec<String>>,
    /// The key buckets (`audit_trust_core::tlog::key_bucket`) whose entries the client reads:
    /// scoped crates then list only theirs. Absent: every key's.
    #[serde(default)]
    keys: Option<Vec<String>>,
}

/// Most key buckets a query may name.
const MAX_KEYS: usize = 256;

/// Most versions one crate of a query may name.
const MAX_VERSIONS_PER_CRATE: usize = 64;

/// The canonical form of a version a client names (400 when it is not semver).
fn canonical_version(name: &str, version: &str) -> Result<String, ApiError> {
    semver::Version::parse(version)
        .map(|v| v.to_string())
        .map_err(|_| {
            ApiError::bad_request(
                "bad-version",
                format!(
                    "`{}` of `{name}` is not a semver version",
                    version.escape_default()
                ),
            )
        })
}

/// The key buckets a query names, checked (400 when one is not a bucket, or too many).
fn checked_keys(keys: Vec<String>) -> Result<BTreeSet<String>, ApiError> {
    if keys.len() > MAX_KEYS {
        return Err(ApiError::bad_request(
            "bad-json",
            format!("at most {MAX_KEYS} keys per query"),
        ));
    }
    keys.into_iter()
        .map(|k| {
            if is_key_bucket(&k) {
                Ok(k)
            } else {
                Err(ApiError::bad_request(
                    "bad-json",
                    format!(
                        "`{}` in `keys` is not a key bucket ({KEY_BUCKET_CHARS} base64 characters)",
                        k.escape_default()
                    ),
                ))
            }
        })
        .collect()
}

/// `POST /v1/crates`: many crates in one round trip. A crate whose ETag the client sent
/// and still matches comes back as `{"etag": …, "not_modified": true}` without its records.
pub(super) async fn query(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let body = read_body(&state, body, BodySize::Large).await?;
    let generation = state.generation.current(&state.db).await?;
    let key: [u8; 32] = Sha256::digest(&body).into();
    let hit = {
        let mut cache = state.crate_cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.follow(generation);
        cache.answers.get(&key).cloned()
    };
    if let Some(answer) = hit {
        Metrics::add(&state.metrics.crate_queries, 1);
        return Ok(answer.response(&headers));
    }
    // Identical queries that miss together are answered once: after a publish empties the
    // cache, a CI fleet asking for the same lockfile would otherwise all rebuild it at once.
    let flight = {
        let mut cache = state.crate_cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.follow(generation);
        cache.join_flight(key, generation)
    };
    let built = flight
        .get_or_try_init(|| async {
            let answer = build_answer(&state, generation, &body).await?;
            Metrics::add(&state.metrics.crate_query_builds, 1);
            Ok::<_, ApiError>(answer)
        })
        .await
        .cloned();
    let out = {
        let mut cache = state.crate_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache
            .pending
            .get(&key)
            .is_some_and(|(_, p)| Arc::ptr_eq(p, &flight))
        {
            cache.pending.remove(&key);
        }
        // A bad request leaves nothing behind: the error goes back, the flight is gone.
        let out = built?;
        if cache.generation == generation {
            if cache.answers.len() >= CACHE_ANSWERS {
                cache.answers.clear();
                cache.answer_bytes = 0;
            }
            cache.answer_bytes += out.len();
            cache.answers.insert(key, out.clone());
        }
        out
    };
    Metrics::add(&state.metrics.crate_queries, 1);
    Ok(out.response(&headers))
}

/// The answer to one batch query body, as of `generation`.
async fn build_answer(
    state: &AppState,
    generation: i64,
    body: &[u8],
) -> Result<Arc<Encoded>, ApiError> {
    let request: Query = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad-json", format!("not a crate query: {e}")))?;
    if request.crates.len() > state.limits.max_query_crates {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch-too-large",
            format!("at most {} crates per query", state.limits.max_query_crates),
        ));
    }
    let mut known: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (name, etag) in request.crates {
        known.insert(lowercase_name(&name)?, etag);
    }
    let mut scoped: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, versions) in request.versions {
        let name = lowercase_name(&name)?;
        if !known.contains_key(&name) {
            return Err(ApiError::bad_request(
                "bad-json",
                format!("`versions` names `{name}`, which `crates` does not"),
            ));
        }
        if versions.len() > MAX_VERSIONS_PER_CRATE {
            return Err(ApiError::bad_request(
                "bad-json",
                format!("at most {MAX_VERSIONS_PER_CRATE} versions of `{name}` per query"),
            ));
        }
        let set = versions
            .iter()
            .map(|v| canonical_version(&name, v))
            .collect::<Result<_, _>>()?;
        scoped.insert(name, set);
    }
    let keys = request.keys.map(checked_keys).transpose()?;
    let names: Vec<String> = known.keys().cloned().collect();
    let (log_generation, log, committed) = super::log::proofs_for(
        state,
        &names,
        &scoped,
        keys.as_ref(),
        request.log_size,
        true,
    )
    .await?;
    // Scoped crates read only the records their versions list; the others are whole.
    let whole: Vec<String> = names
        .iter()
        .filter(|n| !committed.contains_key(*n))
        .cloned()
        .collect();
    let answers = rendered(state, generation.max(log_generation), &whole).await?;
    let listed: Vec<String> = committed.values().flatten().cloned().collect();
    let mut scoped_rows: BTreeMap<String, Vec<crate::db::CrateRow>> = BTreeMap::new();
    for row in state.db.records_by_id(&listed).await? {
        scoped_rows
            .entry(row.crate_name.clone())
            .or_default()
            .push(row);
    }
    let mut out = String::with_capacity(answers.values().map(|a| a.json.len() + 40).sum());
    let _ = write!(out, "{{\"log\":{log},\"crates\":{{");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":");
        if let Some(ids) = committed.get(name) {
            out.push_str("{\"records\":[");
            let rows = scoped_rows.get(name).map_or(&[][..], Vec::as_slice);
            let mut first = true;
            // Only rows filed under this crate with a listed id (a record's filing crate is
            // where the log lists it).
            for row in rows.iter().filter(|r| ids.contains(&r.id)) {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&row.body);
            }
            out.push_str("]}");
            continue;
        }
        let Some(answer) = answers.get(name) else {
            return Err(ApiError::internal("crate query", &"no answer rendered"));
        };
        let unchanged = known
            .get(name)
            .and_then(Option::as_deref)
            .is_some_and(|t| t.trim_matches('"') == answer.etag);
        if unchanged {
            let _ = write!(
                out,
                "{{\"etag\":\"{}\",\"not_modified\":true}}",
                answer.etag
            );
        } else {
            out.push_str(&answer.json);
        }
    }
    out.push_str("}}");
    // Compressed off the async threads: a large answer takes tens of milliseconds.
    let plain = Bytes::from(out);
    let encoded = tokio::task::spawn_blocking(move || Encoded::new(plain))
        .await
        .map_err(|e| ApiError::internal("compressing an answer", &e))?;
    Ok(Arc::new(encoded))
}

/// `GET /v1/heads`: every key's current head, with an ETag over their ids.
pub(super) async fn heads(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let heads = state.db.heads().await?;
    let ids: Vec<&str> = heads.values().map(|h| h.head_id.as_str()).collect();
    let etag = etag_of(&ids);
    if matches_if_none_match(&headers, &etag) {
        return Ok(json_response(
            StatusCode::NOT_MODIFIED,
            Some(&etag),
            String::new(),
        ));
    }
    let mut out = String::from("{\"heads\":{");
    for (i, (key, head)) in heads.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let key_json = serde_json::to_string(key).map_err(|e| ApiError::internal("heads", &e))?;
        let _ = write!(out, "{key_json}:{}", head.body);
    }
    out.push_str("}}");
    Ok(json_response(StatusCode::OK, Some(&etag), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that disconnects while its query is built drops the request, and with it the
    /// code that would have removed its flight: such flights must not pile up.
    #[test]
    fn abandoned_flights_do_not_pile_up() {
        let mut cache = CrateCache::default();
        for i in 0..5000u32 {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            drop(cache.join_flight(key, 1));
        }
        assert!(
            cache.pending.len() <= MAX_FLIGHTS,
            "{}",
            cache.pending.len()
        );
        // A flight someone still waits on is kept.
        let held = cache.join_flight([9; 32], 1);
        for i in 0..5000u32 {
            let mut key = [1u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            drop(cache.join_flight(key, 1));
        }
        assert!(Arc::ptr_eq(&held, &cache.join_flight([9; 32], 1)));
    }
}
