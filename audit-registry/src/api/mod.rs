//! The HTTP API: `router(state)` and the middleware every request passes (rate limit, metrics,
//! JSON errors). Handlers live one resource per file.

pub mod admin;
mod body;
mod crates;
mod dashboard;
mod generation;
mod gzip;
mod log;
mod org_pages;
pub mod projects;
mod publish;
mod recent;
mod subscribers;
mod svg;
mod sync;
mod view_pages;
mod views;
mod watch;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use audit_trust_core::egress::EgressPolicy;
use audit_trust_core::time::Clock;
use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde_json::json;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::db::Db;
use crate::error::{ApiError, REQUEST_ID};
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
pub use body::SMALL_BODY_BYTES;
use body::{BodySize, read_body};

/// Bounds on what one client may ask.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// Request body bytes buffered at once across all requests; a body that does not fit is
    /// answered `503 busy`.
    pub max_buffered_body_bytes: usize,
    /// Time a request body may take to arrive in full, from when its handler starts reading it.
    pub body_timeout: Duration,
    /// Records in one publish.
    pub max_batch: usize,
    /// Keys in one sync.
    pub max_sync_keys: usize,
    /// Crate names in one crate query.
    pub max_query_crates: usize,
    /// Requests per minute per client address (0: no limit).
    pub rate_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 8 * 1024 * 1024,
            max_buffered_body_bytes: 64 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            max_batch: 1000,
            max_sync_keys: 256,
            max_query_crates: 5000,
            rate_per_minute: 600,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub limits: Limits,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Where outbound requests (webhooks) may go: public https, plus `--mirror` hosts.
    pub egress: EgressPolicy,
    rate: Arc<RateLimiter>,
    /// The memory budget of request bodies, in bytes (`Limits::max_buffered_body_bytes`).
    body_budget: Arc<Semaphore>,
    crate_cache: crates::SharedCrateCache,
    generation: Arc<generation::GenerationGate>,
    org: Arc<crate::org::OrgCache>,
    /// The home page's recent records, verified once per generation.
    recent: Arc<recent::RecentCache>,
    /// The witnesses asked to cosign each checkpoint (`--witness`).
    pub witnesses: Option<Arc<crate::witness::collect::Witnesses>>,
}

impl AppState {
    pub fn new(db: Db, limits: Limits, clock: Arc<dyn Clock>) -> AppState {
        AppState {
            db: db.with_clock(clock.clone()),
            limits,
            clock,
            metrics: Arc::default(),
            egress: EgressPolicy::public_only(),
            rate: Arc::new(RateLimiter::new(limits.rate_per_minute)),
            body_budget: Arc::new(Semaphore::new(
                limits.max_buffered_body_bytes.min(Semaphore::MAX_PERMITS),
            )),
            crate_cache: Arc::default(),
            generation: Arc::default(),
            org: Arc::default(),
            recent: Arc::default(),
            witnesses: None,
        }
    }

    /// Asks `witnesses` to cosign every new checkpoint.
    pub fn with_witnesses(
        mut self,
        witnesses: Arc<crate::witness::collect::Witnesses>,
    ) -> AppState {
        self.witnesses = Some(witnesses);
        self
    }

