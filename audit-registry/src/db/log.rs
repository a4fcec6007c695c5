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

use audit_trust_core::signoff::{RecordId, SignedRecord, SigningKey, Statement};
use audit_trust_core::tlog::{
    Checkpoint, CrateIndex, Filing, LogEntry, MemoryTree, NoteKey, SignedNote, TlogError, filing_of,
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
        let ordinal = self.index.add(
            crate_name,
            &filing.version,
            self.entries.len() as u64,
            record_id,
            filing.delta_from.as_deref(),
        );
        let entry = LogEntry {
            crate_name: crate_name.to_owned(),
            ordinal,
            record_id,
        };
        self.tree.push(entry.leaf_hash());
        self.by_crate
            .entry(crate_name.to_owned())
            .or_default()
            .push(self.entries.len() as u64);
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
        }
        state
    }
}

fn bad_state(what: &str) -> DbError {
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
        })
    }

    /// Appends records stored before the log existed (a registry upgraded in place), oldest
    /// head first, so the log covers every stored record.
    pub(super) async fn backfill_log(&self) -> Result<(), DbError> {
        let _one_at_a_time = self.publish_lock.lock().await;
        let mut tx = self.begin_write().await?;
        // Before reading what is missing: two instances starting together must not both
        // append it.
        self.take_sequencer(&mut tx).await?;
        self.backfill_filings(&mut tx).await?;
        // NOT EXISTS, not NOT IN: PostgreSQL runs `NOT IN (subquery)` as a hashed subplan only
        // while the subquery fits in work_mem, else it rescans the subquery per row. At a few
        // million entries every start then hung in this query; an anti-join does not.
        let rows = sqlx::query(
            "SELECT r.id, r.crate_name, r.body FROM records r WHERE NOT EXISTS \
             (SELECT 1 FROM log_entries e WHERE e.record_id = r.id) \
             ORDER BY r.head_sequence, r.public_key, r.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut missing = Vec::with_capacity(rows.len());
        let mut filed: HashMap<RecordId, Filing> = HashMap::new();
        for r in rows {
            let id = RecordId::parse(&r.try_get::<String, _>(0)?)
                .map_err(|_| bad_state("a stored record id is not hex"))?;
            let crate_name: String = r.try_get(1)?;
            let filing = stored_filing(&mut tx, &r.try_get::<String, _>(2)?, &filed).await?;
            let filing = Filing {
                crate_name,
                ..filing
            };
            filed.insert(id, filing.clone());
            missing.push((filing, id));
        }
        let mut state = self.log.lock().await;
        let has_checkpoint = sqlx::query("SELECT size FROM log_checkpoints LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if missing.is_empty() && has_checkpoint {
            self.resign_older_checkpoint(&mut tx, &mut state).await?;
            // The filings backfilled above, if any, and the checkpoint signed again.
            tx.commit().await?;
            state.dirty = false;
            return Ok(());
        }
        self.append_in(&mut tx, &mut state, &missing).await?;
        let generation = sqlx::query("SELECT value FROM generation WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>(0)?;
        self.checkpoint_in(&mut tx, &mut state, generation).await?;
        tx.commit().await?;
        state.dirty = false;
        Ok(())
    }

    /// Files the entries of a log made before entries were filed under versions (`log_filings`
    /// rows missing), so every process can rebuild the version trees. Such entries are a prefix
    /// of the log (filings are written with their entries since), so a filed first entry means
    /// there is nothing to do. In SQL, a few statements for the whole log: a registry of
    /// millions of entries would otherwise spend hours on one insert per entry.
    async fn backfill_filings(&self, tx: &mut Transaction<'static, Any>) -> Result<(), DbError> {
        let first_filed = sqlx::query("SELECT 1 FROM log_filings WHERE idx = 0")
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
        let has_entries = sqlx::query("SELECT 1 FROM log_entries WHERE idx = 0")
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
        if first_filed || !has_entries {
            return Ok(());
        }
        // The record's own field, as the stored (canonical, verified) JSON has it.
        let field = |path: &str| -> String {
            if self.postgres {
                let keys: Vec<String> = path.split('.').map(|k| format!("'{k}'")).collect();
                let (last, init) = keys.split_last().map_or(("", &[][..]), |(l, i)| (l, i));
                let mut expr = "r.body::jsonb".to_owned();
                for k in init {
                    expr = format!("{expr}->{k}");
                }
                format!("({expr}->>{last})")
            } else {
                let quoted: Vec<String> = path.split('.').map(|k| format!("\"{k}\"")).collect();
                format!("json_extract(r.body, '$.{}')", quoted.join("."))
            }
        };
        let unfiled = "NOT EXISTS (SELECT 1 FROM log_filings g WHERE g.idx = e.idx)";
        // Sign-offs and flags: the version they are about, and a delta's base.
        let subjects = format!(
            "INSERT INTO log_filings (idx, version, delta_from) \
             SELECT e.idx, COALESCE({}, {}, ''), {} FROM log_entries e \
             JOIN records r ON r.id = e.record_id WHERE {} <> 'revocation' AND {unfiled}",
            field("crate.version"),
            field("git.version"),
            field("delta-from.version"),
            field("kind"),
        );
        sqlx::query(&subjects).execute(&mut **tx).await?;
        // Revocations: where the record they withdraw is (repeated, for a revocation of a
        // revocation).
        let revocations = format!(
            "INSERT INTO log_filings (idx, version, delta_from) \
             SELECT e.idx, f.version, NULL FROM log_entries e \
             JOIN records r ON r.id = e.record_id \
             JOIN log_entries w ON w.record_id = {} JOIN log_filings f ON f.idx = w.idx \
             WHERE {} = 'revocation' AND {unfiled}",
            field("revokes"),
            field("kind"),
        );
        while sqlx::query(&revocations)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            > 0
        {}
        // What is left revokes a record the log does not have: publish refuses those, so only
        // a hand-edited database has one; it is filed under no version.
        sqlx::query(&format!(
            "INSERT INTO log_filings (idx, version, delta_from) \
             SELECT e.idx, '', NULL FROM log_entries e WHERE {unfiled}"
        ))
        .execute(&mut **tx)
        .await?;
        Ok(())
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
    async fn take_sequencer(&self, tx: &mut Transaction<'static, Any>) -> Result<(), DbError> {
        if self.postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SEQUENCER_LOCK)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// A latest checkpoint signed by a registry of before version trees carries no crate index
    /// line clients of this version accept. Until the next append it would be all there is,
    /// so it is signed again at the same size: the same tree and root, with the index line of
    /// this version. A client that cached the old note sees the same root at the same size
    /// (no fork); witnesses are asked to cosign the new note.
    async fn resign_older_checkpoint(
        &self,
        tx: &mut Transaction<'static, Any>,
        state: &mut LogState,
    ) -> Result<(), DbError> {
        let row = sqlx::query(
            "SELECT size, generation, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_one(&mut **tx)
        .await?;
        let size = to_u64(row.try_get::<i64, _>(0)?);
        let generation: i64 = row.try_get(1)?;
        let note: String = row.try_get(2)?;
        let stored = SignedNote::parse(&note)
            .and_then(|n| Checkpoint::parse_body(&n.body))
            .map_err(|_| bad_state("the latest checkpoint is unreadable"))?;
        if stored.crate_index().is_ok() {
            return Ok(());
        }
        state.dirty = true;
        catch_up(tx, state, Some(size)).await?;
        if state.tree.size() != size || state.tree.root() != stored.root {
            return Err(bad_state(
                "the latest checkpoint's root is not the stored entries' root",
            ));
        }
        let note = self.signed_note(state);
        sqlx::query("UPDATE log_checkpoints SET note = $1 WHERE size = $2")
            .bind(&note)
            .bind(to_i64(size))
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM log_cosignatures WHERE size = $1")
            .bind(to_i64(size))
            .execute(&mut **tx)
            .await?;
        state.checkpoint = Some(StoredCheckpoint {
            size,
            generation,
            note,
        });
        Ok(())
    }

    /// The signed note of the checkpoint over `state`'s tree and crate index.
    fn signed_note(&self, state: &mut LogState) -> String {
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
        let row = sqlx::query(
            "SELECT size, generation, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(state);
        };
        let latest = StoredCheckpoint {
            size: to_u64(row.try_get::<i64, _>(0)?),
            generation: row.try_get(1)?,
            note: row.try_get(2)?,
        };
        if state
            .checkpoint
            .as_ref()
            .is_some_and(|c| c.size >= latest.size)
        {
            return Ok(state);
        }
        let mut conn = self.pool.acquire().await?;
        catch_up(&mut conn, &mut state, Some(latest.size)).await?;
        state.checkpoint = Some(latest);
        Ok(state)
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

/// Reads entries the state does not have yet (up to `until`, exclusive, if given).
///
/// In chunks of [`CATCH_UP_CHUNK`]: a process starting on a log of millions of entries would
/// otherwise hold every row of the table in memory at once (gigabytes at 10 million), on top of
/// the state it builds from them.
async fn catch_up(
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
        let rows = sqlx::query(
            "SELECT e.idx, e.record_id, e.crate_name, e.ordinal, f.version, f.delta_from \
             FROM log_entries e JOIN log_filings f ON f.idx = e.idx \
             WHERE e.idx >= $1 AND e.idx < $2 ORDER BY e.idx",
        )
        .bind(to_i64(from))
        .bind(to_i64(to))
        .fetch_all(&mut *conn)
        .await?;
        let complete = rows.len() as u64 == to - from;
        for r in rows {
            let idx = to_u64(r.try_get::<i64, _>(0)?);
            let id = RecordId::parse(&r.try_get::<String, _>(1)?)
                .map_err(|_| bad_state("a record id is not hex"))?;
            let filing = Filing {
                crate_name: r.try_get(2)?,
                version: r.try_get(4)?,
                delta_from: r.try_get(5)?,
            };
            let ordinal = to_u64(r.try_get::<i64, _>(3)?);
            if idx != state.entries.len() as u64 {
                return Err(bad_state(
                    "entry indexes have a gap (or an entry is not filed)",
                ));
            }
            if state.push(&filing, id).ordinal != ordinal {
                return Err(bad_state("a crate's entry ordinals are out of order"));
            }
        }
        // A short chunk is the end of the table (or of `until`).
        if !complete {
            return Ok(());
        }
    }
}

/// Where a stored record (`body`, verified when it was published) is filed: a revocation
/// where its record is, found among `filed` (this pass) or the log's filings.
async fn stored_filing(
    tx: &mut Transaction<'static, Any>,
    body: &str,
    filed: &HashMap<RecordId, Filing>,
) -> Result<Filing, DbError> {
    let record = SignedRecord::from_json_line(body)
        .map_err(|_| bad_state("a stored record is unreadable"))?;
    let revoked = match &record.record().statement {
        Statement::Revocation { revokes, .. } => match filed.get(revokes) {
            Some(f) => Some(f.clone()),
            None => sqlx::query(
                "SELECT e.crate_name, f.version FROM log_entries e \
                 JOIN log_filings f ON f.idx = e.idx WHERE e.record_id = $1",
            )
            .bind(revokes.to_string())
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| -> Result<Filing, DbError> {
                Ok(Filing {
                    crate_name: r.try_get(0)?,
                    version: r.try_get(1)?,
                    delta_from: None,
                })
            })
            .transpose()?,
        },
        _ => None,
    };
    // A revocation of a record the log does not have is filed under no version; publish
    // refuses such revocations, so only a hand-edited database has one.
    Ok(filing_of(&record, |_| revoked).unwrap_or(Filing {
        crate_name: String::new(),
        version: String::new(),
        delta_from: None,
    }))
}

/// Why a proof request cannot be answered (400).
pub fn proof_error(e: TlogError) -> DbError {
    DbError::Invalid(e.to_string())
}
