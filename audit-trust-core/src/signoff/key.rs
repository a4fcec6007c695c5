//! ed25519 keys and signatures, through `ring` (already in the tree for TLS). Public keys are
//! written `ed25519:<base64>`; a secret key is a 32-byte seed that never leaves [`SigningKey`]
//! except into a key file.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use zeroize::Zeroizing;

/// The prefix of a public key's text form. It names the algorithm, so another one can be added
/// without ambiguity.
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";
/// The prefix of a secret key's text form, in key files and `AUDIT_TRUST_SIGNING_KEY`.
pub const SECRET_KEY_PREFIX: &str = "ed25519-secret:";

/// Why a key or signature text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// An ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Parses `ed25519:<base64 of 32 bytes>`; only the canonical encoding is accepted, so one key
    /// has exactly one text form.
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let Some(encoded) = text.strip_prefix(PUBLIC_KEY_PREFIX) else {
            return Err(KeyError(format!(
                "a public key must look like `{PUBLIC_KEY_PREFIX}<base64>`, not `{}`",
                shorten(text)
            )));
        };
        let bytes = decode_exact::<32>(encoded).ok_or_else(|| {
            KeyError(format!(
                "`{}` is not a valid ed25519 public key (32 bytes in standard base64)",
                shorten(text)
            ))
        })?;
        Ok(PublicKey(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `signature` is this key's signature of exactly `message`.
    pub fn verifies(&self, message: &[u8], signature: &Signature) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, &signature.0)
            .is_ok()
    }

    /// Lowercase hex of the key: safe in file names on every platform (base64 has `/`).
    pub fn hex(&self) -> String {
        super::hex(&self.0)
    }

    /// The key whose [`Self::hex`] is `text` (64 lowercase hex digits, nothing else).
    pub fn from_hex(text: &str) -> Option<PublicKey> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            };
            bytes[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(PublicKey(bytes))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_KEY_PREFIX}{}", BASE64.encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicKey::parse(s)
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PublicKey::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An ed25519 signature (64 bytes), written in standard base64.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    pub fn parse(text: &str) -> Result<Signature, KeyError> {
        decode_exact::<64>(text)
            .map(Signature)
            .ok_or_else(|| KeyError("a signature must be 64 bytes in standard base64".to_owned()))
    }

    /// The signature from its raw 64 bytes (as signed notes carry it).
    pub fn from_bytes(bytes: &[u8]) -> Option<Signature> {
        bytes.try_into().ok().map(Signature)
    }

    pub fn to_bytes(&self) -> [u8; 64] {
        self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64.encode(self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A secret key. Its `Debug` shows only the public half, and the seed is wiped when dropped.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    seed: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public_key())
    }
}

impl SigningKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<SigningKey, KeyError> {
        use ring::rand::SecureRandom as _;
        let mut seed = Zeroizing::new([0u8; 32]);
        ring::rand::SystemRandom::new()
            .fill(seed.as_mut())
            .map_err(|_| KeyError("the operating system's random generator failed".into()))?;
        SigningKey::from_seed(seed)
    }

    fn from_seed(seed: Zeroizing<[u8; 32]>) -> Result<SigningKey, KeyError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
            .map_err(|e| KeyError(format!("unusable ed25519 seed: {e}")))?;
        Ok(SigningKey { pair, seed })
    }

    /// Reads `ed25519-secret:<base64 seed>` from a key file or an environment variable. Lines
    /// starting with `#` and blank lines are ignored, so a key file can explain itself.
    pub fn parse(text: &str) -> Result<SigningKey, KeyError> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let (Some(line), None) = (lines.next(), lines.next()) else {
            return Err(KeyError(format!(
                "a secret key is one line `{SECRET_KEY_PREFIX}<base64>` (comments aside)"
            )));
        };
        // Never echo the text: it is secret, even when malformed.
        let encoded = line.strip_prefix(SECRET_KEY_PREFIX).ok_or_else(|| {
            KeyError(format!(
                "not a secret key: it must start with `{SECRET_KEY_PREFIX}`"
            ))
        })?;
        let seed = decode_exact::<32>(encoded)
            .map(Zeroizing::new)
            .ok_or_else(|| KeyError("the secret key is not 32 bytes in standard base64".into()))?;
        SigningKey::from_seed(seed)
    }

    /// The text a key file holds: a comment with the public key, then the secret line.
    pub fn to_file_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# cargo audit-trust signing key. Keep it secret: whoever has it can sign as you.\n\
             # public key: {}\n{SECRET_KEY_PREFIX}{}\n",
            self.public_key(),
            BASE64.encode(self.seed.as_ref())
        ))
    }

    pub fn public_key(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(bytes)
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(self.pair.sign(message).as_ref());
        Signature(bytes)
    }
}

