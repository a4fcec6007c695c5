//! Resource limits of a real `audit-registry serve` process on loopback, attacked as issue 15
//! found it: slow headers, idle keep-alive connections, stalled bodies, connection floods and
//! many large stalled bodies. Every wait is bounded; no assertion depends on how fast the
//! machine is (the server runs with 1 s timeouts and the tests allow 30 s or more).

use std::io::{BufRead as _, BufReader, ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a test waits for the server to close a connection it should close (the server's
/// own limit is 1 or 2 s): generous, for a loaded machine.
const CLOSE_BOUND: Duration = Duration::from_secs(45);

struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = format!("sqlite://{}", dir.path().join("registry.db").display());
        let mut child = Command::new(env!("CARGO_BIN_EXE_audit-registry"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db", &db])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start audit-registry");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .trim()
            .trim_start_matches("listening on http://")
            .parse()
            .unwrap_or_else(|e| panic!("`{line}`: {e}"));
        Server {
            child,
            addr,
            _dir: dir,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream
            .set_write_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream
    }

    /// A connection that has sent half a request head and then stalls.
    fn half_head(&self) -> TcpStream {
        let mut stream = self.connect();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: registry\r\n")
            .expect("send half a head");
        stream
    }

    /// `GET path` over a fresh connection; the status and the body.
    fn get(&self, path: &str) -> (u16, String) {
        exchange(self.connect(), path)
    }

    /// The server's peak resident memory so far, in bytes (`VmHWM`).
    fn peak_memory(&self) -> u64 {
        memory_field(self.child.id(), "VmHWM:")
    }

    fn current_memory(&self) -> u64 {
        memory_field(self.child.id(), "VmRSS:")
    }

    /// The value of one counter of `GET /metrics`.
    fn metric(&self, name: &str) -> u64 {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200, "{text}");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn memory_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    kib * 1024
}

/// Sends `GET path` with `Connection: close` and reads the answer to its end.
fn exchange(mut stream: TcpStream, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: registry\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let answer = String::from_utf8_lossy(&read_until_closed(&mut stream)).into_owned();
    (status_of(&answer), body_of(&answer).to_owned())
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn body_of(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// Reads until the server closes the connection (end of file or a reset) and returns what it
/// sent; panics if the connection is still open after [`CLOSE_BOUND`].
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return received,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset is the server closing a connection whose request it did not read.
            Err(_) => return received,
        }
        assert!(
            started.elapsed() < CLOSE_BOUND,
            "the server kept the connection open for {CLOSE_BOUND:?}; it sent {:?}",
            String::from_utf8_lossy(&received)
        );
    }
}

/// Reads one answer with a `Content-Length` without waiting for the connection to close.
fn read_one_answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("content-length");
            if body.len() >= length {
                return text;
            }
        }
        let n = stream.read(&mut buf).expect("an answer");
        assert!(n > 0, "closed before the answer ended: {text}");
        received.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn slow_heads_and_idle_keep_alive_connections_are_closed() {
    let server = Server::start(&["--header-timeout", "1"]);

    let mut slow = server.half_head();
    let sent = read_until_closed(&mut slow);
    let sent = String::from_utf8_lossy(&sent);
    assert!(
        sent.is_empty() || sent.starts_with("HTTP/1.1 408"),
        "a half-sent head gets nothing or a 408: {sent}"
    );

    // One byte at a time keeps bytes flowing, but the head must be complete in time.
    let mut trickle = server.connect();
    let head = b"GET /health HTTP/1.1\r\nHost: registry\r\nX-Pad: ".to_vec();
    let mut closed = false;
    for byte in head.iter().chain(std::iter::repeat(&b'a')).take(300) {
        if trickle.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(closed, "a head trickled for 45 s was still being read");

    let mut idle = server.connect();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: registry\r\n\r\n")
        .expect("send");
    let answer = read_one_answer(&mut idle);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let after = read_until_closed(&mut idle);
    assert!(after.is_empty(), "{}", String::from_utf8_lossy(&after));
}

#[test]
fn stalled_and_oversized_bodies_are_refused() {
    let server = Server::start(&["--body-timeout", "1"]);

    let mut stalled = server.connect();
    let head = "POST /v1/publish HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\nContent-Length: 8388607\r\n\r\n";
    stalled.write_all(head.as_bytes()).expect("send head");
    stalled
        .write_all(&[b' '; 1024])
        .expect("send a little body");
    let answer = String::from_utf8_lossy(&read_until_closed(&mut stalled)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(body_of(&answer).contains("body-timeout"), "{answer}");

    // Refused from its Content-Length, before a byte of the body is sent.
    let mut large = server.connect();
    let head = "POST /v1/publish HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\nContent-Length: 9437184\r\n\r\n";
    large.write_all(head.as_bytes()).expect("send head");
    let answer = read_one_answer(&mut large);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(body_of(&answer).contains("body-too-large"), "{answer}");

    let (status, _) = server.get("/health");
    assert_eq!(status, 200);
}

#[test]
fn a_connection_flood_is_shed_and_health_still_answers() {
    let server = Server::start(&["--max-connections", "8", "--header-timeout", "600"]);
    // The accept queue is first in, first out: these eight take every normal slot.
    let holding: Vec<TcpStream> = (0..8).map(|_| server.half_head()).collect();

    let (status, body) = server.get("/v1/auditors");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("overloaded"), "{body}");
    let (status, body) = server.get("/health");
    assert_eq!(status, 200, "health answers while saturated: {body}");

    // More stalled heads than there are shed slots: every one is closed, none held.
    let mut flood: Vec<TcpStream> = (0..48).map(|_| server.half_head()).collect();
    for stream in &mut flood {
        let sent = String::from_utf8_lossy(&read_until_closed(stream)).into_owned();
        assert!(
            sent.is_empty() || sent.starts_with("HTTP/1.1 503") || sent.starts_with("HTTP/1.1 408"),
            "{sent}"
        );
    }
    drop(flood);
    let mut health = 0;
    for _ in 0..60 {
        health = server.get("/health").0;
        if health == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(health, 200, "health answers once the flood is closed");
    drop(holding);
}

#[test]
fn one_client_cannot_hold_every_connection() {
    let server = Server::start(&["--max-connections-per-ip", "4", "--header-timeout", "600"]);
    let _holding: Vec<TcpStream> = (0..4).map(|_| server.half_head()).collect();

    let (status, _) = exchange(server.connect(), "/health");
    assert!(
        status == 503 || status == 0,
        "a fifth connection from the same address is refused (got {status})"
    );

    let other = connect_from("127.0.0.2", server.addr);
    let (status, body) = exchange(other, "/health");
    assert_eq!(status, 200, "another address is served: {body}");
}

/// A connection from a chosen loopback address (all of 127.0.0.0/8 is local on Linux).
fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        let source: SocketAddr = format!("{source}:0").parse().expect("address");
        socket.bind(source).expect("bind the source address");
        socket.connect(to).await.expect("connect")
    });
    let stream = stream.into_std().expect("std stream");
    stream.set_nonblocking(false).expect("blocking");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
}

