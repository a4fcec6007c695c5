//! A crate's entry in its registry's sparse index: the checksums the registry itself states,
//! which a sign-off is bound to (a lockfile can be edited in a pull request; the index cannot be
//! edited by one), and the yanked flags.

use std::time::{Duration, SystemTime};

use crates_index::SparseIndex;

use super::CrateStore;
use super::cargo_config::RegistryLocation;
use crate::Error;
use crate::http::HttpError;
use crate::inventory::{Package, SourceKind};
use crate::time::Timestamp;

/// Index files of the largest crates are a few megabytes.
const MAX_INDEX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// One version as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexVersion {
    pub version: semver::Version,
    /// SHA-256 of the `.crate` file, lowercase hex.
    pub checksum: String,
    pub yanked: bool,
    /// When the registry published it (the index's `pubtime`); `None` when the entry has none
    /// (older registries, and crates.io versions published before it recorded one).
    pub pubtime: Option<Timestamp>,
}

impl CrateStore {
    /// Every version of `name` in the index of `source` (a registry source), fetched now; with
    /// `--offline`, from the copy a previous fetch left in our cache.
    pub fn index_versions(
        &self,
        name: &str,
        source: &SourceKind,
    ) -> Result<Vec<IndexVersion>, Error> {
        self.index_versions_within(name, source, Duration::ZERO)
            .map(|(versions, _)| versions)
    }

    /// [`Self::index_versions`], but a cached copy younger than `max_age` is used without asking
    /// the registry. Also returns when the copy used was fetched, if it was a cached one.
    pub fn index_versions_within(
        &self,
        name: &str,
        source: &SourceKind,
        max_age: Duration,
    ) -> Result<(Vec<IndexVersion>, Option<SystemTime>), Error> {
        crate::names::validate_crate_name(name).map_err(|e| Error::UnsupportedSource {
            package: name.to_owned(),
            message: e.to_string(),
        })?;
        let index_url = match self.location_of(source) {
            RegistryLocation::Sparse { index_url } => index_url,
            RegistryLocation::LocalRegistry { path } => {
                return Err(Error::UnsupportedSource {
                    package: name.to_owned(),
                    message: format!(
                        "the local registry {} has no index this tool reads",
                        path.display()
                    ),
                });
            }
            RegistryLocation::Unsupported { reason } => {
                return Err(Error::UnsupportedSource {
                    package: name.to_owned(),
                    message: reason,
                });
            }
        };
        let unreachable = |message: String| Error::RegistryUnreachable {
            package: name.to_owned(),
            registry: index_url.clone(),
            message,
        };
        // Our own copy of what we use of the entry (version, checksum, yanked, pubtime — a few bytes a
        // version instead of the registry's full JSON, so a warm run reads little), written
        // atomically: crates-index's cache files are written in place, and two runs at once
        // could read one half-written.
        let copy = self
            .options
            .cache_dir
            .join("index-entries-v3")
            .join(&crate::fetch::sha256_hex(index_url.as_bytes())[..16])
            .join(name.to_ascii_lowercase());
        let fetched_at = std::fs::metadata(&copy).and_then(|m| m.modified()).ok();
        let fresh = fetched_at.is_some_and(|t| t.elapsed().is_ok_and(|age| age <= max_age));
        if self.options.offline || fresh {
            let text = std::fs::read_to_string(&copy)
                .map_err(|e| unreachable(format!("--offline and no cached index entry ({e})")))?;
            return Ok((parse_compact(&text), fetched_at));
        }
        let index = SparseIndex::with_path(self.options.cache_dir.join("index-home"), &index_url)
            .map_err(|e| unreachable(e.to_string()))?;
        let url = index
            .crate_url(name)
            .ok_or_else(|| unreachable("no index URL for this name".into()))?;
        let bytes = match self.http.get_ok_retrying(&url, MAX_INDEX_FILE_BYTES, 3) {
            Ok(bytes) => bytes,
            // What crates-index (and cargo) read as "no such crate".
            Err(HttpError::Status {
                status: 404 | 410 | 451,
            }) => {
                return Err(Error::UnsupportedSource {
                    package: name.to_owned(),
                    message: format!("the registry {index_url} has no crate of this name"),
                });
            }
            Err(e) => return Err(unreachable(e.to_string())),
        };
        let out = parse_index_entry(&bytes, name);
        if out.is_empty() && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(unreachable(
                "malformed index entry: no valid version line".into(),
            ));
        }
        crate::fetch::write_atomically(&copy, to_compact(&out).as_bytes(), false)?;
        Ok((out, None))
    }
}

