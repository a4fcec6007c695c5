//! The dashboard as a person sees it: a real `audit-registry serve` process, records published
//! over HTTP whose notes, reasons and report carry markup, and the page loaded in headless
//! Chromium (Debian's `chromium`; `.ci/run` installs it). `--dump-dom` prints the document after
//! any script would have run, so a script that ran would show in the title it rewrites.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use audit_registry::db::Db;
use audit_registry::notify::{self, Event, EventKind};
use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::{Record, SignedHead, SignedRecord, SigningKey, Statement, Subject};
use serde_json::json;
use support::*;

const SCRIPT_NOTE: &str = "<script>document.title='pwned'</script>";
const IMG_NOTE: &str = "<img src=x onerror=\"document.title='img-pwned'\">";

/// The server process, stopped when the test ends however it ends.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registry_binary() -> &'static str {
    env!("CARGO_BIN_EXE_audit-registry")
}

fn serve(db: &str) -> Server {
    let mut child = Command::new(registry_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db, "--now", NOW])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start audit-registry serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    Server { child, base }
}

fn flag(key: &SigningKey, name: &str, version: &str, reason: &str) -> SignedRecord {
    let record = Record {
        key: key.public_key(),
        created: now(),
        statement: Statement::Flag {
            subject: Subject::Crate {
                name: name.into(),
                version: version.parse().expect("version"),
                checksum: "cd".repeat(32),
            },
            reason: reason.into(),
            notes: Some(IMG_NOTE.into()),
        },
    };
    SignedRecord::sign(record, key).expect("valid")
}

fn with_notes(record: SignedRecord, key: &SigningKey, notes: &str) -> SignedRecord {
    let mut inner = record.record().clone();
    if let Statement::SignOff { notes: n, .. } = &mut inner.statement {
        *n = Some(notes.into());
    }
    SignedRecord::sign(inner, key).expect("valid")
}

/// The DOM of `url` after Chromium loaded it (and ran whatever scripts it would have run).
fn chromium_dom(url: &str) -> String {
    let output = chromium(&["--dump-dom"], url);
    String::from_utf8(output.stdout).expect("UTF-8 DOM")
}

/// Width and height of the screenshots the test takes (and `docs/service.md` shows).
const SHOT: (u32, u32) = (1100, 800);

/// A PNG screenshot of `url` at [`SHOT`] size, written to `path`.
fn chromium_screenshot(url: &str, path: &std::path::Path) {
    chromium(
        &[
            &format!("--screenshot={}", path.display()),
            &format!("--window-size={},{}", SHOT.0, SHOT.1),
            "--hide-scrollbars",
        ],
        url,
    );
}

