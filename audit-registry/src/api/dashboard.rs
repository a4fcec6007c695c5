//! The dashboard: read-only HTML pages rendered on the server, with no script and no build step.
//! `GET /` shows auditors, recent sign-offs, flags, revocations, the verification queue and
//! failed verifications with their reports; `GET /crates/{name}` one crate's whole history.
//!
//! Everything a record carries (notes, reasons, names, repository URLs) is attacker-controlled:
//! it passes through `html::escape`, is never put in an href (only crate names, which are
//! validated, become links), and the Content-Security-Policy forbids scripts outright.

use std::collections::{BTreeMap, HashSet};

use audit_trust_core::names::validate_crate_name;
use audit_trust_core::signoff::{RecordId, SignedRecord, Statement, Subject};
use audit_trust_core::time::Timestamp;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::AppState;
use crate::db::{EventKind, EventRow};
use crate::error::ApiError;
use crate::html::{Table, escape, page};

/// Rows per section of the home page.
const RECENT: u32 = 50;
/// Records shown on a crate's page.
const CRATE_HISTORY: usize = 1000;

/// `GET /`
pub(super) async fn home(State(state): State<AppState>) -> Result<Response, ApiError> {
    let names = auditor_names(&state).await?;
    let mut body = String::from(
        "<header><h1>audit-registry</h1><nav><a href=\"/projects\">Projects</a> · \
         <a href=\"/search\">Search</a> · <a href=\"/trends\">Trends</a></nav><p>A read-only view. Every record was verified when it \
         was stored; clients verify everything again against the keys they pin.</p></header>",
    );
    body.push_str(&section(
        "auditors",
        "Auditors",
        &auditors_table(&state).await?,
    ));
    let recent = state.recent.get(&state, RECENT).await?;
    body.push_str(&section(
        "signoffs",
        "Recent sign-offs",
        &records_table(&recent.signoffs, &names, &recent.revoked, true),
    ));
    body.push_str(&section(
        "flags",
        "Flags",
        &records_table(&recent.flags, &names, &recent.revoked, true),
    ));
    body.push_str(&section(
        "revocations",
        "Revocations",
        &records_table(&recent.revocations, &names, &recent.revoked, true),
    ));
    body.push_str(&section(
        "queue",
        "Verification queue",
        &verification_queue(&state).await?,
    ));
    let failures = state
        .db
        .recent_events(EventKind::VerificationFailed, None, RECENT)
        .await?;
    body.push_str(&section(
        "failures",
        "Failed verifications",
        &failures_table(&failures),
    ));
    Ok(html_response(
        StatusCode::OK,
        &page("audit-registry", &body),
    ))
}

/// `GET /crates/{name}`: every record filed under the crate, and its failed verifications.
pub(super) async fn crate_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if validate_crate_name(&name).is_err() {
        let body = "<h1>Not a crate name</h1><p><a href=\"/\">Back to the dashboard</a></p>";
        return Ok(html_response(
            StatusCode::NOT_FOUND,
            &page("audit-registry: not found", body),
        ));
    }
    let lower = name.to_ascii_lowercase();
    let names = auditor_names(&state).await?;
    let rows = state.db.crate_records(std::slice::from_ref(&lower)).await?;
    let mut records: Vec<(String, SignedRecord)> = rows
        .iter()
        .filter_map(|r| {
            Some((
                r.crate_name.clone(),
                SignedRecord::from_json_line(&r.body).ok()?,
            ))
        })
        .collect();
    // Newest first, by the signer's date, then by id for a stable page. Cut only after sorting
    // and after finding revocations: rows come by key, so cutting first would let one prolific
    // key push every other key's records (a flag included) off the page.
    records.sort_by_key(|(_, r)| std::cmp::Reverse((r.record().created, r.id())));
    let revoked = revoked_ids(&records);
    records.truncate(CRATE_HISTORY);
    let failures = state
        .db
        .recent_events(EventKind::VerificationFailed, Some(&lower), RECENT)
        .await?;
    let mut body = format!(
        "<header><p><a href=\"/\">audit-registry</a> · <a href=\"/projects\">Projects</a> · \
         <a href=\"/search\">Search</a> · <a href=\"/trends\">Trends</a></p><h1>{}</h1></header>",
        escape(&lower)
    );
    let view = super::views::crate_view(&state, &lower).await?;
    body.push_str(&super::view_pages::crate_sections(&view));
    body.push_str(&section(
        "history",
        "Records",
        &records_table(&records, &names, &revoked, false),
    ));
    body.push_str(&section(
        "failures",
        "Failed verifications",
        &failures_table(&failures),
    ));
    Ok(html_response(
        StatusCode::OK,
        &page(&format!("{lower}: audit-registry"), &body),
    ))
}

