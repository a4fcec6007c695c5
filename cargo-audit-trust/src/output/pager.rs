//! A pager for long human reports (`diff`), as git does: only when stdout is a terminal and
//! the user did not pass `--no-pager`. `$PAGER` (split on whitespace), else `less -R`; `LESS`
//! defaults to `FRX` so a report that fits on one screen is printed and left on the screen. A
//! pager that cannot be started is no error: the text goes to stdout.

use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};

use super::write_stdout;
use crate::error::CliError;

/// Writes `text` through the pager when `wanted` and stdout is a terminal, else to stdout.
pub fn write_paged(text: &str, wanted: bool) -> Result<(), CliError> {
    if !wanted || !std::io::stdout().is_terminal() {
        return write_stdout(text);
    }
    let Some(mut command) = pager_command(std::env::var("PAGER").ok().as_deref()) else {
        return write_stdout(text);
    };
    if std::env::var_os("LESS").is_none() {
        command.env("LESS", "FRX");
    }
    let Ok(mut child) = command.stdin(Stdio::piped()).spawn() else {
        return write_stdout(text);
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The reader quitting early (`q` in less) closes the pipe: not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    let _ = child.wait();
    Ok(())
}

/// The pager to run: `$PAGER` when set (empty or `cat`: none), else `less -R`.
fn pager_command(pager: Option<&str>) -> Option<Command> {
    let line = pager.unwrap_or("less -R");
    let mut words = line.split_whitespace();
    let program = words.next()?;
    if program == "cat" {
        return None;
    }
    let mut command = Command::new(program);
    command.args(words);
    Some(command)
}

#[cfg(test)]
mod tests {
    use super::pager_command;

    fn words(pager: Option<&str>) -> Option<Vec<String>> {
        pager_command(pager).map(|c| {
            std::iter::once(c.get_program())
                .chain(c.get_args())
                .map(|w| w.to_string_lossy().into_owned())
                .collect()
        })
    }

    #[test]
    fn pager_defaults_to_less_and_honours_pager() {
        assert_eq!(words(None), Some(vec!["less".into(), "-R".into()]));
        assert_eq!(
            words(Some("most -s")),
            Some(vec!["most".into(), "-s".into()])
        );
        assert_eq!(words(Some("")), None);
        assert_eq!(words(Some("cat")), None);
    }
}
