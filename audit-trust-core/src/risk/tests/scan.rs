//! The build-time scan finds real tokens only.

use crate::risk::build_scan::{SiteKind, scan_file};

fn names(source: &str) -> Vec<(SiteKind, String, usize)> {
    scan_file("build.rs", source.as_bytes())
        .into_iter()
        .map(|s| (s.kind, s.name, s.line))
        .collect()
}

#[test]
fn strings_and_comments_that_mention_command_new_raise_nothing() {
    let source = r###"
// Command::new("curl") is what we do NOT do.
/* std::process::Command::new("sh"); TcpStream::connect(x) */
/// Calls `Command::new` in the docs only.
fn main() {
    let s = "Command::new(\"sh\")";
    let r = r#"std::env::var("GITHUB_TOKEN") and reqwest::get"#;
    let c = 'C';
    println!("{s}{r}{c} TcpStream");
    let out = std::env::var("OUT_DIR").unwrap();
    let _ = out;
}
"###;
    assert_eq!(names(source), Vec::new());
}

#[test]
fn real_calls_are_found_with_their_lines() {
    let source = "use std::process;\nfn main() {\n    process::Command::new(\"git\");\n    \
let t = std::env::var_os(\"AWS_SECRET_ACCESS_KEY\");\n    for (k, v) in std::env::vars() {}\n    \
let r = ureq::get(\"https://example.com/x\");\n    let u = std::net::UdpSocket::bind(\"0.0.0.0:0\");\n    \
let k = option_env!(\"NPM_TOKEN\");\n    unsafe { libc::system(cmd) };\n}\n";
    let found = names(source);
    let expected = [
        (SiteKind::Spawn, "process::Command", 3),
        (SiteKind::Spawn, "Command::new", 3),
        (SiteKind::Env, "env::var_os(\"AWS_SECRET_ACCESS_KEY\")", 4),
        (SiteKind::Env, "env::vars()", 5),
        (SiteKind::Network, "ureq::", 6),
        (SiteKind::Network, "UdpSocket", 7),
        (SiteKind::Env, "option_env!(\"NPM_TOKEN\")", 8),
        (SiteKind::Spawn, "libc::system", 9),
    ];
    for (kind, name, line) in expected {
        assert!(
            found.contains(&(kind, name.to_owned(), line)),
            "{name} at {line} missing from {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn arbitrary_bytes_never_panic() {
    for input in [
        &b"Command::"[..],
        b"env::var(",
        b"env!(",
        b"\xff\xfe Command :: new \"",
        b"r#\"unterminated",
        b"libc::",
    ] {
        let _ = scan_file("x.rs", input);
    }
}
