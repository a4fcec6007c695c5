//! The data of the crate, auditor and trends pages, one value per page: the pages in
//! `view_pages.rs` render it and the JSON twins below serialize it, so both always agree.
//!
//! - `GET /v1/crates/{name}/summary`: versions seen in projects, records, provenance, risk.
//! - `GET /v1/auditors/{name}[?page=N]`: keys, record counts, recent records, flags, crates.
//! - `GET /v1/trends`: coverage per day, sign-offs and verifications per week.

use std::collections::{BTreeMap, HashMap};

use audit_trust_core::audit_file::RiskPolicy;
use audit_trust_core::names::validate_crate_name;
use audit_trust_core::risk::{Base, PackageRisk, RiskContext, Thresholds, assess};
use audit_trust_core::time::Timestamp;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::projects::snapshot;
use crate::error::ApiError;
use crate::org::{week_of, week_start};

/// Records listed per page of a crate or an auditor; crates per page of an auditor.
pub const PER_PAGE: usize = 100;
/// Highest page asked for.
const MAX_PAGE: usize = 10_000;
/// Recent records and flags on an auditor's page.
const RECENT: usize = 50;
/// Weeks the trend charts span.
pub const TREND_WEEKS: i64 = 52;

/// The parts of a stored record the pages list. Records were verified when they were
/// published; this reads them again without the signature check, which a page does not need.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordBrief {
    pub id: String,
    pub kind: String,
    pub key: String,
    pub created: String,
    #[serde(rename = "crate", default)]
    pub subject: Option<BriefSubject>,
    #[serde(default)]
    pub git: Option<BriefSubject>,
    #[serde(default)]
    pub criteria: Option<Vec<String>>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub revokes: Option<String>,
    /// The auditor registered with the key, filled in after reading.
    #[serde(default)]
    pub auditor: Option<String>,
    /// The crate the record is filed under, filled in after reading.
    #[serde(default)]
    pub filed_under: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BriefSubject {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

impl RecordBrief {
    fn read(filed_under: &str, body: &str, auditors: &HashMap<String, String>) -> Option<Self> {
        let mut brief: RecordBrief = serde_json::from_str(body).ok()?;
        brief.auditor = auditors.get(&brief.key).cloned();
        brief.filed_under = filed_under.to_owned();
        Some(brief)
    }

    pub fn version(&self) -> &str {
        self.subject
            .as_ref()
            .or(self.git.as_ref())
            .map_or("", |s| s.version.as_str())
    }
}

fn page_number(query: &HashMap<String, String>) -> Result<usize, ApiError> {
    match query.get("page") {
        None => Ok(1),
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or_else(|| {
                ApiError::bad_request("bad-page", format!("page is a number from 1 to {MAX_PAGE}"))
            }),
    }
}

/// Key → registered auditor name.
async fn auditor_names(state: &AppState) -> Result<HashMap<String, String>, ApiError> {
    Ok(state
        .db
        .auditors()
        .await?
        .into_iter()
        .map(|(name, key)| (key, name))
        .collect())
}

/// One version of a crate as the organization uses it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSeen {
    pub version: String,
    /// `(project, status there)`.
    pub projects: Vec<(String, &'static str)>,
    pub code_lines: Option<u64>,
}

/// One verification by the automatic auditor.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenanceRow {
    pub version: String,
    pub verdict: String,
    pub reason: String,
    pub signed: bool,
    pub checked: String,
    pub repository: Option<String>,
    pub commit: Option<String>,
    pub tag: Option<String>,
    /// The repository's page for the commit (or tag), for well-known hosts only.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CrateView {
    pub name: String,
    pub versions: Vec<VersionSeen>,
    pub provenance: Vec<ProvenanceRow>,
    /// Newest version first; each against the previous version this registry read.
    pub risk: Vec<PackageRisk>,
    pub records: Vec<RecordBrief>,
}

