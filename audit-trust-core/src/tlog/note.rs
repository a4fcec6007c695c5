//! C2SP signed notes, `tlog-checkpoint` bodies and `tlog-cosignature` cosignatures.
//!
//! A note is a body of text lines, a blank line, and signature lines `— <name> <base64>`, where
//! the base64 holds a 4-byte key id and the signature. The key id of an ed25519 key is the first
//! four bytes of `SHA-256(name || "\n" || 0x01 || key)`; a witness's cosignature key uses type
//! `0x04` and signs `cosignature/v1\ntime <t>\n` followed by the checkpoint body.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use super::error::TlogError;
use super::merkle::Hash;
use crate::signoff::{PublicKey, Signature, SigningKey};

/// A checkpoint note is a few hundred bytes; anything much larger is refused before parsing.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Signature lines read at most (the log's and its witnesses').
const MAX_SIGNATURES: usize = 100;
const SIGNATURE_PREFIX: &str = "\u{2014} ";
const ED25519_TYPE: u8 = 0x01;
const COSIGNATURE_TYPE: u8 = 0x04;
/// The checkpoint extension line that commits to the crate index (see `docs/transparency-log.md`).
pub const CRATE_INDEX_EXTENSION: &str = "audit-trust-crate-index-v3";

/// What a checkpoint says: which log, how many entries, their root, and extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The body text that is signed.
    pub fn body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    pub fn parse_body(body: &str) -> Result<Checkpoint, TlogError> {
        let bad = |why: &str| Err(TlogError::MalformedCheckpoint(why.to_owned()));
        let Some(text) = body.strip_suffix('\n') else {
            return bad("the body does not end with a newline");
        };
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return bad("the origin line is empty or has control characters");
        }
        let size_text = lines.next().unwrap_or_default();
        let canonical = size_text == "0" || !size_text.starts_with('0');
        let size = match size_text.parse::<u64>() {
            Ok(n) if canonical && size_text.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return bad("the size line is not a decimal number"),
        };
        let root = lines.next().and_then(decode_hash).ok_or_else(|| {
            TlogError::MalformedCheckpoint("the root hash line is not 32 bytes of base64".into())
        })?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() || line.chars().any(char::is_control) {
                return bad("an extension line is empty or has control characters");
            }
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The crate index this checkpoint commits to: its number of crates and its root.
    pub fn crate_index(&self) -> Result<(u64, Hash), TlogError> {
        let missing = || {
            TlogError::MalformedCheckpoint(format!(
                "no well-formed `{CRATE_INDEX_EXTENSION} <count> <root>` line"
            ))
        };
        let line = self
            .extensions
            .iter()
            .find_map(|l| l.strip_prefix(CRATE_INDEX_EXTENSION)?.strip_prefix(' '))
            .ok_or_else(missing)?;
        let (count, root) = line.split_once(' ').ok_or_else(missing)?;
        let count = count.parse::<u64>().map_err(|_| missing())?;
        let root = decode_hash(root).ok_or_else(missing)?;
        Ok((count, root))
    }

    pub fn with_crate_index(mut self, count: u64, root: &Hash) -> Checkpoint {
        self.extensions
            .retain(|l| !l.starts_with(CRATE_INDEX_EXTENSION));
        self.extensions.push(format!(
            "{CRATE_INDEX_EXTENSION} {count} {}",
            BASE64.encode(root)
        ));
        self
    }
}

fn decode_hash(text: &str) -> Option<Hash> {
    let bytes = BASE64.decode(text).ok()?;
    let hash: Hash = bytes.as_slice().try_into().ok()?;
    (BASE64.encode(hash) == text).then_some(hash)
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    /// The signature bytes after the key id.
    pub bytes: Vec<u8>,
}

impl NoteSignature {
    /// The signature as one note line, `— <name> <base64>` with its newline (as a witness
    /// returns a cosignature and a log appends it to its checkpoint).
    pub fn to_line(&self) -> String {
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(&self.bytes);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }

    /// Signature lines, each ending with a newline (a witness's `add-checkpoint` answer).
    pub fn parse_lines(text: &str) -> Result<Vec<NoteSignature>, TlogError> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        // The lines of a note with an empty body parse exactly as a note's signature lines.
        Ok(SignedNote::parse(&format!("x\n\n{text}"))?.signatures)
    }
}

