//! Keys, per screen and overlay. Arrow keys and vim keys do the same thing everywhere.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Overlay, Request, Screen, SignForm, SignRequest};
use super::diff_view::DiffKind;
use super::file_order::FileFocus;

/// The criteria the form offers, in its order.
const REVIEWED: &str = "reviewed";
const SOURCE_MATCHES: &str = "source-matches";
/// The sign-off form's notes field (the others are checkboxes).
const NOTES: usize = 3;

pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Request> {
    // Ctrl-C quits from anywhere: raw mode turns it into a key instead of a signal.
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        app.quit = true;
        app.interrupted = true;
        return None;
    }
    if let Some(overlay) = app.overlay.take() {
        return on_overlay_key(app, overlay, key);
    }
    if app.searching {
        on_search_key(app, key);
        return None;
    }
    match &app.screen {
        Screen::Queue => on_queue_key(app, key),
        Screen::Diff(_) => on_diff_key(app, key),
        Screen::Code(_) => on_code_key(app, key),
    }
}

/// Mouse wheel: moves the queue selection or scrolls the diff.
pub fn scroll(app: &mut App, delta: isize) {
    match &mut app.screen {
        Screen::Queue => move_selection(app, delta.signum()),
        Screen::Diff(view) => view.scroll_by(delta, usize::from(app.size.1.saturating_sub(8))),
        Screen::Code(view) => view.scroll_by(delta, usize::from(app.size.1.saturating_sub(8))),
    }
    app.note_reading();
}

fn move_selection(app: &mut App, delta: isize) {
    let count = app.visible().len();
    if count == 0 {
        app.selected = 0;
        return;
    }
    app.selected = app.selected.saturating_add_signed(delta).min(count - 1);
}

fn on_search_key(app: &mut App, key: KeyEvent) {
    match key.code {
        KeyCode::Esc => {
            app.search.clear();
            app.searching = false;
        }
        KeyCode::Enter => app.searching = false,
        KeyCode::Backspace => {
            app.search.pop();
        }
        KeyCode::Char(c) if !c.is_control() => app.search.push(c),
        _ => {}
    }
    app.selected = 0;
}

fn on_queue_key(app: &mut App, key: KeyEvent) -> Option<Request> {
    let page = app.page() as isize;
    match key.code {
        KeyCode::Char('q') => app.quit = true,
        KeyCode::Char('?') => app.overlay = Some(Overlay::Help),
        KeyCode::Down | KeyCode::Char('j') => move_selection(app, 1),
        KeyCode::Up | KeyCode::Char('k') => move_selection(app, -1),
        KeyCode::PageDown => move_selection(app, page),
        KeyCode::PageUp => move_selection(app, -page),
        KeyCode::Home | KeyCode::Char('g') => app.selected = 0,
        KeyCode::End | KeyCode::Char('G') => move_selection(app, isize::MAX),
        KeyCode::Char('/') => {
            app.searching = true;
            app.search.clear();
            app.selected = 0;
        }
        KeyCode::Esc => {
            app.search.clear();
            app.selected = 0;
        }
        KeyCode::Enter | KeyCode::Char('d') | KeyCode::Right | KeyCode::Char('l') => {
            return request_diff(app, DiffKind::Provenance);
        }
        KeyCode::Char('D') => return request_diff(app, DiffKind::Delta),
        KeyCode::Char('c') => return request_code(app),
        _ => on_action_key(app, key),
    }
    None
}

fn on_diff_key(app: &mut App, key: KeyEvent) -> Option<Request> {
    let page = app.page();
    let Screen::Diff(view) = &mut app.screen else {
        return None;
    };
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') => {
            app.screen = Screen::Queue;
        }
        KeyCode::Char('?') => app.overlay = Some(Overlay::Help),
        code if let Some(delta) = scroll_delta(code, page) => view.scroll_by(delta, page),
        KeyCode::Char('n') | KeyCode::Tab => view.jump(true),
        KeyCode::Char('p') | KeyCode::BackTab => view.jump(false),
        KeyCode::Char(']') => view.select_file(view.file + 1),
        KeyCode::Char('[') => view.select_file(view.file.saturating_sub(1)),
        KeyCode::Char('c') => return request_code(app),
        _ => on_action_key(app, key),
    }
    None
}

