//! An index of the titles' words: a GIN index on the weight-A part of the head vector. Search
//! ranks articles with every word in the title first; asking the head vector for weight-A
//! matches cannot be answered from its index alone (weights are not indexed, so every candidate
//! row is re-read) and the planner cannot tell how many titles match, which cost 12 to 19 ms for
//! a frequent word at 100,000 articles. An expression index needs no new column, so no row is
//! rewritten (a backfilled column took over ten minutes at 100,000 articles: every row's new
//! version went into the large GIN index of the full vector again). SQLite needs nothing: its
//! FTS5 table has a title column.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_articles_search_title ON articles \
                 USING GIN (ts_filter(search_head, '{a}'))",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_articles_search_title")
            .await?;
        Ok(())
    }
}
