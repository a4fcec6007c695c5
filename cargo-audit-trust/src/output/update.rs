//! `update`'s output: the plan (dry run), or what applying it did.

use serde::Serialize;

use audit_trust_core::gate::update_plan::{PlannedStep, UpdatePlan};
use audit_trust_core::gate::{Severity, Verdict};

use crate::commands::update::{MoveResult, Outcome};
use crate::error::CliError;
use crate::output::escape;
use crate::output::{plural, write_json, write_stdout};
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct PlanJson<'a> {
    dry_run: bool,
    steps: &'a [PlannedStep],
    notes: &'a [String],
}

#[derive(Serialize)]
struct OutcomeJson<'a> {
    dry_run: bool,
    steps: &'a [PlannedStep],
    #[serde(flatten)]
    outcome: &'a Outcome,
    notes: &'a [String],
}

pub fn plan(
    settings: &Settings,
    plan: &UpdatePlan,
    dry_run: bool,
    notes: &[String],
) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&PlanJson {
            dry_run,
            steps: &plan.steps,
            notes,
        }),
        OutputFormat::Human => {
            let moves = plan.moves().count();
            let mut out = if moves == 0 {
                "nothing to update: no package has a newer version its auditors signed off\n"
                    .to_owned()
            } else {
                format!(
                    "update plan: {} to move (dry run: nothing changed)\n",
                    count(moves, "package")
                )
            };
            out.push_str(&steps_text(&plan.steps));
            if !settings.quiet {
                for note in notes {
                    out.push_str(&format!("note: {}\n", escape::line(note)));
                }
            }
            write_stdout(&out)
        }
    }
}

pub fn outcome(
    settings: &Settings,
    plan: &UpdatePlan,
    outcome: &Outcome,
    notes: &[String],
) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&OutcomeJson {
            dry_run: false,
            steps: &plan.steps,
            outcome,
            notes,
        }),
        OutputFormat::Human => {
            let mut out = String::new();
            for (label, moves) in [
                ("kept", &outcome.kept),
                ("undone", &outcome.undone),
                ("impossible", &outcome.impossible),
            ] {
                for m in moves {
                    out.push_str(&format!("{label}: {}\n", move_text(m)));
                }
            }
            if outcome.kept.is_empty() && outcome.undone.is_empty() {
                out.push_str(if outcome.impossible.is_empty() {
                    "nothing to update: no package has a newer version its auditors signed off\n"
                } else {
                    "nothing updated\n"
                });
            } else {
                out.push_str(&format!(
                    "updated {}; {} undone, {} impossible\n",
                    count(outcome.kept.len(), "package"),
                    outcome.undone.len(),
                    outcome.impossible.len()
                ));
            }
            if outcome.blocked.is_empty() {
                out.push_str("the Cargo.lock passes the gate\n");
            } else {
                out.push_str(&format!(
                    "still blocked: {} (`cargo audit-trust check` says why)\n",
                    count(outcome.blocked.len(), "package")
                ));
                for v in &outcome.blocked {
                    out.push_str(&format!("  {}\n", verdict_text(v)));
                }
            }
            if !settings.quiet {
                for note in notes {
                    out.push_str(&format!("note: {}\n", escape::line(note)));
                }
            }
            write_stdout(&out)
        }
    }
}

fn move_text(m: &MoveResult) -> String {
    let target = match &m.to {
        Some(to) if m.auditors.is_empty() => format!(" -> {}", escape::line(to)),
        Some(to) => format!(
            " -> {} (signed off by {})",
            escape::line(to),
            escape::line(&m.auditors.join(", "))
        ),
        None => String::new(),
    };
    format!(
        "{} {}{target}: {}",
        escape::line(&m.name),
        escape::line(&m.from),
        escape::line(&m.reason)
    )
}

fn verdict_text(v: &Verdict) -> String {
    let why = v.reasons.iter().find(|r| r.severity == Severity::Deny);
    format!(
        "{}@{}: {}{}",
        escape::line(&v.name),
        // A parsed version's text is digits, dots and [0-9A-Za-z-.+]: nothing to escape.
        v.version,
        v.status.as_str(),
        why.map(|r| format!(": {}", escape::line(&r.message)))
            .unwrap_or_default()
    )
}

fn count(n: usize, noun: &str) -> String {
    plural(n as u64, noun, &format!("{noun}s"))
}

fn steps_text(steps: &[PlannedStep]) -> String {
    let mut out = String::new();
    for s in steps {
        match &s.to {
            Some(to) => out.push_str(&format!(
                "  {} {} -> {} (signed off by {}): {}\n",
                escape::line(&s.name),
                escape::line(&s.from),
                escape::line(to),
                escape::line(&s.auditors.join(", ")),
                escape::line(&s.why)
            )),
            None => {
                out.push_str(&format!(
                    "  {} {} stays: {}\n",
                    escape::line(&s.name),
                    escape::line(&s.from),
                    escape::line(&s.why)
                ));
                // The step's command, unless its text already says it (a review's does).
                let command = s.next.as_ref().and_then(|n| n.command.as_ref());
                if let Some(command) = command.filter(|c| !s.why.contains(c.as_str())) {
                    out.push_str(&format!("      next: {}\n", escape::line(command)));
                }
            }
        }
    }
    out
}
