//! The riskiest constructs of a Rust file, by line: `unsafe` anywhere, and in a build script
//! the calls that reach outside the build (spawning processes, the network, the environment).
//! It works on the core classifier's tokens, so `unsafe` in a comment or a string is never
//! marked, and it never panics on hostile bytes (the lexer does not).

use std::collections::BTreeMap;

use audit_trust_core::classify::lexer::{Lexer, TokenKind};

/// Why a line is marked; each has a one-letter sign, because meaning never rests on color.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    Unsafe,
    Process,
    Network,
    Env,
}

impl Risk {
    pub fn sign(self) -> char {
        match self {
            Risk::Unsafe => 'U',
            Risk::Process => 'P',
            Risk::Network => 'N',
            Risk::Env => 'E',
        }
    }
}

/// The legend shown with the code, so the signs need no memorizing.
pub const LEGEND: &str = "U unsafe P process N net E env";

/// Names that spawn a process, wherever they come from.
const PROCESS: &[&[u8]] = &[b"Command", b"spawn", b"exec", b"execvp", b"system"];
/// Names of the standard and common network APIs.
const NETWORK: &[&[u8]] = &[
    b"TcpStream",
    b"TcpListener",
    b"UdpSocket",
    b"ToSocketAddrs",
    b"reqwest",
    b"ureq",
    b"curl",
    b"hyper",
    b"attohttpc",
];
/// `env::…` functions that read the environment at build time.
const ENV_READS: &[&[u8]] = &[b"var", b"var_os", b"vars", b"vars_os"];

/// The marked lines (1-based) of `source`; the worst risk wins when a line has several.
pub fn risky_lines(source: &[u8], build_script: bool) -> BTreeMap<usize, Risk> {
    let mut marks = BTreeMap::new();
    let mut mark = |line: usize, risk: Risk| {
        let current = marks.entry(line).or_insert(risk);
        *current = (*current).min(risk);
    };
    // The last tokens' texts, to see `env::var` as one call across three tokens.
    let mut previous: [&[u8]; 3] = [b"", b"", b""];
    for token in Lexer::new(source) {
        let text = source.get(token.start..token.end).unwrap_or_default();
        if token.kind == TokenKind::Ident {
            if text == b"unsafe" {
                mark(token.line, Risk::Unsafe);
            } else if build_script {
                if PROCESS.contains(&text) {
                    mark(token.line, Risk::Process);
                } else if NETWORK.contains(&text) {
                    mark(token.line, Risk::Network);
                } else if ENV_READS.contains(&text) && previous == [&b"env"[..], b":", b":"] {
                    mark(token.line, Risk::Env);
                }
            }
        }
        previous = [previous[1], previous[2], text];
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::{Risk, risky_lines};

    #[test]
    fn unsafe_in_code_is_marked_but_not_in_comments_or_strings() {
        let source = b"// unsafe here is prose\nfn f() {\n    unsafe { g() }\n}\nconst S: &str = \"unsafe\";\n";
        let marks: Vec<(usize, Risk)> = risky_lines(source, false).into_iter().collect();
        assert_eq!(marks, [(3, Risk::Unsafe)]);
    }

    #[test]
    fn build_scripts_mark_processes_network_and_environment() {
        let source = b"use std::process::Command;\nfn main() {\n    let out = std::env::var(\"OUT_DIR\");\n    Command::new(\"sh\").status();\n    let s = std::net::TcpStream::connect(\"x:1\");\n    let v = var(\"not env\");\n}\n";
        let marks: Vec<(usize, Risk)> = risky_lines(source, true).into_iter().collect();
        assert_eq!(
            marks,
            [
                (1, Risk::Process),
                (3, Risk::Env),
                (4, Risk::Process),
                (5, Risk::Network)
            ]
        );
        assert!(
            risky_lines(source, false).is_empty(),
            "library code: only unsafe"
        );
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        let _ = risky_lines(b"\xff\xfe unsafe \"unterminated", true);
    }
}
