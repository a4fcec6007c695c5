//! Drawing the diff screen and the overlays (help, sign-off form, flag form, confirmation).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Overlay, SignForm};
use super::diff_view::DiffView;

/// Every key, for the help overlay and `docs/review.md`.
pub const HELP: &[(&str, &str)] = &[
    ("j k / Down Up", "move; scroll a diff"),
    ("PgDn PgUp g G", "page, top, bottom"),
    ("/", "search names, statuses, badges"),
    ("Esc", "clear the search; back"),
    ("c", "the crate's code, every file"),
    ("d Enter l", "diff: tarball vs git"),
    ("D", "diff: from the newest audited"),
    ("n p / Tab", "next changed (code: unread) file"),
    ("] [", "next, previous file"),
    ("s", "sign off (criteria, delta, notes)"),
    ("x", "flag with a reason"),
    ("P", "publish to --registry URL"),
    ("q h Left", "back; quit from the queue"),
    ("Ctrl-C", "quit"),
    ("mouse wheel", "move, scroll"),
];

pub fn draw_diff(view: &DiffView, frame: &mut Frame<'_>, area: Rect) {
    let list_width = (area.width / 3).clamp(16, 30).min(area.width);
    let [left, right] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)]).areas(area);
    let files = Block::new()
        .borders(Borders::ALL)
        .title(format!("Files ({})", view.diff.files.len()));
    let height = usize::from(files.inner(left).height);
    let rows: Vec<Line<'static>> = view
        .diff
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let cursor = if i == view.file { ">" } else { " " };
            let mark = if f.changed { "*" } else { " " };
            let style = if i == view.file {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::styled(
                format!("{cursor}{mark}{} {}", short_status(&f.status), f.path),
                style,
            )
        })
        .collect();
    let offset = u16::try_from((view.file + 1).saturating_sub(height)).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(rows).block(files).scroll((offset, 0)), left);

    let body = Block::new()
        .borders(Borders::ALL)
        .title(view.diff.title.clone());
    let height = usize::from(body.inner(right).height);
    let lines: Vec<Line<'static>> = view
        .lines()
        .iter()
        .skip(view.scroll)
        .take(height)
        .map(|l| diff_line(l))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(body), right);
}

/// A short word for a file status in a narrow list.
fn short_status(status: &str) -> &str {
    match status {
        "identical" => "same",
        "generated" => "gen",
        "modified" => "mod",
        "line_endings" => "crlf",
        "only_in_tarball" => "new",
        "manifest_mismatch" => "mani",
        "not compared" => "read",
        other => other,
    }
}

/// The `+`/`-` sign already says what a line is; the color only repeats it.
fn diff_line(text: &str) -> Line<'static> {
    let style = if text.starts_with("+++") || text.starts_with("---") || text.starts_with("===") {
        Style::new().add_modifier(Modifier::BOLD)
    } else if text.starts_with('+') {
        Style::new().fg(Color::Green)
    } else if text.starts_with('-') {
        Style::new().fg(Color::Red)
    } else if text.starts_with("@@") {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    };
    Line::styled(text.to_owned(), style)
}

pub fn draw_overlay(app: &App, frame: &mut Frame<'_>) {
    let Some(overlay) = &app.overlay else {
        return;
    };
    let (title, lines) = match overlay {
        Overlay::Help => (
            "Keys (any key closes)".to_owned(),
            HELP.iter()
                .map(|(key, what)| Line::from(format!("{key:<14} {what}")))
                .collect(),
        ),
        Overlay::Sign(form) => ("Sign off".to_owned(), sign_form_lines(app, form)),
        Overlay::Flag { reason } => (
            "Flag: this version must not be used".to_owned(),
            vec![
                Line::from("reason:"),
                Line::from(format!("> {reason}_")),
                Line::from(""),
                Line::from("Enter: continue to confirmation   Esc: cancel"),
            ],
        ),
        Overlay::ConfirmPublish(registry) => (
            "Confirm".to_owned(),
            vec![
                Line::from(format!("Publish your records to {registry}")),
                Line::from(""),
                Line::styled(
                    "y: publish   any other key: cancel",
                    Style::new().add_modifier(Modifier::BOLD),
                ),
            ],
        ),
        Overlay::Confirm(request) => (
            "Confirm".to_owned(),
            vec![
                Line::from(request.describe()),
                Line::from(format!(
                    "notes: {}",
                    request.notes.as_deref().unwrap_or("(none)")
                )),
                Line::from(""),
                Line::styled(
                    "y: sign with your key   any other key: cancel",
                    Style::new().add_modifier(Modifier::BOLD),
                ),
            ],
        ),
    };
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(frame.area(), 64, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::new().borders(Borders::ALL).title(title))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn sign_form_lines(app: &App, form: &SignForm) -> Vec<Line<'static>> {
    let who = app
        .selected_entry()
        .map(|e| format!("{} {}", e.name, e.version))
        .unwrap_or_default();
    let check = |on: bool| if on { "[x]" } else { "[ ]" };
    let focus = |i: usize| if form.focus == i { ">" } else { " " };
    let key = app
        .selected_entry()
        .map(|e| (e.name.clone(), e.version.clone()))
        .unwrap_or_default();
    let read = match app.reading.get(&key) {
        Some(reading) => reading.summary(),
        None => "read: nothing yet (c shows the code)".to_owned(),
    };
    let delta_seen = if app.delta_viewed.contains(&key) {
        "; delta viewed"
    } else {
        ""
    };
    let delta = match &form.delta {
        Some((base, on)) => format!("{} delta from audited {base}", check(*on)),
        None => "    delta: no audited earlier version".to_owned(),
    };
    vec![
        Line::from(format!("{who}: what did you check?")),
        Line::from(format!("  {read}{delta_seen}")),
        Line::from(format!(
            "{}{} reviewed (read the code)",
            focus(0),
            check(form.reviewed)
        )),
        Line::from(format!(
            "{}{} source-matches (tarball = git)",
            focus(1),
            check(form.source_matches)
        )),
        Line::from(format!("{}{delta}", focus(2))),
        Line::from(format!("{} notes: {}_", focus(3), form.notes)),
        Line::from(""),
        Line::from("Tab/Up/Down field  Space toggle  Enter next  Esc cancel"),
    ]
}

/// A box of at most `width`×`height` in the middle of `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
