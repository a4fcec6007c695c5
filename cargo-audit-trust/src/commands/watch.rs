//! `watch --registry URL`: asks an audit-registry's automatic auditor to follow every crates.io
//! package of the current lockfile, and to audit the locked versions now (a backfill), not only
//! the versions released later. The admin token comes from `AUDIT_REGISTRY_TOKEN` only (an
//! argument would show in `ps` and in shell history).

use std::process::ExitCode;

use audit_trust_core::http::HttpClient;
use audit_trust_core::inventory::SourceKind;
use audit_trust_core::lockfile::Lockfile;
use serde::Serialize;

use crate::cli::WatchArgs;
use crate::error::CliError;
use crate::output::{write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::publish::check_registry_url;
use crate::settings::{OutputFormat, Settings};

/// Where the admin token is read from.
pub const TOKEN_ENV: &str = "AUDIT_REGISTRY_TOKEN";
/// The registry accepts 5,000 crates per request by default.
const BATCH: usize = 1000;
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

#[derive(Serialize)]
struct WatchJson<'a> {
    registry: &'a str,
    sent: usize,
    added: u64,
    already_watched: u64,
    /// Locked versions sent to be audited now.
    backfill_sent: usize,
    /// Of those, how many the registry had not been asked for already.
    backfill_requested: u64,
}

pub fn run(settings: &Settings, args: &WatchArgs) -> Result<ExitCode, CliError> {
    check_registry_url(&args.registry)?;
    let token = std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "set {TOKEN_ENV} to an admin token of the registry (`audit-registry admin-token new NAME`)"
            ))
        })?;
    let project = Project::open(settings, InventoryNeed::None)?;
    let lockfile_path = project.require_lockfile()?;
    let lockfile = Lockfile::load(lockfile_path)?;
    let names = crates_io_packages(&lockfile);
    let versions_sent: usize = names.iter().map(|(_, v)| v.len()).sum();
    let http = HttpClient::default();
    let url = format!("{}/v1/admin/watch", args.registry.trim_end_matches('/'));
    let (mut added, mut already, mut backfill) = (0u64, 0u64, 0u64);
    for batch in names.chunks(BATCH) {
        let crates: Vec<serde_json::Value> = batch
            .iter()
            .map(|(name, versions)| serde_json::json!({ "name": name, "versions": versions }))
            .collect();
        let body = serde_json::json!({ "crates": crates });
        let (status, answer) = http
            .post_json_with_bearer(
                &url,
                &token,
                body.to_string().into_bytes(),
                MAX_ANSWER_BYTES,
            )
            .map_err(|e| CliError::Usage(format!("cannot reach {url}: {e}")))?;
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
        match status {
            200 => {
                added += answer["added"].as_u64().unwrap_or(0);
                already += answer["already_watched"].as_u64().unwrap_or(0);
                // A registry that predates backfills ignores the versions: say so, rather
                // than let the user believe they are being audited.
                backfill += answer["backfill"].as_u64().ok_or_else(|| {
                    CliError::Usage(format!(
                        "{url} watched the crates but did not take the locked versions to \
                         audit now (its answer has no `backfill`): upgrade the registry"
                    ))
                })?;
            }
            401 | 403 => {
                return Err(CliError::Usage(format!(
                    "{url} refused the token in {TOKEN_ENV}: {}",
                    answer["error"]["message"]
                        .as_str()
                        .unwrap_or("unauthorized")
                )));
            }
            other => {
                return Err(CliError::Usage(format!(
                    "{url} answered {other}: {}",
                    answer["error"]["message"]
                        .as_str()
                        .unwrap_or("no explanation")
                )));
            }
        }
    }
    match settings.format {
        OutputFormat::Json => write_json(&WatchJson {
            registry: &args.registry,
            sent: names.len(),
            added,
            already_watched: already,
            backfill_sent: versions_sent,
            backfill_requested: backfill,
        })?,
        OutputFormat::Human => write_stdout(&format!(
            "Sent {} from {} to {}: {added} newly watched, {already} already watched\n\
             {} will be audited at the next poll ({backfill} newly requested)\n",
            crate::output::plural(
                names.len() as u64,
                "crates.io package name",
                "crates.io package names"
            ),
            lockfile_path.display(),
            args.registry,
            crate::output::plural(versions_sent as u64, "locked version", "locked versions"),
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Lowercase names of the crates.io packages, sorted and once each (the automatic auditor
/// polls crates.io's index only), each with its locked versions.
fn crates_io_packages(lockfile: &Lockfile) -> Vec<(String, Vec<String>)> {
    let mut packages: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for p in lockfile.packages.iter().filter(|p| {
        matches!(
            SourceKind::from_source_id(p.source.as_deref()),
            SourceKind::Registry {
                crates_io: true,
                ..
            }
        )
    }) {
        let versions = packages.entry(p.name.to_ascii_lowercase()).or_default();
        let version = p.version.to_string();
        if !versions.contains(&version) {
            versions.push(version);
        }
    }
    packages.into_iter().collect()
}
