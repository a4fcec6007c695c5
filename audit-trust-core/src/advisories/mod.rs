//! RustSec advisories, read with the `rustsec` crate from a local copy of the advisory database.
//! The database's age is always known: a stale database must never look like a clean result.

use std::path::{Path, PathBuf};

use rustsec::database::Query;
use rustsec::{Collection, Database};
use serde::Serialize;

use crate::Error;
use crate::time::Date;

mod git;

pub use git::{DEFAULT_ADVISORY_DB_URL, fetch_advisory_db, working_copy_commit};

/// cargo-audit's default: a database older than this is stale.
pub const DEFAULT_MAX_AGE_DAYS: i64 = 90;

/// What an advisory says about a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdvisoryKind {
    /// A security vulnerability.
    Vulnerability,
    Unmaintained,
    Unsound,
    Notice,
    /// Another informational kind.
    Informational,
}

impl AdvisoryKind {
    pub fn is_vulnerability(self) -> bool {
        self == AdvisoryKind::Vulnerability
    }
}

/// One advisory that covers one package version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvisoryMatch {
    pub id: String,
    pub kind: AdvisoryKind,
    pub title: String,
    pub date: String,
    /// Version requirements that fix it (empty: no fixed version).
    pub patched: Vec<String>,
    pub aliases: Vec<String>,
    pub url: Option<String>,
}

/// A loaded advisory database and how fresh it is.
#[derive(Debug)]
pub struct AdvisoryDatabase {
    db: Database,
    pub path: PathBuf,
    /// The commit's date for a git copy, else the newest advisory's date (the best freshness
    /// signal a plain folder has).
    pub date: Option<Date>,
    /// The commit read, for a git copy.
    pub commit: Option<String>,
    /// Where it came from: the folder, or the git URL it was fetched from.
    pub source: String,
    pub advisories: usize,
}

impl AdvisoryDatabase {
    /// Opens a database folder laid out like the RustSec repository (`crates/NAME/RUSTSEC-*.md`).
    pub fn open(path: &Path) -> Result<AdvisoryDatabase, Error> {
        if !path.join("crates").is_dir() {
            return Err(Error::AdvisoryDb {
                path: path.to_owned(),
                message: "not an advisory database: it has no `crates/` folder".into(),
            });
        }
        let db = Database::open(path).map_err(|e| Error::AdvisoryDb {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let newest_advisory = db
            .iter()
            .filter_map(|a| Date::parse(a.date().as_str()))
            .max();
        let (commit, date) = match working_copy_commit(path) {
            Some((commit, date)) => (Some(commit), Some(date)),
            None => (None, newest_advisory),
        };
        let advisories = db.iter().count();
        Ok(AdvisoryDatabase {
            db,
            path: path.to_owned(),
            date,
            commit,
            source: path.display().to_string(),
            advisories,
        })
    }

    /// Days between the database's date and `today`; `None` when it has no dated advisory.
    pub fn age_days(&self, today: Date) -> Option<i64> {
        self.date.map(|d| today.days_since(d))
    }

    /// Advisories (withdrawn ones excluded) that affect `name` at `version`. Only crates.io
    /// packages are covered by RustSec, so callers ask only for those.
    pub fn for_package(&self, name: &str, version: &semver::Version) -> Vec<AdvisoryMatch> {
        let Ok(package_name) = name.parse() else {
            return Vec::new();
        };
        let query = Query::new()
            .collection(Collection::Crates)
            .withdrawn(false)
            .package_name(package_name)
            .package_version(version.clone());
        let mut found: Vec<AdvisoryMatch> = self
            .db
            .query(&query)
            .into_iter()
            .map(|a| AdvisoryMatch {
                id: a.id().as_str().to_owned(),
                kind: match &a.metadata.informational {
                    None => AdvisoryKind::Vulnerability,
                    Some(i) if i.is_unmaintained() => AdvisoryKind::Unmaintained,
                    Some(i) if i.is_unsound() => AdvisoryKind::Unsound,
                    Some(i) if i.is_notice() => AdvisoryKind::Notice,
                    Some(_) => AdvisoryKind::Informational,
                },
                title: a.title().to_owned(),
                date: a.date().as_str().to_owned(),
                patched: a
                    .versions
                    .patched()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                aliases: a
                    .metadata
                    .aliases
                    .iter()
                    .map(|id| id.as_str().to_owned())
                    .collect(),
                url: a.metadata.url.as_ref().map(ToString::to_string),
            })
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found
    }
}

#[cfg(test)]
mod tests;
