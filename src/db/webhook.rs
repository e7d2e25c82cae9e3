//! Queries on the webhook tables: endpoints, the event outbox, deliveries and attempts.

use chrono::{DateTime, Utc};
use entity::{
    webhook, webhook_attempt,
    webhook_delivery::{self, DeliveryStatus},
    webhook_event,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, LockBehavior, LockType},
};

use crate::error::AppResult;

/// Every endpoint, oldest first.
pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .order_by_asc(webhook::Column::Id)
        .all(conn)
        .await?)
}

/// The endpoint `id`, if any.
pub async fn find(conn: &impl ConnectionTrait, id: i32) -> AppResult<Option<webhook::Model>> {
    Ok(webhook::Entity::find_by_id(id).one(conn).await?)
}

/// The endpoints among `ids`.
pub async fn find_by_ids(
    conn: &impl ConnectionTrait,
    ids: &[i32],
) -> AppResult<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?)
}

/// Stores a new endpoint.
pub async fn insert(
    conn: &impl ConnectionTrait,
    model: webhook::ActiveModel,
) -> AppResult<webhook::Model> {
    Ok(model.insert(conn).await?)
}

/// Writes changes to an endpoint.
pub async fn update(
    conn: &impl ConnectionTrait,
    model: webhook::ActiveModel,
) -> AppResult<webhook::Model> {
    Ok(model.update(conn).await?)
}

/// Deletes an endpoint (its deliveries and their attempts go with it); false when there was
/// none.
pub async fn delete(conn: &impl ConnectionTrait, id: i32) -> AppResult<bool> {
    // Explicit, so that SQLite without `foreign_keys = ON` cleans up the same way.
    let deliveries: Vec<i32> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .into_tuple()
        .all(conn)
        .await?;
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::DeliveryId.is_in(deliveries))
        .exec(conn)
        .await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(conn)
        .await?;
    let res = webhook::Entity::delete_by_id(id).exec(conn).await?;
    Ok(res.rows_affected > 0)
}

/// Stores an outbox event.
pub async fn insert_event(
    conn: &impl ConnectionTrait,
    model: webhook_event::ActiveModel,
) -> AppResult<webhook_event::Model> {
    Ok(model.insert(conn).await?)
}

/// The events among `ids` (row ids).
pub async fn find_events(
    conn: &impl ConnectionTrait,
    ids: &[i32],
) -> AppResult<Vec<webhook_event::Model>> {
    Ok(webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?)
}

/// Stores new deliveries.
pub async fn insert_deliveries(
    conn: &impl ConnectionTrait,
    models: Vec<webhook_delivery::ActiveModel>,
) -> AppResult<()> {
    if !models.is_empty() {
        webhook_delivery::Entity::insert_many(models)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Stores one delivery.
pub async fn insert_delivery(
    conn: &impl ConnectionTrait,
    model: webhook_delivery::ActiveModel,
) -> AppResult<webhook_delivery::Model> {
    Ok(model.insert(conn).await?)
}

/// The delivery `id`, if any.
pub async fn find_delivery(
    conn: &impl ConnectionTrait,
    id: i32,
) -> AppResult<Option<webhook_delivery::Model>> {
    Ok(webhook_delivery::Entity::find_by_id(id).one(conn).await?)
}

/// Which deliveries a listing shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeliveryFilter {
    /// Only this endpoint's.
    pub webhook_id: Option<i32>,
    /// Only those in this state.
    pub status: Option<DeliveryStatus>,
    /// Only those older (smaller id) than this one.
    pub before_id: Option<i32>,
}

/// Up to `limit` deliveries matching `filter`, newest first.
pub async fn list_deliveries(
    conn: &impl ConnectionTrait,
    filter: DeliveryFilter,
    limit: u64,
) -> AppResult<Vec<webhook_delivery::Model>> {
    let mut q = webhook_delivery::Entity::find();
    if let Some(id) = filter.webhook_id {
        q = q.filter(webhook_delivery::Column::WebhookId.eq(id));
    }
    if let Some(status) = filter.status {
        q = q.filter(webhook_delivery::Column::Status.eq(status));
    }
    if let Some(id) = filter.before_id {
        q = q.filter(webhook_delivery::Column::Id.lt(id));
    }
    Ok(q.order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// The attempts of the deliveries among `ids`, oldest first.
pub async fn attempts_of(
    conn: &impl ConnectionTrait,
    ids: &[i32],
) -> AppResult<Vec<webhook_attempt::Model>> {
    Ok(webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(ids.iter().copied()))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(conn)
        .await?)
}

/// Due and not leased: pending, next attempt reached, no lease or an expired one.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .add(webhook_delivery::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(webhook_delivery::Column::LockedUntil.is_null())
                .add(webhook_delivery::Column::LockedUntil.lte(now)),
        )
}

