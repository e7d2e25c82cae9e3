//! Automatic persisted queries, as Apollo clients send them: a request may carry
//! `extensions.persistedQuery = { version: 1, sha256Hash }` instead of (or with) its query text.
//! A hash the server has not seen is answered with `PERSISTED_QUERY_NOT_FOUND`, and the client
//! retries with the text, which is stored once it parses. The store is a bounded LRU in memory.

use std::{num::NonZeroUsize, sync::Mutex};

use lru::LruCache;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The `PERSISTED_QUERY_NOT_FOUND` message Apollo clients look for.
pub const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";

/// Why a persisted-query extension was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ApqError {
    /// The extension is not `{ version: 1, sha256Hash: "<64 hex digits>" }`.
    Malformed(&'static str),
    /// The hash is unknown and no text came with it; the client should resend with the text.
    NotFound,
    /// The text sent does not hash to the hash sent.
    Mismatch,
}

/// What to run for a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// No persisted-query extension: run the request as sent.
    Plain,
    /// The text was known under the hash: run it.
    Found(String),
    /// Text and hash agree: run it, and [`Store::insert`] it once it parses.
    Register([u8; 32]),
}

/// Persisted queries by sha256 of their text.
pub struct Store {
    queries: Mutex<LruCache<[u8; 32], String>>,
}

impl Store {
    /// A store that keeps at most `capacity` queries (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            queries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// Resolves a request's `extensions` and `query` (empty when absent).
    pub fn resolve(&self, extensions: Option<&Json>, query: &str) -> Result<Resolved, ApqError> {
        let Some(ext) = extensions.and_then(|e| e.get("persistedQuery")) else {
            return Ok(Resolved::Plain);
        };
        let hash = parse(ext)?;
        if query.is_empty() {
            return self
                .queries
                .lock()
                .map_err(|_| ApqError::NotFound)?
                .get(&hash)
                .cloned()
                .map(Resolved::Found)
                .ok_or(ApqError::NotFound);
        }
        if <[u8; 32]>::from(Sha256::digest(query.as_bytes())) != hash {
            return Err(ApqError::Mismatch);
        }
        Ok(Resolved::Register(hash))
    }

    /// Keeps `query` under `hash` (the least recently used query goes when full).
    pub fn insert(&self, hash: [u8; 32], query: &str) {
        if let Ok(mut queries) = self.queries.lock() {
            queries.put(hash, query.to_owned());
        }
    }
}

fn parse(ext: &Json) -> Result<[u8; 32], ApqError> {
    let Json::Object(map) = ext else {
        return Err(ApqError::Malformed(
            "`extensions.persistedQuery` must be an object",
        ));
    };
    if map.get("version").and_then(Json::as_i64) != Some(1) {
        return Err(ApqError::Malformed(
            "only `extensions.persistedQuery.version` 1 is supported",
        ));
    }
    let hex = map
        .get("sha256Hash")
        .and_then(Json::as_str)
        .filter(|h| h.len() == 64)
        .ok_or(ApqError::Malformed(
            "`extensions.persistedQuery.sha256Hash` must be 64 hex digits",
        ))?;
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte =
            u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16).map_err(|_| {
                ApqError::Malformed("`extensions.persistedQuery.sha256Hash` must be 64 hex digits")
            })?;
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ext(query: &str) -> Json {
        let hash = Sha256::digest(query.as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        json!({ "persistedQuery": { "version": 1, "sha256Hash": hex } })
    }

    #[test]
    fn unknown_then_registered_then_found() {
        let store = Store::new(10);
        let q = "{ __typename }";
        assert_eq!(store.resolve(Some(&ext(q)), ""), Err(ApqError::NotFound));
        let Ok(Resolved::Register(hash)) = store.resolve(Some(&ext(q)), q) else {
            panic!("text and hash agree");
        };
        store.insert(hash, q);
        assert_eq!(
            store.resolve(Some(&ext(q)), ""),
            Ok(Resolved::Found(q.to_owned()))
        );
    }

    #[test]
    fn refuses_mismatch_and_malformed() {
        let store = Store::new(10);
        assert_eq!(
            store.resolve(Some(&ext("{ a }")), "{ b }"),
            Err(ApqError::Mismatch)
        );
        let bad = json!({ "persistedQuery": { "version": 2, "sha256Hash": "00" } });
        assert!(matches!(
            store.resolve(Some(&bad), ""),
            Err(ApqError::Malformed(_))
        ));
        let short = json!({ "persistedQuery": { "version": 1, "sha256Hash": "ab" } });
        assert!(matches!(
            store.resolve(Some(&short), ""),
            Err(ApqError::Malformed(_))
        ));
        let non_hex = json!({ "persistedQuery": { "version": 1, "sha256Hash": "é".repeat(32) } });
        assert!(matches!(
            store.resolve(Some(&non_hex), ""),
            Err(ApqError::Malformed(_))
        ));
        assert_eq!(store.resolve(None, "{ a }"), Ok(Resolved::Plain));
    }

    #[test]
    fn bounded_least_recently_used_goes() {
        let store = Store::new(2);
        for q in ["{ a }", "{ b }", "{ c }"] {
            let Ok(Resolved::Register(h)) = store.resolve(Some(&ext(q)), q) else {
                panic!("registers");
            };
            store.insert(h, q);
        }
        assert_eq!(
            store.resolve(Some(&ext("{ a }")), ""),
            Err(ApqError::NotFound)
        );
        assert!(store.resolve(Some(&ext("{ c }")), "").is_ok());
    }
}
