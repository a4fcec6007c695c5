//! Manifest reading and whole-crate classification.

use super::super::manifest::{BuildSetting, Manifest, parse_manifest};
use super::super::{Classification, ClassifyError, classify_files};

const PKG: &str = "[package]\nname = \"p\"\nversion = \"1.0.0\"\n";

/// Classifies a package given as (path, text) pairs.
fn classify(files: &[(&str, &str)]) -> Result<Classification, ClassifyError> {
    classify_files(files.iter().map(|(path, text)| (*path, text.as_bytes())))
}

fn manifest(extra: &str) -> Manifest {
    parse_manifest(&format!("{PKG}{extra}")).expect("test manifest parses")
}

fn with_manifest(extra: &str, files: &[(&str, &str)]) -> Classification {
    let toml = format!("{PKG}{extra}");
    let mut all = vec![("Cargo.toml", toml.as_str())];
    all.extend_from_slice(files);
    classify(&all).expect("test package classifies")
}

#[test]
fn proc_macro_both_spellings() {
    assert!(manifest("[lib]\nproc-macro = true\n").proc_macro);
    assert!(manifest("[lib]\nproc_macro = true\n").proc_macro);
    assert!(!manifest("[lib]\nproc-macro = false\n").proc_macro);
    assert!(!manifest("").proc_macro);
    let c = with_manifest("[lib]\nproc-macro = true\n", &[("src/lib.rs", "")]);
    assert!(c.proc_macro && !c.build_script && !c.native);
}

#[test]
fn build_script_explicit_implicit_disabled() {
    assert_eq!(manifest("").build, BuildSetting::Auto);
    assert_eq!(manifest("build = false\n").build, BuildSetting::Disabled);
    assert_eq!(
        manifest("build = true\n").build,
        BuildSetting::Paths(vec!["build.rs".into()])
    );
    assert_eq!(
        manifest("build = \"./gen\\\\build.rs\"\n").build,
        BuildSetting::Paths(vec!["gen/build.rs".into()])
    );

    let lib = ("src/lib.rs", "pub fn f() {}\n");
    let build = ("build.rs", "fn main() { unsafe { x() } }\n");
    // Implicit: build.rs exists. It is not library code, but its unsafe is counted.
    let c = with_manifest("", &[lib, build]);
    assert!(c.build_script);
    assert_eq!(
        (
            c.code_lines,
            c.all_rs_lines,
            c.rs_files,
            c.unsafe_usage.blocks
        ),
        (1, 2, 2, 1)
    );
    // Absent: no build.rs.
    assert!(!with_manifest("", &[lib]).build_script);
    // Explicit path elsewhere.
    let c = with_manifest(
        "build = \"tools/gen.rs\"\n",
        &[lib, ("tools/gen.rs", build.1)],
    );
    assert!(c.build_script);
    assert_eq!((c.code_lines, c.unsafe_usage.blocks), (1, 1));
    // Disabled: build.rs is then just another source file.
    let c = with_manifest("build = false\n", &[lib, build]);
    assert!(!c.build_script);
    assert_eq!((c.code_lines, c.unsafe_usage.blocks), (2, 1));
}

#[test]
fn links_means_native() {
    let c = with_manifest("links = \"z\"\n", &[("src/lib.rs", "")]);
    assert_eq!(c.links.as_deref(), Some("z"));
    assert!(c.native && !c.build_script);
}

#[test]
fn native_build_dependencies() {
    let build = ("build.rs", "fn main() {}");
    let native = |extra: &str| with_manifest(extra, &[build]).native;
    assert!(native("[build-dependencies]\ncc = \"1\"\n"));
    assert!(native("[build-dependencies.cmake]\nversion = \"0.1\"\n"));
    assert!(native("[build_dependencies]\npkg_config = \"0.3\"\n"));
    assert!(native(
        "[target.'cfg(windows)'.build-dependencies]\nvcpkg = \"0.2\"\n"
    ));
    assert!(native(
        "[build-dependencies]\ncompiler = { package = \"cc\", version = \"1\" }\n"
    ));
    assert!(!native(
        "[build-dependencies]\ncc = { package = \"not-cc\", version = \"1\" }\n"
    ));
    assert!(!native("[build-dependencies]\nautocfg = \"1\"\n"));
    // `cc` as a normal dependency, or a build dependency without a build script, is not native.
    assert!(!native("[dependencies]\ncc = \"1\"\n"));
    let no_script = with_manifest(
        "build = false\n[build-dependencies]\ncc = \"1\"\n",
        &[build],
    );
    assert!(!no_script.native);
}

#[test]
fn auxiliary_directories_are_excluded() {
    let files = [
        ("src/lib.rs", "pub mod a;\n"),
        ("src/a.rs", "pub fn a() { unsafe { } }\n"),
        ("src/tests/b.rs", "fn b() {}\n"),
        ("tests/t.rs", "#[test]\nfn t() { unsafe { } }\n"),
        ("benches/b.rs", "fn b() {}\n"),
        ("examples/e.rs", "fn main() { unsafe { } }\n"),
        ("README.md", "unsafe { }\n"),
    ];
    let c = with_manifest("", &files);
    assert_eq!(
        (
            c.code_lines,
            c.all_rs_lines,
            c.rs_files,
            c.unsafe_usage.blocks
        ),
        (3, 7, 6, 1)
    );
}

