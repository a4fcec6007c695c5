//! Token boundaries and kinds for the constructs the counters depend on.

use super::super::lexer::{Lexer, TokenKind};

/// (kind, text) of every token in `src`.
fn tokens(src: &str) -> Vec<(TokenKind, &str)> {
    Lexer::new(src.as_bytes())
        .map(|t| (t.kind, &src[t.start..t.end]))
        .collect()
}

fn kinds(src: &str) -> Vec<TokenKind> {
    tokens(src).into_iter().map(|(kind, _)| kind).collect()
}

use TokenKind::{Char, Ident, Lifetime, Number, Punct, RawIdent, Shebang, Str};

#[test]
fn identifiers_and_raw_identifiers() {
    assert_eq!(
        tokens("r#unsafe unsafe"),
        [(RawIdent, "r#unsafe"), (Ident, "unsafe")]
    );
    assert_eq!(
        tokens("bar rust crate b c r br cr"),
        [
            (Ident, "bar"),
            (Ident, "rust"),
            (Ident, "crate"),
            (Ident, "b"),
            (Ident, "c"),
            (Ident, "r"),
            (Ident, "br"),
            (Ident, "cr")
        ]
    );
    assert_eq!(tokens("héllo"), [(Ident, "héllo")]);
}

#[test]
fn string_literal_flavours() {
    let src = r####""a\"b" b"x" c"y" r"z\" r#"q"# br##"a"#b"## cr#"c"# "s"suffix"####;
    assert_eq!(
        tokens(src),
        [
            (Str, r#""a\"b""#),
            (Str, r#"b"x""#),
            (Str, r#"c"y""#),
            (Str, r#"r"z\""#),
            (Str, r##"r#"q"#"##),
            (Str, r###"br##"a"#b"##"###),
            (Str, r##"cr#"c"#"##),
            (Str, r#""s"suffix"#),
        ]
    );
}

#[test]
fn chars_versus_lifetimes() {
    let src = r#"'a 'static 'x' '\'' '\\' '"' '\u{1F600}' 'é' b'x' b'\'' 'r#a 'label: '"#;
    assert_eq!(
        tokens(src),
        [
            (Lifetime, "'a"),
            (Lifetime, "'static"),
            (Char, "'x'"),
            (Char, r"'\''"),
            (Char, r"'\\'"),
            (Char, "'\"'"),
            (Char, r"'\u{1F600}'"),
            (Char, "'é'"),
            (Char, "b'x'"),
            (Char, r"b'\''"),
            (Lifetime, "'r#a"),
            (Lifetime, "'label"),
            (Punct(b':'), ":"),
            (Punct(b'\''), "'"),
        ]
    );
}

#[test]
fn numbers_and_ranges() {
    assert_eq!(
        kinds("1..2 1.5 0x1F u.0"),
        [
            Number,
            Punct(b'.'),
            Punct(b'.'),
            Number,
            Number,
            Number,
            Ident,
            Punct(b'.'),
            Number
        ]
    );
}

#[test]
fn comments_are_skipped() {
    let src = "a // x\n/// d\n//! d\n/* /* nested */ still */ b /** d */ c /*! d */";
    assert_eq!(tokens(src), [(Ident, "a"), (Ident, "b"), (Ident, "c")]);
}

#[test]
fn line_numbers_follow_multiline_tokens() {
    let src = "a\n\"x\ny\"\n/* \n */ b";
    let lines: Vec<(usize, usize)> = Lexer::new(src.as_bytes())
        .map(|t| (t.line, t.end_line))
        .collect();
    assert_eq!(lines, [(1, 1), (2, 3), (5, 5)]);
}

#[test]
fn shebang_and_inner_attribute() {
    assert_eq!(kinds("#!/usr/bin/env x\nfn"), [Shebang, Ident]);
    assert_eq!(
        kinds("#![no_std]")[..3],
        [Punct(b'#'), Punct(b'!'), Punct(b'[')]
    );
    // A byte-order mark is not a token.
    assert_eq!(kinds("\u{feff}fn"), [Ident]);
}

#[test]
fn unicode_whitespace_is_whitespace() {
    assert_eq!(
        tokens("a\u{2028}b\u{85}c"),
        [(Ident, "a"), (Ident, "b"), (Ident, "c")]
    );
}

#[test]
fn unterminated_constructs_end_at_end_of_input() {
    assert_eq!(
        tokens("a \"never closed\n unsafe {"),
        [(Ident, "a"), (Str, "\"never closed\n unsafe {")]
    );
    assert_eq!(
        tokens("a r##\"x\"# y"),
        [(Ident, "a"), (Str, "r##\"x\"# y")]
    );
    assert_eq!(tokens("a /* /* */ unsafe"), [(Ident, "a")]);
    assert_eq!(tokens("'\\"), [(Punct(b'\''), "'"), (Punct(b'\\'), "\\")]);
}