/// Jobs the automatic auditor has not finished: waiting, running, or given up.
async fn verification_queue(state: &AppState) -> Result<String, ApiError> {
    let mut table = Table::new(&[
        "crate",
        "version",
        "state",
        "attempts",
        "queued",
        "last error",
    ]);
    for job in state.db.pending_jobs(i64::from(RECENT)).await? {
        table.row(&[
            crate_link(&job.crate_name.to_ascii_lowercase()),
            escape(&job.version),
            escape(&job.state),
            job.attempts.to_string(),
            escape(&Timestamp(job.created).to_string()),
            escape(job.last_error.as_deref().unwrap_or("")),
        ]);
    }
    Ok(table.finish("Nothing is waiting for verification."))
}

fn html_response(status: StatusCode, html: &str) -> Response {
    html_response_with(
        status,
        html,
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
}

/// An HTML answer with this Content-Security-Policy (pages with a search form allow
/// `form-action 'self'`; none allows any script).
pub(super) fn html_response_with(status: StatusCode, html: &str, csp: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html.to_owned(),
    )
        .into_response()
}

pub(super) fn section(id: &str, title: &str, content: &str) -> String {
    format!(
        "<section id=\"{}\"><h2>{}</h2>{content}</section>",
        escape(id),
        escape(title)
    )
}

async fn auditor_names(state: &AppState) -> Result<BTreeMap<String, String>, ApiError> {
    Ok(state
        .db
        .auditors()
        .await?
        .into_iter()
        .map(|(name, key)| (key, name))
        .collect())
}

async fn auditors_table(state: &AppState) -> Result<String, ApiError> {
    let mut table = Table::new(&["name", "key"]);
    for (name, key) in state.db.auditors().await? {
        table.row(&[super::view_pages::auditor_link(&name), code(&key)]);
    }
    Ok(table.finish("No auditors are registered."))
}

/// The records behind record events; a record that no longer verifies is left out (it could
/// not have been stored: this is a second line, not the check).
pub(super) fn events_records(events: &[EventRow]) -> Vec<(String, SignedRecord)> {
    events
        .iter()
        .filter_map(|e| {
            let record = SignedRecord::from_json_line(e.record_body.as_deref()?).ok()?;
            Some((e.crate_name.clone().unwrap_or_default(), record))
        })
        .collect()
}

/// Records revoked by a revocation among `records`, as (signing key, record id): a revocation
/// counts only for its own signer's records, as clients apply it. Publish refuses the others,
/// but a database may hold one stored before it did.
fn revoked_ids(records: &[(String, SignedRecord)]) -> HashSet<(String, RecordId)> {
    records
        .iter()
        .filter_map(|(_, r)| match &r.record().statement {
            Statement::Revocation { revokes, .. } => Some((r.key().to_string(), *revokes)),
            _ => None,
        })
        .collect()
}

/// Which of `shown` are revoked: a revocation is filed under the crate of the record it
/// withdraws, so the crates shown hold every revocation that matters.
pub(super) async fn revoked_among<'a>(
    state: &AppState,
    shown: impl Iterator<Item = &'a (String, SignedRecord)>,
) -> Result<HashSet<(String, RecordId)>, ApiError> {
    let mut crates: Vec<String> = shown.map(|(c, _)| c.clone()).collect();
    crates.sort();
    crates.dedup();
    let rows = state.db.crate_records(&crates).await?;
    let records: Vec<(String, SignedRecord)> = rows
        .iter()
        .filter_map(|r| Some((String::new(), SignedRecord::from_json_line(&r.body).ok()?)))
        .collect();
    Ok(revoked_ids(&records))
}

