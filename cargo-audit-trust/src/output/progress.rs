//! A progress bar on stderr for long phases, shown only on a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;

use audit_trust_core::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

pub struct BarProgress {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl BarProgress {
    /// `wanted` is false for `-q`, JSON output and CI; a non-terminal stderr disables it too.
    pub fn new(wanted: bool) -> Self {
        BarProgress {
            enabled: wanted && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }
}

impl Progress for BarProgress {
    fn begin(&self, phase: &str, total: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(phase.to_owned());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
