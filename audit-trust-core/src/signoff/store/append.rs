//! Appending records and the key's new head, under the store's exclusive lock.
//!
//! Each file is rewritten whole through a temporary file and a rename, so a reader sees the old
//! or the new file, never half of one. Records go first, the head last: a crash in between
//! leaves records the head does not cover yet, which readers refuse (fail closed) and the next
//! append repairs by signing a head over everything present.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use super::{LocalStore, StoreContents};
use crate::Error;
use crate::lock::FolderLock;
use crate::signoff::head::{Head, SignedHead};
use crate::signoff::record::{RecordId, Statement};
use crate::signoff::signed::SignedRecord;
use crate::signoff::{PublicKey, SigningKey};
use crate::time::Timestamp;

impl LocalStore {
    /// Appends `records` (all signed by `key`; ones already present are skipped) and a new head
    /// of `key` over all its records, valid for `head_lifetime_days`. Returns the new head.
    pub fn append(
        &self,
        records: &[SignedRecord],
        key: &SigningKey,
        now: Timestamp,
        head_lifetime_days: i64,
    ) -> Result<SignedHead, Error> {
        let public = key.public_key();
        if records.iter().any(|r| r.key() != &public) {
            return Err(
                self.error("every appended record must be signed by the key that signs the head")
            );
        }
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))?;
        ensure_gitignore(&self.root)?;
        let _lock = FolderLock::exclusive(&self.root)?;
        let contents = self.read_unlocked()?;

        let mut ids: BTreeSet<RecordId> = contents
            .records
            .iter()
            .filter(|r| r.record.key() == &public)
            .map(|r| r.record.id())
            .collect();
        let previous = contents.heads.get(&public).map(SignedHead::head);
        if let Some(previous) = previous {
            // Fewer records than the last head covered: some were deleted. Signing a head over
            // what is left would bless the deletion.
            if (ids.len() as u64) < previous.count {
                return Err(self.error(&format!(
                    "the store holds {} of {public}, but its head #{} covers {}: records \
                     were removed; restore them (for example from git) before signing more",
                    crate::words::plural(ids.len() as u64, "record", "records"),
                    previous.sequence,
                    previous.count
                )));
            }
        }

        let mut planned = Planned::default();
        for record in records {
            if !ids.insert(record.id()) {
                continue;
            }
            self.check_revocation(record, &contents)?;
            let file = self.file_for(record, &contents, &planned.files)?;
            planned.add(file, record);
        }
        planned.write()?;
        let head = Head::next(previous, public, &ids, now, head_lifetime_days);
        let head = SignedHead::sign(head, key).map_err(|m| self.error(&m))?;
        write_store_file(&self.head_file(&public), head.to_json().as_bytes())?;
        Ok(head)
    }

    /// The crate file a record goes to: its crate's; for a revocation, the file of the record
    /// it revokes, so the two are read together.
    fn file_for(
        &self,
        record: &SignedRecord,
        contents: &StoreContents,
        planned: &HashMap<RecordId, PathBuf>,
    ) -> Result<PathBuf, Error> {
        let name = match &record.record().statement {
            Statement::Revocation { revokes, .. } => {
                if let Some(file) = planned.get(revokes) {
                    return Ok(file.clone());
                }
                let target = contents
                    .records
                    .iter()
                    .find(|r| r.record.id() == *revokes)
                    .ok_or_else(|| {
                        self.error(&format!("no record {revokes} in this store to revoke"))
                    })?;
                return Ok(target.location.path.clone());
            }
            Statement::SignOff { subject, .. } | Statement::Flag { subject, .. } => subject.name(),
        };
        // Case-only collisions: `Serde` and `serde` would share one file (and collide on
        // case-insensitive file systems); the first spelling in the file wins.
        let file = self.crate_file(name)?;
        let existing = contents.records.iter().find_map(|r| {
            let subject = r.record.record().statement.subject()?;
            (r.location.path == file).then(|| subject.name().to_owned())
        });
        if let Some(existing) = existing
            && existing != name
        {
            return Err(self.error(&format!(
                "`{name}` differs from `{existing}` only in case; crate names are unique \
                 regardless of case"
            )));
        }
        Ok(file)
    }

    /// What this tool refuses to sign, though a store may hold it (a mirror keeps whatever its
    /// source served): a revocation of another key's record, which clients ignore, and a
    /// second revocation of one record.
    fn check_revocation(
        &self,
        record: &SignedRecord,
        contents: &StoreContents,
    ) -> Result<(), Error> {
        let Statement::Revocation { revokes, .. } = &record.record().statement else {
            return Ok(());
        };
        let Some(target) = contents.records.iter().find(|r| r.record.id() == *revokes) else {
            // `file_for` reports the missing target.
            return Ok(());
        };
        // Clients apply a revocation only to its own key's records: one of another
        // key would be stored and count for nothing.
        if target.record.key() != record.key() {
            return Err(self.error(&format!(
                "record {revokes} was signed by {}, not by {}: a revocation withdraws \
                 only its own key's records",
                target.record.key(),
                record.key()
            )));
        }
        // A second revocation changes nothing and would read as a dispute in the
        // history; the first one already withdrew the record.
        let earlier = contents.records.iter().find(|r| {
            r.record.key() == record.key()
                && matches!(&r.record.record().statement,
                    Statement::Revocation { revokes: other, .. } if other == revokes)
        });
        if let Some(earlier) = earlier {
            return Err(self.error(&format!(
                "record {revokes} is already revoked, by record {}",
                earlier.record.id()
            )));
        }
        Ok(())
    }

    fn error(&self, message: &str) -> Error {
        Error::Store {
            path: self.root.clone(),
            message: message.to_owned(),
        }
    }
}

