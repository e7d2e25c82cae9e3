//! Finer statistics for the search vectors. Postgres estimates how many rows a word matches from
//! the most common lexemes ANALYZE keeps (about ten per unit of the statistics target: 1,000 by
//! default). At 100,000 articles of ordinary prose, a word in 12% of them is not among those
//! 1,000 and is estimated as rare, so the body tier collected all 12,000 matches and sorted them
//! (30 ms) instead of reading in id order and stopping after one page (about 2 ms). A target of
//! 1,000 keeps about 10,000 lexemes. Changes no row; takes effect at the next ANALYZE, which
//! reads more rows.

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
                "ALTER TABLE articles \
                 ALTER COLUMN search_vector SET STATISTICS 1000, \
                 ALTER COLUMN search_head SET STATISTICS 1000",
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
            .execute_unprepared(
                "ALTER TABLE articles \
                 ALTER COLUMN search_vector SET STATISTICS -1, \
                 ALTER COLUMN search_head SET STATISTICS -1",
            )
            .await?;
        Ok(())
    }
}
