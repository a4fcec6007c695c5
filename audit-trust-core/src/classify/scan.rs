//! Per-file scan of Rust source: code lines and `unsafe` usage, from the tokens of [`super::lexer`].
//!
//! Counting rules (all from real tokens; comments, doc comments and literals never count):
//! - **Code lines** are counted like tokei/cloc count Rust code: a line is code when a token starts,
//!   ends or continues on it. A line with only whitespace or comments is not code, a line with code
//!   and a trailing comment is. Every line a multi-line string spans is code, even a blank line
//!   inside the string, because it is part of a token. A `#!` shebang line is code. Lines are split
//!   on `\n` only (a `\r\n` ending is one line); a final line without `\n` counts like any other.
//! - **`unsafe`**: `unsafe {` is a block; `unsafe fn name` (also `unsafe extern "C" fn name`) is a
//!   function; `unsafe impl` an impl; `unsafe trait` and `unsafe auto trait` a trait;
//!   `extern {`, `extern "ABI" {` and `unsafe extern "ABI" {` an extern block (only the block is
//!   counted for `unsafe extern {`, not also an unsafe fn). Not counted: `extern crate`,
//!   `extern "C" fn`, function pointer *types* `unsafe fn(..)` / `unsafe extern "C" fn(..)` (the
//!   token after `fn` is `(` rather than a name), unsafe attributes `#[unsafe(no_mangle)]`, and
//!   the raw identifier `r#unsafe`.
//! - **Macros**: tokens inside macro invocations (`m!(unsafe { x })`) and `macro_rules!` bodies
//!   are counted like any other tokens: they become code when the macro is expanded, and a
//!   token-level scan cannot know how often (or whether) that happens. In a `macro_rules!` body an
//!   unsafe fn named by a metavariable (`unsafe fn $name`) counts as well.
//! - **`#![forbid(unsafe_code)]`**: an inner attribute whose top-level item is `forbid(..)` with
//!   `unsafe_code` among its entries (`#![forbid(missing_docs, unsafe_code)]`), anywhere in the
//!   file (so also one inside an inline `mod m { .. }`, which is rare). `deny` does not
//!   count (it can be overridden with `allow`), and neither does `#![cfg_attr(.., forbid(..))]`,
//!   because it only applies under a condition.

use super::UnsafeCounts;
use super::lexer::{Lexer, Token, TokenKind};

/// What [`scan_rust`] found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RustScan {
    /// Lines holding at least part of a real (non-comment) token.
    pub code_lines: u64,
    /// `unsafe` usage in this file; `forbids_unsafe` is this file's own `#![forbid(unsafe_code)]`.
    pub unsafe_usage: UnsafeCounts,
}

/// Scans one Rust source file. Never panics, whatever the bytes.
pub fn scan_rust(source: &[u8]) -> RustScan {
    let mut lines = LineCounter::default();
    let mut unsafe_state = UnsafeState::Idle;
    let mut attr_state = AttrState::Idle;
    let mut counts = UnsafeCounts::default();
    for token in Lexer::new(source) {
        lines.add(&token);
        // Fast paths: most tokens are neither an identifier nor part of a construct in progress,
        // and only identifiers need their text looked at.
        let text = || source.get(token.start..token.end).unwrap_or_default();
        if matches!(token.kind, TokenKind::Ident) || unsafe_state != UnsafeState::Idle {
            unsafe_state = unsafe_state.step(token.kind, text(), &mut counts);
        }
        if matches!(token.kind, TokenKind::Punct(b'#')) || attr_state != AttrState::Idle {
            attr_state = attr_state.step(token.kind, text(), &mut counts.forbids_unsafe);
        }
    }
    RustScan {
        code_lines: lines.count,
        unsafe_usage: counts,
    }
}

/// Counts distinct lines covered by tokens. Tokens arrive in order, so remembering the last line
/// already counted is enough to never count a line twice.
#[derive(Default)]
struct LineCounter {
    count: u64,
    last_counted: usize,
}

impl LineCounter {
    #[inline]
    fn add(&mut self, token: &Token) {
        if token.end_line > self.last_counted {
            let first_new = token.line.max(self.last_counted + 1);
            self.count += (token.end_line + 1 - first_new) as u64;
            self.last_counted = token.end_line;
        }
    }
}

