//! Reads behind the crate, auditor and trends pages: records by signing key, every record's
//! body (for sign-offs per week), verification outcomes per week, and the daily samples of the
//! organization's evidence coverage (written when an evaluation is built, so the chart shows the
//! days the registry was read on).

use sqlx::Row as _;

use super::{Db, DbError};

pub(super) const SCHEMA: &[&str] = &[
    // One row per day: the last evaluation of that day wins.
    "CREATE TABLE IF NOT EXISTS coverage_samples (
        day TEXT PRIMARY KEY,
        projects BIGINT NOT NULL,
        packages BIGINT NOT NULL,
        covered BIGINT NOT NULL,
        backlog BIGINT NOT NULL,
        blocked_projects BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS verifications_by_checked ON verifications (checked)",
    // `risk`: `{"facts": …}` or `{"error": "why"}`.
    "CREATE TABLE IF NOT EXISTS version_facts (
        crate_name TEXT NOT NULL,
        version TEXT NOT NULL,
        code_lines BIGINT,
        risk TEXT NOT NULL,
        PRIMARY KEY (crate_name, version)
    )",
];

/// The organization's coverage on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct CoverageSample {
    pub projects: i64,
    /// Packages over all projects (a package used by two projects counts twice).
    pub packages: i64,
    /// Of those, admitted with evidence (signed, exempted, first-party, other platform).
    pub covered: i64,
    /// Of those, with no evidence at all.
    pub backlog: i64,
    pub blocked_projects: i64,
}

/// Verifications finished in one week.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WeekOutcomes {
    /// Weeks since Monday 1969-12-29 (see [`WEEK`]).
    pub week: i64,
    pub verified: i64,
    /// Verdicts other than `matches`.
    pub failed: i64,
}

/// Seconds in a week, and the offset that makes weeks start on Monday: 1970-01-01 was a
/// Thursday, so week 0 starts on Monday 1969-12-29, three days before the epoch.
pub const WEEK: i64 = 7 * 86_400;
pub const MONDAY_OFFSET: i64 = 3 * 86_400;

/// Days of coverage kept for the chart (two years).
const MAX_SAMPLES: i64 = 730;

