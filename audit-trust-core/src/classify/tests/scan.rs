//! Code lines and `unsafe` counts of hand-made sources.

use super::super::{RustScan, UnsafeCounts, scan_rust};

fn scan(src: &str) -> RustScan {
    scan_rust(src.as_bytes())
}

/// Shorthand for the expected counts.
fn counts(blocks: u64, fns: u64, impls: u64, traits: u64, extern_blocks: u64) -> UnsafeCounts {
    UnsafeCounts {
        blocks,
        fns,
        impls,
        traits,
        extern_blocks,
        forbids_unsafe: false,
    }
}

#[test]
fn unsafe_in_comments_and_docs_is_not_counted() {
    let src = r#"// unsafe { line comment }
/// unsafe fn in a doc comment
//! unsafe impl in an inner doc comment
/* unsafe { /* nested: unsafe { */ still a comment: unsafe fn x() {} */
/** unsafe trait X {} */
/*! extern "C" { } */

fn main() {} // unsafe {
"#;
    assert_eq!(
        scan(src),
        RustScan {
            code_lines: 1,
            unsafe_usage: counts(0, 0, 0, 0, 0)
        }
    );
}

#[test]
fn unsafe_in_literals_is_not_counted() {
    let src = r####"let a = "a\"unsafe { ";
let b = b"unsafe {";
let c = c"unsafe fn x";
let d = r#"unsafe " { "#;
let e = br##"unsafe "# impl"##;
let f = cr#"unsafe trait"#;
let g = "multi

unsafe {
";
unsafe { }
"####;
    // 11 lines, all code: the blank line inside the string is part of a token.
    assert_eq!(
        scan(src),
        RustScan {
            code_lines: 11,
            unsafe_usage: counts(1, 0, 0, 0, 0)
        }
    );
}

#[test]
fn char_literals_next_to_lifetimes() {
    let src = r#"fn f<'a>(x: &'a str) -> char {
    let q = '"'; let u = unsafe { 1 };
    let s = '\''; let t = '\\';
    let e = '\u{1F600}'; let b = b'"';
    'outer: loop { break 'outer; }
    let z: &'static str = "x"; unsafe { }
    'x'
}
"#;
    assert_eq!(
        scan(src),
        RustScan {
            code_lines: 8,
            unsafe_usage: counts(2, 0, 0, 0, 0)
        }
    );
}

#[test]
fn raw_identifier_is_not_the_keyword() {
    let src = "let r#unsafe = 1;\nr#unsafe { }\nfn r#unsafe() {}\n";
    assert_eq!(
        scan(src),
        RustScan {
            code_lines: 3,
            unsafe_usage: counts(0, 0, 0, 0, 0)
        }
    );
}

#[test]
fn tokens_in_macros_are_counted() {
    let src = r#"m!(unsafe { x });
vec![unsafe { y }];
macro_rules! mk {
    ($name:ident) => {
        unsafe fn $name() {}
        unsafe impl Send for X {}
    };
}
"#;
    assert_eq!(
        scan(src),
        RustScan {
            code_lines: 8,
            unsafe_usage: counts(2, 1, 1, 0, 0)
        }
    );
}

#[test]
fn item_kinds() {
    let src = r#"unsafe fn a() {}
pub unsafe extern "C" fn b() {}
const unsafe fn c() {}
type P = unsafe fn(i32);
type Q = for<'a> unsafe extern "C" fn(&'a u8);
extern "C" fn d() {}
extern crate core;
extern "C" { fn e(); }
extern { fn f(); }
unsafe extern "C" { safe fn g(); }
unsafe extern {
}
unsafe impl<T> Send for X<T> {}
unsafe trait T {}
pub unsafe auto trait U {}
#[unsafe(no_mangle)]
pub extern "system" fn h() { unsafe { g() } }
"#;
    assert_eq!(
        scan(src),
        RustScan {
            code_lines: 17,
            unsafe_usage: counts(1, 3, 1, 2, 4)
        }
    );
}

#[test]
fn forbid_unsafe_code() {
    let forbids = |src: &str| scan(src).unsafe_usage.forbids_unsafe;
    assert!(forbids("#![forbid(unsafe_code)]\nfn x() {}"));
    assert!(forbids("//! docs\n#![forbid(missing_docs, unsafe_code)]"));
    assert!(forbids(
        "#![forbid(\n    unsafe_code,\n    missing_docs,\n)]"
    ));
    assert!(forbids("#![deny(missing_docs)]\n#![forbid(unsafe_code)]"));
    assert!(!forbids("#![deny(unsafe_code)]"));
    assert!(!forbids("// #![forbid(unsafe_code)]"));
    assert!(!forbids("/* #![forbid(unsafe_code)] */"));
    assert!(!forbids(r##"const S: &str = "#![forbid(unsafe_code)]";"##));
    assert!(!forbids(
        "#![cfg_attr(not(feature = \"x\"), forbid(unsafe_code))]"
    ));
    assert!(!forbids(
        "#[forbid(unsafe_code)]\nfn outer_attribute_only() {}"
    ));
    assert!(!forbids("#![forbid(clippy::unsafe_code)]"));
    assert!(!forbids("#![forbid(unused)]\nfn unsafe_code() {}"));
}

#[test]
fn line_counting() {
    let lines = |src: &str| scan(src).code_lines;
    assert_eq!(lines(""), 0);
    assert_eq!(lines("\n\n  \t\n"), 0);
    assert_eq!(lines("fn a() {}"), 1);
    assert_eq!(lines("fn a() {}\n\n\nfn b() {}\n"), 2);
    assert_eq!(lines("a /* x\n y */ b"), 2);
    assert_eq!(lines("/* x\n y */\n// z\n"), 0);
    assert_eq!(lines("a /* x\n\n y */\n"), 1);
    assert_eq!(lines("x\r\n\r\ny\r\n"), 2);
    assert_eq!(lines("#!/usr/bin/env run-cargo-script\nfn main() {}\n"), 2);
    assert_eq!(lines("let s = \"a\\\n   b\";\n"), 2);
}

#[test]
fn unterminated_input() {
    assert_eq!(
        scan("let s = \"abc\nunsafe {\n"),
        RustScan {
            code_lines: 2,
            unsafe_usage: counts(0, 0, 0, 0, 0)
        }
    );
    assert_eq!(
        scan("x\n/* unsafe {\n\n"),
        RustScan {
            code_lines: 1,
            unsafe_usage: counts(0, 0, 0, 0, 0)
        }
    );
    assert_eq!(
        scan("unsafe"),
        RustScan {
            code_lines: 1,
            unsafe_usage: counts(0, 0, 0, 0, 0)
        }
    );
}

#[test]
fn invalid_utf8_is_scanned() {
    let src = b"fn \xff\xfe() {}\n\xc3( unsafe { }\n'\xe0\n'\nunsafe { }\n";
    let result = scan_rust(src);
    // The stray lead byte before a newline must not form a "char" that hides the newline.
    assert_eq!(result.code_lines, 5);
    assert_eq!(result.unsafe_usage.blocks, 2);
}
