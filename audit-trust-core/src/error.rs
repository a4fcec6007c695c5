//! The one error type of the library. Every variant carries what a user needs to act: the file,
//! line or package involved and, where there is one, the way out.

use std::path::PathBuf;

use crate::classify::ClassifyError;
use crate::tarball::TarballError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no Cargo.lock found for {manifest}: run `cargo generate-lockfile` first, or pass `--lockfile PATH`"
    )]
    NoLockfile { manifest: PathBuf },

    /// The lockfile a change is compared with could not be found or read (pull-request mode).
    #[error("base lockfile: {0}")]
    BaseLockfile(String),

    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Lockfile {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("{path}{}: {message}", place(*line, *column))]
    AuditFile {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },

    #[error("advisory database {path}: {message}")]
    AdvisoryDb { path: PathBuf, message: String },

    #[error("`cargo metadata` failed for {manifest}: {message}")]
    Metadata { manifest: PathBuf, message: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {message}")]
    CargoConfig { path: PathBuf, message: String },

    #[error(
        "checksum mismatch for {package}: Cargo.lock says {expected}, but {origin} has {actual}; \
         the file may be corrupt or tampered with (delete it to download it again)"
    )]
    ChecksumMismatch {
        package: String,
        expected: String,
        actual: String,
        origin: String,
    },

    #[error(
        "could not download {package} from {url}: {message} (use `--offline` to work from caches only)"
    )]
    Download {
        package: String,
        url: String,
        message: String,
    },

    #[error(
        "cannot download {package}: registry {registry} is unreachable: {message} \
         (use `--offline` to work from caches only)"
    )]
    RegistryUnreachable {
        package: String,
        registry: String,
        message: String,
    },

    #[error("{package}: {message}")]
    UnsupportedSource { package: String, message: String },

    #[error(
        "--offline: {} not cached: {}; run once without --offline to download them",
        crate::words::plural(missing.len() as u64, "crate file is", "crate files are"),
        missing.join(", ")
    )]
    OfflineMissing { missing: Vec<String> },

    #[error("{package}: corrupt or unsafe crate file: {source}")]
    Tarball {
        package: String,
        #[source]
        source: TarballError,
    },

    /// A signing key that cannot be used; `origin` is the file or the environment variable. The
    /// message never contains secret material.
    #[error("signing key {origin}: {message}")]
    Key { origin: String, message: String },

    /// A sign-off registry could not be used; `message` says why (its JSON error when it gave
    /// one).
    #[error("registry {url}: {message}")]
    Registry { url: String, message: String },

    /// A registry whose transparency log `Cargo.audit` pins answered with a checkpoint or proofs
    /// that do not verify (`docs/transparency-log.md`): what it serves may leave a flag out, so
    /// the gate decides nothing.
    #[error(
        "registry {url}: {} does not verify against its pinned transparency log, so a flag may \
         be withheld and nothing it serves can be decided: {error} [{}]",
        match crate_name {
            Some(name) => format!("the answer for crate `{}`", name.escape_default()),
            None => "its checkpoint".to_owned(),
        },
        error.code()
    )]
    TransparencyLog {
        url: String,
        crate_name: Option<String>,
        error: crate::tlog::TlogError,
    },

    /// A static export of a registry could not be read; `message` says why.
    #[error("static export {url}: {message}")]
    StaticExport { url: String, message: String },

    /// `sign` cannot make this record.
    #[error("cannot sign {package}: {message}")]
    Sign { package: String, message: String },

    /// A sign-off store or the cache of heads is unusable: never silently skipped, because a
    /// skipped source could hide a flag.
    #[error("{path}: {message}")]
    Store { path: PathBuf, message: String },

    /// Pinned keys whose logs could not be verified as a whole (see
    /// [`ProjectRecords::require_verified_logs`](crate::signoff::ProjectRecords::require_verified_logs)).
    #[error(
        "the sign-offs of {} could not be verified, so a flag may be withheld and nothing they \
         cover can be decided:{}\nAsk the auditor or the operator of the source; `cargo \
         audit-trust query NAME` shows what each source serves. A local folder where two \
         branches both signed needs a head over their union: `cargo audit-trust refresh-head`.",
        if logs.len() == 1 { "an auditor" } else { "auditors" },
        logs.iter().map(|l| format!(
            "\n  auditor `{}`, key {}, at {}: {} [{}]",
            l.auditor, l.key, l.source, l.rejection, l.rejection.code()
        )).collect::<String>()
    )]
    UnverifiedLogs {
        logs: Vec<crate::signoff::UnverifiedLog>,
    },

    /// An imported audit set that cannot be used: not pinned, pinned bytes that do not match,
    /// unreadable, or not fetched. `message` says what to do.
    #[error("import `{name}`: {message}")]
    Import { name: String, message: String },

    #[error("{package}: {source}")]
    Classify {
        package: String,
        #[source]
        source: ClassifyError,
    },

    /// A file of a cargo-vet `supply-chain/` folder that `init --from-cargo-vet` cannot read.
    #[error("{path}{}: {message}", place(*line, *column))]
    CargoVetStore {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

/// `:LINE:COLUMN`, `:LINE` or nothing, after a file name.
fn place(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
