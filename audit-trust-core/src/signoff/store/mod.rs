//! The local sign-off store: a folder next to `Cargo.audit`, committed with the project.
//!
//! ```text
//! sign-offs/
//!   crates/serde.jsonl        one record per line, oldest first; one file per crate (lowercase)
//!   crates/tokio-util.jsonl
//!   heads/<key in hex>.json   the latest signed head of each key
//!   .lock, .gitignore         the writers' lock (ignored by git)
//! ```
//!
//! Files are only ever appended to, through a temporary file renamed into place under an
//! exclusive lock, so concurrent writers lose nothing and readers never see a torn file. Crate
//! names are validated before they become file names, and one file holds one spelling only.

mod append;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::PublicKey;
use super::head::SignedHead;
use super::record::RecordId;
use super::rejection::Rejection;
use super::signed::SignedRecord;
use crate::Error;
use crate::lock::FolderLock;
use crate::names::validate_crate_name;

/// A crate file larger than this is refused (about 20,000 records).
const MAX_CRATE_FILE_BYTES: u64 = 32 * 1024 * 1024;
const MAX_HEAD_FILE_BYTES: u64 = 4096;
pub(crate) const CRATES_DIR: &str = "crates";
pub(super) const HEADS_DIR: &str = "heads";

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

/// Where an item of a store is: a file, and for records a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub record: SignedRecord,
    pub location: Location,
}

/// Everything a store holds whose signature checks out, and what did not.
#[derive(Debug, Default)]
pub struct StoreContents {
    pub records: Vec<StoredRecord>,
    pub heads: BTreeMap<PublicKey, SignedHead>,
    pub problems: Vec<(Location, Rejection)>,
    /// Lines among `problems` that read as a flag: nothing of them can be trusted, but a flag
    /// that does not verify is worth a louder report than any other broken line.
    pub possible_flags: Vec<PossibleFlag>,
}

/// A line that does not verify but says it flags `name@version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PossibleFlag {
    pub location: Location,
    pub name: String,
    pub version: String,
}

/// The crate and version a record line that failed to verify says it flags, if it says so.
fn claimed_flag(line: &str) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("kind")?.as_str()? != "flag" {
        return None;
    }
    let subject = value.get("crate").or_else(|| value.get("git"))?;
    let name = subject.get("name")?.as_str()?;
    let version = subject.get("version")?.as_str()?;
    validate_crate_name(name).ok()?;
    // Only a real version is repeated in a report.
    semver::Version::parse(version).ok()?;
    Some((name.to_owned(), version.to_owned()))
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalStore {
        LocalStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds a crate's records. The name is validated first: it comes from
    /// records, which are input.
    pub fn crate_file(&self, crate_name: &str) -> Result<PathBuf, Error> {
        validate_crate_name(crate_name).map_err(|e| Error::Store {
            path: self.root.clone(),
            message: e.to_string(),
        })?;
        Ok(self
            .root
            .join(CRATES_DIR)
            .join(format!("{}.jsonl", crate_name.to_ascii_lowercase())))
    }

    fn head_file(&self, key: &PublicKey) -> PathBuf {
        self.root
            .join(HEADS_DIR)
            .join(format!("{}.json", key.hex()))
    }

    /// The record of `key` whose id starts with `prefix` (at least 8 hex digits, as git
    /// abbreviates commits), if exactly one record of that key in the store has such an id.
    pub fn find_record_by_prefix(&self, prefix: &str, key: &PublicKey) -> Result<RecordId, Error> {
        let prefix = prefix.trim().to_ascii_lowercase();
        let error = |message: String| Error::Store {
            path: self.root.clone(),
            message,
        };
        if prefix.len() < 8 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(error(format!(
                "`{}` is not a record id: give at least 8 of its hex digits",
                prefix.escape_default()
            )));
        }
        let contents = self.read()?;
        // A set: a line repeated by a git merge is still one record.
        let matching: std::collections::BTreeSet<RecordId> = contents
            .records
            .iter()
            .filter(|r| r.record.key() == key)
            .map(|r| r.record.id())
            .filter(|id| id.to_string().starts_with(&prefix))
            .collect();
        let matching: Vec<RecordId> = matching.into_iter().collect();
        match matching.as_slice() {
            [one] => Ok(*one),
            [] => Err(error(format!("no record {prefix}… of {key} in this store"))),
            many => Err(error(format!(
                "{} records start with {prefix}: give more digits",
                many.len()
            ))),
        }
    }

    /// Reads the whole store. A missing folder is an empty store. Waits for writers to finish,
    /// so what is read is consistent.
    pub fn read(&self) -> Result<StoreContents, Error> {
        if !self.root.is_dir() {
            return Ok(StoreContents::default());
        }
        let _lock = FolderLock::shared(&self.root)?;
        self.read_unlocked()
    }

    fn read_unlocked(&self) -> Result<StoreContents, Error> {
        let mut contents = StoreContents::default();
        for path in list(&self.root.join(CRATES_DIR))? {
            let Some(crate_name) = crate_name_of(&path) else {
                contents.problems.push((
                    Location { path, line: None },
                    Rejection::Malformed(
                        "not a crate file: crate files are named `<crate name in lowercase>.jsonl`"
                            .into(),
                    ),
                ));
                continue;
            };
            read_crate_file(&path, &crate_name, &mut contents)?;
        }
        for path in list(&self.root.join(HEADS_DIR))? {
            let location = Location {
                path: path.clone(),
                line: None,
            };
            let text = read_bounded(&path, MAX_HEAD_FILE_BYTES)?;
            match SignedHead::from_json(&text) {
                Ok(head) if self.head_file(&head.head().key) == path => {
                    contents.heads.insert(head.head().key, head);
                }
                Ok(_) => contents.problems.push((
                    location,
                    Rejection::Malformed("a head in the file of another key".into()),
                )),
                Err(rejection) => contents.problems.push((location, rejection)),
            }
        }
        Ok(contents)
    }
}

