//! `update` on its own: keys, worker results, and what reaches the worker.

use audit_trust_core::gate::{GateReport, Reason, ReasonCode, Severity, Status, Summary, Verdict};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{key, loaded, press, sample_app};
use crate::commands::review::app::{
    App, Event, Outcome, Overlay, QueueLoaded, Request, Screen, update,
};
use crate::commands::review::diff_view::DiffKind;
use crate::commands::review::file_order::FileFocus;
use crate::commands::review::queue::{QueueInput, build_queue};
use crate::commands::review::signals::RunSignals;
use crate::commands::review::worker::release_link;

#[test]
fn arrows_and_vim_keys_move_the_selection_within_the_queue() {
    let mut app = sample_app();
    press(&mut app, "jj");
    assert_eq!(app.selected_entry().map(|e| e.name.as_str()), Some("cc"));
    update(&mut app, key(KeyCode::Up));
    assert_eq!(app.selected, 1);
    press(&mut app, "G");
    assert_eq!(app.selected, 3);
    press(&mut app, "j");
    assert_eq!(app.selected, 3, "the end of the queue stops the cursor");
    press(&mut app, "gk");
    assert_eq!(app.selected, 0);
    update(&mut app, Event::ScrollDown);
    assert_eq!(app.selected, 1, "the mouse wheel moves one row");
}

#[test]
fn search_filters_by_name_status_or_badge_and_escape_clears_it() {
    let mut app = sample_app();
    press(&mut app, "/mid");
    assert!(app.searching);
    update(&mut app, key(KeyCode::Enter));
    assert!(!app.searching);
    let names: Vec<&str> = app
        .visible()
        .iter()
        .map(|&i| app.entries[i].name.as_str())
        .collect();
    assert_eq!(names, ["middle"]);
    // Typing `j` while searching is text, not a move.
    press(&mut app, "/exempted");
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(app.visible().len(), 2);
    update(&mut app, key(KeyCode::Esc));
    assert_eq!(app.visible().len(), 4);
    press(&mut app, "/native");
    assert_eq!(app.selected_entry().map(|e| e.name.as_str()), Some("cc"));
}

#[test]
fn opening_a_diff_asks_the_worker_and_shows_progress_without_blocking() {
    let mut app = sample_app();
    let requests = press(&mut app, "d");
    assert_eq!(
        requests,
        [Request::LoadDiff {
            kind: DiffKind::Provenance,
            name: "leafy".into(),
            version: "2.0.0".into(),
            base: None,
            // What its signals name goes with the request: the diff opens on those files.
            focus: FileFocus {
                new_dependencies: false,
                evidence_files: vec!["Cargo.toml".into()],
            },
        }]
    );
    assert!(app.busy.is_some());
    // Still responsive while the work runs, but one job at a time.
    press(&mut app, "j");
    assert_eq!(app.selected, 1);
    assert!(press(&mut app, "d").is_empty());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("still busy"))
    );
    update(&mut app, Event::Tick);
    assert_eq!(app.busy.as_ref().map(|b| b.ticks), Some(1));
    loaded(&mut app);
    assert!(app.busy.is_none());
    assert!(matches!(app.screen, Screen::Diff(_)));
    assert!(
        app.provenance
            .contains_key(&("leafy".to_owned(), "2.0.0".to_owned()))
    );
}

#[test]
fn a_delta_needs_an_audited_base() {
    let mut app = sample_app();
    let requests = press(&mut app, "D");
    assert!(matches!(
        requests.as_slice(),
        [Request::LoadDiff { kind: DiffKind::Delta, base: Some(b), .. }] if b == "1.0.0"
    ));
    let mut app = sample_app();
    press(&mut app, "j");
    assert!(press(&mut app, "D").is_empty());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("no audited version"))
    );
}

#[test]
fn the_diff_renders_files_lazily_and_jumps_between_changed_files() {
    let mut app = sample_app();
    press(&mut app, "d");
    loaded(&mut app);
    let Screen::Diff(view) = &app.screen else {
        panic!("diff screen expected");
    };
    assert_eq!(view.file, 1, "opens on the first changed file");
    assert_eq!(view.rendered_files(), 1, "only the shown file is rendered");
    assert!(
        view.lines()
            .iter()
            .any(|l| l == "+    std::process::exit(3)")
    );
    press(&mut app, "n");
    let Screen::Diff(view) = &app.screen else {
        panic!("diff screen expected");
    };
    assert_eq!((view.file, view.rendered_files()), (2, 2));
    press(&mut app, "n");
    let Screen::Diff(view) = &app.screen else {
        panic!("diff screen expected");
    };
    assert_eq!(view.file, 1, "wraps around, skipping the identical file");
    press(&mut app, "q");
    assert_eq!(app.screen, Screen::Queue);
    assert!(!app.quit, "q on a diff goes back; q on the queue quits");
    press(&mut app, "q");
    assert!(app.quit);
    assert!(!app.interrupted, "q is a finished review (exit 0)");
}

