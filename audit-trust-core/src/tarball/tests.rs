//! Hostile and well-formed archives, built in memory with the `tar` crate (raw header fields where
//! its `Builder` would refuse the path) and gzipped with `flate2`.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{Builder, EntryType, Header};

use super::*;

const NAME: &str = "demo";
const VERSION: &str = "1.2.3";
const PREFIX: &str = "demo-1.2.3";

// ---------------------------------------------------------------- archive building helpers

fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(tar).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// A tar stream (with its end marker) made by `build`.
fn tar_of(build: impl FnOnce(&mut Builder<Vec<u8>>)) -> Vec<u8> {
    let mut builder = Builder::new(Vec::new());
    build(&mut builder);
    builder.into_inner().expect("tar into memory")
}

fn crate_of(build: impl FnOnce(&mut Builder<Vec<u8>>)) -> Vec<u8> {
    gzip(&tar_of(build))
}

/// A regular file the way cargo writes it (the `Builder` handles long names).
fn add_file(builder: &mut Builder<Vec<u8>>, path: &str, contents: &[u8], mode: u32) {
    let mut header = Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(mode);
    header.set_entry_type(EntryType::Regular);
    builder
        .append_data(&mut header, path, contents)
        .expect("append file");
}

/// A header whose name field holds `path` verbatim, bypassing the `Builder`'s own checks.
fn raw_header(path: &[u8], kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..path.len()].copy_from_slice(path);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(kind);
    header.set_cksum();
    header
}

fn add_raw(builder: &mut Builder<Vec<u8>>, path: &[u8], kind: EntryType, contents: &[u8]) {
    let header = raw_header(path, kind, contents.len() as u64);
    builder.append(&header, contents).expect("append raw entry");
}

fn add_link(builder: &mut Builder<Vec<u8>>, path: &str, kind: EntryType, target: &str) {
    let mut header = raw_header(path.as_bytes(), kind, 0);
    header.set_link_name(target).expect("link name");
    header.set_cksum();
    builder.append(&header, io::empty()).expect("append link");
}

/// A PAX extended header (type `x`) that gives the next entry the path `path`.
fn add_pax_path(builder: &mut Builder<Vec<u8>>, path: &[u8]) {
    let record = pax_record("path", path);
    add_raw(builder, b"PaxHeader", EntryType::XHeader, &record);
}

/// `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
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

fn read(gz: &[u8]) -> Result<CrateArchive, TarballError> {
    read_crate(gz, NAME, VERSION, &Limits::default())
}

fn read_err(gz: &[u8]) -> TarballError {
    match read(gz) {
        Ok(archive) => panic!("expected an error, got {} files", archive.files().len()),
        Err(error) => error,
    }
}

fn assert_mentions(error: &TarballError, text: &str) {
    let message = error.to_string();
    assert!(
        message.contains(text),
        "`{message}` should mention `{text}`"
    );
}

fn lib_rs(builder: &mut Builder<Vec<u8>>) {
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

// ---------------------------------------------------------------- entry types

#[test]
fn symlink_is_refused() {
    let path = format!("{PREFIX}/link");
    let gz = crate_of(|b| add_link(b, &path, EntryType::Symlink, "/etc/passwd"));
    let error = read_err(&gz);
    assert!(
        matches!(&error, TarballError::ForbiddenEntryType { path: p, kind }
            if *p == path && kind.contains("symbolic link"))
    );
    assert_mentions(&error, &path);
    assert_mentions(&error, "/etc/passwd");
}

#[test]
fn hardlink_is_refused() {
    let path = format!("{PREFIX}/hard");
    let gz = crate_of(|b| {
        lib_rs(b);
        add_link(b, &path, EntryType::Link, &format!("{PREFIX}/src/lib.rs"));
    });
    let error = read_err(&gz);
    assert!(
        matches!(&error, TarballError::ForbiddenEntryType { path: p, kind }
            if *p == path && kind.contains("hard link"))
    );
    assert_mentions(&error, &path);
}

#[test]
fn char_device_is_refused() {
    let path = format!("{PREFIX}/null");
    let gz = crate_of(|b| {
        let mut header = raw_header(path.as_bytes(), EntryType::Char, 0);
        header.set_device_major(1).expect("major");
        header.set_device_minor(3).expect("minor");
        header.set_cksum();
        b.append(&header, io::empty()).expect("append");
    });
    let error = read_err(&gz);
    assert!(
        matches!(&error, TarballError::ForbiddenEntryType { path: p, kind }
            if *p == path && kind.contains("character device"))
    );
    assert_mentions(&error, &path);
}

#[test]
fn other_special_entries_are_refused() {
    for (kind, words) in [
        (EntryType::Block, "block device"),
        (EntryType::Fifo, "FIFO"),
        (EntryType::XGlobalHeader, "global header"),
        (EntryType::Continuous, "unsupported type '7'"),
        (EntryType::new(b'Z'), "unsupported type 'Z'"),
    ] {
        let path = format!("{PREFIX}/special");
        let gz = crate_of(|b| add_raw(b, path.as_bytes(), kind, b""));
        let error = read_err(&gz);
        assert!(
            matches!(&error, TarballError::ForbiddenEntryType { .. }),
            "{kind:?}: {error}"
        );
        assert_mentions(&error, &path);
        assert_mentions(&error, words);
    }
}

// ---------------------------------------------------------------- duplicates and conflicts

#[test]
fn duplicate_file_is_refused() {
    let path = format!("{PREFIX}/src/lib.rs");
    let gz = crate_of(|b| {
        add_file(b, &path, b"first", 0o644);
        add_file(b, &path, b"second", 0o644);
    });
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::DuplicatePath { path: p } if *p == path));
    assert_mentions(&error, &path);
}

