//! An in-process cache of whole responses to anonymous queries, so a popular page is answered
//! without touching the database. It stores only what a shared HTTP cache may already store
//! (see [`caching::policy`](super::caching::policy): `public` with a `max-age`, no errors, no
//! credential), for at most that `max-age`, and drops entries as soon as the content they show
//! changes:
//!
//! - an event about an article's content, status or tags, and any other content mutation
//!   ([`Event::Changed`]), empties the cache: listings, counts and nested objects can all change;
//! - a counter change ([`Event::Stats`]) drops the entries showing that article, and every
//!   listing ordered by a counter.
//!
//! Events reach the cache as the process publishes them and, on Postgres, from other processes
//! through the event hub's LISTEN connection. A change made outside the API (SQL by hand, the
//! `import` command on SQLite) is seen when entries expire, as by any HTTP cache.
//!
//! Each fill takes a ticket before it executes; an event that arrives while it runs makes the
//! ticket stale, and a stale fill is not stored. So no entry outlives an event it may predate.
//!
//! When anonymous queries read a replica, a fill may run after an event yet read the replica
//! from before the change. With a settling time, what a fill shows is not stored until that
//! long after the last event concerning it, so a replica lagging less never leaves a stale
//! answer behind.

use std::{
    collections::HashMap,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::http::HeaderValue;
use lru::LruCache;
use sha2::{Digest, Sha256};

use super::caching::Rendered;
use crate::domain::live::Event;

/// Bookkeeping per entry, on top of its body and headers.
const ENTRY_OVERHEAD: usize = 256;

/// A stored response.
#[derive(Debug)]
pub struct Entry {
    /// The response with its headers.
    pub rendered: Rendered,
    /// The articles it shows, by id.
    articles: Box<[i32]>,
    /// It shows a listing ordered by a counter.
    by_counter: bool,
    /// The event sequence number when its execution started.
    start: u64,
    expires: Instant,
    size: usize,
}

/// What a response is stored with, besides itself.
pub struct Fill {
    /// Surrogate keys of the response; `article:<id>` names an article it shows.
    pub keys: Vec<String>,
    /// It shows a listing ordered by a counter.
    pub by_counter: bool,
    /// How long it may be served: the response's `max-age`.
    pub ttl: Duration,
}

/// Taken before executing a request that may be stored.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    key: u128,
    start: u64,
    at: Instant,
}

/// The cache; shared by every request of the process.
pub struct ResponseCache {
    state: Mutex<State>,
    /// Number of events applied so far.
    seq: AtomicU64,
    max_bytes: usize,
    /// How long after an event fills showing what it concerns are not stored (reads from a
    /// replica).
    settle: Option<Duration>,
}

/// When an event was applied: its sequence number and instant.
#[derive(Clone, Copy)]
struct Mark {
    seq: u64,
    at: Option<Instant>,
}

impl Mark {
    const NEVER: Self = Self { seq: 0, at: None };

    /// The event came after a fill that started at `start`, or (with `settle`) too shortly
    /// before `at`.
    fn spoils(self, start: u64, at: Instant, settle: Option<Duration>) -> bool {
        self.seq > start
            || settle
                .zip(self.at)
                .is_some_and(|(settle, event)| at.saturating_duration_since(event) < settle)
    }
}

struct State {
    entries: LruCache<u128, std::sync::Arc<Entry>>,
    bytes: usize,
    /// The last event that emptied the cache.
    flushed: Mark,
    /// The last counter change of each article since then.
    counters: HashMap<i32, Mark>,
    /// The last counter change of any article.
    any_counter: Mark,
}

impl ResponseCache {
    /// A cache holding at most `max_bytes` of responses (`None` when 0), not storing fills
    /// until `settle` after the last event concerning them.
    pub fn new(max_bytes: usize, settle: Option<Duration>) -> Option<Self> {
        (max_bytes > 0).then(|| Self {
            state: Mutex::new(State {
                entries: LruCache::unbounded(),
                bytes: 0,
                flushed: Mark::NEVER,
                counters: HashMap::new(),
                any_counter: Mark::NEVER,
            }),
            seq: AtomicU64::new(0),
            max_bytes,
            settle,
        })
    }