fn chromium(extra: &[&str], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().expect("profile dir");
    let spawned = Command::new("chromium")
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.path().display()),
        ])
        .args(extra)
        .arg(url)
        .current_dir(profile.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "this test needs headless Chromium: install Debian's `chromium` package \
             (`apt-get install chromium`; `.ci/run` installs it when missing)"
        ),
        Err(e) => panic!("cannot run chromium: {e}"),
    };
    // Bounds a hang only; the test asserts no timing.
    let started = Instant::now();
    let id = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    while !waiter.is_finished() {
        if started.elapsed() > Duration::from_secs(180) {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("chromium did not finish loading {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = waiter.join().expect("waiter").expect("chromium output");
    assert!(output.status.success(), "chromium failed on {url}");
    output
}

fn title(dom: &str) -> &str {
    dom.split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map_or("", |(t, _)| t)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_hostile_records_as_text_and_runs_no_script() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let k = key();
    let added = Command::new(registry_binary())
        .args(["auditor", "add", "team<b>", "--key"])
        .arg(k.public_key().to_string())
        .args(["--db", &db_url])
        .output()
        .expect("auditor add");
    // Auditor names are restricted; a plain one it is.
    assert!(!added.status.success());
    let added = Command::new(registry_binary())
        .args(["auditor", "add", "team", "--key"])
        .arg(k.public_key().to_string())
        .args(["--db", &db_url])
        .output()
        .expect("auditor add");
    assert!(added.status.success(), "{added:?}");

    let server = serve(&db_url);
    let signed = with_notes(signoff(&k, "serde", "1.0.0"), &k, SCRIPT_NOTE);
    let flagged = flag(&k, "serde", "1.0.1", "<b>malware</b> in build.rs");
    let other = signoff(&k, "tokio", "1.0.0");
    let revoked = revocation(&k, &other);
    let records = [&signed, &flagged, &other, &revoked];
    let body = publish_body(&records, &head(&k, None, &records));
    let client = HttpClient::new(Duration::from_secs(30));
    let base = server.base.clone();
    let (status, answer) = tokio::task::spawn_blocking(move || {
        client.post_json(
            &format!("{base}/v1/publish"),
            body.to_string().into_bytes(),
            1 << 20,
        )
    })
    .await
    .expect("join")
    .expect("publish");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));

    // A failed verification, as the automatic auditor reports it, with a hostile file name.
    let db = Db::connect(&db_url).await.expect("db");
    notify::emit(
        &db,
        Event {
            kind: EventKind::VerificationFailed,
            crate_name: Some("serde".into()),
            record_id: None,
            data: json!({
                "version": "1.0.2",
                "report": "src/<script>document.title='report-pwned'</script>.rs differs from the repository",
            }),
        },
    )
    .await
    .expect("emit");

    let home = format!("{}/", server.base);
    let dom = tokio::task::spawn_blocking(move || chromium_dom(&home))
        .await
        .expect("join");
    assert_eq!(title(&dom), "audit-registry", "a script ran: {dom}");
    for section in [
        "auditors",
        "signoffs",
        "flags",
        "revocations",
        "queue",
        "failures",
    ] {
        assert!(
            dom.contains(&format!("<section id=\"{section}\">")),
            "{section}: {dom}"
        );
    }
    for heading in [
        "Auditors",
        "Recent sign-offs",
        "Flags",
        "Revocations",
        "Verification queue",
        "Failed verifications",
    ] {
        assert!(dom.contains(&format!("<h2>{heading}</h2>")), "{heading}");
    }
    // The markup is on the page as text (the DOM serializes text with `<` escaped), and no
    // element was made of it.
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{dom}"
    );
    assert!(
        dom.contains("&lt;img src=x onerror=\"document.title='img-pwned'\"&gt;"),
        "{dom}"
    );
    assert!(
        dom.contains("reason: &lt;b&gt;malware&lt;/b&gt; in build.rs"),
        "{dom}"
    );
    assert!(
        dom.contains("src/&lt;script&gt;document.title='report-pwned'&lt;/script&gt;.rs differs")
    );
    assert!(!dom.contains("<script"), "a script element: {dom}");
    assert!(!dom.contains("<img"), "an image element: {dom}");
    assert!(!dom.contains("<b>"), "markup from a record: {dom}");
    // What a person reads: the auditor, the crates, versions, kinds.
    assert!(
        dom.contains("<td><a href=\"/auditors/team\">team</a></td>"),
        "{dom}"
    );
    assert!(dom.contains(&k.public_key().to_string()), "{dom}");
    assert!(dom.contains("<a href=\"/crates/serde\">serde</a>"), "{dom}");
    assert!(dom.contains("1.0.1") && dom.contains("1.0.2"), "{dom}");
    assert!(
        dom.contains(&format!("revokes <code>{}</code>", other.id())),
        "{dom}"
    );
    // The revoked sign-off says so; the revocation is shown under the crate it concerns.
    assert!(dom.contains("<td>sign-off (revoked)</td>"), "{dom}");
    assert!(dom.contains("<a href=\"/crates/tokio\">tokio</a>"), "{dom}");

    // One crate's history.
    let page = format!("{}/crates/serde", server.base);
    let dom = tokio::task::spawn_blocking(move || chromium_dom(&page))
        .await
        .expect("join");
    assert_eq!(title(&dom), "serde: audit-registry", "{dom}");
    assert!(dom.contains("<h1>serde</h1>"), "{dom}");
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
    assert!(dom.contains("report-pwned"), "{dom}");
    assert!(!dom.contains("<script") && !dom.contains("<img"), "{dom}");
    assert!(!dom.contains("tokio"), "another crate's record: {dom}");

    // The headers forbid scripts even if markup slipped through.
    let head = raw_get_head(&server.base, "/");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        header("content-security-policy")
            .starts_with("default-src 'none'; style-src 'unsafe-inline'"),
        "{head}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    let missing = raw_get_head(&server.base, "/crates/%3Cscript%3E");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

