//! RFC 6962 (and RFC 9162 §2.1) Merkle tree hashing and proof verification. Written here rather
//! than taken from a crate: it is about two hundred lines, it must refuse every malformed proof
//! with a typed reason rather than panic, and it reuses the SHA-256 already in the tree.
//!
//! A leaf hashes as `SHA-256(0x00 || data)` and an interior node as
//! `SHA-256(0x01 || left || right)`, so a leaf can never pass for a node.

use sha2::{Digest, Sha256};

use super::error::TlogError;

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// The most hashes a proof may hold: a tree of at most 2^63 leaves needs 63 per proof, and a
/// consistency proof at most twice that.
pub const MAX_PROOF_HASHES: usize = 128;

/// The hash of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (`n` at least 2): where RFC 6962 splits a tree.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The root of the tree whose leaves hash to `leaves` (RFC 6962 `MTH`), computed directly. Used
/// by tests, tiles and small trees; large trees use [`super::tree::MemoryTree`].
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// Checks that `leaf` is leaf number `index` of the tree of `size` leaves with root `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    if index >= size {
        return Err(TlogError::BadInclusionProof(format!(
            "leaf {index} is outside a tree of {size} leaves"
        )));
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(TlogError::MalformedProof(format!(
            "{} hashes, more than any tree holds",
            proof.len()
        )));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(TlogError::BadInclusionProof(
                "the proof is longer than the path to the root".into(),
            ));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(TlogError::BadInclusionProof(
            "the proof is shorter than the path to the root".into(),
        ));
    }
    if r != *root {
        return Err(TlogError::BadInclusionProof(
            "the proof does not lead to the checkpoint's root".into(),
        ));
    }
    Ok(())
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2): nothing was removed or changed.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), TlogError> {
    let bad = |why: &str| Err(TlogError::BadConsistencyProof(why.to_owned()));
    if old_size > new_size {
        return Err(TlogError::Rollback {
            seen: old_size,
            got: new_size,
        });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(TlogError::MalformedProof(format!(
            "{} hashes, more than any tree holds",
            proof.len()
        )));
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return bad("a proof between equal sizes must be empty");
        }
        if old_root != new_root {
            return Err(TlogError::Fork { size: new_size });
        }
        return Ok(());
    }
    if old_size == 0 {
        // The empty tree is a prefix of every tree.
        return if proof.is_empty() {
            Ok(())
        } else {
            bad("a proof from the empty tree must be empty")
        };
    }
    let Some((first, rest)) = proof.split_first() else {
        return bad("the proof is empty");
    };
    // When the old tree is a complete subtree, its root is the proof's implicit first hash.
    let (seed, path) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (*first, rest)
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in path {
        if s == 0 {
            return bad("the proof is longer than the path to the root");
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return bad("the proof is shorter than the path to the root");
    }
    if fr != *old_root {
        return bad(
            "the proof does not lead to the old checkpoint's root: the proof is wrong or the log was rewritten",
        );
    }
    if sr != *new_root {
        return bad("the proof does not lead to the new checkpoint's root");
    }
    Ok(())
}
