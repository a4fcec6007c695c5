//! Reading a registry per crate through its transparency log, when `Cargo.audit` pins the log
//! (`records = { registry = URL, log-origin, log-key }`): one `POST /v1/crates` for the crates
//! the gate decides, and everything in the answer checked before any record counts — the
//! checkpoint's signature and witnesses' cosignatures, its consistency with the checkpoint this
//! client verified last, each crate's index proof, every entry's inclusion proof and ordinal, and
//! that every record the log commits to was served. Any failure is an error naming the registry
//! and the crate with the log's reason code: the gate fails closed. Records are then verified
//! against the auditors' pinned keys like records from any source.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::SignedRecord;
use super::checkpoint_cache::CheckpointCache;
use super::record::RecordId;
use super::registry_client::RegistryClient;
use super::rejection::Rejection;
use super::source::{RejectedItem, VerifiedSource, admit, apply_revocations};
use super::store::Location;
use super::verified_ids::VerifiedIds;
use crate::Error;
use crate::audit_file::{Auditor, RegistryLogPin, WitnessPin};
use crate::time::Timestamp;
use crate::tlog::{ListedEntry, LogAnswer, LogPin, NoteKey, TlogError, VersionQuery, key_bucket};

/// What a per-crate read needs besides the registry and the auditors.
#[derive(Debug, Clone, Copy)]
pub struct PerCrateRead<'a> {
    pub pin: &'a RegistryLogPin,
    pub witnesses: &'a [WitnessPin],
    /// Cosignatures by `witnesses` the checkpoint needs.
    pub witnesses_required: usize,
    /// How old (seconds) a cosignature may be and count.
    pub cosignature_max_age_secs: u64,
    /// The crates to ask for (lowercase), each with the versions the caller decides: the
    /// answer is scoped to them (and the versions their delta sign-offs start from).
    pub packages: &'a BTreeMap<String, BTreeSet<String>>,
    pub now: Timestamp,
}

/// Asks `client` for `read.packages`, verifies the answer against the pinned log and the checkpoint
/// remembered in `cache`, and returns the records of `auditors`' keys.
pub fn read_per_crate(
    client: &RegistryClient<'_>,
    read: &PerCrateRead<'_>,
    cache: &CheckpointCache,
    auditors: &[&Auditor],
) -> Result<VerifiedSource, Error> {
    let url = client.url();
    let fail = |name: Option<&str>, error: TlogError| Error::TransparencyLog {
        url: url.to_owned(),
        crate_name: name.map(str::to_owned),
        error,
    };
    let log_pin = log_pin(read).map_err(|e| fail(None, e))?;
    let seen = cache.load(url, read.pin)?;
    let names: Vec<String> = read.packages.keys().cloned().collect();
    // Only the pinned keys' records count, so only their buckets are asked for: a registry of
    // many auditors then sends this project's auditors' records, not everyone's.
    let keys: BTreeSet<String> = auditors
        .iter()
        .flat_map(|a| a.keys.iter().map(|k| key_bucket(&k.key)))
        .collect();
    let answer = match client.crates(read.packages, &keys, seen.as_ref().map(|c| c.size))? {
        Some(answer) => answer,
        // It has no tree of the size this client verified: its checkpoint, asked for without
        // a size, then shows whether it shrank (`log-rollback`) or cannot prove the old one.
        None => client.crates(read.packages, &keys, None)?.ok_or_else(|| {
            fail(
                None,
                TlogError::BadConsistencyProof("the registry refused every size".into()),
            )
        })?,
    };
    if answer.log.is_null() {
        return Err(fail(
            None,
            TlogError::MalformedProof("the answer carries no log proofs".into()),
        ));
    }
    let log = LogAnswer::from_json(&answer.log).map_err(|e| fail(None, e))?;
    // The checkpoint and its consistency with the one seen before; crates come next.
    let verified = log
        .verify(&log_pin, seen.as_ref(), &BTreeMap::new())
        .map_err(|e| fail(None, e))?;
    // Remembered before the crates are checked: it is the registry's own signed statement,
    // and a later rollback must be caught even if this answer is refused below.
    cache
        .remember(
            url,
            read.pin,
            &verified.checkpoint,
            &verified.note.to_text(),
        )?
        .map_err(|e| fail(None, e))?;

    let mut out = VerifiedSource::default();
    let mut proven_records = Vec::new();
    let mut served_lines: Vec<Vec<String>> = Vec::with_capacity(names.len());
    for name in &names {
        let Some(served) = answer.crates.get(name).and_then(|c| c.records.as_ref()) else {
            return Err(fail(
                Some(name),
                TlogError::MalformedProof("the answer has no record list for it".into()),
            ));
        };
        served_lines.push(served.iter().map(|r| r.get().to_owned()).collect());
    }
    let mut known = cache.verified_ids();
    let parsed = parse_records(served_lines, &known);
    for record in parsed.iter().flatten().flatten() {
        known.remember(&record.id());
    }
    known.save();
    let mut parsed_all = parsed.into_iter();
    for name in &names {
        let location = |i: usize| Location {
            path: PathBuf::from(format!("{url}/v1/crates/{name}")),
            line: Some(i + 1),
        };
        let mut ids = BTreeSet::new();
        let mut parsed = Vec::new();
        for (i, result) in parsed_all
            .next()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            match result {
                Ok(record) => {
                    ids.insert(record.id());
                    parsed.push((record, location(i)));
                }
                // Its id cannot be trusted, so it proves nothing; if the log commits to the
                // record it should have been, the check below reports it withheld.
                Err(rejection) => out.rejected.push(RejectedItem {
                    auditor: None,
                    location: location(i),
                    rejection,
                }),
            }
        }
        let query = read.packages.get(name).map(|versions| VersionQuery {
            versions,
            keys: Some(&keys),
        });
        let proven: BTreeMap<RecordId, Option<ListedEntry>> = log
            .verify_crate(&verified.checkpoint, name, &ids, query)
            .map_err(|e| fail(Some(name), e))?;
        for (record, location) in parsed {
            // Served but not in this checkpoint (newer than it, or never logged), or not under
            // what was asked: it counts only once a checkpoint proves it complete.
            let Some(listed) = proven.get(&record.id()) else {
                continue;
            };
            if let Some(e) = misfiled(name, &record, listed.as_ref()) {
                return Err(fail(Some(name), e));
            }
            proven_records.push((record, location));
        }
    }
    admit_proven(&mut out, proven_records, auditors, read.now);
    Ok(out)
}