/// A body and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub body: String,
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    pub fn parse(text: &str) -> Result<SignedNote, TlogError> {
        let bad = |why: &str| Err(TlogError::MalformedNote(why.to_owned()));
        if text.len() > MAX_NOTE_BYTES {
            return bad("longer than any checkpoint");
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return bad("it contains control characters");
        }
        let Some(split) = text.rfind("\n\n") else {
            return bad("there is no blank line before the signatures");
        };
        let body = &text[..=split];
        let Some(lines) = text[split + 2..].strip_suffix('\n') else {
            return bad("the last signature line does not end with a newline");
        };
        let mut signatures = Vec::new();
        for line in lines.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return bad("too many signature lines");
            }
            let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else {
                return bad("a signature line does not start with `\u{2014} `");
            };
            let Some((name, encoded)) = rest.split_once(' ') else {
                return bad("a signature line has no key name and signature");
            };
            if !valid_key_name(name) {
                return bad("a signature line's key name is not valid");
            }
            let Ok(decoded) = BASE64.decode(encoded) else {
                return bad("a signature is not base64");
            };
            if decoded.len() < 5 {
                return bad("a signature is too short");
            }
            let mut key_id = [0u8; 4];
            key_id.copy_from_slice(&decoded[..4]);
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id,
                bytes: decoded[4..].to_vec(),
            });
        }
        Ok(SignedNote {
            body: body.to_owned(),
            signatures,
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = self.body.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out
    }
}

/// A key name: non-empty, printable, no spaces and no `+` (C2SP signed-note).
pub fn valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && !name.contains('+')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn key_id(name: &str, kind: u8, key: &PublicKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([kind]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A named ed25519 key that signs notes: the log's key, or a witness's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteKey {
    pub name: String,
    pub key: PublicKey,
}

impl NoteKey {
    pub fn new(name: &str, key: PublicKey) -> Result<NoteKey, TlogError> {
        if !valid_key_name(name) {
            return Err(TlogError::MalformedNote(format!(
                "`{}` is not a valid key name (no spaces, no `+`)",
                name.escape_default()
            )));
        }
        Ok(NoteKey {
            name: name.to_owned(),
            key,
        })
    }

    /// The note's signature by this key (as the log signs a checkpoint).
    pub fn sign(&self, secret: &SigningKey, body: &str) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: key_id(&self.name, ED25519_TYPE, &self.key),
            bytes: secret.sign(body.as_bytes()).to_bytes().to_vec(),
        }
    }

    /// Whether `note` carries a valid signature by this key. Lines by other keys are skipped,
    /// as the format requires; a line that claims this key and does not verify is an error.
    pub fn verify(&self, note: &SignedNote) -> Result<(), TlogError> {
        let id = key_id(&self.name, ED25519_TYPE, &self.key);
        let mut found = false;
        for s in note
            .signatures
            .iter()
            .filter(|s| s.name == self.name && s.key_id == id)
        {
            found = true;
            if self.key_verifies(note.body.as_bytes(), &s.bytes) {
                return Ok(());
            }
        }
        if found {
            Err(TlogError::BadSignature {
                name: self.name.clone(),
            })
        } else {
            Err(TlogError::UnknownKey {
                name: self.name.clone(),
            })
        }
    }

    /// A witness's cosignature of `body` at `time` (seconds since the Unix epoch).
    pub fn cosign(&self, secret: &SigningKey, body: &str, time: u64) -> NoteSignature {
        let sig = secret.sign(cosigned_message(body, time).as_bytes());
        let mut bytes = time.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig.to_bytes());
        NoteSignature {
            name: self.name.clone(),
            key_id: key_id(&self.name, COSIGNATURE_TYPE, &self.key),
            bytes,
        }
    }

    /// The time of the newest valid cosignature by this witness key on `note`, if any.
    pub fn cosignature_time(&self, note: &SignedNote) -> Option<u64> {
        let id = key_id(&self.name, COSIGNATURE_TYPE, &self.key);
        note.signatures
            .iter()
            .filter(|s| s.name == self.name && s.key_id == id && s.bytes.len() == 72)
            .filter_map(|s| {
                let mut time = [0u8; 8];
                time.copy_from_slice(&s.bytes[..8]);
                let time = u64::from_be_bytes(time);
                let message = cosigned_message(&note.body, time);
                self.key_verifies(message.as_bytes(), &s.bytes[8..])
                    .then_some(time)
            })
            .max()
    }

    fn key_verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_bytes(signature).is_some_and(|sig| self.key.verifies(message, &sig))
    }
}

fn cosigned_message(body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}
