//! The terminal side: raw mode, the alternate screen and mouse capture on the way in, and
//! restored on the way out — also after a panic, and on Ctrl-C (a key in raw mode, see
//! `input`). Events are read with a timeout so the spinner moves and worker results show up.

use std::io::stdout;
use std::sync::mpsc;
use std::time::Duration;

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind, MouseEventKind,
};
use crossterm::execute;

use super::app::{App, Event, Request, update};
use super::view::view;
use super::worker::{self, WorkerContext};
use crate::error::CliError;

/// How long to wait for input before a tick.
const TICK: Duration = Duration::from_millis(100);

fn io_error(e: std::io::Error) -> CliError {
    CliError::Usage(format!("terminal: {e}"))
}

/// Runs the UI until the user quits. The worker thread is not joined: quitting must not wait
/// for a clone or a download that is still running.
pub fn run(context: WorkerContext, app: &mut App) -> Result<(), CliError> {
    let mut terminal = ratatui::try_init().map_err(io_error)?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
        previous(info);
    }));
    let _ = execute!(stdout(), EnableMouseCapture);
    let result = event_loop(&mut terminal, context, app);
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    context: WorkerContext,
    app: &mut App,
) -> Result<(), CliError> {
    let (request_tx, request_rx) = mpsc::channel();
    let (outcome_tx, outcome_rx) = mpsc::channel();
    std::thread::spawn(move || worker::run(context, request_rx, outcome_tx));
    // The first job: the queue itself, so the UI is up before any network access.
    if request_tx.send(Request::LoadQueue).is_err() {
        return Err(CliError::Usage(
            "the background worker did not start".into(),
        ));
    }
    if let Ok(size) = terminal.size() {
        app.size = (size.width, size.height);
    }
    while !app.quit {
        terminal.draw(|frame| view(app, frame)).map_err(io_error)?;
        let mut events = Vec::new();
        if event::poll(TICK).map_err(io_error)? {
            match event::read().map_err(io_error)? {
                TermEvent::Key(key) if key.kind != KeyEventKind::Release => {
                    events.push(Event::Key(key));
                }
                TermEvent::Mouse(mouse) => match mouse.kind {
                    MouseEventKind::ScrollUp => events.push(Event::ScrollUp),
                    MouseEventKind::ScrollDown => events.push(Event::ScrollDown),
                    _ => {}
                },
                TermEvent::Resize(width, height) => events.push(Event::Resize(width, height)),
                _ => {}
            }
        } else {
            events.push(Event::Tick);
        }
        loop {
            match outcome_rx.try_recv() {
                Ok(outcome) => events.push(Event::Done(outcome)),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    if app.busy.take().is_some() {
                        app.message =
                            Some("the background worker stopped; restart the review".into());
                    }
                    break;
                }
            }
        }
        for event in events {
            if let Some(request) = update(app, event)
                && request_tx.send(request).is_err()
            {
                app.busy = None;
                app.message = Some("the background worker stopped; restart the review".into());
            }
        }
    }
    Ok(())
}
