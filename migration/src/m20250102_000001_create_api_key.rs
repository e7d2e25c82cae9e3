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
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(pk_auto(ApiKeys::Id))
                    .col(string(ApiKeys::Name))
                    .col(string_len(ApiKeys::Role, 16))
                    .col(integer_null(ApiKeys::AuthorId))
                    // sha256 of the token, hex; the token itself is never stored.
                    .col(string_len_uniq(ApiKeys::TokenHash, 64))
                    .col(string_len(ApiKeys::TokenPrefix, 16))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_author")
                            .from(ApiKeys::Table, ApiKeys::AuthorId)
                            .to(Authors::Table, Authors::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    Role,
    AuthorId,
    TokenHash,
    TokenPrefix,
    CreatedAt,
    RevokedAt,
}
