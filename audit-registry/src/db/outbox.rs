//! The outbox of notifications: events, one delivery per (event, subscriber), and the log of
//! every attempt. An event is written in the same transaction as what it reports (a publish
//! stores its records and their events together), so a committed record always gets its
//! notifications and a rolled-back one never does, even if the process dies right after.
//!
//! Deliveries are claimed by a conditional update on their lease (`lease_ms`): of several
//! instances sharing one database, exactly one wins each claim, on SQLite and PostgreSQL alike.
//! A claimer that dies leaves a lease that expires, and the delivery is tried again.

use sqlx::Row as _;

use super::{Db, DbError, random_id};
use audit_trust_core::time::Timestamp;

pub(super) const SCHEMA: &[&str] = &[
    // `payload`: the exact body sent to every subscriber, fixed when the event is made, so
    // every retry signs and sends the same bytes.
    "CREATE TABLE IF NOT EXISTS events (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        crate_name TEXT,
        record_id TEXT,
        created BIGINT NOT NULL,
        payload TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS events_by_kind ON events (kind, created)",
    "CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        subscriber_id TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        due_ms BIGINT NOT NULL,
        lease_ms BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, due_ms)",
    "CREATE TABLE IF NOT EXISTS delivery_attempts (
        delivery_id TEXT NOT NULL,
        attempt BIGINT NOT NULL,
        subscriber_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        at TEXT NOT NULL,
        status BIGINT,
        error TEXT,
        next_retry TEXT,
        PRIMARY KEY (delivery_id, attempt)
    )",
    "CREATE INDEX IF NOT EXISTS delivery_attempts_by_subscriber \
        ON delivery_attempts (subscriber_id, at)",
];

/// What happened, for subscribers and the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SignOff,
    Flag,
    Revocation,
    VerificationFailed,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::SignOff,
        EventKind::Flag,
        EventKind::Revocation,
        EventKind::VerificationFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignOff => "signoff",
            EventKind::Flag => "flag",
            EventKind::Revocation => "revocation",
            EventKind::VerificationFailed => "verification-failed",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The event a stored record of this kind (`sign-off`, `flag`, `revocation`) makes.
    pub fn of_record_kind(record_kind: &str) -> Option<EventKind> {
        match record_kind {
            "sign-off" => Some(EventKind::SignOff),
            "flag" => Some(EventKind::Flag),
            "revocation" => Some(EventKind::Revocation),
            _ => None,
        }
    }
}

/// An event to record and deliver. `data` is free-form JSON for its kind (a record event holds
/// the signed record; a failed verification holds the crate, version and report).
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub crate_name: Option<String>,
    pub record_id: Option<String>,
    pub data: serde_json::Value,
}

/// A delivery this instance claimed, with all it needs to send.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub event_id: String,
    pub event_kind: String,
    pub subscriber_id: String,
    /// The number of this attempt (1 for the first).
    pub attempt: u32,
    pub payload: String,
    lease_ms: i64,
}

/// How an attempt ended, to log it and schedule the next.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// Delivered (2xx), or given up, or to be tried again at `next_due_ms`.
    pub state: DeliveryState,
    pub next_due_ms: i64,
    pub next_retry: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
}

/// One line of a subscriber's delivery log.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub event_id: String,
    pub event_kind: String,
    pub attempt: u32,
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub next_retry: Option<String>,
    /// The delivery's state now.
    pub state: String,
}

/// An event as read back for the dashboard, with the record it reports when there is one.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: String,
    pub kind: String,
    pub crate_name: Option<String>,
    pub created: Timestamp,
    pub payload: String,
    pub record_body: Option<String>,
}

