//! `audit-registry`: stores signed sign-offs for an organization. It verifies every record and
//! head it accepts, but clients trust none of it: they verify everything again against the keys
//! pinned in their own `Cargo.audit` (see `docs/registry-api.md`).
//!
//! [`router`] builds the HTTP API from a [`AppState`], so tests drive it in-process; `main.rs`
//! only parses arguments and serves it.

pub mod api;
pub mod db;
pub mod error;
pub mod export;
mod export_crates;
pub mod html;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod org;
pub mod serve;
pub mod witness;
pub mod worker;

pub use api::{AppState, Limits, router};

/// Names of auditors and admin tokens: 1 to 64 ASCII letters, digits, `-`, `_` or `.` (they
/// appear in URLs, logs and the dashboard).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
