//! The organization's projects: the lockfiles an admin registers (the latest and a bounded
//! history per project), the organization's default policy (a `Cargo.audit` text), and a
//! counter moved by every change of either, so each instance sharing the database knows when its
//! evaluations are stale (records have their own counter, see `reads.rs`).

use sqlx::Row as _;

use super::{Db, DbError};

pub(super) const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS projects (
        name TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        latest BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS project_lockfiles (
        project TEXT NOT NULL,
        seq BIGINT NOT NULL,
        uploaded TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        lockfile TEXT NOT NULL,
        PRIMARY KEY (project, seq)
    )",
    "CREATE TABLE IF NOT EXISTS org_policy (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL,
        set_at TEXT NOT NULL,
        set_by TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS org_generation (
        id INTEGER PRIMARY KEY,
        value BIGINT NOT NULL
    )",
    "INSERT INTO org_generation (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING",
];

const BUMP: &str = "UPDATE org_generation SET value = value + 1 WHERE id = 1";

/// Lockfiles kept per project: the latest and the ones before it, for "what changed".
pub const LOCKFILE_HISTORY: i64 = 20;

/// A project's stored lockfile.
#[derive(Debug, Clone)]
pub struct StoredLockfile {
    pub seq: i64,
    pub uploaded: String,
    pub uploaded_by: String,
    pub sha256: String,
    pub text: String,
}

/// A project with its latest two lockfiles (the previous one, if any, for what changed).
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub name: String,
    pub created: String,
    pub latest: StoredLockfile,
    pub previous: Option<StoredLockfile>,
}

/// The organization's default policy as stored.
#[derive(Debug, Clone)]
pub struct StoredPolicy {
    pub text: String,
    pub set_at: String,
    pub set_by: String,
}

/// What storing a lockfile did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockfileStored {
    /// A new lockfile, with its sequence number.
    New(i64),
    /// The same text as the latest one: nothing changed.
    Unchanged(i64),
}

impl Db {
    /// Stores `text` (validated by the caller) as project `name`'s latest lockfile, keeping at
    /// most [`LOCKFILE_HISTORY`] per project.
    pub async fn put_project_lockfile(
        &self,
        name: &str,
        text: &str,
        sha256: &str,
        by: &str,
        now: &str,
    ) -> Result<LockfileStored, DbError> {
        let mut tx = self.begin_write().await?;
        let latest = sqlx::query(
            "SELECT seq, sha256 FROM project_lockfiles WHERE project = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let previous = match latest {
            Some(r) => Some((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)),
            None => None,
        };
        if let Some((seq, digest)) = &previous
            && digest == sha256
        {
            return Ok(LockfileStored::Unchanged(*seq));
        }
        let seq = previous.map_or(1, |(s, _)| s + 1);
        // Two instances racing for one project: the primary key lets only one of them win.
        sqlx::query(
            "INSERT INTO project_lockfiles (project, seq, uploaded, uploaded_by, sha256, lockfile) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name)
        .bind(seq)
        .bind(now)
        .bind(by)
        .bind(sha256)
        .bind(text)
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => DbError::Conflict(format!(
                "another upload for project `{name}` won the race; send it again"
            )),
            other => DbError::Sql(other),
        })?;
        sqlx::query("DELETE FROM project_lockfiles WHERE project = $1 AND seq <= $2")
            .bind(name)
            .bind(seq - LOCKFILE_HISTORY)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO projects (name, created, updated, updated_by, latest) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE \
             SET updated = excluded.updated, updated_by = excluded.updated_by, \
             latest = excluded.latest",
        )
        .bind(name)
        .bind(now)
        .bind(now)
        .bind(by)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(LockfileStored::New(seq))
    }

    /// Removes a project and its lockfiles; whether it existed.
    pub async fn remove_project(&self, name: &str) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM project_lockfiles WHERE project = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM projects WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(gone > 0)
    }

    /// Every project with its latest lockfile and the one before, by name.
    pub async fn projects(&self) -> Result<Vec<ProjectRow>, DbError> {
        let rows = sqlx::query(
            "SELECT p.name, p.created, l.seq, l.uploaded, l.uploaded_by, l.sha256, l.lockfile \
             FROM projects p JOIN project_lockfiles l ON l.project = p.name \
             WHERE l.seq >= p.latest - 1 ORDER BY p.name, l.seq DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<ProjectRow> = Vec::new();
        for r in &rows {
            let name: String = r.try_get(0)?;
            let lockfile = StoredLockfile {
                seq: r.try_get(2)?,
                uploaded: r.try_get(3)?,
                uploaded_by: r.try_get(4)?,
                sha256: r.try_get(5)?,
                text: r.try_get(6)?,
            };
            match out.last_mut() {
                Some(p) if p.name == name => {
                    if p.previous.is_none() {
                        p.previous = Some(lockfile);
                    }
                }
                _ => out.push(ProjectRow {
                    name,
                    created: r.try_get(1)?,
                    latest: lockfile,
                    previous: None,
                }),
            }
        }
        Ok(out)
    }

    /// Sets the organization's default policy (validated by the caller).
    pub async fn set_org_policy(&self, text: &str, by: &str, now: &str) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO org_policy (id, text, set_at, set_by) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET text = excluded.text, set_at = excluded.set_at, \
             set_by = excluded.set_by",
        )
        .bind(text)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn org_policy(&self) -> Result<Option<StoredPolicy>, DbError> {
        let row = sqlx::query("SELECT text, set_at, set_by FROM org_policy WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(StoredPolicy {
                text: r.try_get(0)?,
                set_at: r.try_get(1)?,
                set_by: r.try_get(2)?,
            }),
            None => None,
        })
    }

    /// Moves with every project or policy change (on any instance).
    pub async fn org_generation(&self) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT value FROM org_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Every crate name records are filed under, sorted.
    pub async fn record_crate_names(&self) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query("SELECT DISTINCT crate_name FROM records ORDER BY crate_name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// The crate a record is filed under and its body, by exact id.
    pub async fn record_by_id(&self, id: &str) -> Result<Option<(String, String)>, DbError> {
        let row = sqlx::query("SELECT crate_name, body FROM records WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }
}
