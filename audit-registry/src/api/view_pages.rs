//! The crate page's organization sections, the auditor page and the trends page: HTML made
//! from the values in `views.rs` (the JSON twins serialize the same values). Text from records,
//! lockfiles and `.crate` files is escaped; the only outside links are repository pages that
//! `views::commit_link` built from checked parts.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::dashboard::{code, crate_link, html_response_with, section};
use super::org_pages::{CSP, header, mix_legend_colours, project_link};
use super::svg::{Series, bar_chart, legend, line_chart};
use super::views::{
    AuditorView, CrateView, RecordBrief, TrendsView, auditor_view, page_of, trends_view,
};
use crate::error::ApiError;
use crate::html::{Table, escape, page};

/// A link to an auditor's page (names are checked; others stay text).
pub fn auditor_link(name: &str) -> String {
    if crate::valid_name(name) {
        format!("<a href=\"/auditors/{0}\">{0}</a>", escape(name))
    } else {
        escape(name)
    }
}

/// The sections the crate page gains from the organization's view.
pub fn crate_sections(view: &CrateView) -> String {
    let mut out = String::new();
    let mut versions = Table::new(&["version", "lines of code", "used by (status there)"]);
    for v in &view.versions {
        let uses: Vec<String> = v
            .projects
            .iter()
            .map(|(p, status)| format!("{} ({})", project_link(p), escape(status)))
            .collect();
        versions.row(&[
            escape(&v.version),
            v.code_lines
                .map_or_else(|| "unknown".into(), |n| n.to_string()),
            uses.join(", "),
        ]);
    }
    out.push_str(&section(
        "versions",
        "Versions in the organization's projects",
        &versions.finish("No registered project uses this crate."),
    ));
    let mut provenance = Table::new(&[
        "version",
        "verdict",
        "signed",
        "repository",
        "checked",
        "reason",
    ]);
    for p in &view.provenance {
        let repository = match (&p.link, &p.repository) {
            (Some(link), Some(repo)) => format!(
                "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">{}</a>{}",
                escape(link),
                escape(repo),
                p.commit
                    .as_deref()
                    .map_or_else(String::new, |c| format!(" at {}", code(c)))
            ),
            (None, Some(repo)) => format!(
                "{}{}",
                code(repo),
                p.commit
                    .as_deref()
                    .map_or_else(String::new, |c| format!(" at {}", code(c)))
            ),
            _ => String::new(),
        };
        let class = if p.verdict == "matches" {
            ""
        } else {
            " class=\"flag\""
        };
        provenance.row(&[
            escape(&p.version),
            format!("<span{class}>{}</span>", escape(&p.verdict)),
            if p.signed { "source-matches" } else { "no" }.into(),
            repository,
            escape(&p.checked),
            format!("<div class=\"text\">{}</div>", escape(&p.reason)),
        ]);
    }
    out.push_str(&section(
        "provenance",
        "Provenance (automatic auditor)",
        &provenance.finish("The automatic auditor has not verified any version of this crate."),
    ));
    let mut risk = Table::new(&["version", "compared with", "signals", "not computed"]);
    for r in &view.risk {
        let mut signals = String::new();
        for s in &r.signals {
            let _ = write!(
                signals,
                "<div class=\"text\"><span class=\"sev-{0}\">{0}</span> {1}: {2}</div>",
                escape(s.severity.as_str()),
                escape(s.code.code()),
                escape(&s.message)
            );
        }
        if r.signals.is_empty() && r.not_computed.len() <= 1 {
            signals.push_str("none");
        }
        let not: Vec<String> = r
            .not_computed
            .iter()
            .map(|n| {
                let codes: Vec<&str> = n.signals.iter().map(|c| c.code()).collect();
                format!(
                    "<div class=\"text\">{}: {}</div>",
                    escape(&codes.join(", ")),
                    escape(&n.why)
                )
            })
            .collect();
        risk.row(&[
            escape(&r.version.to_string()),
            r.base
                .as_ref()
                .map_or_else(|| "—".into(), |b| escape(&b.to_string())),
            signals,
            not.concat(),
        ]);
    }
    out.push_str(&section(
        "risk",
        "Risk signals",
        &risk.finish("No version of this crate was read by the automatic auditor."),
    ));
    out
}

