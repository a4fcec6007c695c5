//! Applying a plan one move at a time: `cargo update --precise`, then the whole gate again,
//! and the move is judged by what it changed (the blocked packages before and after it). A move
//! that brings in a new blocker is undone on its own; blockers that were already there never
//! cancel a good move.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use audit_trust_core::Error;
use audit_trust_core::child_env::scrub;
use audit_trust_core::gate::update_plan::{
    MoveJudgement, PlannedStep, UpdatePlan, blocked_set, judge_move,
};
use audit_trust_core::gate::{GateReport, Verdict, evaluate};
use serde::Serialize;

use crate::error::CliError;
use crate::services::gate::GateContext;
use crate::settings::Settings;

/// One move of the plan and what became of it.
#[derive(Debug, Serialize)]
pub struct MoveResult {
    pub name: String,
    pub from: String,
    /// `None` for a package the plan could not move at all.
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auditors: Vec<String>,
    /// Why it was kept, undone or impossible, in plain words.
    pub reason: String,
    /// Blocked packages (`name@version`) the move removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<String>,
    /// Blocked packages the move would have brought in (why it was undone).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
}

impl MoveResult {
    fn of(step: &PlannedStep, reason: String) -> Self {
        MoveResult {
            name: step.name.clone(),
            from: step.from.clone(),
            to: step.to.clone(),
            auditors: step.auditors.clone(),
            reason,
            fixed: Vec::new(),
            added: Vec::new(),
        }
    }
}

/// What happened when the plan was applied.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// Moves that stay in the new Cargo.lock.
    pub kept: Vec<MoveResult>,
    /// Moves applied and then reverted because they brought in a new blocker.
    pub undone: Vec<MoveResult>,
    /// Moves that could not be made: no audited target, or cargo refused.
    pub impossible: Vec<MoveResult>,
    /// The packages still blocked in the final Cargo.lock (pre-existing or not).
    pub blocked: Vec<Verdict>,
}

/// Applies every move of `plan`, judging each against the gate as it was just before it.
/// `context` is read again after each move and describes the final lockfile when this returns.
/// On an error the lockfile as it was before `apply` is put back.
pub fn apply(
    settings: &Settings,
    context: &mut GateContext,
    plan: &UpdatePlan,
    report: GateReport,
) -> Result<Outcome, CliError> {
    let lockfile = context.inventory.lockfile.clone();
    let original = std::fs::read(&lockfile).map_err(|e| io_error(&lockfile, e))?;
    match apply_moves(settings, context, plan, report, &lockfile) {
        Ok(outcome) => Ok(outcome),
        Err(e) => {
            restore(&lockfile, &original)?;
            Err(e)
        }
    }
}

fn apply_moves(
    settings: &Settings,
    context: &mut GateContext,
    plan: &UpdatePlan,
    mut report: GateReport,
    lockfile: &Path,
) -> Result<Outcome, CliError> {
    let mut outcome = Outcome::default();
    for step in &plan.steps {
        if step.to.is_none() {
            outcome
                .impossible
                .push(MoveResult::of(step, step.why.clone()));
        }
    }
    let mut blocked_before = blocked_set(&report);
    for step in plan.moves() {
        let Some(to) = &step.to else { continue };
        let before = std::fs::read(lockfile).map_err(|e| io_error(lockfile, e))?;
        if let Some(why) = cargo_update(context, &step.name, &step.from, to)? {
            // cargo leaves the lockfile untouched when it refuses.
            outcome
                .impossible
                .push(MoveResult::of(step, format!("cargo refused: {why}")));
            continue;
        }
        // The lockfile changed: read it and its inventory again and judge it as `check` would
        // in CI (the auditors' records and the advisories do not change with it).
        let previous = context.reread(settings)?;
        let after = evaluate(&context.input());
        let blocked_after = blocked_set(&after);
        match judge_move(&blocked_before, &blocked_after) {
            MoveJudgement::Keep { fixed } => {
                let reason = if fixed.is_empty() {
                    format!("moved to an audited version; {}", step.why)
                } else {
                    format!("unblocks {}", fixed.join(", "))
                };
                outcome.kept.push(MoveResult {
                    fixed,
                    ..MoveResult::of(step, reason)
                });
                blocked_before = blocked_after;
                report = after;
            }
            MoveJudgement::Undo { added } => {
                restore(lockfile, &before)?;
                context.restore(previous);
                let reason = format!("would bring in blocked {}", added.join(", "));
                outcome.undone.push(MoveResult {
                    added,
                    ..MoveResult::of(step, reason)
                });
                // `report` and `blocked_before` still describe the restored lockfile.
            }
        }
    }
    outcome.blocked = report.packages.into_iter().filter(|v| v.blocked).collect();
    Ok(outcome)
}

/// Runs one precise update. `Ok(Some(message))` when cargo refused it (cargo leaves the
/// lockfile untouched then); `Err` only when cargo could not be started.
fn cargo_update(
    context: &GateContext,
    name: &str,
    from: &str,
    to: &str,
) -> Result<Option<String>, CliError> {
    let root = &context.inventory.root;
    // The manifest discovery found (a member's, when run in a member folder): cargo finds the
    // workspace from it, as it would from the same folder.
    let manifest = match &context.project.paths.manifest {
        Some(path) => path.clone(),
        None => root.join("Cargo.toml"),
    };
    let offline = context.project.settings.offline;
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