#[test]
fn nothing_is_signed_without_the_confirmation_key() {
    let mut app = sample_app();
    assert!(press(&mut app, "s").is_empty());
    update(&mut app, key(KeyCode::Enter));
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    assert!(press(&mut app, "n").is_empty());
    assert!(app.overlay.is_none());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("nothing was signed"))
    );

    // A delta with notes: Tab to the delta field, toggle it, Tab to notes, type, confirm.
    press(&mut app, "s");
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    press(&mut app, " ");
    update(&mut app, key(KeyCode::Tab));
    press(&mut app, "read it all");
    update(&mut app, key(KeyCode::Enter));
    let requests = press(&mut app, "y");
    let [Request::Sign(request)] = requests.as_slice() else {
        panic!("one sign request expected, got {requests:?}");
    };
    assert_eq!(request.criteria, ["reviewed"]);
    assert_eq!(request.delta_from.as_deref(), Some("1.0.0"));
    assert_eq!(request.notes.as_deref(), Some("read it all"));
    assert_eq!(request.flag, None);

    let next = update(
        &mut app,
        Event::Done(Outcome::Signed {
            request: request.clone(),
            result: Ok("Signed off (reviewed) leafy@2.0.0 as auditor `team`".into()),
        }),
    );
    assert_eq!(
        next,
        Some(Request::LoadQueue),
        "a sign-off re-checks the project"
    );
    assert!(
        app.entries[0]
            .signoffs
            .iter()
            .any(|s| s.contains("just now"))
    );
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.starts_with("Signed off"))
    );
}

#[test]
fn a_sign_off_needs_a_criterion_and_a_flag_needs_a_reason() {
    let mut app = sample_app();
    press(&mut app, "s ");
    update(&mut app, key(KeyCode::Enter));
    assert!(
        matches!(app.overlay, Some(Overlay::Sign(_))),
        "no criterion chosen"
    );

    let mut app = sample_app();
    press(&mut app, "x");
    update(&mut app, key(KeyCode::Enter));
    assert!(
        matches!(app.overlay, Some(Overlay::Flag { .. })),
        "empty reason"
    );
    press(&mut app, "steals keys");
    update(&mut app, key(KeyCode::Enter));
    let requests = press(&mut app, "y");
    assert!(matches!(
        requests.as_slice(),
        [Request::Sign(r)] if r.flag.as_deref() == Some("steals keys") && r.criteria.is_empty()
    ));
}

#[test]
fn publish_needs_a_registry_and_a_confirmation_and_help_and_ctrl_c_work_everywhere() {
    let mut app = sample_app();
    assert!(press(&mut app, "P").is_empty());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("--registry URL"))
    );
    app.registry = Some("https://audit.example".to_owned());
    assert!(press(&mut app, "Pn").is_empty(), "n cancels");
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("nothing was published"))
    );
    assert_eq!(
        press(&mut app, "Py"),
        [Request::Publish {
            registry: "https://audit.example".to_owned()
        }]
    );
    update(
        &mut app,
        Event::Done(Outcome::Published(Err("registry unreachable".into()))),
    );
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.starts_with("NOT published"))
    );
    press(&mut app, "?");
    assert_eq!(app.overlay, Some(Overlay::Help));
    press(&mut app, "j");
    assert_eq!(
        (app.overlay.clone(), app.selected),
        (None, 0),
        "a key closes help only"
    );
    press(&mut app, "x");
    update(
        &mut app,
        Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(app.quit);
    assert!(
        app.interrupted,
        "Ctrl-C ends the run as interrupted (exit 130)"
    );
}

#[test]
fn resizing_keeps_the_state_and_records_the_size() {
    let mut app = sample_app();
    press(&mut app, "j");
    update(&mut app, Event::Resize(120, 40));
    assert_eq!((app.size, app.selected), ((120, 40), 1));
}

