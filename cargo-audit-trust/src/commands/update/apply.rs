//! Applying a plan: `cargo update --precise` per move, then the whole gate again; the previous
//! `Cargo.lock` comes back unless the result is clean.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use audit_trust_core::Error;
use audit_trust_core::child_env::scrub;
use audit_trust_core::gate::update_plan::UpdatePlan;
use audit_trust_core::gate::{Verdict, evaluate};

use crate::error::CliError;
use crate::services::gate::GateContext;

/// What happened when the plan was applied.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub applied: usize,
    /// Moves cargo refused (a manifest requirement that excludes the version, say), with
    /// cargo's message; the lockfile is left as it was for them and the other moves go on.
    pub refused: Vec<(String, String)>,
    /// The result did not pass the gate, so the previous Cargo.lock was put back.
    pub rolled_back: bool,
    /// The packages that blocked the result (when rolled back).
    pub blocked: Vec<Verdict>,
}

pub fn apply(
    context: &GateContext,
    plan: &UpdatePlan,
    advisory_db: Option<&Path>,
) -> Result<Outcome, CliError> {
    let settings = &context.project.settings;
    let inventory = &context.inventory;
    let lockfile = inventory.lockfile.clone();
    let before = std::fs::read(&lockfile).map_err(|e| io_error(&lockfile, e))?;
    // The manifest discovery found (a member's, when run in a member folder): cargo finds the
    // workspace from it, as it would from the same folder.
    let manifest = match &context.project.paths.manifest {
        Some(path) => path.clone(),
        None => inventory.root.join("Cargo.toml"),
    };
    let mut applied = 0;
    let mut refused = Vec::new();
    for step in plan.moves() {
        let Some(to) = &step.to else { continue };
        let refusal = cargo_update(
            settings.offline,
            &manifest,
            &inventory.root,
            &step.name,
            &step.from,
            to,
        );
        match refusal {
            Ok(None) => applied += 1,
            Ok(Some(why)) => refused.push((format!("{}@{} -> {to}", step.name, step.from), why)),
            Err(e) => {
                restore(&lockfile, &before)?;
                return Err(e);
            }
        }
    }
    // The lockfile changed: read everything again, as `check` would in CI.
    let after = match GateContext::gather(settings, advisory_db) {
        Ok(after) => after,
        Err(e) => {
            restore(&lockfile, &before)?;
            return Err(e);
        }
    };
    let report = evaluate(&after.input());
    let clean = report.is_clean() && after.db_error.is_none();
    if !clean {
        restore(&lockfile, &before)?;
    }
    Ok(Outcome {
        applied,
        refused,
        rolled_back: !clean,
        blocked: report.packages.into_iter().filter(|v| v.blocked).collect(),
    })
}

/// Runs one precise update. `Ok(Some(message))` when cargo refused it (cargo leaves the
/// lockfile untouched then); `Err` only when cargo could not be started.
fn cargo_update(
    offline: bool,
    manifest: &Path,
    root: &Path,
    name: &str,
    from: &str,
    to: &str,
) -> Result<Option<String>, CliError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .arg("update")
        .arg("--manifest-path")
        .arg(manifest)
        .arg("-p")
        .arg(format!("{name}@{from}"))
        .arg("--precise")
        .arg(to);
    if offline {
        command.arg("--offline");
    }
    let output = scrub(&mut command)
        .output()
        .map_err(|e| CliError::Usage(format!("cannot run cargo: {e}")))?;
    if output.status.success() {
        return Ok(None);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first_error = stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or("cargo update failed");
    Ok(Some(first_error.to_owned()))
}

/// Puts the previous lockfile back atomically.
fn restore(lockfile: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = lockfile
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(&dir, e))?;
    tmp.write_all(bytes).map_err(|e| io_error(tmp.path(), e))?;
    tmp.persist(lockfile)
        .map_err(|e| io_error(lockfile, e.error))?;
    Ok(())
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
