//! Reading a static export per crate through its transparency log, when `Cargo.audit` pins the
//! log of a `records = { url = … }` source: the same checks as [`super::log_reader`] makes of a
//! registry's answer, made from files any web server or CDN serves. The client fetches the
//! checkpoint, the tiles that prove it extends the one it saw before, the index manifest, the
//! runs of index leaves its crates fall in, each crate's version leaves and the entry lists
//! and records of the leaves it asks for, and checks each file against the hash it is named by
//! (layout in [`crate::tlog::static_crates`](crate::tlog)). Any failure stops the gate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::checkpoint_cache::CheckpointCache;
use super::log_reader::{PerCrateRead, admit_proven, log_pin, misfiled, parse_records};
use super::source::{RejectedItem, VerifiedSource};
use super::static_client::StaticClient;
use super::static_file_cache::FileCache;
use super::store::Location;
use super::verified_ids::VerifiedIds;
use super::{RecordId, SignedRecord, Statement};
use crate::Error;
use crate::audit_file::Auditor;
use crate::tlog::{
    CrateCommitment, IndexLeaf, MAX_CLOSURE_VERSIONS, MAX_NOTE_BYTES, MAX_STATIC_FILE_BYTES,
    StaticIndex, StaticVersionLeaf, TILE_WIDTH, TileProver, TileReader, TlogError, VersionLeaf,
    VersionQuery, VersionsAnswer, check_progress, commitment_in_runs, consistency_from_tiles,
    crate_path, index_path, key_bucket, leaf_path, parse_leaf_file, path_safe_name, run_path,
    verify_checkpoint, verify_crate_leaves, verify_run, verify_versions,
};

/// Files fetched at once: a lockfile needs a few thousand small files, and a CDN answers each
/// in tens of milliseconds.
const PARALLEL_FETCHES: usize = 16;