    /// The key of a request: its query text, operation name, variables and the media type
    /// asked for. Only queries are ever stored, so a mutation's text never finds an entry.
    pub fn key(query: &str, operation: Option<&str>, variables: &str, media: &str) -> u128 {
        let mut hash = Sha256::new();
        for part in [query, operation.unwrap_or_default(), variables, media] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        u128::from_le_bytes(first)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored response for `key`, if it is still fresh.
    pub fn get(&self, key: u128) -> Option<std::sync::Arc<Entry>> {
        let now = Instant::now();
        let mut state = self.lock();
        let entry = state.entries.get(&key)?.clone();
        if entry.expires > now && state.fresh(&entry.articles, entry.by_counter, entry.start) {
            return Some(entry);
        }
        if let Some(gone) = state.entries.pop(&key) {
            state.bytes -= gone.size;
        }
        None
    }

    /// A ticket for filling `key`: take it before executing the request.
    pub fn ticket(&self, key: u128) -> Ticket {
        Ticket {
            key,
            start: self.seq.load(Ordering::SeqCst),
            at: Instant::now(),
        }
    }

    /// Stores a response executed under `ticket`, unless an event it may predate has arrived
    /// since, or it is too large to be worth a share of the cache.
    pub fn put(&self, ticket: Ticket, rendered: Rendered, fill: Fill) {
        let articles: Box<[i32]> = fill
            .keys
            .iter()
            .filter_map(|k| k.strip_prefix("article:")?.parse().ok())
            .collect();
        let size = rendered.body.len()
            + rendered.gzip.as_ref().map_or(0, axum::body::Bytes::len)
            + rendered.surrogate.as_ref().map_or(0, HeaderValue::len)
            + articles.len() * size_of::<i32>()
            + ENTRY_OVERHEAD;
        if size > self.max_bytes / 8 || fill.ttl.is_zero() {
            return;
        }
        let entry = std::sync::Arc::new(Entry {
            rendered,
            articles,
            by_counter: fill.by_counter,
            start: ticket.start,
            expires: ticket.at + fill.ttl,
            size,
        });
        let mut state = self.lock();
        let spoiled = |mark: Mark| mark.spoils(ticket.start, ticket.at, self.settle);
        if spoiled(state.flushed)
            || (entry.by_counter && spoiled(state.any_counter))
            || entry
                .articles
                .iter()
                .any(|id| state.counters.get(id).is_some_and(|&m| spoiled(m)))
        {
            return;
        }
        if let Some(old) = state.entries.put(ticket.key, entry) {
            state.bytes -= old.size;
        }
        state.bytes += size;
        self.evict(&mut state);
    }

    /// Replaces `entry`, stored under `key`, by a copy that also holds its body gzipped
    /// (unless it was replaced or dropped meanwhile); returns the copy.
    pub fn with_gzip(&self, key: u128, entry: &std::sync::Arc<Entry>) -> std::sync::Arc<Entry> {
        let rendered = entry.rendered.clone().with_gzip();
        let size = entry.size + rendered.gzip.as_ref().map_or(0, axum::body::Bytes::len);
        let upgraded = std::sync::Arc::new(Entry {
            rendered,
            articles: entry.articles.clone(),
            size,
            ..**entry
        });
        let mut state = self.lock();
        if state
            .entries
            .peek(&key)
            .is_some_and(|current| std::sync::Arc::ptr_eq(current, entry))
        {
            state.entries.put(key, upgraded.clone());
            state.bytes += size - entry.size;
            self.evict(&mut state);
        }
        upgraded
    }

    fn evict(&self, state: &mut State) {
        while state.bytes > self.max_bytes {
            let Some((_, gone)) = state.entries.pop_lru() else {
                break;
            };
            state.bytes -= gone.size;
        }
    }

    /// Applies an event: a counter change drops what shows that article's counters, anything
    /// else empties the cache.
    pub fn apply(&self, event: Event) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mark = Mark {
            seq,
            at: Some(Instant::now()),
        };
        let mut state = self.lock();
        match event {
            Event::Stats(id) => {
                state.counters.insert(id, mark);
                state.any_counter = mark;
            }
            _ => {
                state.flushed = mark;
                state.counters.clear();
                state.entries.clear();
                state.bytes = 0;
            }
        }
    }

    /// Entries held and their bytes.
    pub fn usage(&self) -> (usize, usize) {
        let state = self.lock();
        (state.entries.len(), state.bytes)
    }
}

