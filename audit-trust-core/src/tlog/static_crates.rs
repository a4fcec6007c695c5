//! The crate index and version trees as static files, so a client of a static export (any web
//! server or CDN) reads a lockfile's crates through the log's commitments as a client of the
//! registry's API does, fetching only the files its crates need.
//!
//! Every file is named by the hash it must have, so no file ever changes once written, a stale
//! cache can only serve a right file or none, and the client checks each file against the hash
//! it was named by before using it:
//!
//! ```text
//! tlog/index/<hex index root>.json            the index at one checkpoint: its size, and for
//!                                             each run of INDEX_CHUNK_LEAVES leaves the first
//!                                             name and the run's subtree root
//! tlog/index/chunk/<hex run root>.json        the run's index leaves
//! tlog/crates/<name>/<hex version root>.json  the crate's version-tree leaves
//! tlog/crates/<name>/leaf/<hex digest>.jsonl  one version-tree leaf's entry list, then the
//!                                             signed record of each entry, one per line
//! ```
//!
//! Runs are aligned on a power of two, so each run is a complete subtree of RFC 6962's tree
//! (the last may be partial) and the runs' roots hash up to the index root with the same
//! splits. The checkpoint signs the index root, the manifest's runs must hash to it, each run
//! file to its run root, each crate file to the version root its index leaf commits to, and
//! each leaf file's entries to the digest its version leaf commits to.

use serde::{Deserialize, Serialize};

use super::crate_index::CrateCommitment;
use super::error::TlogError;
use super::merkle::{Hash, empty_root, node_hash, root_of};
use super::versions::{VersionLeaf, version_leaf};
use crate::signoff::{RecordId, hex};

/// Index leaves per run file: a lockfile of 800 crates in an index of 150,000 reads about as
/// many runs of 16 leaves (~2 KB each) and a manifest of 9,400 runs (~0.8 MB, half that
/// compressed); longer runs make the manifest smaller and every run read larger.
pub const INDEX_CHUNK_LEAVES: u64 = 16;

/// Largest file of the per-crate layout a client reads (a manifest of 10 million crates).
pub const MAX_STATIC_FILE_BYTES: u64 = 64 << 20;

/// One leaf of the crate index: `[name, count, version-tree size, hex version-tree root]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexLeaf(pub String, pub u64, pub u64, pub String);

impl IndexLeaf {
    pub fn new(name: &str, commitment: &CrateCommitment) -> IndexLeaf {
        IndexLeaf(
            name.to_owned(),
            commitment.count,
            commitment.versions,
            hex(&commitment.versions_root),
        )
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The crate's version-tree root (`None` when the hex is not a hash).
    pub fn versions_root(&self) -> Option<Hash> {
        parse_hex(&self.3, "").ok()
    }

    fn commitment(&self, path: &str) -> Result<CrateCommitment, TlogError> {
        Ok(CrateCommitment {
            count: self.1,
            versions: self.2,
            versions_root: parse_hex(&self.3, path)?,
        })
    }

    fn hash(&self, path: &str) -> Result<Hash, TlogError> {
        let c = self.commitment(path)?;
        Ok(super::crate_index::index_leaf(
            &self.0,
            c.count,
            c.versions,
            &c.versions_root,
        ))
    }
}

/// The crate index at one checkpoint: its size, and `[first name, hex run root]` per run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticIndex {
    pub size: u64,
    pub runs: Vec<(String, String)>,
}

/// Where the manifest of the index with root `root` is.
pub fn index_path(root: &Hash) -> String {
    format!("tlog/index/{}.json", hex(root))
}

/// Where the run file with root `root` is.
pub fn run_path(root_hex: &str) -> String {
    format!("tlog/index/chunk/{root_hex}.json")
}

/// Where `name`'s version leaves are, for a version tree with root `root`.
pub fn crate_path(name: &str, root: &Hash) -> String {
    format!("tlog/crates/{name}/{}.json", hex(root))
}

/// Where a version leaf's entry list and records are.
pub fn leaf_path(name: &str, digest: &Hash) -> String {
    format!("tlog/crates/{name}/leaf/{}.jsonl", hex(digest))
}

/// Whether `name` (from a served index) may be put in a path: what crates.io allows, lowercased.
pub fn path_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Run files by hex root, with their leaves.
pub type RunFiles = Vec<(String, Vec<IndexLeaf>)>;

