//! `api_keys`: bearer tokens with a role. Only a hash of each token is stored.

use sea_orm::entity::prelude::*;

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    /// Everything, including authors, tags and keys.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// All content, including publishing.
    #[sea_orm(string_value = "EDITOR")]
    Editor,
    /// Its own articles only.
    #[sea_orm(string_value = "AUTHOR")]
    Author,
}

/// One API key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub role: Role,
    /// The author an `Author` key writes as.
    pub author_id: Option<i32>,
    /// Hex sha256 of the token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The token's first characters, to recognise it in listings.
    pub token_prefix: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::author::Entity",
        from = "Column::AuthorId",
        to = "super::author::Column::Id",
        on_delete = "Cascade"
    )]
    Author,
}

impl Related<super::author::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Author.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
