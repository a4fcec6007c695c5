//! Views on an 80×24 test backend (the smallest terminal the review supports) against the
//! reviewed text in `snapshots/`. Only characters are compared: color never carries meaning,
//! so a snapshot without color shows everything the user must see.

use std::path::PathBuf;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{key, loaded, press, sample_app};
use crate::commands::review::app::{App, Event, update};
use crate::commands::review::view::view;

pub(super) fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|frame| view(app, frame)).expect("draw");
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub(super) fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/commands/review/tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{name} changed; compare with {}",
        path.display()
    );
}

#[test]
fn queue_and_details() {
    let mut app = sample_app();
    app.message = None;
    assert_snapshot("queue", &screen(&app, 80, 24));
    press(&mut app, "j");
    assert_snapshot("queue_advisory_selected", &screen(&app, 80, 24));
}

#[test]
fn search_and_progress() {
    let mut app = sample_app();
    press(&mut app, "/ex");
    assert_snapshot("queue_searching", &screen(&app, 80, 24));
    update(&mut app, key(KeyCode::Esc));
    press(&mut app, "d");
    update(&mut app, Event::Tick);
    assert_snapshot("queue_loading", &screen(&app, 80, 24));
}

#[test]
fn diff_screen() {
    let mut app = sample_app();
    press(&mut app, "d");
    loaded(&mut app);
    assert_snapshot("diff", &screen(&app, 80, 24));
}

#[test]
fn overlays() {
    let mut app = sample_app();
    press(&mut app, "?");
    assert_snapshot("help", &screen(&app, 80, 24));
    update(&mut app, key(KeyCode::Esc));
    press(&mut app, "s");
    assert_snapshot("sign_form", &screen(&app, 80, 24));
    update(&mut app, key(KeyCode::Enter));
    assert_snapshot("confirm", &screen(&app, 80, 24));
}

#[test]
fn a_larger_terminal_uses_the_room() {
    let app = sample_app();
    assert_snapshot("queue_120x30", &screen(&app, 120, 30));
}

#[test]
fn start_up_while_the_queue_loads() {
    let app = App::loading((80, 24));
    assert_snapshot("loading", &screen(&app, 80, 24));
}
