//! Full-text search index over segmented text. The database cannot segment Chinese, so the
//! server stores space-separated terms; each backend indexes them its own way, which is why
//! this migration (alone) branches on the backend:
//! - Postgres: a weighted `tsvector` column ('simple' configuration) with a GIN index;
//! - SQLite: an FTS5 table keyed by article id, with title / meta (summary and tags) / body
//!   columns that bm25 weighs.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("ALTER TABLE articles ADD COLUMN search_vector tsvector")
                    .await?;
                db.execute_unprepared(
                    "CREATE INDEX idx_articles_search ON articles USING GIN (search_vector)",
                )
                .await?;
            }
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE article_search USING fts5(title, meta, body, \
                     tokenize = 'unicode61 remove_diacritics 0')",
                )
                .await?;
            }
            other => {
                return Err(DbErr::Migration(format!(
                    "full-text search is not implemented for {other:?}"
                )));
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP INDEX IF EXISTS idx_articles_search")
                    .await?;
                db.execute_unprepared("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TABLE IF EXISTS article_search")
                    .await?;
            }
        }
        Ok(())
    }
}
