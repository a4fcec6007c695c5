//! `exemptions renew`'s output: the exemptions renewed, until when, and what they were.

use std::path::Path;

use audit_trust_core::audit_file::renew::Renewed;
use serde::Serialize;

use super::{escape, write_json, write_stdout};
use crate::error::CliError;
use crate::settings::{OutputFormat, Settings};

#[derive(Serialize)]
struct RenewJson<'a> {
    path: String,
    expires: String,
    renewed: &'a [Renewed],
}

/// Writes what `exemptions renew` did in the run's format.
pub fn write(
    settings: &Settings,
    path: &Path,
    renewed: &[Renewed],
    expires: &str,
) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&RenewJson {
            path: path.display().to_string(),
            expires: expires.to_owned(),
            renewed,
        }),
        OutputFormat::Human => write_stdout(&render_human(path, renewed, expires)),
    }
}

/// Which exemptions were renewed, one line each.
pub fn render_human(path: &Path, renewed: &[Renewed], expires: &str) -> String {
    if renewed.is_empty() {
        return format!(
            "{}: nothing to renew (no matching exemption expires before {expires})\n",
            path.display()
        );
    }
    let noun = if renewed.len() == 1 {
        "exemption"
    } else {
        "exemptions"
    };
    let mut out = format!(
        "{}: renewed {} {noun} until {expires}\n",
        path.display(),
        renewed.len()
    );
    for r in renewed {
        out.push_str(&format!(
            "  line {}: {} (was {})\n",
            r.line,
            escape::line(&r.label),
            r.was
        ));
    }
    out
}
