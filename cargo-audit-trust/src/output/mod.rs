//! Rendering helpers shared by the commands: colors, errors, a stdout that tolerates a closed pipe.

pub mod check;
pub mod escape;
pub mod progress;
pub mod sarif;
pub mod text;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anstyle::Style;

use crate::cli::ColorChoice;
use crate::error::CliError;

/// Exit code for usage and configuration errors.
pub const EXIT_ERROR: u8 = 2;

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

/// Prints an error with its causes and returns exit code 2.
pub fn report_error(error: &CliError) -> ExitCode {
    let message = match error {
        CliError::Usage(m) => m.clone(),
        CliError::Core(e) => {
            let mut m = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let text = s.to_string();
                if !m.contains(&text) {
                    m.push_str(&format!("\n  caused by: {text}"));
                }
                source = s.source();
            }
            m
        }
    };
    let _ = writeln!(io::stderr(), "error: {message}");
    ExitCode::from(EXIT_ERROR)
}

/// [`escape::terminal_safe`] for one-line messages: newlines and tabs are escaped too, so a
/// stranger's text (a note, an advisory title) cannot fake extra report lines.
pub fn escape_text(text: &str) -> String {
    escape::terminal_safe(text)
        .replace('\n', "\\n")
        .replace('\t', "\\t")
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
    use super::{escape_text, thousands};

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_text("ok ünïcode"), "ok ünïcode");
        assert_eq!(escape_text("a\x1b[31mred\x07"), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(escape_text("line\nbreak\r"), "line\\nbreak\\r");
        assert_eq!(escape_text("\u{202E}evil"), "\\u{202e}evil");
        assert_eq!(escape_text("\u{9b}c1"), "\\u{9b}c1");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
