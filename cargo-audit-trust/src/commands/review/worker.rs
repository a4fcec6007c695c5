//! The background worker: downloads, clones, diffs and signing run here, one request at a time,
//! so the UI keeps drawing and answering keys. Nothing here touches the terminal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use audit_trust_core::classify::manifest::parse_manifest;
use audit_trust_core::progress::NoProgress;
use audit_trust_core::provenance::versions::ChangeStatus;
use audit_trust_core::provenance::{FileStatus, ProvenanceReport, Verdict, diff_versions};
use audit_trust_core::tarball::CrateArchive;

use super::app::{Outcome, Request, SignRequest};
use super::code_view::{CodeFile, LoadedCode, count_lines};
use super::diff_view::{DiffFile, DiffKind, LoadedDiff};
use super::file_order::{BuildTime, Candidate, FileFocus, file_rank, order_by_risk};
use crate::error::CliError;
use crate::output::{ErrorText, escape};
use crate::services::crate_source::CrateSource;
use crate::services::provenance::{Published, provenance_report};
use crate::services::publish::publish_to;
use crate::services::sign::sign_record;
use crate::settings::Settings;

/// What the worker needs from the command line.
pub struct WorkerContext {
    /// Silent: nothing may print while the UI owns the terminal.
    pub settings: Settings,
    /// `--key`.
    pub key: Option<PathBuf>,
    /// `--advisory-db`.
    pub advisory_db: Option<PathBuf>,
}

/// Answers requests until the UI hangs up.
pub fn run(context: WorkerContext, requests: Receiver<Request>, results: Sender<Outcome>) {
    let settings = &context.settings;
    // Opened on the first diff and kept: the lockfile and the crate store do not change.
    let mut crates: Option<CrateSource> = None;
    for request in requests {
        let outcome = match request {
            Request::LoadQueue => Outcome::Queue(
                super::load_queue(settings, context.advisory_db.as_deref())
                    .map_err(|e| describe(&e)),
            ),
            Request::LoadDiff {
                kind,
                name,
                version,
                base,
                focus,
            } => Outcome::Diff(
                load_diff(
                    settings,
                    &mut crates,
                    DiffRequest {
                        kind,
                        name: &name,
                        version: &version,
                        base: base.as_deref(),
                        focus: &focus,
                    },
                )
                .map_err(|e| describe(&e)),
            ),
            Request::LoadCode {
                name,
                version,
                base,
            } => Outcome::Code(
                load_code(settings, &mut crates, &name, &version, base.as_deref())
                    .map_err(|e| describe(&e)),
            ),
            Request::Publish { registry } => Outcome::Published(
                publish_to(settings, &registry, context.key.as_deref())
                    .map(|done| escape::cell(&done.summary()))
                    .map_err(|e| describe(&e)),
            ),
            Request::Sign(request) => {
                let result = sign(settings, context.key.as_deref(), &request);
                Outcome::Signed { request, result }
            }
        };
        if results.send(outcome).is_err() {
            return;
        }
    }
}

/// An error for the status line: the binary's one error text (every cause, escaped) on one line.
pub fn describe(error: &CliError) -> String {
    ErrorText::of(error).one_line()
}

fn sign(settings: &Settings, key: Option<&Path>, request: &SignRequest) -> Result<String, String> {
    let signed = sign_record(settings, request, key).map_err(|e| describe(&e))?;
    let mut summary = format!(
        "{} (record {:.12}…)",
        signed.summary(&request.name, &request.version),
        signed.id
    );
    for note in &signed.notes {
        summary.push_str(&format!("; note: {}", escape::cell(note)));
    }
    Ok(summary)
}

/// The crate store, opened on first use and kept: the lockfile and the store do not change.
fn opened<'a>(
    settings: &Settings,
    crates: &'a mut Option<CrateSource>,
) -> Result<&'a mut CrateSource, CliError> {
    match crates {
        Some(opened) => Ok(opened),
        None => Ok(crates.insert(CrateSource::open(settings, false)?)),
    }
}

