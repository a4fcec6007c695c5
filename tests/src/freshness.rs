//! Whether a built binary is older than its sources, judged from the dep-info file cargo writes
//! beside it (`target/<profile>/NAME.d`): one Makefile-style rule whose prerequisites are the
//! source files of the binary's package and of its path dependencies, the files cargo itself
//! watches to decide a rebuild. Registry dependencies never change in place, and cargo leaves
//! them out.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// `Ok` when every source the binary was built from is older than the binary; otherwise why not
/// (the newest changed or missing source, or an unreadable dep-info file).
pub(crate) fn check(binary: &Path) -> Result<(), String> {
    let built = modified(binary).ok_or("cannot read its modification time")?;
    let dep_info = binary.with_extension("d");
    let sources = match fs::read_to_string(&dep_info) {
        Ok(text) => prerequisites(&text),
        // `cargo test` builds the binaries integration tests need without writing the
        // dep-info beside them (only `cargo build` does): compare with every file of the
        // binary's package and of the core library it is built on instead.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => package_sources(binary)?,
        Err(e) => {
            return Err(format!(
                "cannot read cargo's dep-info file {} ({e}), so its sources cannot be compared",
                dep_info.display()
            ));
        }
    };
    if sources.is_empty() {
        return Err(format!("{} lists no sources", dep_info.display()));
    }
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for source in sources {
        let Some(changed) = modified(&source) else {
            return Err(format!("its source {} is gone", source.display()));
        };
        if changed > built && newest.as_ref().is_none_or(|(t, _)| changed > *t) {
            newest = Some((changed, source));
        }
    }
    match newest {
        None => Ok(()),
        Some((_, source)) => Err(format!("{} changed after it was built", source.display())),
    }
}

/// The workspace's own sources a binary of this workspace is built from: its package's folder
/// (named like the binary) and `audit-trust-core`'s, each `src/` and `Cargo.toml`.
fn package_sources(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let root = workspace_root();
    let name = binary
        .file_stem()
        .and_then(|n| n.to_str())
        .ok_or("its name is not UTF-8")?;
    let mut out = Vec::new();
    for package in [name, "audit-trust-core"] {
        let dir = root.join(package);
        if !dir.join("Cargo.toml").is_file() {
            return Err(format!(
                "no dep-info beside it, and no package folder {} to compare with",
                dir.display()
            ));
        }
        out.push(dir.join("Cargo.toml"));
        collect_files(&dir.join("src"), &mut out);
    }
    Ok(out)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect_files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("/"))
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The prerequisites of the dep-info rule(s) in `text`: after each target's `: `, paths separated
/// by spaces, a space inside a path written `\ `. Relative paths (`build.dep-info-basedir`) are
/// taken from the workspace root.
fn prerequisites(text: &str) -> Vec<PathBuf> {
    let root = workspace_root();
    let mut out = Vec::new();
    for line in text.lines() {
        // `C:\…` has a colon too, but never one followed by a space.
        let Some((_, deps)) = line.split_once(": ") else {
            continue;
        };
        let mut current = String::new();
        let mut chars = deps.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    current.push(' ');
                    chars.next();
                }
                ' ' => {
                    if !current.is_empty() {
                        out.push(root.join(std::mem::take(&mut current)));
                    }
                }
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            out.push(root.join(current));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prerequisites_are_read_with_escaped_spaces() {
        let text = "/t/debug/bin: /w/src/main.rs /w/my\\ dir/lib.rs\n\n/w/src/main.rs:\n";
        assert_eq!(
            prerequisites(text),
            [
                PathBuf::from("/w/my dir/lib.rs"),
                PathBuf::from("/w/src/main.rs")
            ]
        );
    }

    #[test]
    fn a_source_newer_than_the_binary_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("main.rs");
        fs::write(&source, "fn main() {}\n").expect("write");
        let binary = dir.path().join("bin");
        fs::write(&binary, "").expect("write");
        fs::write(
            dir.path().join("bin.d"),
            format!("{}: {}\n", binary.display(), source.display()),
        )
        .expect("write");
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let at = |path: &Path, time: SystemTime| {
            fs::File::options()
                .write(true)
                .open(path)
                .and_then(|f| f.set_modified(time))
                .expect("set mtime");
        };
        at(&source, old);
        at(&binary, old + std::time::Duration::from_secs(60));
        assert_eq!(check(&binary), Ok(()));
        at(&source, old + std::time::Duration::from_secs(120));
        let why = check(&binary).expect_err("stale");
        assert!(why.contains("main.rs changed after it was built"), "{why}");
        fs::remove_file(&source).expect("remove");
        assert!(check(&binary).expect_err("gone").contains("is gone"));
    }

    /// Without dep-info (a `cargo test` build), the binary is compared with its package's and
    /// the core's sources in this checkout.
    #[test]
    fn without_dep_info_the_package_sources_are_compared() {
        let dir = tempfile::tempdir().expect("temp dir");
        let binary = dir.path().join("cargo-audit-trust");
        fs::write(&binary, "").expect("write");
        let set = |time: SystemTime| {
            fs::File::options()
                .write(true)
                .open(&binary)
                .and_then(|f| f.set_modified(time))
                .expect("set mtime");
        };
        set(SystemTime::now() + std::time::Duration::from_secs(3_600));
        assert_eq!(check(&binary), Ok(()));
        set(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000));
        let why = check(&binary).expect_err("stale");
        assert!(why.contains("changed after it was built"), "{why}");
        let unknown = dir.path().join("not-a-package");
        fs::write(&unknown, "").expect("write");
        let why = check(&unknown).expect_err("no package");
        assert!(why.contains("no package folder"), "{why}");
    }
}
