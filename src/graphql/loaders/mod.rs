//! Request-scoped dataloaders: every relation field loads through one, so a page of N articles
//! costs the same number of statements whatever N is. Loaders call db/ batch functions only.

mod article;
mod author;
mod batch;
mod tag;

use std::time::Duration;

use async_graphql::{
    Request,
    dataloader::{DataLoader, Loader},
};
use sea_orm::DatabaseConnection;

use crate::db::article::Visibility;

pub use article::{ArticleLoader, TagsByArticleLoader};
pub use author::{ArticleCountByAuthorLoader, AuthorLoader};
pub use batch::{BatchQueue, drive};
pub use tag::{ArticleCountByTagLoader, TagLoader};

/// Where loader fetches run.
#[derive(Clone)]
pub enum Fetches {
    /// In `queue`, run by [`drive`] when the executor stalls (one-shot executions).
    Queued(BatchQueue),
    /// In spawned tasks after the loader's short delay (subscription streams, which have no
    /// single future to drive).
    Spawned,
}

/// Adds a fresh set of loaders to `req`, their fetches run as `fetches` says. `vis` is what
/// the visibility-aware loaders find and count.
pub fn register(
    req: Request,
    db: &DatabaseConnection,
    vis: Visibility,
    queue: &Fetches,
) -> Request {
    req.data(loader(AuthorLoader::new(db.clone()), queue))
        .data(loader(ArticleLoader::new(db.clone(), vis), queue))
        .data(loader(TagLoader::new(db.clone()), queue))
        .data(loader(TagsByArticleLoader::new(db.clone()), queue))
        .data(loader(
            ArticleCountByAuthorLoader::new(db.clone(), vis),
            queue,
        ))
        .data(loader(ArticleCountByTagLoader::new(db.clone(), vis), queue))
}

/// A loader whose fetches run as `fetches` says.
fn loader<L: Loader<i32>>(l: L, fetches: &Fetches) -> DataLoader<L> {
    match fetches {
        // No timer: the queue decides when they run.
        Fetches::Queued(queue) => DataLoader::new(l, queue.spawner()).delay(Duration::ZERO),
        Fetches::Spawned => DataLoader::new(l, |job| {
            tokio::spawn(job);
        }),
    }
}
