//! Hostile and well-formed archives, built in memory with the `tar` crate (raw header fields where
//! its `Builder` would refuse the path) and gzipped with `flate2`.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{Builder, EntryType, Header};

use super::*;

pub(super) const NAME: &str = "demo";
pub(super) const VERSION: &str = "1.2.3";
pub(super) const PREFIX: &str = "demo-1.2.3";

// ---------------------------------------------------------------- archive building helpers

pub(super) fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(tar).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// A tar stream (with its end marker) made by `build`.
pub(super) fn tar_of(build: impl FnOnce(&mut Builder<Vec<u8>>)) -> Vec<u8> {
    let mut builder = Builder::new(Vec::new());
    build(&mut builder);
    builder.into_inner().expect("tar into memory")
}

pub(super) fn crate_of(build: impl FnOnce(&mut Builder<Vec<u8>>)) -> Vec<u8> {
    gzip(&tar_of(build))
}

/// A regular file the way cargo writes it (the `Builder` handles long names).
pub(super) fn add_file(builder: &mut Builder<Vec<u8>>, path: &str, contents: &[u8], mode: u32) {
    let mut header = Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(mode);
    header.set_entry_type(EntryType::Regular);
    builder
        .append_data(&mut header, path, contents)
        .expect("append file");
}

/// A header whose name field holds `path` verbatim, bypassing the `Builder`'s own checks.
pub(super) fn raw_header(path: &[u8], kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..path.len()].copy_from_slice(path);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(kind);
    header.set_cksum();
    header
}

pub(super) fn add_raw(
    builder: &mut Builder<Vec<u8>>,
    path: &[u8],
    kind: EntryType,
    contents: &[u8],
) {
    let header = raw_header(path, kind, contents.len() as u64);
    builder.append(&header, contents).expect("append raw entry");
}

pub(super) fn add_link(builder: &mut Builder<Vec<u8>>, path: &str, kind: EntryType, target: &str) {
    let mut header = raw_header(path.as_bytes(), kind, 0);
    header.set_link_name(target).expect("link name");
    header.set_cksum();
    builder.append(&header, io::empty()).expect("append link");
}

/// A PAX extended header (type `x`) that gives the next entry the path `path`.
pub(super) fn add_pax_path(builder: &mut Builder<Vec<u8>>, path: &[u8]) {
    let record = pax_record("path", path);
    add_raw(builder, b"PaxHeader", EntryType::XHeader, &record);
}

/// `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including itself.
pub(super) fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body_len = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut total = body_len + 1;
    while total != body_len + total.to_string().len() {
        total = body_len + total.to_string().len();
    }
    let mut record = format!("{total} {key}=").into_bytes();
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

pub(super) fn read(gz: &[u8]) -> Result<CrateArchive, TarballError> {
    read_crate(gz, NAME, VERSION, &Limits::default())
}

pub(super) fn read_err(gz: &[u8]) -> TarballError {
    match read(gz) {
        Ok(archive) => panic!("expected an error, got {} files", archive.files().len()),
        Err(error) => error,
    }
}

pub(super) fn assert_mentions(error: &TarballError, text: &str) {
    let message = error.to_string();
    assert!(
        message.contains(text),
        "`{message}` should mention `{text}`"
    );
}

pub(super) fn lib_rs(builder: &mut Builder<Vec<u8>>) {
    add_file(
        builder,
        &format!("{PREFIX}/src/lib.rs"),
        b"pub fn f() {}\n",
        0o644,
    );
}

// ---------------------------------------------------------------- well-formed archives

