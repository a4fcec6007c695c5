//! The binary's error type. Every error exits with code 2 (see `output::report_error`).

use audit_trust_core::Error;

/// Errors the binary reports; all of them exit with code 2.
#[derive(Debug)]
pub enum CliError {
    /// A usage or configuration mistake, in words for the user.
    Usage(String),
    Core(Error),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}