/// Every published file of a version, read from the verified crate store (in memory, never
/// extracted), with the files changed since the audited `base` marked.
fn load_code(
    settings: &Settings,
    crates: &mut Option<CrateSource>,
    name: &str,
    version: &str,
    base: Option<&str>,
) -> Result<LoadedCode, CliError> {
    let source = opened(settings, crates)?;
    let (_, archive) = source.read(&source.package(name, version)?)?;
    let mut changed = HashMap::new();
    // The marks are a help, not the review: an unreadable base leaves them out.
    let base = base.and_then(|base| {
        let (_, old) = source.read(&source.package(name, base).ok()?).ok()?;
        for f in diff_versions(name, base, &old, version, &archive).files {
            let mark = match f.status {
                ChangeStatus::Added => "new",
                ChangeStatus::Modified => "mod",
                ChangeStatus::Removed => continue,
            };
            changed.insert(f.path, mark);
        }
        Some(escape::cell(base))
    });
    let builds = build_time(&archive).build_scripts;
    let files = archive
        .files()
        .iter()
        .map(|f| CodeFile {
            path: escape::cell(&f.path),
            contents: Arc::new(f.contents.clone()),
            build_script: builds.contains(&f.path),
            lines: count_lines(&f.contents),
            changed: changed.get(&f.path).copied(),
        })
        .collect();
    Ok(LoadedCode {
        name: name.to_owned(),
        version: version.to_owned(),
        base,
        files,
    })
}

/// The package's build scripts as cargo would find them (`build.rs` when the manifest cannot
/// be read: the cautious guess, it is cargo's default) and whether it is a proc-macro.
fn build_time(archive: &CrateArchive) -> BuildTime {
    let paths: Vec<&str> = archive.files().iter().map(|f| f.path.as_str()).collect();
    let manifest = archive
        .get("Cargo.toml")
        .and_then(|f| std::str::from_utf8(&f.contents).ok())
        .and_then(|text| parse_manifest(text).ok());
    match manifest {
        Some(manifest) => BuildTime {
            build_scripts: manifest.targets(&paths).build_scripts,
            proc_macro: manifest.proc_macro,
        },
        None => BuildTime {
            build_scripts: vec!["build.rs".to_owned()],
            proc_macro: false,
        },
    }
}

/// A diff to load, as the UI asked for it.
struct DiffRequest<'a> {
    kind: DiffKind,
    name: &'a str,
    version: &'a str,
    base: Option<&'a str>,
    focus: &'a FileFocus,
}

/// The file's bytes in an archive, or nothing.
fn bytes_in<'a>(archive: &'a CrateArchive, path: &str) -> &'a [u8] {
    archive.get(path).map_or(&[], |f| f.contents.as_slice())
}

fn load_diff(
    settings: &Settings,
    crates: &mut Option<CrateSource>,
    request: DiffRequest<'_>,
) -> Result<LoadedDiff, CliError> {
    let DiffRequest {
        kind,
        name,
        version,
        base,
        focus,
    } = request;
    let source = opened(settings, crates)?;
    let package = source.package(name, version)?;
    let (_, archive) = source.read(&package)?;
    let build = build_time(&archive);
    match (kind, base) {
        (DiffKind::Delta, Some(base)) => {
            let (_, old) = source.read(&source.package(name, base)?)?;
            let mut diff = diff_versions(name, base, &old, version, &archive);
            order_by_risk(&mut diff.files, |f| {
                let file = Candidate {
                    path: &f.path,
                    old: bytes_in(&old, &f.path),
                    new: bytes_in(&archive, &f.path),
                };
                file_rank(&file, &build, focus)
            });
            let t = &diff.totals;
            let title = escape::cell(&format!(
                "{name} {base} -> {version}: {} changed, +{} -{}",
                crate::output::plural(diff.files.len() as u64, "file", "files"),
                t.lines_added,
                t.lines_removed
            ));
            let files = diff
                .files
                .iter()
                .map(|f| {
                    let bytes = |a: &audit_trust_core::tarball::CrateArchive| {
                        Arc::new(
                            a.get(&f.path)
                                .map(|c| c.contents.clone())
                                .unwrap_or_default(),
                        )
                    };
                    let status = match f.status {
                        ChangeStatus::Added => "added",
                        ChangeStatus::Removed => "removed",
                        ChangeStatus::Modified => "modified",
                    };
                    DiffFile {
                        path: escape::cell(&f.path),
                        status: status.to_owned(),
                        changed: true,
                        old: bytes(&old),
                        new: bytes(&archive),
                        old_label: format!("{base}/{}", f.path),
                        new_label: format!("{version}/{}", f.path),
                        note: None,
                    }
                })
                .collect();
            Ok(LoadedDiff {
                kind,
                name: name.to_owned(),
                version: version.to_owned(),
                summary: vec![title.clone()],
                title,
                files,
            })
        }
        _ => {
            let published = Published {
                name,
                version,
                archive: &archive,
                registry: &package.source,
            };
            let mut report = provenance_report(source, &published, None, &NoProgress)?;
            let files = if report.files.is_empty() {
                // Nothing to compare with (unverifiable): the published files are still what
                // the reviewer has to read, so they are shown whole.
                let mut files: Vec<&audit_trust_core::tarball::CrateFile> =
                    archive.files().iter().collect();
                order_by_risk(&mut files, |f| {
                    let file = Candidate {
                        path: &f.path,
                        old: &[],
                        new: &f.contents,
                    };
                    file_rank(&file, &build, focus)
                });
                files.into_iter().map(unverified_file).collect()
            } else {
                order_by_risk(&mut report.files, |f| {
                    let file = Candidate {
                        path: &f.path,
                        old: f.repository_contents.as_deref().unwrap_or_default(),
                        new: bytes_in(&archive, &f.path),
                    };
                    file_rank(&file, &build, focus)
                });
                report
                    .files
                    .iter()
                    .map(|f| provenance_file(f, &archive))
                    .collect()
            };
            Ok(LoadedDiff {
                kind: DiffKind::Provenance,
                name: name.to_owned(),
                version: version.to_owned(),
                title: escape::cell(&format!(
                    "{name} {version} vs git: {}",
                    verdict_word(report.verdict)
                )),
                summary: provenance_summary(&report),
                files,
            })
        }
    }
}

