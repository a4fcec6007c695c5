//! Webhooks end to end on loopback, on SQLite and (when configured) PostgreSQL: subscribers are
//! added over the admin API, a publish queues events in its transaction, the delivery pass sends
//! them through the guarded client to a real HTTP receiver in this test (configured as a mirror,
//! as loopback is otherwise refused), which fails the first attempts; retries, signatures and the
//! delivery log are checked. Nothing is faked: the receiver stands in for a subscriber's server.
//!
//! `receiver.rs` holds the receiver and the shared set-up; each other file one concern.

#[path = "../support/mod.rs"]
mod support;

mod delivery;
mod instances;
mod receiver;
mod refusals;
mod retention;
