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

/// Adds a fresh set of loaders to `req`, all feeding `queue` (run the execution under
/// [`drive`]). `vis` is what the counting loaders count.
pub fn register(
    req: Request,
    db: &DatabaseConnection,
    vis: Visibility,
    queue: &BatchQueue,
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

/// A loader whose fetches wait in `queue` (no timer: the queue decides when they run).
fn loader<L: Loader<i32>>(l: L, queue: &BatchQueue) -> DataLoader<L> {
    DataLoader::new(l, queue.spawner()).delay(Duration::ZERO)
}
