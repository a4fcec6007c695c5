//! cargo-vet's semantics, turned into gate evidence: for each crates.io package of the lockfile
//! and each imported set, the criteria of ours the set grants (full audits, delta chains within
//! the set or, as cargo-vet merges its imports, across the sets, `trusted` and `wildcard-audits` entries whose publisher is known), closed through the
//! set's own `implies` and mapped through `criteria-map`; and its violations, as flags.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use super::lock::LockedPublisher;
use super::vet::{self, AuditSet, Publisher, PublisherEntry, VetAudit, VetKind};
use crate::audit_file::{AuditFile, Import};
use crate::gate::evidence::closure;
use crate::gate::{Evidence, EvidenceSubject};
use crate::inventory::{Package, SourceKind};
use crate::signoff::Criterion;
use crate::time::Date;

/// Joins the names of the sets of a chain that crosses sets (`mozilla+google`).
pub const CHAIN_JOIN: &str = "+";

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
    // One note per set, not per package: without the registry's web API a large set would
    // otherwise add hundreds of lines to every `check`.
    let mut publisher_unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unchained_deltas: BTreeMap<String, Vec<String>> = BTreeMap::new();
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
        // Every set's chains, in our criteria, for chains that cross sets (cargo-vet merges
        // the sets it imports into one graph).
        let mut merged_roots: Roots<'_, Criterion> = Vec::new();
        let mut merged_edges: Edges<'_, Criterion> = Vec::new();
        let mut granted_alone: BTreeSet<Criterion> = BTreeSet::new();
        let mut contributors: BTreeSet<&str> = BTreeSet::new();
        let mut unchained: Vec<(&str, &semver::Version, BTreeSet<Criterion>, usize)> = Vec::new();
        let mut unknown_publisher: Vec<&str> = Vec::new();
        let published_versions: Vec<(semver::Version, &LockedPublisher)> = publishers
            .range((p.name.clone(), String::new())..)
            .take_while(|((name, _), _)| *name == p.name)
            .filter_map(|((_, v), known)| Some((semver::Version::parse(v).ok()?, known)))
            .collect();
        for loaded in sets {
            let import = loaded.import;
            if !import.reads(&p.name) {
                continue;
            }
            let audits: &[VetAudit] = loaded.set.audits.get(&p.name).map_or(&[], Vec::as_slice);
            for a in audits {
                if let VetKind::Violation(req) = &a.kind
                    && req.matches(&p.version)
                {
                    evidence.push(imported(
                        p,
                        checksum,
                        &import.name,
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
            // Every version whose publisher is known may be a root: a trusted publisher's
            // 0.7.6 and a delta 0.7.6 -> 0.8.1 vouch for 0.8.1, as in cargo-vet.
            let mut versions_published = BTreeMap::new();
            if !publisher_entries.is_empty() {
                for (version, known) in &published_versions {
                    versions_published.insert(version, *known);
                }
                if !publishers.contains_key(&(p.name.clone(), p.version.to_string())) {
                    unknown_publisher.push(&import.name);
                }
            }
            let (roots, edges) =
                graph(&loaded.set, audits, &publisher_entries, &versions_published);
            let (theirs, unchained_here) = granted(&roots, &edges, &p.version);
            let ours_of =
                |cs: &BTreeSet<String>| closure(&map_criteria(import, cs), &audit_file.criteria);
            if !roots.is_empty() || !edges.is_empty() {
                contributors.insert(&import.name);
            }
            merged_roots.extend(roots.iter().map(|(v, cs)| (*v, ours_of(cs))));
            merged_edges.extend(edges.iter().map(|(f, t, cs, l)| (*f, *t, ours_of(cs), *l)));
            for (from, _, cs, line) in edges
                .iter()
                .filter(|(f, t, _, _)| *t == &p.version && unchained_here.contains(f))
            {
                unchained.push((&import.name, from, ours_of(cs), *line));
            }
            let ours = map_criteria(import, &theirs);
            if !ours.is_empty() {
                granted_alone.extend(closure(&ours, &audit_file.criteria));
                evidence.push(imported(p, checksum, &import.name, ours, None, "vouched"));
            }
        }
        let merged = reach(&merged_roots, &merged_edges);
        let chained: Vec<Criterion> = merged
            .iter()
            .filter(|(_, seen)| seen.contains(&p.version))
            .map(|(c, _)| c.clone())
            .collect();
        if chained.iter().any(|c| !granted_alone.contains(c)) {
            // Named after every set whose audits of the crate make up the merged graph, joined
            // by `+` (import names cannot hold one). The gate never counts it beside one of
            // its own sets, so `sign-offs-required` is not inflated.
            let name = contributors
                .iter()
                .copied()
                .collect::<Vec<_>>()
                .join(CHAIN_JOIN);
            evidence.push(imported(
                p,
                checksum,
                &name,
                chained.clone(),
                None,
                "chained",
            ));
        }
        if chained.is_empty() && granted_alone.is_empty() {
            for set in unknown_publisher {
                publisher_unknown
                    .entry(set.to_owned())
                    .or_default()
                    .push(p.spec());
            }
        }
        for (set, from, cs, line) in unchained {
            let chains = cs
                .iter()
                .any(|c| merged.get(c).is_some_and(|seen| seen.contains(from)));
            if !chains {
                unchained_deltas
                    .entry(set.to_owned())
                    .or_default()
                    .push(format!("{} {from} -> {} (line {line})", p.name, p.version));
            }
        }
    }
    for (set, deltas) in unchained_deltas {
        let (delta, does, it, grants) = if deltas.len() == 1 {
            ("delta", "does", "it", "grants")
        } else {
            ("deltas", "do", "they", "grant")
        };
        notes.push(format!(
            "import `{set}`: the {delta} {} {does} not chain to a full audit in any imported \
             set, so {it} {grants} nothing",
            listed(&deltas),
        ));
    }
    for (set, specs) in publisher_unknown {
        notes.push(publisher_unknown_note(&set, &specs));
    }
    (evidence, notes)
}

/// How many versions are named in full in a note before "and N more".
const NOTE_LIST: usize = 5;

/// The first few items, then "and N more".
fn listed(items: &[String]) -> String {
    let shown = items
        .iter()
        .take(NOTE_LIST)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().saturating_sub(NOTE_LIST) {
        0 => shown,
        n => format!("{shown} and {n} more"),
    }
}

fn publisher_unknown_note(set: &str, specs: &[String]) -> String {
    let shown = listed(specs);
    let them = if specs.len() == 1 { "it" } else { "them" };
    format!(
        "import `{set}`: who published {shown} is unknown, so the set's `trusted` or \
         `wildcard-audits` entries do not vouch for {them} (run `cargo audit-trust import \
         refresh` to look {them} up)"
    )
}

fn imported(
    p: &Package,
    checksum: &str,
    set: &str,
    criteria: Vec<Criterion>,
    flag: Option<String>,
    what: &str,
) -> Evidence {
    Evidence {
        auditor: set.to_owned(),
        name: p.name.clone(),
        version: p.version.clone(),
        subject: EvidenceSubject::Crate {
            checksum: checksum.to_owned(),
        },
        criteria,
        delta_from: None,
        flag,
        record_id: format!("import:{set}:{}:{what}", p.spec()),
        imported: Some(set.to_owned()),
    }
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

/// A set's audits of one crate as a graph: roots (full audits, and versions a publisher entry
/// vouches for) and delta edges `(from, to, criteria, line)`, with their criteria closed.
type Roots<'a, C> = Vec<(&'a semver::Version, BTreeSet<C>)>;
type Edges<'a, C> = Vec<(&'a semver::Version, &'a semver::Version, BTreeSet<C>, usize)>;

fn graph<'a>(
    set: &AuditSet,
    audits: &'a [VetAudit],
    publisher_entries: &[&PublisherEntry],
    published: &BTreeMap<&'a semver::Version, &LockedPublisher>,
) -> (Roots<'a, String>, Edges<'a, String>) {
    let mut roots = Vec::new();
    let mut edges = Vec::new();
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
                roots.push((*v, vet::closure(set, &e.criteria)));
            }
        }
    }
    (roots, edges)
}

