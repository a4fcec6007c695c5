//! Progress reporting is the caller's business: the library only says how far it got.

/// Receives progress of long phases (downloads, classification). Implementations must be cheap
/// and thread-safe: workers call `advance` concurrently.
pub trait Progress: Sync {
    fn begin(&self, _phase: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Reports nothing (CI, JSON output, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
