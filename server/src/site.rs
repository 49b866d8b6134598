//! Where the built site (`pkg/` with the WebAssembly, JavaScript and CSS) is served from.
//! The default, `target/site`, is relative to the working folder: started from anywhere
//! but the repository's root the pages would come without CSS or WebAssembly. So when the
//! default is not there, the site beside the binary is used, and when no site is found the
//! start-up log says so, naming the folder.
//!
//! Its files are served precompressed when the release build left `.br`/`.gz` files beside
//! them (`cargo leptos build --release --precompress`, run by `scripts/build-release`), and
//! under hashed names when it left a `hash.txt` in the site (`hash-files` in `Cargo.toml`):
//! the pages then point to `itsm-bridge.<hash>.wasm`, which `http/cache_policy.rs` lets
//! browsers keep a year.

use app::site_assets::PKG_DIR;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// The `--site-root` default.
pub const DEFAULT_SITE_ROOT: &str = "target/site";

/// The site to serve for the configured root, logging where it came from; when no site is
/// found an error names the folder, and the configured one is served anyway (the pages
/// still render, unstyled: tests need no site).
pub fn root_to_serve(configured: &Path) -> PathBuf {
    let executable = std::env::current_exe().ok();
    match locate(configured, executable.as_deref()) {
        Some(found) if found == configured => found,
        Some(found) => {
            tracing::info!(
                site_root = %found.display(),
                "serving the site found beside the binary ({DEFAULT_SITE_ROOT} is not in the working folder)"
            );
            found
        }
        None => {
            let shown = std::path::absolute(configured).unwrap_or_else(|_| configured.into());
            tracing::error!(
                site_root = %shown.display(),
                "no built site in {}: pages will have no CSS or WebAssembly; build it with \
                 `cargo leptos build --release` or point --site-root (LEPTOS_SITE_ROOT) at it",
                shown.display()
            );
            configured.to_path_buf()
        }
    }
}

/// `configured` when it holds a site; when it is the default and holds none, the site beside
/// `executable`: `<its folder>/site` (an installed layout) or `<its folder>/../site` (where
/// `cargo leptos build` puts it: `target/release/itsm-bridge` beside `target/site`).
pub fn locate(configured: &Path, executable: Option<&Path>) -> Option<PathBuf> {
    if holds_site(configured) {
        return Some(configured.to_path_buf());
    }
    if configured != Path::new(DEFAULT_SITE_ROOT) {
        return None;
    }
    let folder = executable.and_then(Path::parent)?;
    [folder.join("site"), folder.join("..").join("site")]
        .into_iter()
        .find(|candidate| holds_site(candidate))
}

fn holds_site(root: &Path) -> bool {
    root.join(PKG_DIR).is_dir()
}

/// The file where `cargo leptos build` lists the hashes in the site's file names
/// (`hash-file-name` in `Cargo.toml` puts it in the site, beside `pkg/`).
pub const HASH_FILE: &str = "hash.txt";

/// The site's hash list, when it was built with hashed file names; as an absolute path,
/// since Leptos reads it relative to the running binary's folder otherwise.
pub fn hash_file(root: &Path) -> Option<PathBuf> {
    let file = std::path::absolute(root.join(HASH_FILE)).ok()?;
    file.is_file().then_some(file)
}

/// The service for `/pkg/`: the site's files, each answered from its precompressed copy
/// (`.br`, else `.gz`) when one is there and the browser accepts that encoding.
pub fn pkg_files(root: &Path) -> ServeDir {
    ServeDir::new(root.join(PKG_DIR))
        .precompressed_br()
        .precompressed_gzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_falls_back_to_the_site_beside_the_binary() {
        let target = tempfile::tempdir().unwrap();
        let binary = target.path().join("release").join("itsm-bridge");
        std::fs::create_dir_all(target.path().join("release")).unwrap();
        std::fs::create_dir_all(target.path().join("site").join("pkg")).unwrap();
        let found = locate(Path::new(DEFAULT_SITE_ROOT), Some(&binary)).unwrap();
        assert!(found.join("pkg").is_dir(), "{}", found.display());
        assert_eq!(
            found.canonicalize().unwrap(),
            target.path().join("site").canonicalize().unwrap()
        );
    }

    #[test]
    fn a_configured_site_is_served_as_given_and_never_replaced() {
        let folder = tempfile::tempdir().unwrap();
        let site = folder.path().join("mine");
        assert_eq!(locate(&site, None), None);
        let binary = folder.path().join("bin").join("itsm-bridge");
        std::fs::create_dir_all(folder.path().join("bin").join("site").join("pkg")).unwrap();
        assert_eq!(
            locate(&site, Some(&binary)),
            None,
            "an explicit root was swapped"
        );
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        assert_eq!(locate(&site, Some(&binary)), Some(site));
    }
}
