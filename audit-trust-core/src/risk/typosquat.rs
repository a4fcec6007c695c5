//! "This name is one keystroke away from a crate you meant": a new dependency whose name is
//! within one edit (insert, delete, substitute, or swap two neighbours; `-` and `_` count as
//! the same) of a popular crate or of another crate in the lockfile, and is not that crate.
//!
//! [`POPULAR`] is a small hand-made list: the 220 crate names that appear in at least two of
//! the three real lockfiles in the project's shared workloads (ripgrep, cargo-vet, crates.io,
//! August 2026), plus widely used crates those lack (rand, futures, sha2, axum, ...). It is
//! not crates.io's download ranking; the lockfile's own names cover the rest.

use super::build_scan::normalize;

/// Names shorter than this are too easy to hit by chance (`syn` and `sync`).
const MIN_LEN: usize = 4;

/// Popular crate names (see the module documentation for where they come from).
pub const POPULAR: &[&str] = &[
    "addr2line",
    "aho-corasick",
    "anstream",
    "anstyle",
    "anyhow",
    "arbitrary",
    "arrayref",
    "arrayvec",
    "async-trait",
    "autocfg",
    "axum",
    "backtrace",
    "base64",
    "bincode",
    "bitflags",
    "block-buffer",
    "bstr",
    "bumpalo",
    "byteorder",
    "bytes",
    "cc",
    "cfg-if",
    "cfg_aliases",
    "chrono",
    "clap",
    "clap_builder",
    "clap_derive",
    "clap_lex",
    "colorchoice",
    "console",
    "const-oid",
    "cpufeatures",
    "crc32fast",
    "crossbeam",
    "crossbeam-channel",
    "crossbeam-deque",
    "crossbeam-epoch",
    "crossbeam-utils",
    "crypto-common",
    "darling",
    "der",
    "derive_more",
    "digest",
    "displaydoc",
    "dirs",
    "either",
    "encoding_rs",
    "env_logger",
    "equivalent",
    "errno",
    "fastrand",
    "filetime",
    "flate2",
    "fnv",
    "form_urlencoded",
    "futures",
    "futures-channel",
    "futures-core",
    "futures-executor",
    "futures-io",
    "futures-macro",
    "futures-sink",
    "futures-task",
    "futures-util",
    "generic-array",
    "getrandom",
    "gimli",
    "git2",
    "glob",
    "globset",
    "h2",
    "hashbrown",
    "heck",
    "hermit-abi",
    "hex",
    "hmac",
    "home",
    "http",
    "http-body",
    "httparse",
    "httpdate",
    "humantime",
    "hyper",
    "hyper-rustls",
    "hyper-util",
    "iana-time-zone",
    "ident_case",
    "idna",
    "ignore",
    "indexmap",
    "indicatif",
    "insta",
    "ipnet",
    "itertools",
    "itoa",
    "jobserver",
    "js-sys",
    "lazy_static",
    "libc",
    "libloading",
    "libm",
    "libz-sys",
    "linux-raw-sys",
    "litemap",
    "lock_api",
    "log",
    "matchers",
    "md-5",
    "memchr",
    "memmap2",
    "memoffset",
    "mime",
    "minimal-lexical",
    "miniz_oxide",
    "mio",
    "native-tls",
    "nix",
    "nom",
    "num",
    "num-bigint",
    "num-integer",
    "num-traits",
    "num_cpus",
    "object",
    "once_cell",
    "openssl",
    "openssl-sys",
    "parking_lot",
    "parking_lot_core",
    "paste",
    "percent-encoding",
    "pin-project",
    "pin-project-lite",
    "pin-utils",
    "pkg-config",
    "ppv-lite86",
    "proc-macro2",
    "prost",
    "quote",
    "rand",
    "rand_chacha",
    "rand_core",
    "rayon",
    "rayon-core",
    "redox_syscall",
    "regex",
    "regex-automata",
    "regex-syntax",
    "reqwest",
    "ring",
    "rustc-demangle",
    "rustc-hash",
    "rustc_version",
    "rustix",
    "rustls",
    "rustls-pemfile",
    "rustls-webpki",
    "rustversion",
    "ryu",
    "same-file",
    "schannel",
    "scopeguard",
    "semver",
    "serde",
    "serde_derive",
    "serde_json",
    "serde_urlencoded",
    "serde_yaml",
    "sha1",
    "sha2",
    "sharded-slab",
    "shlex",
    "signal-hook",
    "similar",
    "slab",
    "smallvec",
    "socket2",
    "spin",
    "static_assertions",
    "strsim",
    "strum",
    "subtle",
    "syn",
    "synstructure",
    "tar",
    "tempfile",
    "termcolor",
    "textwrap",
    "thiserror",
    "thiserror-impl",
    "thread_local",
    "time",
    "tinystr",
    "tinyvec",
    "tokio",
    "tokio-macros",
    "tokio-rustls",
    "tokio-stream",
    "tokio-util",
    "toml",
    "toml_datetime",
    "toml_edit",
    "tonic",
    "tower",
    "tower-service",
    "tracing",
    "tracing-attributes",
    "tracing-core",
    "tracing-log",
    "tracing-subscriber",
    "try-lock",
    "typenum",
    "unicode-ident",
    "unicode-normalization",
    "unicode-width",
    "unicode-xid",
    "untrusted",
    "url",
    "utf8parse",
    "uuid",
    "valuable",
    "vcpkg",
    "version_check",
    "walkdir",
    "want",
    "wasi",
    "wasm-bindgen",
    "web-sys",
    "webpki-roots",
    "winapi",
    "winapi-util",
    "windows",
    "windows-sys",
    "windows-targets",
    "winnow",
    "yoke",
    "zerocopy",
    "zerofrom",
    "zerovec",
    "zeroize",
];

