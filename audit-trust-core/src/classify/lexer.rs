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

use super::bytes::{
    C_DIGIT, C_DQUOTE, C_HASH, C_IDENT, C_NON_ASCII, C_QUOTE, C_SLASH, C_SPACE, ascii_ident_len,
    class, count_spaces, find_byte, is_ident_start, skip_block_comment, unicode_space_len,
    utf8_len,
};

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

    /// Skips whitespace and comments. Many bytes are trivia (indentation, docs), so the loop works
    /// on local copies of the position and line, and skips space runs and line comments a word at
    /// a time.
    #[inline(always)] // one call site, once per token: the call overhead showed in profiles
    fn skip_trivia(&mut self) {
        let src = self.src;
        let mut pos = self.pos;
        let mut line = self.line;
        while let Some(&b) = src.get(pos) {
            match class(b) {
                C_SPACE if b == b'\n' => {
                    line += 1;
                    pos += 1;
                }
                // Usually a single space between tokens; runs (indentation) go a word at a time.
                C_SPACE if b == b' ' && src.get(pos + 1) == Some(&b' ') => {
                    pos += count_spaces(src.get(pos..).unwrap_or_default());
                }
                C_SPACE => pos += 1,
                C_SLASH => match src.get(pos + 1) {
                    // Line comment (including `///` and `//!` docs): up to, not including, '\n'.
                    Some(b'/') => pos += find_byte(src.get(pos..).unwrap_or_default(), b'\n'),
                    Some(b'*') => (pos, line) = skip_block_comment(src, pos, line),
                    _ => break,
                },
                C_NON_ASCII => match unicode_space_len(src.get(pos..).unwrap_or_default()) {
                    Some(n) => pos += n,
                    None => break,
                },
                _ => break,
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
            pos += ascii_ident_len(src.get(pos..).unwrap_or_default());
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
        if self.peek(0) == b'r' && self.peek(1) == b'#' && is_ident_start(self.peek(2)) {
            self.pos += 2; // raw lifetime `'r#a`
        }
        if is_ident_start(self.peek(0)) {
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
                if next == b'#' && is_ident_start(self.peek(2)) {
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
            C_IDENT | C_NON_ASCII => self.lex_ident_or_prefixed(b),
            C_DIGIT => self.lex_number(),
            C_DQUOTE => self.lex_string(),
            C_QUOTE => self.lex_quote(),
            C_HASH if start == self.origin && self.is_shebang() => {
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