/// `VERSION CHECKSUM YANKED PUBTIME` lines (`-` for no pubtime): what the cache keeps of an
/// index entry.
fn to_compact(versions: &[IndexVersion]) -> String {
    let mut text = String::with_capacity(versions.len() * 100);
    for v in versions {
        let pubtime = v.pubtime.map_or_else(|| "-".to_owned(), |t| t.to_string());
        text.push_str(&format!(
            "{} {} {} {pubtime}\n",
            v.version,
            v.checksum,
            u8::from(v.yanked)
        ));
    }
    text
}

/// Reads [`to_compact`]'s format back, validating it like index input (the cache folder is
/// writable by anything that runs as the user).
fn parse_compact(text: &str) -> Vec<IndexVersion> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let version = crate::names::validate_version(fields.next()?).ok()?;
            let checksum = fields
                .next()
                .filter(|c| crate::lockfile::is_sha256_hex(c))?;
            let yanked = match fields.next()? {
                "1" => true,
                "0" => false,
                _ => return None,
            };
            let pubtime = match fields.next()? {
                "-" => None,
                text => Some(Timestamp::parse(text)?),
            };
            Some(IndexVersion {
                version,
                checksum: checksum.to_owned(),
                yanked,
                pubtime,
            })
        })
        .collect()
}

/// The fields of an index line the tool uses; the rest (dependencies, features) is skipped
/// unparsed, which keeps reading the index of a whole lockfile cheap.
#[derive(serde::Deserialize)]
struct IndexLine<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    vers: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    cksum: std::borrow::Cow<'a, str>,
    #[serde(default)]
    yanked: bool,
    #[serde(default, borrow)]
    pubtime: Option<std::borrow::Cow<'a, str>>,
}

/// Every valid version line of an index entry for `name`. The entry is the registry's word, but
/// it is still input: a malformed line, a line about another crate, a version that is not
/// semver or a checksum that is not SHA-256 hex is left out.
fn parse_index_entry(bytes: &[u8], name: &str) -> Vec<IndexVersion> {
    let mut out = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(parsed) = serde_json::from_slice::<IndexLine<'_>>(line) else {
            continue;
        };
        if parsed.name != name || !crate::lockfile::is_sha256_hex(&parsed.cksum) {
            continue;
        }
        let Ok(version) = crate::names::validate_version(&parsed.vers) else {
            continue;
        };
        out.push(IndexVersion {
            version,
            checksum: parsed.cksum.into_owned(),
            yanked: parsed.yanked,
            // A pubtime that does not parse is treated as absent: "not computed", never "old".
            pubtime: parsed.pubtime.as_deref().and_then(parse_pubtime),
        });
    }
    out
}

/// The index's `pubtime`: RFC 3339 in UTC, as crates.io writes it (`2024-09-14T12:24:40Z`);
/// fractional seconds, if a registry adds them, are dropped.
fn parse_pubtime(text: &str) -> Option<Timestamp> {
    match text.split_once('.') {
        Some((seconds, fraction))
            if fraction.len() > 1
                && fraction.ends_with('Z')
                && fraction[..fraction.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            Timestamp::parse(&format!("{seconds}Z"))
        }
        _ => Timestamp::parse(text),
    }
}