#[test]
fn the_queue_holds_blocked_and_unsigned_packages_with_untrusted_text_neutralised() {
    let verdict = |id, name: &str, status, blocked, message: &str| Verdict {
        id,
        name: name.to_owned(),
        version: semver::Version::new(1, 0, 0),
        source: "registry",
        status,
        blocked,
        reasons: vec![Reason {
            code: ReasonCode::Unaudited,
            severity: Severity::Deny,
            message: message.to_owned(),
            details: serde_json::Value::Null,
        }],
        next_step: None,
        introduced: None,
    };
    let report = GateReport {
        date: audit_trust_core::time::Date::parse("2026-11-01").expect("date"),
        packages: vec![
            verdict(0, "ok", Status::Audited, false, "signed off"),
            verdict(1, "mine", Status::FirstParty, false, "workspace"),
            verdict(2, "waived", Status::Exempted, false, "exempted"),
            verdict(3, "evil", Status::Unaudited, true, "\u{1b}[2Jgone\u{202e}"),
        ],
        summary: Summary::default(),
        advisory_db: None,
        notes: Vec::new(),
        expiring: Vec::new(),
        change: None,
    };
    let audit_file = audit_trust_core::audit_file::AuditFile::default();
    let queue = build_queue(&QueueInput {
        report: &report,
        classified: &[],
        audit_file: &audit_file,
        evidence: &[],
        rejected: &[],
        signals: RunSignals::NotComputed("not asked"),
        links: &std::collections::HashMap::new(),
    });
    let names: Vec<&str> = queue.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["evil", "waived"],
        "blocked first; audited and own code left out"
    );
    assert_eq!(queue[0].reasons, ["\\u{1b}[2Jgone\\u{202e}"]);
}

#[test]
fn release_links_point_at_the_tag_page_on_known_forges_else_the_commit() {
    assert_eq!(
        release_link("https://github.com/o/r.git", Some("v1.0.0"), Some("abc")).as_deref(),
        Some("https://github.com/o/r/releases/tag/v1.0.0")
    );
    assert_eq!(
        release_link("https://gitlab.com/o/r", None, Some("abc")).as_deref(),
        Some("https://gitlab.com/o/r/-/commit/abc")
    );
    assert_eq!(
        release_link("https://git.example/r", Some("v1"), Some("abc")).as_deref(),
        Some("commit abc")
    );
    assert_eq!(release_link("https://git.example/r", None, None), None);
}

#[test]
fn the_runs_notes_show_under_every_package() {
    let mut app = super::sample_app();
    app.notes = vec!["ADVISORIES WERE NOT CHECKED: unreachable".to_owned()];
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 40)).expect("test backend");
    terminal
        .draw(|frame| crate::commands::review::view::view(&app, frame))
        .expect("draw");
    let text: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("ADVISORIES WERE NOT CHECKED"));
}

#[test]
fn the_queue_loads_in_the_background_and_a_reload_keeps_the_cursor() {
    let mut app = App::loading((80, 24));
    assert!(!app.loaded && app.busy.is_some());
    let full = sample_app().entries;
    update(
        &mut app,
        Event::Done(Outcome::Queue(Ok(QueueLoaded {
            entries: full.clone(),
            notes: vec!["a note".into()],
            advisories_unchecked: true,
        }))),
    );
    assert!(app.loaded && app.busy.is_none());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("ADVISORIES WERE NOT CHECKED"))
    );
    press(&mut app, "jj");
    assert_eq!(app.selected_entry().map(|e| e.name.as_str()), Some("cc"));
    // leafy was signed off and left the queue: the cursor stays on cc.
    update(
        &mut app,
        Event::Done(Outcome::Queue(Ok(QueueLoaded {
            entries: full[1..].to_vec(),
            notes: Vec::new(),
            advisories_unchecked: false,
        }))),
    );
    assert_eq!(app.selected_entry().map(|e| e.name.as_str()), Some("cc"));

    update(
        &mut app,
        Event::Done(Outcome::Queue(Err("index unreachable".into()))),
    );
    assert!(!app.quit, "a failed re-check keeps the queue");
    assert_eq!(app.visible().len(), 3);

    let mut app = App::loading((80, 24));
    update(
        &mut app,
        Event::Done(Outcome::Queue(Err("Cargo.audit:3:1: unknown key".into()))),
    );
    assert!(app.quit);
    assert_eq!(app.fatal.as_deref(), Some("Cargo.audit:3:1: unknown key"));
}
