//! The site's files named in every page's head: the stylesheet, the JavaScript and the
//! WebAssembly that hydrate the page and, on a split site (`scripts/build-release`), the
//! list of each lazy route's wasm files, which the server names in the page so a browser
//! fetches them early. Read from the built site once, when the server starts.
//!
//! Why not Leptos's own `HashedStylesheet` and `HydrationScripts`: with hashed file names
//! they read the site's `hash.txt` from disk on every page they render (each of them: the
//! binary's path, two `stat`s, an `open`, two `read`s, a `close`). On the 2-core build
//! machine those fourteen system calls a page took a fifth or more of the server's CPU time
//! per page (README, "Server-side rendering benchmark"). These render the same elements
//! from names read, and addresses written, once; so a site built again needs the server
//! restarted.

use leptos::WasmSplitManifest;
use leptos::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The site's folder of files, and the path the server serves it at (`/pkg`): cargo-leptos's
/// `site-pkg-dir` in `Cargo.toml`.
pub const PKG_DIR: &str = "pkg";

/// The addresses of the site's own files (`/pkg/itsm-bridge.<hash>.js` on a hashed site), the
/// module script that loads them, and the split site's list of lazy routes' files: made
/// once, shared (cheaply cloned) by every page.
#[derive(Clone, Debug)]
pub struct SiteAssets {
    css_href: Arc<str>,
    js_href: Arc<str>,
    wasm_href: Arc<str>,
    script: Arc<str>,
    split: Option<WasmSplitManifest>,
}

impl SiteAssets {
    /// The names in the site at `site_root`, built by `cargo leptos build` with the output
    /// name `output_name`: hashed when `hash_file` (cargo-leptos's list of the hashes in the
    /// names) is given. A split site's manifest is read too, when it is there. An error
    /// names the file that cannot be read: the pages would load nothing.
    pub fn read(
        site_root: &Path,
        output_name: &str,
        hash_file: Option<&Path>,
    ) -> anyhow::Result<SiteAssets> {
        use anyhow::Context;
        let hashes = match hash_file {
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("Failed to read {}", file.display()))?;
                parse_hashes(&text).with_context(|| format!("In {}", file.display()))?
            }
            None => HashMap::new(),
        };
        let href = |kind: &str, extension: &str| match hashes.get(kind) {
            Some(hash) => format!("/{PKG_DIR}/{output_name}.{hash}.{extension}"),
            None => format!("/{PKG_DIR}/{output_name}.{extension}"),
        };
        // cargo-leptos's names for the split site's manifest and loader script.
        let manifest_name = match hashes.get("manifest") {
            Some(hash) => format!("__wasm_split_manifest.{hash}.json"),
            None => "__wasm_split_manifest.json".to_string(),
        };
        let loader = match hashes.get("split") {
            Some(hash) => format!("__wasm_split.{hash}.js"),
            None => "__wasm_split.______________________.js".to_string(),
        };
        let manifest_file = site_root.join(PKG_DIR).join(manifest_name);
        if hashes.contains_key("manifest") && !manifest_file.is_file() {
            anyhow::bail!(
                "The site's hash.txt names a split manifest, {}, that is not there: build \
                 the site again",
                manifest_file.display()
            );
        }
        let split = if manifest_file.is_file() {
            let text = std::fs::read_to_string(&manifest_file)
                .with_context(|| format!("Failed to read {}", manifest_file.display()))?;
            let preloads: HashMap<String, Vec<String>> = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a split manifest", manifest_file.display()))?;
            Some(WasmSplitManifest(ArcStoredValue::new((
                format!("/{PKG_DIR}"),
                preloads,
                loader,
            ))))
        } else {
            None
        };
        let (js, wasm) = (href("js", "js"), href("wasm", "wasm"));
        // The names are URL-safe (the hashes by `parse_hashes`, the output name is the
        // server's constant), so Debug quoting makes JavaScript strings of them.
        let script = format!(
            "import({js:?}).then((m) => m.default({{ module_or_path: {wasm:?} }}).then(() => m.hydrate()));"
        );
        Ok(SiteAssets {
            css_href: href("css", "css").into(),
            js_href: js.into(),
            wasm_href: wasm.into(),
            script: script.into(),
            split,
        })
    }

    /// The stylesheet's address.
    pub fn css_href(&self) -> &str {
        &self.css_href
    }

    /// The JavaScript's address.
    pub fn js_href(&self) -> &str {
        &self.js_href
    }

    /// The WebAssembly's address.
    pub fn wasm_href(&self) -> &str {
        &self.wasm_href
    }
}

/// The kinds of file in cargo-leptos's `hash.txt` that the pages name.
const HASHED: [&str; 5] = ["js", "wasm", "css", "manifest", "split"];

