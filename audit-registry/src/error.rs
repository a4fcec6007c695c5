//! The one error type of the HTTP API, which is also its error shape:
//! `{"error": {"code": "...", "message": "..."}}`. Every client mistake is a 4xx with a stable
//! code; an internal failure is logged with its whole cause chain under the request's id and
//! route, and answered with a 500 that names only that id.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::db::DbError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 500. The log line carries `what`, the error and (from the request's span, see
    /// `api::guard`) its id, method and route; the answer carries the id, so an operator finds
    /// the cause from what a client reports.
    pub fn internal(what: &str, error: &dyn std::fmt::Display) -> ApiError {
        let request = REQUEST_ID.try_with(|id| *id).ok();
        tracing::error!(%error, request, "{what}");
        let message = match request {
            Some(id) => format!("internal error (logged on the server as request {id})"),
            None => "internal error (logged on the server)".to_owned(),
        };
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

tokio::task_local! {
    /// The id `api::guard` gave the request being handled.
    pub static REQUEST_ID: u64;
}

/// `error` and every cause its message does not already quote, joined by `: `.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            DbError::Invalid(message) => ApiError::bad_request("invalid", message),
            other => ApiError::internal("database", &chain(&other)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}
