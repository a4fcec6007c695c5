//! Where a project's evidence stands, and the review left, for `stats`: the gate's evidence
//! mix and backlog in lines of code, judged from the verified sign-offs, the pinned imports and
//! the exemptions alone. No advisory database and no index lookups: `stats` describes the code,
//! `check` decides whether it may be used.

use std::collections::HashMap;

use audit_trust_core::Inventory;
use audit_trust_core::gate::{Backlog, EvidenceMix, GateInput, backlog, evaluate};
use audit_trust_core::report::InventoryReport;
use serde::Serialize;

use super::evidence::load_evidence;
use crate::error::CliError;
use crate::project::Project;

#[derive(Debug, Serialize)]
pub struct Standing {
    pub evidence: EvidenceMix,
    pub backlog: Backlog,
}

/// `None` when the project has no `Cargo.audit` (nothing is trusted yet: everything is
/// backlog, which the classification already says). An auditor's log that does not verify is
/// an error, as in `check`: its sign-offs cannot be counted either way.
pub fn standing(
    project: &Project,
    inventory: &Inventory,
    classified: &InventoryReport,
) -> Result<Option<Standing>, CliError> {
    if project.paths.audit_file.is_none() {
        return Ok(None);
    }
    let evidence = load_evidence(project, inventory)?;
    let input = GateInput {
        inventory,
        audit_file: &project.audit_file,
        today: project.settings.now.date(),
        evidence: &evidence.accepted,
        rejected: &evidence.rejected,
        advisories: None,
        index: None,
        on_targets: inventory.on_targets.as_ref(),
        risk: None,
        licenses: None,
        notes: Vec::new(),
    };
    let report = evaluate(&input);
    let lines: HashMap<(&str, &semver::Version), u64> = classified
        .packages
        .iter()
        .filter_map(|p| Some(((p.name.as_str(), &p.version), p.code_lines?)))
        .collect();
    let backlog = backlog(&report.packages, |name, version| {
        lines.get(&(name, version)).copied()
    });
    Ok(Some(Standing {
        evidence: report.summary.evidence,
        backlog,
    }))
}
