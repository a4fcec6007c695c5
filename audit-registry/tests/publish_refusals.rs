//! What a publish may not do, on SQLite and (when configured) PostgreSQL: carry a head number
//! the database cannot store losslessly, or revoke another key's record. Both were accepted:
//! the number was clamped to `i64::MAX`, after which a lower head and several heads with one
//! number passed; the revocation was stored and the dashboard showed the record as revoked.

mod support;

use audit_registry::db::NewRecord;
use audit_registry::{Limits, router};
use audit_trust_core::signoff::SignedRecord;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::*;
use tower::ServiceExt as _;

const ABOVE_I64: u64 = 1 << 63;

fn new_record(r: &SignedRecord, crate_name: &str) -> NewRecord {
    NewRecord {
        id: r.id(),
        crate_name: crate_name.into(),
        body: r.to_json_line(),
        version: r
            .record()
            .statement
            .subject()
            .map(|s| s.version().to_string())
            .unwrap_or_default(),
        key: audit_trust_core::tlog::key_bucket(r.key()),
        delta_from: None,
    }
}

#[tokio::test]
async fn a_head_number_above_i64_max_is_refused_not_clamped() {
    for (backend, reg) in backends(Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let a = signoff(&k, "serde", "1.0.0");
        let h1 = head(&k, None, &[&a]);

        // Over HTTP: the head's own number is out of range, whatever it is signed with.
        let mut body = publish_body(&[&a], &h1);
        body["head"]["sequence"] = ABOVE_I64.into();
        let (status, answer) = reg.send("POST", "/v1/publish", body.to_string()).await;
        assert_eq!(
            (status, codes(&answer)),
            (StatusCode::BAD_REQUEST, "invalid-head"),
            "{backend}: {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("9223372036854775807"),
            "{backend}: {message}"
        );

        // The storage itself refuses, for any caller: two different heads numbered above
        // i64::MAX must not both be stored under one clamped number.
        for (i, sequence) in [ABOVE_I64, u64::MAX].into_iter().enumerate() {
            let outcome = reg
                .state
                .db
                .publish(
                    &k.public_key(),
                    (sequence, &format!("{i:064}"), "{}"),
                    &[new_record(&a, "serde")],
                    |_| Ok(()),
                )
                .await;
            let err = outcome.expect_err("refused");
            assert!(
                err.to_string().contains("above the highest sequence"),
                "{backend}: {err}"
            );
        }
        // Nothing was stored: the first real head is still accepted.
        let (status, answer) = reg.publish(&[&a], &h1).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {answer}");
        let (_, synced) = reg.sync(&k, 0).await;
        assert_eq!(
            synced["logs"][k.public_key().to_string()]["head"]["sequence"],
            1,
            "{backend}"
        );
        // The highest storable number is stored as it is.
        reg.state
            .db
            .publish(
                &k.public_key(),
                (i64::MAX as u64, &"f".repeat(64), "{}"),
                &[],
                |_| Ok(()),
            )
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        let (stored, _) = reg
            .state
            .db
            .log_after(&k.public_key(), 0)
            .await
            .expect("read");
        assert_eq!(
            stored.map(|h| h.sequence),
            Some(i64::MAX as u64),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_revocation_names_only_its_own_signer_s_records() {
    for (backend, reg) in backends(Limits::default()).await {
        let (alice, mallory) = (key(), key());
        reg.register("alice", &alice).await;
        reg.register("mallory", &mallory).await;
        let a = signoff(&alice, "tokio", "1.0.0");
        assert_eq!(
            reg.publish(&[&a], &head(&alice, None, &[&a])).await.0,
            StatusCode::OK,
            "{backend}"
        );
        let forged = revocation(&mallory, &a);
        let (status, answer) = reg
            .publish(&[&forged], &head(&mallory, None, &[&forged]))
            .await;
        assert_eq!(
            (status, codes(&answer)),
            (StatusCode::BAD_REQUEST, "revokes-another-key"),
            "{backend}: {answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("only its own signer's records")),
            "{backend}: {answer}"
        );
        // The signer's own revocation is stored as before.
        let own = revocation(&alice, &a);
        let h1 = head(&alice, None, &[&a]);
        let h2 = head(&alice, Some(&h1), &[&a, &own]);
        assert_eq!(
            reg.publish(&[&own], &h2).await.0,
            StatusCode::OK,
            "{backend}"
        );

        // One stored before the registry refused them does not mark another key's record on
        // the dashboard.
        let b = signoff(&alice, "mio", "1.0.0");
        let h3 = head(&alice, Some(&h2), &[&a, &own, &b]);
        assert_eq!(reg.publish(&[&b], &h3).await.0, StatusCode::OK, "{backend}");
        let old = revocation(&mallory, &b);
        reg.state
            .db
            .publish(
                &mallory.public_key(),
                (1, &"e".repeat(64), "{}"),
                &[new_record(&old, "mio")],
                |_| Ok(()),
            )
            .await
            .expect("stored directly");
        let page = get_page(&reg, "/crates/mio").await;
        assert!(page.contains("revokes"), "{backend}: {page}");
        assert!(!page.contains("(revoked)"), "{backend}: {page}");
        let home = get_page(&reg, "/").await;
        let own_marks = home.matches("(revoked)").count();
        assert_eq!(
            own_marks, 1,
            "{backend}: only alice's own revocation: {home}"
        );
        let tokio = get_page(&reg, "/crates/tokio").await;
        assert!(tokio.contains("sign-off (revoked)"), "{backend}: {tokio}");
    }
}

async fn get_page(reg: &Registry, path: &str) -> String {
    let response = router(reg.state.clone())
        .oneshot(
            Request::builder()
                .uri(path)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}