impl Db {
    /// Stores `sample` as `day`'s (`YYYY-MM-DD`), replacing an earlier one of the same day.
    pub async fn record_coverage(&self, day: &str, sample: CoverageSample) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO coverage_samples (day, projects, packages, covered, backlog, \
             blocked_projects) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (day) DO UPDATE SET \
             projects = excluded.projects, packages = excluded.packages, \
             covered = excluded.covered, backlog = excluded.backlog, \
             blocked_projects = excluded.blocked_projects",
        )
        .bind(day)
        .bind(sample.projects)
        .bind(sample.packages)
        .bind(sample.covered)
        .bind(sample.backlog)
        .bind(sample.blocked_projects)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest [`MAX_SAMPLES`] days of coverage, oldest first.
    pub async fn coverage_samples(&self) -> Result<Vec<(String, CoverageSample)>, DbError> {
        let rows = sqlx::query(
            "SELECT day, projects, packages, covered, backlog, blocked_projects \
             FROM coverage_samples ORDER BY day DESC LIMIT $1",
        )
        .bind(MAX_SAMPLES)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    CoverageSample {
                        projects: r.try_get(1)?,
                        packages: r.try_get(2)?,
                        covered: r.try_get(3)?,
                        backlog: r.try_get(4)?,
                        blocked_projects: r.try_get(5)?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        out.reverse();
        Ok(out)
    }

    /// Verifications per week since `since` (Unix seconds), oldest first.
    pub async fn verification_weeks(&self, since: i64) -> Result<Vec<WeekOutcomes>, DbError> {
        let rows = sqlx::query(
            "SELECT (checked + $1) / $2 AS week, COUNT(*), \
             SUM(CASE WHEN verdict = 'matches' THEN 0 ELSE 1 END) \
             FROM verifications WHERE checked >= $3 GROUP BY week ORDER BY week",
        )
        .bind(MONDAY_OFFSET)
        .bind(WEEK)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WeekOutcomes {
                    week: r.try_get(0)?,
                    verified: r.try_get(1)?,
                    failed: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Every record's body (records are never deleted; read once per evaluation).
    pub async fn record_bodies(&self) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query("SELECT body FROM records")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// `(crate, body)` of every record signed by `key`.
    pub async fn records_by_key(&self, key: &str) -> Result<Vec<(String, String)>, DbError> {
        let rows = sqlx::query(
            "SELECT crate_name, body FROM records WHERE public_key = $1 \
             ORDER BY head_sequence DESC, id",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

/// What the automatic auditor read from a version's `.crate` besides its provenance.
#[derive(Debug, Clone)]
pub struct VersionFacts {
    /// Non-blank, non-comment lines of Rust in its sources; `None` when they cannot be counted.
    pub code_lines: Option<u64>,
    /// The facts risk signals are computed from, or why they cannot be read.
    pub risk_facts: Result<audit_trust_core::risk::CrateFacts, String>,
}

impl VersionFacts {
    /// Reads them from a `.crate` the caller downloaded and opened (`size`: its bytes).
    pub fn read(
        name: &str,
        version: &str,
        archive: &audit_trust_core::tarball::CrateArchive,
        size: usize,
    ) -> VersionFacts {
        let files = archive
            .files()
            .iter()
            .map(|f| (f.path.as_str(), f.contents.as_slice()));
        let code_lines = audit_trust_core::classify::classify_files(files)
            .ok()
            .map(|c| c.code_lines);
        let spec = format!("{name}@{version}");
        VersionFacts {
            code_lines,
            risk_facts: audit_trust_core::risk::crate_facts(&spec, archive, size as u64),
        }
    }
}

/// Stored risk facts larger than this are kept as "too large to keep" (a crate with a huge
/// number of build-time call sites).
const MAX_FACTS_BYTES: usize = 256 * 1024;

impl Db {
    /// Stores (or replaces) what was read of `name@version`.
    pub async fn record_version_facts(
        &self,
        name: &str,
        version: &str,
        facts: &VersionFacts,
    ) -> Result<(), DbError> {
        let risk = match &facts.risk_facts {
            Ok(f) => serde_json::json!({ "facts": f }),
            Err(why) => serde_json::json!({ "error": why }),
        };
        let mut risk = risk.to_string();
        if risk.len() > MAX_FACTS_BYTES {
            risk =
                serde_json::json!({ "error": "its risk facts were too large to keep" }).to_string();
        }
        sqlx::query(
            "INSERT INTO version_facts (crate_name, version, code_lines, risk) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (crate_name, version) DO UPDATE SET \
             code_lines = excluded.code_lines, risk = excluded.risk",
        )
        .bind(name)
        .bind(version)
        .bind(
            facts
                .code_lines
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        )
        .bind(risk)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `(version, code lines, risk facts or why not)` of every version of `name` read.
    pub async fn version_facts(&self, name: &str) -> Result<Vec<StoredFacts>, DbError> {
        let rows = sqlx::query(
            "SELECT version, code_lines, risk FROM version_facts WHERE crate_name = $1",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let risk: String = r.try_get(2)?;
                let value: serde_json::Value =
                    serde_json::from_str(&risk).unwrap_or(serde_json::Value::Null);
                let risk_facts = match serde_json::from_value(value["facts"].clone()) {
                    Ok(f) => Ok(f),
                    Err(_) => Err(value["error"]
                        .as_str()
                        .unwrap_or("its risk facts could not be read back")
                        .to_owned()),
                };
                Ok(StoredFacts {
                    version: r.try_get(0)?,
                    facts: VersionFacts {
                        code_lines: r
                            .try_get::<Option<i64>, _>(1)?
                            .and_then(|n| u64::try_from(n).ok()),
                        risk_facts,
                    },
                })
            })
            .collect()
    }

    /// Lines of code of every version read, by `(name, version)`.
    pub async fn code_lines(
        &self,
    ) -> Result<std::collections::HashMap<(String, String), u64>, DbError> {
        let rows = sqlx::query(
            "SELECT crate_name, version, code_lines FROM version_facts WHERE code_lines IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = std::collections::HashMap::new();
        for r in &rows {
            if let Ok(n) = u64::try_from(r.try_get::<i64, _>(2)?) {
                out.insert((r.try_get(0)?, r.try_get(1)?), n);
            }
        }
        Ok(out)
    }
}

/// One version's stored facts.
#[derive(Debug, Clone)]
pub struct StoredFacts {
    pub version: String,
    pub facts: VersionFacts,
}
