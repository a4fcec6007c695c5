//! Reading and rewriting `.crate` tarballs, e.g. to serve a tampered copy of a published crate.

use std::collections::BTreeMap;
use std::io::Read;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// Every regular file in a `.crate`, keyed by its path inside the tarball
/// (`name-version/src/lib.rs`).
pub fn crate_files(crate_bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(GzDecoder::new(crate_bytes));
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("read .crate tarball") {
        let mut entry = entry.expect("read .crate entry");
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .expect("read .crate entry data");
        files.insert(path, data);
    }
    files
}

/// Builds a `.crate` (gzipped tar) from `path -> contents`; paths carry the `name-version/` prefix.
pub fn build_crate(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        // A fixed mtime keeps rebuilt tarballs byte-for-byte reproducible.
        header.set_mtime(1_153_704_088);
        builder
            .append_data(&mut header, path, data.as_slice())
            .expect("append .crate entry");
    }
    builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .expect("finish .crate tarball")
}

/// A copy of `crate_bytes` with `path` (relative to the `name-version/` root, e.g. `src/lib.rs`)
/// set to `contents`, added if absent. The checksum changes, as it would for a tampered upload.
pub fn tamper_crate(crate_bytes: &[u8], path: &str, contents: &str) -> Vec<u8> {
    let mut files = crate_files(crate_bytes);
    let root = files
        .keys()
        .next()
        .and_then(|p| p.split('/').next())
        .expect("a .crate has a name-version/ root")
        .to_owned();
    files.insert(format!("{root}/{path}"), contents.as_bytes().to_vec());
    build_crate(&files)
}