fn briefs_table(records: &[RecordBrief], with_crate: bool) -> String {
    let mut headers = vec!["kind"];
    if with_crate {
        headers.push("crate");
    }
    headers.extend(["version", "signed", "criteria or reason", "notes", "record"]);
    let mut table = Table::new(&headers);
    for r in records {
        let mut kind = escape(&r.kind);
        if r.kind == "flag" {
            kind = format!("<span class=\"flag\">{kind}</span>");
        }
        let mut cells = vec![kind];
        if with_crate {
            cells.push(crate_link(&r.filed_under));
        }
        cells.push(escape(r.version()));
        cells.push(escape(&r.created));
        let what = match (&r.criteria, &r.reason) {
            (Some(c), _) => c.join(", "),
            (None, Some(reason)) => format!("reason: {reason}"),
            _ => String::new(),
        };
        cells.push(format!("<div class=\"text\">{}</div>", escape(&what)));
        cells.push(format!(
            "<div class=\"text\">{}</div>",
            escape(r.notes.as_deref().unwrap_or(""))
        ));
        cells.push(code(&r.id));
        table.row(&cells);
    }
    table.finish("None.")
}

fn not_found(what: &str) -> Response {
    let body = format!("{}<p>{}</p>", header("Not found"), escape(what));
    html_response_with(
        StatusCode::NOT_FOUND,
        &page("audit-registry: not found", &body),
        CSP,
    )
}

fn auditor_html(v: &AuditorView) -> String {
    let mut body = header(&escape(&v.name));
    let kinds: Vec<String> = v
        .by_kind
        .iter()
        .map(|(k, n)| format!("{n} {}", escape(k)))
        .collect();
    let _ = write!(
        body,
        "<p id=\"counts\">{} records ({}) on {} crates.</p>",
        v.records,
        if kinds.is_empty() {
            "none".into()
        } else {
            kinds.join(", ")
        },
        v.crates_total
    );
    let mut keys = Table::new(&[
        "key",
        "registered here",
        "pinned by the policy",
        "counts until",
    ]);
    for k in &v.keys {
        keys.row(&[
            code(&k.key),
            if k.registered { "yes" } else { "no" }.into(),
            if k.pinned { "yes" } else { "no" }.into(),
            escape(k.not_after.as_deref().unwrap_or("")),
        ]);
    }
    body.push_str(&section("keys", "Keys", &keys.finish("No key.")));
    let covers = if v.covers.is_empty() {
        "<p class=\"empty\">The organization policy does not name this auditor.</p>".to_owned()
    } else {
        let list: Vec<String> = v.covers.iter().map(|c| code(c)).collect();
        format!(
            "<p>The organization policy lets it cover {}.</p>",
            list.join(", ")
        )
    };
    body.push_str(&section("covers", "Covers", &covers));
    body.push_str(&section("flags", "Flags", &briefs_table(&v.flags, true)));
    body.push_str(&section(
        "recent",
        "Recent records",
        &briefs_table(&v.recent, true),
    ));
    let mut crates = Table::new(&["crate", "records"]);
    for (name, n) in &v.crates {
        crates.row(&[crate_link(name), n.to_string()]);
    }
    let mut crates_html = crates.finish("No record yet.");
    // Names were checked to be plain; pages are numbers.
    if v.page > 1 {
        let _ = write!(
            crates_html,
            "<a rel=\"prev\" href=\"/auditors/{}?page={}\">previous page</a> ",
            escape(&v.name),
            v.page - 1
        );
    }
    if v.more {
        let _ = write!(
            crates_html,
            "<a rel=\"next\" href=\"/auditors/{}?page={}\">next page</a>",
            escape(&v.name),
            v.page + 1
        );
    }
    body.push_str(&section(
        "crates",
        "Crates it covers with records",
        &crates_html,
    ));
    body
}

