//! All the records a project trusts: every auditor of `Cargo.audit`, each source read once and
//! verified for the auditors that share it. A local folder is read as it is; a registry is first
//! synced into a mirror in the cache folder (one request for all its keys), then read the same
//! way; a static export of a registry (`records = { url }`) fills a mirror of its own through
//! the same code. An unreachable source is an error unless its mirror is younger than the
//! policy allows (the gate fails closed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::checkpoint_cache::CheckpointCache;
use super::head_cache::HeadCache;
use super::log_reader::{PerCrateRead, read_per_crate};
use super::registry_client::RegistryClient;
use super::registry_sync::{LogSource, mirror_age, mirror_path, static_mirror_path, sync_mirror};
use super::source::{AcceptedRecord, RejectedItem, RevokedRecord, UnverifiedLog, verify_source};
use super::static_client::StaticClient;
use super::static_log_reader::read_static_per_crate;
use super::store::{LocalStore, PossibleFlag};
use crate::Error;
use crate::audit_file::{AuditFile, Auditor, RecordLocation, RegistryLogPin};
use crate::http::HttpClient;
use crate::time::Timestamp;

#[derive(Debug, Default)]
pub struct ProjectRecords {
    pub accepted: Vec<AcceptedRecord>,
    pub rejected: Vec<RejectedItem>,
    /// `(auditor, location)` of sources this version cannot read.
    pub unread: Vec<(String, String)>,
    /// What the reader should know, such as a registry answered from its mirror.
    pub notes: Vec<String>,
    /// Pinned keys whose log could not be verified as a whole at some source.
    pub unverified: Vec<UnverifiedLog>,
    /// Lines that do not verify but say they flag a crate version.
    pub possible_flags: Vec<PossibleFlag>,
    /// Records their own auditor withdrew (history, not failures).
    pub revoked: Vec<RevokedRecord>,
    /// The crates asked for when a registry was read per crate (`None`: every source was read
    /// whole). Records of other crates were not read from such a registry.
    pub per_crate: Option<BTreeMap<String, BTreeSet<String>>>,
}

impl ProjectRecords {
    /// Fails when a log of an auditor for which `relevant` holds could not be verified: its
    /// records were all dropped, and among them there may be a flag, so no decision about what
    /// that auditor covers can be trusted (the gate fails closed). Callers pass "covers a
    /// package of the lockfile" for the gate, "covers this crate" for a query.
    pub fn require_verified_logs(&self, relevant: impl Fn(&str) -> bool) -> Result<(), Error> {
        let failures: Vec<&UnverifiedLog> = self
            .unverified
            .iter()
            .filter(|u| relevant(&u.auditor))
            .collect();
        if failures.is_empty() {
            return Ok(());
        }
        Err(Error::UnverifiedLogs {
            logs: failures.into_iter().cloned().collect(),
        })
    }
}

/// How to reach registries and static exports; without it, such sources are listed as unread.
#[derive(Debug)]
pub struct RemoteAccess<'a> {
    pub http: &'a HttpClient,
    pub cache_dir: &'a Path,
    pub offline: bool,
    /// How old a mirror may be when its registry cannot be reached.
    pub max_mirror_age: Duration,
    /// The crates the caller decides (the gate: the lockfile's packages). With them, a registry
    /// whose transparency log is pinned is read per crate with proofs instead of through a
    /// mirror of every key's whole log; without them (`query`, `export`…), it is mirrored.
    pub per_crate: Option<&'a BTreeMap<String, BTreeSet<String>>>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Folder(PathBuf),
    Registry(String),
    Static(String),
}

