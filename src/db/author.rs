//! Queries on `authors`.

use entity::author;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::page::{self, Order, PageSpec, Rows};
use crate::error::{AppError, AppResult, DbResultExt};

/// Authors by id (missing ids are left out).
pub async fn find_by_ids(
    conn: &impl ConnectionTrait,
    ids: &[i32],
) -> AppResult<Vec<author::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(author::Entity::find()
        .filter(author::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?)
}

/// The author with this slug.
pub async fn find_by_slug(
    conn: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<author::Model>> {
    Ok(author::Entity::find()
        .filter(author::Column::Slug.eq(slug))
        .one(conn)
        .await?)
}

/// The author with this profile URL (the import key).
pub async fn find_by_profile_url(
    conn: &impl ConnectionTrait,
    url: &str,
) -> AppResult<Option<author::Model>> {
    Ok(author::Entity::find()
        .filter(author::Column::ProfileUrl.eq(url))
        .one(conn)
        .await?)
}

/// One page of authors.
pub async fn list(
    conn: &impl ConnectionTrait,
    order: &Order<author::Column>,
    spec: &PageSpec,
) -> AppResult<Rows<author::Model>> {
    let rows = page::apply(author::Entity::find(), order, spec)
        .all(conn)
        .await?;
    Ok(page::finish(rows, spec))
}

/// Number of authors.
pub async fn count(conn: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(author::Entity::find().count(conn).await?)
}

/// Inserts an author; a taken slug or profile URL is a conflict.
pub async fn insert(
    conn: &impl ConnectionTrait,
    model: author::ActiveModel,
) -> AppResult<author::Model> {
    model.insert(conn).await.on_unique_violation(|| {
        AppError::Conflict("an author with this slug or profile URL exists".into())
    })
}

/// Writes the changed fields of an author.
pub async fn update(
    conn: &impl ConnectionTrait,
    model: author::ActiveModel,
) -> AppResult<author::Model> {
    model.update(conn).await.on_unique_violation(|| {
        AppError::Conflict("an author with this slug or profile URL exists".into())
    })
}

/// The author with this id.
pub async fn find_by_id(conn: &impl ConnectionTrait, id: i32) -> AppResult<Option<author::Model>> {
    Ok(author::Entity::find_by_id(id).one(conn).await?)
}

/// Deletes an author (who must have no articles left); returns whether it existed.
pub async fn delete(conn: &impl ConnectionTrait, id: i32) -> AppResult<bool> {
    Ok(author::Entity::delete_by_id(id)
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}
