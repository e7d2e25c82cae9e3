//! `webhook_events`: the outbox. One row per article change, written in the change's
//! transaction; `payload` is the exact JSON body sent to every endpoint.

use sea_orm::entity::prelude::*;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The public event id (`evt_…`), sent as `Webhook-Id`.
    #[sea_orm(unique)]
    pub event_id: String,
    /// Event name (`ARTICLE_PUBLISHED`, …).
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub occurred_at: DateTimeUtc,
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
