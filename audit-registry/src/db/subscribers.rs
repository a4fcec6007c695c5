//! Webhook subscribers: a URL, the secret that signs what is sent to it, and the event kinds it
//! wants. The secret is stored as given, because signing needs it (a hash would not do); it is
//! never returned by the API nor logged.

use sqlx::Row as _;

use super::{Db, DbError, random_id};

pub(super) const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS subscribers (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        created TEXT NOT NULL
    )"];

/// A subscriber as shown to admins: everything but the secret.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub id: String,
    pub url: String,
    /// Event kinds it receives (see `crate::notify::EventKind`).
    pub events: Vec<String>,
    pub created: String,
}

/// What a delivery needs to sign and send: the URL and the secret.
#[derive(Clone)]
pub struct SubscriberTarget {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for SubscriberTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret, even in a debug log.
        f.debug_struct("SubscriberTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Event kinds are stored as a space-separated list (kinds have no spaces).
fn parse_events(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

impl Db {
    pub async fn add_subscriber(
        &self,
        url: &str,
        secret: &str,
        events: &[String],
        created: &str,
    ) -> Result<Subscriber, DbError> {
        let id = format!("sub_{}", random_id()?);
        sqlx::query(
            "INSERT INTO subscribers (id, url, secret, events, created) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(url)
        .bind(secret)
        .bind(events.join(" "))
        .bind(created)
        .execute(&self.pool)
        .await?;
        Ok(Subscriber {
            id,
            url: url.to_owned(),
            events: events.to_vec(),
            created: created.to_owned(),
        })
    }

    pub async fn subscribers(&self) -> Result<Vec<Subscriber>, DbError> {
        let rows =
            sqlx::query("SELECT id, url, events, created FROM subscribers ORDER BY created, id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Subscriber {
                    id: r.try_get(0)?,
                    url: r.try_get(1)?,
                    events: parse_events(&r.try_get::<String, _>(2)?),
                    created: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn subscriber_exists(&self, id: &str) -> Result<bool, DbError> {
        let row = sqlx::query("SELECT id FROM subscribers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub(crate) async fn subscriber_target(
        &self,
        id: &str,
    ) -> Result<Option<SubscriberTarget>, DbError> {
        let row = sqlx::query("SELECT url, secret FROM subscribers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(SubscriberTarget {
                url: r.try_get(0)?,
                secret: r.try_get(1)?,
            }),
            None => None,
        })
    }

    /// Removes a subscriber with its pending deliveries and its delivery log. Whether it existed.
    pub async fn remove_subscriber(&self, id: &str) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM delivery_attempts WHERE subscriber_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM deliveries WHERE subscriber_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query("DELETE FROM subscribers WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// Subscribers (id, wanted kinds) inside a transaction, for fanning an event out.
    pub(super) async fn subscribers_in(
        conn: &mut sqlx::AnyConnection,
    ) -> Result<Vec<(String, Vec<String>)>, DbError> {
        let rows = sqlx::query("SELECT id, events FROM subscribers")
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>(0)?,
                    parse_events(&r.try_get::<String, _>(1)?),
                ))
            })
            .collect()
    }
}
