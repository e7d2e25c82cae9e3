//! GraphiQL from files the binary carries: the page `GET /graphql` shows a browser, and its
//! scripts and styles under `/graphiql/{digest}/{name}`. Nothing is loaded from another host,
//! and the page's Content-Security-Policy tells the browser so.
//!
//! Each asset URL carries a digest of the file, so assets are cached for a year as immutable
//! and a new build never meets a stale copy; the page itself is revalidated on every load.
//! The vendored files and how to refresh them: `assets/graphiql/README.md`.

use std::sync::LazyLock;

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// A file served under `/graphiql/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../../assets/graphiql/", $name)),
        }
    };
}

/// The npm builds (React 18 UMD, then GraphiQL 3 UMD, which expects `React` and `ReactDOM`
/// globals) and our script that mounts GraphiQL.
static ASSETS: [Asset; 5] = [
    asset!("graphiql.min.css", CSS),
    asset!("react.production.min.js", JS),
    asset!("react-dom.production.min.js", JS),
    asset!("graphiql.min.js", JS),
    asset!("init.js", JS),
];

/// An asset with its digest, computed once.
struct Served {
    asset: &'static Asset,
    /// The first 16 hex digits of the file's SHA-256: its URL segment and (quoted) its ETag.
    digest: String,
}

impl Served {
    fn url(&self) -> String {
        format!("/graphiql/{}/{}", self.digest, self.asset.name)
    }
}

static SERVED: LazyLock<Vec<Served>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let hash = Sha256::digest(asset.body);
            let digest = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
            Served { asset, digest }
        })
        .collect()
});

fn url(name: &str) -> String {
    SERVED
        .iter()
        .find(|s| s.asset.name == name)
        .map(Served::url)
        .unwrap_or_default()
}

static PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Content API · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
<script defer src="{react}"></script>
<script defer src="{react_dom}"></script>
<script defer src="{graphiql}"></script>
<script defer src="{init}"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. Without it, send queries to /graphql with any HTTP client.</noscript>
</body>
</html>
"#,
        css = url("graphiql.min.css"),
        react = url("react.production.min.js"),
        react_dom = url("react-dom.production.min.js"),
        graphiql = url("graphiql.min.js"),
        init = url("init.js"),
    )
});

/// Same-origin only. Styles may be inline: GraphiQL's dialogs inject `<style>` elements, and its
/// fonts are `data:` URLs inside the stylesheet.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src data:; img-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The GraphiQL page. It is served whether or not introspection is on: without it GraphiQL
/// still runs queries (with no docs or completion) and shows the server's refusal of its
/// schema query.
pub fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            // GET /graphql answers JSON to other clients.
            (header::VARY, "Accept"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE.as_str(),
    )
        .into_response()
}

/// The routes for the page's assets; merged into the application router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/graphiql/{digest}/{name}", get(asset))
}

async fn asset(Path((digest, name)): Path<(String, String)>, headers: HeaderMap) -> Response {
    // An old digest is refused rather than answered with today's file: that answer would be
    // cached as immutable under a URL that names other content.
    let Some(served) = SERVED
        .iter()
        .find(|s| s.asset.name == name && s.digest == digest)
    else {
        return (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response();
    };
    let etag = format!("\"{}\"", served.digest);
    let cache = [
        (
            header::CACHE_CONTROL,
            "public, max-age=31536000, immutable".to_owned(),
        ),
        (header::ETAG, etag.clone()),
    ];
    if matches_etag(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(served.asset.content_type),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        served.asset.body,
    )
        .into_response()
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for GET).
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| {
            list.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(matches_etag(&headers, "\"abc\""));
        assert!(!matches_etag(&headers, "\"ab\""));
        assert!(!matches_etag(&HeaderMap::new(), "\"abc\""));
    }
}
