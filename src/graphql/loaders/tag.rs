//! Loaders keyed by tag id.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{db, error::AppError};

/// Visible article counts by tag id (0 for tags without any).
pub struct ArticleCountByTagLoader {
    db: DatabaseConnection,
    now: DateTime<Utc>,
}

impl ArticleCountByTagLoader {
    /// A loader over `db`, counting what is visible at `now`.
    pub fn new(db: DatabaseConnection, now: DateTime<Utc>) -> Self {
        Self { db, now }
    }
}

impl Loader<i32> for ArticleCountByTagLoader {
    type Value = i64;
    type Error = AppError;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, i64>, Self::Error> {
        let mut counts = db::article::count_visible_by_tag(&self.db, ids, self.now).await?;
        for id in ids {
            counts.entry(*id).or_insert(0);
        }
        Ok(counts)
    }
}