impl LocalStore {
    /// Adds records and a head as another source served them, without signing anything: a
    /// local mirror of a registry. Nothing is trusted here; the mirror is verified like any
    /// store when read. Records whose file cannot be determined (a revocation of a record the
    /// source did not serve) are left out, which the head check then reports.
    pub fn import(&self, records: &[SignedRecord], head: Option<&SignedHead>) -> Result<(), Error> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let _lock = FolderLock::exclusive(&self.root)?;
        let contents = self.read_unlocked()?;
        let mut present: std::collections::HashSet<RecordId> =
            contents.records.iter().map(|r| r.record.id()).collect();
        let mut planned = Planned::default();
        // Targets before the revocations that name them.
        let (revocations, others): (Vec<&SignedRecord>, Vec<&SignedRecord>) = records
            .iter()
            .partition(|r| matches!(r.record().statement, Statement::Revocation { .. }));
        for record in others.into_iter().chain(revocations) {
            if !present.insert(record.id()) {
                continue;
            }
            if let Ok(file) = self.file_for(record, &contents, &planned.files) {
                planned.add(file, record);
            }
        }
        planned.write()?;
        if let Some(head) = head {
            write_store_file(&self.head_file(&head.head().key), head.to_json().as_bytes())?;
        }
        Ok(())
    }
}

impl LocalStore {
    /// Keeps a head that a remote source served for `key` but that does not verify, in place
    /// of the mirror's head, so that reading the mirror reports an unreadable head for the key
    /// instead of no head at all (which a fresh cache would take for a key that never signed).
    /// What is kept never parses: a marker line followed by at most a bounded piece of the text.
    pub fn import_unverified_head(&self, key: &PublicKey, served: &str) -> Result<(), Error> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let _lock = FolderLock::exclusive(&self.root)?;
        // Bounded in bytes, well under what the store reads for a head file: a longer file
        // would make the whole mirror unreadable, for every auditor it serves.
        let mut text = String::from("unverified head served by the source\n");
        let mut end = served.len().min(1024);
        while !served.is_char_boundary(end) {
            end -= 1;
        }
        text.push_str(&served[..end]);
        write_store_file(&self.head_file(key), text.as_bytes())
    }
}

/// Lines to append, per file, and the file each new record went to.
#[derive(Default)]
struct Planned {
    lines: BTreeMap<PathBuf, Vec<String>>,
    files: HashMap<RecordId, PathBuf>,
}

impl Planned {
    fn add(&mut self, file: PathBuf, record: &SignedRecord) {
        self.files.insert(record.id(), file.clone());
        self.lines
            .entry(file)
            .or_default()
            .push(record.to_json_line());
    }

    fn write(&self) -> Result<(), Error> {
        for (file, lines) in &self.lines {
            append_lines(file, lines)?;
        }
        Ok(())
    }
}

/// Rewrites `file` with `lines` added at the end (through a renamed temporary file).
fn append_lines(file: &std::path::Path, lines: &[String]) -> Result<(), Error> {
    let mut bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(file, e)),
    };
    if bytes.last().is_some_and(|&b| b != b'\n') {
        bytes.push(b'\n');
    }
    for line in lines {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    write_store_file(file, &bytes)
}

/// Writes through a synced temporary file renamed into place. Store files are shared (and
/// committed), so they get the usual permissions rather than a temporary file's private ones.
fn write_store_file(target: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let dir = target.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // The process umask still applies, as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(target)
        .map_err(|e| Error::io(target, e.error))?;
    Ok(())
}

/// The lock file is local state, not something to commit.
fn ensure_gitignore(root: &std::path::Path) -> Result<(), Error> {
    let path = root.join(".gitignore");
    if path.exists() {
        return Ok(());
    }
    write_store_file(&path, b"/.lock\n")
}
