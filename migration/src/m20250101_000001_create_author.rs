use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Authors::Table)
                    .if_not_exists()
                    .col(pk_auto(Authors::Id))
                    .col(string_uniq(Authors::Slug))
                    .col(string(Authors::Name))
                    .col(text_null(Authors::Bio))
                    .col(string_null(Authors::AvatarUrl))
                    .col(string_null(Authors::ProfileUrl).unique_key())
                    .col(timestamp_with_time_zone(Authors::CreatedAt))
                    .col(timestamp_with_time_zone(Authors::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Authors::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Authors {
    Table,
    Id,
    Slug,
    Name,
    Bio,
    AvatarUrl,
    ProfileUrl,
    CreatedAt,
    UpdatedAt,
}
