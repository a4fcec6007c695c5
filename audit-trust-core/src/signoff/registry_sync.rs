//! Keeping a local mirror of what a remote source (a registry, or a static export of one) holds
//! for some keys, and publishing a local store's records to a registry.
//!
//! The mirror is a [`LocalStore`] in the cache folder, filled with exactly what the source
//! served (records and heads) and verified like any store when read, so a remote source is held
//! to the same rules as a folder: every record signed by a pinned key, every key's records
//! matching its head, no head older than one seen. Both kinds of source fill it through
//! [`LogSource`], so they share this code and its guarantees.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::head::{Head, SignedHead};
use super::record::Statement;
use super::registry_client::{KeyLog, RegistryClient};
use super::store::LocalStore;
use super::{PublicKey, SignedRecord, SigningKey};
use crate::Error;
use crate::time::Timestamp;

/// `publish` with nothing new still signs a fresh registry head when the current one expires
/// within this many days.
const RENEW_WITHIN_DAYS: i64 = 30;

/// Written after every successful sync; its age is the age of the mirror.
const SYNCED_MARKER: &str = ".synced";

/// A remote source of keys' logs: what it holds for each key asked about, beyond the head
/// sequence given (0: everything). Only bytes move here; the mirror verifies them when read.
pub trait LogSource {
    fn logs_after(
        &self,
        keys: &BTreeMap<PublicKey, u64>,
    ) -> Result<BTreeMap<PublicKey, KeyLog>, Error>;
}

impl LogSource for RegistryClient<'_> {
    fn logs_after(
        &self,
        keys: &BTreeMap<PublicKey, u64>,
    ) -> Result<BTreeMap<PublicKey, KeyLog>, Error> {
        self.sync(keys)
    }
}

/// The mirror folder of the registry at `url`.
pub fn mirror_path(cache_dir: &Path, url: &str) -> PathBuf {
    let hash = crate::fetch::sha256_hex(url.trim_end_matches('/').as_bytes());
    cache_dir.join("registry-mirrors").join(&hash[..16])
}

/// The mirror folder of the static export at `url` (apart from a registry's at the same URL).
pub fn static_mirror_path(cache_dir: &Path, url: &str) -> PathBuf {
    let hash = crate::fetch::sha256_hex(format!("static:{}", url.trim_end_matches('/')).as_bytes());
    cache_dir.join("registry-mirrors").join(&hash[..16])
}

/// Brings the mirror up to date for `keys`, asking only for what came after the heads it has.
pub fn sync_mirror(
    client: &dyn LogSource,
    mirror: &LocalStore,
    keys: &[PublicKey],
) -> Result<(), Error> {
    let contents = mirror.read()?;
    let after: BTreeMap<PublicKey, u64> = keys
        .iter()
        .map(|k| (*k, contents.heads.get(k).map_or(0, |h| h.head().sequence)))
        .collect();
    let logs = client.logs_after(&after)?;
    for (key, log) in logs {
        // What does not parse is left out; the head check then refuses the key's records.
        let records: Vec<SignedRecord> = log
            .records
            .iter()
            .filter_map(|line| SignedRecord::from_json_line(line).ok())
            .collect();
        match log.head.as_deref().map(SignedHead::from_json) {
            Some(Ok(head)) if head.head().key == key => mirror.import(&records, Some(&head))?,
            // A head that was served but does not verify (or is another key's) is kept as
            // unreadable: dropping it would look like a key that never signed anything.
            Some(_) => {
                mirror.import(&records, None)?;
                if let Some(text) = &log.head {
                    mirror.import_unverified_head(&key, text)?;
                }
            }
            None => mirror.import(&records, None)?,
        }
    }
    let marker = mirror.root().join(SYNCED_MARKER);
    crate::fetch::write_atomically(&marker, b"", false)
}

/// How long ago the mirror was last brought up to date (`None`: never).
pub fn mirror_age(mirror: &LocalStore) -> Option<Duration> {
    std::fs::metadata(mirror.root().join(SYNCED_MARKER))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
}

/// What [`publish_records`] did.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublishSummary {
    /// Records the registry did not have before.
    pub published: usize,
    /// Records it already had.
    pub already_there: usize,
    /// The registry's head sequence for the key afterwards (0: it has none).
    pub head_sequence: u64,
}

/// Sends the records the registry lacks, in batches of at most `batch`, each with a new head of
/// the registry's log for `key` (signed here: the registry's numbering is its own, separate from
/// the local store's). The registry's current state is verified first.
pub fn publish_records(
    client: &RegistryClient<'_>,
    records: &[SignedRecord],
    key: &SigningKey,
    now: Timestamp,
    head_lifetime_days: i64,
    batch: usize,
) -> Result<PublishSummary, Error> {
    let public = key.public_key();
    let registry_error = |message: String| Error::Registry {
        url: client.url().to_owned(),
        message,
    };
    let log = client
        .sync(&BTreeMap::from([(public, 0)]))?
        .remove(&public)
        .unwrap_or_default();
    let registry_head = match &log.head {
        Some(text) => {
            let head = SignedHead::from_json(text).map_err(|r| {
                registry_error(format!("its head for {public} does not verify: {r}"))
            })?;
            if head.head().key != public {
                return Err(registry_error(format!(
                    "it answered with the head of another key than {public}"
                )));
            }
            Some(head)
        }
        None => None,
    };
    let mut ids = BTreeSet::new();
    for line in &log.records {
        let record = SignedRecord::from_json_line(line).map_err(|r| {
            registry_error(format!(
                "one of its records of {public} does not verify: {r}"
            ))
        })?;
        ids.insert(record.id());
    }
    if let Some(head) = &registry_head
        && head.check_records(&ids).is_err()
    {
        return Err(registry_error(format!(
            "what it serves for {public} does not match its own head; it may be withholding records"
        )));
    }
    let mut previous: Option<Head> = registry_head.map(|h| h.head().clone());

    // Targets before the revocations that name them, so every batch can be filed.
    let (revocations, others): (Vec<&SignedRecord>, Vec<&SignedRecord>) = records
        .iter()
        .filter(|r| r.key() == &public)
        .partition(|r| matches!(r.record().statement, Statement::Revocation { .. }));
    let missing: Vec<&SignedRecord> = others
        .into_iter()
        .chain(revocations)
        .filter(|r| !ids.contains(&r.id()))
        .collect();
    let mine = records.iter().filter(|r| r.key() == &public).count();
    let mut summary = PublishSummary {
        published: 0,
        already_there: mine - missing.len(),
        head_sequence: previous.as_ref().map_or(0, |h| h.sequence),
    };
    // Nothing new, but the registry's head is close to expiring (or gone stale): renew it, or
    // consumers would stop counting every record of the key.
    let renew = missing.is_empty()
        && previous
            .as_ref()
            .is_some_and(|h| h.expires <= now.plus_days(RENEW_WITHIN_DAYS));
    if renew {
        let head = Head::next(previous.as_ref(), public, &ids, now, head_lifetime_days);
        let signed = SignedHead::sign(head.clone(), key).map_err(registry_error)?;
        client.publish(&[], &signed)?;
        summary.head_sequence = head.sequence;
    }
    for chunk in missing.chunks(batch.max(1)) {
        ids.extend(chunk.iter().map(|r| r.id()));
        let head = Head::next(previous.as_ref(), public, &ids, now, head_lifetime_days);
        let signed = SignedHead::sign(head.clone(), key).map_err(registry_error)?;
        client.publish(chunk, &signed)?;
        summary.published += chunk.len();
        summary.head_sequence = head.sequence;
        previous = Some(head);
    }
    Ok(summary)
}
