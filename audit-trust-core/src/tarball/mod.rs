//! Safe, in-memory reading of `.crate` files (gzip-compressed tar archives as published on
//! crates.io).
//!
//! Every archive is treated as hostile: nothing is written to disk, every path is checked before
//! it is trusted, only regular files and directories are accepted, and the decompressed stream is
//! capped as it is read (not only by what the headers declare), so a gzip bomb or a lying header
//! costs at most [`Limits::max_total_bytes`] of work.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fmt;
use std::io::{self, Read};

// `bufread::GzDecoder` reads straight from the input slice (which already implements `BufRead`),
// sparing the extra buffer and copy that `read::GzDecoder` would add.
//
// Why not `MultiGzDecoder`: cargo writes a single gzip member, and cargo itself unpacks crates
// with `GzDecoder`, which stops at the end of the first member. An audit must see exactly the
// files cargo would build, so anything hidden after the first member must stay invisible here
// too, as it is to cargo.
use flate2::bufread::GzDecoder;
use tar::Archive;

mod paths;

use paths::{decode_path, entry_kind, relative_path};

#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod tests;

const MIB: u64 = 1024 * 1024;

/// Upper bounds on the work one archive may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Decompressed bytes of the whole tar stream: headers, padding and file data.
    pub max_total_bytes: u64,
    /// Size of any one file.
    pub max_file_bytes: u64,
    /// Entries in the archive, directories included.
    pub max_entries: usize,
}

impl Default for Limits {
    /// Far above any real crate (crates.io refuses uploads over 10 MiB compressed) while keeping
    /// a hostile archive from exhausting memory.
    fn default() -> Self {
        Limits {
            max_total_bytes: 512 * MIB,
            max_file_bytes: 64 * MIB,
            max_entries: 50_000,
        }
    }
}

/// One regular file of a crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateFile {
    /// Relative to the `NAME-VERSION/` directory, `/`-separated, e.g. `src/lib.rs`.
    pub path: String,
    pub contents: Vec<u8>,
    /// Any of the execute bits is set in the entry's mode.
    pub executable: bool,
}

/// The files of a crate, sorted by path. Directories are not listed: they are implied by paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrateArchive {
    files: Vec<CrateFile>,
    total_bytes: u64,
    decompressed_bytes: u64,
}

impl CrateArchive {
    /// All files, sorted by path (byte order).
    pub fn files(&self) -> &[CrateFile] {
        &self.files
    }

    /// The file at `path` (relative to `NAME-VERSION/`, e.g. `Cargo.toml`).
    pub fn get(&self, path: &str) -> Option<&CrateFile> {
        self.files
            .binary_search_by(|file| file.path.as_str().cmp(path))
            .ok()
            .map(|index| &self.files[index])
    }

    /// Sum of the sizes of all files.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Size of the whole decompressed tar stream (headers and padding included).
    pub fn decompressed_bytes(&self) -> u64 {
        self.decompressed_bytes
    }

    /// The files, sorted by path, without copying them.
    pub fn into_files(self) -> Vec<CrateFile> {
        self.files
    }
}

/// Where in the archive a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Before any entry could be read (gzip header, first tar header).
    Start,
    /// While reading the data of this entry (full path as stored in the archive).
    InEntry(String),
    /// Between this entry and the next one (e.g. the next header).
    AfterEntry(String),
    /// After the tar end marker, in the rest of the gzip stream.
    Trailer,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Start => f.write_str("at the start of the archive"),
            Location::InEntry(path) => write!(f, "in entry `{path}`"),
            Location::AfterEntry(path) => write!(f, "after entry `{path}`"),
            Location::Trailer => f.write_str("after the last entry"),
        }
    }
}

/// Why a `.crate` file was refused. Paths are the full entry paths as stored in the archive.
#[derive(Debug, thiserror::Error)]
pub enum TarballError {
    #[error("the gzip or tar data is corrupt or truncated ({location}): {source}")]
    Corrupt {
        location: Location,
        #[source]
        source: io::Error,
    },

    #[error(
        "the archive decompresses to more than the limit of {limit} bytes \
         (limit reached {location}); it may be a decompression bomb"
    )]
    TotalSizeExceeded { limit: u64, location: Location },

    #[error("entry `{path}` is {size} bytes, more than the limit of {limit} bytes for one file")]
    FileTooLarge { path: String, size: u64, limit: u64 },

    #[error("the archive has more than the limit of {limit} entries (`{path}` is one too many)")]
    TooManyEntries { path: String, limit: usize },

    #[error("an entry's path is not valid UTF-8: `{path}` (invalid bytes shown as \u{FFFD})")]
    NonUtf8Path { path: String },

    #[error("entry `{path}` has an absolute path; entries must be relative")]
    AbsolutePath { path: String },

    #[error("entry `{path}` contains a `..` component, which could reach outside the crate")]
    PathTraversal { path: String },

    #[error("entry `{path}` has an unsafe path: it contains {reason}")]
    UnsafePath { path: String, reason: String },

    #[error(
        "entry `{path}` is not inside the `{prefix}/` directory that every entry of this crate \
         must be in"
    )]
    OutsidePrefix { path: String, prefix: String },

    #[error("entry `{path}` is {kind}; only regular files and directories are allowed")]
    ForbiddenEntryType { path: String, kind: String },

    #[error("entry `{path}` appears more than once in the archive")]
    DuplicatePath { path: String },

    #[error(
        "entry `{path}` conflicts with another entry: `{conflict}` is used both as a file and as a directory"
    )]
    PathConflict { path: String, conflict: String },
}