impl State {
    /// Whether a response that started at `start` and shows `articles` came after every event
    /// that concerns it.
    fn fresh(&self, articles: &[i32], by_counter: bool, start: u64) -> bool {
        self.flushed.seq <= start
            && !(by_counter && self.any_counter.seq > start)
            && articles
                .iter()
                .all(|id| self.counters.get(id).is_none_or(|m| m.seq <= start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(bytes: Vec<u8>) -> Rendered {
        Rendered {
            status: axum::http::StatusCode::OK,
            body: bytes.into(),
            media: "application/json",
            etag: Some(HeaderValue::from_static("W/\"x\"")),
            cache_control: HeaderValue::from_static("public, max-age=60"),
            surrogate: None,
            gzip: None,
        }
    }

    fn fill(keys: &[&str], by_counter: bool) -> Fill {
        Fill {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            by_counter,
            ttl: Duration::from_secs(60),
        }
    }

    fn cache() -> ResponseCache {
        ResponseCache::new(1 << 20, None).expect("enabled")
    }

    fn store(cache: &ResponseCache, key: u128, keys: &[&str]) {
        let ticket = cache.ticket(key);
        cache.put(ticket, body(b"{}".to_vec()), fill(keys, false));
    }

    #[test]
    fn keys_tell_requests_apart() {
        let key = ResponseCache::key("{ a }", None, "{}", "application/json");
        assert_eq!(
            key,
            ResponseCache::key("{ a }", None, "{}", "application/json")
        );
        assert_ne!(
            key,
            ResponseCache::key("{ a }", Some("A"), "{}", "application/json")
        );
        assert_ne!(
            key,
            ResponseCache::key("{ a }", None, "{\"x\":1}", "application/json")
        );
        assert_ne!(
            key,
            ResponseCache::key("{ a }", None, "{}", "application/graphql-response+json")
        );
        // Parts are length-prefixed, so moving text between them changes the key.
        assert_ne!(
            ResponseCache::key("ab", Some("c"), "", ""),
            ResponseCache::key("a", Some("bc"), "", "")
        );
    }

    #[test]
    fn a_content_event_empties_the_cache() {
        let cache = cache();
        store(&cache, 1, &["article:1", "articles"]);
        store(&cache, 2, &["author:3"]);
        assert!(cache.get(1).is_some() && cache.get(2).is_some());
        cache.apply(Event::Changed);
        assert!(cache.get(1).is_none() && cache.get(2).is_none());
        assert_eq!(cache.usage(), (0, 0));
        store(&cache, 1, &["article:1"]);
        cache.apply(Event::Updated(9));
        assert!(
            cache.get(1).is_none(),
            "any article change may change any listing"
        );
    }

    #[test]
    fn a_counter_change_drops_only_what_shows_the_article() {
        let cache = cache();
        store(&cache, 1, &["article:1", "articles"]);
        store(&cache, 2, &["article:2"]);
        let ticket = cache.ticket(3);
        cache.put(ticket, body(b"{}".to_vec()), fill(&["article:5"], true));
        cache.apply(Event::Stats(1));
        assert!(cache.get(1).is_none());
        assert!(cache.get(2).is_some());
        assert!(
            cache.get(3).is_none(),
            "a listing by views may change order"
        );
        // What is filled afterwards is fresh again.
        store(&cache, 1, &["article:1"]);
        assert!(cache.get(1).is_some());
    }

    #[test]
    fn a_fill_that_an_event_overtook_is_not_stored() {
        let cache = cache();
        let ticket = cache.ticket(1);
        cache.apply(Event::Stats(1));
        cache.put(ticket, body(b"{}".to_vec()), fill(&["article:1"], false));
        assert!(cache.get(1).is_none());
        let ticket = cache.ticket(2);
        cache.apply(Event::Changed);
        cache.put(ticket, body(b"{}".to_vec()), fill(&["tag:1"], false));
        assert!(cache.get(2).is_none());
    }

    #[test]
    fn a_gzip_copy_replaces_only_the_entry_it_was_made_from() {
        let cache = cache();
        store(&cache, 1, &["article:1"]);
        let entry = cache.get(1).expect("stored");
        let (_, before) = cache.usage();
        let upgraded = cache.with_gzip(1, &entry);
        assert!(upgraded.rendered.gzip.is_some());
        let now = cache.get(1).expect("still stored");
        assert!(now.rendered.gzip.is_some());
        assert!(cache.usage().1 > before, "the copy is counted");
        // Dropped meanwhile: the copy is answered but not stored.
        cache.apply(Event::Changed);
        let _ = cache.with_gzip(1, &entry);
        assert_eq!(cache.usage(), (0, 0));
    }

    #[test]
    fn with_a_settling_time_fills_soon_after_an_event_are_not_stored() {
        let cache = ResponseCache::new(1 << 20, Some(Duration::from_millis(200))).expect("on");
        cache.apply(Event::Stats(1));
        store(&cache, 1, &["article:1"]);
        store(&cache, 2, &["article:2"]);
        assert!(
            cache.get(1).is_none(),
            "the replica may not show the new count yet"
        );
        assert!(cache.get(2).is_some(), "another article is not concerned");
        cache.apply(Event::Changed);
        store(&cache, 2, &["article:2"]);
        assert!(cache.get(2).is_none());
        std::thread::sleep(Duration::from_millis(250));
        store(&cache, 1, &["article:1"]);
        assert!(cache.get(1).is_some(), "settled");
    }

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let cache = ResponseCache::new(64 * 1024, None).expect("enabled");
        let ticket = cache.ticket(1);
        let mut short = fill(&[], false);
        short.ttl = Duration::from_millis(1);
        cache.put(ticket, body(b"{}".to_vec()), short);
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get(1).is_none());
        assert_eq!(cache.usage(), (0, 0));
        // An entry over an eighth of the budget is not worth storing.
        let ticket = cache.ticket(2);
        cache.put(ticket, body(vec![b' '; 9 * 1024]), fill(&[], false));
        assert!(cache.get(2).is_none());
        // Least recently used entries go first once the budget is spent.
        for key in 10..30 {
            let ticket = cache.ticket(key);
            cache.put(ticket, body(vec![b' '; 4 * 1024]), fill(&[], false));
            assert!(cache.get(10).is_some(), "kept warm, so never evicted");
        }
        let (entries, bytes) = cache.usage();
        assert!(
            bytes <= 64 * 1024 && entries < 20,
            "{entries} entries, {bytes} bytes"
        );
        assert!(cache.get(11).is_none());
        assert!(cache.get(29).is_some());
        assert!(ResponseCache::new(0, None).is_none());
    }
}