/// `GET /auditors/{name}[?page=N]`
pub(super) async fn auditor(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if !crate::valid_name(&name) {
        return Ok(not_found("No auditor of that name."));
    }
    let page_number = match page_of(&query) {
        Ok(p) => p,
        Err(message) => {
            let body = format!(
                "{}<p class=\"flag\">{}</p>",
                header("Auditor"),
                escape(&message)
            );
            return Ok(html_response_with(
                StatusCode::BAD_REQUEST,
                &page("audit-registry", &body),
                CSP,
            ));
        }
    };
    let Some(view) = auditor_view(&state, &name, page_number).await? else {
        return Ok(not_found("No auditor of that name."));
    };
    Ok(html_response_with(
        StatusCode::OK,
        &page(
            &format!("{}: auditor: audit-registry", view.name),
            &auditor_html(&view),
        ),
        CSP,
    ))
}

fn trends_html(t: &TrendsView) -> String {
    let mut body = header("Trends");
    let points: Vec<(String, f64)> = t
        .coverage
        .iter()
        .map(|c| (c.day.clone(), c.percent))
        .collect();
    let latest = t.coverage.last().map_or_else(
        || "No evaluation yet: coverage is sampled each day the projects are evaluated.".to_owned(),
        |c| {
            format!(
                "{}: {:.1}% of {} third-party packages over {} projects have evidence; {} have none.",
                c.day, c.percent, c.sample.packages, c.sample.projects, c.sample.backlog
            )
        },
    );
    body.push_str(&section(
        "coverage",
        "Evidence coverage across all projects",
        &format!(
            "{}<p>{}</p>",
            line_chart(
                "coverage-chart",
                "evidence coverage, percent of packages",
                "%",
                &points,
                Some(100.0)
            ),
            escape(&latest)
        ),
    ));
    let labels: Vec<String> = t.weeks.iter().map(|w| w.week.clone()).collect();
    let (green, red, grey) = mix_legend_colours();
    let signoffs = [Series {
        name: "sign-offs",
        colour: green,
        values: t.weeks.iter().map(|w| w.signoffs as f64).collect(),
    }];
    let total: i64 = t.weeks.iter().map(|w| w.signoffs).sum();
    body.push_str(&section(
        "signoffs",
        "Sign-offs per week",
        &format!(
            "{}<p>{total} sign-offs in the last {} weeks, by the date their auditor signed them.</p>",
            bar_chart("signoffs-chart", "sign-offs per week", &labels, &signoffs),
            t.weeks.len()
        ),
    ));
    let verifications = [
        Series {
            name: "verified",
            colour: grey,
            values: t.weeks.iter().map(|w| w.verified as f64).collect(),
        },
        Series {
            name: "failed (differs, unverifiable, checksum mismatch)",
            colour: red,
            values: t.weeks.iter().map(|w| w.failed as f64).collect(),
        },
    ];
    let failed: i64 = t.weeks.iter().map(|w| w.failed).sum();
    body.push_str(&section(
        "failures",
        "Verifications by the automatic auditor per week",
        &format!(
            "{}{}<p>{failed} verifications did not match in the last {} weeks.</p>",
            bar_chart(
                "failures-chart",
                "verifications per week",
                &labels,
                &verifications
            ),
            legend(&verifications),
            t.weeks.len()
        ),
    ));
    body
}

/// `GET /trends`
pub(super) async fn trends(State(state): State<AppState>) -> Result<Response, ApiError> {
    let view = trends_view(&state).await?;
    Ok(html_response_with(
        StatusCode::OK,
        &page("Trends: audit-registry", &trends_html(&view)),
        CSP,
    ))
}
