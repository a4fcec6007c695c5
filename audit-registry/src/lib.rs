//! `audit-registry`: stores signed sign-offs for an organization. It verifies every record and
//! head it accepts, but clients trust none of it: they verify everything again against the keys
//! pinned in their own `Cargo.audit` (see `docs/registry-api.md`).
//!
//! [`router`] builds the HTTP API from a [`AppState`], so tests drive it in-process; `main.rs`
//! only parses arguments and serves it.

pub mod api;
pub mod db;
pub mod error;
pub mod limits;
pub mod metrics;

pub use api::{AppState, Limits, router};