/// Decodes canonical standard base64 of exactly `N` bytes.
fn decode_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    let decoded = Zeroizing::new(BASE64.decode(text).ok()?);
    let bytes: [u8; N] = decoded.as_slice().try_into().ok()?;
    // The base64 crate already refuses non-zero trailing bits; this guards the invariant.
    (BASE64.encode(bytes) == text).then_some(bytes)
}

/// Untrusted text in a message: control characters escaped, long input cut.
fn shorten(text: &str) -> String {
    let cut: String = text.chars().take(60).collect();
    let mut out: String = cut.chars().flat_map(char::escape_default).collect();
    if cut.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip() {
        let key = SigningKey::generate().expect("OS randomness");
        let public = key.public_key();
        let sig = key.sign(b"message");
        assert!(public.verifies(b"message", &sig));
        assert!(!public.verifies(b"messagE", &sig));
        let other = SigningKey::generate().expect("OS randomness").public_key();
        assert!(!other.verifies(b"message", &sig));
        let reparsed = Signature::parse(&sig.to_string()).expect("round trip");
        assert!(public.verifies(b"message", &reparsed));
    }

    #[test]
    fn key_text_round_trips_and_never_shows_the_secret() {
        let key = SigningKey::generate().expect("OS randomness");
        let text = key.to_file_text();
        let again = SigningKey::parse(&text).expect("parse own file");
        assert_eq!(again.public_key(), key.public_key());
        let public = key.public_key().to_string();
        assert!(
            public.starts_with("ed25519:") && public.len() == 52,
            "{public}"
        );
        assert_eq!(PublicKey::parse(&public), Ok(key.public_key()));
        let secret_line = text.lines().last().expect("secret line").to_owned();
        assert!(!format!("{key:?}").contains(&secret_line[SECRET_KEY_PREFIX.len()..]));
        let err = SigningKey::parse("ed25519-secret:not base64 at all").expect_err("bad");
        assert!(!err.to_string().contains("not base64"), "{err}");
    }

    #[test]
    fn malformed_keys_are_refused() {
        let key = SigningKey::generate()
            .expect("OS randomness")
            .public_key()
            .to_string();
        let encoded = &key[PUBLIC_KEY_PREFIX.len()..];
        for bad in [
            String::new(),
            encoded.to_owned(),
            format!("ed25519:{}", &encoded[..40]),
            format!("ed25519:{encoded}AAAA"),
            format!("ED25519:{encoded}"),
            format!("ed25519: {encoded}"),
            format!("ed25519:{}", encoded.replace('=', "")),
        ] {
            assert!(PublicKey::parse(&bad).is_err(), "{bad:?} was accepted");
        }
        // 32 zero bytes are 43 `A`s and `=`; a `B` last sets a padding bit: same bytes, another
        // text, refused.
        assert!(PublicKey::parse(&format!("ed25519:{}=", "A".repeat(43))).is_ok());
        assert!(PublicKey::parse(&format!("ed25519:{}B=", "A".repeat(42))).is_err());
        assert!(Signature::parse("AAAA").is_err());
    }
}
