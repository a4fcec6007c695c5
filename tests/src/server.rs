//! A minimal HTTP/1.1 static file server on a loopback port.
//!
//! End-to-end tests must not reach the internet, so everything cargo (or our binaries) would
//! fetch from crates.io is served from memory here. Files can be added or replaced while it runs
//! (to serve a tampered `.crate`, a yanked index line, ...), and every request is recorded so
//! tests can assert on what was (not) downloaded.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Largest request head we accept; cargo's requests are well under 1 KiB.
const MAX_HEAD: usize = 64 * 1024;
/// A client that stalls must not keep a connection thread alive for the whole test run.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// The path without the query string, e.g. `/index/le/af/leafy`.
    pub path: String,
    pub status: u16,
    /// The bytes of body sent (what a range request saves shows here).
    pub body_bytes: usize,
}

#[derive(Default)]
struct State {
    files: Mutex<HashMap<String, Vec<u8>>>,
    log: Mutex<Vec<RequestRecord>>,
    /// Serve further requests on a connection instead of closing it after one.
    keep_alive: AtomicBool,
    /// How long each answer is held back, in milliseconds.
    delay_ms: AtomicU64,
    connections: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A panicking test thread must not turn every later lock into a second, confusing panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves `path -> bytes` over HTTP on `127.0.0.1:<ephemeral>` until dropped.
pub struct StaticServer {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for StaticServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl StaticServer {
    /// Binds an ephemeral loopback port and starts serving (initially nothing: every path is 404).
    pub fn start() -> StaticServer {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 for the test server");
        let addr = listener
            .local_addr()
            .expect("local_addr of the test server");
        let state = Arc::new(State::default());
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::Builder::new()
                .name(format!("static-server-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &state, &stop))
                .expect("spawn the test server thread")
        };
        StaticServer {
            addr,
            state,
            stop,
            acceptor: Some(acceptor),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds or replaces the file served at `path` (must start with `/`).
    pub fn put(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        assert!(
            path.starts_with('/'),
            "server paths start with '/': {path:?}"
        );
        lock(&self.state.files).insert(path.to_owned(), bytes.into());
    }

    /// Stops serving `path` (it becomes 404). Returns the old contents.
    pub fn remove(&self, path: &str) -> Option<Vec<u8>> {
        lock(&self.state.files).remove(path)
    }

    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        lock(&self.state.files).get(path).cloned()
    }

    /// Edits a file in place under the lock, so concurrent appends (e.g. index lines) are not lost.
    pub fn update(&self, path: &str, f: impl FnOnce(&mut Vec<u8>)) {
        f(lock(&self.state.files).entry(path.to_owned()).or_default());
    }

    /// How many requests (any method, any status, including 304 and 404) `path` received.
    pub fn request_count(&self, path: &str) -> usize {
        lock(&self.state.log)
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.state.log).clone()
    }

    /// Forgets the request log, e.g. between a first and a second run.
    pub fn reset_requests(&self) {
        lock(&self.state.log).clear();
    }

    /// Keeps connections open for further requests (HTTP/1.1 keep-alive, as crates.io's CDN
    /// does) instead of closing each after one answer. Requests on one connection are answered
    /// in turn; pipelined requests are not supported.
    pub fn set_keep_alive(&self, on: bool) {
        self.state.keep_alive.store(on, Ordering::SeqCst);
    }

    /// Holds every answer back for `delay`, so that requests a client runs in parallel are seen
    /// in flight together (a stand-in for network latency).
    pub fn set_response_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at the same moment.
    pub fn max_concurrent_requests(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // `accept` blocks; one throwaway connection wakes it up so it sees the flag and exits.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else { continue };
        state.connections.fetch_add(1, Ordering::SeqCst);
        let state = Arc::clone(state);
        // Connection threads are detached: each serves one request (or, with keep-alive, requests
        // until the client closes) and closes (or times out).
        let _ = std::thread::Builder::new()
            .name("static-server-conn".into())
            .spawn(move || {
                let mut reader = &stream;
                while let Ok(true) = handle_request(&mut reader, &state) {}
            });
    }
}

/// Answers one request; `Ok(true)` when the connection stays open for another.
fn handle_request(stream: &mut &TcpStream, state: &State) -> std::io::Result<bool> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let Some((head, leftover)) = read_head(stream)? else {
        return Ok(false);
    };
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        std::thread::sleep(Duration::from_millis(delay));
    }
    let keep_alive = state.keep_alive.load(Ordering::SeqCst);
    let answered = answer(stream, state, &head, leftover, keep_alive);
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    answered.map(|()| keep_alive)
}

fn answer(
    stream: &mut &TcpStream,
    state: &State,
    head: &str,
    mut leftover: Vec<u8>,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return respond(stream, 400, &[], b"bad request line\n", true, false);
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    // Drain any request body so closing the socket does not reset the connection before the client
    // has read our response (a close with unread input sends RST on Linux).
    let body_len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if body_len > leftover.len() && body_len <= MAX_HEAD * 16 {
        let mut rest = vec![0; body_len - leftover.len()];
        stream.read_exact(&mut rest)?;
        leftover.extend(rest);
    }

    let path = target
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let file = lock(&state.files).get(&path).cloned();
    let mut range = None;
    let (status, etag, body) = match (method, file) {
        ("GET" | "HEAD", Some(bytes)) => {
            // An ETag lets cargo revalidate its sparse index cache (304) as with crates.io.
            let etag = format!("\"{}\"", &hex(&Sha256::digest(&bytes))[..16]);
            let fresh =
                header("if-none-match").is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
            // `Range: bytes=N-` (the only form clients here send), as web servers and CDNs
            // answer it: 206 with the bytes from N, 416 past the end.
            let from = header("range")
                .and_then(|v| v.strip_prefix("bytes="))
                .and_then(|v| v.strip_suffix('-'))
                .and_then(|v| v.parse::<usize>().ok());
            if fresh {
                (304, Some(etag), Vec::new())
            } else if let Some(from) = from {
                if from < bytes.len() {
                    range = Some(format!("bytes {from}-{}/{}", bytes.len() - 1, bytes.len()));
                    (206, Some(etag), bytes[from..].to_vec())
                } else {
                    (416, None, Vec::new())
                }
            } else {
                (200, Some(etag), bytes)
            }
        }
        ("GET" | "HEAD", None) => (404, None, b"not found\n".to_vec()),
        // A canned answer to any POST of a path that holds one: how a test plays a hostile
        // registry that serves what it likes to `POST /v1/sync`.
        ("POST", Some(bytes)) => (200, None, bytes),
        _ => (405, None, b"only GET and HEAD\n".to_vec()),
    };
    lock(&state.log).push(RequestRecord {
        method: method.to_owned(),
        path: path.clone(),
        status,
        body_bytes: if method == "HEAD" { 0 } else { body.len() },
    });

    let mut extra = vec![("Content-Type", content_type(&path).to_owned())];
    if let Some(etag) = etag {
        extra.push(("ETag", etag));
    }
    if let Some(range) = range {
        extra.push(("Content-Range", range));
    }
    respond(stream, status, &extra, &body, method != "HEAD", keep_alive)
}

/// Reads up to the blank line ending the request head. `None` when the client sent nothing
/// (e.g. the wake-up connection from `Drop`).
fn read_head(stream: &mut &TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Ok(Some((head, buf[end + 4..].to_vec())));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        match stream.read(&mut chunk)? {
            0 => return Ok(None),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn respond(
    stream: &mut &TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
    send_body: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        304 => "Not Modified",
        416 => "Range Not Satisfiable",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Unknown",
    };
    // Always identity encoding, and `Connection: close` unless a test turned keep-alive on: one
    // request per connection keeps this server trivially correct.
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: {connection}\r\n");
    if status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if send_body && status != 304 {
        stream.write_all(body)?;
    }
    stream.flush()?;
    if keep_alive {
        return Ok(());
    }
    stream.shutdown(Shutdown::Write)
}

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".json") {
        "application/json"
    } else {
        "application/octet-stream"
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
