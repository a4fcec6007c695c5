//! The environment of the processes this tool starts (cargo today; anything later). A secret
//! handed to us, such as a CI bot's signing key, must not reach a child: cargo runs build
//! scripts and configured credential helpers, which would see it.
//!
//! Rust 2024 makes removing a variable from our own environment `unsafe` (other threads may read
//! it), so each child is started without it instead.

use crate::signoff::SIGNING_KEY_ENV;

/// Variables that are never passed on to a child process.
pub const SECRET_ENV_VARS: &[&str] = &[SIGNING_KEY_ENV];

/// Removes [`SECRET_ENV_VARS`] from the environment `command` will run with.
pub fn scrub(command: &mut std::process::Command) -> &mut std::process::Command {
    for name in SECRET_ENV_VARS {
        command.env_remove(name);
    }
    command
}
