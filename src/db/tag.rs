//! Queries on `tags`.

use chrono::Utc;
use entity::tag;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use super::page::{self, Order, PageSpec, Rows};
use crate::error::{AppError, AppResult, DbResultExt};

/// Tags by id (missing ids are left out).
pub async fn find_by_ids(conn: &impl ConnectionTrait, ids: &[i32]) -> AppResult<Vec<tag::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tag::Entity::find()
        .filter(tag::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?)
}

/// The tag with this (case-folded) slug.
pub async fn find_by_slug(
    conn: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<tag::Model>> {
    Ok(tag::Entity::find()
        .filter(tag::Column::Slug.eq(slug))
        .one(conn)
        .await?)
}

/// One page of tags.
pub async fn list(
    conn: &impl ConnectionTrait,
    order: &Order<tag::Column>,
    spec: &PageSpec,
) -> AppResult<Rows<tag::Model>> {
    let rows = page::apply(tag::Entity::find(), order, spec)
        .all(conn)
        .await?;
    Ok(page::finish(rows, spec))
}

/// Number of tags.
pub async fn count(conn: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(tag::Entity::find().count(conn).await?)
}

/// Inserts a tag; a taken slug is a conflict.
pub async fn insert(conn: &impl ConnectionTrait, slug: &str, name: &str) -> AppResult<tag::Model> {
    tag::ActiveModel {
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .on_unique_violation(|| AppError::Conflict(format!("tag `{slug}` exists")))
}

/// The tags with these slugs (missing ones are left out).
pub async fn find_by_slugs(
    conn: &impl ConnectionTrait,
    slugs: &[String],
) -> AppResult<Vec<tag::Model>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tag::Entity::find()
        .filter(tag::Column::Slug.is_in(slugs.iter().map(String::as_str)))
        .all(conn)
        .await?)
}

/// Writes the changed fields of a tag.
pub async fn update(conn: &impl ConnectionTrait, model: tag::ActiveModel) -> AppResult<tag::Model> {
    model
        .update(conn)
        .await
        .on_unique_violation(|| AppError::invalid("input.slug", "another tag has this slug"))
}

/// Deletes a tag (its article links go with it); returns whether it existed.
pub async fn delete(conn: &impl ConnectionTrait, id: i32) -> AppResult<bool> {
    entity::article_tag::Entity::delete_many()
        .filter(entity::article_tag::Column::TagId.eq(id))
        .exec(conn)
        .await?;
    Ok(tag::Entity::delete_by_id(id)
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// The tag with this id.
pub async fn find_by_id(conn: &impl ConnectionTrait, id: i32) -> AppResult<Option<tag::Model>> {
    Ok(tag::Entity::find_by_id(id).one(conn).await?)
}
