//! Catching up from stored entries: chunked reads with several in flight build the same log as
//! one serial read, and a stored log with a hole is refused.

use audit_trust_core::signoff::{RecordId, SigningKey};

use super::{LogState, catch_up, catch_up_committed};
use crate::db::Db;

const ENTRIES: u64 = 23;

/// A SQLite registry whose tables hold `ENTRIES` log entries of two keys over a few crates
/// and versions (written as rows: what a process finds when it starts on a stored log).
async fn stored_log(dir: &tempfile::TempDir) -> Db {
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let db = Db::connect(&url).await.expect("database");
    let keys = [
        SigningKey::generate().expect("key").public_key(),
        SigningKey::generate().expect("key").public_key(),
    ];
    let mut ordinals = std::collections::HashMap::new();
    for idx in 0..ENTRIES {
        let id = RecordId::parse(&format!("{idx:016x}{}", "a5".repeat(24))).expect("id");
        let crate_name = format!("crate{}", idx % 4);
        let ordinal = ordinals.entry(crate_name.clone()).or_insert(0i64);
        sqlx::query(
            "INSERT INTO records (id, public_key, crate_name, head_sequence, body) \
             VALUES ($1, $2, $3, 1, '{}')",
        )
        .bind(id.to_string())
        .bind(keys[(idx % 2) as usize].to_string())
        .bind(&crate_name)
        .execute(&db.pool)
        .await
        .expect("record");
        sqlx::query(
            "INSERT INTO log_entries (idx, record_id, crate_name, ordinal) VALUES ($1, $2, $3, $4)",
        )
        .bind(idx as i64)
        .bind(id.to_string())
        .bind(&crate_name)
        .bind(*ordinal)
        .execute(&db.pool)
        .await
        .expect("entry");
        *ordinal += 1;
        sqlx::query("INSERT INTO log_filings (idx, version, delta_from) VALUES ($1, $2, $3)")
            .bind(idx as i64)
            .bind(format!("1.{}.0", idx % 3))
            .bind((idx % 5 == 0).then_some("0.9.0"))
            .execute(&db.pool)
            .await
            .expect("filing");
    }
    db
}

async fn serial(db: &Db) -> LogState {
    let mut state = LogState::default();
    let mut conn = db.pool.acquire().await.expect("connection");
    catch_up(&mut conn, &mut state, Some(ENTRIES))
        .await
        .expect("caught up");
    state
}

#[tokio::test]
async fn chunked_reads_in_flight_build_the_log_a_serial_read_builds() {
    let dir = tempfile::tempdir().expect("dir");
    let db = stored_log(&dir).await;
    let mut expected = serial(&db).await;
    assert_eq!(expected.entries.len() as u64, ENTRIES);
    for chunk in [1, 2, 3, 5, 22, 23, 50] {
        let mut state = LogState::default();
        catch_up_committed(&db.pool, &mut state, ENTRIES, chunk)
            .await
            .expect("caught up");
        assert_eq!(state.entries, expected.entries, "chunk {chunk}");
        assert_eq!(state.tree.root(), expected.tree.root(), "chunk {chunk}");
        assert_eq!(state.index.root(), expected.index.root(), "chunk {chunk}");
        assert_eq!(state.by_crate, expected.by_crate, "chunk {chunk}");
    }
    // From part way, and only up to the size asked for.
    let mut state = LogState::default();
    catch_up_committed(&db.pool, &mut state, 10, 4)
        .await
        .expect("caught up");
    assert_eq!(state.entries.len(), 10);
    catch_up_committed(&db.pool, &mut state, ENTRIES, 4)
        .await
        .expect("caught up");
    assert_eq!(state.entries, expected.entries);
}

#[tokio::test]
async fn a_hole_in_the_stored_log_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let db = stored_log(&dir).await;
    sqlx::query("DELETE FROM log_filings WHERE idx = 7")
        .execute(&db.pool)
        .await
        .expect("delete");
    let mut state = LogState::default();
    let caught = catch_up_committed(&db.pool, &mut state, ENTRIES, 3).await;
    let error = caught.expect_err("a hole at 7");
    assert!(error.to_string().contains("gap"), "{error}");
    assert!(state.entries.len() <= 7);
}
