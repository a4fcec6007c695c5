//! Request bodies, read under three bounds: a size limit per route (refused from the declared
//! `Content-Length` before a byte of the body is read), a deadline for the whole body (so a
//! client that stalls mid-body is answered `408` and its connection closed), and one memory
//! budget shared by every request in flight (so many stalled bodies hold at most the budget,
//! not `connections × size limit`).

use std::ops::Deref;
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::http::StatusCode;
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppState;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// The size limit of bodies that only ever carry a name, a key or a URL (admin auditors,
/// subscribers): far below `--max-body-bytes`, so such routes refuse large bodies at once.
pub const SMALL_BODY_BYTES: usize = 64 * 1024;

/// Which size limit a route applies.
#[derive(Debug, Clone, Copy)]
pub(super) enum BodySize {
    /// `--max-body-bytes`: publishes, syncs, crate queries, watch lists.
    Large,
    /// [`SMALL_BODY_BYTES`], or `--max-body-bytes` if that is smaller.
    Small,
}

/// A body read in full. It holds its share of the memory budget until it is dropped, so the
/// budget also covers the time the handler parses it.
#[derive(Debug)]
pub(super) struct BufferedBody {
    bytes: Bytes,
    _budget: Option<OwnedSemaphorePermit>,
}

impl AsRef<[u8]> for BufferedBody {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Deref for BufferedBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Reads `body` under the route's size limit, the body deadline and the shared memory budget.
pub(super) async fn read_body(
    state: &AppState,
    body: Body,
    size: BodySize,
) -> Result<BufferedBody, ApiError> {
    let limit = match size {
        BodySize::Large => state.limits.max_body_bytes,
        BodySize::Small => state.limits.max_body_bytes.min(SMALL_BODY_BYTES),
    };
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("a request body here is at most {limit} bytes"),
        )
    };
    // hyper reports a `Content-Length` as the exact size hint: refuse before reading any of it.
    let hint = body.size_hint();
    if usize::try_from(hint.lower()).map_or(true, |n| n > limit) {
        return Err(too_large());
    }
    let deadline = tokio::time::Instant::now() + state.limits.body_timeout;
    let mut budget = Budget::new(&state.body_budget, &state.metrics);
    let mut buf: Vec<u8> = Vec::new();
    // A declared length is reserved up front: a client that cannot be served is told so before
    // it sends the body, and the buffer is allocated once.
    if let Some(declared) = hint.exact().and_then(|n| usize::try_from(n).ok()) {
        budget.grow_to(declared)?;
        buf.reserve_exact(declared);
    }
    let mut body = body;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_elapsed) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body-timeout",
                    format!(
                        "the request body did not arrive within {} s",
                        state.limits.body_timeout.as_secs()
                    ),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(
                    "bad-request",
                    format!("reading the request body: {e}"),
                ));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing the API reads
        };
        let needed = buf.len().saturating_add(data.len());
        if needed > limit {
            return Err(too_large());
        }
        if needed > buf.capacity() {
            // Grow as `Vec` would (doubling), but reserve the new capacity in the budget first,
            // so the budget counts the memory actually allocated.
            let capacity = needed.max(buf.capacity().saturating_mul(2)).min(limit);
            budget.grow_to(capacity)?;
            buf.reserve_exact(capacity - buf.len());
        }
        buf.extend_from_slice(&data);
    }
    Ok(BufferedBody {
        bytes: Bytes::from(buf),
        _budget: budget.permit,
    })
}

/// The part of the shared memory budget one body holds.
struct Budget<'a> {
    pool: &'a Arc<Semaphore>,
    metrics: &'a Metrics,
    permit: Option<OwnedSemaphorePermit>,
}

impl<'a> Budget<'a> {
    fn new(pool: &'a Arc<Semaphore>, metrics: &'a Metrics) -> Budget<'a> {
        Budget {
            pool,
            metrics,
            permit: None,
        }
    }

    /// Holds `bytes` of the budget in all, or answers `503 busy` when the budget is spent.
    /// Never waits: bodies waiting on each other's budget would all run into their deadlines.
    fn grow_to(&mut self, bytes: usize) -> Result<(), ApiError> {
        let held = self
            .permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits);
        let Some(more) = bytes.checked_sub(held).filter(|n| *n > 0) else {
            return Ok(());
        };
        let more = u32::try_from(more).map_err(|_| self.busy())?;
        let permit = Arc::clone(self.pool)
            .try_acquire_many_owned(more)
            .map_err(|_| self.busy())?;
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        Ok(())
    }

    fn busy(&self) -> ApiError {
        Metrics::add(&self.metrics.bodies_refused_busy, 1);
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the server holds as many request bodies as it may; retry shortly",
        )
    }
}