#[test]
fn crate_forbids_unsafe_when_the_library_root_does() {
    let forbid = "#![forbid(unsafe_code)]\n";
    let lib_only = with_manifest("", &[("src/lib.rs", forbid), ("src/other.rs", "")]);
    assert!(lib_only.unsafe_usage.forbids_unsafe);
    let with_bin = with_manifest(
        "",
        &[("src/lib.rs", forbid), ("src/main.rs", "fn main() {}")],
    );
    assert!(
        with_bin.unsafe_usage.forbids_unsafe,
        "dependents build only the library"
    );
    let bins_only = with_manifest(
        "",
        &[("src/main.rs", forbid), ("src/bin/x.rs", "fn main() {}")],
    );
    assert!(
        !bins_only.unsafe_usage.forbids_unsafe,
        "without a library every binary must forbid"
    );
    let both = with_manifest("", &[("src/lib.rs", forbid), ("src/bin/x.rs", forbid)]);
    assert!(both.unsafe_usage.forbids_unsafe);
    // A non-root file forbidding unsafe proves nothing.
    let no_root = with_manifest("", &[("src/util.rs", forbid)]);
    assert!(!no_root.unsafe_usage.forbids_unsafe);
    let custom = with_manifest("[lib]\npath = \"lib.rs\"\n", &[("lib.rs", forbid)]);
    assert!(custom.unsafe_usage.forbids_unsafe);
}

#[test]
fn targets_follow_cargo_rules() {
    let m = manifest("[[bin]]\nname = \"tool\"\npath = \"tools/tool.rs\"\n[[bin]]\nname = \"p\"\n");
    let paths = [
        "src/lib.rs",
        "src/main.rs",
        "src/bin/a.rs",
        "src/bin/b/main.rs",
        "src/bin/b/util.rs",
        "tools/tool.rs",
    ];
    let t = m.targets(&paths);
    assert_eq!(t.lib.as_deref(), Some("src/lib.rs"));
    assert_eq!(
        t.bins,
        [
            "tools/tool.rs",
            "src/main.rs",
            "src/bin/a.rs",
            "src/bin/b/main.rs"
        ]
    );
    let m = manifest("autobins = false\n[[bin]]\nname = \"a\"\n");
    assert_eq!(m.targets(&paths).bins, ["src/bin/a.rs"]);
    assert_eq!(manifest("").targets(&["src/main.rs"]).lib, None);
}

#[test]
fn old_project_table_and_odd_values() {
    let m = parse_manifest("[project]\nname = \"old\"\nbuild = \"build.rs\"\nlinks = 3\n")
        .expect("parses");
    assert_eq!(m.name.as_deref(), Some("old"));
    assert_eq!(m.build, BuildSetting::Paths(vec!["build.rs".into()]));
    assert_eq!(m.links, None);
    let m =
        manifest("[lib]\nproc-macro = \"yes\"\n[[bin]]\npath = 5\n[build-dependencies]\ncc = 1\n");
    assert!(!m.proc_macro);
    assert!(m.has_native_build_dependency());
    // A byte-order mark before the manifest is tolerated.
    let m = parse_manifest("\u{feff}[package]\nname = \"bom\"\n").expect("parses");
    assert_eq!(m.name.as_deref(), Some("bom"));
}

#[test]
fn manifest_errors() {
    let err = classify(&[
        ("Cargo.toml", "[package]\nname = \"p\"\nversion = \n"),
        ("src/lib.rs", ""),
    ]);
    match err {
        Err(ClassifyError::InvalidManifest { line, message }) => {
            assert_eq!(line, Some(3));
            assert!(!message.is_empty());
        }
        other => panic!("expected an invalid-manifest error, got {other:?}"),
    }
    let text = ClassifyError::InvalidManifest {
        line: Some(3),
        message: "bad".into(),
    }
    .to_string();
    assert_eq!(text, "Cargo.toml is not valid TOML (line 3): bad");
    assert_eq!(
        classify(&[("src/lib.rs", "")]),
        Err(ClassifyError::MissingManifest)
    );
    assert_eq!(
        classify(&[("Cargo.toml", "[dependencies]\n")]),
        Err(ClassifyError::NoPackage)
    );
    let bad_utf8 = classify_files([("Cargo.toml", &b"[package]\nname = \"\xff\"\n"[..])]);
    assert_eq!(bad_utf8, Err(ClassifyError::ManifestNotUtf8));
}

#[test]
fn leading_dot_slash_paths() {
    let c =
        classify(&[("./Cargo.toml", PKG), ("./src/lib.rs", "fn a() {}\n")]).expect("classifies");
    assert_eq!(c.code_lines, 1);
}
