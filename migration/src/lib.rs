//! Schema migrations, portable across PostgreSQL and SQLite. Never edit a migration that has
//! shipped: add a new one.

#![expect(
    elided_lifetimes_in_paths,
    reason = "MigrationTrait declares `&SchemaManager` with an elided lifetime; the impls must match it"
)]

pub use sea_orm_migration::prelude::*;

mod m20250101_000001_create_author;
mod m20250101_000002_create_tag;
mod m20250101_000003_create_article;
mod m20250101_000004_create_article_tag;
mod m20250102_000001_create_api_key;
mod m20250103_000001_create_search_index;
mod m20250104_000001_add_search_head;
mod m20250104_000001_create_webhook;
mod m20250104_000002_add_search_title;
mod m20250104_000003_raise_search_statistics;
mod m20250105_000001_index_visible_articles;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250101_000001_create_author::Migration),
            Box::new(m20250101_000002_create_tag::Migration),
            Box::new(m20250101_000003_create_article::Migration),
            Box::new(m20250101_000004_create_article_tag::Migration),
            Box::new(m20250102_000001_create_api_key::Migration),
            Box::new(m20250103_000001_create_search_index::Migration),
            Box::new(m20250104_000001_create_webhook::Migration),
            Box::new(m20250104_000001_add_search_head::Migration),
            Box::new(m20250104_000002_add_search_title::Migration),
            Box::new(m20250104_000003_raise_search_statistics::Migration),
            Box::new(m20250105_000001_index_visible_articles::Migration),
        ]
    }
}
