//! End to end: `key new`, `sign`, `query`, `revoke`, `refresh-head` and `check` through the real
//! binary, against crates published with the real `cargo package` to a registry on a loopback
//! port, with a real `Cargo.audit` and a local sign-off store. Nothing here reaches the internet.

mod escaping;
mod export;
mod gate;
mod git_dependency;
mod per_crate;
mod registry;
mod revoke;
mod sign_query;
mod source_matches;
mod static_export;
mod static_per_crate;
mod withheld_flag;
mod witnesses;
mod world;