/// The status line and headers of a plain GET, read off the socket.
fn raw_get_head(base: &str, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let authority = base.strip_prefix("http://").expect("http base");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let text = String::from_utf8_lossy(&response);
    text.split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .replace("\r\n", "\n")
}

/// The pages in-process on every backend (PostgreSQL included): status, headers, escaped text.
#[tokio::test]
async fn the_dashboard_renders_on_every_backend() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt as _;
    for (backend, reg) in backends(audit_registry::Limits::default()).await {
        let k = key();
        reg.register("team", &k).await;
        let signed = with_notes(signoff(&k, "serde", "1.0.0"), &k, SCRIPT_NOTE);
        let (status, body) = reg.publish(&[&signed], &head(&k, None, &[&signed])).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        notify::emit(
            &reg.state.db,
            Event {
                kind: EventKind::VerificationFailed,
                crate_name: Some("serde".into()),
                record_id: None,
                data: json!({ "version": "1.0.1", "report": "<b>differs</b>" }),
            },
        )
        .await
        .expect("emit");
        for path in ["/", "/crates/serde", "/crates/SERDE"] {
            let response = audit_registry::router(reg.state.clone())
                .oneshot(Request::get(path).body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            assert_eq!(response.status(), StatusCode::OK, "{backend} {path}");
            let csp = response.headers()["content-security-policy"]
                .to_str()
                .expect("ASCII")
                .to_owned();
            assert!(csp.starts_with("default-src 'none'"), "{backend}: {csp}");
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            let html = String::from_utf8(bytes.to_vec()).expect("UTF-8");
            assert!(
                html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"),
                "{backend} {path}: {html}"
            );
            assert!(
                html.contains("&lt;b&gt;differs&lt;/b&gt;"),
                "{backend} {path}"
            );
            assert!(
                !html.contains("<script") && !html.contains("<b>"),
                "{backend} {path}"
            );
        }
    }
}