/// The code screen: the same moves as a diff; `n`/`p` go to the next file not read yet, so
/// reading a whole crate is a matter of pressing `n`.
fn on_code_key(app: &mut App, key: KeyEvent) -> Option<Request> {
    let page = app.page();
    let reading = match &app.screen {
        Screen::Code(view) => app
            .reading
            .get(&(view.code.name.clone(), view.code.version.clone()))
            .cloned()
            .unwrap_or_default(),
        _ => return None,
    };
    let Screen::Code(view) = &mut app.screen else {
        return None;
    };
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') => {
            app.screen = Screen::Queue;
            return None;
        }
        KeyCode::Char('?') => app.overlay = Some(Overlay::Help),
        code if let Some(delta) = scroll_delta(code, page) => view.scroll_by(delta, page),
        KeyCode::Char(']') | KeyCode::Tab => view.select_file(view.file + 1),
        KeyCode::Char('[') | KeyCode::BackTab => {
            view.select_file(view.file.saturating_sub(1));
        }
        KeyCode::Char('n') | KeyCode::Char('p') => {
            let before = view.file;
            view.jump(key.code == KeyCode::Char('n'), |i| !reading.viewed(i));
            if view.file == before {
                app.message = Some("every file has been viewed".to_owned());
            }
        }
        KeyCode::Char('d') => return request_diff(app, DiffKind::Provenance),
        KeyCode::Char('D') => return request_diff(app, DiffKind::Delta),
        _ => on_action_key(app, key),
    }
    app.note_reading();
    None
}

/// The scrolling keys the diff and code screens share: how many lines a key moves (the ends
/// are the extremes, clamped by the view), or `None` for any other key.
fn scroll_delta(code: KeyCode, page: usize) -> Option<isize> {
    let page = isize::try_from(page).unwrap_or(isize::MAX);
    match code {
        KeyCode::Down | KeyCode::Char('j') => Some(1),
        KeyCode::Up | KeyCode::Char('k') => Some(-1),
        KeyCode::PageDown | KeyCode::Char(' ') => Some(page),
        KeyCode::PageUp => Some(-page),
        KeyCode::Home | KeyCode::Char('g') => Some(isize::MIN),
        KeyCode::End | KeyCode::Char('G') => Some(isize::MAX),
        _ => None,
    }
}

fn request_code(app: &mut App) -> Option<Request> {
    let entry = app.selected_entry()?.clone();
    app.start(
        format!("reading the files of {} {}", entry.name, entry.version),
        Request::LoadCode {
            name: entry.name,
            version: entry.version,
            base: entry.delta_base,
        },
    )
}

/// Sign, flag and publish: the same keys on the queue and on a diff.
fn on_action_key(app: &mut App, key: KeyEvent) {
    let Some(entry) = app.selected_entry() else {
        return;
    };
    match key.code {
        KeyCode::Char('s') => {
            // The delta box follows what was read: proposed when the delta was opened and not
            // every file of the crate was, so a sign-off claims no more than was looked at.
            let key = (entry.name.clone(), entry.version.clone());
            let read_all = app.reading.get(&key).is_some_and(|r| r.complete());
            let delta_on = app.delta_viewed.contains(&key) && !read_all;
            app.overlay = Some(Overlay::Sign(SignForm {
                reviewed: true,
                source_matches: false,
                delta: entry.delta_base.clone().map(|base| (base, delta_on)),
                notes: String::new(),
                focus: 0,
            }));
        }
        KeyCode::Char('x') => {
            app.overlay = Some(Overlay::Flag {
                reason: String::new(),
            });
        }
        KeyCode::Char('P') => match &app.registry {
            Some(registry) => app.overlay = Some(Overlay::ConfirmPublish(registry.clone())),
            None => {
                app.message = Some(
                    "publish: start the review with `--registry URL` (or run `cargo \
                     audit-trust publish --registry URL`)"
                        .to_owned(),
                );
            }
        },
        _ => {}
    }
}

fn request_diff(app: &mut App, kind: DiffKind) -> Option<Request> {
    let entry = app.selected_entry()?.clone();
    let base = match kind {
        DiffKind::Provenance => None,
        DiffKind::Delta => match &entry.delta_base {
            Some(base) => Some(base.clone()),
            None => {
                app.message = Some(format!(
                    "no audited version of {} older than {} to compare with",
                    entry.name, entry.version
                ));
                return None;
            }
        },
    };
    let what = match &base {
        None => format!("tarball vs git of {} {}", entry.name, entry.version),
        Some(b) => format!("{} {b} → {}", entry.name, entry.version),
    };
    app.start(
        format!("loading {what}"),
        Request::LoadDiff {
            kind,
            focus: FileFocus {
                new_dependencies: entry.risk.new_dependencies,
                evidence_files: entry.risk.evidence_files,
            },
            name: entry.name,
            version: entry.version,
            base,
        },
    )
}

