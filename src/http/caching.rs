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
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use sha2::{Digest, Sha256};

use crate::{domain::auth::Viewer, graphql::cache::Collected};

/// The `Surrogate-Key` header, as Fastly and Varnish (xkey) read it: keys separated by spaces.
pub const SURROGATE_KEY: &str = "surrogate-key";

/// What a GET response may be cached as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy(String);

impl Policy {
    /// The `Cache-Control` value.
    pub fn value(&self) -> &str {
        &self.0
    }

    /// A shared cache may store the response (perhaps only to revalidate it).
    pub fn is_shared(&self) -> bool {
        !self.0.contains("no-store")
    }
}

/// The policy for a GET query answered with `response` for `viewer`.
pub fn policy(viewer: Viewer, response: &async_graphql::Response, collected: &Collected) -> Policy {
    let hint = response.cache_control;
    let value = if viewer != Viewer::Anonymous || collected.private || !hint.public {
        "private, no-store".to_owned()
    } else if !response.errors.is_empty() {
        "no-store".to_owned()
    } else if hint.max_age > 0 {
        format!("public, max-age={}", hint.max_age)
    } else {
        "no-cache".to_owned()
    };
    Policy(value)
}

/// The response to a GET: `body` with caching headers, or `304 Not Modified` when the client's
/// `If-None-Match` names the body's tag.
pub fn answer(
    request: &HeaderMap,
    status: StatusCode,
    body: String,
    media: &'static str,
    policy: &Policy,
    collected: &Collected,
) -> HttpResponse {
    let tag = etag(body.as_bytes());
    let not_modified = status == StatusCode::OK && if_none_match(request, &tag);
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
        resp
    };
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(policy.value()) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    // The body depends on the media type asked for and on the credentials sent.
    headers.insert(
        header::VARY,
        HeaderValue::from_static("accept, authorization"),
    );
    if status == StatusCode::OK
        && let Ok(v) = HeaderValue::from_str(&tag)
    {
        headers.insert(header::ETAG, v);
    }
    if policy.is_shared() && !collected.keys.is_empty() {
        let keys = collected
            .keys
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        if let Ok(v) = HeaderValue::from_str(&keys) {
            headers.insert(SURROGATE_KEY, v);
        }
    }
    resp
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
    fn policy_orders_private_errors_hints() {
        let mut response = async_graphql::Response::new(async_graphql::Value::Null);
        let collected = Collected::default();
        assert_eq!(
            policy(Viewer::Anonymous, &response, &collected).value(),
            "no-cache"
        );
        response.cache_control.max_age = 60;
        assert_eq!(
            policy(Viewer::Anonymous, &response, &collected).value(),
            "public, max-age=60"
        );
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
