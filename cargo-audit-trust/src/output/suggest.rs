//! `suggest`'s output: the reviews to do, fewest lines first, each with the commands that start
//! and record it.

use audit_trust_core::gate::suggest::{ReviewTarget, Suggestion};

use super::{escape, thousands, write_json, write_stdout};
use crate::error::CliError;
use crate::settings::{OutputFormat, Settings};

/// Writes the ranked suggestions in the run's format; human output ends with `notes` (what
/// could not be checked) unless `--quiet`.
pub fn write(
    settings: &Settings,
    suggestions: &[Suggestion],
    targets: &[ReviewTarget],
    notes: &[String],
) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&suggestions),
        OutputFormat::Human => {
            let mut text = render(suggestions, targets);
            if !settings.quiet {
                for note in notes {
                    text.push_str(&format!("note: {}\n", escape::line(note)));
                }
            }
            write_stdout(&text)
        }
    }
}

fn render(suggestions: &[Suggestion], targets: &[ReviewTarget]) -> String {
    if targets.is_empty() {
        return "nothing to review: every covered package is audited\n".into();
    }
    let mut out = match suggestions.len() {
        1 => "1 review to do:\n".to_owned(),
        n if suggestions.iter().any(|s| s.urgent) => format!(
            "{} reviews to do, findings first, then fewest lines:\n",
            thousands(n as u64)
        ),
        n => format!(
            "{} reviews to do, fewest lines first:\n",
            thousands(n as u64)
        ),
    };
    for s in suggestions {
        let size = match (s.lines_to_read, &s.delta_from) {
            (Some(n), Some(base)) => {
                format!(
                    "{} changed lines since audited {}",
                    thousands(n),
                    escape::line(base)
                )
            }
            (Some(n), None) => format!("{} lines of code", thousands(n)),
            (None, _) => "size unknown".into(),
        };
        let status = match &s.fixes {
            Some(locked) => format!(
                "fixes {} {}{}",
                s.status.as_str(),
                escape::line(locked),
                if s.semver_crossing {
                    ", semver-incompatible"
                } else {
                    ""
                }
            ),
            None => s.status.as_str().to_owned(),
        };
        out.push_str(&format!(
            "  {}@{} ({status}, {size})\n      start: {}\n      then:  {}\n",
            escape::line(&s.name),
            escape::line(&s.version),
            escape::line(&s.start),
            escape::line(&s.sign)
        ));
        if let Some(why) = &s.why {
            out.push_str(&format!("      why:   {}\n", escape::line(why)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use audit_trust_core::gate::Status;

    fn suggestion(name: &str, lines: u64) -> Suggestion {
        Suggestion {
            name: name.into(),
            version: "1.0.0".into(),
            status: Status::Unaudited,
            fixes: None,
            semver_crossing: false,
            urgent: false,
            why: None,
            delta_from: None,
            lines_to_read: Some(lines),
            start: format!("cargo audit-trust diff {name}@1.0.0"),
            sign: format!("cargo audit-trust sign {name} 1.0.0 --criteria reviewed"),
        }
    }

    #[test]
    fn counts_read_as_numbers_do() {
        let target = |id| ReviewTarget {
            id,
            status: Status::Unaudited,
            step: audit_trust_core::gate::NextStep {
                kind: audit_trust_core::gate::StepKind::Review,
                version: None,
                audited_by: Vec::new(),
                semver_crossing: false,
                delta_from: None,
                declared_in: Vec::new(),
                via: Vec::new(),
                command: None,
                then: None,
                text: String::new(),
            },
            fix: None,
            base: None,
        };
        let one = render(&[suggestion("big", 12_345)], &[target(0)]);
        assert!(one.starts_with("1 review to do:\n"), "{one}");
        assert!(one.contains("12,345 lines of code"), "{one}");
        let two = render(
            &[suggestion("a", 10), suggestion("b", 1_000_000)],
            &[target(0), target(1)],
        );
        assert!(
            two.starts_with("2 reviews to do, fewest lines first:"),
            "{two}"
        );
        assert!(two.contains("1,000,000 lines of code"), "{two}");
    }
}
