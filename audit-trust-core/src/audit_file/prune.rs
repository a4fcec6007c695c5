//! `prune`: finds the exemptions and advisory ignores that no longer match anything, and removes
//! them from the file's text, leaving every other byte (comments, order, layout) as it was.

use std::path::Path;

use serde::Serialize;

use super::AuditFile;
use crate::Error;
use crate::advisories::AdvisoryDatabase;
use crate::gate::{GateInput, evaluate};
use crate::inventory::{Inventory, SourceKind};
use crate::lockfile::line_of;

/// Which kind of entry is unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    Exemption,
    IgnoreAdvisory,
}

/// Why an entry can go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PruneReason {
    /// No package of the lockfile matches it (or the advisory covers none).
    Unmatched,
    /// Every package it matches passes the gate without any exemption (signed off, imported).
    NotNeeded,
}

/// An entry nothing uses any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusedEntry {
    pub kind: EntryKind,
    pub why: PruneReason,
    /// `name@version`, `name` with its range, or the advisory id.
    pub label: String,
    /// Line of the entry in `Cargo.audit` (1-based).
    pub line: usize,
    #[serde(skip)]
    offset: usize,
}

/// The unused entries. An exemption is unused when no package of the lockfile matches it; an
/// ignore when no package of the lockfile is covered by that advisory. Without a database the
/// ignores cannot be judged, so none is reported unused.
pub fn unused_entries(
    text: &str,
    file: &AuditFile,
    inventory: &Inventory,
    advisories: Option<&AdvisoryDatabase>,
) -> Vec<UnusedEntry> {
    let not_first_party = || {
        inventory
            .packages
            .iter()
            .filter(|p| p.source != SourceKind::Path)
    };
    let mut out = Vec::new();
    for x in &file.exemptions {
        if !not_first_party().any(|p| x.matches(&p.name, &p.version)) {
            out.push(UnusedEntry {
                kind: EntryKind::Exemption,
                why: PruneReason::Unmatched,
                label: exemption_label(&x.name, &x.versions),
                line: line_of(text, x.offset),
                offset: x.offset,
            });
        }
    }
    if let Some(db) = advisories {
        for ignore in &file.ignored_advisories {
            let used = not_first_party().any(|p| {
                db.for_package(&p.name, &p.version)
                    .iter()
                    .any(|a| a.id == ignore.id)
            });
            if !used {
                out.push(UnusedEntry {
                    kind: EntryKind::IgnoreAdvisory,
                    why: PruneReason::Unmatched,
                    label: ignore.id.clone(),
                    line: line_of(text, ignore.offset),
                    offset: ignore.offset,
                });
            }
        }
    }
    out.sort_by_key(|e| e.offset);
    out
}

/// The exemptions that match packages of the lockfile, every one of which passes the gate
/// without any exemption at all: sign-offs (or imports) made them unnecessary. Judged by the
/// gate itself, run once with no exemptions, so "unnecessary" means exactly what `check` would
/// say. A package still blocked for another reason (an advisory) keeps its exemption: it will
/// need it again once that is fixed.
pub fn unneeded_exemptions(text: &str, input: &GateInput<'_>) -> Vec<UnusedEntry> {
    let without = AuditFile {
        exemptions: Vec::new(),
        ..input.audit_file.clone()
    };
    let report = evaluate(&GateInput {
        audit_file: &without,
        notes: Vec::new(),
        ..*input
    });
    let passes = |id| report.verdict_of(id).is_some_and(|v| !v.blocked);
    let mut out = Vec::new();
    for x in &input.audit_file.exemptions {
        let mut matched = input
            .inventory
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.source != SourceKind::Path && x.matches(&p.name, &p.version))
            .peekable();
        if matched.peek().is_some() && matched.all(|(id, _)| passes(id)) {
            out.push(UnusedEntry {
                kind: EntryKind::Exemption,
                why: PruneReason::NotNeeded,
                label: exemption_label(&x.name, &x.versions),
                line: line_of(text, x.offset),
                offset: x.offset,
            });
        }
    }
    out
}

/// `name@1.2.3` for an exact exemption (as it is written), `name >=1, <2` for a range.
pub(super) fn exemption_label(name: &str, versions: &semver::VersionReq) -> String {
    match versions.comparators.as_slice() {
        [only] if only.op == semver::Op::Exact && only.minor.is_some() && only.patch.is_some() => {
            format!("{name}@{}", versions.to_string().trim_start_matches('='))
        }
        _ => format!("{name} {versions}"),
    }
}

