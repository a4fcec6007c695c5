//! The order a diff's files are read in: what runs at build time and what the signals point at
//! comes first, because that is where a hijacked release does its work (the arrayref release:
//! a new dependency in `Cargo.toml` whose build script spawns a downloader). The rest keeps the
//! order it had.

use super::highlight::{Risk, risky_lines};
use crate::output::escape;

/// What the package's own signals say about its files, carried from the queue entry with the
/// diff request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFocus {
    /// The version has dependencies its base had not.
    pub new_dependencies: bool,
    /// Escaped paths of the package's files named in its signals' evidence.
    pub evidence_files: Vec<String>,
}

/// What the crate file itself says: its build scripts and whether it is a proc-macro.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildTime {
    pub build_scripts: Vec<String>,
    pub proc_macro: bool,
}

/// One file as ranked: its path (raw, as published) and both sides' bytes.
pub struct Candidate<'a> {
    pub path: &'a str,
    pub old: &'a [u8],
    pub new: &'a [u8],
}

/// Lower is read first: 0 the build script, 1 a proc-macro's sources, 2 `Cargo.toml` when
/// there are new dependencies, 3 a file named in the evidence (spawn, network and environment
/// calls, opaque files) or with more `unsafe` than before, 4 everything else.
pub fn file_rank(file: &Candidate<'_>, build: &BuildTime, focus: &FileFocus) -> u8 {
    let path = file.path;
    if build.build_scripts.iter().any(|b| b == path) {
        0
    } else if build.proc_macro && path.starts_with("src/") && path.ends_with(".rs") {
        1
    } else if focus.new_dependencies && path == "Cargo.toml" {
        2
    } else if focus.evidence_files.contains(&escape::cell(path)) || more_unsafe(file) {
        3
    } else {
        4
    }
}

/// Sorts `items` by their rank (from [`file_rank`]), keeping the order of files of the same
/// rank.
pub fn order_by_risk<T>(items: &mut [T], rank: impl Fn(&T) -> u8) {
    items.sort_by_cached_key(rank);
}

/// Whether a Rust file has more lines with `unsafe` than its other side (real tokens only).
fn more_unsafe(file: &Candidate<'_>) -> bool {
    if !file.path.ends_with(".rs") {
        return false;
    }
    let count = |bytes: &[u8]| {
        risky_lines(bytes, false)
            .values()
            .filter(|r| **r == Risk::Unsafe)
            .count()
    };
    count(file.new) > count(file.old)
}
