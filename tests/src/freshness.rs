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
    let text = fs::read_to_string(&dep_info).map_err(|e| {
        format!(
            "cannot read cargo's dep-info file {} ({e}), so its sources cannot be compared",
            dep_info.display()
        )
    })?;
    let sources = prerequisites(&text);
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

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The prerequisites of the dep-info rule(s) in `text`: after each target's `: `, paths separated
/// by spaces, a space inside a path written `\ `. Relative paths (`build.dep-info-basedir`) are
/// taken from the workspace root.
fn prerequisites(text: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("/"));
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
}
