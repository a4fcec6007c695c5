//! `exemptions renew`: moves the expiry of matching exemptions and records why in their
//! reason, editing only those two values in `Cargo.audit`'s text, so comments, order and layout
//! stay as they were.

use std::ops::Range;
use std::path::Path;

use serde::Serialize;

use super::prune::exemption_label;
use super::{AuditFile, CratePattern};
use crate::Error;
use crate::lockfile::line_of;
use crate::time::Date;

/// What to renew, and until when.
#[derive(Debug)]
pub struct Renewal<'a> {
    /// Exemptions of crates matching this pattern; `None`: every exemption.
    pub pattern: Option<&'a CratePattern>,
    pub today: Date,
    /// The new last day.
    pub expires: Date,
    /// Why, appended to each reason with the date.
    pub reason: Option<&'a str>,
}

/// One renewed exemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renewed {
    /// `name@version`, or `name` with its range.
    pub label: String,
    /// Line of the entry in `Cargo.audit` (1-based).
    pub line: usize,
    pub was: Date,
    pub expires: Date,
}

/// The renewed text and what was renewed. An exemption that already lasts until
/// `renewal.expires` or later is left alone: renewing never shortens one. The edited text is
/// parsed again and must differ from `file` in exactly the renewed values, so a failed edit is
/// an error, never a silently different policy.
pub fn renew_exemptions(
    text: &str,
    file: &AuditFile,
    renewal: &Renewal<'_>,
    path: &Path,
) -> Result<(String, Vec<Renewed>), Error> {
    let note = match renewal.reason {
        Some(why) => format!("renewed {}: {why}", renewal.today),
        None => format!("renewed {}", renewal.today),
    };
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut renewed = Vec::new();
    let mut expected = file.exemptions.clone();
    for x in &mut expected {
        let wanted = renewal.pattern.is_none_or(|p| p.matches(&x.name));
        if !wanted || x.expires >= renewal.expires {
            continue;
        }
        renewed.push(Renewed {
            label: exemption_label(&x.name, &x.versions),
            line: line_of(text, x.offset),
            was: x.expires,
            expires: renewal.expires,
        });
        x.reason = format!("{}; {note}", x.reason.trim_end());
        x.expires = renewal.expires;
        edits.push((x.reason_span.clone(), toml_basic_string(&x.reason)));
        edits.push((x.expires_span.clone(), renewal.expires.to_string()));
    }
    // Back to front, so earlier offsets stay valid.
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut out = text.to_owned();
    for (span, value) in edits {
        if out.get(span.clone()).is_none() {
            return Err(edit_error(
                path,
                "an entry's value is not where it was read",
            ));
        }
        out.replace_range(span, &value);
    }

    let edited = AuditFile::parse(&out, path)?;
    let essence = |f: &AuditFile| {
        f.exemptions
            .iter()
            .map(|x| {
                (
                    x.name.clone(),
                    x.versions.clone(),
                    x.reason.clone(),
                    x.expires,
                )
            })
            .collect::<Vec<_>>()
    };
    let expected_file = AuditFile {
        exemptions: expected,
        ..file.clone()
    };
    let rest = |f: &AuditFile| AuditFile {
        exemptions: Vec::new(),
        ..f.clone()
    };
    let offsets_only = |f: &AuditFile| {
        let mut r = rest(f);
        // Values after an edited one moved; where they are is not what they say.
        for i in &mut r.ignored_advisories {
            i.offset = 0;
        }
        for a in &mut r.auditors {
            a.span = 0..0;
        }
        r
    };
    if essence(&edited) != essence(&expected_file) || offsets_only(&edited) != offsets_only(file) {
        return Err(edit_error(
            path,
            "the edit would change other parts of the file; renew by hand",
        ));
    }
    Ok((out, renewed))
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn toml_basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn edit_error(path: &Path, message: &str) -> Error {
    Error::AuditFile {
        path: path.to_owned(),
        line: None,
        column: None,
        message: format!("exemptions renew: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "[policy]\nmicro-lines = 300\n\n\
# kept as it is\n[[exemption]]\npackage = \"tokio@1.0.0\"\nreason = 'literal \"q\"'  # why\nexpires = 2026-12-01 # soon\n\n\
[[exemption]]\npackage = \"serde@1.0.0\"\nreason = \"r\"\nexpires = 2026-12-01\n\n\
[[ignore-advisory]]\nid = \"RUSTSEC-2020-0001\"\nreason = \"r\"\nexpires = 2027-01-01\n";

    fn date(s: &str) -> Date {
        Date::parse(s).expect("date")
    }

    #[test]
    fn renews_only_matching_entries_and_keeps_every_other_byte() {
        let path = Path::new("Cargo.audit");
        let file = AuditFile::parse(FILE, path).expect("valid");
        let pattern = CratePattern::parse("tok*").expect("pattern");
        let renewal = Renewal {
            pattern: Some(&pattern),
            today: date("2026-11-20"),
            expires: date("2027-02-18"),
            reason: Some("still \"in\" review"),
        };
        let (out, renewed) = renew_exemptions(FILE, &file, &renewal, path).expect("renew");
        assert_eq!(
            out,
            FILE.replace(
                "reason = 'literal \"q\"'  # why\nexpires = 2026-12-01 # soon",
                "reason = \"literal \\\"q\\\"; renewed 2026-11-20: still \\\"in\\\" review\"  # why\nexpires = 2027-02-18 # soon"
            )
        );
        assert_eq!(renewed.len(), 1);
        assert_eq!(renewed[0].label, "tokio@1.0.0");
        assert_eq!(renewed[0].line, 5, "the entry's header line");

        // Renewing never shortens: a second run with an earlier date changes nothing.
        let edited = AuditFile::parse(&out, path).expect("valid");
        let shorter = Renewal {
            expires: date("2027-01-01"),
            pattern: None,
            ..renewal
        };
        let (again, renewed) = renew_exemptions(&out, &edited, &shorter, path).expect("renew");
        assert_eq!(renewed.len(), 1, "only serde is renewed");
        assert!(again.contains("expires = 2027-02-18 # soon"), "{again}");
    }
}
