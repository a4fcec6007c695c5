//! Classification of one published crate from its own files: how much Rust it contains, how it uses
//! `unsafe`, and whether it runs a build script, is a proc-macro or builds native code.
//!
//! Input is the file list of a `.crate` tarball, already read into memory by the caller; nothing
//! here touches the filesystem or the network, and no input can make it panic.
//!
//! Which files count, and why:
//! - **Library/binary sources** are every `.rs` file except those under the crate root's `tests/`,
//!   `benches/` and `examples/` directories, and the build script(s). Whether a file is actually
//!   reachable from `lib.rs` through `mod` declarations (or `#[path]`, or `include!`) is not
//!   followed: that would need a module resolver with `cfg` evaluation. Published tarballs rarely
//!   carry unused sources, so counting every file is a close, slightly generous approximation.
//!   Vendored sources inside `src/` are counted too: they are compiled into the crate. Files a
//!   `#[path]` attribute pulls in from outside that set (from `tests/`, or a `.txt` file) are
//!   counted as the code of whoever pulled them in (see [`path_attr`]).
//! - **`unsafe` usage** is summed over those sources plus the build script (it runs on the machine
//!   building the crate), but not tests, benches or examples (they never reach a dependent).
//! - **`forbids_unsafe`** for the crate means the library root (`src/lib.rs` or `[lib] path`) has
//!   `#![forbid(unsafe_code)]`, so the compiler guarantees the absence of `unsafe` in what
//!   dependents build; a package without a library needs it in every binary's main file. The build script is not a target root
//!   of the crate and does not affect it (its `unsafe` is still counted).
//!
//! Line and `unsafe` counting rules are documented in [`scan`], the tokenizer in [`lexer`], and the
//! manifest reading in [`manifest`].

mod bytes;
pub mod lexer;
pub mod manifest;
mod path_attr;
pub mod scan;
#[cfg(test)]
mod tests;

pub use scan::{RustScan, scan_rust};

use std::collections::{BTreeMap, BTreeSet};

use manifest::parse_manifest;
use path_attr::Role;

/// How a crate's code uses `unsafe`. Counts are of constructs (an `unsafe` block is one, whatever
/// its size), found in real tokens only.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnsafeCounts {
    /// `unsafe { .. }` blocks.
    pub blocks: u64,
    /// `unsafe fn` items (not `unsafe fn(..)` pointer types).
    pub fns: u64,
    /// `unsafe impl` items.
    pub impls: u64,
    /// `unsafe trait` / `unsafe auto trait` items.
    pub traits: u64,
    /// `extern { .. }` / `extern "ABI" { .. }` / `unsafe extern "ABI" { .. }` blocks.
    pub extern_blocks: u64,
    /// `#![forbid(unsafe_code)]` applies (per file from [`scan_rust`]; per crate, see the module docs).
    pub forbids_unsafe: bool,
}

impl UnsafeCounts {
    /// Total number of unsafe constructs (everything but the `forbids_unsafe` flag).
    pub fn total(&self) -> u64 {
        self.blocks + self.fns + self.impls + self.traits + self.extern_blocks
    }

    /// Adds another file's counts to these; `forbids_unsafe` is left alone (it is per target root).
    fn add(&mut self, other: &UnsafeCounts) {
        self.blocks += other.blocks;
        self.fns += other.fns;
        self.impls += other.impls;
        self.traits += other.traits;
        self.extern_blocks += other.extern_blocks;
    }
}

/// What a crate is made of, computed from its published files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Classification {
    /// Non-blank, non-comment lines of Rust in the library/binary sources.
    pub code_lines: u64,
    /// The same count over every `.rs` file in the package (tests, examples, build script included).
    pub all_rs_lines: u64,
    /// Number of `.rs` files in the package.
    pub rs_files: u64,
    /// `unsafe` usage in the library/binary sources and the build script.
    pub unsafe_usage: UnsafeCounts,
    /// The package has a build script (`build.rs` or `package.build`).
    pub build_script: bool,
    /// The library is a procedural macro (`[lib] proc-macro = true`).
    pub proc_macro: bool,
    /// The package links or builds native code: `links` is set, or the build script uses one of
    /// the usual native-build crates (`cc`, `cmake`, `bindgen`, `pkg-config`, ...).
    pub native: bool,
    /// The `package.links` value.
    pub links: Option<String>,
}

/// Why a crate could not be classified. Messages name the problem; the caller adds the package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    #[error("the package has no Cargo.toml at its root")]
    MissingManifest,
    #[error("Cargo.toml is not valid UTF-8")]
    ManifestNotUtf8,
    #[error("Cargo.toml is not valid TOML{}: {message}", at_line(*.line))]
    InvalidManifest {
        line: Option<usize>,
        message: String,
    },
    #[error("Cargo.toml has no [package] table")]
    NoPackage,
    /// `#[path]` names a file outside the package; the values are shown escaped.
    #[error("{file:?} declares a module at #[path = {path:?}], which leaves the package")]
    PathOutsidePackage { file: String, path: String },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// The files outside the counted set that `#[path]` attributes of counted code pull in.
