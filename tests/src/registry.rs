//! A real sparse cargo registry on a loopback port, filled by running the real `cargo package`.
//!
//! Fixtures point `CARGO_HOME` at [`LocalRegistry::cargo_home`], whose config replaces crates-io
//! with this registry. Lockfiles therefore still say
//! `source = "registry+https://github.com/rust-lang/crates.io-index"`, exactly as for real
//! projects, while every byte comes from memory.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::index_entry::index_entry;
use crate::server::{RequestRecord, StaticServer, hex};
use crate::{cargo_command, run_checked, temp_dir, write_file};

/// What to publish. Dependencies are plain `name = "req"` lines resolved against the same registry.
#[derive(Debug, Clone, Default)]
pub struct CrateSpec {
    pub name: String,
    pub version: String,
    /// `(name, version_req)` written under `[dependencies]` (omitted when empty).
    pub deps: Vec<(String, String)>,
    /// `(name, version_req)` written under `[build-dependencies]` (omitted when empty).
    pub build_deps: Vec<(String, String)>,
    /// `(relative path, contents)`. `src/lib.rs` is added (empty) unless a lib or main is given.
    pub files: Vec<(String, String)>,
    /// Raw TOML inserted right after the generated `[package]` keys: bare keys land in `[package]`
    /// (`links = "z"`, `license = "MIT"`, `edition = "2015"`), tables start new sections
    /// (`[lib]\nproc-macro = true`, `[features]`). With `deps`/`build_deps` empty it may also
    /// carry its own `[dependencies]` (optional, renamed or target-specific deps).
    pub extra_manifest: String,
}

impl CrateSpec {
    pub fn new(name: &str, version: &str) -> CrateSpec {
        CrateSpec {
            name: name.into(),
            version: version.into(),
            ..CrateSpec::default()
        }
    }

    pub fn dep(mut self, name: &str, req: &str) -> CrateSpec {
        self.deps.push((name.into(), req.into()));
        self
    }

    pub fn build_dep(mut self, name: &str, req: &str) -> CrateSpec {
        self.build_deps.push((name.into(), req.into()));
        self
    }

    pub fn file(mut self, path: &str, contents: &str) -> CrateSpec {
        self.files.push((path.into(), contents.into()));
        self
    }

    pub fn manifest(mut self, extra: &str) -> CrateSpec {
        self.extra_manifest.push_str(extra);
        self.extra_manifest.push('\n');
        self
    }

    fn cargo_toml(&self) -> String {
        let mut toml = format!(
            "[package]\nname = {:?}\nversion = {:?}\n",
            self.name, self.version
        );
        // Without an edition cargo warns and assumes 2015; let the spec override it.
        if !self
            .extra_manifest
            .lines()
            .any(|l| l.trim_start().starts_with("edition"))
        {
            toml.push_str("edition = \"2021\"\n");
        }
        toml.push_str(&self.extra_manifest);
        toml.push('\n');
        for (table, deps) in [
            ("dependencies", &self.deps),
            ("build-dependencies", &self.build_deps),
        ] {
            if !deps.is_empty() {
                toml.push_str(&format!("[{table}]\n"));
                for (name, req) in deps {
                    toml.push_str(&format!("{name} = {req:?}\n"));
                }
            }
        }
        toml
    }
}

/// A crate that is now served by the registry.
#[derive(Debug, Clone)]
pub struct Published {
    pub name: String,
    pub version: String,
    /// SHA-256 of the `.crate`, as in the index `cksum` and `Cargo.lock` `checksum`.
    pub checksum_hex: String,
    pub crate_bytes: Vec<u8>,
    /// The `.crate` written by `cargo package`.
    pub crate_path: PathBuf,
    /// The directory it was packaged from (the "repository" contents).
    pub source_dir: PathBuf,
    /// The JSON line added to the index.
    pub index_line: Value,
}

/// A sparse registry (`config.json`, index files, `.crate` downloads) on a [`StaticServer`].
#[derive(Debug)]
pub struct LocalRegistry {
    server: StaticServer,
    /// Handed to fixtures: starts with an empty cache, so tests can observe downloads.
    cargo_home: TempDir,
    /// Used only by `cargo package`, so publishing never warms the fixtures' cache.
    publish_home: TempDir,
    /// Crate sources and `cargo package` output.
    work: TempDir,
}

impl LocalRegistry {
    pub fn start() -> LocalRegistry {
        let server = StaticServer::start();
        let base = server.base_url();
        // `api` may be null (nothing here supports `cargo publish`); `auth-required` defaults to
        // false.
        let config =
            json!({ "dl": format!("{base}/dl/{{crate}}/{{version}}/download"), "api": null });
        server.put("/index/config.json", config.to_string());
        let reg = LocalRegistry {
            server,
            cargo_home: temp_dir("cargo-home"),
            publish_home: temp_dir("publish-home"),
            work: temp_dir("crates"),
        };
        for home in [reg.cargo_home.path(), reg.publish_home.path()] {
            fs::write(home.join("config.toml"), reg.cargo_config())
                .expect("write CARGO_HOME/config.toml");
        }
        reg
    }

    /// `sparse+http://127.0.0.1:PORT/index/`
    pub fn index_url(&self) -> String {
        format!("sparse+{}/index/", self.server.base_url())
    }

    /// The `config.toml` written into [`Self::cargo_home`]; useful for tests that build their own.
    pub fn cargo_config(&self) -> String {
        format!(
            "[source.crates-io]\nreplace-with = \"local\"\n\n[source.local]\nregistry = \"{}\"\n\n\
             [net]\noffline = false\n",
            self.index_url()
        )
    }

