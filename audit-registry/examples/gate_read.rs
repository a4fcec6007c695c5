//! The client side of `bench/per_crate.py`: reads a running registry the way `check` does, with
//! the same core function (`verify_project_sources`), once per run and with an empty cache (a
//! fresh CI runner), and times it.
//!
//! gate_read URL LOG_ORIGIN LOG_KEY KEYS LOCKFILE MODE CACHE_DIR
//!     KEYS: the auditors' public keys, comma-separated (each an auditor covering `*`).
//!     MODE: `whole` (the registry unpinned: every key's whole log synced into a mirror and
//!     verified) or `per-crate` (its log pinned: one `POST /v1/crates` for LOCKFILE's registry
//!     packages, every proof verified) or `static` (URL is the registry's static export, its
//!     log pinned: the export's per-crate files for LOCKFILE's packages, every hash verified).
//!
//! Output: one JSON object on stdout.

#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::http::HttpClient;
use audit_trust_core::lockfile::Lockfile;
use audit_trust_core::signoff::{HeadCache, RemoteAccess, verify_project_sources};
use audit_trust_core::time::{Clock as _, SystemClock};
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, origin, log_key, keys, lock, mode, cache] = args.as_slice() else {
        eprintln!("usage: gate_read URL LOG_ORIGIN LOG_KEY KEYS LOCKFILE MODE CACHE_DIR");
        return ExitCode::from(2);
    };
    match run(
        url,
        origin,
        log_key,
        keys,
        Path::new(lock),
        mode,
        Path::new(cache),
    ) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gate_read: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    url: &str,
    origin: &str,
    log_key: &str,
    keys: &str,
    lock: &Path,
    mode: &str,
    cache: &Path,
) -> Result<serde_json::Value, String> {
    let (location, pin) = match mode {
        "whole" => ("registry", String::new()),
        "per-crate" | "static" => (
            if mode == "static" { "url" } else { "registry" },
            format!(", log-origin = \"{origin}\", log-key = \"{log_key}\""),
        ),
        _ => return Err(format!("unknown mode `{mode}`")),
    };
    let mut text = String::new();
    for (i, key) in keys.split(',').enumerate() {
        text.push_str(&format!(
            "[[auditor]]\nname = \"a{i}\"\ncovers = [\"*\"]\n\
             records = {{ {location} = \"{url}\"{pin} }}\nkeys = [{{ key = \"{key}\" }}]\n\n"
        ));
    }
    let audit_file =
        AuditFile::parse(&text, Path::new("Cargo.audit")).map_err(|e| e.to_string())?;
    let lockfile = Lockfile::load(lock).map_err(|e| e.to_string())?;
    // Each registry crate with its versions in the lockfile, as `check` asks.
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in lockfile.packages.iter().filter(|p| p.source.is_some()) {
        names
            .entry(p.name.to_ascii_lowercase())
            .or_default()
            .insert(p.version.to_string());
    }
    let http = HttpClient::default();
    let remote = RemoteAccess {
        http: &http,
        cache_dir: cache,
        offline: false,
        max_mirror_age: Duration::ZERO,
        per_crate: Some(&names),
    };
    let started = Instant::now();
    let records = verify_project_sources(
        &audit_file,
        cache,
        &HeadCache::new(cache),
        SystemClock.now(),
        Some(&remote),
    )
    .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    records
        .require_verified_logs(|_| true)
        .map_err(|e| e.to_string())?;
    Ok(json!({
        "mode": mode,
        "seconds": seconds,
        "accepted": records.accepted.len(),
        "crates": names.len(),
    }))
}