/// A repository's web page for `commit` (or `tag`): only `https://` on GitHub, GitLab or
/// Codeberg, with an `owner/name` path of plain characters and a hex commit; anything else
/// stays text, since the URL comes from a `.crate` or a record.
pub fn commit_link(repository: &str, commit: Option<&str>, tag: Option<&str>) -> Option<String> {
    let rest = repository.strip_prefix("https://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let (host, path) = rest.split_once('/')?;
    if !matches!(host, "github.com" | "gitlab.com" | "codeberg.org") {
        return None;
    }
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let mut segments = path.split('/');
    let (Some(owner), Some(name), None) = (segments.next(), segments.next(), segments.next())
    else {
        return None;
    };
    if !plain(owner) || !plain(name) {
        return None;
    }
    let base = format!("https://{host}/{owner}/{name}");
    if let Some(c) = commit
        && (c.len() == 40 || c.len() == 64)
        && c.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Some(format!("{base}/commit/{c}"));
    }
    let tag = tag.filter(|t| plain(t) || t.chars().all(|c| c.is_ascii_alphanumeric()))?;
    Some(match host {
        "gitlab.com" => format!("{base}/-/tags/{tag}"),
        "codeberg.org" => format!("{base}/src/tag/{tag}"),
        _ => format!("{base}/tree/{tag}"),
    })
}

pub async fn crate_view(state: &AppState, name: &str) -> Result<CrateView, ApiError> {
    let lower = name.to_ascii_lowercase();
    let snap = snapshot(state).await?;
    let facts = state.db.version_facts(&lower).await?;
    let lines: HashMap<&str, u64> = facts
        .iter()
        .filter_map(|f| Some((f.version.as_str(), f.facts.code_lines?)))
        .collect();
    let versions = snap
        .versions_of(&lower)
        .into_iter()
        .rev()
        .map(|(version, projects)| {
            let version = version.to_string();
            VersionSeen {
                code_lines: lines.get(version.as_str()).copied(),
                version,
                projects,
            }
        })
        .collect();
    let provenance = state
        .db
        .verifications(&lower)
        .await?
        .into_iter()
        .map(|v| {
            let text = |k: &str| v.report[k].as_str().map(str::to_owned);
            let repository = text("repository").or_else(|| text("claimed_repository"));
            let (commit, tag) = (text("commit"), text("tag"));
            let link = repository
                .as_deref()
                .and_then(|r| commit_link(r, commit.as_deref(), tag.as_deref()));
            ProvenanceRow {
                version: v.version,
                verdict: v.verdict,
                reason: v.reason,
                signed: v.signed,
                checked: Timestamp(v.checked).to_string(),
                repository,
                commit,
                tag,
                link,
            }
        })
        .collect();
    let risk = risk_of(&lower, facts, state.clock.now());
    let auditors = auditor_names(state).await?;
    let mut records: Vec<RecordBrief> = state
        .db
        .crate_records(std::slice::from_ref(&lower))
        .await?
        .iter()
        .filter_map(|r| RecordBrief::read(&r.crate_name, &r.body, &auditors))
        .collect();
    records.sort_by(|a, b| (&b.created, &b.id).cmp(&(&a.created, &a.id)));
    Ok(CrateView {
        name: lower,
        versions,
        provenance,
        risk,
        records,
    })
}

/// Risk signals of each version read, against the previous version read (in version order);
/// the index is not read here, so its signals are "not computed" with why.
fn risk_of(
    name: &str,
    facts: Vec<crate::db::views::StoredFacts>,
    now: Timestamp,
) -> Vec<PackageRisk> {
    let mut versions: Vec<(semver::Version, crate::db::views::StoredFacts)> = facts
        .into_iter()
        .filter_map(|f| Some((semver::Version::parse(&f.version).ok()?, f)))
        .collect();
    versions.sort_by(|a, b| a.0.cmp(&b.0));
    let mut ctx = RiskContext {
        now: Some(now),
        thresholds: Some(Thresholds::from_policy(&RiskPolicy::default(), None)),
        ..RiskContext::default()
    };
    ctx.index.insert(
        name.to_owned(),
        Err("the dashboard does not read the crates.io index".to_owned()),
    );
    let mut previous: Option<semver::Version> = None;
    for (version, stored) in &versions {
        let spec = format!("{name}@{version}");
        ctx.facts
            .insert(spec.clone(), stored.facts.risk_facts.clone());
        ctx.lockfile.push((name.to_owned(), version.clone()));
        let base = match &previous {
            Some(v) => Base::Version {
                version: v.clone(),
                from: "registry",
            },
            None => Base::Unknown("no earlier version of this crate was read here".to_owned()),
        };
        ctx.bases.insert(spec, base);
        previous = Some(version.clone());
    }
    versions
        .iter()
        .rev()
        .map(|(version, _)| assess(&ctx, name, version))
        .collect()
}

