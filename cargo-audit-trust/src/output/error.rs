//! The one error printer. An error's message and every cause under it are shown, each escaped
//! as a terminal line: messages quote untrusted text (tarball entry names, record fields, a
//! registry's answer), which must not reach the terminal raw.

use std::io::{self, Write as _};
use std::process::ExitCode;

use super::escape;
use crate::error::CliError;

/// Exit code for usage and configuration errors.
pub const EXIT_ERROR: u8 = 2;

/// An error as it is shown: the message, then each cause the message does not already quote,
/// all escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorText {
    pub message: String,
    pub causes: Vec<String>,
}

impl ErrorText {
    pub fn of(error: &CliError) -> ErrorText {
        let (message, mut source) = match error {
            CliError::Usage(m) => (m.clone(), None),
            CliError::Core(e) => (e.to_string(), std::error::Error::source(e)),
        };
        let mut causes = Vec::new();
        // Most messages quote their cause (`{path}: {source}`); repeating it would be noise.
        let mut shown = message.clone();
        while let Some(s) = source {
            let text = s.to_string();
            if !shown.contains(&text) {
                shown.push_str(&text);
                causes.push(escape::line(&text));
            }
            source = s.source();
        }
        ErrorText {
            message: escape::line(&message),
            causes,
        }
    }

    /// For stderr: `message`, then one `  caused by: …` line per cause.
    pub fn lines(&self) -> String {
        let mut out = self.message.clone();
        for cause in &self.causes {
            out.push_str("\n  caused by: ");
            out.push_str(cause);
        }
        out
    }

    /// For a one-line status (the review UI): the causes follow the message after `: `.
    pub fn one_line(&self) -> String {
        let mut out = self.message.clone();
        for cause in &self.causes {
            out.push_str(": ");
            out.push_str(cause);
        }
        out
    }
}

/// Prints `error: …` with its causes to stderr and returns exit code 2.
pub fn report_error(error: &CliError) -> ExitCode {
    let _ = writeln!(io::stderr(), "error: {}", ErrorText::of(error).lines());
    ExitCode::from(EXIT_ERROR)
}

#[cfg(test)]
mod tests {
    use super::ErrorText;
    use crate::error::CliError;

    #[test]
    fn usage_messages_are_escaped_as_one_line() {
        let text = ErrorText::of(&CliError::Usage("bad `x\u{202E}y`\nerror: fake".into()));
        assert_eq!(text.lines(), "bad `x\\u{202e}y`\\nerror: fake");
    }

    #[test]
    fn a_hostile_entry_name_in_a_core_error_is_escaped() {
        let core = audit_trust_core::Error::Tarball {
            package: "leafy@2.0.0".into(),
            source: audit_trust_core::tarball::TarballError::OutsidePrefix {
                path: "other/\u{202E}sr.txt\u{2066}\nnext".into(),
                prefix: "leafy-2.0.0".into(),
            },
        };
        let text = ErrorText::of(&CliError::Core(core));
        let shown = text.lines();
        assert!(
            shown.contains("entry `other/\\u{202e}sr.txt\\u{2066}\\nnext` is not inside"),
            "{shown}"
        );
        // The cause is quoted by the message, so it is not repeated.
        assert!(text.causes.is_empty(), "{text:?}");
        assert_eq!(text.one_line(), shown);
    }

    #[test]
    fn an_io_cause_is_escaped() {
        let core = audit_trust_core::Error::Io {
            path: "a\u{2067}b".into(),
            source: std::io::Error::other("disk \u{1b}[2J on fire"),
        };
        let text = ErrorText::of(&CliError::Core(core));
        assert_eq!(text.message, "a\\u{2067}b: disk \\u{1b}[2J on fire");
    }
}
