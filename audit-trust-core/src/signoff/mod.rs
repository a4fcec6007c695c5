//! Sign-offs: signed statements by auditors about crate versions, the keys that sign them, the
//! heads that make withheld records detectable, and the local store that keeps them next to
//! `Cargo.audit`. The format is documented in `docs/signoff-format.md`.

mod criteria;
mod key;
mod key_file;

pub use criteria::Criterion;
pub use key::{KeyError, PUBLIC_KEY_PREFIX, PublicKey, SECRET_KEY_PREFIX, Signature, SigningKey};
pub use key_file::{SIGNING_KEY_ENV, create_key_file, key_from_env_value, load_key_file};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}
