//! The transparency log (see `docs/transparency-log.md`): every record the registry stores is
//! appended, in the same transaction, as one leaf of an RFC 6962 tree, and the transaction also
//! stores the checkpoint over the new tree, signed with the registry's log key. An acknowledged
//! publish is therefore in a committed checkpoint; nothing acknowledged can be lost to a crash.
//!
//! One sequencer at a time: on PostgreSQL a transaction-scoped advisory lock, taken before any
//! other lock the publish takes later (so no two orders can deadlock); on SQLite the write lock
//! `BEGIN IMMEDIATE` already holds. Each process keeps the tree in memory and catches up from the
//! table of entries, so several processes append to one log.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use audit_trust_core::signoff::{PublicKey, RecordId, SigningKey};
use audit_trust_core::tlog::{
    Checkpoint, CrateIndex, Filing, LogEntry, MemoryTree, NoteKey, SignedNote, TlogError,
    key_bucket,
};
use sqlx::{Any, Row as _, Transaction};

use super::{Db, DbError, to_i64, to_u64};

pub(super) const SCHEMA: &[&str] = &[
    // The log key is made on first start and kept with the log it signs, so every process on
    // one database signs as the same log.
    "CREATE TABLE IF NOT EXISTS log_key (
        id INTEGER PRIMARY KEY,
        origin TEXT NOT NULL,
        secret TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS log_entries (
        idx BIGINT PRIMARY KEY,
        record_id TEXT NOT NULL UNIQUE,
        crate_name TEXT NOT NULL,
        ordinal BIGINT NOT NULL
    )",
    // Where each entry is filed: the version (a sign-off's or flag's, a revocation's record's)
    // and, for a delta sign-off, the version it starts from. Kept beside `log_entries` so a
    // registry from before versions were indexed gains it without changing that table.
    "CREATE TABLE IF NOT EXISTS log_filings (
        idx BIGINT PRIMARY KEY,
        version TEXT NOT NULL,
        delta_from TEXT
    )",
    // `generation`: the value the publish moved the generation to, so a reader knows which
    // cached record answers already include every entry of the checkpoint.
    "CREATE TABLE IF NOT EXISTS log_checkpoints (
        size BIGINT PRIMARY KEY,
        generation BIGINT NOT NULL,
        note TEXT NOT NULL
    )",
    // Witnesses' cosignatures (C2SP `tlog-cosignature`), each a note signature line, served
    // appended to the checkpoint of `size`.
    "CREATE TABLE IF NOT EXISTS log_cosignatures (
        size BIGINT NOT NULL,
        witness TEXT NOT NULL,
        line TEXT NOT NULL,
        PRIMARY KEY (size, witness)
    )",
];

/// The advisory lock id of the sequencer (any fixed number; the registry takes no other).
const SEQUENCER_LOCK: i64 = 0x7a75_6c6f_6700;

/// The latest checkpoint as stored.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub generation: i64,
    pub note: String,
}

/// This process's copy of the log, caught up from the database before each use.
#[derive(Debug, Default)]
pub struct LogState {
    pub tree: MemoryTree,
    pub index: CrateIndex,
    pub entries: Vec<LogEntry>,
    /// Leaf indexes of each crate's entries, in log order.
    pub by_crate: HashMap<String, Vec<u64>>,
    pub checkpoint: Option<StoredCheckpoint>,
    /// Set while a transaction appends; a state left dirty (the transaction failed) is rebuilt.
    pub(super) dirty: bool,
}

impl LogState {
    fn push(&mut self, filing: &Filing, record_id: RecordId) -> LogEntry {
        let crate_name = filing.crate_name.as_str();
        let ordinal = self.index.add(filing, self.entries.len() as u64, record_id);
        let entry = LogEntry {
            crate_name: crate_name.to_owned(),
            ordinal,
            record_id,
        };
        self.tree.push(entry.leaf_hash());
        // Looked up before inserting: `entry` would allocate the name for every entry.
        let at = self.entries.len() as u64;
        match self.by_crate.get_mut(crate_name) {
            Some(leaves) => leaves.push(at),
            None => {
                self.by_crate.insert(crate_name.to_owned(), vec![at]);
            }
        }
        self.entries.push(entry.clone());
        entry
    }
}

