//! `import refresh [NAME]`: fetches the imported audit sets again, pins their bytes in
//! `Cargo.audit.lock`, and says what changed in each: audits added or removed, new violations.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cli::{ImportCommand, RefreshArgs};
use crate::error::CliError;
use crate::output::{escape, write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::imports::{RefreshReport, refresh};
use crate::settings::{OutputFormat, Settings};

/// How many entries of each kind are listed per set; the rest are counted.
const LISTED: usize = 20;

pub fn run(settings: &Settings, command: &ImportCommand) -> Result<ExitCode, CliError> {
    match command {
        ImportCommand::Refresh(args) => run_refresh(settings, args),
    }
}

fn run_refresh(settings: &Settings, args: &RefreshArgs) -> Result<ExitCode, CliError> {
    let project = Project::open(settings, InventoryNeed::LockfileIfPresent)?;
    let done = refresh(&project, args.name.as_deref())?;
    match settings.format {
        OutputFormat::Json => write_json(&escape::document(
            serde_json::to_value(&done).unwrap_or_default(),
        ))?,
        OutputFormat::Human => write_stdout(&render(&done))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn render(report: &RefreshReport) -> String {
    let mut out = String::new();
    for r in &report.sets {
        let c = &r.changes;
        let state = if c.new {
            "pinned for the first time"
        } else if c.unchanged {
            "unchanged"
        } else {
            "changed"
        };
        let _ = writeln!(
            out,
            "import `{}`: {state} (sha256 {})",
            escape::line(&c.name),
            &r.sha256[..r.sha256.len().min(16)]
        );
        let _ = writeln!(out, "  from {}", escape::line(&r.url));
        if let Some(mirror) = &r.fetched_from {
            let _ = writeln!(
                out,
                "  fetched from {} ([url-rewrite])",
                escape::line(mirror)
            );
        }
        for (what, list) in [
            ("NEW VIOLATIONS", &c.new_violations),
            ("violations removed", &c.removed_violations),
            ("audits added", &c.added),
            ("audits removed", &c.removed),
            ("entries skipped", &c.skipped),
        ] {
            if list.is_empty() || (c.new && what == "audits added") {
                continue;
            }
            let _ = writeln!(out, "  {what}: {}", list.len());
            for item in list.iter().take(LISTED) {
                let _ = writeln!(out, "    {}", escape::line(item));
            }
            if list.len() > LISTED {
                let _ = writeln!(out, "    … and {} more", list.len() - LISTED);
            }
        }
        if c.new {
            let _ = writeln!(out, "  audits: {}", c.added.len());
        }
    }
    if !report.publishers_learned.is_empty() {
        let _ = writeln!(
            out,
            "publishers learned: {} ({})",
            report.publishers_learned.len(),
            escape::line(&report.publishers_learned.join(", "))
        );
    }
    if !report.publishers_unknown.is_empty() {
        let _ = writeln!(
            out,
            "publishers unknown: {} (their `trusted` and `wildcard-audits` entries do not vouch for them)",
            report.publishers_unknown.len()
        );
        for u in &report.publishers_unknown {
            let _ = writeln!(out, "  {}", escape::line(u));
        }
    }
    let _ = writeln!(
        out,
        "\nwrote Cargo.audit.lock: review the changes and commit it (check reads only the pinned copy)"
    );
    out
}
