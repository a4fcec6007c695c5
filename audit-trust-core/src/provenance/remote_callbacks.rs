//! libgit2 callbacks for one fetch: credentials (ssh-agent, git's credential helpers), the time
//! and size bounds, and progress reports to the waiting thread.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

use git2::{Cred, CredentialType, RemoteCallbacks};

use super::git_cache::{FetchError, FetchedRepository};

/// Messages from the fetch worker to the thread that waits for it.
pub enum FetchEvent {
    Progress { received: u64, total: u64 },
    Done(Box<Result<FetchedRepository, FetchError>>),
}

/// libgit2 asks for credentials again after each refusal; stop after this many tries.
const MAX_CREDENTIAL_ATTEMPTS: u32 = 3;

pub struct CallbackState {
    deadline: Instant,
    max_bytes: u64,
    cancel: Arc<AtomicBool>,
    events: Sender<FetchEvent>,
    credential_attempts: Cell<u32>,
    /// Why the last transfer was stopped by us, to explain libgit2's "cancelled" error.
    stopped: RefCell<Option<String>>,
    last_reported: Cell<u64>,
    /// Bytes received by the rounds that ended, and by the one under way: the byte limit holds
    /// for the whole fetch, not for each round.
    ended_rounds_bytes: Cell<u64>,
    round_bytes: Cell<u64>,
}

impl CallbackState {
    pub fn new(
        deadline: Instant,
        max_bytes: u64,
        cancel: Arc<AtomicBool>,
        events: Sender<FetchEvent>,
    ) -> CallbackState {
        CallbackState {
            deadline,
            max_bytes,
            cancel,
            events,
            credential_attempts: Cell::new(0),
            stopped: RefCell::new(None),
            last_reported: Cell::new(u64::MAX),
            ended_rounds_bytes: Cell::new(0),
            round_bytes: Cell::new(0),
        }
    }

    /// Adds the round that just ended to the bytes received so far.
    pub fn end_round(&self) {
        let total = self.ended_rounds_bytes.get() + self.round_bytes.get();
        self.ended_rounds_bytes.set(total);
        self.round_bytes.set(0);
        self.last_reported.set(u64::MAX);
    }

    /// Whether a bound (time, bytes) stopped a transfer.
    pub fn was_stopped(&self) -> bool {
        self.stopped.borrow().is_some()
    }

    pub fn callbacks(&self) -> RemoteCallbacks<'_> {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(|url, username, allowed| self.credentials(url, username, allowed));
        callbacks.transfer_progress(|stats| {
            self.keep_going(stats.received_bytes() as u64)
                && self.report(
                    stats.received_objects() as u64,
                    stats.total_objects() as u64,
                )
        });
        callbacks.sideband_progress(|_| self.keep_going(0));
        callbacks
    }

    /// False (which makes libgit2 abort the transfer) once a bound is exceeded.
    fn keep_going(&self, round_bytes: u64) -> bool {
        self.round_bytes
            .set(self.round_bytes.get().max(round_bytes));
        let received_bytes = self.ended_rounds_bytes.get() + self.round_bytes.get();
        let reason = if self.cancel.load(Ordering::Relaxed) || Instant::now() > self.deadline {
            Some("the fetch took longer than the time limit".to_owned())
        } else if received_bytes > self.max_bytes {
            Some(format!(
                "the fetch received more than the limit of {} bytes",
                self.max_bytes
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => {
                self.stopped.borrow_mut().get_or_insert(reason);
                false
            }
            None => true,
        }
    }

    /// Sends progress at most every 64 objects (and at the end), never stopping the transfer.
    fn report(&self, received: u64, total: u64) -> bool {
        let last = self.last_reported.get();
        if last == u64::MAX || received >= last.saturating_add(64) || received == total {
            self.last_reported.set(received);
            let _ = self.events.send(FetchEvent::Progress { received, total });
        }
        true
    }

    fn credentials(
        &self,
        url: &str,
        username: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let attempt = self.credential_attempts.get() + 1;
        self.credential_attempts.set(attempt);
        if attempt > MAX_CREDENTIAL_ATTEMPTS {
            return Err(git2::Error::from_str("authentication failed"));
        }
        let user = username.unwrap_or("git");
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            return Cred::ssh_key_from_agent(user);
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            let config = git2::Config::open_default()?;
            return Cred::credential_helper(&config, url, username);
        }
        if allowed.contains(CredentialType::DEFAULT) {
            return Cred::default();
        }
        Err(git2::Error::from_str("no supported authentication method"))
    }

    /// A libgit2 error as the reason for an `unreachable` verdict.
    pub fn explain(&self, url: &str, error: git2::Error) -> FetchError {
        let message = match self.stopped.borrow().as_ref() {
            Some(reason) => reason.clone(),
            None => error.message().trim().to_owned(),
        };
        FetchError::Unreachable(format!("cannot fetch {url}: {message}"))
    }
}