/// Reads the `.crate` file `gz_bytes` of crate `name` version `version` entirely into memory,
/// checking every entry (see [`TarballError`] for what is refused).
pub fn read_crate(
    gz_bytes: &[u8],
    name: &str,
    version: &str,
    limits: &Limits,
) -> Result<CrateArchive, TarballError> {
    let prefix = format!("{name}-{version}");
    let mut stream = CappedReader::new(GzDecoder::new(gz_bytes), limits.max_total_bytes);

    let files = read_entries(&mut stream, &prefix, limits)
        .and_then(|files| drain_trailer(&mut stream).map(|()| files))
        .map_err(|error| stream.blame_limit_if_reached(error))?;

    Ok(CrateArchive {
        total_bytes: files.iter().map(|file| file.contents.len() as u64).sum(),
        decompressed_bytes: stream.consumed,
        files: sorted(files),
    })
}

fn read_entries<R: Read>(
    stream: &mut R,
    prefix: &str,
    limits: &Limits,
) -> Result<Vec<CrateFile>, TarballError> {
    let mut archive = Archive::new(stream);
    let mut collector = Collector::new(prefix, limits);
    let entries = archive.entries().map_err(|source| TarballError::Corrupt {
        location: Location::Start,
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| TarballError::Corrupt {
            location: collector.location_after_last_entry(),
            source,
        })?;
        collector.add(entry)?;
    }
    Ok(collector.files)
}

/// Reads the rest of the gzip stream after the tar end marker: this verifies the gzip checksum
/// (so a damaged or truncated file is caught even when the damage is past the last entry), and
/// counts any padding or hidden data against the size limit.
fn drain_trailer<R: Read>(stream: &mut R) -> Result<(), TarballError> {
    io::copy(stream, &mut io::sink())
        .map(|_| ())
        .map_err(|source| TarballError::Corrupt {
            location: Location::Trailer,
            source,
        })
}

