//! Loaders keyed by author id.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::author;
use sea_orm::DatabaseConnection;

use crate::{
    db::{self, article::Visibility},
    error::AppError,
};

/// Authors by id.
pub struct AuthorLoader {
    db: DatabaseConnection,
}

impl AuthorLoader {
    /// A loader over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl Loader<i32> for AuthorLoader {
    type Value = author::Model;
    type Error = AppError;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let rows = db::author::find_by_ids(&self.db, ids).await?;
        Ok(rows.into_iter().map(|a| (a.id, a)).collect())
    }
}

/// Article counts (of what the reader may see) by author id (0 for authors without any).
pub struct ArticleCountByAuthorLoader {
    db: DatabaseConnection,
    vis: Visibility,
}

impl ArticleCountByAuthorLoader {
    /// A loader over `db`, counting what `vis` allows.
    pub fn new(db: DatabaseConnection, vis: Visibility) -> Self {
        Self { db, vis }
    }
}

impl Loader<i32> for ArticleCountByAuthorLoader {
    type Value = i64;
    type Error = AppError;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, i64>, Self::Error> {
        let mut counts = db::article::count_visible_by_author(&self.db, ids, self.vis).await?;
        for id in ids {
            counts.entry(*id).or_insert(0);
        }
        Ok(counts)
    }
}
