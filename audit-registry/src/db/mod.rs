//! The one database layer: sqlx's `Any` driver over SQLite (the embedded default) or PostgreSQL,
//! with portable SQL. Tables are created at start. Records are inserted, never updated or
//! deleted; a key's head moves forward only by an optimistic update on its sequence number, so
//! two publishes racing for the same key cannot both win, on either engine.

use std::collections::HashMap;
use std::sync::Arc;

use audit_trust_core::signoff::{PublicKey, RecordId, SignedRecord};
use audit_trust_core::time::{Clock, SystemClock};
use audit_trust_core::tlog::{Filing, key_bucket};
use ring::rand::SecureRandom as _;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor as _, Row as _};

mod admin;
mod export;
pub use export::ExportRow;
pub mod jobs;
pub mod log;
mod log_upgrade;
mod outbox;
pub mod projects;
mod publish;
mod reads;
mod subscribers;
pub mod views;
pub mod watch;

pub use admin::AdminToken;
pub use jobs::{ClaimedJob, JobRow, Verification};
pub use outbox::{
    AttemptOutcome, AttemptRow, ClaimedDelivery, DeliveryState, Event, EventKind, EventRow,
};
use publish::{KeyLock, POSTGRES_PUBLISH_SLOTS};
pub use reads::CrateRow;
pub use subscribers::{Subscriber, SubscriberTarget};
pub use watch::{PollValidators, WatchEntry};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("{0}")]
    Conflict(String),
    /// A value the database cannot store losslessly (answered 400).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
}

/// Statements that create the records' schema; each is valid on SQLite and PostgreSQL.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS auditors (
        name TEXT PRIMARY KEY,
        public_key TEXT NOT NULL UNIQUE,
        added TEXT NOT NULL
    )",
    // `head_sequence`: the head that first covered the record, so a client that has seen head
    // N asks only for what came after it.
    "CREATE TABLE IF NOT EXISTS records (
        id TEXT PRIMARY KEY,
        public_key TEXT NOT NULL,
        crate_name TEXT NOT NULL,
        head_sequence BIGINT NOT NULL,
        body TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS records_by_key ON records (public_key, head_sequence)",
    "CREATE INDEX IF NOT EXISTS records_by_crate ON records (crate_name)",
    "CREATE TABLE IF NOT EXISTS heads (
        public_key TEXT PRIMARY KEY,
        sequence BIGINT NOT NULL,
        head_id TEXT NOT NULL,
        body TEXT NOT NULL
    )",
];

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// When events happen (set from the server's clock, see [`Db::with_clock`]).
    clock: Arc<dyn Clock>,
    /// Per key, the lock its publishes take, holding the key's record ids as of the head they
    /// were read at ([`KeyLock`]). Publishes of one key go one at a time (each must follow the
    /// head the last one stored); publishes of different keys store their records side by side
    /// and queue only for the log's sequencer, so one publish's database round trips no longer
    /// hold up every other key's (PostgreSQL instances still race safely through the head's
    /// optimistic update).
    key_locks: Arc<std::sync::Mutex<HashMap<String, KeyLock>>>,
    /// How many publish transactions run at once: one on SQLite (it allows one writer anyway,
    /// and a deferred transaction could not be upgraded once another committed); a few on
    /// PostgreSQL, leaving most of the pool's connections to readers.
    publish_slots: Arc<tokio::sync::Semaphore>,
    /// PostgreSQL (else SQLite): the job queue claims rows differently on each.
    postgres: bool,
    /// The transparency log every stored record is appended to.
    log: log::TransparencyLog,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

/// 16 random bytes in hex: ids of subscribers, events and deliveries.
pub(crate) fn random_id() -> Result<String, DbError> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| {
            DbError::Unavailable("the operating system's random generator failed".into())
        })?;
    Ok(audit_trust_core::signoff::hex(&bytes))
}

/// A key's current head as stored.
#[derive(Debug, Clone)]
pub struct StoredHead {
    pub sequence: u64,
    pub head_id: String,
    pub body: String,
}

/// One record to insert: id, lowercase crate name it is filed under, canonical JSON, and the
/// version the log files it under (see `audit_trust_core::tlog::Filing`).
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub id: RecordId,
    pub crate_name: String,
    pub body: String,
    pub version: String,
    /// The bucket of the key that signed it (see `audit_trust_core::tlog::key_bucket`).
    pub key: String,
    pub delta_from: Option<String>,
}

impl NewRecord {
    pub fn new(record: &SignedRecord, filing: Filing) -> NewRecord {
        NewRecord {
            id: record.id(),
            crate_name: filing.crate_name,
            body: record.to_json_line(),
            version: filing.version,
            key: filing.key,
            delta_from: filing.delta_from,
        }
    }

    fn filing(&self) -> Filing {
        Filing {
            crate_name: self.crate_name.clone(),
            version: self.version.clone(),
            key: self.key.clone(),
            delta_from: self.delta_from.clone(),
        }
    }
}

impl Db {
    /// Connects and creates the schema. A SQLite file is created on first start and every
    /// commit is synced to disk (`synchronous = FULL`) before a publish is acknowledged.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let url = if let Some(path) = url.strip_prefix("sqlite://") {
            if path.contains('?') {
                url.to_owned()
            } else {
                format!("sqlite://{path}?mode=rwc")
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.to_owned()
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        // Each area of the registry owns its tables; all are created at start.
        for statement in SCHEMA
            .iter()
            .chain(admin::SCHEMA)
            .chain(reads::SCHEMA)
            .chain(subscribers::SCHEMA)
            .chain(outbox::SCHEMA)
            .chain(watch::SCHEMA)
            .chain(jobs::SCHEMA)
            .chain(projects::SCHEMA)
            .chain(views::SCHEMA)
            .chain(log::SCHEMA)
        {
            pool.execute(*statement).await?;
        }
        let log = Db::load_log(&pool).await?;
        let db = Db {
            pool,
            clock: Arc::new(SystemClock),
            key_locks: Arc::default(),
            publish_slots: Arc::new(tokio::sync::Semaphore::new(if sqlite {
                1
            } else {
                POSTGRES_PUBLISH_SLOTS
            })),
            postgres: !sqlite,
            log,
        };
        db.backfill_log().await?;
        Ok(db)
    }

