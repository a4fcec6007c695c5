//! The review's state and the only function that changes it. `update` never draws and never
//! does I/O: slow work (downloads, clones, diffs, signing) is returned as a [`Request`] that the
//! runtime hands to a background worker, whose answer comes back as an [`Event::Done`].

use std::collections::{HashMap, HashSet};

use crossterm::event::KeyEvent;

use super::code_view::{CodeView, LoadedCode, Reading};
use super::diff_view::{DiffKind, DiffView, LoadedDiff};
use super::file_order::FileFocus;
use super::input;
use super::queue::QueueEntry;
use crate::output::escape;

/// What can happen to the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Key(KeyEvent),
    ScrollUp,
    ScrollDown,
    Resize(u16, u16),
    /// Time passed (animates the progress indicator).
    Tick,
    Done(Outcome),
}

/// Work for the background worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    LoadDiff {
        kind: DiffKind,
        name: String,
        version: String,
        /// The older version, for a delta.
        base: Option<String>,
        /// What the package's signals say about its files: the diff opens on the riskiest.
        focus: FileFocus,
    },
    /// Every published file of a version, for reading; with the audited base, files changed
    /// since it are marked.
    LoadCode {
        name: String,
        version: String,
        base: Option<String>,
    },
    Sign(SignRequest),
    /// Send the signing key's records to this registry.
    Publish {
        registry: String,
    },
    /// Gather, classify and build the queue (at the start, and after a sign-off so the statuses
    /// are `check`'s again).
    LoadQueue,
}

/// A sign-off or a flag, exactly as confirmed by the user.
pub use crate::services::sign::SignRequest;

/// The queue and the run's notes, as the worker built them.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueLoaded {
    pub entries: Vec<QueueEntry>,
    pub notes: Vec<String>,
    pub advisories_unchecked: bool,
}

/// What the worker reports back.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `Err`: the project cannot be reviewed (bad `Cargo.audit`, no lockfile…); the UI closes
    /// and the error is reported as `check` would.
    Queue(Result<QueueLoaded, String>),
    Diff(Result<LoadedDiff, String>),
    Code(Result<LoadedCode, String>),
    Signed {
        request: SignRequest,
        /// A one-line summary, or the error.
        result: Result<String, String>,
    },
    /// A one-line summary of what was published, or the error.
    Published(Result<String, String>),
}

/// The sign-off form: which criteria, a delta when a base exists, notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignForm {
    pub reviewed: bool,
    pub source_matches: bool,
    /// `Some(base)` when a delta is possible; the bool says whether it is chosen.
    pub delta: Option<(String, bool)>,
    pub notes: String,
    /// Which field has the focus: 0 reviewed, 1 source-matches, 2 delta, 3 notes.
    pub focus: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Sign(SignForm),
    Flag {
        reason: String,
    },
    Confirm(SignRequest),
    /// Publishing to this registry, awaiting `y`.
    ConfirmPublish(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    Queue,
    Diff(Box<DiffView>),
    Code(Box<CodeView>),
}

/// Background work under way, shown with a spinner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub what: String,
    pub ticks: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub entries: Vec<QueueEntry>,
    /// Index into [`App::visible`].
    pub selected: usize,
    pub search: String,
    pub searching: bool,
    pub screen: Screen,
    pub overlay: Option<Overlay>,
    pub busy: Option<Busy>,
    /// The last result or hint, shown at the bottom.
    pub message: Option<String>,
    /// Provenance summaries loaded so far, by `(name, version)`, for the details pane.
    pub provenance: HashMap<(String, String), Vec<String>>,
    /// What the gate could not check or did not trust in this run (advisories not checked,
    /// ignored records): shown under every package, because they change what a status means.
    pub notes: Vec<String>,
    /// How much of each package's code was read, by `(name, version)`: the viewed marks and
    /// the sign-off form's read count.
    pub reading: HashMap<(String, String), Reading>,
    /// Packages whose delta from the audited base was opened: the sign-off form proposes a
    /// delta sign-off for them.
    pub delta_viewed: HashSet<(String, String)>,
    /// `--registry`: where `P` publishes the signing key's records.
    pub registry: Option<String>,
    pub size: (u16, u16),
    pub quit: bool,
    /// Quit with Ctrl-C: the run ends as an interrupted command does (exit 130), not as a
    /// finished review.
    pub interrupted: bool,
    /// Whether the queue has been built (until then the queue pane says it is loading).
    pub loaded: bool,
    /// Why the review had to stop; reported after the terminal is restored.
    pub fatal: Option<String>,
}

impl App {
    pub fn new(entries: Vec<QueueEntry>, size: (u16, u16)) -> App {
        App {
            entries,
            selected: 0,
            search: String::new(),
            searching: false,
            screen: Screen::Queue,
            overlay: None,
            busy: None,
            message: None,
            provenance: HashMap::new(),
            notes: Vec::new(),
            reading: HashMap::new(),
            delta_viewed: HashSet::new(),
            registry: None,
            size,
            quit: false,
            interrupted: false,
            loaded: true,
            fatal: None,
        }
    }

    /// The state at start-up, while the worker builds the queue.
    pub fn loading(size: (u16, u16)) -> App {
        App {
            loaded: false,
            busy: Some(Busy {
                what: "reading the lockfile, the policy, advisories and sign-offs".to_owned(),
                ticks: 0,
            }),
            ..App::new(Vec::new(), size)
        }
    }

