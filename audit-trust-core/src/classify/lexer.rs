//! A byte-level Rust tokenizer, good enough to tell real tokens from comments and literals.
//!
//! It is not a full Rust lexer: it only has to find where every token starts and ends, so that
//! `unsafe` inside a comment, a doc comment or a string is never mistaken for the keyword, and so
//! that each line can be classified as code or not. Punctuation is returned one byte at a time,
//! numbers are approximated, and anything it does not understand becomes a one-byte `Punct`.
//!
//! Design constraints, and why:
//! - **One pass, no allocation per token**: it runs over hundreds of megabytes of published source,
//!   so a [`Token`] is a `Copy` value of offsets into the input.
//! - **Never panics, always progresses**: input is arbitrary bytes from the internet (invalid UTF-8,
//!   unterminated strings and comments). All reads go through bounds-checked `get`, every call to
//!   [`Lexer::next`] consumes at least one byte, and unterminated constructs end at end of input.
//! - **Non-ASCII bytes** are treated as identifier characters (Rust allows Unicode identifiers), except
//!   the few Unicode code points Rust counts as whitespace.

/// What kind of token was found. Literal kinds are merged because callers only need "a string".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An identifier or keyword (`unsafe`, `fn`, `foo`, `_`).
    Ident,
    /// A raw identifier such as `r#unsafe`: an identifier, never the keyword.
    RawIdent,
    /// A lifetime or loop label: `'a`, `'static`, `'r#a`.
    Lifetime,
    /// A string literal of any flavour: `"..."`, `b"..."`, `c"..."`, `r#"..."#`, `br".."`, `cr".."`.
    Str,
    /// A character or byte literal: `'x'`, `'\''`, `b'\n'`.
    Char,
    /// A numeric literal (approximate: `1e+5` lexes as `1e`, `+`, `5`, which is harmless here).
    Number,
    /// One byte of punctuation (or any byte the lexer does not recognise); the byte is included.
    Punct(u8),
    /// A `#!` shebang line at the very start of a file.
    Shebang,
}

/// One token: its kind, byte range in the input, and the 1-based lines of its first and last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub end_line: usize,
}

/// Character classes for the byte dispatch table.
const C_OTHER: u8 = 0;
const C_SPACE: u8 = 1;
const C_IDENT: u8 = 2; // may start and continue an identifier (letters, `_`, non-ASCII)
const C_DIGIT: u8 = 3; // continues an identifier, starts a number

const CLASS: [u8; 256] = {
    let mut table = [C_OTHER; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            C_IDENT
        } else if c.is_ascii_digit() {
            C_DIGIT
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            C_SPACE
        } else {
            C_OTHER
        };
        b += 1;
    }
    table
};

#[inline]
fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// Length in bytes of the non-ASCII whitespace code point starting at `s`, if any. Rust's
/// `Pattern_White_Space` outside ASCII is U+0085, U+200E, U+200F, U+2028 and U+2029.
fn unicode_space_len(s: &[u8]) -> Option<usize> {
    match s {
        [0xc2, 0x85, ..] => Some(2),
        [0xe2, 0x80, 0x8e | 0x8f | 0xa8 | 0xa9, ..] => Some(3),
        _ => None,
    }
}