impl Db {
    /// Records `event` and queues one delivery per subscriber that wants its kind; returns the
    /// event's id. For events not tied to a publish (the automatic auditor's failures).
    pub async fn enqueue_event(&self, event: &Event) -> Result<String, DbError> {
        let mut tx = self.begin_write().await?;
        let subscribers = Db::subscribers_in(&mut tx).await?;
        let id = Db::enqueue_in(&mut tx, event, self.clock.now(), &subscribers).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// [`Db::enqueue_event`] inside the caller's transaction, for `subscribers` (id, wanted
    /// kinds) as read in it.
    pub(super) async fn enqueue_in(
        conn: &mut sqlx::AnyConnection,
        event: &Event,
        now: Timestamp,
        subscribers: &[(String, Vec<String>)],
    ) -> Result<String, DbError> {
        let ids = Db::enqueue_many_in(conn, std::slice::from_ref(event), now, subscribers).await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| DbError::Unavailable("an event was not stored".into()))
    }

    /// [`Db::enqueue_in`] for many events (a publish's records, read subscribers once), their
    /// rows inserted [`super::INSERT_CHUNK`] per statement: one statement per event was a
    /// database round trip per record, most of a large publish's time.
    pub(super) async fn enqueue_many_in(
        conn: &mut sqlx::AnyConnection,
        events: &[Event],
        now: Timestamp,
        subscribers: &[(String, Vec<String>)],
    ) -> Result<Vec<String>, DbError> {
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let id = format!("evt_{}", random_id()?);
            let payload = serde_json::json!({
                "id": id,
                "kind": event.kind.as_str(),
                "created": now.to_string(),
                "crate": event.crate_name,
                "record_id": event.record_id,
                "data": event.data,
            })
            .to_string();
            rows.push((id, event, payload));
        }
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            let sql = format!(
                "INSERT INTO events (id, kind, crate_name, record_id, created, payload) VALUES {}",
                super::placeholders(chunk.len(), 6)
            );
            let mut query = sqlx::query(&sql);
            for (id, event, payload) in chunk {
                query = query
                    .bind(id)
                    .bind(event.kind.as_str())
                    .bind(event.crate_name.clone())
                    .bind(event.record_id.clone())
                    .bind(now.0)
                    .bind(payload);
            }
            query.execute(&mut *conn).await?;
        }
        for (id, event, _) in &rows {
            let kind = event.kind.as_str();
            for (subscriber, wants) in subscribers {
                if !wants.iter().any(|w| w == kind) {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO deliveries (id, event_id, subscriber_id, state, attempts, due_ms, lease_ms) \
                     VALUES ($1, $2, $3, 'pending', 0, 0, 0)",
                )
                .bind(format!("dlv_{}", random_id()?))
                .bind(id)
                .bind(subscriber)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(rows.into_iter().map(|(id, _, _)| id).collect())
    }

    /// Claims up to `limit` deliveries due at `now_ms` for `lease_ms` milliseconds. Each claim
    /// is a conditional update on the lease the row had when read, so two instances never
    /// both claim one delivery.
    pub async fn claim_due_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, DbError> {
        let candidates = sqlx::query(
            "SELECT d.id, d.event_id, e.kind, d.subscriber_id, d.attempts, e.payload, d.lease_ms \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.state = 'pending' AND d.due_ms <= $1 AND d.lease_ms <= $1 \
             ORDER BY d.due_ms, d.id LIMIT $2",
        )
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for row in candidates {
            let id: String = row.try_get(0)?;
            let seen_lease: i64 = row.try_get(6)?;
            let until = now_ms.saturating_add(lease_ms);
            let attempts: i64 = row.try_get(4)?;
            // The row must be as it was read: same lease and same number of attempts (another
            // instance may have claimed, tried and rescheduled it meanwhile).
            let won = sqlx::query(
                "UPDATE deliveries SET lease_ms = $1 \
                 WHERE id = $2 AND state = 'pending' AND lease_ms = $3 AND attempts = $4",
            )
            .bind(until)
            .bind(&id)
            .bind(seen_lease)
            .bind(attempts)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if won != 1 {
                continue;
            }
            claimed.push(ClaimedDelivery {
                id,
                event_id: row.try_get(1)?,
                event_kind: row.try_get(2)?,
                subscriber_id: row.try_get(3)?,
                attempt: u32::try_from(attempts.saturating_add(1)).unwrap_or(u32::MAX),
                payload: row.try_get(5)?,
                lease_ms: until,
            });
        }
        Ok(claimed)
    }

    /// Logs an attempt and moves its delivery on, if this instance still holds the lease.
    pub async fn finish_attempt(
        &self,
        claim: &ClaimedDelivery,
        outcome: &AttemptOutcome,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE deliveries SET state = $1, attempts = $2, due_ms = $3, lease_ms = 0 \
             WHERE id = $4 AND lease_ms = $5",
        )
        .bind(outcome.state.as_str())
        .bind(i64::from(claim.attempt))
        .bind(outcome.next_due_ms)
        .bind(&claim.id)
        .bind(claim.lease_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            // The lease ran out and another instance took the delivery (or the subscriber was
            // removed): its attempt is the one that counts.
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO delivery_attempts \
             (delivery_id, attempt, subscriber_id, event_id, at, status, error, next_retry) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&claim.id)
        .bind(i64::from(claim.attempt))
        .bind(&claim.subscriber_id)
        .bind(&claim.event_id)
        .bind(&outcome.at)
        .bind(outcome.status.map(i64::from))
        .bind(outcome.error.clone())
        .bind(outcome.next_retry.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A subscriber's latest `limit` attempts, newest first.
    pub async fn delivery_log(
        &self,
        subscriber_id: &str,
        limit: u32,
    ) -> Result<Vec<AttemptRow>, DbError> {
        let rows = sqlx::query(
            "SELECT a.delivery_id, a.event_id, e.kind, a.attempt, a.at, a.status, a.error, \
                    a.next_retry, d.state \
             FROM delivery_attempts a \
             JOIN events e ON e.id = a.event_id \
             JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.subscriber_id = $1 \
             ORDER BY a.at DESC, a.delivery_id, a.attempt DESC LIMIT $2",
        )
        .bind(subscriber_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRow {
                    delivery_id: r.try_get(0)?,
                    event_id: r.try_get(1)?,
                    event_kind: r.try_get(2)?,
                    attempt: u32::try_from(r.try_get::<i64, _>(3)?).unwrap_or(0),
                    at: r.try_get(4)?,
                    status: r
                        .try_get::<Option<i64>, _>(5)?
                        .and_then(|s| u16::try_from(s).ok()),
                    error: r.try_get(6)?,
                    next_retry: r.try_get(7)?,
                    state: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// The latest `limit` events of `kind` (about crate `crate_name` when given), newest first,
    /// with the record each reports.
    pub async fn recent_events(
        &self,
        kind: EventKind,
        crate_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EventRow>, DbError> {
        let rows = sqlx::query(
            "SELECT e.id, e.kind, e.crate_name, e.created, e.payload, r.body \
             FROM events e LEFT JOIN records r ON r.id = e.record_id \
             WHERE e.kind = $1 AND ($2 = '' OR e.crate_name = $2) \
             ORDER BY e.created DESC, e.id DESC LIMIT $3",
        )
        .bind(kind.as_str())
        .bind(crate_name.unwrap_or("").to_owned())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EventRow {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    crate_name: r.try_get(2)?,
                    created: Timestamp(r.try_get::<i64, _>(3)?),
                    payload: r.try_get(4)?,
                    record_body: r.try_get(5)?,
                })
            })
            .collect()
    }
}

/// Events made before the cut-off whose deliveries are all finished (none still pending).
const FINISHED_BEFORE: &str = "SELECT id FROM events WHERE created < $1 \
     AND id NOT IN (SELECT event_id FROM deliveries WHERE state = 'pending')";

impl Db {
    /// Forgets events made before `before` (Unix seconds) whose deliveries all finished, with
    /// their deliveries and attempt logs, so the outbox does not grow for ever. Only the
    /// outbox: signed records are never deleted. Returns how many events went.
    pub async fn prune_outbox(&self, before: i64) -> Result<u64, DbError> {
        let mut tx = self.begin_write().await?;
        for table in ["delivery_attempts", "deliveries"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE event_id IN ({FINISHED_BEFORE})"
            ))
            .bind(before)
            .execute(&mut *tx)
            .await?;
        }
        let events = sqlx::query(&format!(
            "DELETE FROM events WHERE id IN ({FINISHED_BEFORE})"
        ))
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(events)
    }
}
