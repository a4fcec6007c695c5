//! What a local `.crate` file says about itself before it is read in full: the version in its
//! `NAME-VERSION/` root folder, for `diff --crate-file` without `@VERSION`.

use std::io::Read;

use flate2::bufread::GzDecoder;

use crate::names::validate_version;

/// The version of crate `name` that the first entry of the archive is filed under, if that entry
/// is `name-VERSION/…` with a valid semver `VERSION`. Only the first header is read; the full
/// read ([`crate::tarball::read_crate`]) checks every entry against this prefix afterwards.
pub fn version_in_crate_file(gz_bytes: &[u8], name: &str) -> Option<String> {
    // Bounded: one tar header is 512 bytes; long names use a GNU/PAX entry before it.
    let decoder = GzDecoder::new(gz_bytes).take(1024 * 1024);
    let mut archive = tar::Archive::new(decoder);
    let mut entries = archive.entries().ok()?;
    let entry = entries.next()?.ok()?;
    let path = entry.path_bytes();
    let path = std::str::from_utf8(&path).ok()?;
    let root = path.split('/').next()?;
    let version = root.strip_prefix(name)?.strip_prefix('-')?;
    validate_version(version).ok()?;
    Some(version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_with_root(root: &str) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, format!("{root}/Cargo.toml"), &[][..])
            .expect("append");
        builder
            .into_inner()
            .and_then(|gz| gz.finish())
            .expect("finish")
    }

    #[test]
    fn reads_the_version_from_the_root_folder() {
        let bytes = crate_with_root("my-crate-1.2.3-beta.1");
        assert_eq!(
            version_in_crate_file(&bytes, "my-crate").as_deref(),
            Some("1.2.3-beta.1")
        );
        assert_eq!(version_in_crate_file(&bytes, "other"), None);
        assert_eq!(
            version_in_crate_file(&crate_with_root("my-crate-x"), "my-crate"),
            None
        );
        assert_eq!(version_in_crate_file(b"not gzip", "my-crate"), None);
    }
}
