//! The one error type of the HTTP API, which is also its error shape:
//! `{"error": {"code": "...", "message": "..."}}`. Every client mistake is a 4xx with a stable
//! code; an internal failure is logged and answered with a bare 500 that leaks nothing.

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

    pub fn internal(what: &str, error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%error, "{what}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error (logged on the server)",
        )
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            DbError::Invalid(message) => ApiError::bad_request("invalid", message),
            other => ApiError::internal("database", &other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}
