//! The home page's recent sign-offs, flags and revocations, read and verified once per
//! generation of the records rather than once per request: every record is verified again when
//! it is parsed (a second line, not the check), and at a hundred records per page that was most
//! of the page's cost (`bench/org_pages.py`, docs/performance.md).

use std::collections::HashSet;
use std::sync::Arc;

use audit_trust_core::signoff::{RecordId, SignedRecord};

use super::AppState;
use crate::db::EventKind;
use crate::error::ApiError;

/// What the home page shows of the records, as of one generation.
#[derive(Debug)]
pub struct Recent {
    pub signoffs: Vec<(String, SignedRecord)>,
    pub flags: Vec<(String, SignedRecord)>,
    pub revocations: Vec<(String, SignedRecord)>,
    /// Which of the shown records are revoked, as (signing key, record id).
    pub revoked: HashSet<(String, RecordId)>,
}

/// The last [`Recent`] built, with the generation read before it was built: a record that
/// lands during a build moves the generation on, so the next request builds again.
#[derive(Debug, Default)]
pub struct RecentCache {
    current: tokio::sync::Mutex<Option<(i64, Arc<Recent>)>>,
}

impl RecentCache {
    pub async fn get(&self, state: &AppState, limit: u32) -> Result<Arc<Recent>, ApiError> {
        let generation = state.generation.current(&state.db).await?;
        let mut current = self.current.lock().await;
        if let Some((built_at, recent)) = current.as_ref()
            && *built_at >= generation
        {
            return Ok(Arc::clone(recent));
        }
        let read = |kind| async move {
            Ok::<_, ApiError>(super::dashboard::events_records(
                &state.db.recent_events(kind, None, limit).await?,
            ))
        };
        let signoffs = read(EventKind::SignOff).await?;
        let flags = read(EventKind::Flag).await?;
        let revocations = read(EventKind::Revocation).await?;
        let revoked = super::dashboard::revoked_among(state, signoffs.iter().chain(&flags)).await?;
        let built = Arc::new(Recent {
            signoffs,
            flags,
            revocations,
            revoked,
        });
        *current = Some((generation, Arc::clone(&built)));
        Ok(built)
    }
}
