//! Bringing a log made by an older registry up to this version when the registry starts:
//! records stored before the log existed are appended, entries stored before they were filed
//! under versions are filed, and a latest checkpoint without this version's crate index line
//! is signed again at the same size. See `docs/transparency-log.md`.

use std::collections::HashMap;

use audit_trust_core::signoff::{RecordId, SignedRecord, Statement};
use audit_trust_core::tlog::{Checkpoint, Filing, SignedNote, filing_of, key_bucket};
use sqlx::{Any, Row as _, Transaction};

use super::log::{LogState, StoredCheckpoint, bad_state, catch_up};
use super::{Db, DbError, to_i64, to_u64};

impl Db {
    /// Appends records stored before the log existed (a registry upgraded in place), oldest
    /// head first, so the log covers every stored record.
    pub(super) async fn backfill_log(&self) -> Result<(), DbError> {
        let _slot = self.publish_slot().await?;
        let mut tx = self.begin_write().await?;
        // Before reading what is missing: two instances starting together must not both
        // append it.
        self.take_sequencer(&mut tx).await?;
        self.backfill_filings(&mut tx).await?;
        // NOT EXISTS, not NOT IN: PostgreSQL runs `NOT IN (subquery)` as a hashed subplan only
        // while the subquery fits in work_mem, else it rescans the subquery per row. At a few
        // million entries every start then hung in this query; an anti-join does not.
        let rows = if self.every_record_logged(&mut tx).await? {
            Vec::new()
        } else {
            sqlx::query(
                "SELECT r.id, r.crate_name, r.body FROM records r WHERE NOT EXISTS \
                 (SELECT 1 FROM log_entries e WHERE e.record_id = r.id) \
                 ORDER BY r.head_sequence, r.public_key, r.id",
            )
            .fetch_all(&mut *tx)
            .await?
        };
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
    /// Whether the latest checkpoint covers as many entries as there are records. Each entry
    /// is of a distinct stored record (`log_entries.record_id` is unique, and catching up
    /// joins every entry to its record), so then no record is missing from the log and the
    /// search for missing ones (a scan of both tables: 30 s at 10 million records, on every
    /// start) is skipped. Records of a publish still in flight are stored and appended in one
    /// transaction, so they count on both sides or neither.
    async fn every_record_logged(
        &self,
        tx: &mut Transaction<'static, Any>,
    ) -> Result<bool, DbError> {
        let records = sqlx::query("SELECT COUNT(*) FROM records")
            .fetch_one(&mut **tx)
            .await?
            .try_get::<i64, _>(0)?;
        let size = sqlx::query("SELECT MAX(size) FROM log_checkpoints")
            .fetch_one(&mut **tx)
            .await?
            .try_get::<Option<i64>, _>(0)?;
        Ok(records > 0 && size == Some(records))
    }

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

    /// A latest checkpoint signed by a registry of before this version's version trees (keyed
    /// by version and key since `audit-trust-crate-index-v3`) carries no crate index line
    /// clients of this version accept. Until the next append it would be all there is,
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
                    // Replaced by the revocation's own key's bucket below.
                    key: String::new(),
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
        key: key_bucket(record.key()),
        delta_from: None,
    }))
}
