//! `update`'s plan: for each registry package, the version to move to. The rules (issue 5):
//! the newest semver-compatible version its auditors signed off and nobody flagged; never a
//! version nobody audited; micro packages stay unless the gate blocks them. A blocked package
//! goes where its next step says ([`super::next_step`], the step `check` prints): under an
//! advisory, to the oldest audited version outside every advisory; when that version crosses a
//! semver boundary the package stays, and the step names the requirement to change.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::audited::{advisory_blocks, audited_versions};
use super::next_step::{NextStep, StepKind, newest_audited_compatible, next_step};
use super::{GateInput, GateReport, Status};
use crate::fetch::index::IndexVersion;
use crate::inventory::{Package, PackageId};

/// What happens to one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedStep {
    pub name: String,
    pub from: String,
    /// `None`: the package stays where it is.
    pub to: Option<String>,
    /// Who signed off the target version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auditors: Vec<String>,
    /// Why, in plain words.
    pub why: String,
    /// For a package that stays blocked: what would move it (a version to review, or a
    /// requirement to change in a named `Cargo.toml` when the fix crosses a semver boundary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<NextStep>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdatePlan {
    /// Packages that move, then packages that need to and cannot; in name order.
    pub steps: Vec<PlannedStep>,
}

impl UpdatePlan {
    pub fn moves(&self) -> impl Iterator<Item = &PlannedStep> {
        self.steps.iter().filter(|s| s.to.is_some())
    }

    /// Keeps only the steps of the named packages (`update -p NAME`); an empty list keeps all.
    pub fn retain_packages(&mut self, names: &[String]) {
        if !names.is_empty() {
            self.steps.retain(|s| names.contains(&s.name));
        }
    }
}

/// The packages the gate blocks, as `name@version`, sorted: what one move is judged against.
pub fn blocked_set(report: &GateReport) -> BTreeSet<String> {
    report
        .packages
        .iter()
        .filter(|v| v.blocked)
        .map(|v| format!("{}@{}", v.name, v.version))
        .collect()
}

/// What one applied move did to the gate's verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveJudgement {
    /// The move adds no blocked package; `fixed` lists the blockers it removed (none for a plain
    /// move to a newer audited version).
    Keep { fixed: Vec<String> },
    /// The move brings in blocked packages that were not blocked before it: it is undone on its
    /// own, whatever else is blocked.
    Undo { added: Vec<String> },
}

/// Judges a move by the blocked packages before and after it, never by the overall verdict:
/// blockers that were already there say nothing about this move.
pub fn judge_move(before: &BTreeSet<String>, after: &BTreeSet<String>) -> MoveJudgement {
    let added: Vec<String> = after.difference(before).cloned().collect();
    if added.is_empty() {
        MoveJudgement::Keep {
            fixed: before.difference(after).cloned().collect(),
        }
    } else {
        MoveJudgement::Undo { added }
    }
}

/// What the plan needs besides the gate's input: every published version of each registry
/// package (keyed by name), which packages are micro, and which are blocked today, with the
/// status of their worst finding.
#[derive(Debug)]
pub struct PlanInput<'a> {
    pub published: &'a HashMap<String, Vec<IndexVersion>>,
    pub micro: &'a HashSet<PackageId>,
    pub blocked: &'a HashMap<PackageId, Status>,
}

pub fn plan_updates(input: &GateInput<'_>, plan: &PlanInput<'_>) -> UpdatePlan {
    let mut steps = Vec::new();
    for (id, p) in input.inventory.packages.iter().enumerate() {
        if !p.source.is_registry() {
            continue;
        }
        // Blocked packages take their candidates from the gate's index; others from here.
        let published = plan.published.get(&p.name).map_or(&[][..], Vec::as_slice);
        if let Some(step) = plan_one(input, plan, id, p, published) {
            steps.push(step);
        }
    }
    steps.sort_by(|a, b| (&a.name, &a.from).cmp(&(&b.name, &b.from)));
    UpdatePlan { steps }
}

