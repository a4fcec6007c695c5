//! The accept loop of `audit-registry serve`: hyper's HTTP/1 connections under connection limits.
//!
//! `axum::serve` sets no header timeout and accepts every connection, so slow or stalled clients
//! could hold sockets, file descriptors and memory without end. Here each connection is served
//! by hyper's own `http1::Builder` with its header read timeout (which also closes keep-alive
//! connections left idle: hyper starts that clock whenever it waits for a request head) and a
//! bounded read buffer, and connections are admitted in three tiers:
//!
//! 1. up to `max_connections` (and `max_connections_per_client` per client) are served normally;
//! 2. beyond that, [`SHED_SLOTS`] more are *shed*: read with a short header timeout, answered
//!    `503 overloaded` — except `GET /health`, which is answered as usual, so a health check
//!    still gets through while the server is saturated;
//! 3. beyond that, or over the per-client cap, a connection gets a fixed 503 and is closed at
//!    once, without reading from it.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt as _;

use crate::error::ApiError;
use crate::limits::{ClientSlot, ConnectionsPerClient};
use crate::metrics::Metrics;

/// Connections accepted beyond `max_connections` only to answer them `503` (or `/health`).
pub const SHED_SLOTS: usize = 32;
/// The header timeout of shed connections (or the configured one, if shorter): they exist only
/// to answer one small request.
pub const SHED_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// The most bytes hyper buffers per connection (request heads, and each chunk of a body handed
/// to a handler). hyper's default is about 400 KiB; with this, buffers of all connections
/// together stay near `max_connections × 64 KiB`.
pub const READ_BUFFER_BYTES: usize = 64 * 1024;
/// File descriptors kept free for everything but client connections (database, export, the
/// automatic auditor's git fetches, logs).
const SPARE_FILE_DESCRIPTORS: usize = 128;

/// The default of `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 512;
/// The default of `--max-connections-per-ip`: generous, since a whole office or CI fleet may
/// reach the registry through one NAT address.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: u32 = 64;

/// Limits on connections (see `serve --help` and docs/registry-api.md).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    /// Time to send a request head, counted from when the connection opens or the previous
    /// answer was sent: so also the idle timeout of keep-alive connections.
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in progress.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
            max_connections_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT as usize,
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// The fixed answer of a connection refused at once (tier 3), written without reading the
/// request.
const REFUSED: &[u8] = concat!(
    "HTTP/1.1 503 Service Unavailable\r\n",
    "content-type: application/json\r\n",
    "retry-after: 1\r\n",
    "connection: close\r\n",
    "content-length: 84\r\n\r\n",
    "{\"error\":{\"code\":\"overloaded\",\"message\":\"too many connections; retry in a moment\"}}\n",
)
.as_bytes();

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in progress
/// finish (at most `limits.shutdown_grace`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let max_connections = within_file_limit(limits.max_connections);
    let slots = Arc::new(Semaphore::new(max_connections));
    let shed_slots = Arc::new(Semaphore::new(SHED_SLOTS));
    let per_client = ConnectionsPerClient::new(limits.max_connections_per_client);
    let graceful = GracefulShutdown::new();
    let mut normal = http1::Builder::new();
    normal
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(READ_BUFFER_BYTES);
    let mut shed = normal.clone();
    shed.header_read_timeout(limits.header_timeout.min(SHED_HEADER_TIMEOUT))
        .keep_alive(false);

    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        // Answers are written in one go: without TCP_NODELAY, Nagle's algorithm holds the last
        // partial segment of a large answer until the client's delayed ACK (tens of ms).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
        let Some(client) = per_client.try_open(peer.ip()) else {
            refuse(&stream, &metrics, "per-client connection cap");
            continue;
        };
        let held = Held {
            _slot: None,
            _client: client,
        };
        if let Ok(slot) = Arc::clone(&slots).try_acquire_owned() {
            // The client's address goes where `ConnectInfo` extractors (the rate limit and the
            // request log) find it.
            let service = router
                .clone()
                .map_request(move |mut request: Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
            let connection =
                normal.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            spawn_connection(graceful.watch(connection), held.with(slot));
        } else if let Ok(slot) = Arc::clone(&shed_slots).try_acquire_owned() {
            Metrics::add(&metrics.connections_shed, 1);
            let router = router.clone();
            let service = hyper::service::service_fn(move |request| {
                shed_answer(router.clone(), peer, request)
            });
            let connection = shed.serve_connection(TokioIo::new(stream), service);
            spawn_connection(graceful.watch(connection), held.with(slot));
        } else {
            refuse(&stream, &metrics, "no connection slot left");
        }
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down; waiting for requests in progress"
    );
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in progress after the shutdown grace period; closing");
    }
}

/// What a connection holds until it ends; dropping it gives the slots back.
struct Held {
    _slot: Option<OwnedSemaphorePermit>,
    _client: ClientSlot,
}

impl Held {
    fn with(mut self, slot: OwnedSemaphorePermit) -> Held {
        self._slot = Some(slot);
        self
    }
}

fn spawn_connection<F>(connection: F, held: Held)
where
    F: Future<Output = Result<(), hyper::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        // Timeouts and clients that go away end connections with an error: routine, not news.
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "connection ended");
        }
        drop(held);
    });
}

/// A shed connection's one answer: `GET /health` as usual, anything else `503 overloaded`.
async fn shed_answer(
    router: Router,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response, Infallible> {
    if request.method() == Method::GET && request.uri().path() == "/health" {
        request.extensions_mut().insert(ConnectInfo(peer));
        return router.oneshot(request).await;
    }
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        "too many connections; retry in a moment",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    Ok(response)
}

/// Writes the fixed 503 if the socket takes it without waiting, and closes the connection.
fn refuse(stream: &TcpStream, metrics: &Metrics, why: &str) {
    Metrics::add(&metrics.connections_refused, 1);
    tracing::debug!(why, "connection refused");
    // A fresh socket's send buffer is empty, so this does not block; if it fails the client
    // sees the connection closed, which says the same.
    let _ = stream.try_write(REFUSED);
}

/// An accept error: a client that gave up before it was accepted is routine; anything else
/// (out of file descriptors) is logged, with a pause so the loop does not spin.
async fn accept_failed(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// `max_connections`, lowered if the process may not open that many files: running out of file
/// descriptors would fail every accept, `/health` included, instead of shedding the excess.
fn within_file_limit(max_connections: usize) -> usize {
    let Some(files) = open_files_limit() else {
        return max_connections;
    };
    let room = files
        .saturating_sub(SHED_SLOTS + SPARE_FILE_DESCRIPTORS)
        .max(1);
    if max_connections > room {
        tracing::warn!(
            max_connections,
            open_files_limit = files,
            lowered_to = room,
            "--max-connections is above what the open-files limit allows (raise `ulimit -n` or LimitNOFILE)"
        );
        return room;
    }
    max_connections
}

/// The soft limit on open files, from `/proc/self/limits` (Linux); `None` elsewhere or when
/// unlimited.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Ctrl-C, or SIGTERM where there is one (how systemd and container runtimes stop a service):
/// either starts the graceful stop, so requests in flight are answered.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_refusal_is_well_formed() {
        let text = std::str::from_utf8(REFUSED).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|n| n.parse().ok())
            .expect("content-length");
        assert_eq!(length, body.len());
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(json["error"]["code"], "overloaded");
    }
}
