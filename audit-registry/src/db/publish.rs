//! Publishing: a key's records and its new head stored, filed and appended to the log in one
//! transaction. Publishes of one key go one at a time; different keys' publishes overlap
//! until they queue for the log's sequencer.

use std::collections::BTreeSet;
use std::sync::Arc;

use audit_trust_core::signoff::{PublicKey, RecordId};
use sqlx::Row as _;

use super::{
    Db, DbError, INSERT_CHUNK, NewRecord, PublishOutcome, placeholders, reads, record_event,
    to_i64, to_u64,
};

/// Per key: the stored head's id and every record id of the key under that head. A publish
/// must hash all of its key's ids (the head commits to the whole set); reading them from the
/// database each time made every publish O(the key's records) — at a few hundred thousand
/// records per auditor that read, not the append, set the rate. Only a publish of the key moves
/// its head, in the transaction that adds its records, so the set is current exactly while the
/// stored head id is the one it was taken at (another process's publish changes the id, and the
/// set is read again). About 40 bytes per record in memory.
type KeyIds = (String, BTreeSet<RecordId>);

/// One key's publish lock, holding its record ids once a publish has read them.
pub(super) type KeyLock = Arc<tokio::sync::Mutex<Option<KeyIds>>>;

/// Publish transactions at once on PostgreSQL. Four keep both cores busy on the measured
/// machine (records of one publish stored while another appends to the log) and leave twelve of
/// the pool's sixteen connections to readers.
pub(super) const POSTGRES_PUBLISH_SLOTS: usize = 4;

impl Db {
    /// The lock publishes of `key` take (made on first use; one per key ever published).
    fn key_lock(&self, key: &str) -> Result<KeyLock, DbError> {
        let mut locks = self
            .key_locks
            .lock()
            .map_err(|_| DbError::Unavailable("a publish panicked holding the key locks".into()))?;
        Ok(Arc::clone(locks.entry(key.to_owned()).or_default()))
    }

    /// One of the publish transactions allowed at once (see `publish_slots`).
    pub(super) async fn publish_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, DbError> {
        self.publish_slots
            .acquire()
            .await
            .map_err(|_| DbError::Unavailable("the registry is shutting down".into()))
    }

