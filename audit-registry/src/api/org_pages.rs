//! The organization's pages, rendered on the server with no script: `GET /projects` (every
//! project's status, evidence mix and backlog), `GET /projects/{name}` (its gate report grouped
//! by status, and what changed since its previous lockfile), `GET /search?q=…` (crates by name
//! prefix, auditors, a record by id). The JSON twins are in `projects.rs`.
//!
//! Lockfiles, policies and records are attacker-controlled text: everything shown passes through
//! `html::escape`; only validated names (projects, crates) become links; charts are inline SVG
//! made of numbers only.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::dashboard::{code, crate_link, html_response_with, section};
use super::projects::{
    MAX_QUERY_LEN, PACKAGES_PER_PAGE, PER_PAGE, groups_page, search as run_search, search_query,
    snapshot, valid_project_name,
};
use crate::error::ApiError;
use crate::html::{Table, escape, page};
use crate::org::{EvidenceMix, NOT_CONSULTED, ProjectStatus, ProjectView};

/// As the dashboard's, but the search form may submit to this server.
pub(super) const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

const STYLE: &str = "<style>.passes{color:#060;font-weight:600}.blocked{color:#a00;font-weight:600}\
.no-policy{color:#777}nav{margin:.3em 0}.legend span{margin-right:1em}\
.sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:middle}</style>";

/// Colours of the evidence mix, in [`EvidenceMix::parts`] order.
const COLOURS: [&str; 8] = [
    "#2e7d32", "#66bb6a", "#9ccc65", "#c5e1a5", "#90a4ae", "#cfd8dc", "#ffb300", "#c62828",
];

pub(super) fn header(title_html: &str) -> String {
    format!(
        "{STYLE}<header><p><a href=\"/\">audit-registry</a> · <a href=\"/projects\">Projects</a> · \
         <a href=\"/search\">Search</a> · <a href=\"/trends\">Trends</a></p><h1>{title_html}</h1>{}</header>",
        search_form("")
    )
}

fn search_form(value: &str) -> String {
    format!(
        "<form method=\"get\" action=\"/search\" role=\"search\"><input type=\"search\" name=\"q\" \
         maxlength=\"{MAX_QUERY_LEN}\" value=\"{}\" placeholder=\"crate prefix, auditor or record id\" \
         aria-label=\"search\"> <button type=\"submit\">Search</button></form>",
        escape(value)
    )
}

/// Green, red and grey of the evidence mix, for the trend charts.
pub(super) fn mix_legend_colours() -> (&'static str, &'static str, &'static str) {
    (COLOURS[0], COLOURS[7], COLOURS[4])
}

fn status_cell(status: ProjectStatus) -> String {
    format!("<span class=\"{0}\">{0}</span>", escape(status.as_str()))
}

