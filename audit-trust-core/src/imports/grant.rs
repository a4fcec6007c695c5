//! cargo-vet's semantics, turned into gate evidence: for each crates.io package of the lockfile
//! and each imported set, the criteria of ours the set grants (full audits, delta chains within
//! the set, `trusted` and `wildcard-audits` entries whose publisher is known), closed through the
//! set's own `implies` and mapped through `criteria-map`; and its violations, as flags.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use super::lock::LockedPublisher;
use super::vet::{self, AuditSet, Publisher, PublisherEntry, VetAudit, VetKind};
use crate::audit_file::{AuditFile, Import};
use crate::gate::{Evidence, EvidenceSubject};
use crate::inventory::{Package, SourceKind};
use crate::signoff::Criterion;
use crate::time::Date;

/// Longest text of an imported note kept in a message; the rest is cut.
const MAX_NOTE: usize = 200;

/// One import with its parsed, pinned set.
#[derive(Debug)]
pub struct LoadedSet<'a> {
    pub import: &'a Import,
    pub set: AuditSet,
}

/// Publication facts by `(crate, version)`.
pub type Publishers = BTreeMap<(String, String), LockedPublisher>;

/// Indexes the lock's publisher entries.
pub fn publishers_of(entries: &[LockedPublisher]) -> Publishers {
    entries
        .iter()
        .map(|p| ((p.name.clone(), p.version.clone()), p.clone()))
        .collect()
}