#[test]
fn duplicate_directory_is_refused() {
    let path = format!("{PREFIX}/src/");
    let gz = crate_of(|b| {
        add_raw(b, path.as_bytes(), EntryType::Directory, b"");
        add_raw(b, path.as_bytes(), EntryType::Directory, b"");
    });
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::DuplicatePath { .. }));
    assert_mentions(&error, &path);
}

#[test]
fn file_used_as_a_directory_is_refused() {
    let gz = crate_of(|b| {
        add_file(b, &format!("{PREFIX}/src"), b"a file", 0o644);
        lib_rs(b);
    });
    let error = read_err(&gz);
    assert!(
        matches!(&error, TarballError::PathConflict { path, conflict }
            if *path == format!("{PREFIX}/src/lib.rs") && *conflict == format!("{PREFIX}/src"))
    );
    assert_mentions(&error, &format!("{PREFIX}/src/lib.rs"));
}

#[test]
fn directory_used_as_a_file_is_refused() {
    let gz = crate_of(|b| {
        lib_rs(b);
        add_file(b, &format!("{PREFIX}/src"), b"a file", 0o644);
    });
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::PathConflict { .. }));
    assert_mentions(&error, &format!("{PREFIX}/src"));
}

// ---------------------------------------------------------------- limits

#[test]
fn gzip_bomb_over_the_total_cap_is_refused() {
    let path = format!("{PREFIX}/zeros");
    let gz = crate_of(|b| add_file(b, &path, &vec![0; 2 * MIB as usize], 0o644));
    assert!(gz.len() < 64 * 1024, "the test archive should be a bomb");
    let limits = Limits {
        max_total_bytes: MIB,
        ..Limits::default()
    };

    let error = read_crate(&gz, NAME, VERSION, &limits).expect_err("bomb refused");
    assert!(
        matches!(&error, TarballError::TotalSizeExceeded { limit, location: Location::InEntry(p) }
            if *limit == MIB && *p == path),
        "{error}"
    );
    assert_mentions(&error, &path);
}

