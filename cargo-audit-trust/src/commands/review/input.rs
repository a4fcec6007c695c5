//! Keys, per screen and overlay. Arrow keys and vim keys do the same thing everywhere.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Overlay, Request, Screen, SignForm, SignRequest};
use super::diff_view::DiffKind;

/// The criteria the form offers, in its order.
const REVIEWED: &str = "reviewed";
const SOURCE_MATCHES: &str = "source-matches";

pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Request> {
    // Ctrl-C quits from anywhere: raw mode turns it into a key instead of a signal.
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        app.quit = true;
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
    }
}

/// Mouse wheel: moves the queue selection or scrolls the diff.
pub fn scroll(app: &mut App, delta: isize) {
    match &mut app.screen {
        Screen::Queue => move_selection(app, delta.signum()),
        Screen::Diff(view) => view.scroll_by(delta, usize::from(app.size.1.saturating_sub(8))),
    }
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
        KeyCode::Down | KeyCode::Char('j') => view.scroll_by(1, page),
        KeyCode::Up | KeyCode::Char('k') => view.scroll_by(-1, page),
        KeyCode::PageDown | KeyCode::Char(' ') => view.scroll_by(page as isize, page),
        KeyCode::PageUp => view.scroll_by(-(page as isize), page),
        KeyCode::Home | KeyCode::Char('g') => view.scroll = 0,
        KeyCode::End | KeyCode::Char('G') => view.scroll_by(isize::MAX, page),
        KeyCode::Char('n') | KeyCode::Tab => view.jump(true),
        KeyCode::Char('p') | KeyCode::BackTab => view.jump(false),
        KeyCode::Char(']') => view.select_file(view.file + 1),
        KeyCode::Char('[') => view.select_file(view.file.saturating_sub(1)),
        _ => on_action_key(app, key),
    }
    None
}

/// Sign, flag and publish: the same keys on the queue and on a diff.
fn on_action_key(app: &mut App, key: KeyEvent) {
    let Some(entry) = app.selected_entry() else {
        return;
    };
    match key.code {
        KeyCode::Char('s') => {
            app.overlay = Some(Overlay::Sign(SignForm {
                reviewed: true,
                source_matches: false,
                delta: entry.delta_base.clone().map(|base| (base, false)),
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
    const FIELDS: usize = 4;
    match key.code {
        KeyCode::Esc => {
            app.message = Some("cancelled: nothing was signed".to_owned());
            return None;
        }
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % FIELDS,
        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + FIELDS - 1) % FIELDS,
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
        KeyCode::Backspace if form.focus == 3 => {
            form.notes.pop();
        }
        KeyCode::Char(c) if form.focus == 3 && !c.is_control() => form.notes.push(c),
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
