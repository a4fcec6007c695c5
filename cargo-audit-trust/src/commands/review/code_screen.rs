//! Drawing the code screen: the crate's file tree (viewed files marked `[x]`, files changed
//! since the audited base marked `+` new or `~` modified) and the current file with line
//! numbers, its riskiest lines signed with a letter (see [`LEGEND`]); color only repeats it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::app::App;
use super::code_view::{CodeLine, CodeView, Reading};
use super::highlight::{LEGEND, Risk};

pub fn draw_code(app: &App, view: &CodeView, frame: &mut Frame<'_>, area: Rect) {
    let list_width = (area.width / 3).clamp(16, 30).min(area.width);
    let [left, right] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)]).areas(area);
    let key = (view.code.name.clone(), view.code.version.clone());
    let reading = app.reading.get(&key).cloned().unwrap_or_default();
    draw_tree(view, &reading, frame, left);
    draw_file(view, frame, right);
}

fn draw_tree(view: &CodeView, reading: &Reading, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::new().borders(Borders::ALL).title(format!(
        "Files (read {}/{})",
        reading.seen.len(),
        view.code.files.len()
    ));
    let height = usize::from(block.inner(area).height);
    let mut selected_row = 0;
    let rows: Vec<Line<'static>> = view
        .tree()
        .into_iter()
        .enumerate()
        .map(|(row, entry)| {
            let indent = "  ".repeat(entry.depth);
            let Some(index) = entry.file else {
                return Line::styled(
                    format!("     {indent}{}", entry.label),
                    Style::new().add_modifier(Modifier::BOLD),
                );
            };
            let selected = index == view.file;
            if selected {
                selected_row = row;
            }
            let cursor = if selected { ">" } else { " " };
            let viewed = if reading.viewed(index) { "x" } else { " " };
            let changed = match view.code.files.get(index).and_then(|f| f.changed) {
                Some("new") => "+",
                Some(_) => "~",
                None => " ",
            };
            let style = if selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::styled(
                format!("{cursor}[{viewed}]{changed}{indent}{}", entry.label),
                style,
            )
        })
        .collect();
    let offset = u16::try_from((selected_row + 1).saturating_sub(height)).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(rows).block(block).scroll((offset, 0)), area);
}

fn draw_file(view: &CodeView, frame: &mut Frame<'_>, area: Rect) {
    let title = match view.current() {
        Some(file) => format!(
            "{} {}: {}{}",
            view.code.name,
            view.code.version,
            file.path,
            if file.build_script {
                " (build script)"
            } else {
                ""
            }
        ),
        None => format!("{} {}: no files", view.code.name, view.code.version),
    };
    let block = Block::new().borders(Borders::ALL).title(title);
    let height = usize::from(block.inner(area).height);
    let mut lines = vec![header(view)];
    if let Some(shown) = view.shown() {
        if let Some(note) = &shown.note {
            lines.push(Line::from(note.clone()));
        }
        let width = shown.lines.len().to_string().len();
        lines.extend(
            shown
                .lines
                .iter()
                .skip(view.scroll)
                .take(height.saturating_sub(1))
                .map(|l| code_line(l, width)),
        );
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The file's size, its marks and what changed since the audited base, above the code.
fn header(view: &CodeView) -> Line<'static> {
    let Some(file) = view.current() else {
        return Line::from("");
    };
    let marked = view
        .shown()
        .map_or(0, |s| s.lines.iter().filter(|l| l.risk.is_some()).count());
    let mut text = crate::output::plural(
        u64::try_from(file.lines).unwrap_or(u64::MAX),
        "line",
        "lines",
    );
    if let (Some(base), Some(change)) = (&view.code.base, file.changed) {
        let what = if change == "new" { "new" } else { "changed" };
        text.push_str(&format!(", {what} since audited {base} (D: delta)"));
    }
    if marked > 0 {
        text.push_str(&format!(", {marked} marked ({LEGEND})"));
    }
    Line::styled(text, Style::new().add_modifier(Modifier::BOLD))
}

fn code_line(line: &CodeLine, width: usize) -> Line<'static> {
    let sign = line.risk.map_or(' ', Risk::sign);
    let style = match line.risk {
        Some(Risk::Unsafe) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Some(_) => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        None => Style::new(),
    };
    Line::from(vec![
        Span::styled(
            format!("{:>width$} ", line.number),
            Style::new().fg(Color::DarkGray),
        ),
        Span::styled(format!("{sign} {}", line.text), style),
    ])
}
