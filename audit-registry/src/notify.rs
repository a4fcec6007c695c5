//! Notifications: events go into the outbox (see `db/outbox.rs`), and a delivery task POSTs
//! each to every subscriber that wants it, signed with that subscriber's own secret, retried with
//! exponential backoff, every attempt logged.
//!
//! Entry point for other parts of the server: [`emit`]. Publishes queue their record events
//! inside their own transaction (`Db::publish`); anything else (the automatic auditor's failed
//! verifications) calls `emit(&db, Event { kind: EventKind::VerificationFailed, .. })`.
//!
//! The signature (`X-Audit-Registry-Signature: sha256=<hex>`) is HMAC-SHA256 keyed with the
//! subscriber's secret over `<delivery id>.<timestamp>.<body>`: never an auditor key, so a
//! receiver's secret proves only that this registry sent the request, and the timestamp lets a
//! receiver refuse replays.

use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::hex;
use audit_trust_core::time::Timestamp;

use crate::db::{AttemptOutcome, ClaimedDelivery, Db, DbError, DeliveryState};
pub use crate::db::{Event, EventKind};

/// Records an event and queues its deliveries; returns the event id.
pub async fn emit(db: &Db, event: Event) -> Result<String, DbError> {
    db.enqueue_event(&event).await
}

pub const HEADER_EVENT: &str = "x-audit-registry-event";
pub const HEADER_DELIVERY: &str = "x-audit-registry-delivery";
pub const HEADER_TIMESTAMP: &str = "x-audit-registry-timestamp";
pub const HEADER_SIGNATURE: &str = "x-audit-registry-signature";

/// `sha256=<hex of HMAC-SHA256(secret, "<delivery id>.<timestamp>.<body>")>`.
pub fn signature(secret: &str, delivery_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(delivery_id.as_bytes());
    context.update(b".");
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("sha256={}", hex(context.sign().as_ref()))
}

/// Milliseconds since the Unix epoch; passed in so tests control scheduling.
pub type NowMs = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The operating system's clock in milliseconds.
pub fn system_now_ms() -> NowMs {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    })
}

/// How deliveries are paced.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryConfig {
    /// Pause before the first retry; doubled after each failure.
    pub retry_base: Duration,
    /// Longest pause between attempts.
    pub retry_max: Duration,
    /// Attempts before a delivery is given up (marked failed).
    pub max_attempts: u32,
    /// Whole-request time limit (connect, send, read).
    pub timeout: Duration,
    /// How often the outbox is polled for due deliveries.
    pub poll: Duration,
    /// Deliveries sent at once by one instance.
    pub batch: u32,
    /// Bytes of a receiver's answer read at most (it is not kept).
    pub max_response_bytes: u64,
    /// Finished events and their delivery logs are kept this long, then pruned.
    pub retention: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> DeliveryConfig {
        DeliveryConfig {
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(6 * 3600),
            max_attempts: 10,
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            batch: 16,
            max_response_bytes: 64 * 1024,
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

impl DeliveryConfig {
    /// The pause after failed attempt number `attempt` (1 for the first).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// The delivery task of `serve`: polls the outbox forever. Errors are logged and the next poll
/// tries again (a database that is briefly unreachable delays notifications, loses none).
pub async fn run_deliveries(db: Db, client: HttpClient, config: DeliveryConfig, now_ms: NowMs) {
    let mut next_prune = 0;
    loop {
        // The outbox is pruned about hourly; every instance may do it, deletes are idempotent.
        if now_ms() >= next_prune {
            next_prune = now_ms().saturating_add(3_600_000);
            let retention = i64::try_from(config.retention.as_secs()).unwrap_or(i64::MAX);
            let before = (now_ms() / 1000).saturating_sub(retention);
            match db.prune_outbox(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "pruned old webhook events"),
                Err(e) => tracing::error!(error = %e, "pruning webhook events"),
            }
        }
        match deliver_due(&db, &client, &config, &now_ms).await {
            Ok(0) => tokio::time::sleep(config.poll).await,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "webhook deliveries");
                tokio::time::sleep(config.poll).await;
            }
        }
    }
}

