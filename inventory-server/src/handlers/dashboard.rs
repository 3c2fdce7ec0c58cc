//! The dashboard: a page at `/` and its assets under `/dashboard/`, embedded in the binary so
//! that serving it needs no file beside the binary and no other host. The page itself talks
//! only to the public API under `/api`, so it can do nothing that curl cannot.
//!
//! Asset URLs are not fingerprinted, so nothing may be cached without asking: every answer
//! says `Cache-Control: no-cache` and carries an ETag (a hash of the content, computed at
//! compile time), and a matching `If-None-Match` is answered 304 without a body.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::params::FilePath;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: u64,
}

/// FNV-1a, as a `const fn` so that each ETag is a constant of the binary.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../../dashboard/", $name)),
            etag: fnv1a(include_bytes!(concat!("../../dashboard/", $name))),
        }
    };
}

const INDEX: &str = "index.html";

const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("feed.js", "text/javascript; charset=utf-8"),
    asset!("chart.js", "text/javascript; charset=utf-8"),
    asset!("scan.js", "text/javascript; charset=utf-8"),
    asset!("schema.js", "text/javascript; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
];

/// Scripts, styles, fetches and images from this origin only; no frames, no form posts.
const CSP: &str = "default-src 'self'; img-src 'self' data:; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// GET /: the page.
pub fn index(_app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    serve(INDEX)
}

/// GET /dashboard/{file}: a script, the style sheet or the icon.
pub fn asset(_app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let FilePath { file } = req.path()?;
    serve(&file)
}

/// The file, with its ETag; the dispatcher answers a matching If-None-Match with 304.
fn serve(name: &str) -> Result<Reply, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no dashboard file {name}")))?;
    Ok(Reply::bytes(200, asset.content_type, asset.body)
        .with_header("ETag", format!("\"{:016x}\"", asset.etag))
        .with_header("Cache-Control", "no-cache")
        .with_header("X-Content-Type-Options", "nosniff")
        .with_header("Content-Security-Policy", CSP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_and_its_scripts_name_is_embedded() {
        assert_eq!(ASSETS[0].name, INDEX);
        let embedded = |file: &str| ASSETS.iter().any(|a| a.name == file);
        let page = std::str::from_utf8(ASSETS[0].body).unwrap();
        let mut named = 0;
        for piece in page.split("/dashboard/").skip(1) {
            let file = &piece[..piece.find('"').unwrap()];
            assert!(
                embedded(file),
                "index.html names {file}, which is not embedded"
            );
            named += 1;
        }
        assert!(
            named >= 3,
            "the page names its style sheet, script and icon"
        );
        for script in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(script.body).unwrap();
            for piece in text.split(" from \"./").skip(1) {
                let file = &piece[..piece.find('"').unwrap()];
                assert!(
                    embedded(file),
                    "{} imports {file}, which is not embedded",
                    script.name
                );
            }
        }
    }
}