#[test]
fn many_stalled_large_bodies_hold_at_most_the_body_budget() {
    const CONNECTIONS: usize = 40;
    const SENT: usize = 6 * 1024 * 1024;
    let server = Server::start(&["--body-timeout", "600"]);
    let before = server.current_memory();

    let head = format!(
        "POST /v1/publish HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        8 * 1024 * 1024 - 1
    );
    let chunk = vec![b' '; 64 * 1024];
    let mut open = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut stream = server.connect();
        // A refused body ends in a write error (the server answered 503 and closed).
        let sent = stream.write_all(head.as_bytes()).is_ok()
            && (0..SENT / chunk.len()).all(|_| stream.write_all(&chunk).is_ok());
        if sent {
            open.push(stream);
        }
    }
    // Every request has reached its handler once all but the budget's share were refused
    // (64 MiB holds eight bodies of 8 MiB).
    let mut refused = 0;
    for _ in 0..60 {
        refused = server.metric("audit_registry_bodies_refused_busy_total");
        if refused >= (CONNECTIONS - 8) as u64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(refused >= (CONNECTIONS - 8) as u64, "refused {refused}");
    let (status, _) = server.get("/health");
    assert_eq!(status, 200);

    let grew = server.peak_memory().saturating_sub(before);
    let unbounded = (CONNECTIONS * SENT) as u64;
    eprintln!(
        "resident memory: {} MiB at start, peak grew by {} MiB; {} of {CONNECTIONS} bodies refused busy",
        before / (1024 * 1024),
        grew / (1024 * 1024),
        refused
    );
    assert!(
        grew < 128 * 1024 * 1024,
        "the server grew by {} MiB for {CONNECTIONS} stalled bodies ({} MiB sent in all); the body budget is 64 MiB",
        grew / (1024 * 1024),
        unbounded / (1024 * 1024)
    );
    drop(open);
}
