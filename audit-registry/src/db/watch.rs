//! The watch list: crates the automatic auditor follows, each optionally with the repository it
//! must be checked against (pinned by a person; the crate's own claim never counts). Each row also
//! carries its poll state (the index file's validators, when to poll next, failures), so several
//! instances share the polling: an instance polls a crate only after moving its `next_poll`
//! forward in one conditional update, which only one of them can win.

use sqlx::Row as _;

use super::{Db, DbError};

pub(super) const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS watch (
        crate_name TEXT PRIMARY KEY,
        repository TEXT,
        added_by TEXT NOT NULL,
        added TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        next_poll BIGINT NOT NULL,
        last_polled BIGINT,
        poll_failures BIGINT NOT NULL,
        last_poll_error TEXT
    )",
    // Versions a watch request asked to audit now (a lockfile's), whatever their age: the next
    // poll of the crate queues them, then removes them from here.
    "CREATE TABLE IF NOT EXISTS watch_backfill (
        crate_name TEXT NOT NULL,
        version TEXT NOT NULL,
        requested BIGINT NOT NULL,
        PRIMARY KEY (crate_name, version)
    )",
];

/// One watched crate as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEntry {
    /// Lowercase.
    pub crate_name: String,
    /// The pinned repository, if any.
    pub repository: Option<String>,
    pub added_by: String,
    pub added: String,
    pub last_polled: Option<i64>,
    pub poll_failures: i64,
    pub last_poll_error: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a successful poll learnt, stored for the next conditional request.
#[derive(Debug, Clone, Default)]
pub struct PollValidators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// `*` in a pattern stands for any run of characters; nothing else is special.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

const COLUMNS: &str = "crate_name, repository, added_by, added, last_polled, poll_failures, \
                       last_poll_error, etag, last_modified";

fn entry(row: &sqlx::any::AnyRow) -> Result<WatchEntry, DbError> {
    Ok(WatchEntry {
        crate_name: row.try_get(0)?,
        repository: row.try_get(1)?,
        added_by: row.try_get(2)?,
        added: row.try_get(3)?,
        last_polled: row.try_get(4)?,
        poll_failures: row.try_get(5)?,
        last_poll_error: row.try_get(6)?,
        etag: row.try_get(7)?,
        last_modified: row.try_get(8)?,
    })
}

impl Db {
    /// Adds `name` (lowercase, validated by the caller) or, when it is watched already, sets its
    /// pinned repository to `repository` if one is given. Returns whether the row is new.
    pub async fn watch(
        &self,
        name: &str,
        repository: Option<&str>,
        added_by: &str,
        added: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let inserted = sqlx::query(
            "INSERT INTO watch (crate_name, repository, added_by, added, next_poll, poll_failures) \
             VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (crate_name) DO NOTHING",
        )
        .bind(name)
        .bind(repository.map(str::to_owned))
        .bind(added_by)
        .bind(added)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0
            && let Some(repository) = repository
        {
            sqlx::query("UPDATE watch SET repository = $1 WHERE crate_name = $2")
                .bind(repository)
                .bind(name)
                .execute(&self.pool)
                .await?;
        }
        Ok(inserted == 1)
    }

    /// Asks the next poll of `name` (lowercase, watched) to queue `versions` for audit, even
    /// those that exist already, and makes that poll due now and unconditional (a 304 would
    /// list no versions). Returns how many versions were not requested already.
    pub async fn request_backfill(
        &self,
        name: &str,
        versions: &[String],
        now: i64,
    ) -> Result<u64, DbError> {
        let mut added = 0;
        for version in versions {
            added += sqlx::query(
                "INSERT INTO watch_backfill (crate_name, version, requested) VALUES ($1, $2, $3) \
                 ON CONFLICT (crate_name, version) DO NOTHING",
            )
            .bind(name)
            .bind(version)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        }
        if !versions.is_empty() {
            sqlx::query(
                "UPDATE watch SET etag = NULL, last_modified = NULL, next_poll = $1 \
                 WHERE crate_name = $2",
            )
            .bind(now)
            .bind(name)
            .execute(&self.pool)
            .await?;
        }
        Ok(added)
    }