fn pulled_in_by_path(
    files: &[(&str, &[u8])],
    targets: &manifest::Targets,
) -> Result<BTreeMap<String, Role>, ClassifyError> {
    let by_path: BTreeMap<&str, &[u8]> = files.iter().copied().collect();
    let mut origins = Vec::new();
    let mut counted = BTreeSet::new();
    for (path, _) in files {
        let is_build_script = targets.build_scripts.iter().any(|b| b == path);
        let is_auxiliary = AUXILIARY_DIRS.iter().any(|dir| path.starts_with(dir));
        if !path.ends_with(".rs") || (is_auxiliary && !is_build_script) {
            continue;
        }
        counted.insert(*path);
        let role = if is_build_script {
            Role::BuildScript
        } else {
            Role::Library
        };
        origins.push((*path, role));
    }
    let roots: BTreeSet<&str> = targets
        .lib
        .iter()
        .chain(&targets.bins)
        .chain(&targets.build_scripts)
        .map(String::as_str)
        .collect();
    path_attr::pulled_in(&by_path, &origins, &counted, &roots).map_err(|e| {
        ClassifyError::PathOutsidePackage {
            file: e.file,
            path: e.path,
        }
    })
}

/// Directories at the crate root whose files never reach a dependent.
const AUXILIARY_DIRS: [&str; 3] = ["tests/", "benches/", "examples/"];

/// Classifies a crate from its files: `(path relative to the crate root, '/'-separated, contents)`.
pub fn classify_files<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Classification, ClassifyError> {
    let files: Vec<(&str, &[u8])> = files
        .into_iter()
        .map(|(path, bytes)| (path.strip_prefix("./").unwrap_or(path), bytes))
        .collect();
    let manifest_bytes = files
        .iter()
        .find(|(path, _)| *path == "Cargo.toml")
        .map(|(_, bytes)| *bytes)
        .ok_or(ClassifyError::MissingManifest)?;
    let manifest_text =
        std::str::from_utf8(manifest_bytes).map_err(|_| ClassifyError::ManifestNotUtf8)?;
    let manifest = parse_manifest(manifest_text)?;
    let paths: Vec<&str> = files.iter().map(|(path, _)| *path).collect();
    let targets = manifest.targets(&paths);

    let mut code_lines = 0;
    let mut all_rs_lines = 0;
    let mut rs_files = 0;
    let mut unsafe_usage = UnsafeCounts::default();
    let mut roots_seen = 0usize;
    let mut roots_forbidding = 0usize;
    for (path, bytes) in &files {
        if !path.ends_with(".rs") {
            continue;
        }
        let scan = scan_rust(bytes);
        rs_files += 1;
        all_rs_lines += scan.code_lines;
        let is_build_script = targets.build_scripts.iter().any(|b| b == path);
        let is_auxiliary = AUXILIARY_DIRS.iter().any(|dir| path.starts_with(dir));
        if is_build_script || !is_auxiliary {
            unsafe_usage.add(&scan.unsafe_usage);
        }
        if is_build_script || is_auxiliary {
            continue;
        }
        code_lines += scan.code_lines;
        // Dependents compile only the library, so when there is one its root alone decides.
        let is_root = match targets.lib.as_deref() {
            Some(lib) => lib == *path,
            None => targets.bins.iter().any(|b| b == path),
        };
        if is_root {
            roots_seen += 1;
            roots_forbidding += usize::from(scan.unsafe_usage.forbids_unsafe);
        }
    }
    for (path, role) in pulled_in_by_path(&files, &targets)? {
        let Some(bytes) = files.iter().find(|(p, _)| *p == path).map(|(_, b)| *b) else {
            continue;
        };
        let scan = scan_rust(bytes);
        let is_rs = path.ends_with(".rs");
        if !is_rs {
            // Compiled as Rust whatever its name: counted as Rust lines.
            all_rs_lines += scan.code_lines;
        }
        // An auxiliary `.rs` file's unsafe was left out above; anything else was not scanned.
        unsafe_usage.add(&scan.unsafe_usage);
        if role == Role::Library {
            code_lines += scan.code_lines;
        }
    }
    unsafe_usage.forbids_unsafe = roots_seen > 0 && roots_forbidding == roots_seen;

    let build_script = !targets.build_scripts.is_empty();
    Ok(Classification {
        code_lines,
        all_rs_lines,
        rs_files,
        unsafe_usage,
        build_script,
        proc_macro: manifest.proc_macro,
        native: manifest.links.is_some()
            || (build_script && manifest.has_native_build_dependency()),
        links: manifest.links,
    })
}
