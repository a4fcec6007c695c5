//! Finds process spawning, network use and secret-reading in build-time code, from real tokens
//! of [`crate::classify::lexer`]: a `Command::new` inside a string, a comment or a doc comment
//! is not a token and raises nothing.
//!
//! What counts (paths are matched on their last segments, so `std::process::Command::new` and
//! a `use`d `Command::new` are both found):
//! - **spawn**: `Command::new`, `process::Command`, and `libc::` `system`, `popen`, `fork`,
//!   `execv`, `execve`, `execvp`, `posix_spawn`;
//! - **network**: the types `TcpStream`, `TcpListener`, `UdpSocket`, `ToSocketAddrs`, and a
//!   path through an HTTP client crate ([`NETWORK_CRATES`], e.g. `ureq::get`);
//! - **env**: `env::var("NAME")` / `var_os`, `env!("NAME")` / `option_env!("NAME")` when NAME
//!   looks like a secret ([`is_secret_like`]), and `env::vars()` / `vars_os()` (the whole
//!   environment).

use serde::{Deserialize, Serialize};

use crate::classify::lexer::{Lexer, TokenKind};

/// HTTP client (and download) crates: a build script that uses one downloads something.
pub const NETWORK_CRATES: &[&str] = &[
    "reqwest",
    "ureq",
    "curl",
    "curl-sys",
    "hyper",
    "attohttpc",
    "minreq",
    "isahc",
    "surf",
    "http_req",
    "http-req",
    "ehttp",
    "tinyget",
    "downloader",
    "trauma",
];

/// What a site does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteKind {
    Spawn,
    Network,
    Env,
}

/// One finding in one file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Site {
    pub kind: SiteKind,
    /// What was found: `Command::new`, `TcpStream`, `ureq::`, `env::var("GITHUB_TOKEN")`.
    pub name: String,
    pub file: String,
    pub line: usize,
}

/// Normalized crate name (`-` and `_` are the same to crates.io).
pub fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

pub fn is_network_crate(name: &str) -> bool {
    let n = normalize(name);
    NETWORK_CRATES.iter().any(|c| normalize(c) == n)
}

/// Environment variable names that hold credentials, by the words they contain.
pub fn is_secret_like(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const WORDS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH",
        "SSH_",
        "AWS_",
        "GPG_",
        "NPM_",
    ];
    WORDS.iter().any(|w| upper.contains(w))
}

/// Every site in one Rust file. Never panics, whatever the bytes.
pub fn scan_file(path: &str, source: &[u8]) -> Vec<Site> {
    let tokens: Vec<(TokenKind, &[u8], usize)> = Lexer::new(source)
        .map(|t| {
            (
                t.kind,
                source.get(t.start..t.end).unwrap_or_default(),
                t.line,
            )
        })
        .collect();
    let mut out: Vec<Site> = Vec::new();
    let mut push = |kind: SiteKind, name: String, line: usize| {
        let site = Site {
            kind,
            name,
            file: path.to_owned(),
            line,
        };
        if !out.contains(&site) {
            out.push(site);
        }
    };
    let ident = |i: usize| match tokens.get(i) {
        Some((TokenKind::Ident | TokenKind::RawIdent, text, _)) => Some(*text),
        _ => None,
    };
    let punct =
        |i: usize, b: u8| matches!(tokens.get(i), Some((TokenKind::Punct(p), _, _)) if *p == b);
    // `a :: b`: the identifier after a path separator at `i`.
    let after_path = |i: usize| {
        if punct(i, b':') && punct(i + 1, b':') {
            ident(i + 2)
        } else {
            None
        }
    };
    let string_at = |i: usize| match tokens.get(i) {
        Some((TokenKind::Str, text, _)) => Some(string_value(text)),
        _ => None,
    };
    for (i, &(_, _, line)) in tokens.iter().enumerate() {
        let Some(word) = ident(i) else { continue };
        let next = after_path(i + 1);
        match (word, next) {
            (b"Command", Some(b"new")) => push(SiteKind::Spawn, "Command::new".into(), line),
            (b"process", Some(b"Command")) => {
                push(SiteKind::Spawn, "process::Command".into(), line)
            }
            (
                b"libc",
                Some(
                    f @ (b"system" | b"popen" | b"fork" | b"execv" | b"execve" | b"execvp"
                    | b"posix_spawn"),
                ),
            ) => push(
                SiteKind::Spawn,
                format!("libc::{}", String::from_utf8_lossy(f)),
                line,
            ),
            (b"env", Some(f @ (b"var" | b"var_os"))) if punct(i + 4, b'(') => {
                if let Some(name) = string_at(i + 5).filter(|n| is_secret_like(n)) {
                    push(
                        SiteKind::Env,
                        format!("env::{}({name:?})", String::from_utf8_lossy(f)),
                        line,
                    );
                }
            }
            (b"env", Some(f @ (b"vars" | b"vars_os"))) => push(
                SiteKind::Env,
                format!("env::{}()", String::from_utf8_lossy(f)),
                line,
            ),
            (b"TcpStream" | b"TcpListener" | b"UdpSocket" | b"ToSocketAddrs", _) => push(
                SiteKind::Network,
                String::from_utf8_lossy(word).into_owned(),
                line,
            ),
            (w @ (b"env" | b"option_env"), None) if punct(i + 1, b'!') && punct(i + 2, b'(') => {
                if let Some(name) = string_at(i + 3).filter(|n| is_secret_like(n)) {
                    push(
                        SiteKind::Env,
                        format!("{}!({name:?})", String::from_utf8_lossy(w)),
                        line,
                    );
                }
            }
            (w, Some(_)) if is_network_crate(&String::from_utf8_lossy(w)) => push(
                SiteKind::Network,
                format!("{}::", String::from_utf8_lossy(w)),
                line,
            ),
            _ => {}
        }
    }
    out
}

/// The text of a plain or raw string literal token, without quotes; escapes are left as written
/// (names of environment variables have none).
fn string_value(token: &[u8]) -> String {
    let text = String::from_utf8_lossy(token);
    let start = text.find('"').map_or(0, |i| i + 1);
    let end = text.rfind('"').unwrap_or(text.len());
    text.get(start..end.max(start))
        .unwrap_or_default()
        .to_owned()
}
