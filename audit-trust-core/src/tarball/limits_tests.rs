//! Hostile archives, continued: special entry types, duplicates and conflicts, and the size and
//! count limits. The archive-building helpers live in `tests.rs`.

use tar::EntryType;

use super::tests::{
    NAME, PREFIX, VERSION, add_file, add_link, add_raw, assert_mentions, crate_of, gzip, lib_rs,
    raw_header, read, read_err, tar_of,
};
use super::*;

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
