//! `sbom`: a CycloneDX 1.5 JSON document of every package, with purl, SHA-256, licenses (declared
//! and detected), the dependency graph, and our evidence as `audit-trust:` properties: the gate's
//! status, who signed off for which criteria, the exemption, the classification.

use std::process::ExitCode;

use audit_trust_core::fetch::write_atomically;
use audit_trust_core::gate::evaluate;
use audit_trust_core::sbom::{SbomInput, cyclonedx};

use crate::cli::SbomArgs;
use crate::error::CliError;
use crate::output::write_stdout;
use crate::services::classify::analyze_inventory;
use crate::services::gate::GateContext;
use crate::services::licenses::read_licenses;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &SbomArgs) -> Result<ExitCode, CliError> {
    let mut context = GateContext::gather(settings, args.advisory_db.as_deref())?;
    let licenses = read_licenses(&context.project, &context.inventory)?;
    context.licenses = Some(licenses);
    let report = evaluate(&context.input());
    let sizes = analyze_inventory(&context.project, &context.inventory, None)?;
    let bom = cyclonedx(&SbomInput {
        inventory: &context.inventory,
        gate: &report,
        sizes: &sizes,
        licenses: context.licenses.as_deref().unwrap_or_default(),
        timestamp: settings.now.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    });
    let mut text = serde_json::to_string_pretty(&bom)
        .map_err(|e| CliError::Usage(format!("cannot serialize the SBOM: {e}")))?;
    text.push('\n');
    match &args.output {
        Some(path) => write_atomically(path, text.as_bytes(), true)?,
        None => write_stdout(&text)?,
    }
    if context.db_error.is_some() {
        eprintln!(
            "note: advisories were not checked (the statuses say so); the SBOM is written anyway"
        );
    }
    Ok(ExitCode::SUCCESS)
}
