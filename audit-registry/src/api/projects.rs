//! The organization's projects over HTTP (see docs/registry-api.md):
//!
//! - `PUT /v1/admin/projects/{name}` (admin): `{"lockfile": "<Cargo.lock text>"}`; the latest
//!   lockfile of the project (`cargo audit-trust watch --project NAME` sends it).
//! - `DELETE /v1/admin/projects/{name}` (admin).
//! - `PUT /v1/admin/policy` (admin): `{"policy": "<Cargo.audit text>"}`, the default policy.
//! - `GET /v1/projects`: every project's status, counts, evidence mix and backlog.
//! - `GET /v1/projects/{name}`: its gate report grouped by status, and what changed.
//! - `GET /v1/search?q=TEXT[&page=N]`: crates by name prefix, auditors, a record by id.
//!
//! The pages in `org_pages.rs` show the same data.

use std::collections::HashMap;
use std::sync::Arc;

use audit_trust_core::gate::{Status, Verdict};
use audit_trust_core::signoff::{RecordId, SignedRecord};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::admin::Admin;
use super::{AppState, BodySize, read_body};
use crate::db::projects::LockfileStored;
use crate::error::ApiError;
use crate::org::{self, MAX_POLICY_BYTES, NOT_CONSULTED, ProjectView, Snapshot};

/// Largest lockfile text accepted (a workspace of 20,000 packages is about 4 MiB).
pub const MAX_LOCKFILE_BYTES: usize = 4 * 1024 * 1024;
/// Longest search text.
pub const MAX_QUERY_LEN: usize = 64;
/// Results per search page.
pub const PER_PAGE: usize = 50;
/// Highest page number asked for.
const MAX_PAGE: usize = 10_000;

/// A project name: 1 to 64 ASCII letters, digits, `-`, `_` or `.`, starting with a letter or
/// digit (it is a URL segment and a page title).
pub fn valid_project_name(name: &str) -> bool {
    crate::valid_name(name) && name.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn bad_name() -> ApiError {
    ApiError::bad_request(
        "bad-name",
        "a project name is 1 to 64 ASCII letters, digits, `-`, `_` or `.`, starting with a letter or digit",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LockfileUpload {
    lockfile: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyUpload {
    policy: String,
}

/// `PUT /v1/admin/projects/{name}`
pub(super) async fn put_project(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !valid_project_name(&name) {
        return Err(bad_name());
    }
    let body = read_body(&state, body, BodySize::Large).await?;
    let upload: LockfileUpload = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "bad-json",
            format!("not a lockfile upload ({{\"lockfile\": \"…\"}}): {e}"),
        )
    })?;
    if upload.lockfile.len() > MAX_LOCKFILE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "lockfile-too-large",
            format!("a lockfile is at most {MAX_LOCKFILE_BYTES} bytes"),
        ));
    }
    // Parsed (off the runtime) as `check` parses it; the error names the line.
    let text = upload.lockfile;
    let (text, parsed) = tokio::task::spawn_blocking(move || {
        let parsed = org::parse_lockfile(&text).map(|l| l.packages.len());
        (text, parsed)
    })
    .await
    .map_err(|e| ApiError::internal("parsing a lockfile", &e))?;
    let packages = parsed.map_err(|m| ApiError::bad_request("bad-lockfile", m))?;
    let sha256: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let now = state.clock.now().to_string();
    let stored = state
        .db
        .put_project_lockfile(&name, &text, &sha256, &admin.0, &now)
        .await?;
    let (status, changed, seq) = match stored {
        LockfileStored::New(seq) => (StatusCode::OK, true, seq),
        LockfileStored::Unchanged(seq) => (StatusCode::OK, false, seq),
    };
    tracing::info!(admin = %admin.0, project = %name, seq, changed, packages, "project lockfile");
    Ok((
        status,
        Json(json!({
            "project": name,
            "lockfile": seq,
            "changed": changed,
            "packages": packages,
            "sha256": sha256,
        })),
    ))
}

/// `DELETE /v1/admin/projects/{name}`
pub(super) async fn remove_project(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !valid_project_name(&name) {
        return Err(bad_name());
    }
    if !state.db.remove_project(&name).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "no project of that name",
        ));
    }
    tracing::info!(admin = %admin.0, project = %name, "project removed");
    Ok(Json(json!({ "removed": name })))
}