/// Evidence from every set about `packages`, and notes (deltas that do not chain, versions
/// whose publisher is unknown).
pub fn imported_evidence(
    audit_file: &AuditFile,
    sets: &[LoadedSet<'_>],
    packages: &[Package],
    publishers: &Publishers,
) -> (Vec<Evidence>, Vec<String>) {
    let mut evidence = Vec::new();
    let mut notes = Vec::new();
    for p in packages {
        let (
            SourceKind::Registry {
                crates_io: true, ..
            },
            Some(checksum),
        ) = (&p.source, &p.checksum)
        else {
            continue;
        };
        for loaded in sets {
            let import = loaded.import;
            if !import.reads(&p.name) {
                continue;
            }
            let audits: &[VetAudit] = loaded.set.audits.get(&p.name).map_or(&[], Vec::as_slice);
            let make = |criteria: Vec<Criterion>, flag: Option<String>, what: &str| Evidence {
                auditor: import.name.clone(),
                name: p.name.clone(),
                version: p.version.clone(),
                subject: EvidenceSubject::Crate {
                    checksum: checksum.clone(),
                },
                criteria,
                delta_from: None,
                flag,
                record_id: format!("import:{}:{}:{what}", import.name, p.spec()),
                imported: Some(import.name.clone()),
            };
            for a in audits {
                if let VetKind::Violation(req) = &a.kind
                    && req.matches(&p.version)
                {
                    evidence.push(make(
                        Vec::new(),
                        Some(violation_text(a, req, &import.name)),
                        &format!("line-{}", a.line),
                    ));
                }
            }
            if !import.covers(&p.name) || !audit_file.imports_allowed_for(&p.name) {
                continue;
            }
            let publisher_entries = loaded
                .set
                .trusted
                .get(&p.name)
                .into_iter()
                .chain(loaded.set.wildcard.get(&p.name))
                .flatten()
                .collect::<Vec<_>>();
            let mut versions_published = BTreeMap::new();
            if !publisher_entries.is_empty() {
                match publishers.get(&(p.name.clone(), p.version.to_string())) {
                    Some(known) => {
                        versions_published.insert(p.version.clone(), known);
                    }
                    None => notes.push(format!(
                        "import `{}`: {} has `trusted` or `wildcard-audits` entries, but who \
                         published {} is unknown, so they do not vouch for it (run `cargo \
                         audit-trust import refresh` to look it up)",
                        import.name,
                        p.name,
                        p.spec()
                    )),
                }
            }
            let (theirs, mut why) = granted(
                &loaded.set,
                audits,
                &publisher_entries,
                &versions_published,
                &p.version,
            );
            for w in why.drain(..) {
                notes.push(format!("import `{}`: {}: {w}", import.name, p.name));
            }
            let ours = map_criteria(import, &theirs);
            if !ours.is_empty() {
                evidence.push(make(ours, None, "vouched"));
            }
        }
    }
    (evidence, notes)
}

fn violation_text(a: &VetAudit, req: &semver::VersionReq, set: &str) -> String {
    let who = if a.who.is_empty() {
        String::new()
    } else {
        format!(" by {}", a.who.join(", "))
    };
    let mut text = format!(
        "violation of {} for versions `{req}` recorded{who} in the imported set `{set}` (line {})",
        a.criteria.join(", "),
        a.line
    );
    if let Some(notes) = &a.notes {
        let cut: String = notes.chars().take(MAX_NOTE).collect();
        text.push_str(&format!(": {cut}"));
    }
    text
}

/// Our criteria for their criteria `theirs` (already closed through their `implies`).
fn map_criteria(import: &Import, theirs: &BTreeSet<String>) -> Vec<Criterion> {
    let mut ours: Vec<Criterion> = Vec::new();
    for t in theirs {
        for c in import.criteria_map.get(t).into_iter().flatten() {
            if !ours.contains(c) {
                ours.push(c.clone());
            }
        }
    }
    ours
}

/// Their criteria (closed) that `version` meets in `set`, and notes on deltas into `version`
/// that do not chain.
fn granted(
    set: &AuditSet,
    audits: &[VetAudit],
    publisher_entries: &[&PublisherEntry],
    published: &BTreeMap<semver::Version, &LockedPublisher>,
    version: &semver::Version,
) -> (BTreeSet<String>, Vec<String>) {
    // Roots per criterion: full audits, and versions a publisher entry vouches for.
    let mut roots: Vec<(&semver::Version, BTreeSet<String>)> = Vec::new();
    let mut edges: Vec<(&semver::Version, &semver::Version, BTreeSet<String>, usize)> = Vec::new();
    for a in audits {
        match &a.kind {
            VetKind::Full(v) => roots.push((v, vet::closure(set, &a.criteria))),
            VetKind::Delta { from, to } => {
                edges.push((from, to, vet::closure(set, &a.criteria), a.line));
            }
            VetKind::Violation(_) => {}
        }
    }
    for (v, publisher) in published {
        for e in publisher_entries {
            if vouches(e, publisher) {
                roots.push((v, vet::closure(set, &e.criteria)));
            }
        }
    }
    let all: BTreeSet<&String> = roots
        .iter()
        .flat_map(|(_, c)| c)
        .chain(edges.iter().flat_map(|(_, _, c, _)| c))
        .collect();
    let mut out = BTreeSet::new();
    let mut reached_by_criterion: BTreeMap<&String, HashSet<&semver::Version>> = BTreeMap::new();
    for c in all {
        let mut seen: HashSet<&semver::Version> = HashSet::new();
        let mut queue: VecDeque<&semver::Version> = roots
            .iter()
            .filter(|(_, cs)| cs.contains(c))
            .map(|(v, _)| *v)
            .collect();
        while let Some(v) = queue.pop_front() {
            if !seen.insert(v) {
                continue;
            }
            for (from, to, cs, _) in &edges {
                if *from == v && cs.contains(c) && !seen.contains(to) {
                    queue.push_back(to);
                }
            }
        }
        if seen.contains(version) {
            out.insert(c.clone());
        }
        reached_by_criterion.insert(c, seen);
    }
    let mut notes = Vec::new();
    for (from, to, cs, line) in &edges {
        let chains = cs.iter().any(|c| {
            reached_by_criterion
                .get(c)
                .is_some_and(|seen| seen.contains(from))
        });
        if *to == version && !chains {
            notes.push(format!(
                "the delta {from} -> {to} (line {line}) does not chain to a full audit in the \
                 set, so it grants nothing"
            ));
        }
    }
    (out, notes)
}

/// Whether `entry` vouches for a version with these publication facts: the same publisher, and
/// published within `start..=end`.
fn vouches(entry: &PublisherEntry, published: &LockedPublisher) -> bool {
    let same = match &entry.publisher {
        Publisher::UserId(id) => published.user_id == Some(*id),
        Publisher::TrustedPublisher(p) => published.trusted_publisher.as_deref() == Some(p),
    };
    let Some(when) = Date::parse(&published.when) else {
        return false;
    };
    same && entry.start <= when && when <= entry.end
}