    /// Stores `records` and moves the key's head to `head`, in one transaction, provided the
    /// head covers exactly the stored and the new records (`check` is given the union) and
    /// follows the stored head. Returns how many records were new. Each new record's event
    /// (sign-off, flag, revocation) is queued for subscribers in the same transaction.
    pub async fn publish<F>(
        &self,
        key: &PublicKey,
        head: (u64, &str, &str),
        records: &[NewRecord],
        check: F,
    ) -> Result<PublishOutcome, DbError>
    where
        F: FnOnce(&BTreeSet<RecordId>) -> Result<(), String>,
    {
        let (sequence, head_id, head_body) = head;
        // BIGINT is signed: a larger number must be refused, never clamped — clamped, it would
        // let a lower head, or several heads with one number, follow it.
        let stored_sequence = i64::try_from(sequence).map_err(|_| {
            DbError::Invalid(format!(
                "head #{sequence} is above the highest sequence a registry stores ({})",
                i64::MAX
            ))
        })?;
        let key_text = key.to_string();
        let key_lock = self.key_lock(&key_text)?;
        let mut key_ids = key_lock.lock().await;
        let _slot = self.publish_slot().await?;
        let mut tx = self.begin_write().await?;
        let current = sqlx::query("SELECT sequence, head_id FROM heads WHERE public_key = $1")
            .bind(&key_text)
            .fetch_optional(&mut *tx)
            .await?;
        let current = match current {
            Some(r) => Some((to_u64(r.try_get::<i64, _>(0)?), r.try_get::<String, _>(1)?)),
            None => None,
        };
        // Taken out: a failed publish leaves no set behind, and the next one reads it again.
        let mut ids = match key_ids.take() {
            Some((at, ids)) if current.as_ref().is_some_and(|(_, id)| *id == at) => ids,
            _ => {
                let mut ids = BTreeSet::new();
                for row in sqlx::query("SELECT id FROM records WHERE public_key = $1")
                    .bind(&key_text)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let text: String = row.try_get(0)?;
                    if let Ok(id) = RecordId::parse(&text) {
                        ids.insert(id);
                    }
                }
                ids
            }
        };
        let before = ids.len();
        ids.extend(records.iter().map(|r| r.id));
        let added = ids.len() - before;
        check(&ids).map_err(DbError::Conflict)?;
        if let Some((current_seq, current_id)) = &current {
            if sequence == *current_seq && head_id == current_id {
                // The same head again: a retried publish. Nothing to do.
                return Ok(PublishOutcome { added: 0 });
            }
            if sequence <= *current_seq {
                return Err(DbError::Conflict(format!(
                    "head #{sequence} does not follow the stored head #{current_seq}"
                )));
            }
        }
        let auditor = sqlx::query("SELECT name FROM auditors WHERE public_key = $1")
            .bind(&key_text)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
        let now = self.clock.now();
        // INSERT_CHUNK records per statement, not one: a statement per record (and one per
        // event, and one per log entry) made a 1,000-record publish some 3,000 database round
        // trips, which capped appends near 2,000 records/s. The ids a statement really inserted
        // come back; they keep the batch's order when logged.
        let mut inserted = std::collections::HashSet::new();
        for chunk in records.chunks(INSERT_CHUNK) {
            let sql = format!(
                "INSERT INTO records (id, public_key, crate_name, head_sequence, body) VALUES {} \
                 ON CONFLICT (id) DO NOTHING RETURNING id",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for r in chunk {
                query = query
                    .bind(r.id.to_string())
                    .bind(&key_text)
                    .bind(&r.crate_name)
                    .bind(stored_sequence)
                    .bind(&r.body);
            }
            for row in query.fetch_all(&mut *tx).await? {
                inserted.insert(row.try_get::<String, _>(0)?);
            }
        }
        let mut logged = Vec::new();
        let mut events = Vec::new();
        for r in records {
            // Removed once logged: a record repeated within the batch is stored once.
            if inserted.remove(&r.id.to_string()) {
                logged.push((r.filing(), r.id));
                events.extend(record_event(r, &key_text, auditor.as_deref()));
            }
        }
        if !events.is_empty() {
            let subscribers = Db::subscribers_in(&mut tx).await?;
            Db::enqueue_many_in(&mut tx, &events, now, &subscribers).await?;
        }
        let moved = match &current {
            Some((current_seq, _)) => sqlx::query(
                "UPDATE heads SET sequence = $1, head_id = $2, body = $3 \
                 WHERE public_key = $4 AND sequence = $5",
            )
            .bind(stored_sequence)
            .bind(head_id)
            .bind(head_body)
            .bind(&key_text)
            .bind(to_i64(*current_seq))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query(
                "INSERT INTO heads (public_key, sequence, head_id, body) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&key_text)
            .bind(stored_sequence)
            .bind(head_id)
            .bind(head_body)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if moved != 1 {
            return Err(DbError::Conflict(
                "another publish for this key won the race; fetch and publish again".into(),
            ));
        }
        // The sequencer's lock is taken before the generation row's, in every transaction.
        let mut log_state = self.log.lock().await;
        if !logged.is_empty() {
            self.append_in(&mut tx, &mut log_state, &logged).await?;
        }
        sqlx::query(reads::BUMP).execute(&mut *tx).await?;
        if !logged.is_empty() {
            let generation = sqlx::query("SELECT value FROM generation WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?
                .try_get::<i64, _>(0)?;
            self.checkpoint_in(&mut tx, &mut log_state, generation)
                .await?;
        }
        tx.commit().await?;
        log_state.dirty = false;
        *key_ids = Some((head_id.to_owned(), ids));
        Ok(PublishOutcome { added })
    }
}