/// `PUT /v1/admin/policy`
pub(super) async fn put_policy(
    admin: Admin,
    State(state): State<AppState>,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_body(&state, body, BodySize::Large).await?;
    let upload: PolicyUpload = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "bad-json",
            format!("not a policy upload ({{\"policy\": \"…\"}}): {e}"),
        )
    })?;
    if upload.policy.len() > MAX_POLICY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "policy-too-large",
            format!("a policy is at most {MAX_POLICY_BYTES} bytes"),
        ));
    }
    let policy =
        org::parse_policy(&upload.policy).map_err(|m| ApiError::bad_request("bad-policy", m))?;
    let now = state.clock.now().to_string();
    state
        .db
        .set_org_policy(&upload.policy, &admin.0, &now)
        .await?;
    let auditors: Vec<&str> = policy.auditors.iter().map(|a| a.name.as_str()).collect();
    tracing::info!(admin = %admin.0, auditors = auditors.len(), "organization policy set");
    Ok(Json(json!({ "set_at": now, "auditors": auditors })))
}

/// The organization's snapshot as of this request (built again if records, projects or the
/// policy changed since the last one, on any instance).
pub(super) async fn snapshot(state: &AppState) -> Result<Arc<Snapshot>, ApiError> {
    let records = state.generation.current(&state.db).await?;
    let projects = state.db.org_generation().await?;
    Ok(state
        .org
        .get(&state.db, (records, projects), state.clock.now())
        .await?)
}

pub(super) fn summary_json(p: &ProjectView) -> Value {
    let summary = p.report.as_ref().map(|r| &r.summary);
    json!({
        "name": p.name,
        "status": p.status.as_str(),
        "packages": p.packages,
        "blocked": summary.map_or(0, |s| s.blocked),
        "warnings": summary.map_or(0, |s| s.warnings),
        "backlog": p.backlog(),
        "backlog_lines": p.backlog_lines,
        "backlog_lines_unknown": p.backlog_lines_unknown,
        "mix": p.mix,
        "updated": p.updated,
        "uploaded_by": p.uploaded_by,
        "lockfile": p.lockfile_seq,
        "sha256": p.sha256,
    })
}

/// The report's packages grouped by status, in the gate's status order (as `check` lists them).
pub fn groups(p: &ProjectView) -> Vec<(Status, Vec<&Verdict>)> {
    let mut out: Vec<(Status, Vec<&Verdict>)> = Vec::new();
    let Some(report) = &p.report else {
        return out;
    };
    let mut verdicts: Vec<&Verdict> = report.packages.iter().collect();
    // Findings first, as a reader looks for them; then the packages that pass.
    verdicts.sort_by_key(|v| (!v.blocked, std::cmp::Reverse(v.status)));
    for v in verdicts {
        match out.last_mut() {
            Some((status, list)) if *status == v.status => list.push(v),
            _ => out.push((v.status, vec![v])),
        }
    }
    out
}

/// Packages per page of a project (findings first, so the first page holds what blocks).
pub const PACKAGES_PER_PAGE: usize = 200;

/// Page `page` (1-based) of the report's packages, still grouped by status; the number of
/// packages, and whether more pages follow.
pub fn groups_page(p: &ProjectView, page: usize) -> (Vec<(Status, Vec<&Verdict>)>, usize, bool) {
    let all = groups(p);
    let total: usize = all.iter().map(|(_, list)| list.len()).sum();
    let skip = (page - 1) * PACKAGES_PER_PAGE;
    let mut out: Vec<(Status, Vec<&Verdict>)> = Vec::new();
    let mut index = 0;
    for (status, list) in all {
        let kept: Vec<&Verdict> = list
            .into_iter()
            .filter(|_| {
                let keep = (skip..skip + PACKAGES_PER_PAGE).contains(&index);
                index += 1;
                keep
            })
            .collect();
        if !kept.is_empty() {
            out.push((status, kept));
        }
    }
    (out, total, skip + PACKAGES_PER_PAGE < total)
}

/// `GET /v1/projects`
pub(super) async fn overview(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let snap = snapshot(&state).await?;
    let projects: Vec<Value> = snap.projects.iter().map(summary_json).collect();
    Ok(Json(json!({
        "policy": snap.policy,
        "not_consulted": NOT_CONSULTED,
        "projects": projects,
    })))
}

