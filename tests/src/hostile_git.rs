//! A fake of a hostile git host: one repository served over the `git://` protocol on a loopback
//! port, by a real `git upload-pack` whose conversation with the client is rewritten on the way
//! to tell one [`Lie`]. It stands in for a compromised or broken forge, which this machine cannot
//! reach; everything the client receives is still well-formed git protocol, so the lie reaches
//! the code that has to catch it.
//!
//! The protocol is git's original one (v0: libgit2 speaks no other): the server advertises its
//! refs, the client sends `want` lines (with `deepen N` for a shallow fetch) and a flush, the
//! server answers a shallow fetch with `shallow`/`unshallow` lines and a flush, then, after the
//! client's `have` lines and `done`, `NAK` and the pack (in side-band packets when asked).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::git_command;

/// What the fake host lies about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lie {
    /// Tells the truth (the real `upload-pack`'s answers, unchanged).
    None,
    /// Sends every fetch one commit deep whatever depth was asked, and no `shallow` lines: the
    /// client is told it has whole histories when it has only their tips.
    HidesShallowBoundary,
    /// Answers a `want` of `asked` with the objects of `instead`: the refs are advertised
    /// truthfully, but the pack lacks the commit they point at.
    SwapsWant { asked: String, instead: String },
    /// Negotiates truthfully, then sends a pack that never ends: a header that promises a
    /// million objects, then distinct valid objects for as long as the client reads.
    EndlessPack,
}

/// Serves `git://127.0.0.1:PORT/repo` from one repository, telling the lie set last; stops
/// when dropped.
#[derive(Debug)]
pub struct HostileGitServer {
    port: u16,
    stop: Arc<AtomicBool>,
    lie: Arc<Mutex<Lie>>,
    children: Arc<Mutex<Vec<Child>>>,
}

impl HostileGitServer {
    /// Serves the repository at `repo` (a work tree or a bare repository), truthfully until
    /// [`HostileGitServer::lie`] is called.
    pub fn serve(repo: &Path) -> HostileGitServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let server = HostileGitServer {
            port,
            stop: Arc::new(AtomicBool::new(false)),
            lie: Arc::new(Mutex::new(Lie::None)),
            children: Arc::new(Mutex::new(Vec::new())),
        };
        let (stop, lie, children) = (
            Arc::clone(&server.stop),
            Arc::clone(&server.lie),
            Arc::clone(&server.children),
        );
        let repo = repo.to_path_buf();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let lie = lie.lock().map(|l| l.clone()).unwrap_or(Lie::None);
                serve_one(stream, &repo, lie, &children);
            }
        });
        server
    }

    /// From the next connection on, tells `lie` (`Lie::None`: the truth again).
    pub fn lie(&self, lie: Lie) {
        if let Ok(mut current) = self.lie.lock() {
            *current = lie;
        }
    }

    /// `git://127.0.0.1:PORT/repo`.
    pub fn url(&self) -> String {
        format!("git://127.0.0.1:{}/repo", self.port)
    }
}