/// For every criterion in the graph, the versions a chain from a root reaches.
fn reach<'a, C: Ord + Clone>(
    roots: &Roots<'a, C>,
    edges: &Edges<'a, C>,
) -> BTreeMap<C, HashSet<&'a semver::Version>> {
    let all: BTreeSet<&C> = roots
        .iter()
        .flat_map(|(_, c)| c)
        .chain(edges.iter().flat_map(|(_, _, c, _)| c))
        .collect();
    let mut reached = BTreeMap::new();
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
            for (from, to, cs, _) in edges {
                if *from == v && cs.contains(c) && !seen.contains(to) {
                    queue.push_back(to);
                }
            }
        }
        reached.insert(c.clone(), seen);
    }
    reached
}

/// Their criteria (closed) that `version` meets in one set's graph, and the deltas into
/// `version` that do not chain within the set.
fn granted<'a>(
    roots: &Roots<'a, String>,
    edges: &Edges<'a, String>,
    version: &semver::Version,
) -> (BTreeSet<String>, Vec<&'a semver::Version>) {
    let reached = reach(roots, edges);
    let out = reached
        .iter()
        .filter(|(_, seen)| seen.contains(version))
        .map(|(c, _)| c.clone())
        .collect();
    let unchained = edges
        .iter()
        .filter(|(from, to, cs, _)| {
            *to == version
                && !cs
                    .iter()
                    .any(|c| reached.get(c).is_some_and(|seen| seen.contains(from)))
        })
        .map(|(from, _, _, _)| *from)
        .collect();
    (out, unchained)
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
