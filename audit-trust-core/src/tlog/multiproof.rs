//! Proving several leaves of one tree at once: the hashes their separate inclusion proofs
//! share (every node above two proven leaves) are sent once. A lockfile asks for hundreds of
//! crates in an index of a hundred thousand; their separate proofs repeat the top levels of the
//! tree hundreds of times, a multi-leaf proof holds each of those nodes at most once and none
//! that the proven leaves already determine.
//!
//! The proof is the list of the hashes of every maximal subtree that holds no proven leaf, in
//! the order a left-to-right walk of RFC 6962's splits meets them; prover and verifier walk
//! the same splits, so no positions travel with the hashes.

use super::error::TlogError;
use super::merkle::{Hash, node_hash, split_point};

/// Most hashes a multi-leaf proof may hold: far above what a few thousand leaves of any tree
/// need (about leaves × depth), a bound on what a hostile answer can make a client read.
pub const MAX_MULTI_PROOF_HASHES: usize = 1 << 17;

/// Checks that `leaves` (position, leaf hash; strictly increasing positions) are leaves of the
/// tree of `size` leaves with root `root`, given the multi-leaf `proof`.
pub fn verify_multi_inclusion(
    size: u64,
    leaves: &[(u64, Hash)],
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    let bad = |why: &str| TlogError::BadInclusionProof(why.to_owned());
    if leaves.is_empty() {
        return Err(bad("a multi-leaf proof of no leaf"));
    }
    if proof.len() > MAX_MULTI_PROOF_HASHES {
        return Err(bad("a proof of more hashes than any tree needs"));
    }
    if leaves.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(bad("the leaves are not in strictly increasing order"));
    }
    if leaves.last().is_some_and(|(p, _)| *p >= size) {
        return Err(bad("a leaf lies beyond the tree"));
    }
    let mut hashes = proof.iter();
    let computed = root_from(leaves, 0, size, &mut hashes)
        .ok_or_else(|| bad("the proof has too few hashes"))?;
    if hashes.next().is_some() {
        return Err(bad("the proof has hashes left over"));
    }
    if &computed != root {
        return Err(bad("the leaves and proof do not hash to the root"));
    }
    Ok(())
}

/// The hash of leaves `start..start + n`, from the proven leaves among them and the proof's
/// next hashes; `None` when the proof runs out.
fn root_from<'a>(
    known: &[(u64, Hash)],
    start: u64,
    n: u64,
    proof: &mut impl Iterator<Item = &'a Hash>,
) -> Option<Hash> {
    if known.is_empty() {
        return proof.next().copied();
    }
    if n == 1 {
        // Positions are distinct and inside the range, so exactly one leaf is here.
        return Some(known[0].1);
    }
    let k = split_point(n);
    let cut = known.partition_point(|(p, _)| *p < start + k);
    let left = root_from(&known[..cut], start, k, proof)?;
    let right = root_from(&known[cut..], start + k, n - k, proof)?;
    Some(node_hash(&left, &right))
}

/// The positions a multi-leaf proof walk visits, for the prover ([`super::MemoryTree`]): calls
/// `hash_of(start, n)` for each maximal subtree with no position in it, in proof order.
pub(super) fn prove_multi(
    positions: &[u64],
    start: u64,
    n: u64,
    hash_of: &mut impl FnMut(u64, u64) -> Hash,
    out: &mut Vec<Hash>,
) {
    if positions.is_empty() {
        out.push(hash_of(start, n));
        return;
    }
    if n == 1 {
        return;
    }
    let k = split_point(n);
    let cut = positions.partition_point(|p| *p < start + k);
    prove_multi(&positions[..cut], start, k, hash_of, out);
    prove_multi(&positions[cut..], start + k, n - k, hash_of, out);
}
