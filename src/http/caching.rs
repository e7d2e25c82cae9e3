//! HTTP caching of GET query responses: `Cache-Control` from the schema's cache hints and who
//! asked, a weak `ETag` over the body (`If-None-Match` answers `304`), and `Surrogate-Key`
//! naming every entity and listing the response shows, so a CDN can purge exactly what a
//! change touched.
//!
//! Policy, first match wins:
//! - a bearer token, a preview token or a private hint: `private, no-store`;
//! - errors in the response: `no-store`;
//! - the shortest `max-age` hint of the selected types: `public, max-age=N`;
//! - no hint (only `__typename`, say): `no-cache` (a cache must revalidate, cheap with `ETag`).

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use sha2::{Digest, Sha256};

use crate::{domain::auth::Viewer, graphql::cache::Collected};

/// The `Surrogate-Key` header, as Fastly and Varnish (xkey) read it: keys separated by spaces.
pub const SURROGATE_KEY: &str = "surrogate-key";

/// What a GET response may be cached as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    value: String,
    public_for: Option<u32>,
}

impl Policy {
    /// The `Cache-Control` value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// A shared cache may store the response (perhaps only to revalidate it).
    pub fn is_shared(&self) -> bool {
        !self.value.contains("no-store")
    }

    /// Seconds a shared cache may serve the response without asking again, when it may.
    pub fn public_for(&self) -> Option<u32> {
        self.public_for
    }
}

/// The policy for a GET query answered with `response` for `viewer`.
pub fn policy(viewer: Viewer, response: &async_graphql::Response, collected: &Collected) -> Policy {
    let hint = response.cache_control;
    let mut public_for = None;
    let value = if viewer != Viewer::Anonymous || collected.private || !hint.public {
        "private, no-store".to_owned()
    } else if !response.errors.is_empty() {
        "no-store".to_owned()
    } else if hint.max_age > 0 {
        public_for = u32::try_from(hint.max_age).ok();
        format!("public, max-age={}", hint.max_age)
    } else {
        "no-cache".to_owned()
    };
    Policy { value, public_for }
}

/// A rendered response with its caching headers, ready to be answered (again, when the
/// response cache keeps it).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub status: StatusCode,
    pub body: Bytes,
    pub media: &'static str,
    /// Weak entity tag of `body`, when it was asked for.
    pub etag: Option<HeaderValue>,
    /// `Cache-Control` for GET.
    pub cache_control: HeaderValue,
    /// `Surrogate-Key`, when the response may be shared and names any.
    pub surrogate: Option<HeaderValue>,
    /// `body` gzipped, kept with a stored response so that hits are not compressed again.
    pub gzip: Option<Bytes>,
}

impl Rendered {
    /// `body` with the headers `policy` and `collected` call for; its entity tag is computed
    /// when `tagged` (a GET, or a response that will be stored).
    pub fn new(
        status: StatusCode,
        body: String,
        media: &'static str,
        (policy, collected): (&Policy, &Collected),
        tagged: bool,
    ) -> Self {
        let etag = tagged
            .then(|| HeaderValue::from_str(&etag(body.as_bytes())).ok())
            .flatten();
        let cache_control = HeaderValue::from_str(policy.value())
            .unwrap_or_else(|_| HeaderValue::from_static("no-store"));
        let surrogate = (policy.is_shared() && !collected.keys.is_empty())
            .then(|| {
                let keys = collected
                    .keys
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" ");
                HeaderValue::from_str(&keys).ok()
            })
            .flatten();
        Self {
            status,
            body: Bytes::from(body),
            media,
            etag,
            cache_control,
            surrogate,
            gzip: None,
        }
    }

    /// Adds the gzipped body (when compressing works, which it does in memory).
    pub fn with_gzip(mut self) -> Self {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(self.body.len() / 2),
            flate2::Compression::default(),
        );
        self.gzip = encoder
            .write_all(&self.body)
            .and_then(|()| encoder.finish())
            .ok()
            .map(Bytes::from);
        self
    }

    /// The answer to a GET: the body with caching headers, or `304 Not Modified` when the
    /// client's `If-None-Match` names the body's tag.
    pub fn answer_get(&self, request: &HeaderMap) -> HttpResponse {
        let ok = self.status == StatusCode::OK;
        let not_modified = ok
            && self
                .etag
                .as_ref()
                .and_then(|tag| tag.to_str().ok())
                .is_some_and(|tag| if_none_match(request, tag));
        let mut resp = if not_modified {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            self.answer_body(request)
        };
        let headers = resp.headers_mut();
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        // The body depends on the media type asked for and on the credentials sent.
        headers.append(
            header::VARY,
            HeaderValue::from_static("accept, authorization"),
        );
        if ok && let Some(tag) = &self.etag {
            headers.insert(header::ETAG, tag.clone());
        }
        if let Some(keys) = &self.surrogate {
            headers.insert(SURROGATE_KEY, keys.clone());
        }
        resp
    }

    /// The answer to a POST: the body, never to be stored by an HTTP cache.
    pub fn answer_post(&self, request: &HeaderMap) -> HttpResponse {
        let mut resp = self.answer_body(request);
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }

    /// The body, gzipped when there is a gzipped copy and the client accepts it (the
    /// compression layer leaves an encoded body alone).
    fn answer_body(&self, request: &HeaderMap) -> HttpResponse {
        let gzip = self.gzip.as_ref().filter(|_| accepts_gzip(request));
        let mut resp = (self.status, gzip.unwrap_or(&self.body).clone()).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.media));
        if gzip.is_some() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        resp
    }
}

/// `Accept-Encoding` admits gzip (listed, and not with `q=0`).
pub fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// A weak entity tag over the first 128 bits of the body's sha256. Weak, because compression
/// (further out in the stack) sends other bytes for the same body under the same tag.
fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// `If-None-Match` lists `tag` (weak comparison, as RFC 9110 asks for this header) or is `*`.
fn if_none_match(request: &HeaderMap, tag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| {
            candidate == "*" || candidate.trim_start_matches("W/") == tag.trim_start_matches("W/")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(inm: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(inm).expect("ascii"),
        );
        h
    }

    #[test]
    fn if_none_match_lists_weak_and_star() {
        let tag = etag(b"{}");
        assert!(if_none_match(&headers(&tag), &tag));
        let strong = tag.trim_start_matches("W/");
        assert!(if_none_match(&headers(&format!("\"x\", {strong}")), &tag));
        assert!(if_none_match(&headers("*"), &tag));
        assert!(!if_none_match(&headers("\"x\""), &tag));
        assert!(!if_none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn accept_encoding_admits_gzip_unless_refused() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(v).expect("ascii"),
            );
            accepts_gzip(&h)
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("br"));
        assert!(!with("gzip;q=0"));
        assert!(!with("gzip; q=0.0, br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn policy_orders_private_errors_hints() {
        let mut response = async_graphql::Response::new(async_graphql::Value::Null);
        let collected = Collected::default();
        assert_eq!(
            policy(Viewer::Anonymous, &response, &collected).value(),
            "no-cache"
        );
        response.cache_control.max_age = 60;
        let public = policy(Viewer::Anonymous, &response, &collected);
        assert_eq!(public.value(), "public, max-age=60");
        assert_eq!(public.public_for(), Some(60));
        let private = Collected {
            private: true,
            ..Collected::default()
        };
        assert_eq!(
            policy(Viewer::Anonymous, &response, &private).value(),
            "private, no-store"
        );
        response
            .errors
            .push(async_graphql::ServerError::new("x", None));
        assert_eq!(
            policy(Viewer::Anonymous, &response, &collected).value(),
            "no-store"
        );
    }
}
