//! A real `audit-registry serve --worker` on a loopback port, a minimal HTTP client for its API,
//! a crate released from a real git repository into a [`LocalRegistry`], and a loopback proxy
//! that can be switched off to make the index unreachable.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use audit_trust_e2e::{GitRepo, LocalRegistry, Published, RegistryProcess, cli_command};
use serde_json::Value;

/// The repository the crate names and the watch list pins; the registry fetches it from the
/// local git repository through `--git-rewrite`, as an organization would from its mirror.
pub const GENUINE: &str = "https://git.example/popular/popular";

pub fn release(repo: &GitRepo, reg: &LocalRegistry, version: &str) -> Published {
    repo.write(
        "Cargo.toml",
        format!(
            "[package]\nname = \"popular\"\nversion = \"{version}\"\nedition = \"2021\"\n\
             license = \"MIT\"\nrepository = \"{GENUINE}\"\n"
        ),
    );
    repo.write(
        "src/lib.rs",
        format!("pub fn version() -> &'static str {{\n    \"{version}\"\n}}\n"),
    );
    repo.commit_all(&format!("release {version}"));
    reg.publish_manifest(&repo.path().join("Cargo.toml"), &[])
}

/// Serves a tampered copy of a published version: other bytes, and the index line's checksum
/// changed to match them (as an attacker with publish rights would do).
pub fn tamper(reg: &LocalRegistry, published: &Published) {
    let bytes = audit_trust_e2e::tamper_crate(
        &published.crate_bytes,
        "src/lib.rs",
        "pub fn version() -> &'static str { std::env!(\"HOME\") }\n",
    );
    let checksum = audit_trust_e2e::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    reg.server()
        .update(&LocalRegistry::index_file_path(&published.name), |file| {
            let text = String::from_utf8_lossy(file).replace(&published.checksum_hex, &checksum);
            *file = text.into_bytes();
        });
    reg.replace_file(
        &LocalRegistry::download_path(&published.name, &published.version),
        bytes,
    );
}

/// The service key: a real key file made by `cargo audit-trust key new`.
pub fn new_key(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("service.key");
    let out = cli_command(&dir.join("cargo-home"))
        .env("HOME", dir)
        .args(["key", "new", "--out"])
        .arg(&path)
        .output()
        .expect("run cargo-audit-trust key new");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (path, String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn admin_token(db: &str) -> String {
    audit_trust_e2e::admin_token(db, "tests")
}

/// How to start a registry with its worker.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub db: String,
    pub key: PathBuf,
    pub index_url: String,
    pub mirrors: Vec<String>,
    pub rewrite: String,
    pub git_cache: PathBuf,
    pub hold_job_secs: u64,
    pub lease_secs: u64,
}

/// A running `audit-registry serve --worker`, killed (SIGKILL) when dropped.
pub struct Server {
    process: RegistryProcess,
    pub url: String,
}

impl Server {
    pub fn start(config: &ServerConfig) -> Server {
        let (lease, hold) = (
            config.lease_secs.to_string(),
            config.hold_job_secs.to_string(),
        );
        // Crate files read for risk signals: beside the git cache, inside the test's temp dir.
        let crate_cache = config.git_cache.with_extension("crates");
        let mut options: Vec<&str> = vec![
            "--rate-per-minute",
            "0",
            "--worker",
            "--signing-key",
            path_text(&config.key),
            "--index",
            &config.index_url,
            "--git-rewrite",
            &config.rewrite,
            "--poll-interval",
            "1",
            "--lease-secs",
            &lease,
            "--max-attempts",
            "10",
            "--git-cache",
            path_text(&config.git_cache),
            "--test-hold-job-secs",
            &hold,
            "--crate-cache",
            path_text(&crate_cache),
        ];
        for mirror in &config.mirrors {
            options.extend(["--mirror", mirror]);
        }
        let process = RegistryProcess::serve(&config.db, &options);
        Server {
            url: process.url.clone(),
            process,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        request(&self.url, "GET", path, token, None)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        request(&self.url, "POST", path, Some(token), Some(body))
    }

    pub fn watch(&self, token: &str, name: &str, repository: &str) {
        let body = serde_json::json!({ "crates": [{ "name": name, "repository": repository }] });
        let (status, answer) = self.post("/v1/admin/watch", token, &body);
        assert_eq!(status, 200, "{answer}");
    }

    /// The verification of `name@version`, once there is one.
    pub fn wait_verification(&self, name: &str, version: &str) -> Value {
        wait_for(&format!("a verification of {name}@{version}"), || {
            let (_, body) = self.get(&format!("/v1/verifications/{name}"), None);
            body["verifications"]
                .as_array()?
                .iter()
                .find(|v| v["version"] == version)
                .cloned()
        })
    }

    /// The records of `name` served by `GET /v1/crates/{name}`.
    pub fn records(&self, name: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/v1/crates/{name}"), None);
        assert_eq!(status, 200, "{body}");
        body["records"].as_array().cloned().unwrap_or_default()
    }

    /// Stops the server at once (SIGKILL), as a crash would.
    pub fn kill(self) {
        self.process.kill();
    }
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Polls `check` every 200 ms for up to two minutes (generous for a loaded machine; the test
/// asserts what happens, never how fast).
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One HTTP/1.1 request with `Connection: close`; the JSON answer (`Null` if none).
pub fn request(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let (status, text) = request_text(base, method, path, token, body);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// One HTTP/1.1 request with `Connection: close`; the status and the body as text.
pub fn request_text(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to the registry");
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    stream.write_all(body.as_bytes()).expect("send body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A loopback TCP proxy to `target` that can be switched off: while off, it accepts and at once
/// closes every connection, as a network failure would.
pub struct SwitchProxy {
    pub port: u16,
    up: Arc<AtomicBool>,
}

impl SwitchProxy {
    pub fn start(target: std::net::SocketAddr, up: bool) -> SwitchProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("addr").port();
        let flag = Arc::new(AtomicBool::new(up));
        let state = Arc::clone(&flag);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !state.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                pipe(&client, &server);
            }
        });
        SwitchProxy { port, up: flag }
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}

fn pipe(client: &TcpStream, server: &TcpStream) {
    for (from, to) in [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ] {
        let (Ok(mut from), Ok(mut to)) = (from, to) else {
            return;
        };
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    }
}