    /// The versions of `name` (lowercase) waiting to be backfilled.
    pub async fn backfill_versions(&self, name: &str) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query(
            "SELECT version FROM watch_backfill WHERE crate_name = $1 ORDER BY version",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Forgets the backfill request of `name@version` (queued, or not in the index).
    pub async fn clear_backfill(&self, name: &str, version: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM watch_backfill WHERE crate_name = $1 AND version = $2")
            .bind(name)
            .bind(version)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes every watched crate whose name matches `pattern` (see [`pattern_matches`]);
    /// returns the names removed. Jobs and verifications already made stay.
    pub async fn unwatch(&self, pattern: &str) -> Result<Vec<String>, DbError> {
        let mut removed = Vec::new();
        for entry in self.watch_list(Some(pattern)).await? {
            let gone = sqlx::query("DELETE FROM watch WHERE crate_name = $1")
                .bind(&entry.crate_name)
                .execute(&self.pool)
                .await?
                .rows_affected();
            if gone > 0 {
                removed.push(entry.crate_name);
            }
        }
        Ok(removed)
    }

    /// The watched crates (those matching `pattern`, if given), by name.
    pub async fn watch_list(&self, pattern: Option<&str>) -> Result<Vec<WatchEntry>, DbError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM watch ORDER BY crate_name"))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let e = entry(row)?;
            if pattern.is_none_or(|p| pattern_matches(p, &e.crate_name)) {
                out.push(e);
            }
        }
        Ok(out)
    }

    pub async fn watch_entry(&self, name: &str) -> Result<Option<WatchEntry>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM watch WHERE crate_name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(entry).transpose()
    }

    /// Names whose next poll is due, at most `limit`.
    pub async fn polls_due(&self, now: i64, limit: i64) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query(
            "SELECT crate_name FROM watch WHERE next_poll <= $1 ORDER BY next_poll, crate_name \
             LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Takes the poll of `name` if it is still due: moves its next poll to `until` (so an
    /// instance that dies mid-poll only delays it). Only one instance wins each due poll.
    pub async fn claim_poll(&self, name: &str, now: i64, until: i64) -> Result<bool, DbError> {
        let taken = sqlx::query(
            "UPDATE watch SET next_poll = $1 WHERE crate_name = $2 AND next_poll <= $3",
        )
        .bind(until)
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Records a successful poll: validators for the next conditional request, failures reset.
    pub async fn poll_succeeded(
        &self,
        name: &str,
        validators: &PollValidators,
        now: i64,
        next: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE watch SET etag = $1, last_modified = $2, last_polled = $3, next_poll = $4, \
             poll_failures = 0, last_poll_error = NULL WHERE crate_name = $5",
        )
        .bind(validators.etag.clone())
        .bind(validators.last_modified.clone())
        .bind(now)
        .bind(next)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed poll; the next one waits `next` (the caller's backoff).
    pub async fn poll_failed(
        &self,
        name: &str,
        error: &str,
        now: i64,
        next: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE watch SET last_polled = $1, next_poll = $2, \
             poll_failures = poll_failures + 1, last_poll_error = $3 WHERE crate_name = $4",
        )
        .bind(now)
        .bind(next)
        .bind(truncate(error, 2000))
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn patterns_match_star_only() {
        assert!(pattern_matches("tokio-*", "tokio-util"));
        assert!(!pattern_matches("tokio-*", "tokio"));
        assert!(pattern_matches("*", "serde"));
        assert!(pattern_matches("*-derive", "serde-derive"));
        assert!(pattern_matches("a*b*c", "axxbyyc"));
        assert!(!pattern_matches("a*b*c", "acb"));
        assert!(pattern_matches("serde", "serde"));
        assert!(!pattern_matches("serde", "serde_json"));
        assert!(!pattern_matches("ab*ba", "aba"));
    }
}