/// `GET /v1/crates/{name}/summary`
pub(super) async fn crate_json(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<CrateView>, ApiError> {
    validate_crate_name(&name).map_err(|e| ApiError::bad_request("bad-name", e.to_string()))?;
    Ok(Json(crate_view(&state, &name).await?))
}

/// One key of an auditor.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub key: String,
    /// Registered with this registry (`registry`) or pinned by the organization policy
    /// (`policy`), or both.
    pub registered: bool,
    pub pinned: bool,
    pub not_after: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditorView {
    pub name: String,
    pub keys: Vec<KeyInfo>,
    /// Patterns the organization policy lets it cover (empty: not in the policy).
    pub covers: Vec<String>,
    pub records: usize,
    /// Records by kind (`sign-off`, `flag`, `revocation`).
    pub by_kind: BTreeMap<String, usize>,
    pub recent: Vec<RecordBrief>,
    pub flags: Vec<RecordBrief>,
    /// This page's crates with how many of its records each holds.
    pub crates: Vec<(String, usize)>,
    pub crates_total: usize,
    pub page: usize,
    pub per_page: usize,
    pub more: bool,
}

/// `None`: no auditor of that name, registered or in the policy.
pub async fn auditor_view(
    state: &AppState,
    name: &str,
    page: usize,
) -> Result<Option<AuditorView>, ApiError> {
    let registered = state
        .db
        .auditors()
        .await?
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, key)| key);
    let snap = snapshot(state).await?;
    let pins = snap.policy.as_ref().and_then(|p| p.pins.get(name)).cloned();
    if registered.is_none() && pins.is_none() {
        return Ok(None);
    }
    let pins = pins.unwrap_or_default();
    let mut keys: Vec<KeyInfo> = Vec::new();
    if let Some(key) = &registered {
        keys.push(KeyInfo {
            key: key.clone(),
            registered: true,
            pinned: false,
            not_after: None,
        });
    }
    for (key, not_after) in &pins.keys {
        match keys.iter_mut().find(|k| &k.key == key) {
            Some(k) => {
                k.pinned = true;
                k.not_after.clone_from(not_after);
            }
            None => keys.push(KeyInfo {
                key: key.clone(),
                registered: false,
                pinned: true,
                not_after: not_after.clone(),
            }),
        }
    }
    let auditors = auditor_names(state).await?;
    let mut all: Vec<RecordBrief> = Vec::new();
    for k in &keys {
        for (filed_under, body) in state.db.records_by_key(&k.key).await? {
            all.extend(RecordBrief::read(&filed_under, &body, &auditors));
        }
    }
    all.sort_by(|a, b| (&b.created, &b.id).cmp(&(&a.created, &a.id)));
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_crate: BTreeMap<String, usize> = BTreeMap::new();
    for r in &all {
        *by_kind.entry(r.kind.clone()).or_default() += 1;
        *per_crate.entry(r.filed_under.clone()).or_default() += 1;
    }
    let flags = all
        .iter()
        .filter(|r| r.kind == "flag")
        .take(RECENT)
        .cloned()
        .collect();
    let crates_total = per_crate.len();
    let skip = (page - 1) * PER_PAGE;
    Ok(Some(AuditorView {
        name: name.to_owned(),
        keys,
        covers: pins.covers,
        records: all.len(),
        by_kind,
        recent: all.iter().take(RECENT).cloned().collect(),
        flags,
        crates: per_crate.into_iter().skip(skip).take(PER_PAGE).collect(),
        crates_total,
        page,
        per_page: PER_PAGE,
        more: skip + PER_PAGE < crates_total,
    }))
}