/// Reads and verifies the sources of `audit_file` (folders relative to `audit_dir`).
pub fn verify_project_sources(
    audit_file: &AuditFile,
    audit_dir: &Path,
    cache: &HeadCache,
    now: Timestamp,
    remote: Option<&RemoteAccess<'_>>,
) -> Result<ProjectRecords, Error> {
    let mut out = ProjectRecords::default();
    let mut sources: BTreeMap<Source, Vec<&Auditor>> = BTreeMap::new();
    for auditor in &audit_file.auditors {
        match (&auditor.records, remote) {
            (RecordLocation::Folder(_), _) => {
                let folder = auditor.records.folder(audit_dir).unwrap_or_default();
                // One folder reached by two spellings is still one source.
                let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
                sources
                    .entry(Source::Folder(folder))
                    .or_default()
                    .push(auditor);
            }
            (RecordLocation::Registry(url), Some(_)) => {
                let url = url.trim_end_matches('/').to_owned();
                sources
                    .entry(Source::Registry(url))
                    .or_default()
                    .push(auditor);
            }
            (RecordLocation::Url(url), Some(_)) => {
                let url = url.trim_end_matches('/').to_owned();
                sources
                    .entry(Source::Static(url))
                    .or_default()
                    .push(auditor);
            }
            (RecordLocation::Registry(url) | RecordLocation::Url(url), None) => {
                out.unread.push((auditor.name.clone(), url.clone()));
            }
        }
    }
    for (source, auditors) in sources {
        let remote_url = match &source {
            Source::Registry(url) | Source::Static(url) => Some(url),
            Source::Folder(_) => None,
        };
        if let (Some(url), Some(remote)) = (remote_url, remote)
            && let Some(asked) = remote.per_crate
            && let Some(pin) = log_pin_of(url, &auditors)?
        {
            let all = out.per_crate.get_or_insert_with(BTreeMap::new);
            for (name, versions) in asked {
                all.entry(name.to_ascii_lowercase())
                    .or_default()
                    .extend(versions.iter().cloned());
            }
            let packages: BTreeMap<String, BTreeSet<String>> = asked
                .iter()
                .filter(|(n, _)| auditors.iter().any(|a| a.covers(n)))
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect();
            if packages.is_empty() {
                continue;
            }
            if remote.offline {
                return Err(Error::Registry {
                    url: url.clone(),
                    message: "--offline: its transparency log is pinned, so it is read per \
                              crate with fresh proofs, which needs the network"
                        .into(),
                });
            }
            let policy = &audit_file.policy;
            let read = PerCrateRead {
                pin: &pin,
                witnesses: &audit_file.witnesses,
                witnesses_required: policy.witnesses_required.unwrap_or(0) as usize,
                cosignature_max_age_secs: policy.cosignature_max_age_secs(),
                packages: &packages,
                now,
            };
            let checkpoints = CheckpointCache::new(remote.cache_dir);
            let verified = if matches!(source, Source::Static(_)) {
                // The export's files, each checked against the hash it is named by.
                let client = StaticClient::new(url, remote.http, None);
                read_static_per_crate(&client, &read, &checkpoints, &auditors)?
            } else {
                let client = RegistryClient::new(url, remote.http);
                read_per_crate(&client, &read, &checkpoints, &auditors)?
            };
            out.accepted.extend(verified.accepted);
            out.rejected.extend(verified.rejected);
            out.revoked.extend(verified.revoked);
            continue;
        }
        let (folder, source_id, synced) = match &source {
            Source::Folder(folder) => (
                folder.clone(),
                format!("folder:{}", folder.display()),
                false,
            ),
            Source::Registry(_) | Source::Static(_) => {
                let Some(remote) = remote else { continue };
                sync_remote(&source, remote, &auditors, &mut out.notes)?
            }
        };
        let mut verified = verify_folder(&folder, &auditors, &source_id, cache, now)?;
        // A mirror only ever grows, so one bad answer (a replayed record, a garbled line) would
        // break a key there for good. Before reporting a log that does not verify, start the
        // mirror over once from what the source serves now; the cache of heads still catches
        // a rollback, so this forgives nothing a source did.
        // Only when the source answered just now: a mirror standing in for an unreachable one
        // is all there is.
        if let Some(remote) = remote
            && synced
            && !verified.unverified.is_empty()
        {
            std::fs::remove_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
            let (folder, source_id, _) = sync_remote(&source, remote, &auditors, &mut out.notes)?;
            verified = verify_folder(&folder, &auditors, &source_id, cache, now)?;
        }
        out.accepted.extend(verified.accepted);
        out.rejected.extend(verified.rejected);
        out.unverified.extend(verified.unverified);
        out.possible_flags.extend(verified.possible_flags);
        out.revoked.extend(verified.revoked);
    }
    Ok(out)
}

