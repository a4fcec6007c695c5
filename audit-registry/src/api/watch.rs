//! The watch list over HTTP, and what the automatic auditor did with it.
//!
//! - `GET /v1/watch[?match=PATTERN]` (public): watched crates, their pinned repositories and
//!   poll state.
//! - `POST /v1/admin/watch` (admin): `{"crates": [{"name": …, "repository": …, "versions":
//!   […]}, "name", …]}`; `versions` are audited at the next poll whatever their age (a
//!   lockfile's backfill: `cargo audit-trust watch` sends each package's locked versions).
//! - `DELETE /v1/admin/watch/{name-or-pattern}` (admin).
//! - `GET /v1/admin/jobs[?crate=NAME]` (admin): the job queue.
//! - `GET /v1/verifications/{name}` (public): each audited version's verdict and full report.
//!
//! Patterns (`*` for any run of characters) only select among names already watched: the sparse
//! index cannot be listed, so nothing is ever added by pattern.

use std::collections::HashMap;

use audit_trust_core::names::{validate_crate_name, validate_version};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::Admin;
use super::{AppState, BodySize, read_body};
use crate::db::WatchEntry;
use crate::error::ApiError;

/// Longest pinned repository URL accepted.
const MAX_URL_LEN: usize = 512;
/// Versions one crate may ask to backfill in one request.
const MAX_BACKFILL_VERSIONS: usize = 100;
/// Jobs listed at most.
const MAX_JOBS_LISTED: i64 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchRequest {
    crates: Vec<WatchItem>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WatchItem {
    Name(String),
    Entry {
        name: String,
        #[serde(default)]
        repository: Option<String>,
        /// Versions to audit now, not only later releases.
        #[serde(default)]
        versions: Vec<String>,
    },
}

fn entry_json(e: &WatchEntry) -> Value {
    json!({
        "name": e.crate_name,
        "repository": e.repository,
        "added_by": e.added_by,
        "added": e.added,
        "last_polled": e.last_polled,
        "poll_failures": e.poll_failures,
        "last_poll_error": e.last_poll_error,
    })
}

/// A pattern: crate-name characters and `*`, at most 64 characters.
fn valid_pattern(pattern: &str) -> bool {
    !pattern.is_empty()
        && pattern.len() <= 64
        && pattern
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*'))
}

/// A repository a person may pin: an https URL without spaces or control characters. Local
/// paths are the operator's business (`--git-rewrite`), never an API caller's.
fn valid_repository(url: &str) -> Result<(), String> {
    let ok = url.len() <= MAX_URL_LEN
        && url.starts_with("https://")
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a repository URL to pin: write https://host/path (at most {MAX_URL_LEN} characters)",
            url.chars()
                .take(80)
                .flat_map(char::escape_default)
                .collect::<String>()
        ))
    }
}

/// `GET /v1/watch[?match=PATTERN]`
pub(super) async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let pattern = query.get("match").map(|p| p.to_ascii_lowercase());
    if let Some(p) = &pattern
        && !valid_pattern(p)
    {
        return Err(ApiError::bad_request(
            "bad-pattern",
            "a pattern is crate-name characters and `*`, at most 64",
        ));
    }
    let entries = state.db.watch_list(pattern.as_deref()).await?;
    let list: Vec<Value> = entries.iter().map(entry_json).collect();
    Ok(Json(json!({ "crates": list })))
}

/// `POST /v1/admin/watch`
pub(super) async fn add(
    admin: Admin,
    State(state): State<AppState>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = read_body(&state, body, BodySize::Large).await?;
    let request: WatchRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad-json", format!("not a watch request: {e}")))?;
    if request.crates.len() > state.limits.max_query_crates {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-crates",
            format!(
                "at most {} crates per request",
                state.limits.max_query_crates
            ),
        ));
    }
    // Everything is checked before anything is stored.
    let mut items = Vec::with_capacity(request.crates.len());
    for item in request.crates {
        let (name, repository, versions) = match item {
            WatchItem::Name(name) => (name, None, Vec::new()),
            WatchItem::Entry {
                name,
                repository,
                versions,
            } => (name, repository, versions),
        };
        validate_crate_name(&name).map_err(|e| ApiError::bad_request("bad-name", e.to_string()))?;
        if let Some(url) = &repository {
            valid_repository(url).map_err(|m| ApiError::bad_request("bad-repository", m))?;
        }
        if versions.len() > MAX_BACKFILL_VERSIONS {
            return Err(ApiError::bad_request(
                "too-many-versions",
                format!("{name}: at most {MAX_BACKFILL_VERSIONS} versions to backfill"),
            ));
        }
        // As the index spells versions once parsed, so the poll finds them.
        let versions = versions
            .iter()
            .map(|v| {
                validate_version(v)
                    .map(|v| v.to_string())
                    .map_err(|e| ApiError::bad_request("bad-version", format!("{name}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        items.push((name.to_ascii_lowercase(), repository, versions));
    }
    let now = state.clock.now();
    let (mut added, mut updated, mut backfill) = (0usize, 0usize, 0u64);
    for (name, repository, versions) in &items {
        if state
            .db
            .watch(
                name,
                repository.as_deref(),
                &admin.0,
                &now.to_string(),
                now.0,
            )
            .await?
        {
            added += 1;
        } else {
            updated += 1;
        }
        backfill += state.db.request_backfill(name, versions, now.0).await?;
    }
    tracing::info!(admin = %admin.0, added, updated, backfill, "watch list changed");
    Ok((
        StatusCode::OK,
        Json(json!({ "added": added, "already_watched": updated, "backfill": backfill })),
    ))
}

/// `DELETE /v1/admin/watch/{name-or-pattern}`
pub(super) async fn remove(
    admin: Admin,
    State(state): State<AppState>,
    Path(pattern): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let pattern = pattern.to_ascii_lowercase();
    if !valid_pattern(&pattern) {
        return Err(ApiError::bad_request(
            "bad-pattern",
            "a name or pattern is crate-name characters and `*`, at most 64",
        ));
    }
    let removed = state.db.unwatch(&pattern).await?;
    if removed.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "no watched crate matches",
        ));
    }
    tracing::info!(admin = %admin.0, %pattern, removed = removed.len(), "unwatched");
    Ok(Json(json!({ "removed": removed })))
}

/// `GET /v1/admin/jobs[?crate=NAME]`
pub(super) async fn jobs(
    _admin: Admin,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let name = match query.get("crate") {
        Some(name) => {
            validate_crate_name(name)
                .map_err(|e| ApiError::bad_request("bad-name", e.to_string()))?;
            Some(name.to_ascii_lowercase())
        }
        None => None,
    };
    let jobs = state.db.jobs(name.as_deref(), MAX_JOBS_LISTED).await?;
    Ok(Json(json!({ "jobs": jobs })))
}

/// `GET /v1/verifications/{name}`: the reports, without the URL a repository was actually
/// fetched from (an operator's rewrite target is not public).
pub(super) async fn verifications(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    validate_crate_name(&name).map_err(|e| ApiError::bad_request("bad-name", e.to_string()))?;
    let mut list = state.db.verifications(&name.to_ascii_lowercase()).await?;
    for v in &mut list {
        if let Some(report) = v.report.as_object_mut() {
            report.remove("fetched_from");
        }
    }
    Ok(Json(json!({ "verifications": list })))
}
