use sea_orm_migration::{prelude::*, schema::*};

use super::m20250101_000001_create_author::Authors;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .if_not_exists()
                    .col(pk_auto(Articles::Id))
                    .col(string_uniq(Articles::Slug))
                    .col(string(Articles::Title))
                    .col(text_null(Articles::Summary))
                    .col(text(Articles::Body))
                    .col(text(Articles::BodyHtml))
                    .col(string_null(Articles::Category))
                    .col(string_len(Articles::Status, 16))
                    .col(timestamp_with_time_zone_null(Articles::PublishedAt))
                    .col(integer(Articles::AuthorId))
                    .col(string_null(Articles::CoverImageUrl))
                    .col(string_null(Articles::OriginalUrl).unique_key())
                    .col(integer(Articles::ReadingTimeMinutes).default(1))
                    .col(integer(Articles::WordCount).default(0))
                    .col(big_integer(Articles::ViewCount).default(0))
                    .col(big_integer(Articles::LikeCount).default(0))
                    .col(big_integer(Articles::CollectCount).default(0))
                    .col(big_integer(Articles::CommentCount).default(0))
                    .col(integer(Articles::Version).default(1))
                    .col(timestamp_with_time_zone(Articles::CreatedAt))
                    .col(timestamp_with_time_zone(Articles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_articles_author")
                            .from(Articles::Table, Articles::AuthorId)
                            .to(Authors::Table, Authors::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // Serves the default listing: keyset pagination over (published_at desc, id desc).
        // Postgres and SQLite both scan a btree backwards, so one ascending index serves both directions.
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_published_at_id")
                    .table(Articles::Table)
                    .col(Articles::PublishedAt)
                    .col(Articles::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_author_published_at")
                    .table(Articles::Table)
                    .col(Articles::AuthorId)
                    .col(Articles::PublishedAt)
                    .col(Articles::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Articles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Articles {
    Table,
    Id,
    Slug,
    Title,
    Summary,
    Body,
    BodyHtml,
    Category,
    Status,
    PublishedAt,
    AuthorId,
    CoverImageUrl,
    OriginalUrl,
    ReadingTimeMinutes,
    WordCount,
    ViewCount,
    LikeCount,
    CollectCount,
    CommentCount,
    Version,
    CreatedAt,
    UpdatedAt,
}