/// Claims up to `limit` due deliveries for `token` until `until`, and returns them.
///
/// On Postgres, run it in a transaction: the candidates are selected `FOR UPDATE SKIP LOCKED`,
/// so concurrent claimers pass over each other's rows instead of waiting for them. Everywhere,
/// the update repeats the claimable condition, so a row another claimer took in between is
/// left alone (SQLite has no row locks, and one process is the supported setup there).
pub async fn claim_due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    token: &str,
    limit: u64,
) -> AppResult<Vec<webhook_delivery::Model>> {
    let mut candidates = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(claimable(now))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(limit);
    if conn.get_database_backend() == DbBackend::Postgres {
        candidates = candidates.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let ids: Vec<i32> = candidates.into_tuple().all(conn).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::LockedUntil, Expr::value(until))
        .col_expr(webhook_delivery::Column::ClaimedBy, Expr::value(token))
        .filter(webhook_delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(claimable(now))
        .exec(conn)
        .await?;
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Id.is_in(ids))
        .filter(webhook_delivery::Column::ClaimedBy.eq(token))
        .order_by_asc(webhook_delivery::Column::Id)
        .all(conn)
        .await?)
}

/// The new state of a delivery after an attempt.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryUpdate {
    /// State.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempt_count: i32,
    /// When to try next (meaningful while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Now.
    pub updated_at: DateTime<Utc>,
}

/// Applies `update` and releases the lease, if `token` still holds the claim on delivery `id`;
/// false when it does not (the lease ran out and another claimer took the row).
pub async fn finish_claimed(
    conn: &impl ConnectionTrait,
    id: i32,
    token: &str,
    update: DeliveryUpdate,
) -> AppResult<bool> {
    let res = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(update.status))
        .col_expr(
            webhook_delivery::Column::AttemptCount,
            Expr::value(update.attempt_count),
        )
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(update.next_attempt_at),
        )
        .col_expr(
            webhook_delivery::Column::DeliveredAt,
            Expr::value(update.delivered_at),
        )
        .col_expr(
            webhook_delivery::Column::UpdatedAt,
            Expr::value(update.updated_at),
        )
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            webhook_delivery::Column::ClaimedBy,
            Expr::value(Option::<String>::None),
        )
        .filter(webhook_delivery::Column::Id.eq(id))
        .filter(webhook_delivery::Column::ClaimedBy.eq(token))
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Records one attempt.
pub async fn insert_attempt(
    conn: &impl ConnectionTrait,
    delivery_id: i32,
    attempted_at: DateTime<Utc>,
    status_code: Option<i32>,
    error: Option<String>,
    duration_ms: i32,
) -> AppResult<webhook_attempt::Model> {
    Ok(webhook_attempt::ActiveModel {
        delivery_id: Set(delivery_id),
        attempted_at: Set(attempted_at),
        status_code: Set(status_code),
        error: Set(error),
        duration_ms: Set(duration_ms),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}
