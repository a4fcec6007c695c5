//! Files a reviewer cannot read: executables, object files, archives, and long base64 or hex
//! runs inside text. Judged from the bytes (magic numbers) and the name, never by running
//! anything.

use crate::tarball::CrateFile;

/// Why a file is opaque, in a few words; `None` for a file a person can read.
pub fn opaque_reason(file: &CrateFile, blob_bytes: u64) -> Option<String> {
    let bytes = &file.contents;
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x7fELF", "an ELF executable or object"),
        (b"MZ", "a Windows (PE) executable"),
        (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
        (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
        (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
        (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
        (b"\xca\xfe\xba\xbe", "a universal binary or Java class"),
        (b"!<arch>\n", "a static library archive"),
        (b"\0asm", "a WebAssembly module"),
        (b"PK\x03\x04", "a zip archive"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\xfd7zXZ\0", "an xz archive"),
        (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
        (b"BZh", "a bzip2 archive"),
        (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    ];
    // `MZ` and `BZh` are short: only trusted on files that are not text.
    let text = std::str::from_utf8(bytes).is_ok();
    for (magic, what) in MAGIC {
        if bytes.starts_with(magic) && !(text && magic.len() < 4) {
            return Some((*what).to_owned());
        }
    }
    let lower = file.path.to_ascii_lowercase();
    const EXTENSIONS: &[&str] = &[
        ".exe", ".dll", ".so", ".dylib", ".o", ".obj", ".a", ".lib", ".bin", ".node", ".jar",
    ];
    if !text && EXTENSIONS.iter().any(|e| lower.ends_with(e)) {
        return Some("a binary named like an executable, object or library".into());
    }
    if file.executable && !text {
        return Some("an executable file that is not text".into());
    }
    if text
        && let Some(run) = longest_blob_run(bytes)
        && run as u64 >= blob_bytes
    {
        return Some(format!("a {run}-byte base64 or hex run"));
    }
    None
}

/// The longest run of base64 (or hex) characters without whitespace or punctuation other than
/// `+/=`, across the file; `None` when there is none.
fn longest_blob_run(bytes: &[u8]) -> Option<usize> {
    let mut best = 0usize;
    let mut current = 0usize;
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' {
            current += 1;
            best = best.max(current);
        } else {
            current = 0;
        }
    }
    (best > 0).then_some(best)
}
