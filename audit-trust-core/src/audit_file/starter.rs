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
    /// The last day the starter exemptions count (the last of them, with `spread`).
    pub expires: Date,
    /// `--spread`: the exemptions come due one after another, evenly from `today` to
    /// `expires`, the smallest package first, instead of all on one day.
    pub spread: Option<&'a Sizes>,
    /// `name@version` of locked versions that are yanked today (`init --baseline`): their
    /// exemptions also say `allow-yanked = true`, so the yank warns until they expire.
    pub allow_yanked: &'a [String],
}

/// Lines of code per `(name, version)`, for ordering a spread; a package without a size (not
/// classified) comes due last.
pub type Sizes = std::collections::HashMap<(String, String), u64>;

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
    let due = match starter.spread {
        Some(sizes) => {
            specs.sort_by_key(|spec| (sizes.get(spec).copied().unwrap_or(u64::MAX), spec.clone()));
            spread_dates(starter.today, starter.expires, specs.len())
        }
        None => vec![starter.expires; specs.len()],
    };
    for ((name, version), expires) in specs.into_iter().zip(due) {
        let spec = format!("{name}@{version}");
        let (yanked_then, allow) = if starter.allow_yanked.contains(&spec) {
            (" Yanked then.", "allow-yanked = true\n")
        } else {
            ("", "")
        };
        let _ = write!(
            out,
            "\n[[exemption]]\npackage = \"{spec}\"\n\
             reason = \"In Cargo.lock when the project adopted cargo audit-trust.{yanked_then}\"\n\
             expires = {expires}\n{allow}"
        );
    }
    out
}

/// `count` due dates spread evenly over the days after `today` up to `last`: the i-th (from 1)
/// is due after ⌈i·days/count⌉ days, so the last is due on `last` and none before tomorrow.
pub fn spread_dates(today: Date, last: Date, count: usize) -> Vec<Date> {
    let days = last.days_since(today).max(1);
    let n = i64::try_from(count.max(1)).unwrap_or(i64::MAX);
    (1..=n)
        .take(count)
        .map(|i| {
            let offset = (i.saturating_mul(days) + n - 1) / n;
            today.start().plus_days(offset).date()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_dates_are_even_and_end_on_the_last_day() {
        let today = Date::parse("2026-11-01").expect("date");
        let last = Date::parse("2026-11-11").expect("date");
        let dates: Vec<String> = spread_dates(today, last, 4)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            dates,
            ["2026-11-04", "2026-11-06", "2026-11-09", "2026-11-11"]
        );
        // More packages than days: several a day, none today.
        let many = spread_dates(today, last, 25);
        assert_eq!(
            many.first().map(ToString::to_string).as_deref(),
            Some("2026-11-02")
        );
        assert_eq!(many.last(), Some(&last));
        assert!(spread_dates(today, last, 0).is_empty());
    }
}
