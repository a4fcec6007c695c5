//! Rendering helpers shared by the commands: colors, errors, a stdout that tolerates a closed pipe.

pub mod check;
pub mod diff;
pub mod diff_colour;
mod error;
pub mod escape;
pub mod exemptions;
pub mod licenses;
pub mod list;
pub mod markdown;
pub mod pager;
pub mod progress;
pub mod prune;
pub mod query;
pub mod sarif;
pub mod sources;
pub mod stats;
pub mod suggest;
pub mod update;

use std::io::{self, IsTerminal, Write};

use anstyle::Style;

use crate::cli::ColorChoice;
use crate::error::CliError;

pub use error::{EXIT_ERROR, ErrorText, report_error};

/// Styles for human output; all empty when colors are off.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub bold: Style,
    pub dim: Style,
    /// Added lines of a diff.
    pub added: Style,
    /// Removed lines of a diff.
    pub removed: Style,
    /// Hunk headers (`@@ … @@`) of a diff.
    pub hunk: Style,
}

impl Palette {
    pub fn new(choice: ColorChoice) -> Palette {
        let on = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        if !on {
            let plain = Style::new();
            return Palette {
                bold: plain,
                dim: plain,
                added: plain,
                removed: plain,
                hunk: plain,
            };
        }
        Palette {
            bold: Style::new().bold(),
            dim: Style::new().dimmed(),
            added: Style::new().fg_color(Some(anstyle::AnsiColor::Green.into())),
            removed: Style::new().fg_color(Some(anstyle::AnsiColor::Red.into())),
            hunk: Style::new().fg_color(Some(anstyle::AnsiColor::Cyan.into())),
        }
    }

    /// `text` wrapped in `style` (nothing added when colors are off).
    pub fn paint(&self, style: Style, text: &str) -> String {
        if style == Style::new() {
            return text.to_owned();
        }
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}

/// Writes `text` to stdout. A reader that went away (`| head`) is not an error.
pub fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Usage(format!("cannot write to stdout: {e}"))),
    }
}

/// Serializes `value` as pretty JSON followed by a newline.
pub fn write_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Usage(format!("cannot serialize output: {e}")))?;
    text.push('\n');
    write_stdout(&text)
}

/// Counts in messages (see [`audit_trust_core::words`]): "1 package", "1,234 packages".
pub use audit_trust_core::words::{plural, thousands};