/// The evidence mix as a horizontal bar of `width` pixels: inline SVG, numbers only.
pub fn mix_bar(mix: &EvidenceMix, width: u32) -> String {
    let parts = mix.parts();
    let total: usize = parts.iter().map(|(_, n)| n).sum();
    let mut svg = format!(
        "<svg class=\"mix\" width=\"{width}\" height=\"14\" viewBox=\"0 0 {width} 14\" role=\"img\">"
    );
    if total == 0 {
        let _ = write!(
            svg,
            "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"14\" fill=\"#eee\"><title>no packages evaluated</title></rect>"
        );
    }
    let mut x = 0.0f64;
    for ((label, n), colour) in parts.iter().zip(COLOURS) {
        if *n == 0 || total == 0 {
            continue;
        }
        let w = f64::from(width) * (*n as f64) / (total as f64);
        let _ = write!(
            svg,
            "<rect x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"14\" fill=\"{colour}\"><title>{label}: {n}</title></rect>"
        );
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

fn legend() -> String {
    let mut out = String::from("<p class=\"legend\">");
    for ((label, _), colour) in EvidenceMix::default().parts().iter().zip(COLOURS) {
        let _ = write!(
            out,
            "<span><i class=\"sw\" style=\"background:{colour}\"></i>{label}</span>"
        );
    }
    out.push_str("</p>");
    out
}

/// "12345 lines of code + 3 packages of unknown size".
pub(super) fn lines_words(lines: u64, unknown: usize) -> String {
    let mut out = format!("{lines} lines of code");
    if unknown > 0 {
        let _ = write!(out, " + {unknown} packages of unknown size");
    }
    out
}

pub(super) fn project_link(name: &str) -> String {
    if valid_project_name(name) {
        format!("<a href=\"/projects/{0}\">{0}</a>", escape(name))
    } else {
        escape(name)
    }
}

fn policy_line(snap: &crate::org::Snapshot) -> String {
    match &snap.policy {
        Some(p) => format!(
            "<p id=\"policy\">Evaluated against the organization policy set {} by {} (auditors: {}), \
             with this registry's records only.</p>",
            escape(&p.set_at),
            escape(&p.set_by),
            escape(&p.auditors.join(", "))
        ),
        None => "<p id=\"policy\" class=\"no-policy\">No organization policy is set, so no project \
                 can be evaluated: an admin sets one with <code>audit-registry policy set FILE</code> \
                 or <code>PUT /v1/admin/policy</code>.</p>"
            .to_owned(),
    }
}

/// `GET /projects`
pub(super) async fn overview(State(state): State<AppState>) -> Result<Response, ApiError> {
    let snap = snapshot(&state).await?;
    let passing = snap
        .projects
        .iter()
        .filter(|p| p.status == ProjectStatus::Passes)
        .count();
    let blocked = snap
        .projects
        .iter()
        .filter(|p| p.status == ProjectStatus::Blocked)
        .count();
    let backlog: usize = snap.projects.iter().map(ProjectView::backlog).sum();
    let backlog_lines: u64 = snap.projects.iter().map(|p| p.backlog_lines).sum();
    let unknown: usize = snap.projects.iter().map(|p| p.backlog_lines_unknown).sum();
    let mut body = header("Projects");
    body.push_str(&policy_line(&snap));
    let _ = write!(
        body,
        "<p id=\"totals\">{} projects: {passing} pass, {blocked} blocked; {backlog} packages to review \
         across all projects: {}.</p><p class=\"empty\">{}</p>",
        snap.projects.len(),
        lines_words(backlog_lines, unknown),
        escape(NOT_CONSULTED)
    );
    let mut table = Table::new(&[
        "project", "status", "packages", "blocked", "warnings", "evidence", "backlog", "lockfile",
    ]);
    for p in &snap.projects {
        let summary = p.report.as_ref().map(|r| &r.summary);
        table.row(&[
            project_link(&p.name),
            status_cell(p.status),
            p.packages.to_string(),
            summary.map_or(0, |s| s.blocked).to_string(),
            summary.map_or(0, |s| s.warnings).to_string(),
            mix_bar(&p.mix, 200),
            format!(
                "{} ({})",
                p.backlog(),
                lines_words(p.backlog_lines, p.backlog_lines_unknown)
            ),
            format!(
                "#{} {} by {}",
                p.lockfile_seq,
                escape(&p.updated),
                escape(&p.uploaded_by)
            ),
        ]);
    }
    body.push_str(&section(
        "projects",
        "Projects",
        &table.finish(
            "No project is registered: `cargo audit-trust watch --registry URL --project NAME` registers one.",
        ),
    ));
    body.push_str(&legend());
    Ok(html_response_with(
        StatusCode::OK,
        &page("Projects: audit-registry", &body),
        CSP,
    ))
}

/// `GET /projects/{name}`
pub(super) async fn project(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let Ok(page_number) = super::views::page_of(&query) else {
        let body = format!(
            "{}<p class=\"flag\">page is a number from 1 to 10000</p>",
            header("Project")
        );
        return Ok(html_response_with(
            StatusCode::BAD_REQUEST,
            &page("audit-registry", &body),
            CSP,
        ));
    };
    let snap = snapshot(&state).await?;
    let found = valid_project_name(&name)
        .then(|| snap.project(&name))
        .flatten();
    let Some(p) = found else {
        let body = format!("{}<p>No project of that name.</p>", header("Not found"));
        return Ok(html_response_with(
            StatusCode::NOT_FOUND,
            &page("audit-registry: not found", &body),
            CSP,
        ));
    };
    let mut body = header(&escape(&p.name));
    let summary = p.report.as_ref().map(|r| &r.summary);
    let _ = write!(
        body,
        "<p id=\"status\">{}: {} packages, {} blocked, {} warnings, {} to review. Lockfile #{} \
         sent {} by {} (SHA-256 {}).</p><p id=\"backlog\">To review: {}.</p>{}{}",
        status_cell(p.status),
        p.packages,
        summary.map_or(0, |s| s.blocked),
        summary.map_or(0, |s| s.warnings),
        p.backlog(),
        p.lockfile_seq,
        escape(&p.updated),
        escape(&p.uploaded_by),
        code(&p.sha256),
        lines_words(p.backlog_lines, p.backlog_lines_unknown),
        mix_bar(&p.mix, 400),
        legend()
    );
    body.push_str(&policy_line(&snap));
    let notes = p
        .report
        .as_ref()
        .map_or_else(|| vec![NOT_CONSULTED.to_owned()], |r| r.notes.clone());
    let mut list = String::from("<ul>");
    for n in &notes {
        let _ = write!(list, "<li>{}</li>", escape(n));
    }
    list.push_str("</ul>");
    body.push_str(&section("notes", "Notes", &list));
    body.push_str(&section(
        "changes",
        "Changes since the previous lockfile",
        &changes_html(p),
    ));
    let (groups, total, more) = groups_page(p, page_number);
    let first = (page_number - 1) * PACKAGES_PER_PAGE;
    let mut pager = String::new();
    if total > PACKAGES_PER_PAGE {
        let _ = write!(
            pager,
            "<nav class=\"pager\"><p>Packages {} to {} of {total}. ",
            (first + 1).min(total),
            (first + PACKAGES_PER_PAGE).min(total)
        );
        // The name was checked (plain characters); pages are numbers.
        if page_number > 1 {
            let _ = write!(
                pager,
                "<a rel=\"prev\" href=\"/projects/{}?page={}\">previous page</a> ",
                escape(&p.name),
                page_number - 1
            );
        }
        if more {
            let _ = write!(
                pager,
                "<a rel=\"next\" href=\"/projects/{}?page={}\">next page</a>",
                escape(&p.name),
                page_number + 1
            );
        }
        pager.push_str("</p></nav>");
    }
    body.push_str(&pager);
    for (status, verdicts) in groups {
        let mut table = Table::new(&["package", "version", "source", "reasons", "next step"]);
        for v in &verdicts {
            let mut reasons = String::new();
            for r in &v.reasons {
                let _ = write!(
                    reasons,
                    "<div class=\"text\">{}: {}</div>",
                    escape(r.code.code()),
                    escape(&r.message)
                );
            }
            table.row(&[
                crate_link(&v.name),
                escape(&v.version.to_string()),
                escape(v.source),
                reasons,
                v.next_step.as_ref().map_or_else(String::new, |s| {
                    format!("<div class=\"text\">{}</div>", escape(&s.text))
                }),
            ]);
        }
        let title = format!(
            "{} ({}){}",
            status.as_str(),
            verdicts.len(),
            if verdicts.iter().any(|v| v.blocked) {
                ", blocking"
            } else {
                ""
            }
        );
        body.push_str(&section(
            &format!("status-{}", status.as_str()),
            &title,
            &table.finish("None."),
        ));
    }
    body.push_str(&pager);
    Ok(html_response_with(
        StatusCode::OK,
        &page(&format!("{}: audit-registry", p.name), &body),
        CSP,
    ))
}

fn changes_html(p: &ProjectView) -> String {
    let c = &p.changes;
    let Some(since) = c.since else {
        return "<p class=\"empty\">This is the project's first lockfile.</p>".to_owned();
    };
    let mut table = Table::new(&["change", "package", "before", "after"]);
    for a in &c.added {
        table.row(&[
            "added".into(),
            crate_link(&a.name),
            String::new(),
            escape(&a.versions.join(", ")),
        ]);
    }
    for u in &c.updated {
        table.row(&[
            "updated".into(),
            crate_link(&u.name),
            escape(&u.from.join(", ")),
            escape(&u.to.join(", ")),
        ]);
    }
    for r in &c.removed {
        table.row(&[
            "removed".into(),
            crate_link(&r.name),
            escape(&r.versions.join(", ")),
            String::new(),
        ]);
    }
    format!(
        "<p>Since lockfile #{since}:</p>{}",
        table.finish("No package changed.")
    )
}

/// `GET /search?q=TEXT[&page=N]`
pub(super) async fn search(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut body = header("Search");
    let q = match search_query(&query) {
        Ok(Some(q)) => q,
        Ok(None) => {
            body.push_str(
                "<p>Search crates by name prefix, auditors by name, a record by its id.</p>",
            );
            return Ok(html_response_with(
                StatusCode::OK,
                &page("Search: audit-registry", &body),
                CSP,
            ));
        }
        Err(message) => {
            let _ = write!(body, "<p class=\"flag\">{}</p>", escape(&message));
            return Ok(html_response_with(
                StatusCode::BAD_REQUEST,
                &page("Search: audit-registry", &body),
                CSP,
            ));
        }
    };
    let found = run_search(&state, &q).await?;
    let mut crates = Table::new(&["crate", "used by projects"]);
    for (name, projects) in &found.crates {
        let links: Vec<String> = projects.iter().map(|p| project_link(p)).collect();
        crates.row(&[crate_link(name), links.join(", ")]);
    }
    let first = (q.page - 1) * PER_PAGE;
    let mut crates_html = format!(
        "<p>{} crate(s) start with {}{}.</p>",
        found.total_crates,
        code(&q.text),
        if found.crates.is_empty() {
            String::new()
        } else {
            format!("; showing {} to {}", first + 1, first + found.crates.len())
        }
    );
    crates_html.push_str(&crates.finish("No crate."));
    // The text was checked to be letters, digits, `-`, `_`, `.`: nothing to encode in a URL.
    if q.page > 1 {
        let _ = write!(
            crates_html,
            "<a rel=\"prev\" href=\"/search?q={}&amp;page={}\">previous page</a> ",
            escape(&q.text),
            q.page - 1
        );
    }
    if found.more {
        let _ = write!(
            crates_html,
            "<a rel=\"next\" href=\"/search?q={}&amp;page={}\">next page</a>",
            escape(&q.text),
            q.page + 1
        );
    }
    body.push_str(&section("crates", "Crates", &crates_html));
    let mut auditors = Table::new(&["auditor", "key"]);
    for (name, key) in &found.auditors {
        auditors.row(&[super::view_pages::auditor_link(name), code(key)]);
    }
    body.push_str(&section(
        "auditors",
        "Auditors",
        &auditors.finish("No auditor."),
    ));
    let record = match &found.record {
        Some((crate_name, kind, json)) => format!(
            "<p>A {} filed under {}.</p><pre>{}</pre>",
            escape(kind),
            crate_link(crate_name),
            escape(json)
        ),
        None => "<p class=\"empty\">No record has this id.</p>".to_owned(),
    };
    body.push_str(&section("record", "Record", &record));
    Ok(html_response_with(
        StatusCode::OK,
        &page(&format!("{}: search: audit-registry", q.text), &body),
        CSP,
    ))
}