/// Length of the UTF-8 sequence announced by a leading byte (1 for ASCII or a stray byte).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// Reads 8 bytes at `at` as a little-endian word, if there are 8 bytes left.
#[inline]
fn word_at(src: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = src.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first `needle` in `hay`, or `hay.len()`. Scans a word (8 bytes) at a time: line
/// comments are a large share of published source, and this is several times faster per byte.
#[inline]
fn find_byte(hay: &[u8], needle: u8) -> usize {
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
fn count_spaces(s: &[u8]) -> usize {
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

/// Skips a block comment starting at `pos` (nested, as in Rust); an unterminated one runs to end
/// of input. Returns the position after it and the updated line number.
fn skip_block_comment(src: &[u8], mut pos: usize, mut line: usize) -> (usize, usize) {
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
const ASCII_IDENT_CONTINUE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0usize;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};

/// Iterator over the tokens of one Rust source file; comments and whitespace are skipped.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    /// Where the first token may start (after a byte-order mark): the only place for a shebang.
    origin: usize,
}

impl<'a> Lexer<'a> {
    /// Starts lexing `src`, skipping a UTF-8 byte-order mark.
    pub fn new(src: &'a [u8]) -> Self {
        let pos = if src.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        Self {
            src,
            pos,
            line: 1,
            origin: pos,
        }
    }

    /// The byte at `pos + off`, or 0 past the end. 0 never matches anything a caller looks for, so
    /// lookahead past the end simply fails (a real NUL byte in the input is lexed as punctuation).
    #[inline]
    fn peek(&self, off: usize) -> u8 {
        self.src
            .get(self.pos.wrapping_add(off))
            .copied()
            .unwrap_or(0)
    }

    /// Advances to `end`, counting the newlines in between (used for multi-line tokens).
    fn advance_counting(&mut self, end: usize) {
        let end = end.min(self.src.len());
        if let Some(skipped) = self.src.get(self.pos..end) {
            self.line += skipped.iter().filter(|&&b| b == b'\n').count();
        }
        self.pos = end;
    }

    /// Skips whitespace and comments. This is where most bytes go (indentation, docs), so the
    /// loops work on local copies of the position and line, and scan with `position`.
    #[inline(always)] // one call site, once per token: the call overhead showed in profiles
    fn skip_trivia(&mut self) {
        let src = self.src;
        let mut pos = self.pos;
        let mut line = self.line;
        while let Some(&b) = src.get(pos) {
            if b == b' ' {
                // Usually a single space between tokens; runs (indentation) go a word at a time.
                pos += if src.get(pos + 1) == Some(&b' ') {
                    count_spaces(src.get(pos..).unwrap_or_default())
                } else {
                    1
                };
            } else if b == b'\n' {
                line += 1;
                pos += 1;
            } else if class(b) == C_SPACE {
                pos += 1;
            } else if b == b'/' {
                match src.get(pos + 1) {
                    // Line comment (including `///` and `//!` docs): up to, not including, '\n'.
                    Some(b'/') => {
                        pos += find_byte(src.get(pos..).unwrap_or_default(), b'\n');
                    }
                    Some(b'*') => (pos, line) = skip_block_comment(src, pos, line),
                    _ => break,
                }
            } else if b >= 0x80 {
                match unicode_space_len(src.get(pos..).unwrap_or_default()) {
                    Some(n) => pos += n,
                    None => break,
                }
            } else {
                break;
            }
        }
        self.pos = pos;
        self.line = line;
    }

    /// Consumes identifier characters from the current position. Non-ASCII bytes continue an
    /// identifier unless they start one of Rust's Unicode whitespace characters.
    #[inline]
    fn eat_ident_chars(&mut self) {
        let src = self.src;
        let mut pos = self.pos;
        loop {
            let rest = src.get(pos..).unwrap_or_default();
            // Fast path: ASCII identifier bytes; stop on anything else, including non-ASCII.
            pos += rest
                .iter()
                .position(|&b| !ASCII_IDENT_CONTINUE[usize::from(b)])
                .unwrap_or(rest.len());
            match src.get(pos..) {
                Some(rest @ [b, ..]) if *b >= 0x80 && unicode_space_len(rest).is_none() => pos += 1,
                _ => break,
            }
        }
        self.pos = pos;
    }

    /// Lexes a quoted string whose opening `"` is at `self.pos`; escapes may hide a `"` or a newline.
    fn eat_quoted_string(&mut self) {
        let src = self.src;
        let mut pos = self.pos + 1;
        let mut line = self.line;
        loop {
            let rest = src.get(pos..).unwrap_or_default();
            let Some(i) = rest.iter().position(|&b| matches!(b, b'"' | b'\\' | b'\n')) else {
                pos = src.len();
                break;
            };
            pos += i;
            match rest.get(i) {
                Some(b'"') => {
                    pos += 1;
                    break;
                }
                Some(b'\n') => {
                    line += 1;
                    pos += 1;
                }
                _ => {
                    // A backslash escapes the next byte, which may be a quote or a newline.
                    if rest.get(i + 1) == Some(&b'\n') {
                        line += 1;
                    }
                    pos = (pos + 2).min(src.len());
                }
            }
        }
        self.pos = pos;
        self.line = line;
        self.eat_ident_chars(); // literal suffix, e.g. "x"suffix
    }

    /// Lexes a plain `"..."` string literal.
    fn lex_string(&mut self) -> TokenKind {
        self.eat_quoted_string();
        TokenKind::Str
    }

    /// If a raw string starts at `self.pos + off` (`#`* then `"`), returns the number of hashes.
    fn raw_string_hashes(&self, off: usize) -> Option<usize> {
        let rest = self.src.get(self.pos + off..)?;
        let hashes = rest.iter().take_while(|&&b| b == b'#').count();
        (rest.get(hashes) == Some(&b'"')).then_some(hashes)
    }

    /// Lexes a raw string body: `self.pos` is just after the opening `"`; it ends at `"` + hashes.
    fn eat_raw_string_body(&mut self, hashes: usize) {
        let start = self.pos;
        let mut i = start;
        let end = loop {
            let Some(rest) = self.src.get(i..) else {
                break self.src.len();
            };
            let Some(q) = rest.iter().position(|&b| b == b'"') else {
                break self.src.len();
            };
            let after = i + q + 1;
            let closes = self
                .src
                .get(after..after + hashes)
                .is_some_and(|h| h.iter().all(|&b| b == b'#'));
            if closes {
                break after + hashes;
            }
            i = after;
        };
        self.advance_counting(end);
        self.eat_ident_chars();
    }

    /// At a `'` (at `self.pos + off`): the end offset of a character literal, if it is one. A char
    /// literal never spans lines, so an unterminated one cannot swallow the code that follows.
    fn char_literal_end(&self, off: usize) -> Option<usize> {
        let q = self.pos + off;
        let first = *self.src.get(q + 1)?;
        if first == b'\\' {
            // Escape: `'\''`, `'\\'`, `'\n'`, `'\x7f'`, `'\u{1F600}'`. Skip the escaped byte, then
            // find the closing quote on the same line.
            if self.src.get(q + 2) == Some(&b'\n') {
                return None;
            }
            let rest = self.src.get(q + 3..)?;
            let close = rest.iter().position(|&b| b == b'\'' || b == b'\n')?;
            return (rest.get(close) == Some(&b'\'')).then_some(q + 3 + close + 1);
        }
        if first == b'\'' || first == b'\n' {
            return None;
        }
        let after = q + 1 + utf8_len(first);
        // A stray UTF-8 lead byte must not make a "char" that hides a newline.
        let body = self.src.get(q + 1..after)?;
        let closed = self.src.get(after) == Some(&b'\'') && !body.contains(&b'\n');
        closed.then_some(after + 1)
    }

    /// Lexes what follows a `'`: a char literal, a lifetime/label, or a lone quote.
    fn lex_quote(&mut self) -> TokenKind {
        if let Some(end) = self.char_literal_end(0) {
            self.pos = end;
            self.eat_ident_chars();
            return TokenKind::Char;
        }
        self.pos += 1;
        if self.peek(0) == b'r' && self.peek(1) == b'#' && class(self.peek(2)) == C_IDENT {
            self.pos += 2; // raw lifetime `'r#a`
        }
        if class(self.peek(0)) == C_IDENT {
            self.eat_ident_chars();
            TokenKind::Lifetime
        } else {
            TokenKind::Punct(b'\'')
        }
    }

    /// Lexes a token that starts with an identifier character, handling the literal prefixes
    /// `r"`, `r#"`, `r#ident`, `b"`, `b'`, `br"`, `c"`, `cr"` before falling back to an identifier.
    fn lex_ident_or_prefixed(&mut self, b: u8) -> TokenKind {
        let next = self.peek(1);
        match (b, next) {
            (b'b' | b'c', b'"') => {
                self.pos += 1;
                self.eat_quoted_string();
                return TokenKind::Str;
            }
            (b'b', b'\'') => {
                if let Some(end) = self.char_literal_end(1) {
                    self.pos = end;
                    self.eat_ident_chars();
                    return TokenKind::Char;
                }
            }
            (b'r', b'"' | b'#') => {
                if let Some(hashes) = self.raw_string_hashes(1) {
                    self.pos += 1 + hashes + 1;
                    self.eat_raw_string_body(hashes);
                    return TokenKind::Str;
                }
                if next == b'#' && class(self.peek(2)) == C_IDENT {
                    self.pos += 2;
                    self.eat_ident_chars();
                    return TokenKind::RawIdent;
                }
            }
            (b'b' | b'c', b'r') => {
                if let Some(hashes) = self.raw_string_hashes(2) {
                    self.pos += 2 + hashes + 1;
                    self.eat_raw_string_body(hashes);
                    return TokenKind::Str;
                }
            }
            _ => {}
        }
        self.pos += 1;
        self.eat_ident_chars();
        TokenKind::Ident
    }

    /// Lexes a number: digits and letters (`0x1F`, `1_000u32`, `1e10`) and a `.` followed by a digit.
    /// `1..2` and `x.0.1` are close enough: only token boundaries matter here, not values.
    fn lex_number(&mut self) -> TokenKind {
        self.eat_ident_chars();
        if self.peek(0) == b'.' && class(self.peek(1)) == C_DIGIT {
            self.pos += 1;
            self.eat_ident_chars();
        }
        TokenKind::Number
    }

    /// A `#!` at the very start of a file that is not an inner attribute `#![` is a shebang line.
    fn is_shebang(&self) -> bool {
        let Some(rest) = self.src.get(self.pos..) else {
            return false;
        };
        if !rest.starts_with(b"#!") {
            return false;
        }
        let after = rest.get(2..).unwrap_or_default();
        after.iter().find(|&&b| class(b) != C_SPACE) != Some(&b'[')
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    /// Inlined so that the scanner's loop keeps the token in registers.
    #[inline]
    fn next(&mut self) -> Option<Token> {
        self.skip_trivia();
        let start = self.pos;
        let line = self.line;
        let &b = self.src.get(start)?;
        let kind = match class(b) {
            C_IDENT => self.lex_ident_or_prefixed(b),
            C_DIGIT => self.lex_number(),
            _ if b == b'"' => self.lex_string(),
            _ if b == b'\'' => self.lex_quote(),
            _ if b == b'#' && start == self.origin && self.is_shebang() => {
                let rest = self.src.get(start..).unwrap_or_default();
                self.pos += find_byte(rest, b'\n');
                TokenKind::Shebang
            }
            _ => {
                self.pos += 1;
                TokenKind::Punct(b)
            }
        };
        // Defensive, and one predictable branch: every branch above consumes at least one byte
        // and stays within the input, but a mistake must never loop forever or index past the end.
        if self.pos <= start || self.pos > self.src.len() {
            self.pos = (start + 1).min(self.src.len());
        }
        let mut end_line = self.line;
        if matches!(kind, TokenKind::Str)
            && self.pos == self.src.len()
            && self.src.last() == Some(&b'\n')
        {
            // A token's last line is the line of its last byte: an unterminated string that runs
            // to the end of a file ending in '\n' does not reach the empty "line" after it.
            end_line = end_line.saturating_sub(1);
        }
        Some(Token {
            kind,
            start,
            end: self.pos,
            line,
            end_line,
        })
    }
}