/// `GET /v1/auditors/{name}[?page=N]`
pub(super) async fn auditor_json(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<AuditorView>, ApiError> {
    if !crate::valid_name(&name) {
        return Err(ApiError::bad_request(
            "bad-name",
            "an auditor name is 1 to 64 ASCII letters, digits, `-`, `_` or `.`",
        ));
    }
    let page = page_number(&query)?;
    auditor_view(&state, &name, page)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such auditor"))
}

/// Parses `?page=` for the pages.
pub fn page_of(query: &HashMap<String, String>) -> Result<usize, String> {
    page_number(query).map_err(|_| format!("page is a number from 1 to {MAX_PAGE}"))
}

/// Coverage on one day.
#[derive(Debug, Clone, Serialize)]
pub struct CoveragePoint {
    pub day: String,
    #[serde(flatten)]
    pub sample: crate::db::views::CoverageSample,
    /// `covered / packages` in percent (100 with no packages).
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeekPoint {
    /// The Monday the week starts on.
    pub week: String,
    pub signoffs: i64,
    pub verified: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendsView {
    pub coverage: Vec<CoveragePoint>,
    /// The last [`TREND_WEEKS`] weeks, oldest first, every week present.
    pub weeks: Vec<WeekPoint>,
}

pub async fn trends_view(state: &AppState) -> Result<TrendsView, ApiError> {
    let snap = snapshot(state).await?;
    let coverage = state
        .db
        .coverage_samples()
        .await?
        .into_iter()
        .map(|(day, sample)| CoveragePoint {
            day,
            percent: if sample.packages == 0 {
                100.0
            } else {
                (sample.covered as f64) * 100.0 / (sample.packages as f64)
            },
            sample,
        })
        .collect();
    let this_week = week_of(state.clock.now().0);
    let first = this_week - TREND_WEEKS + 1;
    let since = first * crate::db::views::WEEK - crate::db::views::MONDAY_OFFSET;
    let verified: HashMap<i64, (i64, i64)> = state
        .db
        .verification_weeks(since)
        .await?
        .into_iter()
        .map(|w| (w.week, (w.verified, w.failed)))
        .collect();
    let signoffs: HashMap<i64, i64> = snap
        .signoff_weeks
        .iter()
        .map(|w| (w.week, w.count))
        .collect();
    let weeks = (first..=this_week)
        .map(|week| {
            let (verified, failed) = verified.get(&week).copied().unwrap_or((0, 0));
            WeekPoint {
                week: week_start(week),
                signoffs: signoffs.get(&week).copied().unwrap_or(0),
                verified,
                failed,
            }
        })
        .collect();
    Ok(TrendsView { coverage, weeks })
}

/// `GET /v1/trends`
pub(super) async fn trends_json(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        serde_json::to_value(trends_view(&state).await?).unwrap_or(Value::Null),
    ))
}

#[cfg(test)]
mod tests {
    use super::commit_link;

    #[test]
    fn only_plain_repository_urls_on_known_hosts_become_links() {
        let sha = "a".repeat(40);
        assert_eq!(
            commit_link("https://github.com/o/n.git", Some(&sha), None).as_deref(),
            Some(format!("https://github.com/o/n/commit/{sha}").as_str())
        );
        assert_eq!(
            commit_link("https://gitlab.com/o/n", None, Some("v1.0.0")).as_deref(),
            Some("https://gitlab.com/o/n/-/tags/v1.0.0")
        );
        for hostile in [
            "javascript:alert(1)//github.com/o/n",
            "http://github.com/o/n",
            "https://github.com.evil.example/o/n",
            "https://github.com/o/n/../../x",
            "https://github.com/o\"><script>/n",
            "https://github.com/o/n?x=1",
            "https://evil.example/o/n",
        ] {
            assert_eq!(
                commit_link(hostile, Some(&sha), Some("v1")),
                None,
                "{hostile}"
            );
        }
        assert_eq!(
            commit_link("https://github.com/o/n", Some("not-hex"), None),
            None
        );
        assert_eq!(
            commit_link("https://github.com/o/n", None, Some("v1\"onload=x")),
            None
        );
    }
}
