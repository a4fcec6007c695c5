//! `init`: a starter `Cargo.audit` for the current lockfile. Never overwrites a file.

use std::path::PathBuf;
use std::process::ExitCode;

use audit_trust_core::SourceKind;
use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::audit_file::baseline::{Baseline, baseline, baseline_text};
use audit_trust_core::audit_file::starter::{
    STARTER_RECORDS_FOLDER, Sizes, Starter, starter_audit_file,
};
use audit_trust_core::names::validate_crate_name;
use serde::Serialize;

use crate::cli::InitArgs;
use crate::error::CliError;
use crate::output::{write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::audit_file_edit::{create_file, io_error, refused_overwrite};
use crate::services::classify::analyze_inventory;
use crate::services::crate_store;
use crate::services::gate::{open_advisory_db, registry_index_report};
use crate::services::signing::load_signing_key;
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct InitJson {
    path: String,
    auditor: String,
    public_key: String,
    exemptions: usize,
    /// The last expiry (every one's, without `--spread`).
    expires: String,
    /// With `--spread`: the number of days the expiries are spread over.
    #[serde(skip_serializing_if = "Option::is_none")]
    spread_days: Option<u32>,
    /// With `--baseline`: what was waived.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<Baseline>,
}

pub fn run(settings: &Settings, args: &InitArgs) -> Result<ExitCode, CliError> {
    // Auditor names follow crate-name rules (letters, digits, `-`, `_`): refuse others early,
    // before anything is written.
    validate_crate_name(&args.auditor)
        .map_err(|e| CliError::Usage(format!("--auditor `{}`: {e}", args.auditor)))?;
    if let Some(path) = &settings.given_paths.audit_file
        && path.exists()
    {
        return Err(refused_overwrite(path));
    }
    let project =
        Project::open_without_audit_file(settings, InventoryNeed::Required { targets: false })?;
    let inventory = project.inventory()?;
    let target = project.new_audit_file_target()?;
    if target.exists() {
        return Err(refused_overwrite(&target));
    }
    let key = load_signing_key(args.key.key.as_deref())?.key.public_key();
    let now = settings.now;
    let today = now.date();
    let days = args.spread.unwrap_or(args.exempt_days);
    let expires = now.plus_days(i64::from(days)).date();
    let sizes: Option<Sizes> = match args.spread {
        Some(_) => Some(
            analyze_inventory(&project, inventory, None)?
                .packages
                .into_iter()
                .filter_map(|c| Some(((c.name, c.version.to_string()), c.code_lines?)))
                .collect(),
        ),
        None => None,
    };
    let waived = if args.baseline {
        Some(read_baseline(&project, args)?)
    } else {
        None
    };
    let mut text = starter_audit_file(
        &Starter {
            auditor: &args.auditor,
            key: &key,
            today,
            expires,
            spread: sizes.as_ref(),
            allow_yanked: waived.as_ref().map_or(&[][..], |w| w.yanked.as_slice()),
        },
        &inventory.packages,
    );
    if let Some(waived) = &waived {
        text.push_str(&baseline_text(waived, today, expires));
    }
    // The file we write must be one we can read back: a starter that fails `check` is a bug.
    AuditFile::parse(&text, &target)?;
    let dir = target.parent().map(PathBuf::from).unwrap_or_default();
    let records = dir.join(STARTER_RECORDS_FOLDER);
    std::fs::create_dir_all(&records).map_err(|e| io_error(&records, e))?;
    create_file(&target, &text, || refused_overwrite(&target))?;

    let exemptions = inventory
        .packages
        .iter()
        .filter(|p| p.source != SourceKind::Path)
        .count();
    match settings.format {
        OutputFormat::Json => write_json(&InitJson {
            path: target.display().to_string(),
            auditor: args.auditor.clone(),
            public_key: key.to_string(),
            exemptions,
            expires: expires.to_string(),
            spread_days: args.spread,
            baseline: waived,
        })?,
        OutputFormat::Human => {
            let until = match args.spread {
                Some(_) => format!("coming due one after another until {expires}, smallest first"),
                None => format!("until {expires}"),
            };
            let mut text = format!(
                "Wrote {}: auditor `{}` with your key {key}, {} {until}.\n\
                 Sign-offs go to {}. Next: `cargo audit-trust check`, then `cargo audit-trust suggest`.\n",
                target.display(),
                args.auditor,
                crate::output::plural(exemptions as u64, "exemption", "exemptions"),
                records.display(),
            );
            text.push_str(&render_baseline(waived.as_ref(), expires));
            write_stdout(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Today's advisories (from `--advisory-db`, else RustSec's database) and yanked versions (from
/// the registries' indexes). A baseline that could not read the advisories is an error: a
/// "green" start that checked nothing would be a lie.
fn read_baseline(project: &Project, args: &InitArgs) -> Result<Baseline, CliError> {
    let settings = &project.settings;
    let inventory = project.inventory()?;
    let db = open_advisory_db(project, args.advisory_db.as_deref(), &settings.progress())?;
    let store = crate_store(project)?;
    let index = registry_index_report(project, &store, inventory)?;
    Ok(baseline(&inventory.packages, Some(&db), &index))
}

fn render_baseline(waived: Option<&Baseline>, expires: audit_trust_core::time::Date) -> String {
    let Some(waived) = waived else {
        return String::new();
    };
    if waived.is_empty() {
        return "Baseline: no advisories and no yanked versions to waive.\n".to_owned();
    }
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut out = format!(
        "Baseline: waived until {expires} ({}, {}):\n",
        count(waived.advisories.len(), "advisory", "advisories"),
        count(waived.yanked.len(), "yanked version", "yanked versions")
    );
    for a in &waived.advisories {
        out.push_str(&format!(
            "  ignore-advisory {}: {} ({})\n",
            a.id,
            crate::output::escape::line(&a.title),
            a.packages.join(", ")
        ));
    }
    for y in &waived.yanked {
        out.push_str(&format!(
            "  yanked {y}: its exemption says allow-yanked = true (a warning until it expires)\n"
        ));
    }
    out
}
