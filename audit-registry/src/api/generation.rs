//! Reading the database's generation once for many requests, without ever answering a request
//! from a state older than the moment it arrived.
//!
//! Each request needs "the generation as of now or later". Reads are serialised per instance; a
//! request may use the result of a read that *started after it arrived* (that read saw every
//! commit finished before the request came in). Under load one database round trip then serves
//! every request that arrived while the previous one was running, instead of each request
//! queueing for a pooled connection of its own.

use std::time::Instant;

use tokio::sync::Mutex;

use crate::db::{Db, DbError};

#[derive(Debug, Default)]
pub struct GenerationGate {
    /// When the last completed read started, and what it returned.
    last: Mutex<Option<(Instant, i64)>>,
}

impl GenerationGate {
    pub async fn current(&self, db: &Db) -> Result<i64, DbError> {
        let arrival = Instant::now();
        let mut last = self.last.lock().await;
        if let Some((started, value)) = *last
            && started >= arrival
        {
            return Ok(value);
        }
        let started = Instant::now();
        let value = db.generation().await?;
        *last = Some((started, value));
        Ok(value)
    }
}