/// One pass: claims the due deliveries, sends them concurrently, logs each attempt. Returns how
/// many were attempted.
pub async fn deliver_due(
    db: &Db,
    client: &HttpClient,
    config: &DeliveryConfig,
    now_ms: &NowMs,
) -> Result<usize, DbError> {
    // The lease outlasts the request, so nobody else takes a delivery still in flight.
    let lease = i64::try_from(config.timeout.as_millis())
        .unwrap_or(i64::MAX)
        .saturating_add(30_000);
    let claimed = db
        .claim_due_deliveries(now_ms(), lease, config.batch)
        .await?;
    let count = claimed.len();
    let mut tasks = tokio::task::JoinSet::new();
    for claim in claimed {
        let (db, client, config, now_ms) = (db.clone(), client.clone(), *config, now_ms.clone());
        tasks.spawn(async move { attempt(&db, &client, &config, &now_ms, claim).await });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "webhook delivery"),
            Err(e) => tracing::error!(error = %e, "webhook delivery task"),
        }
    }
    Ok(count)
}

async fn attempt(
    db: &Db,
    client: &HttpClient,
    config: &DeliveryConfig,
    now_ms: &NowMs,
    claim: ClaimedDelivery,
) -> Result<(), DbError> {
    let Some(target) = db.subscriber_target(&claim.subscriber_id).await? else {
        // Removed meanwhile; its deliveries went with it.
        return Ok(());
    };
    let sent_ms = now_ms();
    let timestamp = sent_ms.div_euclid(1000);
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        (HEADER_EVENT, claim.event_kind.clone()),
        (HEADER_DELIVERY, claim.id.clone()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (
            HEADER_SIGNATURE,
            signature(
                &target.secret,
                &claim.id,
                timestamp,
                claim.payload.as_bytes(),
            ),
        ),
    ];
    let body = claim.payload.clone().into_bytes();
    let url = target.url.clone();
    let client = client.clone();
    let max = config.max_response_bytes;
    let result = tokio::task::spawn_blocking(move || {
        client.post_without_redirects(&url, &headers, body, max)
    })
    .await;
    let (status, error) = match result {
        Ok(Ok((status, _))) if (200..300).contains(&status) => (Some(status), None),
        Ok(Ok((status, _))) => (
            Some(status),
            Some(format!("the receiver answered {status}")),
        ),
        Ok(Err(e)) => (None, Some(bounded(&e.to_string()))),
        Err(e) => (None, Some(format!("the sending task failed: {e}"))),
    };
    let done_ms = now_ms();
    let state = if error.is_none() {
        DeliveryState::Delivered
    } else if claim.attempt >= config.max_attempts {
        DeliveryState::Failed
    } else {
        DeliveryState::Pending
    };
    let (next_due_ms, next_retry) = if state == DeliveryState::Pending {
        let pause = i64::try_from(config.backoff(claim.attempt).as_millis()).unwrap_or(i64::MAX);
        let due = done_ms.saturating_add(pause);
        (due, Some(Timestamp(due.div_euclid(1000)).to_string()))
    } else {
        (0, None)
    };
    tracing::info!(
        delivery = %claim.id,
        subscriber = %claim.subscriber_id,
        attempt = claim.attempt,
        status = status.map(i64::from).unwrap_or(-1),
        state = state.as_str(),
        "webhook attempt"
    );
    let outcome = AttemptOutcome {
        at: Timestamp(sent_ms.div_euclid(1000)).to_string(),
        status,
        error,
        state,
        next_due_ms,
        next_retry,
    };
    db.finish_attempt(&claim, &outcome).await
}

/// Error texts are kept in the log; a hostile receiver must not fill it.
fn bounded(text: &str) -> String {
    const MAX: usize = 500;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_id_timestamp_and_body_with_the_secret() {
        let s = signature("secret-one", "dlv_1", 1_700_000_000, b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64, "{s}");
        assert_eq!(s, signature("secret-one", "dlv_1", 1_700_000_000, b"{}"));
        assert_ne!(s, signature("secret-two", "dlv_1", 1_700_000_000, b"{}"));
        assert_ne!(s, signature("secret-one", "dlv_2", 1_700_000_000, b"{}"));
        assert_ne!(s, signature("secret-one", "dlv_1", 1_700_000_001, b"{}"));
        assert_ne!(s, signature("secret-one", "dlv_1", 1_700_000_000, b"{ }"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = DeliveryConfig {
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(5),
            ..DeliveryConfig::default()
        };
        let pauses: Vec<u64> = (1..=5).map(|a| config.backoff(a).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 5, 5]);
        assert_eq!(config.backoff(u32::MAX).as_secs(), 5);
    }
}
