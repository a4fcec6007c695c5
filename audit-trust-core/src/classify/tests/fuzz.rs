//! No input may make the lexer or the classifier panic, and the lexer's positions must stay
//! consistent with the input whatever it is.

use super::super::lexer::Lexer;
use super::super::{classify_files, scan_rust};

/// A source full of constructs that are easy to get wrong; every prefix of it is scanned.
const TRICKY: &str = r####"#![forbid(unsafe_code)] // é
/* /* nested */ unsafe { */ /** doc */ /*! inner */
fn f<'a>(x: &'a str) -> char { '"'; '\''; '\\'; '\u{1F600}'; 'é'; b'\x7f'; 'label: loop {} }
let s = "a\"b\\"; let b = b"\0"; let c = c"\n"; let r = r#"q"#; let br = br##"#"##; cr#"x"#;
unsafe extern "C" { fn g(); } r#unsafe; 1..2; 1.5e-3; x.0.1;
m!(unsafe { x }); "multi
line" 'x'
"####;

/// Deterministic xorshift, so a failure can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Checks the lexer's invariants on `src`: tokens in order, in bounds, non-empty, with line
/// numbers equal to one plus the newlines before them; and that the scan does not panic.
fn check(src: &[u8]) {
    let mut previous_end = 0;
    for token in Lexer::new(src) {
        assert!(token.start >= previous_end && token.start < token.end && token.end <= src.len());
        let newlines =
            |range: std::ops::Range<usize>| src[range].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(token.line, 1 + newlines(0..token.start), "{src:?}");
        assert_eq!(
            token.end_line,
            token.line + newlines(token.start..token.end - 1),
            "{src:?}"
        );
        previous_end = token.end;
    }
    let lines = src.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    assert!(scan_rust(src).code_lines <= lines);
}

#[test]
fn every_prefix_of_a_tricky_source() {
    let bytes = TRICKY.as_bytes();
    for end in 0..=bytes.len() {
        check(&bytes[..end]);
        check(&bytes[end..]);
    }
}

#[test]
fn random_bytes_from_a_hostile_alphabet() {
    let alphabet = b"\"'\\/*#!rbcu{}()\n\r x1._\xc3\xa9\xe2\x80\xa8\xff\x00";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = (rng.next() % 64) as usize;
        let src: Vec<u8> = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        check(&src);
    }
}

#[test]
fn random_bytes_anywhere() {
    let mut rng = Rng(42);
    for _ in 0..2_000 {
        let len = (rng.next() % 256) as usize;
        let src: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check(&src);
    }
}

#[test]
fn mutated_tricky_source() {
    let mut rng = Rng(7);
    for _ in 0..5_000 {
        let mut src = TRICKY.as_bytes().to_vec();
        for _ in 0..3 {
            let at = (rng.next() % src.len() as u64) as usize;
            src[at] = rng.next() as u8;
        }
        check(&src);
    }
}

#[test]
fn random_manifests_do_not_panic() {
    let mut rng = Rng(99);
    let base = b"[package]\nname = \"p\"\nbuild = \"b.rs\"\n[lib]\nproc-macro = true\n[target.'x'.build-dependencies]\ncc = { package = \"cc\" }\n";
    for end in 0..=base.len() {
        let manifest = &base[..end];
        let _ = classify_files([("Cargo.toml", manifest), ("src/lib.rs", &b"fn a() {}"[..])]);
    }
    for _ in 0..2_000 {
        let mut manifest = base.to_vec();
        let at = (rng.next() % manifest.len() as u64) as usize;
        manifest[at] = rng.next() as u8;
        let _ = classify_files([("Cargo.toml", &manifest[..]), ("b.rs", &b"'"[..])]);
    }
}
