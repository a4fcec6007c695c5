//! The outbox does not grow for ever.

use audit_registry::notify::{self, Event, EventKind};
use serde_json::json;

use crate::receiver::*;
use crate::support::*;

/// Finished events go with their deliveries and logs once past the retention; an event with a
/// delivery still pending stays whatever its age.
#[tokio::test]
async fn finished_events_are_pruned_and_pending_ones_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (backend, url) in database_urls(&dir).await {
        let state = state_for(&url, &[]).await;
        let db = &state.db;
        let event = |kind| Event {
            kind,
            crate_name: Some("serde".into()),
            record_id: None,
            data: json!({}),
        };
        // Made before anyone subscribed: nothing to deliver, so finished at once.
        notify::emit(db, event(EventKind::Flag))
            .await
            .expect("emit");
        db.add_subscriber(
            "https://hooks.example.com/audit",
            SECRET,
            &["signoff".to_owned()],
            NOW,
        )
        .await
        .expect("subscriber");
        notify::emit(db, event(EventKind::SignOff))
            .await
            .expect("emit");

        let after_both = now().0 + 1;
        assert_eq!(
            db.prune_outbox(now().0).await.expect("prune"),
            0,
            "{backend}: too young"
        );
        assert_eq!(
            db.prune_outbox(after_both).await.expect("prune"),
            1,
            "{backend}"
        );
        let claimed = db
            .claim_due_deliveries(i64::MAX / 2, 1000, 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "{backend}: the pending delivery stayed");

        // Once delivered, it is finished too, and goes with its log.
        let outcome = audit_registry::db::AttemptOutcome {
            at: NOW.into(),
            status: Some(200),
            error: None,
            state: audit_registry::db::DeliveryState::Delivered,
            next_due_ms: 0,
            next_retry: None,
        };
        db.finish_attempt(&claimed[0], &outcome)
            .await
            .expect("finish");
        let subscriber = &claimed[0].subscriber_id;
        assert_eq!(db.delivery_log(subscriber, 10).await.expect("log").len(), 1);
        assert_eq!(
            db.prune_outbox(after_both).await.expect("prune"),
            1,
            "{backend}"
        );
        assert!(
            db.delivery_log(subscriber, 10)
                .await
                .expect("log")
                .is_empty()
        );
    }
}
