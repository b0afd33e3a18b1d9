//! How the front end's files are cached. cargo-leptos names the wasm, the
//! JS and the CSS after their content (`stepwise.<hash>.wasm`) and writes
//! the hashes to `hash.txt` beside the server binary; a file with a hashed
//! name never changes, so browsers keep it for a year without asking. The
//! pages and any unhashed file are revalidated on every load, so a new
//! release is picked up at once. The files themselves are served
//! precompressed (`.br`, `.gz`, made by `cargo leptos build --release
//! --precompress`) by leptos_axum's file handler when the browser accepts
//! the encoding.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// For a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For pages and unhashed files: use a stored copy only after asking.
pub const REVALIDATE: &str = "no-cache";

/// The content hashes of this build's front-end files.
#[derive(Clone, Debug, Default)]
pub struct Hashes(Arc<Vec<String>>);

impl Hashes {
    /// Reads `hash.txt` (lines `js: <hash>`, `wasm: <hash>`, `css: <hash>`)
    /// from beside the running binary; none when it is missing.
    pub fn beside_binary() -> Hashes {
        std::env::current_exe()
            .ok()
            .and_then(|exe| std::fs::read_to_string(exe.with_file_name("hash.txt")).ok())
            .map(|text| Hashes::parse(&text))
            .unwrap_or_default()
    }

    pub fn parse(text: &str) -> Hashes {
        let hashes = text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(_, h)| h.trim().to_string())
            .filter(|h| h.len() >= 8)
            .collect();
        Hashes(Arc::new(hashes))
    }

    /// Whether the site was built with hashed file names.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `path` names a file of this build by its hash.
    pub fn names(&self, path: &str) -> bool {
        let file = path.rsplit('/').next().unwrap_or(path);
        self.0.iter().any(|h| file.contains(&format!(".{h}.")))
    }
}

/// The `Cache-Control` a response to `path` gets (None: as it is).
pub fn cache_control(hashes: &Hashes, path: &str, is_html: bool) -> Option<&'static str> {
    if path.starts_with("/pkg/") {
        Some(if hashes.names(path) {
            IMMUTABLE
        } else {
            REVALIDATE
        })
    } else if is_html {
        Some(REVALIDATE)
    } else {
        None
    }
}

/// Sets `Cache-Control` (and `Vary: Accept-Encoding` on files that may be
/// sent compressed) unless the handler set its own.
pub async fn caching(State(hashes): State<Hashes>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let h = res.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL)
        && let Some(v) = cache_control(&hashes, &path, is_html)
    {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(v));
    }
    if path.starts_with("/pkg/") && !h.contains_key(header::VARY) {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_files_are_kept_for_good_and_pages_are_asked_about() {
        let h =
            Hashes::parse("js: AbCdEfGh12345678\nwasm: ZyXwVu98765432-_\ncss: Qq11Ww22Ee33Rr44\n");
        assert_eq!(
            cache_control(&h, "/pkg/stepwise.ZyXwVu98765432-_.wasm", false),
            Some(IMMUTABLE)
        );
        assert_eq!(
            cache_control(&h, "/pkg/stepwise.Qq11Ww22Ee33Rr44.css", false),
            Some(IMMUTABLE)
        );
        // an old build's name, or an unhashed one: ask first
        assert_eq!(
            cache_control(&h, "/pkg/stepwise.00000000aaaa.wasm", false),
            Some(REVALIDATE)
        );
        assert_eq!(
            cache_control(&h, "/pkg/stepwise.wasm", false),
            Some(REVALIDATE)
        );
        assert_eq!(cache_control(&h, "/workflows", true), Some(REVALIDATE));
        assert_eq!(cache_control(&h, "/api/v1/runs", false), None);
        assert!(Hashes::parse("").is_empty());
        assert!(!Hashes::default().names("/pkg/stepwise..wasm"));
    }
}
