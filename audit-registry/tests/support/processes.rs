//! Real `audit-registry` processes on loopback for the tests that need several (a registry and
//! its witnesses, a registry and a copy of it): start, a minimal HTTP client, publish.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use audit_trust_core::signoff::{SignedHead, SignedRecord};
use audit_trust_core::tlog::{Checkpoint, SignedNote};

use super::{NOW, listening_address, publish_body};

pub const BIN: &str = env!("CARGO_BIN_EXE_audit-registry");

/// A child process killed when dropped.
pub struct Process(pub Child, pub String);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start(args: &[&str]) -> Process {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start audit-registry");
    let addr = listening_address(&mut child);
    Process(child, addr)
}

pub fn sqlite(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

pub fn serve(db: &Path, listen: &str, witness: Option<&str>) -> Process {
    let db = sqlite(db);
    let mut args = vec!["serve", "--listen", listen, "--db", &db, "--now", NOW];
    if let Some(w) = witness {
        args.extend(["--witness", w]);
    }
    start(&args)
}

/// A minimal HTTP/1.1 exchange; returns the status, the content type and the body.
pub fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

pub fn publish(addr: &str, records: &[&SignedRecord], head: &SignedHead) {
    let body = publish_body(records, head).to_string();
    let (status, _, answer) = http(addr, "POST", "/v1/publish", &body);
    assert_eq!(status, 200, "{answer}");
}

pub fn checkpoint(addr: &str) -> String {
    let (status, _, note) = http(addr, "GET", "/v1/log/checkpoint", "");
    assert_eq!(status, 200, "{note}");
    note
}

pub fn copy_database(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy database");
    for suffix in ["-wal", "-shm"] {
        let src = format!("{}{suffix}", from.display());
        if Path::new(&src).exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).expect("copy wal");
        }
    }
}

/// The size a checkpoint note states.
pub fn size_of(note: &str) -> u64 {
    let note = SignedNote::parse(note).expect("note");
    Checkpoint::parse_body(&note.body).expect("checkpoint").size
}
