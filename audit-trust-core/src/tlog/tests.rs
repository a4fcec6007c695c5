//! RFC 6962 test vectors (the eight-leaf tree of the RFC's reference implementation), proofs for
//! every tree size up to a few hundred, and every hostile input the log's clients must refuse.

use super::*;
use crate::signoff::{RecordId, SigningKey};

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("test hex"))
        .collect()
}

fn h(text: &str) -> Hash {
    unhex(text).try_into().expect("32 bytes")
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn vector_tree() -> MemoryTree {
    MemoryTree::from_leaves(LEAVES.iter().map(|l| leaf_hash(&unhex(l))))
}

#[test]
fn rfc6962_roots() {
    assert_eq!(
        empty_root(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    let tree = vector_tree();
    let leaves: Vec<Hash> = LEAVES.iter().map(|l| leaf_hash(&unhex(l))).collect();
    for (i, root) in ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(tree.root_at(size), Ok(h(root)), "size {size}");
        assert_eq!(root_of(&leaves[..=i]), h(root), "size {size}");
    }
}

#[test]
fn rfc6962_inclusion_and_consistency_vectors() {
    let tree = vector_tree();
    let root8 = h(ROOTS[7]);
    let cases: [(u64, &[&str]); 2] = [
        (
            0,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (index, expected) in cases {
        let expected: Vec<Hash> = expected.iter().map(|t| h(t)).collect();
        assert_eq!(tree.inclusion_proof(index, 8), Ok(expected.clone()));
        let leaf = tree.leaf(index).expect("leaf");
        assert_eq!(verify_inclusion(index, 8, &leaf, &expected, &root8), Ok(()));
    }
    let consistency: [(u64, &[&str]); 3] = [
        (
            1,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old, expected) in consistency {
        let new = if old == 2 { 5 } else { 8 };
        let expected: Vec<Hash> = expected.iter().map(|t| h(t)).collect();
        assert_eq!(tree.consistency_proof(old, new), Ok(expected.clone()));
        let (old_root, new_root) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &expected),
            Ok(())
        );
    }
}

fn numbered_tree(n: u64) -> MemoryTree {
    MemoryTree::from_leaves((0..n).map(|i| leaf_hash(&i.to_be_bytes())))
}

/// Every proof of every tree up to 140 leaves verifies, and flipping any hash, dropping or
/// adding one, or changing an index or size makes it fail.
#[test]
fn proofs_for_every_size_verify_and_every_tampering_fails() {
    let tree = numbered_tree(140);
    let leaves: Vec<Hash> = (0..140u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for size in 1..=140u64 {
        let root = tree.root_at(size).expect("size");
        assert_eq!(root, root_of(&leaves[..size as usize]));
        for index in 0..size {
            let proof = tree.inclusion_proof(index, size).expect("proof");
            let leaf = leaves[index as usize];
            assert_eq!(verify_inclusion(index, size, &leaf, &proof, &root), Ok(()));
            if index % 7 != 0 {
                continue;
            }
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][0] ^= 1;
                assert!(verify_inclusion(index, size, &leaf, &bad, &root).is_err());
            }
            let mut longer = proof.clone();
            longer.push(leaf);
            assert!(verify_inclusion(index, size, &leaf, &longer, &root).is_err());
            if !proof.is_empty() {
                let shorter = &proof[..proof.len() - 1];
                assert!(verify_inclusion(index, size, &leaf, shorter, &root).is_err());
            }
            // (The size is not checked here: the same path can fit two sizes, and the signed
            // checkpoint fixes the size.)
            if size > 1 {
                let other = (index + 1) % size;
                assert!(verify_inclusion(other, size, &leaf, &proof, &root).is_err());
            }
        }
        for old in 0..=size {
            let proof = tree.consistency_proof(old, size).expect("proof");
            let old_root = tree.root_at(old).expect("old");
            assert_eq!(
                verify_consistency(old, size, &old_root, &root, &proof),
                Ok(()),
                "{old} -> {size}"
            );
            if old == 0 || old == size {
                continue;
            }
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][31] ^= 0x80;
                assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err());
            }
            let mut wrong_old = old_root;
            wrong_old[0] ^= 1;
            assert!(verify_consistency(old, size, &wrong_old, &root, &proof).is_err());
            assert!(verify_consistency(old, size, &old_root, &root, &proof[1..]).is_err());
        }
    }
}