    /// The clock events are dated by (the server's, so `--now` applies to them too).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Db {
        self.clock = clock;
        self
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`,
    /// waiting up to the busy timeout for another writer: a deferred transaction that reads
    /// first and writes later cannot wait (SQLite answers "database is locked" at once rather
    /// than let a reader holding a snapshot queue for the lock), which made `POST /v1/publish`
    /// fail with 500 whenever any other write (the outbox pruner at start, an admin change, the
    /// automatic auditor) landed between its reads and its first insert.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, DbError> {
        Ok(if self.postgres {
            self.pool.begin().await?
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await?
        })
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    pub async fn add_auditor(
        &self,
        name: &str,
        key: &PublicKey,
        added: &str,
    ) -> Result<(), DbError> {
        let result = sqlx::query(
            "INSERT INTO auditors (name, public_key, added) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(key.to_string())
        .bind(added)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(DbError::Conflict(format!(
                "an auditor named `{name}` or with the key {key} is already registered"
            )));
        }
        Ok(())
    }

    /// Whether an auditor of that name was removed. Its records stay: nothing is deleted.
    pub async fn remove_auditor(&self, name: &str) -> Result<bool, DbError> {
        let result = sqlx::query("DELETE FROM auditors WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn auditors(&self) -> Result<Vec<(String, String)>, DbError> {
        let rows = sqlx::query("SELECT name, public_key FROM auditors ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect()
    }

    pub async fn auditor_for_key(&self, key: &PublicKey) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT name FROM auditors WHERE public_key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<String, _>(0)?),
            None => None,
        })
    }

    /// Where the log filed a stored record (crate and version) and the key that signed it, for
    /// revocations of it: only that key may publish them, and they are filed there too.
    pub async fn filing_of(&self, id: &RecordId) -> Result<Option<(Filing, String)>, DbError> {
        let row = sqlx::query(
            "SELECT r.crate_name, f.version, r.public_key FROM records r \
             JOIN log_entries e ON e.record_id = r.id JOIN log_filings f ON f.idx = e.idx \
             WHERE r.id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => {
                let signer = r.try_get::<String, _>(2)?;
                let key = PublicKey::parse(&signer)
                    .map_err(|_| DbError::Invalid("a stored record's key is unreadable".into()))?;
                Some((
                    Filing {
                        crate_name: r.try_get::<String, _>(0)?,
                        version: r.try_get::<String, _>(1)?,
                        key: key_bucket(&key),
                        delta_from: None,
                    },
                    signer,
                ))
            }
            None => None,
        })
    }

    /// A key's head and its records first covered by a head after `after` (oldest first).
    pub async fn log_after(
        &self,
        key: &PublicKey,
        after: u64,
    ) -> Result<(Option<StoredHead>, Vec<String>), DbError> {
        let key_text = key.to_string();
        let head = sqlx::query("SELECT sequence, head_id, body FROM heads WHERE public_key = $1")
            .bind(&key_text)
            .fetch_optional(&self.pool)
            .await?;
        let head = match head {
            Some(r) => Some(StoredHead {
                sequence: to_u64(r.try_get::<i64, _>(0)?),
                head_id: r.try_get(1)?,
                body: r.try_get(2)?,
            }),
            None => None,
        };
        let rows = sqlx::query(
            "SELECT body FROM records WHERE public_key = $1 AND head_sequence > $2 \
             ORDER BY head_sequence, id",
        )
        .bind(&key_text)
        .bind(to_i64(after))
        .fetch_all(&self.pool)
        .await?;
        let bodies = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((head, bodies))
    }
}

/// The event a newly stored record makes: its kind from the record itself, and the signed
/// record whole, so a subscriber can verify it.
fn record_event(record: &NewRecord, key: &str, auditor: Option<&str>) -> Option<Event> {
    let body: serde_json::Value = serde_json::from_str(&record.body).ok()?;
    let kind = EventKind::of_record_kind(body.get("kind")?.as_str()?)?;
    Some(Event {
        kind,
        crate_name: Some(record.crate_name.clone()).filter(|c| !c.is_empty()),
        record_id: Some(record.id.to_string()),
        data: serde_json::json!({ "key": key, "auditor": auditor, "record": body }),
    })
}

#[derive(Debug, Clone, Copy)]
pub struct PublishOutcome {
    pub added: usize,
}

/// Rows per multi-row INSERT: at most 6 columns, so at most 3,000 bound values per statement,
/// well under both engines' limits (SQLite 32,766, PostgreSQL 65,535).
pub(super) const INSERT_CHUNK: usize = 500;

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values.
pub(super) fn placeholders(rows: usize, columns: usize) -> String {
    use std::fmt::Write as _;
    // Written into one string: a publish builds these for every 500 rows of four tables, and a
    // string per value and per row was a visible share of its time.
    let mut sql = String::with_capacity(rows * columns * 7);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=columns {
            let sep = if c == 1 { "" } else { ", " };
            let _ = write!(sql, "{sep}${}", r * columns + c);
        }
        sql.push(')');
    }
    sql
}

/// For bounds in queries only (`head_sequence > $after`): a bound above every storable number
/// compares the same as `i64::MAX`. Stored numbers are checked, never clamped (see `publish`).
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
