//! Risk signals: named, evidenced signs of danger in what a package version brings in relative
//! to a base version (the hijack of `arrayref` in 2026: a look-alike build-time dependency whose
//! build script downloads and runs a binary, minutes-old, good versions yanked). Computed from
//! the published tarballs (read by [`crate::tarball`], scanned with [`crate::classify`]'s
//! lexer) and the index only; nothing is built or run. `docs/risk.md` lists every signal.
//!
//! A signal that cannot be computed (a tarball that cannot be read, an index entry without
//! `pubtime`) is reported as not computed, never as clean. The clock is an input.

pub mod assess;
pub mod build_scan;
pub mod cargo_age;
mod code;
pub mod facts;
mod facts_cache;
pub mod gather;
mod new_deps;
pub mod opaque;
pub mod release;
#[cfg(test)]
mod tests;
pub mod typosquat;

use std::collections::HashMap;

use serde::Serialize;

pub use assess::{Base, RiskContext, Thresholds, assess};
pub use code::{SignalCode, SignalSeverity};
pub use facts::{CrateFacts, crate_facts};

/// Where a signal was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalEvidence {
    /// The package whose files or index entry say it (`name@version`).
    pub package: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Names involved: the dependency, the crate it resembles, the call found, the versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// One signal raised for a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub code: SignalCode,
    pub severity: SignalSeverity,
    pub message: String,
    pub evidence: Vec<SignalEvidence>,
}

/// Signals that could not be computed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotComputed {
    pub signals: Vec<SignalCode>,
    pub why: String,
}

/// Everything found for one package version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageRisk {
    pub name: String,
    pub version: semver::Version,
    /// The version compared with; `None` for the first published version (or no base found).
    pub base: Option<semver::Version>,
    /// Where the base came from: `lockfile`, `index` or `none`.
    pub base_from: &'static str,
    pub signals: Vec<Signal>,
    pub not_computed: Vec<NotComputed>,
}

impl PackageRisk {
    pub fn strongest(&self) -> Option<SignalSeverity> {
        self.signals.iter().map(|s| s.severity).max()
    }
}

/// The signals of every package they were computed for, handed to the gate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskReport {
    packages: HashMap<(String, String), PackageRisk>,
    /// Packages deliberately not assessed, with why: their signals could not change their
    /// verdict (already blocked for another reason) or, in pull-request mode, the change did not
    /// bring them in. Not the same as "not computed": nothing was tried, nothing failed.
    skipped: HashMap<(String, String), Skipped>,
    /// Packages for which nothing could be computed at all, with why (also in each entry).
    pub notes: Vec<String>,
}

/// Why a package's signals were not looked at (see [`RiskReport::skip`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skipped {
    /// Blocked before any signal was looked at: signals can add reasons, never lift a block,
    /// so reading its crate files would change nothing but the report's detail.
    AlreadyBlocked,
    /// Pull-request mode: the base lockfile already had this version.
    NotIntroduced,
}

impl Skipped {
    pub fn why(self) -> &'static str {
        match self {
            Skipped::AlreadyBlocked => {
                "already blocked for another reason, so its signals cannot change the verdict \
                 (`check --signals all` computes them)"
            }
            Skipped::NotIntroduced => "the base lockfile already had this version",
        }
    }
}

impl RiskReport {
    /// Records that `name@version` was deliberately not assessed.
    pub fn skip(&mut self, name: &str, version: &semver::Version, why: Skipped) {
        self.skipped
            .insert((name.to_owned(), version.to_string()), why);
    }

    pub fn skipped(&self, name: &str, version: &semver::Version) -> Option<Skipped> {
        self.skipped
            .get(&(name.to_owned(), version.to_string()))
            .copied()
    }

    pub fn skipped_count(&self) -> usize {
        self.skipped.len()
    }

    pub fn insert(&mut self, risk: PackageRisk) {
        self.packages
            .insert((risk.name.clone(), risk.version.to_string()), risk);
    }

    pub fn get(&self, name: &str, version: &semver::Version) -> Option<&PackageRisk> {
        self.packages.get(&(name.to_owned(), version.to_string()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &PackageRisk> {
        self.packages.values()
    }

    pub fn len(&self) -> usize {
        self.packages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}
