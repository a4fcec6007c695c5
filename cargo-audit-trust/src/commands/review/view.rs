//! Drawing. `view` reads the state and draws it; it never changes anything. Meaning is carried
//! by words and signs (`!` blocked, `+`/`-` diff lines, badges in brackets); color only repeats it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::app::{App, Screen};
use super::queue::QueueEntry;
use super::{code_screen, overlay};

/// The spinner's frames: ASCII, so every terminal draws it.
const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

pub fn view(app: &App, frame: &mut Frame<'_>) {
    let [title, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_title(app, frame, title);
    match &app.screen {
        Screen::Queue => {
            let queue_width = (main.width * 2 / 5).max(36).min(main.width);
            let [left, right] =
                Layout::horizontal([Constraint::Length(queue_width), Constraint::Min(0)])
                    .areas(main);
            draw_queue(app, frame, left);
            draw_details(app, frame, right);
        }
        Screen::Diff(view) => overlay::draw_diff(view, frame, main),
        Screen::Code(view) => code_screen::draw_code(app, view, frame, main),
    }
    draw_status(app, frame, status);
    overlay::draw_overlay(app, frame);
}

fn draw_title(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let blocked = app.entries.iter().filter(|e| e.blocked).count();
    let text = if app.loaded {
        format!(
            " audit-trust review: {} to review, {blocked} blocked   ? help  q quit",
            app.entries.len()
        )
    } else {
        " audit-trust review: loading   ? help  q quit".to_owned()
    };
    frame.render_widget(
        Paragraph::new(text).style(Style::new().add_modifier(Modifier::REVERSED)),
        area,
    );
}

fn draw_status(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let text = if app.searching {
        format!("search: {}_   (Enter keeps, Esc clears)", app.search)
    } else if let Some(busy) = &app.busy {
        let spin = SPINNER
            .get(busy.ticks % SPINNER.len())
            .copied()
            .unwrap_or("|");
        format!("[{spin}] {}…", busy.what)
    } else if let Some(message) = &app.message {
        message.clone()
    } else {
        match app.screen {
            Screen::Queue => {
                "j/k move  c code  d diff  D delta  s sign  x flag  / search".to_owned()
            }
            Screen::Diff(_) => "j/k scroll  n/p file  c code  s sign  x flag  q back".to_owned(),
            Screen::Code(_) => "j/k scroll  n next unread  ]/[ file  d/D diff  s sign".to_owned(),
        }
    };
    frame.render_widget(Paragraph::new(text), area);
}

/// The queue's rows: a heading per risk rank and within it per status group, then one row per
/// package.
fn queue_lines(app: &App, visible: &[usize]) -> (Vec<Line<'static>>, usize) {
    let mut lines = Vec::new();
    let mut selected_row = 0;
    let mut group = None;
    let mut rank = None;
    for (position, &index) in visible.iter().enumerate() {
        let Some(entry) = app.entries.get(index) else {
            continue;
        };
        if rank != Some(entry.risk.rank) {
            rank = Some(entry.risk.rank);
            group = None;
            lines.push(Line::styled(
                format!("== risk: {}", entry.risk.rank.label()),
                Style::new().add_modifier(Modifier::BOLD),
            ));
        }
        if group != Some((entry.blocked, entry.status)) {
            group = Some((entry.blocked, entry.status));
            let how = if entry.blocked { "blocked" } else { "passes" };
            lines.push(Line::styled(
                format!("-- {} ({how})", entry.status.as_str()),
                Style::new().add_modifier(Modifier::BOLD),
            ));
        }
        let selected = position == app.selected;
        if selected {
            selected_row = lines.len();
        }
        lines.push(queue_row(entry, selected));
    }
    (lines, selected_row)
}

fn queue_row(entry: &QueueEntry, selected: bool) -> Line<'static> {
    let cursor = if selected { ">" } else { " " };
    let mark = if entry.blocked { "!" } else { " " };
    let lines = entry
        .code_lines
        .map_or_else(|| "?".to_owned(), |n| n.to_string());
    let badges: Vec<&str> = entry.badges.iter().map(|b| b.label()).collect();
    let badges = if badges.is_empty() {
        String::new()
    } else {
        format!(" [{}]", badges.join(","))
    };
    let mut style = Style::new();
    if selected {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Line::from(vec![
        Span::styled(format!("{cursor}{mark}"), style),
        Span::styled(format!("{} {} {lines}L", entry.name, entry.version), style),
        Span::styled(badges, style.fg(Color::Yellow)),
    ])
}

fn draw_queue(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let visible = app.visible();
    let title = if app.search.is_empty() {
        format!("Queue ({})", visible.len())
    } else {
        format!("Queue ({}, /{})", visible.len(), app.search)
    };
    let block = Block::new().borders(Borders::ALL).title(title);
    let height = usize::from(block.inner(area).height);
    let (lines, selected_row) = queue_lines(app, &visible);
    let lines = if !app.loaded {
        vec![Line::from("Loading the queue…")]
    } else if lines.is_empty() {
        vec![Line::from(if app.entries.is_empty() {
            "Nothing to review: every package is audited."
        } else {
            "No package matches the search."
        })]
    } else {
        lines
    };
    let offset = (selected_row + 1).saturating_sub(height);
    let offset = u16::try_from(offset).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((offset, 0)), area);
}

