//! `webhook_deliveries`: one event to one endpoint. Workers claim a due row by setting
//! `claimed_by` and a lease (`locked_until`); when the lease runs out the row is claimable again.

use sea_orm::entity::prelude::*;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted under a lease).
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// An attempt got a 2xx answer.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Every allowed attempt failed.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// One delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub webhook_id: i32,
    /// The `webhook_events` row (its `id`, not its public `event_id`).
    pub event_id: i32,
    pub status: DeliveryStatus,
    pub attempt_count: i32,
    pub next_attempt_at: DateTimeUtc,
    /// End of the current claim's lease; the row is free again after it.
    pub locked_until: Option<DateTimeUtc>,
    /// The claim that holds the lease; finishing an attempt checks it.
    pub claimed_by: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::webhook::Entity",
        from = "Column::WebhookId",
        to = "super::webhook::Column::Id",
        on_delete = "Cascade"
    )]
    Webhook,
    #[sea_orm(
        belongs_to = "super::webhook_event::Entity",
        from = "Column::EventId",
        to = "super::webhook_event::Column::Id",
        on_delete = "Cascade"
    )]
    Event,
    #[sea_orm(has_many = "super::webhook_attempt::Entity")]
    Attempt,
}

impl Related<super::webhook::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Webhook.def()
    }
}

impl Related<super::webhook_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl Related<super::webhook_attempt::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Attempt.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