/// The log key and the shared in-memory state.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    pub key: NoteKey,
    secret: Arc<SigningKey>,
    state: Arc<tokio::sync::Mutex<LogState>>,
    /// Set once `state` has been caught up to the latest checkpoint (see [`Db::log_loaded`]).
    loaded: Arc<AtomicBool>,
}

impl TransparencyLog {
    pub fn origin(&self) -> &str {
        &self.key.name
    }

    /// The state, clean (rebuilt if a failed append left it dirty).
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, LogState> {
        let mut state = self.state.lock().await;
        if state.dirty {
            *state = LogState::default();
            self.loaded.store(false, Ordering::Release);
        }
        state
    }
}

pub(super) fn bad_state(what: &str) -> DbError {
    DbError::Unavailable(format!(
        "the transparency log's table is inconsistent: {what}"
    ))
}

impl Db {
    /// Loads the log key, making it on first start (every process of one database agrees on it).
    pub(super) async fn load_log(pool: &sqlx::AnyPool) -> Result<TransparencyLog, DbError> {
        let fresh = SigningKey::generate().map_err(|e| DbError::Unavailable(e.to_string()))?;
        let origin = format!("audit-registry/{}", &fresh.public_key().hex()[..16]);
        sqlx::query(
            "INSERT INTO log_key (id, origin, secret) VALUES (1, $1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&origin)
        .bind(fresh.to_file_text().as_str())
        .execute(pool)
        .await?;
        let row = sqlx::query("SELECT origin, secret FROM log_key WHERE id = 1")
            .fetch_one(pool)
            .await?;
        let origin: String = row.try_get(0)?;
        let secret: String = row.try_get(1)?;
        let secret = SigningKey::parse(&secret).map_err(|_| bad_state("unreadable log key"))?;
        let key = NoteKey::new(&origin, secret.public_key())
            .map_err(|_| bad_state("unusable log origin"))?;
        Ok(TransparencyLog {
            key,
            secret: Arc::new(secret),
            state: Arc::default(),
            loaded: Arc::default(),
        })
    }

    /// Takes the sequencer, catches `state` up and appends `records` (filing, id) to the
    /// log, inside the publish's transaction. The caller then moves the generation and calls
    /// [`Db::checkpoint_in`]. `state` stays dirty until the caller commits.
    pub(super) async fn append_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        state: &mut LogState,
        records: &[(Filing, RecordId)],
    ) -> Result<(), DbError> {
        self.take_sequencer(tx).await?;
        state.dirty = true;
        catch_up(tx, state, None).await?;
        // One statement per INSERT_CHUNK entries (and their filings), not per entry (see
        // `Db::publish`).
        for chunk in records.chunks(super::INSERT_CHUNK) {
            let mut rows = Vec::with_capacity(chunk.len());
            for (filing, id) in chunk {
                let index = state.entries.len() as u64;
                let entry = state.push(filing, *id);
                rows.push((index, id.to_string(), filing, entry.ordinal));
            }
            let sql = format!(
                "INSERT INTO log_entries (idx, record_id, crate_name, ordinal) VALUES {}",
                super::placeholders(rows.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for (index, id, filing, ordinal) in &rows {
                query = query
                    .bind(to_i64(*index))
                    .bind(id.as_str())
                    .bind(filing.crate_name.as_str())
                    .bind(to_i64(*ordinal));
            }
            query.execute(&mut **tx).await?;
            let sql = format!(
                "INSERT INTO log_filings (idx, version, delta_from) VALUES {}",
                super::placeholders(rows.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for (index, _, filing, _) in &rows {
                query = query
                    .bind(to_i64(*index))
                    .bind(filing.version.as_str())
                    .bind(filing.delta_from.as_deref());
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Waits for, then holds until the transaction ends, the one sequencer of the log. (SQLite
    /// transactions that write already hold the database's only write lock.)
    pub(super) async fn take_sequencer(
        &self,
        tx: &mut Transaction<'static, Any>,
    ) -> Result<(), DbError> {
        if self.postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SEQUENCER_LOCK)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The signed note of the checkpoint over `state`'s tree and crate index.
    pub(super) fn signed_note(&self, state: &mut LogState) -> String {
        let checkpoint = Checkpoint {
            origin: self.log.origin().to_owned(),
            size: state.tree.size(),
            root: state.tree.root(),
            extensions: Vec::new(),
        }
        .with_crate_index(state.index.len(), &state.index.root());
        let body = checkpoint.body();
        let signature = self.log.key.sign(&self.log.secret, &body);
        SignedNote {
            body,
            signatures: vec![signature],
        }
        .to_text()
    }

    /// Signs and stores the checkpoint over everything appended so far in `tx`.
    pub(super) async fn checkpoint_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        state: &mut LogState,
        generation: i64,
    ) -> Result<(), DbError> {
        let size = state.tree.size();
        let note = self.signed_note(state);
        sqlx::query(
            "INSERT INTO log_checkpoints (size, generation, note) VALUES ($1, $2, $3) \
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(to_i64(size))
        .bind(generation)
        .bind(&note)
        .execute(&mut **tx)
        .await?;
        state.checkpoint = Some(StoredCheckpoint {
            size,
            generation,
            note,
        });
        Ok(())
    }

    /// The log state caught up to the latest committed checkpoint, locked for reading proofs.
    pub async fn log_state(&self) -> Result<tokio::sync::MutexGuard<'_, LogState>, DbError> {
        let mut state = self.log.lock().await;
        let Some(latest) = self.latest_checkpoint().await? else {
            self.log.loaded.store(true, Ordering::Release);
            return Ok(state);
        };
        if state
            .checkpoint
            .as_ref()
            .is_some_and(|c| c.size >= latest.size)
        {
            self.log.loaded.store(true, Ordering::Release);
            return Ok(state);
        }
        let first_load = state.entries.is_empty();
        catch_up_committed(&self.pool, &mut state, latest.size, CATCH_UP_CHUNK).await?;
        state.checkpoint = Some(latest);
        if first_load {
            // The crate index and every crate's version tree are built on first use: on the
            // load that replays the log, so the first answer with proofs does not pay for it.
            state.index.root();
        }
        self.log.loaded.store(true, Ordering::Release);
        Ok(state)
    }

    /// Whether this process has loaded the log (and answers with proofs without replaying it
    /// first): what `GET /ready` reports.
    pub fn log_loaded(&self) -> bool {
        self.log.loaded.load(Ordering::Acquire)
    }

    /// Brings this process's log up to the latest checkpoint at start, so the first answer
    /// with proofs does not pay for replaying the whole log (minutes at millions of entries).
    /// Checkpoint reads never wait for it; answers with proofs wait for the log's lock.
    /// Tried again every few seconds until it succeeds: `GET /ready` says "loading" until
    /// then, so a load balancer would never send the request that loads it.
    pub async fn catch_up_at_start(&self) {
        let started = std::time::Instant::now();
        loop {
            match self.log_state().await {
                Ok(log) => {
                    tracing::info!(
                        entries = log.entries.len(),
                        seconds = started.elapsed().as_secs_f64(),
                        "log caught up"
                    );
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "catching the log up at start"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
    }

    /// The latest committed checkpoint, read without the in-memory log: a reader that wants
    /// only the checkpoint neither queues behind an append holding the log while it commits
    /// nor brings the tree up to it (which [`Db::log_state`] does, from every entry in a
    /// fresh process).
    pub async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError> {
        let row = sqlx::query(
            "SELECT size, generation, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(StoredCheckpoint {
            size: to_u64(row.try_get::<i64, _>(0)?),
            generation: row.try_get(1)?,
            note: row.try_get(2)?,
        }))
    }

    /// The signed note of the checkpoint of `size` records, if one was stored.
    pub async fn checkpoint_note(&self, size: u64) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT note FROM log_checkpoints WHERE size = $1")
            .bind(to_i64(size))
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Up to `limit` log entries from index `start`, each with its signed record's JSON line:
    /// (index, crate name, ordinal, record id, record).
    pub async fn log_entries(
        &self,
        start: u64,
        limit: u64,
    ) -> Result<Vec<(u64, String, u64, String, String)>, DbError> {
        let rows = sqlx::query(
            "SELECT e.idx, e.crate_name, e.ordinal, e.record_id, r.body FROM log_entries e \
             JOIN records r ON r.id = e.record_id WHERE e.idx >= $1 AND e.idx < $2 ORDER BY e.idx",
        )
        .bind(to_i64(start))
        .bind(to_i64(start.saturating_add(limit)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    to_u64(r.try_get::<i64, _>(0)?),
                    r.try_get(1)?,
                    to_u64(r.try_get::<i64, _>(2)?),
                    r.try_get(3)?,
                    r.try_get(4)?,
                ))
            })
            .collect()
    }

    /// The largest size `witness` cosigned, or 0.
    pub async fn witness_size(&self, witness: &str) -> Result<u64, DbError> {
        let row = sqlx::query("SELECT MAX(size) FROM log_cosignatures WHERE witness = $1")
            .bind(witness)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map_or(0, to_u64))
    }

    pub async fn has_cosignature(&self, size: u64, witness: &str) -> Result<bool, DbError> {
        let row = sqlx::query("SELECT 1 FROM log_cosignatures WHERE size = $1 AND witness = $2")
            .bind(to_i64(size))
            .bind(witness)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Stores a witness's cosignature line of the checkpoint of `size` (the caller verified it).
    pub async fn store_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO log_cosignatures (size, witness, line) VALUES ($1, $2, $3) \
             ON CONFLICT (size, witness) DO NOTHING",
        )
        .bind(to_i64(size))
        .bind(witness)
        .bind(line)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The stored cosignature lines of the checkpoint of `size`, in witness order.
    pub async fn cosignatures(&self, size: u64) -> Result<Vec<String>, DbError> {
        let rows =
            sqlx::query("SELECT line FROM log_cosignatures WHERE size = $1 ORDER BY witness")
                .bind(to_i64(size))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The log's public key line for pinning: origin and key.
    pub fn log_key(&self) -> &NoteKey {
        &self.log.key
    }
}

/// Entries read per query when catching up.
const CATCH_UP_CHUNK: u64 = 50_000;

/// One chunk of stored entries, decoded: (leaf index, filing, record id, ordinal).
type StoredEntries = Vec<(u64, Filing, RecordId, u64)>;

/// The stored entries with leaf indexes in `from..to`, in order.
async fn read_entries(
    conn: &mut sqlx::AnyConnection,
    from: u64,
    to: u64,
) -> Result<StoredEntries, DbError> {
    // The key bucket comes from the record's signer (`records.public_key`, checked to be the
    // record's key when it was published): records are never deleted.
    let rows = sqlx::query(
        "SELECT e.idx, e.record_id, e.crate_name, e.ordinal, f.version, f.delta_from, \
         r.public_key FROM log_entries e JOIN log_filings f ON f.idx = e.idx \
         JOIN records r ON r.id = e.record_id \
         WHERE e.idx >= $1 AND e.idx < $2 AND f.idx >= $3 AND f.idx < $4 ORDER BY e.idx",
    )
    // The range again on `log_filings`: without it PostgreSQL may hash-join a scan of the
    // whole table for each chunk (measured at 10 million entries: 1.7 s a chunk instead of
    // 0.4 s, most of a restart's catch-up).
    .bind(to_i64(from))
    .bind(to_i64(to))
    .bind(to_i64(from))
    .bind(to_i64(to))
    .fetch_all(&mut *conn)
    .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        let id = RecordId::parse(&r.try_get::<String, _>(1)?)
            .map_err(|_| bad_state("a record id is not hex"))?;
        let key = PublicKey::parse(&r.try_get::<String, _>(6)?)
            .map_err(|_| bad_state("a record's key is not a public key"))?;
        let filing = Filing {
            crate_name: r.try_get(2)?,
            version: r.try_get(4)?,
            key: key_bucket(&key),
            delta_from: r.try_get(5)?,
        };
        entries.push((
            to_u64(r.try_get::<i64, _>(0)?),
            filing,
            id,
            to_u64(r.try_get::<i64, _>(3)?),
        ));
    }
    Ok(entries)
}

/// Adds read entries to `state`, checking that they follow on from it.
fn apply(state: &mut LogState, entries: StoredEntries) -> Result<(), DbError> {
    for (idx, filing, id, ordinal) in entries {
        if idx != state.entries.len() as u64 {
            return Err(bad_state(
                "entry indexes have a gap (or an entry is not filed)",
            ));
        }
        if state.push(&filing, id).ordinal != ordinal {
            return Err(bad_state("a crate's entry ordinals are out of order"));
        }
    }
    Ok(())
}

/// Reads entries the state does not have yet (up to `until`, exclusive, if given).
///
/// In chunks of [`CATCH_UP_CHUNK`]: a process starting on a log of millions of entries would
/// otherwise hold every row of the table in memory at once (gigabytes at 10 million), on top of
/// the state it builds from them.
pub(super) async fn catch_up(
    conn: &mut sqlx::AnyConnection,
    state: &mut LogState,
    until: Option<u64>,
) -> Result<(), DbError> {
    let until = until.unwrap_or(u64::MAX);
    loop {
        let from = state.entries.len() as u64;
        let to = until.min(from.saturating_add(CATCH_UP_CHUNK));
        if from >= to {
            return Ok(());
        }
        let entries = read_entries(conn, from, to).await?;
        // A short chunk is the end of the table (or of `until`).
        let complete = entries.len() as u64 == to - from;
        apply(state, entries)?;
        if !complete {
            return Ok(());
        }
    }
}

/// Chunks [`catch_up_committed`] reads at once. Each chunk's query is mostly PostgreSQL
/// looking up each entry's record (for its key), one core's work: measured at 10 million
/// entries, the database was busy and the registry mostly waiting with one chunk ahead.
const CATCH_UP_READS: usize = 2;

/// [`catch_up`] to a committed checkpoint's size, reading the next chunks (on other pooled
/// connections, decoded on other threads) while this one is added: entries below a committed
/// size never change, and a fresh process replays millions of them.
pub(super) async fn catch_up_committed(
    pool: &sqlx::AnyPool,
    state: &mut LogState,
    until: u64,
    chunk: u64,
) -> Result<(), DbError> {
    let chunk = chunk.max(1);
    let mut chunks = (state.entries.len() as u64..until)
        .step_by(usize::try_from(chunk).unwrap_or(usize::MAX))
        .map(|from| (from, until.min(from.saturating_add(chunk))));
    let read = |(from, to): (u64, u64)| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            let entries = read_entries(&mut conn, from, to).await?;
            Ok::<_, DbError>((entries, to - from))
        })
    };
    let mut reading: std::collections::VecDeque<_> =
        chunks.by_ref().take(CATCH_UP_READS).map(read).collect();
    let result = async {
        while let Some(chunk) = reading.pop_front() {
            let (entries, asked) = chunk
                .await
                .map_err(|e| DbError::Unavailable(format!("reading the log: {e}")))??;
            // A short chunk is the end of the table.
            let complete = entries.len() as u64 == asked;
            apply(state, entries)?;
            if !complete {
                break;
            }
            reading.extend(chunks.next().map(read));
        }
        Ok(())
    }
    .await;
    for r in reading {
        r.abort();
    }
    result
}

/// Why a proof request cannot be answered (400).
pub fn proof_error(e: TlogError) -> DbError {
    DbError::Invalid(e.to_string())
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
