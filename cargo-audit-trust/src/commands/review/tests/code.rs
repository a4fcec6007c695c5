//! The code screen: a crate whose files match git can still be read, file by file, with line
//! numbers and its risky lines marked; what was read is counted in the sign-off form, and the
//! form never drops typed text.

use std::sync::Arc;

use crossterm::event::KeyCode;

use super::snapshots::{assert_snapshot, screen};
use super::{key, press, sample_app, text_file};
use crate::commands::review::app::{App, Event, Outcome, Overlay, Request, Screen, update};
use crate::commands::review::code_view::{CodeFile, LoadedCode, count_lines};
use crate::commands::review::diff_view::{DiffKind, LoadedDiff};

fn file(path: &str, contents: &[u8]) -> CodeFile {
    CodeFile {
        path: path.to_owned(),
        contents: Arc::new(contents.to_vec()),
        build_script: path == "build.rs",
        lines: count_lines(contents),
        changed: None,
    }
}

const LIB: &str = "//! leafy: small\npub fn two() -> u8 {\n    unsafe { core::hint::unreachable_unchecked() }\n}\n";
const BUILD: &str = "fn main() {\n    let out = std::env::var(\"OUT_DIR\");\n    std::process::Command::new(\"sh\").status();\n}\n";

fn sample_code() -> LoadedCode {
    LoadedCode {
        name: "leafy".to_owned(),
        version: "2.0.0".to_owned(),
        base: None,
        files: vec![
            file("Cargo.toml", b"[package]\nname = \"leafy\"\n"),
            file("build.rs", BUILD.as_bytes()),
            file("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            file("src/lib.rs", LIB.as_bytes()),
        ],
    }
}

/// Every file of the crate matches git: the git view has nothing to show.
fn identical_to_git() -> LoadedDiff {
    LoadedDiff {
        kind: DiffKind::Provenance,
        name: "leafy".to_owned(),
        version: "2.0.0".to_owned(),
        title: "leafy 2.0.0 vs git: matches".to_owned(),
        summary: vec!["verdict: matches".to_owned()],
        files: vec![
            text_file("Cargo.toml", "identical", "x", "x"),
            text_file("src/lib.rs", "identical", LIB, LIB),
        ],
    }
}

fn open_code(app: &mut App) {
    let requests = press(app, "c");
    assert_eq!(
        requests,
        [Request::LoadCode {
            name: "leafy".into(),
            version: "2.0.0".into(),
            base: Some("1.0.0".into()),
        }]
    );
    update(app, Event::Done(Outcome::Code(Ok(sample_code()))));
}

#[test]
fn an_identical_to_git_crate_shows_its_code_with_line_numbers_and_marks() {
    let mut app = sample_app();
    press(&mut app, "d");
    update(&mut app, Event::Done(Outcome::Diff(Ok(identical_to_git()))));
    // The git comparison stays its own view; the code is one key away from it.
    assert!(matches!(app.screen, Screen::Diff(_)));
    open_code(&mut app);
    let shown = screen(&app, 80, 24);
    assert_snapshot("code", &shown);
    assert!(shown.contains("src/lib.rs"), "{shown}");
    assert!(shown.contains("1   //! leafy: small"), "{shown}");
    assert!(shown.contains("2   pub fn two() -> u8 {"), "{shown}");
    assert!(
        shown.contains("3 U     unsafe { core::hint::unreachable_unchecked("),
        "the unsafe line is marked:\n{shown}"
    );
    assert!(
        shown.contains(">[x]   lib.rs"),
        "the open file is viewed:\n{shown}"
    );
    assert!(shown.contains("[ ] build.rs"), "{shown}");
    assert!(shown.contains("Files (read 1/4)"), "{shown}");
}

#[test]
fn build_scripts_mark_their_calls_and_binary_files_say_so() {
    let mut app = sample_app();
    open_code(&mut app);
    press(&mut app, "[[");
    let shown = screen(&app, 80, 24);
    assert!(shown.contains("build.rs (build script)"), "{shown}");
    assert!(shown.contains("2 E     let out = std::env::var"), "{shown}");
    assert!(shown.contains("3 P     std::process::Command"), "{shown}");
    press(&mut app, "]");
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains("binary file, 16 bytes: not shown"),
        "{shown}"
    );
}

