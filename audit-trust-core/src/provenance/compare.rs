//! Every file of the tarball against the same path in the commit's tree, by git blob id: a file
//! is hashed the way git hashes it, and only files whose ids differ are read from the repository.

use std::collections::{BTreeMap, HashSet};

use git2::{ObjectType, Oid};
use toml::Value;

use super::manifest_check::compare_manifests;
use super::report::{FileComparison, FileStatus};
use super::tree::{CommitTree, Lookup};
use super::vcs_info::{VCS_INFO_FILE, join, resolve_within_repository};
use crate::tarball::{CrateArchive, CrateFile};

/// Largest repository file read for a comparison (the tarball reader's per-file limit).
const MAX_COMPARED_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct Comparison {
    pub files: Vec<FileComparison>,
    pub only_in_repository: usize,
    pub warnings: Vec<String>,
}

/// Compares `archive` with the package folder `folder` of `tree`.
pub fn compare_files(archive: &CrateArchive, tree: &CommitTree<'_>, folder: &str) -> Comparison {
    let mut comparison = Comparison::default();
    let in_repository = tree.files_under(folder);
    let has_original = archive.get("Cargo.toml.orig").is_some();
    let workspace = tree.workspace_root(folder);
    let outside_files = files_from_outside(archive, folder, workspace.as_ref());
    for file in archive.files() {
        let compared = match file.path.as_str() {
            VCS_INFO_FILE => generated(file, None),
            "Cargo.toml" if has_original => {
                manifest_status(archive, file, workspace.as_ref(), &mut comparison.warnings)
            }
            "Cargo.toml.orig" => {
                let mut result = compare_at(tree, file, &join(folder, "Cargo.toml"));
                result.repository_path = Some(join(folder, "Cargo.toml"));
                result
            }
            // `cargo package` never copies a Cargo.lock: it writes one from the package's own
            // resolve (a workspace's lockfile pruned to this package, its workspace siblings as
            // registry packages), so one that differs from the repository's is not a difference.
            "Cargo.lock" => match tree.resolve(&join(folder, "Cargo.lock")) {
                Lookup::File { .. } => {
                    let compared = compare_at(tree, file, &join(folder, "Cargo.lock"));
                    if compared.status == FileStatus::Identical {
                        compared
                    } else {
                        generated(
                            file,
                            Some(
                                "written by cargo package from the package's own resolve; it \
                                 differs from the repository's Cargo.lock, which cargo does not \
                                 copy",
                            ),
                        )
                    }
                }
                _ => generated(
                    file,
                    Some("written by cargo package; the repository has no Cargo.lock here"),
                ),
            },
            path => {
                let fast = in_repository
                    .get(path)
                    .filter(|entry| !entry.is_symlink && entry.oid == blob_id(&file.contents));
                if fast.is_some() {
                    comparison_of(file, FileStatus::Identical)
                } else {
                    match outside_files.get(path) {
                        Some(Ok(repo_path)) if !in_repository.contains_key(path) => {
                            let mut result = compare_at(tree, file, repo_path);
                            result.repository_path = Some(repo_path.clone());
                            result
                        }
                        Some(Err(note)) if !in_repository.contains_key(path) => {
                            let mut result = comparison_of(file, FileStatus::OnlyInTarball);
                            result.note = Some(note.clone());
                            result
                        }
                        _ => compare_at(tree, file, &join(folder, path)),
                    }
                }
            }
        };
        comparison.files.push(compared);
    }
    let published: HashSet<&str> = archive.files().iter().map(|f| f.path.as_str()).collect();
    comparison.only_in_repository = in_repository
        .keys()
        .filter(|path| !published.contains(path.as_str()))
        .count();
    comparison
}

/// git's id for a blob with these bytes.
pub fn blob_id(bytes: &[u8]) -> Oid {
    Oid::hash_object(ObjectType::Blob, bytes).unwrap_or_else(|_| Oid::zero())
}

fn comparison_of(file: &CrateFile, status: FileStatus) -> FileComparison {
    FileComparison {
        path: file.path.clone(),
        status,
        repository_path: None,
        note: None,
        repository_contents: None,
    }
}

fn generated(file: &CrateFile, note: Option<&str>) -> FileComparison {
    let mut result = comparison_of(file, FileStatus::Generated);
    result.note = note.map(str::to_owned);
    result
}

