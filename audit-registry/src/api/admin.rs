//! Administration over HTTP. Reads stay public; anything that changes what the registry accepts
//! needs `Authorization: Bearer <admin token>` (`audit-registry admin-token new`). The [`Admin`]
//! extractor is the one gate: a handler that takes it cannot run without a valid token.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, BodySize, read_body};
use crate::error::ApiError;
use crate::valid_name;
use audit_trust_core::signoff::PublicKey;

/// Proof that the request carried a valid admin token; holds the token's name (for logs).
#[derive(Debug)]
pub struct Admin(pub String);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        let unauthorized = |message: &str| {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message.to_owned())
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("this needs `Authorization: Bearer <admin token>`"))?;
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("the Authorization header is not `Bearer <token>`"))?;
        match state.db.admin_token_name(secret).await? {
            Some(name) => Ok(Admin(name)),
            None => Err(unauthorized("that admin token is not valid here")),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAuditor {
    name: String,
    key: String,
}

/// `POST /v1/admin/auditors {"name": …, "key": "ed25519:…"}`
pub(super) async fn add_auditor(
    admin: Admin,
    State(state): State<AppState>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = read_body(&state, body, BodySize::Small).await?;
    let request: NewAuditor = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad-json", format!("not an auditor: {e}")))?;
    if !valid_name(&request.name) {
        return Err(ApiError::bad_request(
            "bad-name",
            "an auditor name is 1 to 64 ASCII letters, digits, `-`, `_` or `.`",
        ));
    }
    let key = PublicKey::parse(&request.key)
        .map_err(|e| ApiError::bad_request("bad-key", e.to_string()))?;
    let today = state.clock.now().to_string();
    state.db.add_auditor(&request.name, &key, &today).await?;
    tracing::info!(admin = %admin.0, auditor = %request.name, %key, "auditor added");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": request.name, "key": key.to_string() })),
    ))
}

/// `DELETE /v1/admin/auditors/{name}`: new publishes by that key are refused; records stay.
pub(super) async fn remove_auditor(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !state.db.remove_auditor(&name).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "no auditor of that name",
        ));
    }
    tracing::info!(admin = %admin.0, auditor = %name, "auditor removed");
    Ok(Json(json!({ "removed": name })))
}