/// The organization's view in a browser: two projects registered with `cargo audit-trust watch
/// --project`, one passing and one blocked; a sign-off published over HTTP unblocks the second,
/// and the overview shows it. Search finds the crate; a record with hostile notes, found by its
/// id, is text.
#[tokio::test(flavor = "multi_thread")]
async fn the_projects_overview_follows_a_new_signoff_in_a_browser() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let k = key();
    let run = |args: &[&str]| {
        let out = Command::new(registry_binary())
            .args(args)
            .args(["--db", &db_url])
            .output()
            .expect("audit-registry");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    run(&[
        "auditor",
        "add",
        "team",
        "--key",
        &k.public_key().to_string(),
    ]);
    let token = run(&["admin-token", "new", "ci"]).trim().to_owned();
    let policy_file = dir.path().join("org.audit");
    std::fs::write(&policy_file, policy(&k)).expect("write policy");
    run(&["policy", "set", &policy_file.display().to_string()]);
    let server = serve(&db_url);

    let serde = with_notes(signoff(&k, "serde", "1.0.0"), &k, SCRIPT_NOTE);
    let first = head(&k, None, &[&serde]);
    publish_over_http(&server.base, &[&serde], &first).await;
    for (project, packages) in [
        ("alpha", vec![("serde", "1.0.0")]),
        ("beta", vec![("serde", "1.0.0"), ("tokio", "1.0.0")]),
    ] {
        let ws = audit_trust_e2e::Workspace::single(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            &[("src/main.rs", "fn main() {}\n")],
        );
        ws.write_file("Cargo.lock", &lockfile(&packages));
        let out = Command::new(audit_trust_e2e::binary_path("cargo-audit-trust"))
            .current_dir(ws.path())
            .env("AUDIT_REGISTRY_TOKEN", &token)
            .args(["watch", "--registry", &server.base, "--project", project])
            .output()
            .expect("cargo-audit-trust watch");
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!("as project `{project}`'s lockfile #1")),
            "{stdout}"
        );
    }

    let row = |project: &str, status: &str| {
        format!(
            "<td><a href=\"/projects/{project}\">{project}</a></td><td><span class=\"{status}\">{status}</span></td>"
        )
    };
    let dom = browse(&server.base, "/projects").await;
    assert_eq!(title(&dom), "Projects: audit-registry", "{dom}");
    assert!(dom.contains(&row("alpha", "passes")), "{dom}");
    assert!(dom.contains(&row("beta", "blocked")), "{dom}");
    assert!(dom.contains("2 projects: 1 pass, 1 blocked"), "{dom}");
    assert!(dom.contains("<svg class=\"mix\""), "{dom}");
    let dom = browse(&server.base, "/projects/beta").await;
    assert_eq!(title(&dom), "beta: audit-registry", "{dom}");
    assert!(dom.contains("<section id=\"status-unaudited\">"), "{dom}");
    assert!(dom.contains("<a href=\"/crates/tokio\">tokio</a>"), "{dom}");

    let tokio_signoff = signoff(&k, "tokio", "1.0.0");
    let second = head(&k, Some(&first), &[&serde, &tokio_signoff]);
    publish_over_http(&server.base, &[&tokio_signoff], &second).await;
    let dom = browse(&server.base, "/projects").await;
    assert!(dom.contains(&row("beta", "passes")), "{dom}");
    assert!(dom.contains("2 projects: 2 pass, 0 blocked"), "{dom}");

    let dom = browse(&server.base, "/search?q=tok").await;
    assert_eq!(title(&dom), "tok: search: audit-registry", "{dom}");
    assert!(dom.contains("<a href=\"/crates/tokio\">tokio</a>"), "{dom}");
    let dom = browse(&server.base, &format!("/search?q={}", serde.id())).await;
    assert!(
        title(&dom).ends_with(": search: audit-registry"),
        "a script ran: {dom}"
    );
    assert!(dom.contains("&lt;script&gt;document.title"), "{dom}");
    assert!(!dom.contains("<script"), "a script element: {dom}");

    // The trend chart, as the browser parsed it: today's coverage point (both projects pass:
    // 3 packages, all signed) and this week's two sign-offs.
    let dom = browse(&server.base, "/trends").await;
    assert_eq!(title(&dom), "Trends: audit-registry", "{dom}");
    assert!(dom.contains("<svg id=\"coverage-chart\""), "{dom}");
    assert!(
        dom.contains("<title>2025-06-01: 100%</title></circle>"),
        "{dom}"
    );
    assert!(
        dom.contains("<title>sign-offs, week of 2025-05-26: 2</title></rect>"),
        "{dom}"
    );
    let dom = browse(&server.base, "/auditors/team").await;
    assert!(dom.contains("2 records (2 sign-off) on 2 crates"), "{dom}");

    // Each page renders to a full-size screenshot with content; the PNGs are what
    // docs/service.md shows (AUDIT_REGISTRY_SCREENSHOTS=DIR keeps them).
    let shots = std::env::var_os("AUDIT_REGISTRY_SCREENSHOTS")
        .map_or_else(|| dir.path().join("shots"), std::path::PathBuf::from);
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    for (file, path) in [
        ("overview", "/projects"),
        ("project", "/projects/beta"),
        ("crate", "/crates/serde"),
        ("auditor", "/auditors/team"),
        ("search", "/search?q=s"),
        ("trends", "/trends"),
    ] {
        let png = shots.join(format!("{file}.png"));
        let url = format!("{}{path}", server.base);
        let target = png.clone();
        tokio::task::spawn_blocking(move || chromium_screenshot(&url, &target))
            .await
            .expect("join");
        let bytes = std::fs::read(&png).expect("screenshot written");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{file}: not a PNG");
        let width = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes"));
        let height = u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes"));
        assert_eq!((width, height), SHOT, "{file}");
        // A blank page compresses to a few kilobytes; a rendered one does not, and a page
        // this size stays well under half a megabyte.
        assert!(
            (10_000..500_000).contains(&bytes.len()),
            "{file}: {} bytes",
            bytes.len()
        );
    }
}

/// The DOM of `path` on the server, as headless Chromium leaves it.
async fn browse(base: &str, path: &str) -> String {
    let url = format!("{base}{path}");
    tokio::task::spawn_blocking(move || chromium_dom(&url))
        .await
        .expect("join")
}

async fn publish_over_http(base: &str, records: &[&SignedRecord], head: &SignedHead) {
    let body = publish_body(records, head);
    let url = format!("{base}/v1/publish");
    let (status, answer) = tokio::task::spawn_blocking(move || {
        HttpClient::new(Duration::from_secs(30)).post_json(
            &url,
            body.to_string().into_bytes(),
            1 << 20,
        )
    })
    .await
    .expect("join")
    .expect("publish");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
}