#[test]
fn good_archive_reads_back_byte_for_byte_and_sorted() {
    let manifest = b"[package]\nname = \"demo\"\nversion = \"1.2.3\"\n".to_vec();
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let gz = crate_of(|b| {
        add_raw(
            b,
            format!("{PREFIX}/").as_bytes(),
            EntryType::Directory,
            b"",
        );
        add_file(
            b,
            &format!("{PREFIX}/src/lib.rs"),
            b"pub fn f() {}\n",
            0o644,
        );
        add_file(b, &format!("{PREFIX}/Cargo.toml"), &manifest, 0o644);
        add_file(b, &format!("{PREFIX}/data/blob.bin"), &binary, 0o644);
        add_file(
            b,
            &format!("{PREFIX}/scripts/run.sh"),
            b"#!/bin/sh\n",
            0o755,
        );
        add_file(b, &format!("{PREFIX}/empty"), b"", 0o644);
        // A directory entry after its contents, as some tools write them.
        add_raw(
            b,
            format!("{PREFIX}/src/").as_bytes(),
            EntryType::Directory,
            b"",
        );
    });

    let archive = read(&gz).expect("a good archive is accepted");

    let paths: Vec<&str> = archive.files().iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Cargo.toml",
            "data/blob.bin",
            "empty",
            "scripts/run.sh",
            "src/lib.rs"
        ]
    );
    let get = |path| archive.get(path).expect("file is present");
    assert_eq!(get("Cargo.toml").contents, manifest);
    assert_eq!(get("data/blob.bin").contents, binary);
    assert_eq!(get("src/lib.rs").contents, b"pub fn f() {}\n");
    assert!(get("empty").contents.is_empty());
    assert!(get("scripts/run.sh").executable);
    assert!(!get("Cargo.toml").executable);
    assert!(archive.get("src").is_none());
    assert!(archive.get("missing.rs").is_none());
    let expected_total = manifest.len() + binary.len() + 14 + 10;
    assert_eq!(archive.total_bytes(), expected_total as u64);
    assert!(archive.decompressed_bytes() > archive.total_bytes());
}

#[test]
fn bare_prefix_directory_entry_is_accepted() {
    let gz = crate_of(|b| {
        add_raw(b, PREFIX.as_bytes(), EntryType::Directory, b"");
        lib_rs(b);
    });
    let archive = read(&gz).expect("accepted");
    assert_eq!(archive.files().len(), 1);
}

#[test]
fn gnu_long_name_over_100_bytes_is_read() {
    let long_dir = "a".repeat(60);
    let path = format!("{PREFIX}/{long_dir}/{long_dir}/file.rs");
    assert!(path.len() > 100);
    let gz = crate_of(|b| add_file(b, &path, b"long", 0o644));

    let archive = read(&gz).expect("long names are supported");
    let relative = format!("{long_dir}/{long_dir}/file.rs");
    assert_eq!(archive.get(&relative).expect("present").contents, b"long");
}

#[test]
fn pax_long_path_is_read() {
    let relative = format!("{}/lib.rs", "p".repeat(150));
    let gz = crate_of(|b| {
        add_pax_path(b, format!("{PREFIX}/{relative}").as_bytes());
        add_raw(b, b"truncated-name", EntryType::Regular, b"pax");
    });
    let archive = read(&gz).expect("PAX paths are supported");
    assert_eq!(archive.get(&relative).expect("present").contents, b"pax");
}

#[test]
fn empty_tar_is_an_empty_archive() {
    let archive = read(&crate_of(|_| {})).expect("accepted");
    assert!(archive.files().is_empty());
    assert_eq!(archive.total_bytes(), 0);
}

#[test]
fn data_after_the_first_gzip_member_is_ignored_like_cargo_does() {
    // First member: one entry and no end marker; second member: another entry. Cargo's
    // `GzDecoder` never sees the second member, so neither must we.
    let mut first = Builder::new(Vec::new());
    lib_rs(&mut first);
    let first = first.get_ref().clone();
    let second = tar_of(|b| add_file(b, &format!("{PREFIX}/hidden.rs"), b"x", 0o644));
    let mut gz = gzip(&first);
    gz.extend_from_slice(&gzip(&second));

    let archive = read(&gz).expect("accepted");
    let paths: Vec<&str> = archive.files().iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["src/lib.rs"]);
}

// ---------------------------------------------------------------- unsafe paths