/// The manifest and run files of an index whose leaves are `leaves` (sorted by name).
pub fn index_files(leaves: &[IndexLeaf]) -> Result<(StaticIndex, RunFiles), TlogError> {
    let mut runs = Vec::new();
    let mut files = Vec::new();
    for run in leaves.chunks(INDEX_CHUNK_LEAVES as usize) {
        let hashes = run
            .iter()
            .map(|l| l.hash("the index"))
            .collect::<Result<Vec<_>, _>>()?;
        let root = hex(&root_of(&hashes));
        runs.push((run[0].0.clone(), root.clone()));
        files.push((root, run.to_vec()));
    }
    Ok((
        StaticIndex {
            size: leaves.len() as u64,
            runs,
        },
        files,
    ))
}

/// The root of a tree whose complete subtrees of [`INDEX_CHUNK_LEAVES`] leaves (the last one
/// maybe partial) have `roots`: RFC 6962 splits a tree of more than one run at a multiple of
/// the run length, so the runs' roots combine with the same splits.
fn root_of_runs(roots: &[Hash]) -> Hash {
    match roots.len() {
        0 => empty_root(),
        1 => roots[0],
        n => {
            // The largest power of two below `n`, as RFC 6962 splits.
            let split = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(
                &root_of_runs(&roots[..split]),
                &root_of_runs(&roots[split..]),
            )
        }
    }
}

impl StaticIndex {
    /// Checks the manifest against the index size and root the checkpoint signs.
    pub fn verify(&self, size: u64, root: &Hash, path: &str) -> Result<Vec<Hash>, TlogError> {
        let mismatch = || TlogError::TileMismatch {
            tile: path.to_owned(),
        };
        if self.size != size || self.runs.len() as u64 != size.div_ceil(INDEX_CHUNK_LEAVES) {
            return Err(mismatch());
        }
        let roots = self
            .runs
            .iter()
            .map(|(_, r)| parse_hex(r, path))
            .collect::<Result<Vec<_>, _>>()?;
        if root_of_runs(&roots) != *root {
            return Err(mismatch());
        }
        Ok(roots)
    }

    /// The run that holds `name` or the leaf after which it would be: the last run whose
    /// first name is not after it (the first run when every name is after it).
    pub fn run_of(&self, name: &str) -> usize {
        self.runs
            .partition_point(|(first, _)| first.as_str() <= name)
            .saturating_sub(1)
    }

    /// How many leaves run `run` holds.
    pub fn run_width(&self, run: usize) -> u64 {
        let start = run as u64 * INDEX_CHUNK_LEAVES;
        self.size.saturating_sub(start).min(INDEX_CHUNK_LEAVES)
    }
}

/// Checks that the run file `leaves` read from `path` is run `run` of the verified manifest
/// `index` (whose run roots are `roots`): the right number of leaves, sorted, hashing to the
/// run's root, starting with the name the manifest gives.
pub fn verify_run(
    index: &StaticIndex,
    roots: &[Hash],
    run: usize,
    leaves: &[IndexLeaf],
    path: &str,
) -> Result<(), TlogError> {
    let mismatch = || TlogError::TileMismatch {
        tile: path.to_owned(),
    };
    let (Some(root), Some((first, _))) = (roots.get(run), index.runs.get(run)) else {
        return Err(mismatch());
    };
    if leaves.len() as u64 != index.run_width(run)
        || leaves.first().map(IndexLeaf::name) != Some(first)
    {
        return Err(mismatch());
    }
    let hashes = leaves
        .iter()
        .map(|l| l.hash(path))
        .collect::<Result<Vec<_>, _>>()?;
    if root_of(&hashes) != *root {
        return Err(mismatch());
    }
    if leaves.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(TlogError::BadIndexProof {
            name: first.clone(),
            why: "the index's leaves are not sorted".into(),
        });
    }
    Ok(())
}

