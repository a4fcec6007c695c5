//! Which license a text is: the n-gram similarity matcher that the `spdx` crate carries (askalono's,
//! the one cargo-deny and cargo-about use), over the SPDX texts of the licenses found on crates.io.
//!
//! Why not `askalono` itself or spdx's prebuilt cache of all ~700 licenses: both need zstd (a C
//! library build) and the cache adds 2 MB to the binary; the store here is built once, lazily, from
//! the texts the `spdx` crate already ships, in a few milliseconds, and only on a cache miss.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use spdx::detection::{Store, TextData};

/// A match at or above this confidence names the text's license; below it the text is reported
/// with its best guess but never counts as a mismatch.
pub const IDENTIFIED_CONFIDENCE: f32 = 0.9;

/// The licenses whose texts the matcher knows: those that occur on crates.io, the copyleft ones a
/// policy must recognise, and the common exception-free permissive ones. A text of any other
/// license is reported as unidentified (low confidence), never as a wrong license.
const KNOWN: &[&str] = &[
    "0BSD",
    "AGPL-3.0-only",
    "Apache-2.0",
    "Artistic-2.0",
    "BlueOak-1.0.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-BY-4.0",
    "CC0-1.0",
    "CDLA-Permissive-2.0",
    "EPL-2.0",
    "GPL-2.0-only",
    "GPL-3.0-only",
    "ISC",
    "LGPL-2.1-only",
    "LGPL-3.0-only",
    "MIT",
    "MIT-0",
    "MPL-2.0",
    "NCSA",
    "OpenSSL",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "WTFPL",
    "Zlib",
];

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut store = Store::new();
        for id in KNOWN {
            if let Some(license) = spdx::license_id(id) {
                store.add_license((*id).to_owned(), TextData::new(license.text()));
            }
        }
        store
    })
}

/// The best-matching known license of `text` and the confidence (0 to 1), or `None` for an
/// empty text.
pub fn identify_text(text: &str) -> Option<(String, f32)> {
    if text.trim().is_empty() {
        return None;
    }
    let data = TextData::new(text);
    let found = store().analyze(&data);
    Some((found.name.to_owned(), found.score))
}

/// Distinct texts remembered per process: most packages ship one of a few hundred texts, and
/// matching is the costly part of reading a crate's licenses.
const REMEMBERED_TEXTS: usize = 20_000;

/// [`identify_text`], remembered by the text's normalized digest.
pub(super) fn identify_by_digest(digest: &str, text: &str) -> Option<(String, f32)> {
    type Matches = HashMap<String, Option<(String, f32)>>;
    static SEEN: OnceLock<Mutex<Matches>> = OnceLock::new();
    let seen = SEEN.get_or_init(Mutex::default);
    if let Some(hit) = seen.lock().ok().and_then(|m| m.get(digest).cloned()) {
        return hit;
    }
    let found = identify_text(text);
    if let Ok(mut m) = seen.lock()
        && m.len() < REMEMBERED_TEXTS
    {
        m.insert(digest.to_owned(), found.clone());
    }
    found
}
