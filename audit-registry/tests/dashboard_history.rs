//! A crate's dashboard page when one key has filed more records about it than the page shows:
//! the cut must keep the newest records of every key, not the first rows of whichever key
//! sorts first (which would hide another auditor's flag).

mod support;

use audit_registry::{Limits, router};
use audit_trust_core::signoff::{Record, SignedRecord, SigningKey, Statement, Subject};
use audit_trust_core::time::Timestamp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::*;
use tower::ServiceExt as _;

/// A flag filed a minute after everything else, so it is the newest record on the page.
fn late_flag(key: &SigningKey, name: &str, version: &str, reason: &str) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: Timestamp(now().0 + 60),
        statement: Statement::Flag {
            subject: Subject::Crate {
                name: name.into(),
                version: version.parse().expect("version"),
                checksum: "cd".repeat(32),
            },
            reason: reason.into(),
            notes: None,
        },
    };
    SignedRecord::sign(record, key).expect("valid")
}

#[tokio::test]
async fn a_prolific_key_cannot_push_another_key_s_flag_off_a_crate_page() {
    for (backend, reg) in backends(Limits::default()).await {
        // Rows come ordered by key: make the prolific key the one that sorts first.
        let (mut prolific, mut flagger) = (key(), key());
        if prolific.public_key().to_string() > flagger.public_key().to_string() {
            std::mem::swap(&mut prolific, &mut flagger);
        }
        reg.register("prolific", &prolific).await;
        reg.register("flagger", &flagger).await;
        let many: Vec<SignedRecord> = (0..1000)
            .map(|i| signoff(&prolific, "serde", &format!("1.0.{i}")))
            .collect();
        let refs: Vec<&SignedRecord> = many.iter().collect();
        let h = head(&prolific, None, &refs);
        assert_eq!(reg.publish(&refs, &h).await.0, StatusCode::OK, "{backend}");
        let flag = late_flag(&flagger, "serde", "1.0.7", "FLAG-REASON-MARKER");
        let hf = head(&flagger, None, &[&flag]);
        assert_eq!(
            reg.publish(&[&flag], &hf).await.0,
            StatusCode::OK,
            "{backend}"
        );

        let response = router(reg.state.clone())
            .oneshot(
                Request::builder()
                    .uri("/crates/serde")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let page = String::from_utf8(bytes.to_vec()).expect("UTF-8");
        assert!(
            page.contains("FLAG-REASON-MARKER"),
            "{backend}: the flag is not on the crate's page"
        );
    }
}