fn plan_one(
    input: &GateInput<'_>,
    plan: &PlanInput<'_>,
    id: PackageId,
    p: &Package,
    published: &[IndexVersion],
) -> Option<PlannedStep> {
    let stay = |next: NextStep| PlannedStep {
        name: p.name.clone(),
        from: p.version.to_string(),
        to: None,
        auditors: Vec::new(),
        why: next.text.clone(),
        next: Some(next),
    };
    if let Some(status) = plan.blocked.get(&id) {
        // A blocked package goes where its next step says (the same step `check` prints), or
        // stays with that step as the reason.
        let next = next_step(input, id, *status)?;
        return Some(match (next.kind, &next.version) {
            (StepKind::Update, Some(to)) => PlannedStep {
                name: p.name.clone(),
                from: p.version.to_string(),
                to: Some(to.to_string()),
                auditors: next.audited_by.clone(),
                why: match status {
                    Status::Advisory => "an advisory covers the current version; the oldest audited version outside every advisory".into(),
                    Status::Flagged | Status::Yanked => format!("the current version is {}; the oldest audited version free of findings", status.as_str()),
                    _ => "the current version is not admitted; the newest audited semver-compatible version".into(),
                },
                next: None,
            },
            // Only an older version is audited: the plan goes back to it (the step says so
            // too) until someone reviews the locked one.
            (StepKind::Review, _) if *status == Status::Unaudited => {
                match newest_audited_compatible(input, p) {
                    Some((v, by)) => PlannedStep {
                        name: p.name.clone(),
                        from: p.version.to_string(),
                        to: Some(v.version.to_string()),
                        auditors: by,
                        why: "the current version is not admitted; the newest audited one is older"
                            .into(),
                        next: None,
                    },
                    None => stay(next),
                }
            }
            _ => stay(next),
        });
    }
    if plan.micro.contains(&id) {
        // Micro packages change rarely and matter little; each update is review work for nothing.
        return None;
    }
    let compatible: Vec<IndexVersion> = published
        .iter()
        .filter(|v| semver_compatible(&p.version, &v.version))
        .cloned()
        .collect();
    let audited = audited_versions(input, &p.name, &compatible, p.dev_only == Some(true));
    let newest = audited
        .into_iter()
        .rfind(|(v, _)| advisory_blocks(input, &p.name, &v.version) != Some(true))?;
    let (v, by) = newest;
    (v.version > p.version).then(|| PlannedStep {
        name: p.name.clone(),
        from: p.version.to_string(),
        to: Some(v.version.to_string()),
        auditors: by,
        why: "the newest semver-compatible version its auditors signed off".into(),
        next: None,
    })
}

/// Whether cargo's default (caret) requirement on `current` admits `candidate`: same major, or
/// for 0.x the same minor, or for 0.0.x the same patch.
pub fn semver_compatible(current: &semver::Version, candidate: &semver::Version) -> bool {
    if !candidate.pre.is_empty() && candidate != current {
        return false;
    }
    match (current.major, current.minor) {
        (0, 0) => candidate.major == 0 && candidate.minor == 0 && candidate.patch == current.patch,
        (0, minor) => candidate.major == 0 && candidate.minor == minor,
        (major, _) => candidate.major == major,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{MoveJudgement, judge_move, semver_compatible};

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_move_is_judged_by_what_it_changes_not_by_what_was_already_blocked() {
        // Eight unrelated blockers stay; the move removes the one under an advisory.
        let before = set(&["a@1.0.0", "b@1.0.0", "bytes@1.10.1"]);
        let after = set(&["a@1.0.0", "b@1.0.0"]);
        assert_eq!(
            judge_move(&before, &after),
            MoveJudgement::Keep {
                fixed: vec!["bytes@1.10.1".into()]
            }
        );
        // Nothing changes: a plain move to a newer audited version stays.
        assert_eq!(
            judge_move(&before, &before),
            MoveJudgement::Keep { fixed: vec![] }
        );
        // A new blocker undoes the move even when it also fixes one.
        let worse = set(&["a@1.0.0", "b@1.0.0", "newdep@1.0.0"]);
        assert_eq!(
            judge_move(&before, &worse),
            MoveJudgement::Undo {
                added: vec!["newdep@1.0.0".into()]
            }
        );
    }

    fn v(text: &str) -> semver::Version {
        semver::Version::parse(text).expect("version")
    }

    #[test]
    fn compatibility_follows_cargo_caret_rules() {
        assert!(semver_compatible(&v("1.2.3"), &v("1.9.0")));
        assert!(semver_compatible(&v("1.2.3"), &v("1.0.0")));
        assert!(!semver_compatible(&v("1.2.3"), &v("2.0.0")));
        assert!(semver_compatible(&v("0.2.0"), &v("0.2.7")));
        assert!(!semver_compatible(&v("0.2.0"), &v("0.3.0")));
        assert!(!semver_compatible(&v("0.0.1"), &v("0.0.2")));
        assert!(!semver_compatible(&v("1.0.0"), &v("1.1.0-rc.1")));
    }
}
