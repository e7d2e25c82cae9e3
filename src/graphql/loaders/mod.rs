//! Request-scoped dataloaders: every relation field loads through one, so a page of N articles
//! costs the same number of statements whatever N is. Loaders call db/ batch functions only.

mod article;
mod author;
mod tag;

use async_graphql::{Request, dataloader::DataLoader};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

pub use article::TagsByArticleLoader;
pub use author::{ArticleCountByAuthorLoader, AuthorLoader};
pub use tag::ArticleCountByTagLoader;

/// Adds a fresh set of loaders to `req`. `now` fixes what the counting loaders treat as visible.
pub fn register(req: Request, db: &DatabaseConnection, now: DateTime<Utc>) -> Request {
    req.data(DataLoader::new(AuthorLoader::new(db.clone()), tokio::spawn))
        .data(DataLoader::new(
            TagsByArticleLoader::new(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            ArticleCountByAuthorLoader::new(db.clone(), now),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            ArticleCountByTagLoader::new(db.clone(), now),
            tokio::spawn,
        ))
}