/// Admits the records the log proved, of the pinned keys only (a registry serves every key's
/// records), then applies their revocations.
pub(super) fn admit_proven(
    out: &mut VerifiedSource,
    proven: Vec<(SignedRecord, Location)>,
    auditors: &[&Auditor],
    now: Timestamp,
) {
    for (record, location) in proven {
        let Some(auditor) = auditors.iter().find(|a| a.key(record.key()).is_some()) else {
            continue;
        };
        admit(out, auditor, record, location, now);
    }
    apply_revocations(out);
}

/// Why `record`, served for `name` and listed by the log as `listed`, is not what the log
/// says it is: about another crate, or filed under a version it is not about or a key bucket
/// not its signer's (the log signed a version tree no replay of it gives).
pub(super) fn misfiled(
    name: &str,
    record: &SignedRecord,
    listed: Option<&ListedEntry>,
) -> Option<TlogError> {
    if let Some(subject) = record.record().statement.subject()
        && !subject.name().eq_ignore_ascii_case(name)
    {
        return Some(TlogError::EntryMismatch(format!(
            "record {} is about `{}` but is logged as `{}`'s",
            record.id(),
            subject.name().escape_default(),
            name.escape_default()
        )));
    }
    let listed = listed?;
    let version_differs = record
        .record()
        .statement
        .subject()
        .is_some_and(|s| s.version().to_string() != listed.version);
    if version_differs || key_bucket(record.key()) != listed.key {
        return Some(TlogError::EntryMismatch(format!(
            "record {} is filed under {} by {}, which it is not",
            record.id(),
            listed.version.escape_default(),
            listed.key.escape_default()
        )));
    }
    None
}

/// How far ahead of this machine's clock a cosignature may be dated and still count.
const COSIGNATURE_CLOCK_SKEW_SECS: u64 = 600;

/// Below this many records, threads cost more than they save.
const PARALLEL_RECORDS: usize = 64;

/// Parses and verifies every served record, crate by crate, on every core: checking the
/// ed25519 signatures is most of the time a whole lockfile's check takes.
pub(super) fn parse_records(
    crates: Vec<Vec<String>>,
    known: &VerifiedIds,
) -> Vec<Vec<Result<SignedRecord, Rejection>>> {
    let known = |id: &RecordId| known.contains(id);
    let total: usize = crates.iter().map(Vec::len).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(total / PARALLEL_RECORDS)
        .max(1);
    let parse = |lines: &[String]| -> Vec<Result<SignedRecord, Rejection>> {
        lines
            .iter()
            .map(|l| SignedRecord::from_json_line_known(l, &known))
            .collect()
    };
    if threads == 1 {
        return crates.iter().map(|c| parse(c)).collect();
    }
    let flat: Vec<String> = crates.iter().flatten().cloned().collect();
    let chunk = flat.len().div_ceil(threads);
    let mut results: Vec<Result<SignedRecord, Rejection>> = std::thread::scope(|scope| {
        let handles: Vec<_> = flat
            .chunks(chunk)
            .map(|part| {
                let parse = &parse;
                scope.spawn(move || parse(part))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .rev()
    .collect();
    crates
        .iter()
        .map(|c| (0..c.len()).filter_map(|_| results.pop()).collect())
        .collect()
}

pub(super) fn log_pin(read: &PerCrateRead<'_>) -> Result<LogPin, TlogError> {
    let witnesses = read
        .witnesses
        .iter()
        .map(|w| NoteKey::new(&w.name, w.key))
        .collect::<Result<Vec<_>, _>>()?;
    let now = u64::try_from(read.now.0).unwrap_or(0);
    Ok(LogPin {
        origin: read.pin.origin.clone(),
        key: NoteKey::new(&read.pin.origin, read.pin.key)?,
        witnesses,
        min_cosignatures: read.witnesses_required,
        cosigned_after: now.saturating_sub(read.cosignature_max_age_secs),
        // Clocks differ a little; a cosignature from well in the future is a witness's bad
        // clock (or a forged date), and would count for longer than the maximum age.
        cosigned_before: now.saturating_add(COSIGNATURE_CLOCK_SKEW_SECS),
    })
}