    /// A `CARGO_HOME` whose crates-io is this registry. Its `registry/cache/*/` fills on
    /// `cargo fetch`.
    pub fn cargo_home(&self) -> &Path {
        self.cargo_home.path()
    }

    pub fn server(&self) -> &StaticServer {
        &self.server
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Server path of a crate's index file, e.g. `/index/le/af/leafy`.
    pub fn index_file_path(name: &str) -> String {
        format!("/index/{}", index_path(name))
    }

    /// Server path of a `.crate` download, e.g. `/dl/leafy/1.0.0/download`.
    pub fn download_path(name: &str, version: &str) -> String {
        format!("/dl/{name}/{version}/download")
    }

    pub fn replace_file(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        self.server.put(path, bytes);
    }

    pub fn request_count(&self, path: &str) -> usize {
        self.server.request_count(path)
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.server.requests()
    }

    /// Packages `spec` with the real `cargo package` and serves it. Dependencies must already be
    /// published (cargo resolves them against this registry to write the packaged `Cargo.lock`).
    pub fn publish_crate(&self, spec: &CrateSpec) -> Published {
        let dir = self
            .work
            .path()
            .join("src")
            .join(format!("{}-{}", spec.name, spec.version));
        if dir.exists() {
            fs::remove_dir_all(&dir).expect("clear an earlier source dir");
        }
        fs::create_dir_all(&dir).expect("create crate dir");
        // No `[workspace]` table (it would show up in Cargo.toml.orig): the temp dir is outside any
        // workspace, so the crate is its own root.
        fs::write(dir.join("Cargo.toml"), spec.cargo_toml()).expect("write Cargo.toml");
        let has_target = spec
            .files
            .iter()
            .any(|(p, _)| p == "src/lib.rs" || p == "src/main.rs");
        if !has_target {
            write_file(&dir.join("src/lib.rs"), "");
        }
        for (path, contents) in &spec.files {
            write_file(&dir.join(path), contents);
        }
        self.publish_manifest(&dir.join("Cargo.toml"), &["--allow-dirty"])
    }

    /// Packages the package of `manifest` as it is on disk (say, in a git repository, so cargo
    /// records `.cargo_vcs_info.json`) with `cargo package --no-verify [extra]`, and serves it.
    pub fn publish_manifest(&self, manifest: &Path, extra: &[&str]) -> Published {
        let dir = manifest
            .parent()
            .expect("a manifest has a folder")
            .to_path_buf();
        let target = self.work.path().join("target");
        let mut package = cargo_command(self.publish_home.path());
        package
            .args(["package", "--no-verify", "--quiet"])
            .args(extra)
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target);
        run_checked(&mut package);

        let metadata = self.metadata(&dir);
        let (name, version) = (
            str_field(&metadata, "name"),
            str_field(&metadata, "version"),
        );
        let crate_path = target
            .join("package")
            .join(format!("{name}-{version}.crate"));
        let crate_bytes = fs::read(&crate_path).expect("read the packaged .crate");
        let checksum_hex = hex(&Sha256::digest(&crate_bytes));
        let index_line = index_entry(&metadata, &checksum_hex);

        let line = format!("{index_line}\n");
        self.server.update(&Self::index_file_path(&name), |f| {
            f.extend_from_slice(line.as_bytes())
        });
        self.server
            .put(&Self::download_path(&name, &version), crate_bytes.clone());
        Published {
            name,
            version,
            checksum_hex,
            crate_bytes,
            crate_path,
            source_dir: dir,
            index_line,
        }
    }

    /// Sets `yanked` on a published version's index line (cargo then refuses to newly lock it).
    pub fn set_yanked(&self, name: &str, version: &str, yanked: bool) {
        self.edit_index_line(name, version, |entry| entry["yanked"] = Value::Bool(yanked));
    }

    /// Sets the index line's `pubtime` (`2026-08-20T11:30:00Z`), as crates.io records when a
    /// version was published.
    pub fn set_pubtime(&self, name: &str, version: &str, pubtime: &str) {
        self.edit_index_line(name, version, |entry| entry["pubtime"] = pubtime.into());
    }

    fn edit_index_line(&self, name: &str, version: &str, edit: impl Fn(&mut Value)) {
        let mut found = false;
        self.server.update(&Self::index_file_path(name), |file| {
            let text = String::from_utf8_lossy(file).into_owned();
            let mut out = String::new();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let mut entry: Value = serde_json::from_str(line).expect("index line is JSON");
                if entry["vers"] == version {
                    edit(&mut entry);
                    found = true;
                }
                out.push_str(&format!("{entry}\n"));
            }
            *file = out.into_bytes();
        });
        assert!(found, "{name} {version} is not in the local registry");
    }

    /// The manifest exactly as cargo reads it: the index entry is derived from this, like
    /// `cargo publish` does, so `extra_manifest` features/optional deps/targets are reflected.
    fn metadata(&self, dir: &Path) -> Value {
        let manifest = dir.join("Cargo.toml");
        let mut cmd = cargo_command(self.publish_home.path());
        cmd.args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
            "--manifest-path",
        ])
        .arg(&manifest);
        let out = run_checked(&mut cmd);
        let mut meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
        // In a workspace every member is listed: take the one packaged.
        let wanted = fs::canonicalize(&manifest).expect("manifest path");
        let packages = meta["packages"].as_array_mut().expect("packages array");
        let index = packages
            .iter()
            .position(|p| {
                p["manifest_path"]
                    .as_str()
                    .and_then(|m| fs::canonicalize(m).ok())
                    == Some(wanted.clone())
            })
            .unwrap_or(0);
        packages[index].take()
    }
}

/// Cargo's index layout: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`, lowercased.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        0 => panic!("empty crate name"),
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

pub(crate) fn str_field(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string field {key:?} in {v}"))
        .to_owned()
}
