//! Webhook subscribers, admin only: add, list, remove, and read a subscriber's delivery log.
//! A subscriber's URL is checked against the egress policy when it is added (https, public
//! addresses, unless its host is a `--mirror`) and again at every connection by the guarded
//! client. The secret is accepted once and never shown again.

use audit_trust_core::egress::EgressError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::Admin;
use super::{AppState, BodySize, read_body};
use crate::db::{EventKind, Subscriber};
use crate::error::ApiError;

const MAX_URL_BYTES: usize = 2048;
const MIN_SECRET_BYTES: usize = 16;
const MAX_SECRET_BYTES: usize = 256;
const MAX_SUBSCRIBERS: usize = 100;
/// Attempts shown by the delivery log.
const LOG_LIMIT: u32 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSubscriber {
    url: String,
    secret: String,
    events: Option<Vec<String>>,
}

fn view(s: &Subscriber) -> Value {
    json!({ "id": s.id, "url": s.url, "events": s.events, "created": s.created })
}

/// `POST /v1/admin/subscribers {"url", "secret", "events"?}` → 201 with the subscriber (no secret).
pub(super) async fn add(
    admin: Admin,
    State(state): State<AppState>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = read_body(&state, body, BodySize::Small).await?;
    let request: NewSubscriber = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad-json", format!("not a subscriber: {e}")))?;
    let url = request.url.trim().to_owned();
    if url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ApiError::bad_request(
            "bad-url",
            format!(
                "a subscriber URL is at most {MAX_URL_BYTES} bytes, without spaces or control characters"
            ),
        ));
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(ApiError::bad_request(
            "bad-url",
            "a subscriber URL starts with https:// (or http:// for a configured mirror)",
        ));
    }
    let secret = request.secret;
    let printable = secret.bytes().all(|b| b.is_ascii_graphic());
    if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&secret.len()) || !printable {
        return Err(ApiError::bad_request(
            "bad-secret",
            format!(
                "a secret is {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} printable ASCII characters without spaces (e.g. `openssl rand -hex 32`)"
            ),
        ));
    }
    let events = match request.events {
        None => EventKind::ALL
            .iter()
            .map(|k| k.as_str().to_owned())
            .collect(),
        Some(list) => {
            let mut kinds: Vec<String> = Vec::new();
            for name in list {
                let Some(kind) = EventKind::parse(&name) else {
                    let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                    return Err(ApiError::bad_request(
                        "bad-event",
                        format!(
                            "unknown event kind `{}`; kinds are {}",
                            name.escape_debug(),
                            known.join(", ")
                        ),
                    ));
                };
                if !kinds.iter().any(|k| k == kind.as_str()) {
                    kinds.push(kind.as_str().to_owned());
                }
            }
            if kinds.is_empty() {
                return Err(ApiError::bad_request(
                    "bad-event",
                    "`events` lists no kind; leave it out for all",
                ));
            }
            kinds
        }
    };
    // Resolving a name blocks: off the async threads.
    let policy = state.egress.clone();
    let checked_url = url.clone();
    let checked = tokio::task::spawn_blocking(move || policy.check_url(&checked_url))
        .await
        .map_err(|e| ApiError::internal("egress check", &e))?;
    if let Err(e) = checked {
        let code = match e {
            EgressError::Forbidden { .. } => "forbidden-address",
            EgressError::NotHttps { .. } => "not-https",
            EgressError::NoHost { .. } => "bad-url",
            EgressError::Resolve { .. } => "unresolvable-host",
        };
        return Err(ApiError::bad_request(code, e.to_string()));
    }
    if state.db.subscribers().await?.len() >= MAX_SUBSCRIBERS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too-many-subscribers",
            format!("at most {MAX_SUBSCRIBERS} subscribers; remove one first"),
        ));
    }
    let created = state.clock.now().to_string();
    let subscriber = state
        .db
        .add_subscriber(&url, &secret, &events, &created)
        .await?;
    // The URL may carry a token of the receiver's: log only the id.
    tracing::info!(admin = %admin.0, subscriber = %subscriber.id, "subscriber added");
    Ok((StatusCode::CREATED, Json(view(&subscriber))))
}

/// `GET /v1/admin/subscribers`
pub(super) async fn list(
    _admin: Admin,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = state.db.subscribers().await?.iter().map(view).collect();
    Ok(Json(json!({ "subscribers": list })))
}

/// `DELETE /v1/admin/subscribers/{id}`: with its pending deliveries and its log.
pub(super) async fn remove(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !state.db.remove_subscriber(&id).await? {
        return Err(no_such_subscriber());
    }
    tracing::info!(admin = %admin.0, subscriber = %id, "subscriber removed");
    Ok(Json(json!({ "removed": id })))
}

/// `GET /v1/admin/subscribers/{id}/deliveries`: the latest attempts, newest first.
pub(super) async fn deliveries(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !state.db.subscriber_exists(&id).await? {
        return Err(no_such_subscriber());
    }
    let log: Vec<Value> = state
        .db
        .delivery_log(&id, LOG_LIMIT)
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "delivery": a.delivery_id,
                "event": a.event_id,
                "kind": a.event_kind,
                "attempt": a.attempt,
                "at": a.at,
                "status": a.status,
                "error": a.error,
                "next_retry": a.next_retry,
                "state": a.state,
            })
        })
        .collect();
    Ok(Json(json!({ "subscriber": id, "attempts": log })))
}

fn no_such_subscriber() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "no subscriber with that id",
    )
}
