//! Loaders keyed by article id.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{article, tag};
use sea_orm::DatabaseConnection;

use crate::{
    db::{self, article::Visibility},
    error::AppError,
};

/// Articles by id, of those the reader may see (others are absent).
pub struct ArticleLoader {
    db: DatabaseConnection,
    vis: Visibility,
}

impl ArticleLoader {
    /// A loader over `db`, finding what `vis` allows.
    pub fn new(db: DatabaseConnection, vis: Visibility) -> Self {
        Self { db, vis }
    }
}

impl Loader<i32> for ArticleLoader {
    type Value = article::Model;
    type Error = AppError;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let rows = db::article::find_visible_by_ids(&self.db, ids, self.vis).await?;
        Ok(rows.into_iter().map(|a| (a.id, a)).collect())
    }
}

/// Each article's tags, in the article's order (`[]` for none).
pub struct TagsByArticleLoader {
    db: DatabaseConnection,
}

impl TagsByArticleLoader {
    /// A loader over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl Loader<i32> for TagsByArticleLoader {
    type Value = Vec<tag::Model>;
    type Error = AppError;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut by_article: HashMap<i32, Vec<tag::Model>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for (article_id, tag) in db::article::tags_of(&self.db, ids).await? {
            by_article.entry(article_id).or_default().push(tag);
        }
        Ok(by_article)
    }
}
