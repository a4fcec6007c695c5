//! Exemptions and advisory ignores that come due soon. Debt that expires all at once turns a
//! green gate red overnight; a warning some days ahead (`[policy] expiry-warning-days`) leaves
//! time to review or renew. It never blocks.

use serde::Serialize;

use super::GateInput;
use crate::audit_file::prune::EntryKind;
use crate::inventory::SourceKind;
use crate::time::Date;

/// Entries of one kind that expire within the warning window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiryWarning {
    pub kind: EntryKind,
    /// How many live entries expire within `within_days`.
    pub count: usize,
    pub within_days: u32,
    /// The earliest expiry among them.
    pub first: Date,
    /// The same in words, for every output.
    pub message: String,
}

/// The warnings for `input`, exemptions first. Only entries that are in use count: an exemption
/// that admits a package of the lockfile, an ignore whose advisory covers one (every live ignore
/// when advisories were not read). Unused entries are `prune`'s business, not debt.
pub fn expiring(input: &GateInput<'_>) -> Vec<ExpiryWarning> {
    let days = input.audit_file.policy.expiry_warning_days();
    if days == 0 {
        return Vec::new();
    }
    let soon = |expires: Date| {
        let left = expires.days_since(input.today);
        (0..=i64::from(days)).contains(&left)
    };
    let packages = || {
        input
            .inventory
            .packages
            .iter()
            .filter(|p| p.source != SourceKind::Path)
    };
    let exemptions: Vec<Date> = input
        .audit_file
        .exemptions
        .iter()
        .filter(|x| soon(x.expires) && packages().any(|p| x.matches(&p.name, &p.version)))
        .map(|x| x.expires)
        .collect();
    let ignores: Vec<Date> = input
        .audit_file
        .ignored_advisories
        .iter()
        .filter(|i| {
            soon(i.expires)
                && input.advisories.is_none_or(|db| {
                    packages().any(|p| {
                        db.for_package(&p.name, &p.version)
                            .iter()
                            .any(|a| a.id == i.id)
                    })
                })
        })
        .map(|i| i.expires)
        .collect();
    [
        (EntryKind::Exemption, exemptions),
        (EntryKind::IgnoreAdvisory, ignores),
    ]
    .into_iter()
    .filter_map(|(kind, dates)| warning(kind, &dates, days))
    .collect()
}

fn warning(kind: EntryKind, dates: &[Date], days: u32) -> Option<ExpiryWarning> {
    let first = *dates.iter().min()?;
    let count = dates.len();
    let noun = match (kind, count) {
        (EntryKind::Exemption, 1) => "exemption expires",
        (EntryKind::Exemption, _) => "exemptions expire",
        (EntryKind::IgnoreAdvisory, 1) => "advisory ignore expires",
        (EntryKind::IgnoreAdvisory, _) => "advisory ignores expire",
    };
    let day_word = if days == 1 { "day" } else { "days" };
    let then = match kind {
        EntryKind::Exemption => {
            "sign off the packages, or renew with `cargo audit-trust exemptions renew`"
        }
        EntryKind::IgnoreAdvisory => "move to fixed versions, or extend the ignores' `expires`",
    };
    Some(ExpiryWarning {
        kind,
        count,
        within_days: days,
        first,
        message: format!("{count} {noun} within {days} {day_word} (first: {first}): {then}"),
    })
}