#[test]
fn zeros_hidden_after_the_end_marker_count_against_the_total_cap() {
    let mut tar = tar_of(lib_rs);
    tar.resize(tar.len() + 4 * MIB as usize, 0);
    let limits = Limits {
        max_total_bytes: MIB,
        ..Limits::default()
    };
    let error = read_crate(&gzip(&tar), NAME, VERSION, &limits).expect_err("bomb refused");
    assert!(
        matches!(
            &error,
            TarballError::TotalSizeExceeded {
                location: Location::Trailer,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn many_small_entries_count_against_the_total_cap() {
    // Each header and its padding count, not only the declared file sizes.
    let gz = crate_of(|b| {
        for i in 0..100 {
            add_file(b, &format!("{PREFIX}/f{i}"), b"x", 0o644);
        }
    });
    let limits = Limits {
        max_total_bytes: 50 * 1024,
        ..Limits::default()
    };
    let error = read_crate(&gz, NAME, VERSION, &limits).expect_err("refused");
    assert!(
        matches!(&error, TarballError::TotalSizeExceeded { .. }),
        "{error}"
    );
}

#[test]
fn file_over_the_per_file_cap_is_refused() {
    let path = format!("{PREFIX}/big.bin");
    let gz = crate_of(|b| add_file(b, &path, &[7; 2048], 0o644));
    let limits = Limits {
        max_file_bytes: 1024,
        ..Limits::default()
    };
    let error = read_crate(&gz, NAME, VERSION, &limits).expect_err("refused");
    assert!(
        matches!(&error, TarballError::FileTooLarge { path: p, size: 2048, limit: 1024 }
            if *p == path)
    );
    assert_mentions(&error, &path);
}

#[test]
fn huge_declared_size_is_refused_before_allocating() {
    let path = format!("{PREFIX}/liar");
    let gz = crate_of(|b| {
        let header = raw_header(path.as_bytes(), EntryType::Regular, 1 << 40);
        b.append(&header, &b"tiny"[..]).expect("append");
    });
    let error = read_err(&gz);
    assert!(matches!(&error, TarballError::FileTooLarge { size, .. } if *size == 1 << 40));
    assert_mentions(&error, &path);
}

#[test]
fn declared_size_over_the_total_cap_is_refused_before_allocating() {
    let path = format!("{PREFIX}/liar");
    let gz = crate_of(|b| {
        let header = raw_header(path.as_bytes(), EntryType::Regular, 100 * 1024);
        b.append(&header, &b"tiny"[..]).expect("append");
    });
    let limits = Limits {
        max_total_bytes: 1024,
        max_file_bytes: MIB,
        ..Limits::default()
    };
    let error = read_crate(&gz, NAME, VERSION, &limits).expect_err("refused");
    assert!(
        matches!(&error, TarballError::TotalSizeExceeded { limit: 1024, location: Location::InEntry(p) }
            if *p == path),
        "{error}"
    );
    assert_mentions(&error, &path);
}

#[test]
fn unlimited_caps_do_not_overflow() {
    let limits = Limits {
        max_total_bytes: u64::MAX,
        max_file_bytes: u64::MAX,
        max_entries: usize::MAX,
    };
    let archive = read_crate(&crate_of(lib_rs), NAME, VERSION, &limits).expect("accepted");
    assert_eq!(archive.files().len(), 1);
}

#[test]
fn too_many_entries_is_refused() {
    let gz = crate_of(|b| {
        for i in 0..4 {
            add_file(b, &format!("{PREFIX}/f{i}"), b"x", 0o644);
        }
    });
    let limits = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    let error = read_crate(&gz, NAME, VERSION, &limits).expect_err("refused");
    assert!(
        matches!(&error, TarballError::TooManyEntries { path, limit: 3 }
            if *path == format!("{PREFIX}/f3"))
    );
    assert_mentions(&error, &format!("{PREFIX}/f3"));
}

// ---------------------------------------------------------------- corrupt input

fn big_crate() -> Vec<u8> {
    // Incompressible data, so that cutting the gzip stream cuts inside an entry.
    let mut state = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect();
    crate_of(|b| {
        lib_rs(b);
        add_file(b, &format!("{PREFIX}/noise.bin"), &noise, 0o644);
    })
}

#[test]
fn truncated_gzip_is_corrupt() {
    let gz = big_crate();
    let error = read_err(&gz[..gz.len() / 2]);
    assert!(
        matches!(&error, TarballError::Corrupt { location: Location::InEntry(p), .. }
            if *p == format!("{PREFIX}/noise.bin")),
        "{error}"
    );
    assert_mentions(&error, &format!("{PREFIX}/noise.bin"));
}

#[test]
fn gzip_cut_inside_its_trailer_is_corrupt() {
    let gz = big_crate();
    let error = read_err(&gz[..gz.len() - 4]);
    assert!(
        matches!(
            &error,
            TarballError::Corrupt {
                location: Location::Trailer,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn every_truncation_is_an_error_and_never_a_panic() {
    let gz = crate_of(lib_rs);
    for len in 0..gz.len() {
        assert!(read(&gz[..len]).is_err(), "cut at {len} of {}", gz.len());
    }
}

#[test]
fn damaged_gzip_is_corrupt() {
    let mut gz = big_crate();
    let middle = gz.len() / 2;
    gz[middle] ^= 0xff;
    assert!(matches!(read_err(&gz), TarballError::Corrupt { .. }));
}

#[test]
fn truncated_tar_inside_a_complete_gzip_is_corrupt() {
    let tar = tar_of(|b| add_file(b, &format!("{PREFIX}/a.rs"), &[1; 5000], 0o644));
    let error = read_err(&gzip(&tar[..3000]));
    assert!(
        matches!(&error, TarballError::Corrupt { location: Location::InEntry(p), .. }
            if *p == format!("{PREFIX}/a.rs")),
        "{error}"
    );
}

#[test]
fn bad_header_checksum_is_corrupt_and_names_the_previous_entry() {
    let mut tar = tar_of(|b| {
        lib_rs(b);
        add_file(b, &format!("{PREFIX}/b.rs"), b"b", 0o644);
    });
    // Second header starts after the first header (512) and its data block (512).
    tar[1024 + 10] ^= 0x01;
    let error = read_err(&gzip(&tar));
    assert!(
        matches!(&error, TarballError::Corrupt { location: Location::AfterEntry(p), .. }
            if *p == format!("{PREFIX}/src/lib.rs")),
        "{error}"
    );
    assert_mentions(&error, "checksum");
}

#[test]
fn garbage_input_is_corrupt() {
    for garbage in [&b"this is not a gzip file at all"[..], b"", &[0x1f, 0x8b]] {
        let error = read_err(garbage);
        assert!(
            matches!(
                &error,
                TarballError::Corrupt {
                    location: Location::Start,
                    ..
                }
            ),
            "{error}"
        );
        assert_mentions(&error, "corrupt");
    }
}

#[test]
fn gzip_of_garbage_is_corrupt() {
    let error = read_err(&gzip(&[0x55; 4096]));
    assert!(matches!(&error, TarballError::Corrupt { .. }), "{error}");
}
