//! `update`'s output: the plan (dry run), or what applying it did.

use serde::Serialize;

use audit_trust_core::gate::update_plan::{PlannedStep, UpdatePlan};

use super::apply::Outcome;
use crate::error::CliError;
use crate::output::escape;
use crate::output::{write_json, write_stdout};
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
                format!("update plan: {moves} to move (dry run: nothing changed)\n")
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

pub fn outcome(settings: &Settings, plan: &UpdatePlan, outcome: &Outcome) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&OutcomeJson {
            dry_run: false,
            steps: &plan.steps,
            outcome,
        }),
        OutputFormat::Human => {
            let mut out = steps_text(&plan.steps);
            for (step, why) in &outcome.refused {
                out.push_str(&format!(
                    "cargo refused {}: {}\n",
                    escape::line(step),
                    escape::line(why)
                ));
            }
            if outcome.rolled_back {
                out.push_str(&format!(
                    "rolled back: after {} updates the lockfile did not pass the gate, so the \
                     previous Cargo.lock was restored. Blocked:\n",
                    outcome.applied
                ));
                for v in &outcome.blocked {
                    let why = v
                        .reasons
                        .iter()
                        .find(|r| r.severity == audit_trust_core::gate::Severity::Deny);
                    out.push_str(&format!(
                        "  {}@{}: {}{}\n",
                        escape::line(&v.name),
                        escape::line(&v.version),
                        v.status.as_str(),
                        why.map(|r| format!(": {}", escape::line(&r.message)))
                            .unwrap_or_default()
                    ));
                }
            } else {
                out.push_str(&format!(
                    "updated {} packages; the new Cargo.lock passes the gate\n",
                    outcome.applied
                ));
            }
            write_stdout(&out)
        }
    }
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
                s.auditors.join(", "),
                s.why
            )),
            None => out.push_str(&format!(
                "  {} {} stays: {}\n",
                escape::line(&s.name),
                escape::line(&s.from),
                s.why
            )),
        }
    }
    out
}