fn provenance_file(
    f: &audit_trust_core::provenance::FileComparison,
    archive: &audit_trust_core::tarball::CrateArchive,
) -> DiffFile {
    let repository_path = f.repository_path.as_deref().unwrap_or(&f.path);
    let note = match f.status {
        FileStatus::LineEndings => {
            Some("the same text with other line endings (CRLF vs LF): every line differs".into())
        }
        FileStatus::ManifestMismatch => {
            Some("the normalized Cargo.toml does not build what Cargo.toml.orig describes".into())
        }
        _ => f.note.as_deref().map(escape::cell),
    };
    DiffFile {
        path: escape::cell(&f.path),
        status: f.status.as_str().to_owned(),
        changed: f.status.is_difference(),
        old: Arc::new(f.repository_contents.clone().unwrap_or_default()),
        new: Arc::new(
            archive
                .get(&f.path)
                .map(|c| c.contents.clone())
                .unwrap_or_default(),
        ),
        old_label: match f.status {
            FileStatus::OnlyInTarball => "/dev/null".to_owned(),
            _ => format!("repository/{repository_path}"),
        },
        new_label: format!("published/{}", f.path),
        note,
    }
}

fn unverified_file(file: &audit_trust_core::tarball::CrateFile) -> DiffFile {
    DiffFile {
        path: escape::cell(&file.path),
        status: "not compared".to_owned(),
        changed: true,
        old: Arc::new(Vec::new()),
        new: Arc::new(file.contents.clone()),
        old_label: "/dev/null".to_owned(),
        new_label: format!("published/{}", file.path),
        note: None,
    }
}

/// The details pane's provenance lines: verdict, reason, repository, release link.
fn provenance_summary(report: &ProvenanceReport) -> Vec<String> {
    let mut lines = vec![
        format!("verdict: {}", verdict_word(report.verdict)),
        report.reason.clone(),
    ];
    if let Some(repository) = &report.repository {
        lines.push(format!("repository: {repository}"));
        if let Some(link) =
            release_link(repository, report.tag.as_deref(), report.commit.as_deref())
        {
            lines.push(format!("release: {link}"));
        }
    }
    if let Some(commit) = &report.commit {
        lines.push(format!("commit: {commit}"));
    }
    lines.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    lines.iter().map(|l| escape::cell(l)).collect()
}

/// The release's page on the forge: the tag page on GitHub or GitLab, else the commit page;
/// for other hosts, the commit id alone (`None` when neither is known).
pub fn release_link(repository: &str, tag: Option<&str>, commit: Option<&str>) -> Option<String> {
    let base = repository.trim_end_matches('/').trim_end_matches(".git");
    let forge = if base.starts_with("https://github.com/") {
        Some(("/releases/tag/", "/commit/"))
    } else if base.starts_with("https://gitlab.com/") {
        Some(("/-/tags/", "/-/commit/"))
    } else {
        None
    };
    match (forge, tag, commit) {
        (Some((tags, _)), Some(tag), _) => Some(format!("{base}{tags}{tag}")),
        (Some((_, commits)), None, Some(commit)) => Some(format!("{base}{commits}{commit}")),
        (None, _, Some(commit)) => Some(format!("commit {commit}")),
        _ => None,
    }
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Matches => "matches",
        Verdict::Differs => "DIFFERS",
        Verdict::Unverifiable => "UNVERIFIABLE",
    }
}
