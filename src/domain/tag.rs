//! Tags: lookups, listing, and the case-folded "find or create" used by the importer.

use entity::tag;
use sea_orm::ConnectionTrait;

use super::{
    markdown::slugify,
    page::{self, Page, PageArgs, Sort, SortKind, SortValue},
};
use crate::{
    db::{
        self,
        page::{Direction, Order},
    },
    error::{AppError, AppResult},
};

const BY_SLUG: Sort = Sort {
    name: "tag-slug",
    kind: SortKind::Text,
};

/// The slug a tag name (or a client-typed slug) is stored under: `AI`, `ai` and ` Ai ` are one.
pub fn slug_of(name: &str) -> String {
    slugify(name)
}

/// The tag with this slug (case-folded first); `NOT_FOUND` when there is none.
pub async fn get_by_slug(conn: &impl ConnectionTrait, slug: &str) -> AppResult<tag::Model> {
    db::tag::find_by_slug(conn, &slug_of(slug))
        .await?
        .ok_or_else(|| AppError::not_found("tag", slug))
}

/// One page of tags, by slug.
pub async fn list(conn: &impl ConnectionTrait, args: &PageArgs) -> AppResult<Page<tag::Model>> {
    let spec = page::spec(args, BY_SLUG)?;
    let order = Order {
        column: tag::Column::Slug,
        id: tag::Column::Id,
        direction: Direction::Asc,
    };
    let rows = db::tag::list(conn, &order, &spec).await?;
    Ok(Page::from_rows(rows, &spec, BY_SLUG, |t| {
        (t.id, SortValue::Text(t.slug.clone()))
    }))
}

/// The ids of the tags named `names`, in order, creating the missing ones. Names that fold to
/// the same slug (or to none) are kept once (or skipped).
pub async fn ensure_all(conn: &impl ConnectionTrait, names: &[String]) -> AppResult<Vec<i32>> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let slug = slug_of(name);
        if slug.is_empty() {
            continue;
        }
        let tag = match db::tag::find_by_slug(conn, &slug).await? {
            Some(t) => t,
            None => db::tag::insert(conn, &slug, name.trim()).await?,
        };
        if !ids.contains(&tag.id) {
            ids.push(tag.id);
        }
    }
    Ok(ids)
}

/// Number of tags.
pub async fn count(conn: &impl ConnectionTrait) -> AppResult<u64> {
    db::tag::count(conn).await
}

/// Tags by id (missing ids are left out).
pub async fn find_by_ids(conn: &impl ConnectionTrait, ids: &[i32]) -> AppResult<Vec<tag::Model>> {
    db::tag::find_by_ids(conn, ids).await
}
