//! Reads for the static export (`audit-registry export`): a key's records exactly as its current
//! head covers them.

use sqlx::Row as _;

use super::{Db, DbError, to_i64};

impl Db {
    /// `(crate name, record)` of every record of `key` first covered by a head up to
    /// `sequence`, in head order then id: the order the export keeps, so a key's file only ever
    /// grows at the end. Read after the head, this never includes records of a later head,
    /// even while a publish commits in between.
    pub async fn export_records(
        &self,
        key: &str,
        sequence: u64,
    ) -> Result<Vec<(String, String)>, DbError> {
        let rows = sqlx::query(
            "SELECT crate_name, body FROM records WHERE public_key = $1 AND head_sequence <= $2 \
             ORDER BY head_sequence, id",
        )
        .bind(key)
        .bind(to_i64(sequence))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect()
    }
}
