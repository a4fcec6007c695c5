//! Parallel, bounded downloads from sparse registries. A downloaded file is verified against the
//! lockfile checksum in memory and only then written, atomically, into our cache.

use std::io::Write;

use crates_index::SparseIndex;

use super::cargo_config::RegistryLocation;
use super::{CrateStore, expected_checksum, sha256_hex};
use crate::Error;
use crate::inventory::Package;
use crate::parallel::map_requests_until_error;
use crate::progress::Progress;

/// `config.json` is tiny; anything larger is not a registry config.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

pub(super) fn download_all(
    store: &CrateStore,
    packages: &[&Package],
    progress: &dyn Progress,
) -> Result<(), Error> {
    progress.begin("Downloading", packages.len() as u64);
    let result = map_requests_until_error(packages, store.options.jobs.clamp(1, 64), |package| {
        download_one(store, package)?;
        progress.advance(1);
        Ok(())
    });
    progress.finish();
    result.map(|_| ())
}

fn download_one(store: &CrateStore, package: &Package) -> Result<(), Error> {
    let index_url = match store.location(package) {
        RegistryLocation::Sparse { index_url } => index_url,
        RegistryLocation::LocalRegistry { path } => {
            return Err(Error::UnsupportedSource {
                package: package.spec(),
                message: format!("not found in the local registry {}", path.display()),
            });
        }
        RegistryLocation::Unsupported { reason } => {
            return Err(Error::UnsupportedSource {
                package: package.spec(),
                message: reason,
            });
        }
    };
    let checksum = expected_checksum(package)?;
    let url = download_url(store, &index_url, package, checksum)?;
    let bytes = store
        .http
        .get_ok_retrying(&url, store.options.max_crate_bytes, 3)
        .map_err(|e| Error::Download {
            package: package.spec(),
            url: url.clone(),
            message: e.to_string(),
        })?;
    let actual = sha256_hex(&bytes);
    if actual != checksum {
        return Err(Error::ChecksumMismatch {
            package: package.spec(),
            expected: checksum.to_owned(),
            actual,
            origin: url,
        });
    }
    let target = store.our_path(package)?;
    write_atomically(&target, &bytes, true)
}

fn download_url(
    store: &CrateStore,
    index_url: &str,
    package: &Package,
    checksum: &str,
) -> Result<String, Error> {
    let config = index_config(store, index_url, package)?;
    let mut sum = [0u8; 32];
    for (i, chunk) in checksum.as_bytes().chunks(2).enumerate() {
        let hex = std::str::from_utf8(chunk)
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let (Some(slot), Some(byte)) = (sum.get_mut(i), hex) {
            *slot = byte;
        }
    }
    let url = config
        .download_url_with_checksum(&package.name, &package.version.to_string(), &sum)
        .ok_or_else(|| Error::RegistryUnreachable {
            package: package.spec(),
            registry: index_url.to_owned(),
            message: format!(
                "its config.json has an unusable download template `{}`",
                config.dl
            ),
        })?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::RegistryUnreachable {
            package: package.spec(),
            registry: index_url.to_owned(),
            message: format!("its download URL `{url}` is not http(s)"),
        });
    }
    Ok(url)
}

/// The registry's `config.json`, fetched once per run and per index; the copy crates-index keeps
/// lives in our cache, not in the user's `CARGO_HOME`.
pub(super) fn index_config(
    store: &CrateStore,
    index_url: &str,
    package: &Package,
) -> Result<crates_index::IndexConfig, Error> {
    if let Some(config) = lock(&store.index_configs).get(index_url) {
        return Ok(config.clone());
    }
    let unreachable = |message: String| Error::RegistryUnreachable {
        package: package.spec(),
        registry: index_url.to_owned(),
        message,
    };
    let index = SparseIndex::with_path(store.options.cache_dir.join("index-home"), index_url)
        .map_err(|e| unreachable(e.to_string()))?;
    let request = index
        .make_config_request()
        .and_then(|b| {
            b.body(())
                .map_err(|e| crates_index::Error::Url(e.to_string()))
        })
        .map_err(|e| unreachable(e.to_string()))?;
    let response = store
        .http
        .send(request, MAX_CONFIG_BYTES)
        .map_err(|e| unreachable(e.to_string()))?;
    let config = index
        .parse_config_response(response, true)
        .map_err(|e| unreachable(format!("config.json: {e}")))?;
    lock(&store.index_configs).insert(index_url.to_owned(), config.clone());
    Ok(config)
}

/// Writes through a temporary file in the same folder and renames it into place, so a crash or a
/// concurrent run never leaves a half-written file behind. `durable` also syncs the data first
/// (crate files); cache entries skip that, since a torn entry only reads as a miss.
pub fn write_atomically(
    target: &std::path::Path,
    bytes: &[u8],
    durable: bool,
) -> Result<(), Error> {
    let dir = target.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    if durable {
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
    }
    tmp.persist(target)
        .map_err(|e| Error::io(target, e.error))?;
    Ok(())
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