/// The transparency log the auditors reading from the registry at `url` pin, if any; two
/// different pins for one registry are a mistake in `Cargo.audit`.
fn log_pin_of(url: &str, auditors: &[&Auditor]) -> Result<Option<RegistryLogPin>, Error> {
    let mut pins = auditors.iter().filter_map(|a| a.registry_log.as_ref());
    let Some(first) = pins.next() else {
        return Ok(None);
    };
    if pins.any(|p| p != first) {
        return Err(Error::Registry {
            url: url.to_owned(),
            message: "auditors reading from it pin different transparency logs (`log-origin`, \
                      `log-key`); a registry has one log"
                .into(),
        });
    }
    Ok(Some(first.clone()))
}

fn verify_folder(
    folder: &Path,
    auditors: &[&Auditor],
    source_id: &str,
    cache: &HeadCache,
    now: Timestamp,
) -> Result<super::VerifiedSource, Error> {
    let contents = LocalStore::new(folder).read()?;
    verify_source(contents, folder, auditors, source_id, cache, now)
}

/// Brings the mirror of a registry or static export up to date; returns the mirror's folder,
/// the source's id in the cache of heads, and whether the source answered (`false`: a young
/// mirror stands in for it).
fn sync_remote(
    source: &Source,
    remote: &RemoteAccess<'_>,
    auditors: &[&Auditor],
    notes: &mut Vec<String>,
) -> Result<(PathBuf, String, bool), Error> {
    match source {
        Source::Registry(url) => {
            let path = mirror_path(remote.cache_dir, url);
            let client = RegistryClient::new(url, remote.http);
            let (mirror, synced) = mirror_remote(
                &client,
                Remote::Registry(url),
                path,
                auditors,
                remote,
                notes,
            )?;
            Ok((mirror, format!("registry:{url}"), synced))
        }
        Source::Static(url) => {
            let path = static_mirror_path(remote.cache_dir, url);
            let client = StaticClient::new(url, remote.http, Some(path.clone()));
            let (mirror, synced) =
                mirror_remote(&client, Remote::Static(url), path, auditors, remote, notes)?;
            Ok((mirror, format!("url:{url}"), synced))
        }
        Source::Folder(folder) => Ok((
            folder.clone(),
            format!("folder:{}", folder.display()),
            false,
        )),
    }
}

/// Which kind of remote source a mirror is of, to word its errors.
#[derive(Clone, Copy)]
enum Remote<'u> {
    Registry(&'u str),
    Static(&'u str),
}

impl Remote<'_> {
    fn error(self, message: String) -> Error {
        match self {
            Remote::Registry(url) => Error::Registry {
                url: url.to_owned(),
                message,
            },
            Remote::Static(url) => Error::StaticExport {
                url: url.to_owned(),
                message,
            },
        }
    }
}

/// Syncs the mirror at `path` of the source for the keys of `auditors`; falls back to
/// a young enough mirror when the source cannot be reached (or with `--offline`), and fails
/// otherwise.
fn mirror_remote(
    client: &dyn LogSource,
    source: Remote<'_>,
    path: PathBuf,
    auditors: &[&Auditor],
    remote: &RemoteAccess<'_>,
    notes: &mut Vec<String>,
) -> Result<(PathBuf, bool), Error> {
    let mirror = LocalStore::new(&path);
    let keys: Vec<_> = auditors
        .iter()
        .flat_map(|a| a.keys.iter().map(|k| k.key))
        .collect();
    let failure = if remote.offline {
        None
    } else {
        match sync_mirror(client, &mirror, &keys) {
            Ok(()) => return Ok((path, true)),
            Err(e) => Some(e),
        }
    };
    let hours = |d: Duration| d.as_secs() / 3600;
    match mirror_age(&mirror) {
        Some(age) if remote.offline || age <= remote.max_mirror_age => {
            let why = failure
                .unwrap_or_else(|| source.error("--offline".into()))
                .to_string();
            notes.push(format!(
                "{why}; using its records as mirrored {} ago",
                crate::words::plural(hours(age), "hour", "hours")
            ));
            Ok((path, false))
        }
        age => Err(failure.unwrap_or_else(|| {
            source.error(format!(
                "--offline and {}",
                match age {
                    Some(a) => format!(
                        "its mirror is {} old",
                        crate::words::plural(hours(a), "hour", "hours")
                    ),
                    None => "it was never mirrored".into(),
                }
            ))
        })),
    }
}
