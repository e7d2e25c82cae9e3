//! Loaders keyed by tag id.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::tag;
use sea_orm::DatabaseConnection;

use crate::{
    db::{self, article::Visibility},
    error::AppError,
};

/// Tags by id.
pub struct TagLoader {
    db: DatabaseConnection,
}

impl TagLoader {
    /// A loader over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl Loader<i32> for TagLoader {
    type Value = tag::Model;
    type Error = AppError;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let rows = db::tag::find_by_ids(&self.db, ids).await?;
        Ok(rows.into_iter().map(|t| (t.id, t)).collect())
    }
}

/// Article counts (of what the reader may see) by tag id (0 for tags without any).
pub struct ArticleCountByTagLoader {
    db: DatabaseConnection,
    vis: Visibility,
}

impl ArticleCountByTagLoader {
    /// A loader over `db`, counting what `vis` allows.
    pub fn new(db: DatabaseConnection, vis: Visibility) -> Self {
        Self { db, vis }
    }
}

impl Loader<i32> for ArticleCountByTagLoader {
    type Value = i64;
    type Error = AppError;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, i64>, Self::Error> {
        let mut counts = db::article::count_visible_by_tag(&self.db, ids, self.vis).await?;
        for id in ids {
            counts.entry(*id).or_insert(0);
        }
        Ok(counts)
    }
}
