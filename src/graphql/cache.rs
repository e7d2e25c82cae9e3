//! What a response may be cached as, learnt while it executes: the surrogate keys of every
//! entity and listing it shows (so a CDN can purge exactly what a change touched), and whether
//! anything in it depended on a credential.
//!
//! Keys are recorded where database rows become GraphQL objects (the `From<Model>` impls) and
//! where listings and counts are resolved. Recording goes to a task-local collector that
//! [`collect`] sets up around one execution; outside it (tests calling types directly,
//! mutations run elsewhere) recording does nothing. Dataloader fetches run in the request's own
//! task (see `loaders::batch`), so what they load is recorded too.

use std::{cell::RefCell, collections::BTreeSet, future::Future};

tokio::task_local! {
    static COLLECTOR: RefCell<Collected>;
}

/// What one execution recorded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Collected {
    /// Surrogate keys, sorted and without duplicates.
    pub keys: BTreeSet<String>,
    /// Something in the response depended on a credential (a preview token, say), so it must
    /// not be stored by a shared cache.
    pub private: bool,
    /// The response shows a listing ordered by a counter (views, likes), which any counter
    /// change may reorder.
    pub by_counter: bool,
}

/// Runs `fut`, returning its output and what it recorded.
pub async fn collect<F: Future>(fut: F) -> (F::Output, Collected) {
    let cell = RefCell::new(Collected::default());
    COLLECTOR
        .scope(cell, async move {
            let out = fut.await;
            let collected = COLLECTOR.with(|c| std::mem::take(&mut *c.borrow_mut()));
            (out, collected)
        })
        .await
}

fn record(f: impl FnOnce(&mut Collected)) {
    // Outside an execution there is nothing to record into.
    let _ = COLLECTOR.try_with(|c| f(&mut c.borrow_mut()));
}

/// The response shows this entity: `article:<id>`, `author:<id>` or `tag:<id>`.
pub fn entity(kind: &'static str, id: i32) {
    record(|c| {
        c.keys.insert(format!("{kind}:{id}"));
    });
}

/// Which set of articles a listing (or a count) reads.
#[derive(Clone, Copy, Debug)]
pub enum ArticleList {
    /// Any listing not scoped to one author or tag by id: `articles`.
    All,
    /// One author's articles: `author:<id>:articles`.
    OfAuthor(i32),
    /// One tag's articles: `tag:<id>:articles`.
    OfTag(i32),
}

/// The response shows a listing or count of articles, so a change in which articles belong to
/// it (publish, unpublish, delete, retagging) must purge it.
pub fn article_list(list: ArticleList) {
    let key = match list {
        ArticleList::All => "articles".to_owned(),
        ArticleList::OfAuthor(id) => format!("author:{id}:articles"),
        ArticleList::OfTag(id) => format!("tag:{id}:articles"),
    };
    record(|c| {
        c.keys.insert(key);
    });
}

/// The response shows a listing of all authors (`authors`) or all tags (`tags`).
pub fn list(key: &'static str) {
    record(|c| {
        c.keys.insert(key.to_owned());
    });
}

/// The response shows a listing ordered by a counter.
pub fn ordered_by_counter() {
    record(|c| c.by_counter = true);
}

/// The response depends on a credential other than the bearer token (which the HTTP layer
/// already knows about): it is private.
pub fn private() {
    record(|c| c.private = true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_only_inside_collect() {
        entity("article", 1);
        let ((), got) = collect(async {
            entity("article", 7);
            entity("article", 7);
            article_list(ArticleList::OfTag(3));
            list("tags");
        })
        .await;
        assert_eq!(
            got.keys.into_iter().collect::<Vec<_>>(),
            ["article:7", "tag:3:articles", "tags"]
        );
        assert!(!got.private);
        let ((), got) = collect(async { private() }).await;
        assert!(got.private && got.keys.is_empty() && !got.by_counter);
        let ((), got) = collect(async { ordered_by_counter() }).await;
        assert!(got.by_counter && !got.private);
    }
}