/// `text` without the given entries. Each entry runs from its `[[…]]` header line to the last
/// key line before the next header, with the blank lines after it; comments just above the next
/// header are left to it. The result is parsed again and must hold exactly the entries that
/// were kept, so an edit that went wrong is an error, never a silently different policy.
pub fn remove_entries(
    text: &str,
    file: &AuditFile,
    unused: &[UnusedEntry],
    path: &Path,
) -> Result<String, Error> {
    let mut ranges: Vec<(usize, usize)> =
        unused.iter().map(|e| entry_range(text, e.offset)).collect();
    ranges.sort();
    ranges.dedup();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if start < at {
            return Err(edit_error(path, "two entries overlap"));
        }
        out.push_str(&text[at..start]);
        at = end;
    }
    out.push_str(&text[at..]);

    let edited = AuditFile::parse(&out, path)?;
    let kept_exemptions: Vec<_> = file
        .exemptions
        .iter()
        .filter(|x| {
            !unused
                .iter()
                .any(|u| u.kind == EntryKind::Exemption && u.offset == x.offset)
        })
        .map(|x| (&x.name, &x.versions, &x.reason, x.expires))
        .collect();
    let kept_ignores: Vec<_> = file
        .ignored_advisories
        .iter()
        .filter(|i| {
            !unused
                .iter()
                .any(|u| u.kind == EntryKind::IgnoreAdvisory && u.offset == i.offset)
        })
        .map(|i| (&i.id, &i.reason, i.expires))
        .collect();
    let now_exemptions: Vec<_> = edited
        .exemptions
        .iter()
        .map(|x| (&x.name, &x.versions, &x.reason, x.expires))
        .collect();
    let now_ignores: Vec<_> = edited
        .ignored_advisories
        .iter()
        .map(|i| (&i.id, &i.reason, i.expires))
        .collect();
    let rest_same = AuditFile {
        exemptions: Vec::new(),
        ignored_advisories: Vec::new(),
        ..edited.clone()
    } == AuditFile {
        exemptions: Vec::new(),
        ignored_advisories: Vec::new(),
        ..file.clone()
    };
    if kept_exemptions != now_exemptions || kept_ignores != now_ignores || !rest_same {
        return Err(edit_error(
            path,
            "removing the entries would change other parts of the file; remove them by hand",
        ));
    }
    Ok(out)
}

fn edit_error(path: &Path, message: &str) -> Error {
    Error::AuditFile {
        path: path.to_owned(),
        line: None,
        column: None,
        message: format!("prune: {message}"),
    }
}

/// Byte offsets where each line starts, and the line's text.
fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        out.push((at, line));
        at += line.len();
    }
    out
}

fn is_header(line: &str) -> bool {
    line.trim_start().starts_with('[')
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The byte range of the entry containing `offset` (see [`remove_entries`]).
fn entry_range(text: &str, offset: usize) -> (usize, usize) {
    let lines = lines(text);
    let current = lines
        .iter()
        .rposition(|(start, _)| *start <= offset)
        .unwrap_or(0);
    let header = lines[..=current.min(lines.len().saturating_sub(1))]
        .iter()
        .rposition(|(_, l)| is_header(l))
        .unwrap_or(current);
    let next_header = lines
        .iter()
        .enumerate()
        .skip(header + 1)
        .find(|(_, (_, l))| is_header(l))
        .map_or(lines.len(), |(i, _)| i);
    // The last line that belongs to the entry: its last key line.
    let last_key = (header..next_header)
        .rev()
        .find(|&i| !is_blank_or_comment(lines[i].1))
        .unwrap_or(header);
    // Blank lines right after it go too, so no gap is left behind.
    let mut end_line = last_key + 1;
    while end_line < next_header && lines[end_line].1.trim().is_empty() {
        end_line += 1;
    }
    let start = lines.get(header).map_or(0, |(s, _)| *s);
    let end = lines.get(end_line).map_or(text.len(), |(s, _)| *s);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# top comment\n[policy]\nmicro-lines = 300\n\n\
# the one we keep\n[[exemption]]\npackage = \"a@1.0.0\"\nreason = \"r\"\nexpires = 2027-01-01\n\n\
[[exemption]]\npackage = \"gone@2.0.0\"  # old\nreason = \"r\"\nexpires = 2027-01-01\n\n\
# about the ignore\n[[ignore-advisory]]\nid = \"RUSTSEC-2020-0001\"\nreason = \"r\"\nexpires = 2027-01-01\n";

    fn parse(text: &str) -> AuditFile {
        AuditFile::parse(text, Path::new("Cargo.audit")).expect("valid")
    }

    #[test]
    fn removes_one_entry_and_keeps_every_other_byte() {
        let file = parse(FILE);
        let gone = &file.exemptions[1];
        let unused = vec![UnusedEntry {
            kind: EntryKind::Exemption,
            why: PruneReason::Unmatched,
            label: "gone".into(),
            line: line_of(FILE, gone.offset),
            offset: gone.offset,
        }];
        let out = remove_entries(FILE, &file, &unused, Path::new("Cargo.audit")).expect("edit");
        let expected = FILE.replace(
            "[[exemption]]\npackage = \"gone@2.0.0\"  # old\nreason = \"r\"\nexpires = 2027-01-01\n\n",
            "",
        );
        assert_eq!(out, expected);
        assert_eq!(unused[0].line, 11);
    }

    #[test]
    fn removes_the_last_entry_of_the_file() {
        let file = parse(FILE);
        let ignore = &file.ignored_advisories[0];
        let unused = vec![UnusedEntry {
            kind: EntryKind::IgnoreAdvisory,
            why: PruneReason::Unmatched,
            label: ignore.id.clone(),
            line: 0,
            offset: ignore.offset,
        }];
        let out = remove_entries(FILE, &file, &unused, Path::new("Cargo.audit")).expect("edit");
        assert!(out.ends_with("# about the ignore\n"), "{out}");
        assert!(parse(&out).ignored_advisories.is_empty());
        assert_eq!(parse(&out).exemptions.len(), 2);
    }
}