/// The popular or lockfile name `name` imitates, if any. `others` are the lockfile's other
/// crate names.
pub fn resembles<'a>(name: &str, others: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let n = normalize(name);
    if n.chars().count() < MIN_LEN || POPULAR.iter().any(|p| normalize(p) == n) {
        return None;
    }
    POPULAR
        .iter()
        .copied()
        .chain(others)
        .find(|candidate| {
            let c = normalize(candidate);
            c != n && c.chars().count() >= MIN_LEN && within_one_edit(&n, &c)
        })
        .map(str::to_owned)
}

/// Optimal string alignment distance ≤ 1, without building a matrix.
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if la == lb {
        if prefix == la {
            return true;
        }
        // One substitution, or one swap of neighbours.
        let rest_equal = |from: usize| a.get(from..) == b.get(from..);
        return rest_equal(prefix + 1)
            || (prefix + 1 < la
                && a[prefix] == b[prefix + 1]
                && a[prefix + 1] == b[prefix]
                && rest_equal(prefix + 2));
    }
    // One insertion or deletion: the longer one without its character at `prefix`.
    let (short, long) = if la < lb { (&a, &b) } else { (&b, &a) };
    short.get(prefix..) == long.get(prefix + 1..)
}

#[cfg(test)]
mod tests {
    use super::{resembles, within_one_edit};

    #[test]
    fn one_edit_away() {
        assert!(within_one_edit("proc-macro1", "proc-macro2"));
        assert!(within_one_edit("serde", "serd"));
        assert!(within_one_edit("tokio", "tokoi"));
        assert!(within_one_edit("reqwest", "reqwests"));
        assert!(
            within_one_edit("serde", "sedre"),
            "a swap of neighbours is one edit"
        );
        assert!(!within_one_edit("serde", "sedrf"));
        assert!(!within_one_edit("tokio", "toml"));
    }

    #[test]
    fn names_what_a_new_name_imitates() {
        assert_eq!(resembles("proc-macro1", []).as_deref(), Some("proc-macro2"));
        assert_eq!(
            resembles("serde-json", []),
            None,
            "`-` and `_` are the same name"
        );
        assert_eq!(resembles("tokio", []), None, "a popular name is itself");
        assert_eq!(
            resembles("fooo-internal", ["foo-internal"]).as_deref(),
            Some("foo-internal")
        );
        assert_eq!(
            resembles("syn2", []),
            None,
            "four letters, but syn is too short"
        );
        assert_eq!(resembles("leafy", ["tiny", "vuln"]), None);
    }
}
