//! Reads by crate, and the generation counter that tells every instance when its cache of
//! answers is stale: each publish that stores anything moves the generation in the same
//! transaction, so a reader that sees an unchanged generation knows nothing was added, on this
//! instance or any other sharing the database.

use std::collections::BTreeMap;

use sqlx::Row as _;

use super::{Db, DbError, StoredHead, to_u64};

pub(super) const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS generation (
        id INTEGER PRIMARY KEY,
        value BIGINT NOT NULL
    )",
    "INSERT INTO generation (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING",
];

/// Statement run inside every publish transaction that changes anything.
pub(super) const BUMP: &str = "UPDATE generation SET value = value + 1 WHERE id = 1";

/// Crate names per query to the database (bound parameters are limited on both engines).
const CHUNK: usize = 500;

/// One stored record as read for a crate.
#[derive(Debug, Clone)]
pub struct CrateRow {
    pub crate_name: String,
    pub id: String,
    pub public_key: String,
    pub body: String,
}

impl Db {
    pub async fn generation(&self) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT value FROM generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Every record filed under any of `names` (lowercase), in a stable order: by crate, key,
    /// the head that first covered it, id.
    pub async fn crate_records(&self, names: &[String]) -> Result<Vec<CrateRow>, DbError> {
        self.records_where("crate_name", names).await
    }

    /// The records with these ids (hex), in the same order within each chunk of ids: a scoped
    /// answer reads the few records its versions list, not every record of the crate.
    pub async fn records_by_id(&self, ids: &[String]) -> Result<Vec<CrateRow>, DbError> {
        let mut out = self.records_where("id", ids).await?;
        // Chunks of ids are not chunks of crates: put each crate's rows together again.
        out.sort_by(|a, b| (&a.crate_name, &a.public_key).cmp(&(&b.crate_name, &b.public_key)));
        Ok(out)
    }

    /// Records whose `column` (a fixed column name, never input) is one of `values`.
    async fn records_where(
        &self,
        column: &str,
        values: &[String],
    ) -> Result<Vec<CrateRow>, DbError> {
        let mut out = Vec::new();
        for chunk in values.chunks(CHUNK) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT crate_name, id, public_key, body FROM records \
                 WHERE {column} IN ({}) ORDER BY crate_name, public_key, head_sequence, id",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for value in chunk {
                query = query.bind(value);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(CrateRow {
                    crate_name: row.try_get(0)?,
                    id: row.try_get(1)?,
                    public_key: row.try_get(2)?,
                    body: row.try_get(3)?,
                });
            }
        }
        Ok(out)
    }

    /// Every key's current head, by key.
    pub async fn heads(&self) -> Result<BTreeMap<String, StoredHead>, DbError> {
        let rows = sqlx::query("SELECT public_key, sequence, head_id, body FROM heads")
            .fetch_all(&self.pool)
            .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            out.insert(
                r.try_get::<String, _>(0)?,
                StoredHead {
                    sequence: to_u64(r.try_get::<i64, _>(1)?),
                    head_id: r.try_get(2)?,
                    body: r.try_get(3)?,
                },
            );
        }
        Ok(out)
    }
}