/// Reads `read.packages` from the static export `client` serves, verified against the pinned
/// log and the checkpoint remembered in `cache`, and returns the records of `auditors`' keys.
pub fn read_static_per_crate(
    client: &StaticClient<'_>,
    read: &PerCrateRead<'_>,
    cache: &CheckpointCache,
    auditors: &[&Auditor],
) -> Result<VerifiedSource, Error> {
    // Twice at most: a kept copy may be what failed, so the second read fetches everything.
    let mut attempt = 0;
    loop {
        let files = FileCache::new(Some(cache.root()), client.url());
        let src = Src {
            client,
            files: &files,
        };
        match read_from(&src, read, cache, auditors) {
            Ok(out) => {
                files.prune();
                return Ok(out);
            }
            Err(_) if attempt == 0 && files.hits() > 0 => {
                files.clear();
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Where the files come from: the export, or the copies kept from the last read.
struct Src<'a, 'h> {
    client: &'a StaticClient<'h>,
    files: &'a FileCache,
}

fn read_from(
    client: &Src<'_, '_>,
    read: &PerCrateRead<'_>,
    cache: &CheckpointCache,
    auditors: &[&Auditor],
) -> Result<VerifiedSource, Error> {
    let url = client.client.url();
    let fail = |name: Option<&str>, error: TlogError| Error::TransparencyLog {
        url: url.to_owned(),
        crate_name: name.map(str::to_owned),
        error,
    };
    let pin = log_pin(read).map_err(|e| fail(None, e))?;
    // Names become paths of the export: only crate names (the lockfile's) ever do.
    if let Some(name) = read.packages.keys().find(|n| !path_safe_name(n)) {
        return Err(fail(
            Some(name),
            TlogError::MalformedProof("not a crate name, so not a path of the export".into()),
        ));
    }
    let seen = cache.load(url, read.pin)?;
    let text = String::from_utf8(fetch(client, "tlog/checkpoint", MAX_NOTE_BYTES as u64)?)
        .map_err(|_| fail(None, TlogError::MalformedNote("not UTF-8".into())))?;
    let verified = verify_checkpoint(&pin, &text).map_err(|e| fail(None, e))?;
    let checkpoint = &verified.checkpoint;
    // Consistency with the checkpoint seen before, from the log's tiles.
    if let Some(seen) = &seen {
        if checkpoint.size <= seen.size {
            check_progress(Some(seen), checkpoint, &[]).map_err(|e| fail(None, e))?;
        } else {
            let mut tiles = HttpTiles { client };
            let mut prover = TileProver::new(&mut tiles, checkpoint.size);
            consistency_from_tiles(&mut prover, seen.size, &seen.root, &checkpoint.root)
                .map_err(|e| fail(None, e))?;
        }
    }
    cache
        .remember(url, read.pin, checkpoint, &verified.note.to_text())?
        .map_err(|e| fail(None, e))?;

    let (index_size, index_root) = checkpoint.crate_index().map_err(|e| fail(None, e))?;
    let path = index_path(&index_root);
    let manifest: StaticIndex = parse_json(&fetch(client, &path, MAX_STATIC_FILE_BYTES)?, &path)
        .map_err(|e| fail(None, e))?;
    let roots = manifest
        .verify(index_size, &index_root, &path)
        .map_err(|e| fail(None, e))?;
    let commitments = commitments(client, &manifest, &roots, read.packages)
        .map_err(|(name, e)| fail(name.as_deref(), e))?;

    let keys: BTreeSet<String> = auditors
        .iter()
        .flat_map(|a| a.keys.iter().map(|k| key_bucket(&k.key)))
        .collect();
    let mut out = VerifiedSource::default();
    let mut proven_records = Vec::new();
    let known = cache.verified_ids();
    // Each crate's version leaves, checked against the root its index leaf commits to.
    let with_versions: Vec<(&String, &CrateCommitment)> =
        commitments.iter().filter(|(_, c)| c.versions > 0).collect();
    let paths: Vec<String> = with_versions
        .iter()
        .map(|(name, c)| crate_path(name, &c.versions_root))
        .collect();
    let files = fetch_all(client, &paths)?;
    for (((name, commitment), path), bytes) in with_versions.into_iter().zip(&paths).zip(files) {
        let listed: Vec<StaticVersionLeaf> =
            parse_json(&bytes, path).map_err(|e| fail(Some(name), e))?;
        let mut leaves = verify_crate_leaves(name, &listed, commitment, path)
            .map_err(|e| fail(Some(name), e))?;
        let asked = read
            .packages
            .get(name.as_str())
            .cloned()
            .unwrap_or_default();
        let (versions, served) = read_leaves(client, name, &mut leaves, asked, &keys, &known)
            .map_err(|e| match e {
                ReadError::Log(e) => fail(Some(name), e),
                ReadError::Fetch(e) => e,
            })?;
        let answer = VersionsAnswer {
            versions: versions.iter().cloned().collect(),
            leaves,
            proof: Vec::new(),
        };
        let query = VersionQuery {
            versions: &versions,
            keys: Some(&keys),
        };
        let listed = verify_versions(
            name,
            &answer,
            query,
            commitment.versions,
            &commitment.versions_root,
        )
        .map_err(|e| fail(Some(name), e))?;
        let mut by_id: BTreeMap<RecordId, (SignedRecord, Location)> = BTreeMap::new();
        for (record, location) in served {
            match record {
                Ok(record) => {
                    by_id.insert(record.id(), (record, location));
                }
                // Its id cannot be trusted; if the log lists it, it is missing below.
                Err(rejection) => out.rejected.push(RejectedItem {
                    auditor: None,
                    location,
                    rejection,
                }),
            }
        }
        for entry in &listed {
            let Some((record, location)) = by_id.remove(&entry.id) else {
                return Err(fail(
                    Some(name),
                    TlogError::WithheldRecord {
                        name: format!("{name}@{} by {}", entry.version, entry.key),
                        expected: 1,
                        got: 0,
                    },
                ));
            };
            if let Some(e) = misfiled(name, &record, Some(entry)) {
                return Err(fail(Some(name), e));
            }
            proven_records.push((record, location));
        }
    }
    let mut known = known;
    for (record, _) in &proven_records {
        known.remember(&record.id());
    }
    known.save();
    admit_proven(&mut out, proven_records, auditors, read.now);
    Ok(out)
}

/// What the index commits to for each asked crate, from the runs they fall in.
fn commitments(
    client: &Src<'_, '_>,
    manifest: &StaticIndex,
    roots: &[crate::tlog::Hash],
    packages: &BTreeMap<String, BTreeSet<String>>,
) -> Result<BTreeMap<String, CrateCommitment>, (Option<String>, TlogError)> {
    let mut runs: BTreeMap<usize, Vec<IndexLeaf>> = BTreeMap::new();
    let read_runs = |wanted: BTreeSet<usize>,
                     runs: &mut BTreeMap<usize, Vec<IndexLeaf>>|
     -> Result<(), (Option<String>, TlogError)> {
        let wanted: Vec<usize> = wanted
            .into_iter()
            .filter(|r| !runs.contains_key(r))
            .collect();
        let paths: Vec<String> = wanted
            .iter()
            .map(|&r| run_path(&manifest.runs[r].1))
            .collect();
        let files = fetch_all(client, &paths).map_err(|e| (None, fetch_error(e)))?;
        for ((run, path), bytes) in wanted.into_iter().zip(&paths).zip(files) {
            let leaves: Vec<IndexLeaf> = parse_json(&bytes, path).map_err(|e| (None, e))?;
            verify_run(manifest, roots, run, &leaves, path).map_err(|e| (None, e))?;
            runs.insert(run, leaves);
        }
        Ok(())
    };
    if manifest.runs.is_empty() {
        return Ok(BTreeMap::new());
    }
    let first: BTreeSet<usize> = packages.keys().map(|n| manifest.run_of(n)).collect();
    read_runs(first, &mut runs)?;
    // A name past the end of its run is proven absent by the next run's first leaf.
    let next: BTreeSet<usize> = packages
        .keys()
        .map(|n| manifest.run_of(n))
        .filter(|r| {
            r + 1 < manifest.runs.len()
                && runs.get(r).and_then(|l| l.last()).is_some_and(|l| {
                    packages
                        .keys()
                        .any(|n| manifest.run_of(n) == *r && n.as_str() > l.name())
                })
        })
        .map(|r| r + 1)
        .collect();
    read_runs(next, &mut runs)?;
    let mut out = BTreeMap::new();
    for name in packages.keys() {
        let run = manifest.run_of(name);
        let leaves = runs.get(&run).map(Vec::as_slice).unwrap_or_default();
        let next = runs.get(&(run + 1)).map(Vec::as_slice);
        let path = run_path(&manifest.runs[run].1);
        let commitment =
            commitment_in_runs(name, leaves, next, &path).map_err(|e| (Some(name.clone()), e))?;
        out.insert(name.clone(), commitment);
    }
    Ok(out)
}

enum ReadError {
    Log(TlogError),
    Fetch(Error),
}

type Served = Vec<(Result<SignedRecord, super::rejection::Rejection>, Location)>;

/// Fetches the leaf files of `asked` versions by `keys`, and of the versions delta sign-offs
/// among their records start from (at most [`MAX_CLOSURE_VERSIONS`] more), filling each
/// leaf's entry list; returns the versions answered and the records served.
fn read_leaves(
    client: &Src<'_, '_>,
    name: &str,
    leaves: &mut [VersionLeaf],
    asked: BTreeSet<String>,
    keys: &BTreeSet<String>,
    known: &VerifiedIds,
) -> Result<(BTreeSet<String>, Served), ReadError> {
    // Every asked version is read; only the delta bases count against the bound.
    let limit = asked.len() + MAX_CLOSURE_VERSIONS;
    let mut versions = asked.clone();
    let mut todo = asked;
    let mut served = Vec::new();
    while !todo.is_empty() {
        let wanted: Vec<usize> = (0..leaves.len())
            .filter(|&i| todo.contains(&leaves[i].version) && keys.contains(&leaves[i].key))
            .collect();
        todo.clear();
        let paths: Vec<String> = wanted
            .iter()
            .map(|&i| leaf_path(name, &leaves[i].digest))
            .collect();
        let files = fetch_all(client, &paths).map_err(ReadError::Fetch)?;
        let mut lines = Vec::new();
        let mut places = Vec::new();
        for ((&i, path), bytes) in wanted.iter().zip(&paths).zip(files) {
            let (entries, records) = parse_leaf_file(&bytes, path).map_err(ReadError::Log)?;
            leaves[i].records = Some(entries);
            for (n, line) in records.into_iter().enumerate() {
                places.push(Location {
                    path: PathBuf::from(format!("{}/{path}", client.client.url())),
                    line: Some(n + 2),
                });
                lines.push(line);
            }
        }
        let parsed = parse_records(vec![lines], known)
            .into_iter()
            .next()
            .unwrap_or_default();
        for (record, location) in parsed.into_iter().zip(places) {
            if let Ok(r) = &record
                && keys.contains(&key_bucket(r.key()))
                && let Statement::SignOff {
                    delta_from: Some(base),
                    ..
                } = &r.record().statement
            {
                let base = base.version.to_string();
                if versions.len() < limit && versions.insert(base.clone()) {
                    todo.insert(base);
                }
            }
            served.push((record, location));
        }
    }
    Ok((versions, served))
}

fn fetch_error(e: Error) -> TlogError {
    TlogError::TileUnavailable {
        tile: String::new(),
        why: e.to_string(),
    }
}

/// `path` of the export; every file but the checkpoint is named by its hash, so a copy kept
/// from the last read is as good.
fn fetch(client: &Src<'_, '_>, path: &str, max: u64) -> Result<Vec<u8>, Error> {
    let immutable = path != "tlog/checkpoint";
    if immutable && let Some(bytes) = client.files.get(path, max) {
        return Ok(bytes);
    }
    let bytes = client.client.get_file(path, max)?;
    if immutable {
        client.files.put(path, &bytes);
    }
    Ok(bytes)
}

/// Fetches `paths` on a few threads, in order; the first failure stops the read.
fn fetch_all(client: &Src<'_, '_>, paths: &[String]) -> Result<Vec<Vec<u8>>, Error> {
    if paths.len() <= 1 {
        return paths
            .iter()
            .map(|p| fetch(client, p, MAX_STATIC_FILE_BYTES))
            .collect();
    }
    let per = paths.len().div_ceil(PARALLEL_FETCHES);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(per)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| fetch(client, p, MAX_STATIC_FILE_BYTES))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(paths.len());
        for handle in handles {
            out.extend(
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))?,
            );
        }
        Ok(out)
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], path: &str) -> Result<T, TlogError> {
    serde_json::from_slice(bytes)
        .map_err(|e| TlogError::MalformedProof(format!("{path} is not what the format says: {e}")))
}

/// The log's hash tiles, read from the export.
struct HttpTiles<'c, 'a, 'h> {
    client: &'c Src<'a, 'h>,
}

impl TileReader for HttpTiles<'_, '_, '_> {
    fn read_tile(&mut self, path: &str) -> Result<Vec<u8>, String> {
        fetch(self.client, &format!("tlog/{path}"), TILE_WIDTH * 32).map_err(|e| e.to_string())
    }
}
