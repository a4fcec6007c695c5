//! Reads for the static export (`audit-registry export`): a key's records exactly as its current
//! head covers them, a page at a time, and the records about a few crates.

use sqlx::Row as _;

use super::{Db, DbError, to_i64, to_u64};

/// One stored record as the export reads it.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub crate_name: String,
    pub public_key: String,
    /// The head that first covered it.
    pub head_sequence: u64,
    pub id: String,
    pub body: String,
}

impl Db {
    /// How many records of `key` heads up to `sequence` cover: the count the head of that
    /// sequence signs, when the database is the one the export was made from.
    pub async fn count_records_upto(&self, key: &str, sequence: u64) -> Result<u64, DbError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM records WHERE public_key = $1 AND head_sequence <= $2",
        )
        .bind(key)
        .bind(to_i64(sequence))
        .fetch_one(&self.pool)
        .await?;
        Ok(to_u64(row.try_get::<i64, _>(0)?))
    }

    /// Up to `limit` records of `key` first covered by a head after `from` and up to `upto`,
    /// after the record `cursor` (`(head sequence, id)` of the last one read; `None` to start),
    /// in head order then id: the order of the key's `records.jsonl`, so that file only ever
    /// grows at the end. Read after the head, this never includes records of a later head,
    /// even while a publish commits in between.
    pub async fn export_records_page(
        &self,
        key: &str,
        from: u64,
        upto: u64,
        cursor: Option<(u64, &str)>,
        limit: u64,
    ) -> Result<Vec<ExportRow>, DbError> {
        // Keyset paging: each page starts where the last ended, through the index on
        // (public_key, head_sequence) (the `>=` is the bound an index can seek to), so a key of
        // a million records is never read at once, nor read again from its start per page.
        let (cursor_sequence, cursor_id) = cursor.unwrap_or((from, ""));
        let rows = sqlx::query(
            "SELECT crate_name, public_key, head_sequence, id, body FROM records \
             WHERE public_key = $1 AND head_sequence > $2 AND head_sequence <= $3 \
             AND head_sequence >= $4 AND (head_sequence > $4 OR id > $5) \
             ORDER BY head_sequence, id LIMIT $6",
        )
        .bind(key)
        .bind(to_i64(from))
        .bind(to_i64(upto))
        .bind(to_i64(cursor_sequence))
        .bind(cursor_id)
        .bind(to_i64(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(export_row).collect()
    }

    /// Every record filed under any of `names` (as stored), any key and head.
    pub async fn export_crate_rows(&self, names: &[String]) -> Result<Vec<ExportRow>, DbError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT crate_name, public_key, head_sequence, id, body FROM records \
             WHERE crate_name IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for name in names {
            query = query.bind(name);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(export_row).collect()
    }
}

fn export_row(r: &sqlx::any::AnyRow) -> Result<ExportRow, DbError> {
    Ok(ExportRow {
        crate_name: r.try_get(0)?,
        public_key: r.try_get(1)?,
        head_sequence: to_u64(r.try_get::<i64, _>(2)?),
        id: r.try_get(3)?,
        body: r.try_get(4)?,
    })
}