/// Where we are in recognising an unsafe construct; each state names the tokens seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnsafeState {
    Idle,
    /// `unsafe`
    Unsafe,
    /// `unsafe auto`
    UnsafeAuto,
    /// `unsafe fn` or `unsafe extern "C" fn`: counted if a name follows.
    UnsafeFn,
    /// `unsafe extern` or `unsafe extern "C"`
    UnsafeExtern,
    /// `extern` or `extern "C"` without `unsafe`
    Extern {
        abi_seen: bool,
    },
}

impl UnsafeState {
    /// Moves the state machine on by one token, counting a construct when one completes.
    #[inline]
    fn step(self, kind: TokenKind, text: &[u8], counts: &mut UnsafeCounts) -> Self {
        use TokenKind::{Ident, Punct, RawIdent, Str};
        match (self, kind) {
            (Self::Idle, _) => {}
            (Self::Unsafe, Punct(b'{')) => {
                counts.blocks += 1;
                return Self::Idle;
            }
            (Self::Unsafe, Ident) => match text {
                b"fn" => return Self::UnsafeFn,
                b"impl" => {
                    counts.impls += 1;
                    return Self::Idle;
                }
                b"trait" => {
                    counts.traits += 1;
                    return Self::Idle;
                }
                b"auto" => return Self::UnsafeAuto,
                b"extern" => return Self::UnsafeExtern,
                _ => {}
            },
            (Self::UnsafeAuto, Ident) if text == b"trait" => {
                counts.traits += 1;
                return Self::Idle;
            }
            (Self::UnsafeFn, Ident | RawIdent | Punct(b'$')) => {
                // A name (or a macro metavariable) after `fn`: an item, not a pointer type. The
                // name itself is then looked at from `Idle`, which is harmless.
                counts.fns += 1;
            }
            (Self::UnsafeExtern, Str) => return Self::UnsafeExtern,
            (Self::UnsafeExtern, Ident) if text == b"fn" => return Self::UnsafeFn,
            (Self::UnsafeExtern | Self::Extern { .. }, Punct(b'{')) => {
                counts.extern_blocks += 1;
                return Self::Idle;
            }
            (Self::Extern { abi_seen: false }, Str) => return Self::Extern { abi_seen: true },
            _ => {}
        }
        // The construct did not complete: this token may start a new one.
        if kind == Ident {
            match text {
                b"unsafe" => return Self::Unsafe,
                b"extern" => return Self::Extern { abi_seen: false },
                _ => {}
            }
        }
        Self::Idle
    }
}

/// Recognises `#![forbid(.., unsafe_code, ..)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrState {
    Idle,
    /// `#`
    Hash,
    /// `#!`
    HashBang,
    /// `#![`: the attribute's first token decides.
    Open,
    /// `#![forbid`
    Forbid,
    /// Inside `forbid(`: `depth` counts open delimiters; `after_sep` is true right after `(` or `,`
    /// at depth 1, where a lint name starts (so `clippy::unsafe_code` does not count).
    List {
        depth: u32,
        after_sep: bool,
    },
}

impl AttrState {
    #[inline]
    fn step(self, kind: TokenKind, text: &[u8], forbids: &mut bool) -> Self {
        use TokenKind::{Ident, Punct};
        match (self, kind) {
            (Self::Hash, Punct(b'!')) => Self::HashBang,
            (Self::HashBang, Punct(b'[')) => Self::Open,
            (Self::Open, Ident) if text == b"forbid" => Self::Forbid,
            (Self::Forbid, Punct(b'(')) => Self::List {
                depth: 1,
                after_sep: true,
            },
            (Self::List { depth, after_sep }, _) => match kind {
                Punct(b'(' | b'[' | b'{') => Self::List {
                    depth: depth.saturating_add(1),
                    after_sep: false,
                },
                Punct(b')' | b']' | b'}') if depth <= 1 => Self::Idle,
                Punct(b')' | b']' | b'}') => Self::List {
                    depth: depth - 1,
                    after_sep: false,
                },
                Punct(b',') => Self::List {
                    depth,
                    after_sep: depth == 1,
                },
                Ident if after_sep && depth == 1 && text == b"unsafe_code" => {
                    *forbids = true;
                    Self::List {
                        depth,
                        after_sep: false,
                    }
                }
                _ => Self::List {
                    depth,
                    after_sep: false,
                },
            },
            (_, Punct(b'#')) => Self::Hash,
            _ => Self::Idle,
        }
    }
}