fn records_table(
    records: &[(String, SignedRecord)],
    auditors: &BTreeMap<String, String>,
    revoked: &HashSet<(String, RecordId)>,
    with_crate: bool,
) -> String {
    let mut headers = vec!["kind"];
    if with_crate {
        headers.push("crate");
    }
    headers.extend(["version", "by", "signed", "details", "notes", "record"]);
    let mut table = Table::new(&headers);
    for (crate_name, r) in records {
        let record = r.record();
        let key = record.key.to_string();
        let by = auditors
            .get(&key)
            .map_or_else(|| code(&key), |name| super::view_pages::auditor_link(name));
        let subject = record.statement.subject();
        let mut kind = escape(record.statement.kind());
        if matches!(record.statement, Statement::Flag { .. }) {
            kind = format!("<span class=\"flag\">{kind}</span>");
        }
        if revoked.contains(&(key.clone(), r.id())) {
            kind.push_str(" (revoked)");
        }
        let mut cells = vec![kind];
        if with_crate {
            // A revocation has no subject; it is filed under the crate of what it revokes.
            cells.push(subject.map_or_else(|| crate_link(crate_name), |s| crate_link(s.name())));
        }
        cells.push(subject.map_or_else(String::new, |s| escape(&s.version().to_string())));
        cells.push(by);
        cells.push(escape(&record.created.to_string()));
        cells.push(details(r));
        cells.push(text_cell(match &record.statement {
            Statement::SignOff { notes, .. } | Statement::Flag { notes, .. } => notes.as_deref(),
            Statement::Revocation { .. } => None,
        }));
        cells.push(code(&r.id().to_string()));
        table.row(&cells);
    }
    table.finish("None yet.")
}

/// What the record says besides its notes: criteria and evidence, a flag's or revocation's
/// reason, a git subject's repository (as text, never a link).
fn details(r: &SignedRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    match &r.record().statement {
        Statement::SignOff {
            criteria,
            delta_from,
            source,
            ..
        } => {
            let names: Vec<&str> = criteria.iter().map(|c| c.as_str()).collect();
            parts.push(escape(&names.join(", ")));
            if let Some(base) = delta_from {
                parts.push(format!("delta from {}", escape(&base.version.to_string())));
            }
            if let Some(evidence) = source {
                parts.push(format!(
                    "source {} at {}",
                    code(&evidence.repository),
                    code(&evidence.commit)
                ));
            }
        }
        Statement::Flag { reason, .. } => parts.push(format!("reason: {}", escape(reason))),
        Statement::Revocation { revokes, reason } => {
            parts.push(format!("revokes {}", code(&revokes.to_string())));
            parts.push(format!("reason: {}", escape(reason)));
        }
    }
    if let Some(Subject::Git {
        repository, commit, ..
    }) = r.record().statement.subject()
    {
        parts.push(format!("git {} at {}", code(repository), code(commit)));
    }
    format!("<div class=\"text\">{}</div>", parts.join("<br>"))
}

fn failures_table(events: &[EventRow]) -> String {
    let mut table = Table::new(&["crate", "version", "when", "report"]);
    for e in events {
        let payload: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
        let data = &payload["data"];
        let version = data["version"].as_str().unwrap_or("");
        let report = match &data["report"] {
            Value::String(text) => text.clone(),
            Value::Null => serde_json::to_string_pretty(data).unwrap_or_default(),
            other => serde_json::to_string_pretty(other).unwrap_or_default(),
        };
        table.row(&[
            e.crate_name.as_deref().map_or_else(String::new, crate_link),
            escape(version),
            escape(&e.created.to_string()),
            format!("<pre>{}</pre>", escape(&report)),
        ]);
    }
    table.finish("No verification has failed.")
}

/// A link to a crate's page; names that are not valid crate names stay plain text.
pub(super) fn crate_link(name: &str) -> String {
    if validate_crate_name(name).is_ok() {
        // Valid names are ASCII letters, digits, `-` and `_`: nothing to encode, escaped anyway.
        format!(
            "<a href=\"/crates/{}\">{}</a>",
            escape(&name.to_ascii_lowercase()),
            escape(name)
        )
    } else {
        escape(name)
    }
}

pub(super) fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

fn text_cell(text: Option<&str>) -> String {
    match text {
        Some(t) => format!("<div class=\"text\">{}</div>", escape(t)),
        None => String::new(),
    }
}
