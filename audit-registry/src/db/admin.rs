//! Admin tokens: bearer secrets that may change what the registry accepts (auditors, and later
//! watch list and subscribers). Only a SHA-256 of each token is stored, so a copy of the
//! database does not hand out admin rights; the token itself is shown once, when it is made.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SecureRandom as _;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use super::{Db, DbError};

pub(super) const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS admin_tokens (
        name TEXT PRIMARY KEY,
        token_sha256 TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    )"];

/// Every token starts with this, so a leaked one is easy to recognise in logs and scanners.
const PREFIX: &str = "atr_";

/// A freshly made token: the secret (shown once) and the name it is filed under.
#[derive(Debug)]
pub struct AdminToken {
    pub name: String,
    pub secret: String,
}

fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

impl Db {
    /// Makes a token named `name` (1–64 of `[A-Za-z0-9._-]`) and stores its hash.
    pub async fn create_admin_token(
        &self,
        name: &str,
        created: &str,
    ) -> Result<AdminToken, DbError> {
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| {
                DbError::Unavailable("the operating system's random generator failed".into())
            })?;
        let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let result = sqlx::query(
            "INSERT INTO admin_tokens (name, token_sha256, created) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(digest(&secret))
        .bind(created)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(DbError::Conflict(format!(
                "an admin token named `{name}` exists; revoke it first or pick another name"
            )));
        }
        Ok(AdminToken {
            name: name.to_owned(),
            secret,
        })
    }

    /// The name of the token whose secret this is, if any.
    pub async fn admin_token_name(&self, secret: &str) -> Result<Option<String>, DbError> {
        if !secret.starts_with(PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        // Looked up by hash: the database never compares secrets, and a timing difference
        // reveals only bits of a hash of a guess.
        let row = sqlx::query("SELECT name FROM admin_tokens WHERE token_sha256 = $1")
            .bind(digest(secret))
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<String, _>(0)?),
            None => None,
        })
    }

    pub async fn admin_tokens(&self) -> Result<Vec<(String, String)>, DbError> {
        let rows = sqlx::query("SELECT name, created FROM admin_tokens ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect()
    }

    pub async fn revoke_admin_token(&self, name: &str) -> Result<bool, DbError> {
        let result = sqlx::query("DELETE FROM admin_tokens WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