fn read_crate_file(
    path: &Path,
    crate_name: &str,
    contents: &mut StoreContents,
) -> Result<(), Error> {
    let text = read_bounded(path, MAX_CRATE_FILE_BYTES)?;
    let mut spelling: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let location = Location {
            path: path.to_owned(),
            line: Some(i + 1),
        };
        let record = match SignedRecord::from_json_line(line) {
            Ok(r) => r,
            Err(rejection) => {
                if let Some((name, version)) = claimed_flag(line) {
                    contents.possible_flags.push(PossibleFlag {
                        location: location.clone(),
                        name,
                        version,
                    });
                }
                contents.problems.push((location, rejection));
                continue;
            }
        };
        // A record about another crate (or another spelling of this one) is in the wrong file.
        if let Some(subject) = record.record().statement.subject() {
            let name = subject.name();
            let first = spelling.get_or_insert_with(|| name.to_owned());
            if name.to_ascii_lowercase() != crate_name || name != first {
                contents.problems.push((
                    location,
                    Rejection::Malformed(format!(
                        "a record about `{name}` in the file of `{first}`"
                    )),
                ));
                continue;
            }
        }
        contents.records.push(StoredRecord { record, location });
    }
    Ok(())
}

/// The crate name a file is for: `<valid lowercase crate name>.jsonl`.
fn crate_name_of(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_suffix(".jsonl")?;
    (validate_crate_name(stem).is_ok() && stem == stem.to_ascii_lowercase())
        .then(|| stem.to_owned())
}

/// Regular files of a folder, sorted; hidden files (the lock, temporary files) are skipped.
fn list(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let is_file = entry.file_type().map_err(|e| Error::io(dir, e))?.is_file();
        if !hidden && is_file {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

fn read_bounded(path: &Path, max: u64) -> Result<String, Error> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::Store {
            path: path.to_owned(),
            message: format!("larger than {max} bytes"),
        });
    }
    String::from_utf8(bytes).map_err(|_| Error::Store {
        path: path.to_owned(),
        message: "not UTF-8 text".into(),
    })
}
