//! Checking a crate's answer scoped to versions (see [`super::versions`]): the leaves shown are
//! in the version tree the crate index commits to, each (version, key) asked is either a leaf
//! shown with its entries or a gap between two adjacent leaves shown, and each listed entry
//! set is the one its leaf commits to.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::error::TlogError;
use super::merkle::{Hash, empty_root};
use super::multiproof::verify_multi_inclusion;
use super::versions::{VersionLeaf, VersionQuery, VersionsAnswer, digest};
use crate::signoff::RecordId;

/// An entry a version tree lists, with where it is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEntry {
    pub leaf: u64,
    pub id: RecordId,
    pub version: String,
    pub key: String,
}

/// The entries the version tree of `name` (of `size` leaves with root `root`) files under what
/// `query` asks, given the crate's `answer`; an error when the answer leaves anything asked
/// unproven.
pub fn verify_versions(
    name: &str,
    answer: &VersionsAnswer,
    query: VersionQuery<'_>,
    size: u64,
    root: &Hash,
) -> Result<Vec<ListedEntry>, TlogError> {
    let fail = |why: String| TlogError::BadIndexProof {
        name: name.to_owned(),
        why,
    };
    let answered: BTreeSet<String> = answer.versions.iter().cloned().collect();
    if let Some(missing) = query.versions.iter().find(|v| !answered.contains(*v)) {
        return Err(TlogError::MalformedProof(format!(
            "no proof for `{}@{}`",
            name.escape_default(),
            missing.escape_default()
        )));
    }
    if size == 0 {
        // An empty version tree (a crate the log has no entry for) holds nothing to show.
        if !answer.leaves.is_empty() || *root != empty_root() {
            return Err(fail("an empty version tree with leaves".into()));
        }
        return Ok(Vec::new());
    }
    if answer.leaves.is_empty() {
        return Err(fail("no leaf of the version tree is shown".into()));
    }
    let hashed: Vec<(u64, Hash)> = answer
        .leaves
        .iter()
        .map(|l| (l.position, l.hash(name)))
        .collect();
    verify_multi_inclusion(size, &hashed, &answer.proof, root).map_err(|e| fail(e.to_string()))?;
    // The tree is sorted: leaves shown in position order must be in (version, key) order.
    if answer
        .leaves
        .windows(2)
        .any(|w| order(&w[0]) >= order(&w[1]))
    {
        return Err(fail("the leaves shown are not in order".into()));
    }
    let check_gap = |place: &dyn Fn(&VersionLeaf) -> Ordering, what: &str| {
        covered(&answer.leaves, size, place).map_err(|why| fail(format!("{what}: {why}")))
    };
    for version in &answered {
        match query.keys {
            None => check_gap(&|l| l.version.as_str().cmp(version), version)?,
            Some(keys) => {
                for key in keys {
                    check_gap(
                        &|l| order(l).cmp(&(version.as_str(), key.as_str())),
                        &format!("{version} by {key}"),
                    )?;
                }
            }
        }
    }
    let mut out = Vec::new();
    for leaf in &answer.leaves {
        if !query.wants(&answered, &leaf.version, &leaf.key) {
            continue;
        }
        let at = format!(
            "{}@{} by {}",
            name,
            leaf.version.escape_default(),
            leaf.key.escape_default()
        );
        let Some(records) = &leaf.records else {
            return Err(TlogError::MalformedProof(format!(
                "`{at}` is shown without its entries"
            )));
        };
        let mut listed = Vec::with_capacity(records.len());
        for (index, id) in records {
            let id = RecordId::parse(id)
                .map_err(|_| fail("a listed record id is not 64 hex digits".into()))?;
            listed.push((*index, id));
        }
        if listed.len() as u64 != leaf.count || digest(&listed) != leaf.digest {
            return Err(TlogError::WithheldRecord {
                name: at,
                expected: leaf.count,
                got: listed.len() as u64,
            });
        }
        out.extend(listed.into_iter().map(|(index, id)| ListedEntry {
            leaf: index,
            id,
            version: leaf.version.clone(),
            key: leaf.key.clone(),
        }));
    }
    Ok(out)
}

/// Where a leaf sorts in its version tree.
fn order(leaf: &VersionLeaf) -> (&str, &str) {
    (leaf.version.as_str(), leaf.key.as_str())
}

/// Checks that every leaf `place` calls `Equal` is shown, by showing the run of them and the
/// leaf on either side of it (or the tree's end): shown leaves are in sorted order, so a leaf
/// left out would leave a gap in positions.
fn covered(
    leaves: &[VersionLeaf],
    size: u64,
    place: &dyn Fn(&VersionLeaf) -> Ordering,
) -> Result<(), String> {
    let first = leaves.partition_point(|l| place(l) == Ordering::Less);
    let mut expected = match first.checked_sub(1) {
        Some(before) => leaves[before].position + 1,
        None => 0,
    };
    for leaf in &leaves[first..] {
        if leaf.position != expected {
            return Err("the leaves around it are not adjacent".into());
        }
        if place(leaf) == Ordering::Greater {
            return Ok(());
        }
        expected += 1;
    }
    if expected == size {
        Ok(())
    } else {
        Err("the leaves after it are not shown".into())
    }
}
