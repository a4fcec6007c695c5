//! `#[path]` cannot hide code from the count: files it pulls in from `tests/`, a `.txt` file or
//! anywhere outside the counted set are counted; paths leaving the package are refused. Each
//! package is a real `.crate` (gzipped tar), read as the analysis reads published crates.

use std::collections::BTreeMap;

use super::super::path_attr::{ModDecl, mod_decls};
use super::super::{Classification, ClassifyError, classify_files};
use crate::tarball::{Limits, read_crate};

const PKG: &str = "[package]\nname = \"p\"\nversion = \"1.0.0\"\n";
const UNSAFE_FN: &str = "pub fn f() -> u8 {\n    unsafe { core::ptr::read(&1u8) }\n}\n";

/// Packs `files` into `p-1.0.0.crate`, reads it back like a downloaded crate, and classifies it.
fn classify_crate(files: &[(&str, &str)]) -> Result<Classification, ClassifyError> {
    let mut all: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    all.insert("p-1.0.0/Cargo.toml".into(), PKG.as_bytes().to_vec());
    for (path, text) in files {
        all.insert(format!("p-1.0.0/{path}"), text.as_bytes().to_vec());
    }
    let bytes = audit_trust_e2e::build_crate(&all);
    let archive = read_crate(&bytes, "p", "1.0.0", &Limits::default()).expect("a valid crate");
    classify_files(
        archive
            .files()
            .iter()
            .map(|f| (f.path.as_str(), f.contents.as_slice())),
    )
}

fn blocks(files: &[(&str, &str)]) -> u64 {
    classify_crate(files)
        .expect("classifies")
        .unsafe_usage
        .blocks
}

#[test]
fn a_test_file_or_text_file_pulled_into_the_library_is_counted() {
    // Without the attribute, tests/ stays out of the count.
    assert_eq!(blocks(&[("src/lib.rs", ""), ("tests/t.rs", UNSAFE_FN)]), 0);
    let c = classify_crate(&[
        ("src/lib.rs", "#[path = \"../tests/t.rs\"]\nmod hidden;\n"),
        ("tests/t.rs", UNSAFE_FN),
    ])
    .expect("classifies");
    assert_eq!((c.unsafe_usage.blocks, c.code_lines), (1, 5), "{c:?}");
    let c = classify_crate(&[
        ("src/lib.rs", "#[path = \"data.txt\"] pub mod data;\n"),
        ("src/data.txt", UNSAFE_FN),
    ])
    .expect("classifies");
    assert_eq!(
        (c.unsafe_usage.blocks, c.code_lines, c.rs_files),
        (1, 4, 1),
        "{c:?}"
    );
    // Spelled with escapes, under `cfg_attr`, as a raw string, from a nested module.
    for (lib, extra) in [
        (r#"#[path = "../te\u{73}ts/t.rs"] mod m;"#, ("", "")),
        (
            r#"#[cfg_attr(unix, path = "../tests/t.rs")] mod m;"#,
            ("", ""),
        ),
        (r##"#[path = r#"../tests/t.rs"#] mod m;"##, ("", "")),
        (
            "pub mod sys;",
            ("src/sys.rs", "#[path = \"../tests/t.rs\"] mod m;"),
        ),
    ] {
        let mut files = vec![("src/lib.rs", lib), ("tests/t.rs", UNSAFE_FN)];
        if !extra.0.is_empty() {
            files.push(extra);
        }
        assert_eq!(blocks(&files), 1, "{lib}");
    }
}

#[test]
fn what_a_pulled_in_file_declares_is_followed_as_rustc_resolves_it() {
    // tests/helper.rs, loaded with #[path], owns its folder: `mod more;` is tests/more.rs.
    let files = [
        (
            "src/lib.rs",
            "#[path = \"../tests/helper.rs\"] mod helper;\n",
        ),
        ("tests/helper.rs", "mod more;\n"),
        ("tests/more.rs", UNSAFE_FN),
        ("tests/other.rs", UNSAFE_FN),
    ];
    assert_eq!(blocks(&files), 1);
    // Inside an inline module of a non-mod.rs file, paths gain the file's stem and the module.
    let files = [
        ("src/lib.rs", "mod a;\n"),
        (
            "src/a.rs",
            "mod inner {\n    #[path = \"../../../tests/x.rs\"] mod x;\n}\n",
        ),
        ("tests/x.rs", UNSAFE_FN),
    ];
    assert_eq!(blocks(&files), 1);
    assert_eq!(
        mod_decls(b"mod a { mod b { #[path = \"x.rs\"] mod c; } }\nmod d;\n"),
        [
            ModDecl {
                inline: vec!["a".into(), "b".into()],
                name: "c".into(),
                paths: vec!["x.rs".into()],
            },
            ModDecl {
                inline: vec![],
                name: "d".into(),
                paths: vec![],
            },
        ]
    );
    // A build script's pulled-in code counts for unsafe, not as library lines.
    let c = classify_crate(&[
        ("src/lib.rs", ""),
        (
            "build.rs",
            "#[path = \"tests/gen.rs\"] mod gen;\nfn main() {}\n",
        ),
        ("tests/gen.rs", UNSAFE_FN),
    ])
    .expect("classifies");
    assert_eq!((c.unsafe_usage.blocks, c.code_lines), (1, 0), "{c:?}");
    // `path` in comments, strings and other attributes is not a declaration.
    assert_eq!(
        blocks(&[
            (
                "src/lib.rs",
                "// #[path = \"../tests/t.rs\"] mod m;\n#[doc = \"path\"] const P: &str = \"../tests/t.rs\";\n",
            ),
            ("tests/t.rs", UNSAFE_FN),
        ]),
        0
    );
}

#[test]
fn a_path_leaving_the_package_is_refused() {
    for path in ["../../../other-1.0.0/src/lib.rs", "/etc/passwd", "../.."] {
        let lib = format!("#[path = {path:?}] mod m;\n");
        let err = classify_crate(&[("src/lib.rs", &lib)]).expect_err(path);
        assert!(
            matches!(&err, ClassifyError::PathOutsidePackage { file, .. } if file == "src/lib.rs"),
            "{path}: {err:?}"
        );
        assert!(err.to_string().contains("leaves the package"), "{err}");
    }
    // Inside the package but absent (a `cfg` that was off when it was published): ignored.
    assert_eq!(
        blocks(&[("src/lib.rs", "#[path = \"gone/x.rs\"] mod m;\n")]),
        0
    );
}
