//! Byte-level helpers for the lexer: the character-class table and word-at-a-time scans.
//!
//! The word-at-a-time ("SWAR") functions read 8 bytes as a `u64` and test all of them with a few
//! arithmetic operations. They are plain safe Rust (no SIMD intrinsics, no `unsafe`), and they fall
//! back to a byte loop for the last few bytes of the input.

/// Character classes for the byte dispatch table: one lookup decides what a byte can start.
pub(super) const C_OTHER: u8 = 0; // one-byte punctuation
pub(super) const C_SPACE: u8 = 1;
pub(super) const C_IDENT: u8 = 2; // ASCII letter or `_`: starts and continues an identifier
pub(super) const C_DIGIT: u8 = 3; // continues an identifier, starts a number
pub(super) const C_NON_ASCII: u8 = 4; // part of an identifier, unless it is Unicode whitespace
pub(super) const C_SLASH: u8 = 5; // may start a comment
pub(super) const C_DQUOTE: u8 = 6;
pub(super) const C_QUOTE: u8 = 7;
pub(super) const C_HASH: u8 = 8; // may start a shebang

pub(super) const CLASS: [u8; 256] = {
    let mut table = [C_OTHER; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() || c == b'_' {
            C_IDENT
        } else if c >= 0x80 {
            C_NON_ASCII
        } else if c.is_ascii_digit() {
            C_DIGIT
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            C_SPACE
        } else if c == b'/' {
            C_SLASH
        } else if c == b'"' {
            C_DQUOTE
        } else if c == b'\'' {
            C_QUOTE
        } else if c == b'#' {
            C_HASH
        } else {
            C_OTHER
        };
        b += 1;
    }
    table
};

#[inline]
pub(super) fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// Letters, `_` and non-ASCII bytes start identifiers (and lifetimes, raw identifiers).
#[inline]
pub(super) fn is_ident_start(b: u8) -> bool {
    matches!(class(b), C_IDENT | C_NON_ASCII)
}

/// Length in bytes of the non-ASCII whitespace code point starting at `s`, if any. Rust's
/// `Pattern_White_Space` outside ASCII is U+0085, U+200E, U+200F, U+2028 and U+2029.
pub(super) fn unicode_space_len(s: &[u8]) -> Option<usize> {
    match s {
        [0xc2, 0x85, ..] => Some(2),
        [0xe2, 0x80, 0x8e | 0x8f | 0xa8 | 0xa9, ..] => Some(3),
        _ => None,
    }
}

/// Length of the UTF-8 sequence announced by a leading byte (1 for ASCII or a stray byte).
pub(super) fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// Reads 8 bytes at `at` as a little-endian word, if there are 8 bytes left.
#[inline]
pub(super) fn word_at(src: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = src.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

pub(super) const ONES: u64 = 0x0101_0101_0101_0101;
pub(super) const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first `needle` in `hay`, or `hay.len()`. Scans a word (8 bytes) at a time: line
/// comments are a large share of published source, and this is several times faster per byte.
#[inline]
pub(super) fn find_byte(hay: &[u8], needle: u8) -> usize {
    let pattern = ONES * u64::from(needle);
    let mut i = 0;
    while let Some(word) = word_at(hay, i) {
        let x = word ^ pattern;
        // Classic "has a zero byte": the lowest set high bit marks the first match exactly.
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let tail = hay.get(i..).unwrap_or_default();
    i + tail.iter().position(|&b| b == needle).unwrap_or(tail.len())
}

/// Number of consecutive spaces at the start of `s`, a word at a time (indentation).
#[inline]
pub(super) fn count_spaces(s: &[u8]) -> usize {
    const SPACES: u64 = ONES * b' ' as u64;
    let mut i = 0;
    while let Some(word) = word_at(s, i) {
        let x = word ^ SPACES;
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let tail = s.get(i..).unwrap_or_default();
    i + tail.iter().take_while(|&&b| b == b' ').count()
}

/// High bit of each byte of `word` set where the byte is in `lo..=hi`; bytes must be ASCII (the
/// additions then never carry into the next byte).
#[inline]
pub(super) fn bytes_in_range(word: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = word + ONES * u64::from(0x80 - lo);
    let above_hi = word + ONES * u64::from(0x7f - hi);
    at_least_lo & !above_hi & HIGHS
}

/// Length of the run of ASCII identifier bytes (`[A-Za-z0-9_]`) at the start of `s`, a word at a
/// time: identifiers are about half of all source bytes.
#[inline]
pub(super) fn ascii_ident_len(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(word) = word_at(s, i) {
        let ascii = word & !HIGHS; // non-ASCII bytes are excluded below, whatever they map to
        let folded = ascii | (ONES * 0x20); // 'A'..='Z' -> 'a'..='z'
        let ident = bytes_in_range(folded, b'a', b'z')
            | bytes_in_range(ascii, b'0', b'9')
            | bytes_in_range(ascii, b'_', b'_');
        let stop = !ident & HIGHS | word & HIGHS;
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let tail = s.get(i..).unwrap_or_default();
    i + tail
        .iter()
        .take_while(|&&b| ASCII_IDENT_CONTINUE[usize::from(b)])
        .count()
}

/// Skips a block comment starting at `pos` (nested, as in Rust); an unterminated one runs to end
/// of input. Returns the position after it and the updated line number.
pub(super) fn skip_block_comment(src: &[u8], mut pos: usize, mut line: usize) -> (usize, usize) {
    pos += 2;
    let mut depth = 1usize;
    loop {
        let rest = src.get(pos..).unwrap_or_default();
        let Some(i) = rest.iter().position(|&b| matches!(b, b'\n' | b'*' | b'/')) else {
            return (src.len(), line);
        };
        pos += i;
        let pair = (rest.get(i).copied(), rest.get(i + 1).copied());
        match pair {
            (Some(b'\n'), _) => {
                line += 1;
                pos += 1;
            }
            (Some(b'*'), Some(b'/')) => {
                pos += 2;
                depth -= 1;
                if depth == 0 {
                    return (pos, line);
                }
            }
            (Some(b'/'), Some(b'*')) => {
                pos += 2;
                depth += 1;
            }
            _ => pos += 1,
        }
    }
}

/// ASCII bytes that continue an identifier (non-ASCII bytes are handled separately).
pub(super) const ASCII_IDENT_CONTINUE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0usize;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};