    /// Replaces the egress policy (the default allows public https only).
    pub fn with_egress(mut self, egress: EgressPolicy) -> AppState {
        self.egress = egress;
        self
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard::home))
        .route("/crates/{name}", get(dashboard::crate_page))
        .route("/projects", get(org_pages::overview))
        .route("/projects/{name}", get(org_pages::project))
        .route("/search", get(org_pages::search))
        .route("/auditors/{name}", get(view_pages::auditor))
        .route("/trends", get(view_pages::trends))
        .route("/v1/crates/{name}/summary", get(views::crate_json))
        .route("/v1/auditors/{name}", get(views::auditor_json))
        .route("/v1/trends", get(views::trends_json))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/auditors", get(auditors))
        .route("/v1/publish", post(publish::publish))
        .route("/v1/sync", post(sync::sync))
        .route("/v1/crates", post(crates::query))
        .route("/v1/crates/{name}", get(crates::one))
        .route("/v1/heads", get(crates::heads))
        .route("/v1/log/checkpoint", get(log::checkpoint))
        .route("/v1/log/key", get(log::key))
        .route("/v1/log/consistency", get(log::consistency))
        .route("/v1/log/entries", get(log::entries))
        .route("/v1/admin/auditors", post(admin::add_auditor))
        .route("/v1/admin/auditors/{name}", delete(admin::remove_auditor))
        .route(
            "/v1/admin/subscribers",
            post(subscribers::add).get(subscribers::list),
        )
        .route("/v1/admin/subscribers/{id}", delete(subscribers::remove))
        .route(
            "/v1/admin/subscribers/{id}/deliveries",
            get(subscribers::deliveries),
        )
        .route("/v1/watch", get(watch::list))
        .route("/v1/admin/watch", post(watch::add))
        .route("/v1/admin/watch/{name}", delete(watch::remove))
        .route("/v1/admin/jobs", get(watch::jobs))
        .route(
            "/v1/admin/projects/{name}",
            put(projects::put_project)
                .post(projects::put_project)
                .delete(projects::remove_project),
        )
        .route("/v1/admin/policy", put(projects::put_policy))
        .route("/v1/projects", get(projects::overview))
        .route("/v1/projects/{name}", get(projects::project))
        .route("/v1/search", get(projects::search_json))
        .route("/v1/verifications/{name}", get(watch::verifications))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Ids of this process's requests, in the log and in the `x-request-id` header.
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Rate limit, metrics, a request id, and a JSON body for every error axum produces itself
/// (404, 405, 413…). Everything logged while the request is handled (a 500's cause above all)
/// is in a `request` span with the id, method and route.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    Metrics::add(&state.metrics.requests, 1);
    let started = Instant::now();
    let method = request.method().clone();
    // A parsed URI holds no raw control characters (they arrive percent-encoded), so the path
    // is safe to log as it is.
    let path = request.uri().path().to_owned();
    if !state.rate.allow(client, Instant::now()) {
        Metrics::add(&state.metrics.rate_limited, 1);
        Metrics::add(&state.metrics.client_errors, 1);
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "too many requests from this address; slow down",
        )
        .into_response();
    }
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| path.clone(), |m| m.as_str().to_owned());
    let span = tracing::info_span!("request", id, %method, %route);
    let mut response = REQUEST_ID
        .scope(id, next.run(request).instrument(span))
        .await;
    response
        .headers_mut()
        .insert("x-request-id", header::HeaderValue::from(id));
    let status = response.status();
    tracing::info!(
        target: "audit_registry::request",
        id,
        %method,
        %path,
        status = status.as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        %client,
        "request"
    );
    if status.is_server_error() {
        Metrics::add(&state.metrics.server_errors, 1);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .entry(header::RETRY_AFTER)
                .or_insert(HeaderValue::from_static("1"));
            return response;
        }
    } else if status.is_client_error() {
        Metrics::add(&state.metrics.client_errors, 1);
        // Pages answer their own 4xx in HTML (a search that is refused says why).
        let ours = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| {
                v.as_bytes().starts_with(b"application/json")
                    || v.as_bytes().starts_with(b"text/html")
            });
        if !ours {
            let code = match status {
                StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
                StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
                StatusCode::NOT_FOUND => "not-found",
                _ => "bad-request",
            };
            let reason = status.canonical_reason().unwrap_or("bad request");
            return ApiError::new(status, code, reason).into_response();
        }
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

/// Ready for traffic: the database answers and this process has loaded the transparency log,
/// so answers with proofs do not wait for it to replay the log (minutes at millions of
/// entries). For a load balancer's readiness check; `/health` says only that it is alive.
async fn ready(State(state): State<AppState>) -> Response {
    if !state.db.log_loaded() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "loading" })),
        )
            .into_response();
    }
    health(State(state)).await
}

async fn health(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable" })),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn auditors(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let list: Vec<serde_json::Value> = state
        .db
        .auditors()
        .await?
        .into_iter()
        .map(|(name, key)| json!({ "name": name, "key": key }))
        .collect();
    Ok(Json(json!({ "auditors": list })))
}