/// A registry package for a version known from the index, so that [`CrateStore::ensure_all`]
/// and [`CrateStore::read_verified`] fetch and verify it like a locked one.
pub fn package_of(name: &str, listed: &IndexVersion, source: &SourceKind) -> Package {
    let source_id = match source {
        SourceKind::Registry { id, .. } => Some(id.clone()),
        _ => None,
    };
    Package {
        name: name.to_owned(),
        version: listed.version.clone(),
        source: source.clone(),
        source_id,
        checksum: Some(listed.checksum.clone()),
        dependencies: Vec::new(),
        direct: false,
        dev_only: None,
        workspace_member: false,
        // Not in the lockfile.
        lock_line: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_compact, parse_index_entry, parse_pubtime, to_compact};

    #[test]
    fn pubtimes_parse_as_utc_or_not_at_all() {
        let t = |s: &str| parse_pubtime(s).map(|t| t.to_string());
        assert_eq!(
            t("2026-08-01T10:00:00Z").as_deref(),
            Some("2026-08-01T10:00:00Z")
        );
        assert_eq!(
            t("2026-08-01T10:00:00.123Z").as_deref(),
            Some("2026-08-01T10:00:00Z")
        );
        for bad in [
            "2026-08-01",
            "2026-08-01T10:00:00+02:00",
            "yesterday",
            "2026-08-01T10:00:00.Z",
            "",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_compact_cache_round_trips_and_drops_bad_lines() {
        let sum = "b".repeat(64);
        let text = format!(
            "{{\"name\":\"x\",\"vers\":\"0.1.0\",\"cksum\":\"{sum}\"}}\n{{\"name\":\"x\",\"vers\":\"0.2.0-rc.1\",\"cksum\":\"{sum}\",\"yanked\":true,\"pubtime\":\"2024-09-14T12:24:40Z\"}}\n"
        );
        let versions = parse_index_entry(text.as_bytes(), "x");
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].pubtime, None);
        assert_eq!(
            versions[1].pubtime.map(|t| t.to_string()).as_deref(),
            Some("2024-09-14T12:24:40Z")
        );
        let compact = to_compact(&versions);
        assert_eq!(parse_compact(&compact), versions);
        let tampered = format!(
            "{compact}../../x {sum} 0 -\n1.0.0 nothex 0 -\n1.0.0 {sum} maybe -\n1.0.0 {sum} 0 yesterday\n1.0.0 {sum} 0\n"
        );
        assert_eq!(parse_compact(&tampered), versions);
    }

    #[test]
    fn keeps_only_valid_lines_for_the_crate() {
        let sum = "a".repeat(64);
        let text = format!(
            "{{\"name\":\"foo\",\"vers\":\"1.0.0\",\"deps\":[{{\"name\":\"x\"}}],\"cksum\":\"{sum}\",\"features\":{{}},\"yanked\":false}}\n\
             {{\"name\":\"foo\",\"vers\":\"1.0.1\",\"cksum\":\"{sum}\",\"yanked\":true}}\n\
             {{\"name\":\"bar\",\"vers\":\"1.0.2\",\"cksum\":\"{sum}\"}}\n\
             {{\"name\":\"foo\",\"vers\":\"1.0\",\"cksum\":\"{sum}\"}}\n\
             {{\"name\":\"foo\",\"vers\":\"1.0.3\",\"cksum\":\"XYZ\"}}\n\
             not json at all\n\
             {{\"name\":\"f\\u006fo\",\"vers\":\"2.0.0\",\"cksum\":\"{sum}\"}}\n\n"
        );
        let versions = parse_index_entry(text.as_bytes(), "foo");
        let listed: Vec<(String, bool)> = versions
            .iter()
            .map(|v| (v.version.to_string(), v.yanked))
            .collect();
        assert_eq!(
            listed,
            [
                ("1.0.0".into(), false),
                ("1.0.1".into(), true),
                ("2.0.0".into(), false)
            ]
        );
    }
}
