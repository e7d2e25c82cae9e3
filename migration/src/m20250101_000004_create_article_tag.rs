use sea_orm_migration::{prelude::*, schema::*};

use super::m20250101_000002_create_tag::Tags;
use super::m20250101_000003_create_article::Articles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ArticleTags::Table)
                    .if_not_exists()
                    .col(integer(ArticleTags::ArticleId))
                    .col(integer(ArticleTags::TagId))
                    .col(integer(ArticleTags::Position))
                    .primary_key(
                        Index::create()
                            .col(ArticleTags::ArticleId)
                            .col(ArticleTags::TagId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_tags_article")
                            .from(ArticleTags::Table, ArticleTags::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_tags_tag")
                            .from(ArticleTags::Table, ArticleTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Tag pages look articles up by tag.
        manager
            .create_index(
                Index::create()
                    .name("idx_article_tags_tag_article")
                    .table(ArticleTags::Table)
                    .col(ArticleTags::TagId)
                    .col(ArticleTags::ArticleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ArticleTags::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum ArticleTags {
    Table,
    ArticleId,
    TagId,
    Position,
}
