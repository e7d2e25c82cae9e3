//! A second, small search vector per article: the title (weight A) and the summary and tags
//! (weight B) only, with its own GIN index. Search ranks articles with every word there above
//! those that need the body, and reads this vector (a few hundred bytes, stored in the row) for
//! that instead of the full one, whose body part makes it large and kept out of line: ranking
//! every hit on the full vector grew with the number of hits (about 1.2 s for 94,000 hits).
//! SQLite needs nothing here: its FTS5 table already keeps the title, meta and body columns
//! apart.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE articles ADD COLUMN search_head tsvector")
            .await?;
        // The head is the A and B part of the full vector: no need to segment anything again.
        db.execute_unprepared(
            "UPDATE articles SET search_head = ts_filter(search_vector, '{a,b}') \
             WHERE search_vector IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_articles_search_head ON articles USING GIN (search_head)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_articles_search_head")
            .await?;
        db.execute_unprepared("ALTER TABLE articles DROP COLUMN IF EXISTS search_head")
            .await?;
        Ok(())
    }
}