fn draw_details(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::new().borders(Borders::ALL).title("Details");
    let Some(entry) = app.selected_entry() else {
        frame.render_widget(Paragraph::new("").block(block), area);
        return;
    };
    let mut lines = vec![
        Line::styled(
            format!("{} {}", entry.name, entry.version),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::from(format!(
            "status: {}{}",
            entry.status.as_str(),
            if entry.blocked { " (BLOCKED)" } else { "" }
        )),
        Line::from(format!("code: {}", entry.classification)),
    ];
    // The link comes early, where it is seen without scrolling, and alone on its line so it
    // can be copied.
    lines.extend(entry.link.iter().map(|l| Line::from(l.clone())));
    if !entry.badges.is_empty() {
        let badges: Vec<&str> = entry.badges.iter().map(|b| b.label()).collect();
        lines.push(Line::from(format!("badges: {}", badges.join(", "))));
    }
    let mut section = |title: &str, items: &[String], empty: &str| {
        lines.push(Line::from(format!("{title}:")));
        if items.is_empty() {
            lines.push(Line::from(format!("  {empty}")));
        }
        for item in items {
            lines.push(Line::from(format!("  {item}")));
        }
    };
    let mut risk = entry.risk.lines.clone();
    risk.extend(entry.risk.not_computed.iter().cloned());
    section(
        &format!("signals ({})", entry.risk.rank.label()),
        &risk,
        "none raised",
    );
    section("why", &entry.reasons, "-");
    section("auditors", &entry.auditors, "none covers it");
    section("sign-offs", &entry.signoffs, "none");
    if !entry.rejected.is_empty() {
        section("ignored records", &entry.rejected, "");
    }
    if !entry.advisories.is_empty() {
        section("advisories", &entry.advisories, "");
    }
    let provenance = app
        .provenance
        .get(&(entry.name.clone(), entry.version.clone()));
    match provenance {
        Some(summary) => section("provenance", summary, ""),
        None => section("provenance", &[], "not checked yet: press d"),
    }
    if let Some(base) = &entry.delta_base {
        lines.push(Line::from(format!("delta: from audited {base} (D)")));
    }
    if let Some(step) = &entry.next_step {
        lines.push(Line::from(format!("next: {step}")));
    }
    if !app.notes.is_empty() {
        lines.push(Line::styled(
            "notes on this run:",
            Style::new().add_modifier(Modifier::BOLD),
        ));
        lines.extend(app.notes.iter().map(|n| Line::from(format!("  {n}"))));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
