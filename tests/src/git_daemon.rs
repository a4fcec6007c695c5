//! A real `git daemon` on a loopback port, serving the repositories under one folder over the
//! `git://` protocol (the smart protocol https and ssh speak too, without TLS or keys).
//!
//! The test owns the listening socket (port 0, so no port can clash) and hands each accepted
//! connection to `git daemon --inetd`, pumping bytes between the two. That is also how a broken
//! server is made: after [`GitDaemon::cut_after`], every new connection is closed once that many
//! bytes were sent to the client, the way a network or a killed server interrupts a fetch.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::git_command;

/// Serves `git://127.0.0.1:PORT/NAME` for every repository `ROOT/NAME`; stops when dropped.
#[derive(Debug)]
pub struct GitDaemon {
    port: u16,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    /// Bytes after which new connections are cut; `usize::MAX`: never.
    cut: Arc<AtomicUsize>,
    children: Arc<Mutex<Vec<Child>>>,
}

impl GitDaemon {
    /// From now on, closes each new connection after `bytes` bytes went to the client
    /// (`None`: serve whole again).
    pub fn cut_after(&self, bytes: Option<usize>) {
        self.cut
            .store(bytes.unwrap_or(usize::MAX), Ordering::SeqCst);
    }

    /// Serves every repository under `root`.
    pub fn serve(root: &Path) -> GitDaemon {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let daemon = GitDaemon {
            port,
            stop: Arc::new(AtomicBool::new(false)),
            connections: Arc::new(AtomicUsize::new(0)),
            cut: Arc::new(AtomicUsize::new(usize::MAX)),
            children: Arc::new(Mutex::new(Vec::new())),
        };
        let (stop, connections, cut, children) = (
            Arc::clone(&daemon.stop),
            Arc::clone(&daemon.connections),
            Arc::clone(&daemon.cut),
            Arc::clone(&daemon.children),
        );
        let root = root.to_path_buf();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                connections.fetch_add(1, Ordering::SeqCst);
                serve_one(stream, &root, cut.load(Ordering::SeqCst), &children);
            }
        });
        daemon
    }

    /// `git://127.0.0.1:PORT/name`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Ok(mut children) = self.children.lock() {
            for child in children.iter_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Starts `git daemon --inetd` for one connection and pumps bytes both ways.
fn serve_one(stream: TcpStream, root: &Path, cut: usize, children: &Mutex<Vec<Child>>) {
    let base: PathBuf = root.to_path_buf();
    let spawned = git_command(root)
        .args(["daemon", "--inetd", "--export-all", "--informative-errors"])
        .arg(format!("--base-path={}", base.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = spawned else {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    };
    let (Some(mut to_daemon), Some(mut from_daemon)) = (child.stdin.take(), child.stdout.take())
    else {
        return;
    };
    let Ok(mut reader) = stream.try_clone() else {
        return;
    };
    let mut writer = stream;
    if let Ok(mut list) = children.lock() {
        list.push(child);
    }
    // Plain reads and writes: `io::copy` from a socket to a pipe uses splice(2), which waits
    // for more than the client's small request.
    thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            match reader.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to_daemon.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    });
    thread::spawn(move || {
        let mut budget = cut;
        let mut buffer = [0u8; 8192];
        loop {
            let n = match from_daemon.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let n = n.min(budget);
            if writer.write_all(&buffer[..n]).is_err() {
                break;
            }
            budget -= n;
            if budget == 0 {
                break;
            }
        }
        let _ = writer.shutdown(Shutdown::Both);
    });
}