/// Compares `file` with whatever `repo_path` resolves to in the tree.
fn compare_at(tree: &CommitTree<'_>, file: &CrateFile, repo_path: &str) -> FileComparison {
    let mut result = comparison_of(file, FileStatus::OnlyInTarball);
    match tree.resolve(repo_path) {
        Lookup::File {
            oid,
            path,
            via_symlink,
        } => {
            if via_symlink {
                result.repository_path = Some(path.clone());
                result.note = Some(format!(
                    "`{repo_path}` is a symlink to `{path}` in the repository"
                ));
            }
            if oid == blob_id(&file.contents) {
                result.status = FileStatus::Identical;
                return result;
            }
            let Some(theirs) = tree.read_blob(oid, MAX_COMPARED_BYTES) else {
                result.status = FileStatus::Modified;
                result.note = Some(format!("`{path}` is too large to read from the repository"));
                return result;
            };
            result.status =
                if without_carriage_returns(&theirs) == without_carriage_returns(&file.contents) {
                    FileStatus::LineEndings
                } else {
                    FileStatus::Modified
                };
            result.repository_contents = Some(theirs);
        }
        Lookup::NotFound | Lookup::Directory => {}
        Lookup::OutsideRepository { link, target } => {
            result.note = Some(format!(
                "in the repository `{link}` is a symlink to `{target}`, outside the repository: \
                 never followed"
            ));
        }
        Lookup::InSubmodule { submodule } => {
            result.note = Some(format!(
                "inside the git submodule `{submodule}`, whose files are not checked"
            ));
        }
        Lookup::SymlinkLoop { link } => {
            result.note = Some(format!("`{link}` is part of a symlink loop"));
        }
    }
    result
}

/// CRLF → LF: files equal after this differ only in line endings.
fn without_carriage_returns(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if b == b'\r' && iter.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

/// The normalized `Cargo.toml` is generated; it agrees with `Cargo.toml.orig`, or it does not.
fn manifest_status(
    archive: &CrateArchive,
    file: &CrateFile,
    workspace: Option<&(String, toml::Table)>,
    warnings: &mut Vec<String>,
) -> FileComparison {
    let text = |f: Option<&CrateFile>| {
        f.map(|f| String::from_utf8_lossy(&f.contents).into_owned())
            .unwrap_or_default()
    };
    let paths: Vec<&str> = archive.files().iter().map(|f| f.path.as_str()).collect();
    let check = compare_manifests(
        &text(Some(file)),
        &text(archive.get("Cargo.toml.orig")),
        workspace.map(|(_, table)| table),
        &paths,
    );
    for field in &check.unchecked {
        warnings.push(format!(
            "Cargo.toml: {field} could not be checked against Cargo.toml.orig"
        ));
    }
    if check.disagreements.is_empty() {
        generated(file, None)
    } else {
        let mut result = comparison_of(file, FileStatus::ManifestMismatch);
        result.note = Some(check.disagreements.join("; "));
        result
    }
}

/// README and license files that `readme`/`license-file` take from outside the package folder:
/// cargo puts them at the package root under their file name. Maps that name to the repository
/// path, or to why the path is refused (absolute, or climbing out of the repository).
fn files_from_outside(
    archive: &CrateArchive,
    folder: &str,
    workspace: Option<&(String, toml::Table)>,
) -> BTreeMap<String, Result<String, String>> {
    let mut out = BTreeMap::new();
    let manifest = archive
        .get("Cargo.toml.orig")
        .or_else(|| archive.get("Cargo.toml"))
        .and_then(|f| std::str::from_utf8(&f.contents).ok())
        .and_then(|t| t.parse::<toml::Table>().ok());
    let Some(package) = manifest
        .as_ref()
        .and_then(|m| m.get("package"))
        .and_then(Value::as_table)
    else {
        return out;
    };
    for key in ["readme", "license-file"] {
        let (base, value) = match package.get(key) {
            Some(Value::String(path)) => (folder.to_owned(), path.clone()),
            Some(Value::Table(t)) if t.get("workspace").and_then(Value::as_bool) == Some(true) => {
                let Some((root, table)) = workspace else {
                    continue;
                };
                let inherited = table
                    .get("workspace")
                    .and_then(|w| w.get("package"))
                    .and_then(|p| p.get(key))
                    .and_then(Value::as_str);
                match inherited {
                    Some(path) => (root.clone(), path.to_owned()),
                    None => continue,
                }
            }
            _ => continue,
        };
        let Some(name) = value.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()) else {
            continue;
        };
        // Consulted only for a file that is not in the package folder itself.
        let resolved = resolve_within_repository(&base, &value).ok_or_else(|| {
            format!("`{key} = {value:?}` points outside the repository: never followed")
        });
        out.insert(name.to_owned(), resolved);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n").to_string(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn only_crlf_pairs_are_line_endings() {
        assert_eq!(without_carriage_returns(b"a\r\nb\r\n"), b"a\nb\n");
        assert_eq!(without_carriage_returns(b"a\rb"), b"a\rb");
    }
}
