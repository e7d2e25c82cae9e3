//! `webhooks`: endpoints that receive article events. The secret keys the HMAC signature, so it
//! is stored as given; only `secret_prefix` is ever shown again.

use sea_orm::entity::prelude::*;

/// One endpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub url: String,
    pub secret: String,
    pub secret_prefix: String,
    /// Comma-separated event names (`ARTICLE_PUBLISHED,ARTICLE_DELETED`).
    pub events: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::webhook_delivery::Entity")]
    Delivery,
}

impl Related<super::webhook_delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Delivery.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