#[test]
fn hostile_proof_shapes_are_refused_not_panicked_on() {
    let leaf = leaf_hash(b"x");
    let root = leaf;
    assert_eq!(verify_inclusion(0, 1, &leaf, &[], &root), Ok(()));
    for (index, size) in [(1, 1), (0, 0), (u64::MAX, u64::MAX), (5, 3)] {
        assert_eq!(
            verify_inclusion(index, size, &leaf, &[], &root).map_err(|e| e.code()),
            Err("bad-inclusion-proof")
        );
    }
    let huge = vec![leaf; MAX_PROOF_HASHES + 1];
    assert_eq!(
        verify_inclusion(0, u64::MAX, &leaf, &huge, &root).map_err(|e| e.code()),
        Err("malformed-proof")
    );
    assert!(verify_inclusion(0, u64::MAX, &leaf, &[leaf; 63], &root).is_err());
    assert_eq!(
        verify_consistency(5, 3, &root, &root, &[]).map_err(|e| e.code()),
        Err("log-rollback")
    );
    let mut other = root;
    other[0] ^= 1;
    assert_eq!(
        verify_consistency(3, 3, &root, &other, &[]).map_err(|e| e.code()),
        Err("log-fork")
    );
    assert!(verify_consistency(1, u64::MAX, &root, &root, &[leaf; 70]).is_err());
    assert!(verify_consistency(3, 3, &root, &root, &[leaf]).is_err());
    let tree = numbered_tree(4);
    assert_eq!(
        tree.inclusion_proof(4, 4).map_err(|e| e.code()),
        Err("bad-request")
    );
    assert_eq!(
        tree.consistency_proof(2, 5).map_err(|e| e.code()),
        Err("bad-request")
    );
    assert_eq!(
        tree.consistency_proof(3, 2).map_err(|e| e.code()),
        Err("bad-request")
    );
}

/// Key buckets of two auditors and of one that signed nothing.
pub(super) const KEY_A: &str = "AAAAAAAAAAA";
pub(super) const KEY_B: &str = "BBBBBBBBBBB";
pub(super) const KEY_C: &str = "CCCCCCCCCCC";

pub(super) struct TestLog {
    pub secret: SigningKey,
    pub key: NoteKey,
    pub tree: MemoryTree,
    pub index: CrateIndex,
    pub entries: Vec<LogEntry>,
}

impl TestLog {
    pub fn new() -> TestLog {
        let secret = SigningKey::generate().expect("OS randomness");
        let key = NoteKey::new("example.org/log", secret.public_key()).expect("name");
        TestLog {
            secret,
            key,
            tree: MemoryTree::new(),
            index: CrateIndex::new(),
            entries: Vec::new(),
        }
    }

    pub fn append(&mut self, crate_name: &str, n: u8) {
        self.append_version(crate_name, "1.0.0", n, None);
    }

    pub fn append_version(&mut self, crate_name: &str, version: &str, n: u8, delta: Option<&str>) {
        self.append_keyed(crate_name, version, KEY_A, n, delta);
    }

    /// Appends record `n` about `crate_name@version`, signed by a key of bucket `key`.
    pub fn append_keyed(
        &mut self,
        crate_name: &str,
        version: &str,
        key: &str,
        n: u8,
        delta: Option<&str>,
    ) {
        let record_id = RecordId::parse(&crate::signoff::hex(&[n; 32])).expect("id");
        let leaf = self.tree.size();
        let filing = Filing {
            crate_name: crate_name.to_owned(),
            version: version.to_owned(),
            key: key.to_owned(),
            delta_from: delta.map(str::to_owned),
        };
        let ordinal = self.index.add(&filing, leaf, record_id);
        let entry = LogEntry {
            crate_name: crate_name.to_owned(),
            ordinal,
            record_id,
        };
        self.tree.push(entry.leaf_hash());
        self.entries.push(entry);
    }

    pub fn checkpoint(&mut self) -> Checkpoint {
        Checkpoint {
            origin: "example.org/log".into(),
            size: self.tree.size(),
            root: self.tree.root(),
            extensions: Vec::new(),
        }
        .with_crate_index(self.index.len(), &self.index.root())
    }

    pub fn note(&mut self) -> SignedNote {
        let body = self.checkpoint().body();
        let signature = self.key.sign(&self.secret, &body);
        SignedNote {
            body,
            signatures: vec![signature],
        }
    }

    pub fn pin(&self) -> LogPin {
        LogPin {
            origin: "example.org/log".into(),
            key: self.key.clone(),
            witnesses: Vec::new(),
            min_cosignatures: 0,
            cosigned_after: 0,
            cosigned_before: u64::MAX,
        }
    }

    pub fn answer(&mut self, name: &str) -> (IndexProof, Vec<ProvenEntry>) {
        let size = self.tree.size();
        let proven = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.crate_name == name)
            .map(|(i, e)| ProvenEntry {
                leaf_index: i as u64,
                entry: e.clone(),
                proof: self.tree.inclusion_proof(i as u64, size).expect("proof"),
            })
            .collect();
        (self.index.proof(name), proven)
    }
}

mod index_growth;
mod monitoring;
mod multiproof;
mod notes;
mod shared_index;
mod tile_proofs;
mod versions;
mod witnesses;