#[test]
fn traversal_is_refused() {
    let path = format!("{PREFIX}/../x");
    let gz = crate_of(|b| add_raw(b, path.as_bytes(), EntryType::Regular, b"evil"));
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::PathTraversal { path: p } if *p == path));
    assert_mentions(&error, &path);
}

#[test]
fn leading_traversal_is_refused() {
    let gz = crate_of(|b| add_raw(b, b"../evil", EntryType::Regular, b"evil"));
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::PathTraversal { .. }));
    assert_mentions(&error, "../evil");
}

#[test]
fn absolute_path_is_refused() {
    let gz = crate_of(|b| add_raw(b, b"/etc/passwd", EntryType::Regular, b"root"));
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::AbsolutePath { path } if path == "/etc/passwd"));
    assert_mentions(&error, "/etc/passwd");
}

#[test]
fn wrong_prefix_is_refused() {
    let gz = crate_of(|b| add_file(b, "other-1.0.0/src/lib.rs", b"x", 0o644));
    let error = read_err(&gz);
    assert!(
        matches!(&error, TarballError::OutsidePrefix { path, prefix }
            if path == "other-1.0.0/src/lib.rs" && prefix == PREFIX)
    );
    assert_mentions(&error, "other-1.0.0/src/lib.rs");
    assert_mentions(&error, "demo-1.2.3/");
}

#[test]
fn near_miss_prefixes_are_refused() {
    for path in [
        "demo-1.2.3-evil/src/lib.rs",
        "./demo-1.2.3/src/lib.rs",
        "demo-1.2.3",
        "src/lib.rs",
    ] {
        let gz = crate_of(|b| add_raw(b, path.as_bytes(), EntryType::Regular, b"x"));
        let error = read_err(&gz);
        assert!(
            matches!(&error, TarballError::OutsidePrefix { .. }),
            "{path}: {error}"
        );
        assert_mentions(&error, path);
    }
}

#[test]
fn weird_components_are_refused() {
    for (relative, reason) in [
        ("src//lib.rs", "empty component"),
        ("./src/lib.rs", "`.` component"),
        ("src/./lib.rs", "`.` component"),
        ("src/lib.rs/", "empty component"),
        ("C:/lib.rs", "drive"),
        ("src\\..\\..\\lib.rs", "backslash"),
        ("src/\u{1b}[2Jlib.rs", "control character"),
        ("src/evil\u{202E}sr.txt", "bidirectional"),
    ] {
        let path = format!("{PREFIX}/{relative}");
        let gz = crate_of(|b| add_raw(b, path.as_bytes(), EntryType::Regular, b"x"));
        let error = read_err(&gz);
        assert!(
            matches!(&error, TarballError::UnsafePath { .. }),
            "{path}: {error}"
        );
        assert_mentions(&error, reason);
        assert_mentions(&error, PREFIX);
    }
}

#[test]
fn control_characters_are_escaped_in_the_message() {
    let path = format!("{PREFIX}/a\u{1b}[31mb");
    let gz = crate_of(|b| add_raw(b, path.as_bytes(), EntryType::Regular, b"x"));
    let message = read_err(&gz).to_string();
    assert!(!message.contains('\u{1b}'), "{message}");
    assert!(message.contains("a\\u{1b}[31mb"), "{message}");
}

#[test]
fn nul_in_a_pax_path_is_refused() {
    let gz = crate_of(|b| {
        add_pax_path(b, format!("{PREFIX}/a\0b.rs").as_bytes());
        add_raw(b, b"x", EntryType::Regular, b"x");
    });
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::UnsafePath { .. }));
    assert_mentions(&error, "NUL");
    assert_mentions(&error, &format!("{PREFIX}/a\\u{{0}}b.rs"));
}

#[test]
fn non_utf8_path_is_refused() {
    let mut path = format!("{PREFIX}/src/").into_bytes();
    path.extend_from_slice(b"bad\xff.rs");
    let gz = crate_of(|b| add_raw(b, &path, EntryType::Regular, b"x"));
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::NonUtf8Path { .. }));
    assert_mentions(&error, &format!("{PREFIX}/src/bad\u{FFFD}.rs"));
}
