//! The text `init` writes: a starter `Cargo.audit` that trusts the user's own key and exempts
//! every package the lockfile has today, so CI is green from day one and the debt is visible.

use std::fmt::Write as _;

use crate::inventory::{Package, SourceKind};
use crate::signoff::PublicKey;
use crate::time::Date;

/// Where the starter auditor's sign-offs live, relative to `Cargo.audit`.
pub const STARTER_RECORDS_FOLDER: &str = "supply-chain/sign-offs";

/// What `init` needs to know besides the packages.
#[derive(Debug)]
pub struct Starter<'a> {
    pub auditor: &'a str,
    pub key: &'a PublicKey,
    pub today: Date,
    /// The last day the starter exemptions count.
    pub expires: Date,
}

/// The starter file for `packages` (first-party ones are skipped: they need nothing). Each
/// registry or git package gets an exact `name@version` exemption, so a new version is never
/// admitted by accident.
pub fn starter_audit_file(starter: &Starter<'_>, packages: &[Package]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "# Cargo.audit: which auditors this project trusts, and its policy (docs/cargo-audit.md).\n\
         # Written by `cargo audit-trust init` on {today}.\n\n\
         [[auditor]]\n\
         name = \"{auditor}\"\n\
         covers = [\"*\"]\n\
         records = {{ folder = \"{STARTER_RECORDS_FOLDER}\" }}\n\
         keys = [{{ key = \"{key}\" }}]\n\n\
         # Every package below was in Cargo.lock when this file was written and is admitted\n\
         # without a sign-off until {expires}. Pay the debt down, smallest first:\n\
         #   cargo audit-trust suggest            what to review next\n\
         #   cargo audit-trust sign NAME VERSION --criteria reviewed\n\
         #   cargo audit-trust prune              drops exemptions nothing uses any more\n\
         # An exemption never waives an advisory or a flag.\n",
        today = starter.today,
        auditor = starter.auditor,
        key = starter.key,
        expires = starter.expires,
    );
    let mut specs: Vec<(String, String)> = packages
        .iter()
        .filter(|p| !matches!(p.source, SourceKind::Path))
        .map(|p| (p.name.clone(), p.version.to_string()))
        .collect();
    specs.sort();
    specs.dedup();
    for (name, version) in specs {
        let _ = write!(
            out,
            "\n[[exemption]]\npackage = \"{name}@{version}\"\n\
             reason = \"In Cargo.lock when the project adopted cargo audit-trust.\"\n\
             expires = {}\n",
            starter.expires
        );
    }
    out
}