impl Drop for HostileGitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Ok(mut children) = self.children.lock() {
            for child in children.iter_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// One packet line: `Some(payload)`, or `None` for a flush packet (`0000`).
type Packet = Option<Vec<u8>>;

fn read_packet(from: &mut impl Read) -> io::Result<Packet> {
    let mut length = [0u8; 4];
    from.read_exact(&mut length)?;
    let length = std::str::from_utf8(&length)
        .ok()
        .and_then(|hex| usize::from_str_radix(hex, 16).ok())
        .ok_or_else(|| io::Error::other("not a packet line"))?;
    if length < 4 {
        return Ok(None);
    }
    let mut payload = vec![0u8; length - 4];
    from.read_exact(&mut payload)?;
    Ok(Some(payload))
}

fn write_packet(to: &mut impl Write, packet: &Packet) -> io::Result<()> {
    match packet {
        None => to.write_all(b"0000"),
        Some(payload) => {
            to.write_all(format!("{:04x}", payload.len() + 4).as_bytes())?;
            to.write_all(payload)
        }
    }
}

/// What the client asked for, sent from the request side to the answering side.
struct Request {
    /// The client sent `deepen` (it expects shallow lines and a flush).
    deepened: bool,
    /// `deepen 1` was added by the lie (the client expects no shallow section at all).
    injected: bool,
    /// The pack comes in side-band packets.
    sideband: bool,
}

/// Reads the client's `git://` request line, starts `git upload-pack` on the repository, and
/// pumps the conversation both ways through the lie.
fn serve_one(mut stream: TcpStream, repo: &Path, lie: Lie, children: &Mutex<Vec<Child>>) {
    // `git-upload-pack /repo\0host=…\0`: there is one repository, whatever the path.
    if read_packet(&mut stream).is_err() {
        return;
    }
    let spawned = git_command(repo)
        .args(["-c", "uploadpack.allowAnySHA1InWant=true", "upload-pack"])
        .arg(repo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = spawned else {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    };
    let (Some(to_server), Some(from_server)) = (child.stdin.take(), child.stdout.take()) else {
        return;
    };
    let Ok(client_in) = stream.try_clone() else {
        return;
    };
    if let Ok(mut list) = children.lock() {
        list.push(child);
    }
    let (tx, rx) = mpsc::channel();
    let request_lie = lie.clone();
    thread::spawn(move || {
        let _ = relay_request(client_in, to_server, &request_lie, &tx);
    });
    let _ = relay_answer(from_server, &stream, &lie, &rx);
    let _ = stream.shutdown(Shutdown::Both);
}

/// Client → server: the wants section rewritten by the lie, then the rest as it comes.
fn relay_request(
    mut client: TcpStream,
    mut server: ChildStdin,
    lie: &Lie,
    told: &Sender<Request>,
) -> io::Result<()> {
    let mut request = Request {
        deepened: false,
        injected: false,
        sideband: false,
    };
    let mut wants = 0;
    loop {
        let mut packet = read_packet(&mut client)?;
        let Some(payload) = &packet else {
            if wants > 0 && !request.deepened && *lie == Lie::HidesShallowBoundary {
                write_packet(&mut server, &Some(b"deepen 1\n".to_vec()))?;
                request.injected = true;
                request.deepened = true;
            }
            write_packet(&mut server, &None)?;
            break;
        };
        let text = String::from_utf8_lossy(payload).into_owned();
        if text.starts_with("want ") {
            wants += 1;
            request.sideband |= text.contains("side-band");
            if let Lie::SwapsWant { asked, instead } = lie {
                packet = Some(text.replacen(asked.as_str(), instead, 1).into_bytes());
            }
        } else if text.starts_with("deepen") {
            request.deepened = true;
            if *lie == Lie::HidesShallowBoundary {
                packet = Some(b"deepen 1\n".to_vec());
            }
        }
        write_packet(&mut server, &packet)?;
    }
    let _ = told.send(request);
    server.flush()?;
    // The `have` lines and `done`, unchanged.
    let mut buffer = [0u8; 8192];
    loop {
        match client.read(&mut buffer)? {
            0 => return Ok(()),
            n => {
                server.write_all(&buffer[..n])?;
                server.flush()?;
            }
        }
    }
}

/// Server → client: the advertisement, the shallow section and the pack, through the lie.
fn relay_answer(
    mut server: ChildStdout,
    mut client: &TcpStream,
    lie: &Lie,
    told: &Receiver<Request>,
) -> io::Result<()> {
    // The advertisement, unchanged.
    loop {
        let packet = read_packet(&mut server)?;
        write_packet(&mut client, &packet)?;
        if packet.is_none() {
            break;
        }
    }
    let Ok(request) = told.recv() else {
        return Ok(());
    };
    if request.deepened {
        loop {
            let packet = read_packet(&mut server)?;
            let hidden = *lie == Lie::HidesShallowBoundary
                && match &packet {
                    Some(line) => line.starts_with(b"shallow ") || line.starts_with(b"unshallow "),
                    None => request.injected,
                };
            if !hidden {
                write_packet(&mut client, &packet)?;
            }
            if packet.is_none() {
                break;
            }
        }
    }
    if *lie == Lie::EndlessPack {
        // Negotiation as the server answers it, up to its last word before the pack.
        loop {
            let packet = read_packet(&mut server)?;
            write_packet(&mut client, &packet)?;
            if let Some(line) = &packet
                && (line.starts_with(b"NAK") || (line.starts_with(b"ACK ") && line.len() <= 45))
            {
                break;
            }
        }
        return endless_pack(client, request.sideband);
    }
    io::copy(&mut server, &mut client).map(|_| ())
}

/// A pack header promising a million objects, then distinct blobs until the client hangs up.
fn endless_pack(mut client: &TcpStream, sideband: bool) -> io::Result<()> {
    let mut send = |bytes: &[u8]| -> io::Result<()> {
        if sideband {
            let mut payload = vec![1u8];
            payload.extend_from_slice(bytes);
            write_packet(&mut client, &Some(payload))
        } else {
            client.write_all(bytes)
        }
    };
    let mut header = b"PACK".to_vec();
    header.extend_from_slice(&2u32.to_be_bytes());
    header.extend_from_slice(&1_000_000u32.to_be_bytes());
    send(&header)?;
    for n in 0u64.. {
        let mut chunk = Vec::with_capacity(16 * 1024);
        for m in 0..256 {
            chunk.extend_from_slice(&blob_entry(format!("endless blob {n}-{m}\n").as_bytes()));
        }
        send(&chunk)?;
    }
    Ok(())
}

/// One undeltified blob as a pack stores it: the type-and-size header, then the content as a
/// zlib stream of one stored (uncompressed) deflate block.
fn blob_entry(content: &[u8]) -> Vec<u8> {
    const BLOB: usize = 3;
    let mut entry = Vec::new();
    let mut size = content.len();
    let mut byte = (BLOB << 4) as u8 | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        entry.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    entry.push(byte);
    let length = u16::try_from(content.len()).expect("small blobs");
    entry.extend_from_slice(&[0x78, 0x01, 0x01]);
    entry.extend_from_slice(&length.to_le_bytes());
    entry.extend_from_slice(&(!length).to_le_bytes());
    entry.extend_from_slice(content);
    entry.extend_from_slice(&adler32(content).to_be_bytes());
    entry
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}