fn sorted(mut files: Vec<CrateFile>) -> Vec<CrateFile> {
    // Paths are unique (duplicates are refused), so an unstable sort is deterministic.
    files.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Counts the bytes read from `inner` and fails every read once more than `cap` bytes have come
/// out, so the limit holds for what is actually decompressed, whatever the headers claim.
struct CappedReader<R> {
    inner: R,
    consumed: u64,
    cap: u64,
}

impl<R> CappedReader<R> {
    fn new(inner: R, cap: u64) -> Self {
        CappedReader {
            inner,
            consumed: 0,
            cap,
        }
    }

    fn limit_reached(&self) -> bool {
        self.consumed > self.cap
    }

    /// The tar crate reports our refusal as an I/O error somewhere inside its own; turn it back
    /// into the size error it really is, keeping the location.
    fn blame_limit_if_reached(&self, error: TarballError) -> TarballError {
        match error {
            TarballError::Corrupt { location, .. } if self.limit_reached() => {
                TarballError::TotalSizeExceeded {
                    limit: self.cap,
                    location,
                }
            }
            other => other,
        }
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.limit_reached() {
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        // Ask for at most one byte past the cap: enough to notice the overflow without
        // decompressing more than needed.
        // (`consumed <= cap` here; saturating for a cap of `u64::MAX`.)
        let allowed = (self.cap - self.consumed).saturating_add(1);
        let len = usize::try_from(allowed).map_or(buf.len(), |allowed| allowed.min(buf.len()));
        let read = self.inner.read(&mut buf[..len])?;
        self.consumed += read as u64;
        if self.limit_reached() {
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        Ok(read)
    }
}

/// What an accepted entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Directory,
}

/// Checks entries one by one and keeps the files.
struct Collector<'p> {
    prefix: &'p str,
    limits: &'p Limits,
    entries_seen: usize,
    last_entry: Option<String>,
    claims: PathClaims,
    files: Vec<CrateFile>,
}

impl<'p> Collector<'p> {
    fn new(prefix: &'p str, limits: &'p Limits) -> Self {
        Collector {
            prefix,
            limits,
            entries_seen: 0,
            last_entry: None,
            claims: PathClaims::default(),
            files: Vec::new(),
        }
    }

    fn location_after_last_entry(&self) -> Location {
        match &self.last_entry {
            Some(path) => Location::AfterEntry(path.clone()),
            None => Location::Start,
        }
    }

    fn add<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), TarballError> {
        let path = decode_path(&entry.path_bytes())?;
        self.count_entry(&path)?;
        let kind = entry_kind(&entry, &path)?;
        let relative = relative_path(&path, self.prefix, kind)?;
        self.last_entry = Some(path.clone());

        // The `NAME-VERSION/` directory itself: nothing to record.
        if relative.is_empty() {
            return Ok(());
        }
        self.claims.claim(relative, kind, &path, self.prefix)?;
        if kind == EntryKind::File {
            let file = read_file(&mut entry, relative, &path, self.limits)?;
            self.files.push(file);
        }
        Ok(())
    }

    fn count_entry(&mut self, path: &str) -> Result<(), TarballError> {
        self.entries_seen += 1;
        if self.entries_seen > self.limits.max_entries {
            return Err(TarballError::TooManyEntries {
                path: path.to_owned(),
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }
}

/// Remembers every path seen (and the directories they imply) to refuse duplicates and paths
/// that would need one name to be both a file and a directory.
#[derive(Default)]
struct PathClaims {
    claims: HashMap<String, Claim>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    File,
    Directory,
    /// A parent of some entry, without an entry of its own (yet).
    ImpliedDirectory,
}

impl PathClaims {
    fn claim(
        &mut self,
        relative: &str,
        kind: EntryKind,
        path: &str,
        prefix: &str,
    ) -> Result<(), TarballError> {
        let conflict = |other: &str| TarballError::PathConflict {
            path: path.to_owned(),
            conflict: format!("{prefix}/{other}"),
        };
        self.claim_parents(relative).map_err(conflict)?;
        match self.claims.entry(relative.to_owned()) {
            MapEntry::Vacant(vacant) => {
                vacant.insert(match kind {
                    EntryKind::File => Claim::File,
                    EntryKind::Directory => Claim::Directory,
                });
                Ok(())
            }
            MapEntry::Occupied(mut occupied) => match (*occupied.get(), kind) {
                // A directory entry that comes after its contents: normal.
                (Claim::ImpliedDirectory, EntryKind::Directory) => {
                    occupied.insert(Claim::Directory);
                    Ok(())
                }
                (Claim::ImpliedDirectory, EntryKind::File) => Err(conflict(relative)),
                (Claim::File | Claim::Directory, _) => Err(TarballError::DuplicatePath {
                    path: path.to_owned(),
                }),
            },
        }
    }

    /// Marks every parent directory of `relative` as a directory; on conflict returns the parent
    /// that is already a file.
    fn claim_parents<'r>(&mut self, relative: &'r str) -> Result<(), &'r str> {
        // Deepest parent first: once one is known as a directory, so are all of its parents.
        for (slash, _) in relative.rmatch_indices('/') {
            let parent = &relative[..slash];
            match self.claims.get(parent) {
                Some(Claim::File) => return Err(parent),
                Some(Claim::Directory | Claim::ImpliedDirectory) => return Ok(()),
                None => {
                    self.claims
                        .insert(parent.to_owned(), Claim::ImpliedDirectory);
                }
            }
        }
        Ok(())
    }
}

/// Reads one file's data, refusing it before reading if its declared size is over the limit.
fn read_file<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    relative: &str,
    path: &str,
    limits: &Limits,
) -> Result<CrateFile, TarballError> {
    let corrupt = |source: io::Error| TarballError::Corrupt {
        location: Location::InEntry(path.to_owned()),
        source,
    };
    let declared = entry.size();
    let too_large = || TarballError::FileTooLarge {
        path: path.to_owned(),
        size: declared,
        limit: limits.max_file_bytes,
    };
    if declared > limits.max_file_bytes {
        return Err(too_large());
    }
    // The whole stream includes this file's data, so a larger claim can never fit: refuse it
    // before reserving memory for it.
    if declared > limits.max_total_bytes {
        return Err(TarballError::TotalSizeExceeded {
            limit: limits.max_total_bytes,
            location: Location::InEntry(path.to_owned()),
        });
    }
    let capacity = usize::try_from(declared).map_err(|_| too_large())?;
    let executable = entry.header().mode().map_err(corrupt)? & 0o111 != 0;

    // Exactly the declared size: the data is decompressed straight into its final buffer, once.
    let mut contents = Vec::with_capacity(capacity);
    entry.read_to_end(&mut contents).map_err(corrupt)?;
    if contents.len() != capacity {
        return Err(corrupt(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the data ends after {} of the {declared} bytes the header declares",
                contents.len()
            ),
        )));
    }
    Ok(CrateFile {
        path: relative.to_owned(),
        contents,
        executable,
    })
}
