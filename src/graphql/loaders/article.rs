//! Loaders keyed by article id.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::tag;
use sea_orm::DatabaseConnection;

use crate::{db, error::AppError};

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