/// What the index commits to for `name`, given the verified run it would be in and, when it
/// sorts after that run's last leaf, the verified run after it (`None` at the end): the leaf's
/// commitment, or none when the leaves on either side of it are adjacent.
pub fn commitment_in_runs(
    name: &str,
    run: &[IndexLeaf],
    next: Option<&[IndexLeaf]>,
    path: &str,
) -> Result<CrateCommitment, TlogError> {
    let absent = CrateCommitment {
        count: 0,
        versions: 0,
        versions_root: empty_root(),
    };
    if let Ok(at) = run.binary_search_by(|l| l.0.as_str().cmp(name)) {
        return run[at].commitment(path);
    }
    let after_last = run.last().is_some_and(|l| l.0.as_str() < name);
    // Inside the run (or before the first leaf of the first run), the sorted run itself shows
    // that nothing sorts there; past its end, the next run's first leaf must sort after it.
    if after_last && let Some(next) = next {
        match next.first() {
            Some(first) if first.0.as_str() > name => {}
            _ => {
                return Err(TlogError::BadIndexProof {
                    name: name.to_owned(),
                    why: "the run after it does not start after it".into(),
                });
            }
        }
    }
    Ok(absent)
}

/// One leaf of a crate's version tree as the static export writes it:
/// `[version, key bucket, count, hex digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticVersionLeaf(pub String, pub String, pub u64, pub String);

/// The version tree's leaves as an answer shows them (no entry lists yet), after checking that
/// all of them hash to the root the crate's index leaf commits to.
pub fn verify_crate_leaves(
    name: &str,
    leaves: &[StaticVersionLeaf],
    commitment: &CrateCommitment,
    path: &str,
) -> Result<Vec<VersionLeaf>, TlogError> {
    let mismatch = || TlogError::TileMismatch {
        tile: path.to_owned(),
    };
    if leaves.len() as u64 != commitment.versions {
        return Err(mismatch());
    }
    let mut shown = Vec::with_capacity(leaves.len());
    let mut hashes = Vec::with_capacity(leaves.len());
    for (position, StaticVersionLeaf(version, key, count, digest)) in leaves.iter().enumerate() {
        let digest = parse_hex(digest, path)?;
        hashes.push(version_leaf(name, version, key, *count, &digest));
        shown.push(VersionLeaf {
            position: position as u64,
            version: version.clone(),
            key: key.clone(),
            count: *count,
            digest,
            records: None,
        });
    }
    if root_of(&hashes) != commitment.versions_root {
        return Err(mismatch());
    }
    Ok(shown)
}

/// A version leaf's file: its entry list (`[leaf index, record id]`, in log order) on the first
/// line, then each entry's signed record on a line of its own.
pub fn leaf_file(entries: &[(u64, RecordId)], records: &[&str]) -> Vec<u8> {
    let listed: Vec<(u64, String)> = entries.iter().map(|(l, id)| (*l, id.to_string())).collect();
    let mut out = serde_json::to_string(&listed).unwrap_or_default();
    out.push('\n');
    for record in records {
        out.push_str(record);
        out.push('\n');
    }
    out.into_bytes()
}

/// A leaf file's entry list (leaf index, hex record id) and record lines.
pub type LeafContents = (Vec<(u64, String)>, Vec<String>);

/// The entry list and record lines of a leaf file (the list is checked against the leaf's
/// digest by [`super::verify_versions`], the records like any served record).
pub fn parse_leaf_file(bytes: &[u8], path: &str) -> Result<LeafContents, TlogError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| TlogError::MalformedProof(format!("{path} is not UTF-8")))?;
    let mut lines = text.lines();
    let entries: Vec<(u64, String)> = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| TlogError::MalformedProof(format!("{path} has no entry list")))?;
    let records = lines
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    Ok((entries, records))
}