/// cargo-leptos's `hash.txt`: a `kind: hash` line per file kind. A hash goes into file
/// names and an inline script, so only the characters cargo-leptos uses (URL-safe base64)
/// are taken; lines of other kinds are left alone.
fn parse_hashes(text: &str) -> anyhow::Result<HashMap<String, String>> {
    let mut hashes = HashMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((kind, hash)) = line.split_once(':') else {
            anyhow::bail!("the line {line:?} is not `kind: hash`");
        };
        let (kind, hash) = (kind.trim(), hash.trim());
        if !HASHED.contains(&kind) {
            continue;
        }
        let url_safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if hash.is_empty() || !hash.chars().all(url_safe) {
            anyhow::bail!("the hash {hash:?} of {kind:?} is not URL-safe base64");
        }
        hashes.insert(kind.to_string(), hash.to_string());
    }
    Ok(hashes)
}

/// The page's stylesheet, the preloads of its JavaScript and WebAssembly, and the module
/// script that loads them and hydrates the page (with the request's CSP nonce), as Leptos's
/// `HashedStylesheet` and `HydrationScripts` render them. On a split site it also hands the
/// lazy routes' list to Leptos, which names the route's files in the page.
#[component]
pub fn SiteAssetLinks(assets: SiteAssets) -> impl IntoView {
    if let Some(split) = assets.split.clone() {
        provide_context(split);
    }
    let nonce = leptos::nonce::use_nonce();
    let SiteAssets {
        css_href,
        js_href,
        wasm_href,
        script,
        ..
    } = assets;
    view! {
        <link rel="stylesheet" id="leptos" href=css_href/>
        <link rel="modulepreload" href=js_href crossorigin=""/>
        <link rel="preload" href=wasm_href r#as="fetch" r#type="application/wasm" crossorigin=""/>
        <script type="module" nonce=nonce>{script}</script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(hash_txt: Option<&str>, manifest: Option<(&str, &str)>) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("pkg")).unwrap();
        if let Some(text) = hash_txt {
            std::fs::write(root.path().join("hash.txt"), text).unwrap();
        }
        if let Some((name, json)) = manifest {
            std::fs::write(root.path().join("pkg").join(name), json).unwrap();
        }
        root
    }

    fn read(root: &tempfile::TempDir) -> anyhow::Result<SiteAssets> {
        let hash_file = root.path().join("hash.txt");
        let hash_file = hash_file.is_file().then_some(hash_file);
        SiteAssets::read(root.path(), "itsm-bridge", hash_file.as_deref())
    }

    #[test]
    fn a_hashed_site_is_named_by_its_hashes() {
        let root = site(Some("js: J-1\nwasm: W_2\ncss: C3\n"), None);
        let assets = read(&root).unwrap();
        assert_eq!(assets.js_href(), "/pkg/itsm-bridge.J-1.js");
        assert_eq!(assets.wasm_href(), "/pkg/itsm-bridge.W_2.wasm");
        assert_eq!(assets.css_href(), "/pkg/itsm-bridge.C3.css");
        assert!(assets.split.is_none());
    }

    #[test]
    fn a_site_without_hashes_is_named_by_the_output_name() {
        let assets = read(&site(None, None)).unwrap();
        assert_eq!(assets.js_href(), "/pkg/itsm-bridge.js");
        assert_eq!(assets.wasm_href(), "/pkg/itsm-bridge.wasm");
        assert_eq!(assets.css_href(), "/pkg/itsm-bridge.css");
    }

    #[test]
    fn a_split_site_s_manifest_is_found_under_its_hashed_name() {
        let manifest = r#"{"__page_view_1": ["chunk_1", "split___page_view_1"]}"#;
        let root = site(
            Some("js: J\nwasm: W\ncss: C\nmanifest: M\nsplit: S\n"),
            Some(("__wasm_split_manifest.M.json", manifest)),
        );
        let assets = read(&root).unwrap();
        let (pkg, preloads, loader) = assets.split.unwrap().0.get_value();
        assert_eq!(pkg, "/pkg");
        assert_eq!(
            preloads["__page_view_1"],
            ["chunk_1", "split___page_view_1"]
        );
        assert_eq!(loader, "__wasm_split.S.js");
    }

    #[test]
    fn kinds_of_file_the_pages_do_not_name_are_left_alone() {
        let root = site(Some("js: J\nsomething-new: not/a hash\n"), None);
        assert_eq!(read(&root).unwrap().js_href(), "/pkg/itsm-bridge.J.js");
    }

    #[test]
    fn a_broken_manifest_or_hash_list_is_an_error_naming_the_file() {
        let root = site(None, Some(("__wasm_split_manifest.json", "not json")));
        let error = format!("{:#}", read(&root).unwrap_err());
        assert!(error.contains("__wasm_split_manifest.json"), "{error}");

        for bad in ["js J", "js: </script>", "wasm: ", "manifest: M"] {
            let root = site(Some(bad), None);
            let error = format!("{:#}", read(&root).unwrap_err());
            assert!(error.contains("hash.txt"), "{bad}: {error}");
        }
    }
}