    /// Indices of the entries that match the search, in queue order.
    pub fn visible(&self) -> Vec<usize> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.matches(&self.search))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn selected_entry(&self) -> Option<&QueueEntry> {
        let visible = self.visible();
        visible
            .get(self.selected)
            .and_then(|&i| self.entries.get(i))
    }

    /// Rows of text a page scroll moves.
    pub fn page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(8)).max(1)
    }

    /// Starts background work unless some is under way (one at a time keeps the order of
    /// results obvious).
    pub(super) fn start(&mut self, what: String, request: Request) -> Option<Request> {
        if let Some(busy) = &self.busy {
            self.message = Some(format!("still busy: {} (wait for it)", busy.what));
            return None;
        }
        self.busy = Some(Busy { what, ticks: 0 });
        Some(request)
    }

    /// Counts what the code screen shows now as read. Called by `update` after every change
    /// of the code screen, so the marks and the count never lag behind the screen.
    pub(super) fn note_reading(&mut self) {
        let page = self.page();
        let Screen::Code(view) = &self.screen else {
            return;
        };
        let key = (view.code.name.clone(), view.code.version.clone());
        self.reading
            .entry(key)
            .or_insert_with(|| Reading::of(&view.code))
            .record(view.file, view.lines_seen(page));
    }
}

/// Applies one event to the state; returns the background work it asks for, if any.
pub fn update(app: &mut App, event: Event) -> Option<Request> {
    match event {
        Event::Key(key) => input::on_key(app, key),
        Event::ScrollUp => {
            input::scroll(app, -3);
            None
        }
        Event::ScrollDown => {
            input::scroll(app, 3);
            None
        }
        Event::Resize(width, height) => {
            app.size = (width, height);
            let page = app.page();
            match &mut app.screen {
                Screen::Diff(view) => view.scroll_by(0, page),
                Screen::Code(view) => view.scroll_by(0, page),
                Screen::Queue => {}
            }
            app.note_reading();
            None
        }
        Event::Tick => {
            if let Some(busy) = &mut app.busy {
                busy.ticks = busy.ticks.wrapping_add(1);
            }
            None
        }
        Event::Done(outcome) => {
            app.busy = None;
            on_done(app, outcome)
        }
    }
}

fn on_done(app: &mut App, outcome: Outcome) -> Option<Request> {
    match outcome {
        Outcome::Queue(Ok(loaded)) => {
            let selected = app
                .selected_entry()
                .map(|e| (e.name.clone(), e.version.clone()));
            app.entries = loaded.entries;
            app.notes = loaded.notes;
            app.loaded = true;
            // Keep the cursor on the same package when it is still there, else in range.
            let visible = app.visible();
            app.selected = selected
                .and_then(|(name, version)| {
                    visible.iter().position(|&i| {
                        app.entries
                            .get(i)
                            .is_some_and(|e| e.name == name && e.version == version)
                    })
                })
                .unwrap_or(app.selected)
                .min(visible.len().saturating_sub(1));
            if loaded.advisories_unchecked {
                app.message =
                    Some("ADVISORIES WERE NOT CHECKED (see the notes under each package)".into());
            }
        }
        // Without a queue there is nothing to review: close and report it like `check`.
        Outcome::Queue(Err(error)) if !app.loaded => {
            app.fatal = Some(error);
            app.quit = true;
        }
        // A failed re-check keeps the queue the user is working on.
        Outcome::Queue(Err(error)) => {
            app.message = Some(escape::cell(&format!("re-check failed: {error}")));
        }
        Outcome::Diff(Ok(diff)) => {
            if diff.kind == DiffKind::Provenance {
                app.provenance.insert(
                    (diff.name.clone(), diff.version.clone()),
                    diff.summary.clone(),
                );
            }
            if diff.kind == DiffKind::Delta {
                app.delta_viewed
                    .insert((diff.name.clone(), diff.version.clone()));
            }
            app.message = Some(format!("{} (n/p: next/previous file)", diff.title));
            app.screen = Screen::Diff(Box::new(DiffView::new(diff)));
        }
        Outcome::Diff(Err(error)) => {
            app.message = Some(format!("could not load the diff: {error}"))
        }
        Outcome::Code(Ok(code)) => {
            app.message = Some(format!(
                "{} {}: {}, {} (n/p: next unread file)",
                code.name,
                code.version,
                crate::output::plural(code.files.len() as u64, "file", "files"),
                crate::output::plural(
                    u64::try_from(code.total_lines()).unwrap_or(u64::MAX),
                    "line",
                    "lines"
                )
            ));
            app.screen = Screen::Code(Box::new(CodeView::new(code)));
            app.note_reading();
        }
        Outcome::Code(Err(error)) => {
            app.message = Some(format!("could not read the crate: {error}"))
        }
        Outcome::Signed {
            request,
            result: Ok(summary),
        } => {
            if let Some(entry) = app
                .entries
                .iter_mut()
                .find(|e| e.name == request.name && e.version == request.version)
            {
                entry.signoffs.push(format!(
                    "{} (just now; `check` counts it on its next run)",
                    request.describe()
                ));
            }
            app.message = Some(summary);
            // Re-check, so the queue shows what `check` now says.
            return app.start("re-checking the project".to_owned(), Request::LoadQueue);
        }
        Outcome::Signed {
            result: Err(error), ..
        } => app.message = Some(format!("NOT signed: {error}")),
        Outcome::Published(Ok(summary)) => app.message = Some(summary),
        Outcome::Published(Err(error)) => {
            app.message = Some(format!("NOT published: {error}"));
        }
    }
    None
}