fn parse_hex(text: &str, path: &str) -> Result<Hash, TlogError> {
    let malformed = || TlogError::MalformedProof(format!("{path}: a hash is not 64 hex digits"));
    if text.len() != 64 {
        return Err(malformed());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2).ok_or_else(malformed)?, 16)
            .map_err(|_| malformed())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::{CrateIndex, Filing};

    fn filing(name: &str, version: &str) -> Filing {
        Filing {
            crate_name: name.into(),
            version: version.into(),
            key: "AAAAAAAAAAA".into(),
            delta_from: None,
        }
    }

    #[test]
    fn runs_hash_up_to_the_index_root_for_every_size() {
        for size in 0..=70u64 {
            let mut index = CrateIndex::new();
            for i in 0..size {
                let name = format!("crate-{i:03}");
                let id = RecordId::parse(&format!("{i:064x}")).expect("id");
                index.add(&filing(&name, "1.0.0"), i, id);
            }
            let root = index.root();
            let (manifest, runs) = index_files(&index.leaves()).expect("files");
            let roots = manifest.verify(size, &root, "m").expect("verifies");
            for (i, (_, leaves)) in runs.iter().enumerate() {
                verify_run(&manifest, &roots, i, leaves, "r").expect("run verifies");
            }
            let mut bad = manifest.clone();
            if let Some(run) = bad.runs.last_mut() {
                run.1 = hex(&[7u8; 32]);
                assert!(bad.verify(size, &root, "m").is_err(), "size {size}");
            }
        }
    }

    fn index_of(names: &[&str]) -> CrateIndex {
        let mut index = CrateIndex::new();
        for (i, name) in names.iter().enumerate() {
            let id = RecordId::parse(&format!("{i:064x}")).expect("id");
            index.add(&filing(name, "1.0.0"), i as u64, id);
        }
        index
    }

    #[test]
    fn a_name_is_present_or_proven_absent_across_run_boundaries() {
        // 20 names: runs of 16 and 4, "b00".."b38" in steps of two.
        let names: Vec<String> = (0..20).map(|i| format!("b{:02}", 2 * i)).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut index = index_of(&refs);
        let root = index.root();
        let (manifest, runs) = index_files(&index.leaves()).expect("files");
        let roots = manifest.verify(20, &root, "m").expect("verifies");
        let leaves = |r: usize| runs[r].1.as_slice();
        let at = |name: &str| {
            let run = manifest.run_of(name);
            commitment_in_runs(
                name,
                leaves(run),
                runs.get(run + 1).map(|r| r.1.as_slice()),
                "r",
            )
            .expect("proven")
            .count
        };
        assert_eq!(at("b00"), 1);
        assert_eq!(at("b30"), 1, "the last leaf of the first run");
        assert_eq!(at("b32"), 1, "the first leaf of the second run");
        for absent in ["a", "b01", "b31", "b29", "b32x", "z"] {
            assert_eq!(at(absent), 0, "{absent}");
        }
        // "b31" sorts after the first run's last leaf ("b30"): a second run that does not start
        // after it proves nothing.
        let name = "b31";
        assert_eq!(manifest.run_of(name), 0);
        let mut lying = leaves(1).to_vec();
        lying[0].0 = "b29".into();
        assert!(matches!(
            commitment_in_runs(name, leaves(0), Some(&lying), "r"),
            Err(TlogError::BadIndexProof { .. })
        ));
        // A run whose first name is not the one the manifest gives, or that is not sorted, or
        // that has a leaf left out, is refused.
        let mut renamed = manifest.clone();
        renamed.runs[1].0 = "b31".into();
        assert!(verify_run(&renamed, &roots, 1, leaves(1), "r").is_err());
        let mut short = leaves(1).to_vec();
        short.pop();
        assert!(verify_run(&manifest, &roots, 1, &short, "r").is_err());
        let mut swapped = leaves(0).to_vec();
        swapped.swap(3, 4);
        assert!(verify_run(&manifest, &roots, 0, &swapped, "r").is_err());
    }

    #[test]
    fn a_crate_file_must_hold_every_version_leaf() {
        let mut index = index_of(&["serde"]);
        index.add(
            &filing("serde", "1.0.1"),
            1,
            RecordId::parse(&format!("{:064x}", 9)).expect("id"),
        );
        let leaf = index.leaves().remove(0);
        let commitment = leaf.commitment("x").expect("commitment");
        let listed: Vec<StaticVersionLeaf> = index
            .version_leaves_at("serde", 2)
            .into_iter()
            .map(|(v, k, e)| {
                StaticVersionLeaf(
                    v,
                    k,
                    e.len() as u64,
                    hex(&super::super::versions::digest(&e)),
                )
            })
            .collect();
        let shown = verify_crate_leaves("serde", &listed, &commitment, "c").expect("verifies");
        assert_eq!(shown.len(), 2);
        assert!(verify_crate_leaves("serde", &listed[..1], &commitment, "c").is_err());
        let mut changed = listed.clone();
        changed[1].2 = 2;
        assert!(matches!(
            verify_crate_leaves("serde", &changed, &commitment, "c"),
            Err(TlogError::TileMismatch { .. })
        ));
        // The leaves as they were before the second entry: another root.
        assert_eq!(index.version_leaves_at("serde", 1).len(), 1);
    }
}