/// `GET /v1/projects/{name}`
pub(super) async fn project(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if !valid_project_name(&name) {
        return Err(bad_name());
    }
    let page = super::views::page_of(&query).map_err(|m| ApiError::bad_request("bad-page", m))?;
    let snap = snapshot(&state).await?;
    let p = snap
        .project(&name)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such project"))?;
    let (page_groups, total, more) = groups_page(p, page);
    let groups: Vec<Value> = page_groups
        .into_iter()
        .map(|(status, list)| json!({ "status": status.as_str(), "packages": list }))
        .collect();
    let mut out = summary_json(p);
    out["groups"] = Value::Array(groups);
    out["page"] = json!(page);
    out["per_page"] = json!(PACKAGES_PER_PAGE);
    out["more"] = json!(more);
    out["packages_listed"] = json!(total);
    out["changes"] = serde_json::to_value(&p.changes).unwrap_or(Value::Null);
    out["notes"] = p
        .report
        .as_ref()
        .map_or_else(|| json!([NOT_CONSULTED]), |r| json!(r.notes));
    out["expiring"] = p
        .report
        .as_ref()
        .map_or_else(|| json!([]), |r| json!(r.expiring));
    Ok(Json(out))
}

/// A checked search: lowercase text and a 1-based page.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: String,
    pub page: usize,
}

/// `q` (1 to [`MAX_QUERY_LEN`] of letters, digits, `-`, `_`, `.`) and `page` (1 to 10,000).
pub fn search_query(query: &HashMap<String, String>) -> Result<Option<SearchQuery>, String> {
    let Some(text) = query.get("q").map(|q| q.trim().to_ascii_lowercase()) else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_QUERY_LEN
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "search for 1 to {MAX_QUERY_LEN} letters, digits, `-`, `_` or `.`: a crate name prefix, an auditor or a record id"
        ));
    }
    let page = match query.get("page") {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or_else(|| format!("page is a number from 1 to {MAX_PAGE}"))?,
    };
    Ok(Some(SearchQuery { text, page }))
}

/// What a search found.
#[derive(Debug, Default)]
pub struct SearchResults {
    /// This page's crate names, each with the projects that use it.
    pub crates: Vec<(String, Vec<String>)>,
    pub total_crates: usize,
    pub more: bool,
    /// `(name, key)` of auditors whose name starts with the text.
    pub auditors: Vec<(String, String)>,
    /// A record whose id is the text: `(crate, kind, body)`.
    pub record: Option<(String, String, String)>,
}

pub async fn search(state: &AppState, q: &SearchQuery) -> Result<SearchResults, ApiError> {
    let snap = snapshot(state).await?;
    let names = &snap.crate_names;
    let start = names.partition_point(|n| n.as_str() < q.text.as_str());
    let matching = names[start..]
        .iter()
        .take_while(|n| n.starts_with(&q.text))
        .count();
    let skip = (q.page - 1) * PER_PAGE;
    let crates = names[start..start + matching]
        .iter()
        .skip(skip)
        .take(PER_PAGE)
        .map(|n| {
            let used = snap.projects_using(n).into_iter().map(str::to_owned);
            (n.clone(), used.collect())
        })
        .collect();
    let auditors = state
        .db
        .auditors()
        .await?
        .into_iter()
        .filter(|(name, _)| name.to_ascii_lowercase().starts_with(&q.text))
        .collect();
    let record = match RecordId::parse(&q.text) {
        Ok(id) => state
            .db
            .record_by_id(&id.to_string())
            .await?
            .and_then(|(crate_name, body)| {
                let kind = SignedRecord::from_json_line(&body)
                    .ok()?
                    .record()
                    .statement
                    .kind();
                Some((crate_name, kind.to_owned(), body))
            }),
        Err(_) => None,
    };
    Ok(SearchResults {
        crates,
        total_crates: matching,
        more: skip + PER_PAGE < matching,
        auditors,
        record,
    })
}

/// `GET /v1/search?q=TEXT[&page=N]`
pub(super) async fn search_json(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let q = search_query(&query)
        .map_err(|m| ApiError::bad_request("bad-query", m))?
        .ok_or_else(|| ApiError::bad_request("bad-query", "give the text to search as ?q=…"))?;
    let found = search(&state, &q).await?;
    let crates: Vec<Value> = found
        .crates
        .iter()
        .map(|(name, projects)| json!({ "name": name, "projects": projects }))
        .collect();
    let auditors: Vec<Value> = found
        .auditors
        .iter()
        .map(|(name, key)| json!({ "name": name, "key": key }))
        .collect();
    let record = found.record.as_ref().map(|(crate_name, kind, body)| {
        json!({
            "crate": crate_name,
            "kind": kind,
            "record": serde_json::from_str::<Value>(body).unwrap_or(Value::Null),
        })
    });
    Ok(Json(json!({
        "query": q.text,
        "page": q.page,
        "per_page": PER_PAGE,
        "total_crates": found.total_crates,
        "more": found.more,
        "crates": crates,
        "auditors": auditors,
        "record": record,
    })))
}
