//! A real terminal for the review's end-to-end tests: the binary runs inside a tmux server of
//! the test's own (its own socket, killed when the test ends), driven with `send-keys` and read
//! with `capture-pane`. Waiting is for what the screen shows, never for a time.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a screen may take to show what is waited for before the test fails with it.
const PATIENCE: Duration = Duration::from_secs(60);

pub struct Tmux {
    socket: String,
}

/// Whether tmux can be run here; tests print `SKIPPED` without it.
pub fn tmux_installed() -> bool {
    Command::new("tmux").arg("-V").output().is_ok()
}

/// `text` quoted for `sh`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Writes a script that runs `command` (already quoted) in `dir` with a clean environment: the
/// registry's `CARGO_HOME`, the temporary `HOME`, loopback outside any proxy.
pub fn review_script(script: &Path, dir: &Path, home: &Path, cargo_home: &Path, command: &str) {
    std::fs::write(
        script,
        format!(
            "cd {}\nexec env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME={} CARGO_HOME={} \
             no_proxy=127.0.0.1 NO_PROXY=127.0.0.1 {command}\n",
            shell_quote(&dir.display().to_string()),
            shell_quote(&home.display().to_string()),
            shell_quote(&cargo_home.display().to_string()),
        ),
    )
    .expect("write script");
}

impl Tmux {
    /// Starts `sh script` in a detached session `review` of `width`×`height`.
    pub fn start(name: &str, script: &Path, width: u16, height: u16) -> Tmux {
        let tmux = Tmux {
            socket: format!("audit-trust-{name}-{}", std::process::id()),
        };
        let started = tmux.cmd(&[
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-s",
            "review",
            &format!("sh {}", shell_quote(&script.display().to_string())),
        ]);
        assert!(
            started.status.success(),
            "{}",
            String::from_utf8_lossy(&started.stderr)
        );
        tmux
    }

    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "review"];
        args.extend_from_slice(keys);
        let out = self.cmd(&args);
        assert!(out.status.success(), "send-keys {keys:?}");
    }

    pub fn pane(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "review"]).stdout)
            .into_owned()
    }

    /// Waits until the screen shows `text`; fails with the screen when it never does.
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            if pane.contains(text) {
                return pane;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the screen never showed {text:?}:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn session_ended(&self) -> bool {
        !self.cmd(&["has-session", "-t", "review"]).status.success()
    }

    /// Waits until the program in the session has exited.
    pub fn wait_for_exit(&self) {
        let start = Instant::now();
        while !self.session_ended() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "review did not quit:\n{}",
                self.pane()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}
