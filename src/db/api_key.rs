//! Queries on `api_keys`.

use chrono::{DateTime, Utc};
use entity::api_key;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::error::{AppError, AppResult, DbResultExt};

/// The key whose token hashes to `hash`, revoked or not.
pub async fn find_by_hash(
    conn: &impl ConnectionTrait,
    hash: &str,
) -> AppResult<Option<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::TokenHash.eq(hash))
        .one(conn)
        .await?)
}

/// Every key, oldest first.
pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<api_key::Model>> {
    Ok(api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(conn)
        .await?)
}

/// Stores a new key.
pub async fn insert(
    conn: &impl ConnectionTrait,
    model: api_key::ActiveModel,
) -> AppResult<api_key::Model> {
    model
        .insert(conn)
        .await
        .on_unique_violation(|| AppError::Conflict("token collision; try again".into()))
}

/// Marks a key revoked at `at`; `None` when there is no such key.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    id: i32,
    at: DateTime<Utc>,
) -> AppResult<Option<api_key::Model>> {
    let Some(key) = api_key::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(Some(key));
    }
    let mut model: api_key::ActiveModel = key.into();
    model.revoked_at = Set(Some(at));
    Ok(Some(model.update(conn).await?))
}