fn on_overlay_key(app: &mut App, overlay: Overlay, key: KeyEvent) -> Option<Request> {
    match overlay {
        Overlay::Help => None, // any key closes it
        Overlay::Sign(form) => on_sign_form_key(app, form, key),
        Overlay::Flag { mut reason } => {
            match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter if !reason.trim().is_empty() => {
                    let entry = app.selected_entry()?;
                    app.overlay = Some(Overlay::Confirm(SignRequest {
                        name: entry.name.clone(),
                        version: entry.version.clone(),
                        criteria: Vec::new(),
                        delta_from: None,
                        notes: None,
                        flag: Some(reason.trim().to_owned()),
                    }));
                }
                KeyCode::Backspace => {
                    reason.pop();
                    app.overlay = Some(Overlay::Flag { reason });
                }
                KeyCode::Char(c) if !c.is_control() => {
                    reason.push(c);
                    app.overlay = Some(Overlay::Flag { reason });
                }
                _ => app.overlay = Some(Overlay::Flag { reason }),
            }
            None
        }
        Overlay::ConfirmPublish(registry) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => app.start(
                format!("publishing to {registry}"),
                Request::Publish { registry },
            ),
            _ => {
                app.message = Some("cancelled: nothing was published".to_owned());
                None
            }
        },
        Overlay::Confirm(request) => match key.code {
            // Only an explicit `y` signs; every other key cancels.
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                let what = format!("signing: {}", request.describe());
                app.start(what, Request::Sign(request))
            }
            _ => {
                app.message = Some("cancelled: nothing was signed".to_owned());
                None
            }
        },
    }
}

fn on_sign_form_key(app: &mut App, mut form: SignForm, key: KeyEvent) -> Option<Request> {
    // Only lines that can change take the focus: the delta line without a base is text.
    let fields: Vec<usize> = [0, 1, 2, NOTES]
        .into_iter()
        .filter(|&f| f != 2 || form.delta.is_some())
        .collect();
    let at = fields.iter().position(|&f| f == form.focus).unwrap_or(0);
    let field = |i: usize| fields.get(i % fields.len()).copied().unwrap_or(NOTES);
    match key.code {
        KeyCode::Esc => {
            app.message = Some("cancelled: nothing was signed".to_owned());
            return None;
        }
        KeyCode::Tab | KeyCode::Down => form.focus = field(at + 1),
        KeyCode::BackTab | KeyCode::Up => form.focus = field(at + fields.len() - 1),
        KeyCode::Enter => {
            let mut criteria = Vec::new();
            if form.reviewed {
                criteria.push(REVIEWED.to_owned());
            }
            if form.source_matches {
                criteria.push(SOURCE_MATCHES.to_owned());
            }
            if criteria.is_empty() {
                app.message = Some("choose at least one criterion (space toggles)".to_owned());
                app.overlay = Some(Overlay::Sign(form));
                return None;
            }
            let entry = app.selected_entry()?;
            let notes = form.notes.trim();
            app.overlay = Some(Overlay::Confirm(SignRequest {
                name: entry.name.clone(),
                version: entry.version.clone(),
                criteria,
                delta_from: form.delta.and_then(|(base, on)| on.then_some(base)),
                notes: (!notes.is_empty()).then(|| notes.to_owned()),
                flag: None,
            }));
            return None;
        }
        KeyCode::Backspace if form.focus == NOTES => {
            form.notes.pop();
        }
        KeyCode::Char(c) if form.focus == NOTES && !c.is_control() => form.notes.push(c),
        // Typing on a checkbox is writing a note: the text goes there instead of being lost.
        KeyCode::Char(c) if c != ' ' && !c.is_control() => {
            form.focus = NOTES;
            form.notes.push(c);
        }
        KeyCode::Char(' ') => match form.focus {
            0 => form.reviewed = !form.reviewed,
            1 => form.source_matches = !form.source_matches,
            2 => {
                if let Some((_, on)) = &mut form.delta {
                    *on = !*on;
                }
            }
            _ => {}
        },
        _ => {}
    }
    app.overlay = Some(Overlay::Sign(form));
    None
}