#[test]
fn the_sign_off_form_says_how_much_was_read() {
    let mut app = sample_app();
    open_code(&mut app);
    press(&mut app, "s");
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains("read 1 of 4 files, 4 of 10 lines"),
        "{shown}"
    );
    update(&mut app, key(KeyCode::Esc));
    // `n` walks the files not read yet, and says when there are none left.
    press(&mut app, "nnn");
    press(&mut app, "n");
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("every file has been viewed"))
    );
    press(&mut app, "q");
    assert!(matches!(app.screen, Screen::Queue));
    press(&mut app, "s");
    let shown = screen(&app, 80, 24);
    assert!(
        shown.contains("read 4 of 4 files, 10 of 10 lines"),
        "{shown}"
    );
}

#[test]
fn long_files_scroll_and_the_count_follows_what_was_shown() {
    let mut app = sample_app();
    let long: String = (1..=100).map(|i| format!("fn f{i}() {{}}\n")).collect();
    let mut code = sample_code();
    code.files = vec![file("src/lib.rs", long.as_bytes())];
    press(&mut app, "c");
    update(&mut app, Event::Done(Outcome::Code(Ok(code))));
    let page = app.page();
    let count = |app: &App| {
        app.reading
            .values()
            .map(|r| r.summary())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        count(&app),
        [format!("read 1 of 1 file, {page} of 100 lines")]
    );
    press(&mut app, "G");
    assert!(screen(&app, 80, 24).contains("100   fn f100() {}"));
    assert_eq!(count(&app), ["read 1 of 1 file, 100 of 100 lines"]);
}

#[test]
fn crate_content_cannot_drive_the_terminal() {
    let mut app = sample_app();
    let mut code = sample_code();
    code.files = vec![file(
        "src/lib.rs",
        "let s = \"\u{202e}evil\u{1b}[2J\";\r\n".as_bytes(),
    )];
    press(&mut app, "c");
    update(&mut app, Event::Done(Outcome::Code(Ok(code))));
    let shown = screen(&app, 80, 24);
    assert!(shown.contains(r"\u{202e}evil\u{1b}[2J"), "{shown}");
    assert!(!shown.chars().any(|c| c.is_control() && c != '\n'));
}

#[test]
fn notes_survive_focus_moves_and_skip_lines_that_cannot_change() {
    let mut app = sample_app();
    // `middle` has no audited base: its delta line is text, not a field.
    press(&mut app, "js");
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Down));
    let form = |app: &App| match &app.overlay {
        Some(Overlay::Sign(form)) => form.clone(),
        other => panic!("sign form expected, got {other:?}"),
    };
    assert_eq!(form(&app).focus, 3, "the delta line is skipped");
    press(&mut app, "ok");
    update(&mut app, key(KeyCode::Up));
    update(&mut app, key(KeyCode::Up));
    assert_eq!(form(&app).focus, 0);
    // Typing on a checkbox writes the note instead of dropping it.
    press(&mut app, "!");
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::BackTab));
    assert_eq!(form(&app).notes, "ok!");
    assert!(screen(&app, 80, 24).contains("notes: ok!_"));
    update(&mut app, key(KeyCode::Enter));
    assert!(matches!(
        &app.overlay,
        Some(Overlay::Confirm(r)) if r.notes.as_deref() == Some("ok!")
    ));
}

#[test]
fn the_delta_box_follows_what_was_viewed() {
    let delta_on = |app: &App| match &app.overlay {
        Some(Overlay::Sign(form)) => form.delta.clone(),
        other => panic!("sign form expected, got {other:?}"),
    };
    let mut app = sample_app();
    press(&mut app, "s");
    assert_eq!(delta_on(&app), Some(("1.0.0".to_owned(), false)));
    update(&mut app, key(KeyCode::Esc));
    let mut delta = identical_to_git();
    delta.kind = DiffKind::Delta;
    update(&mut app, Event::Done(Outcome::Diff(Ok(delta))));
    press(&mut app, "s");
    assert_eq!(delta_on(&app), Some(("1.0.0".to_owned(), true)));
    assert!(screen(&app, 80, 24).contains("; delta viewed"));
}
