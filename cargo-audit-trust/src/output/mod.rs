//! Rendering helpers shared by the commands: colors, errors, a stdout that tolerates a closed pipe.

pub mod check;
pub mod diff;
mod error;
pub mod escape;
pub mod exemptions;
pub mod list;
pub mod progress;
pub mod prune;
pub mod query;
pub mod sarif;
pub mod stats;

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
            };
        }
        Palette {
            bold: Style::new().bold(),
            dim: Style::new().dimmed(),
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

/// Formats an integer with thousands separators: 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
