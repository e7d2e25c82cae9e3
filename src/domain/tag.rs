//! Tags: lookups, listing, and the case-folded "find or create" used by the importer.

use entity::tag;
use sea_orm::{ConnectionTrait, Set, TransactionSession, TransactionTrait};

use super::{
    auth::Viewer,
    markdown::slugify,
    page::{self, Page, PageArgs, Sort, SortKind, SortValue},
    search, validate,
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

/// The tags with these slugs (case-folded; unknown ones are left out).
pub async fn find_by_slugs(
    conn: &impl ConnectionTrait,
    slugs: &[String],
) -> AppResult<Vec<tag::Model>> {
    let slugs: Vec<String> = slugs.iter().map(|s| slug_of(s)).collect();
    db::tag::find_by_slugs(conn, &slugs).await
}

/// Creates a tag (admins); the slug defaults to the case-folded name.
pub async fn create(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    name: &str,
    slug: Option<&str>,
) -> AppResult<tag::Model> {
    viewer.require_admin()?;
    let name = validate::text("input.name", name, validate::MAX_NAME_CHARS)?;
    let slug = match slug {
        Some(s) => validate::slug("input.slug", s)?,
        None => validate::slug("input.name", &slug_of(&name))?,
    };
    if db::tag::find_by_slug(conn, &slug).await?.is_some() {
        return Err(AppError::Conflict(format!("tag `{slug}` exists")));
    }
    db::tag::insert(conn, &slug, &name).await
}

/// Renames a tag or changes its slug (admins). A new name is re-indexed into its articles'
/// search text, in the same transaction.
pub async fn update(
    db: &impl TransactionTrait,
    viewer: Viewer,
    id: i32,
    name: Option<&str>,
    slug: Option<&str>,
) -> AppResult<tag::Model> {
    viewer.require_admin()?;
    let name = name
        .map(|n| validate::text("input.name", n, validate::MAX_NAME_CHARS))
        .transpose()?;
    let slug = slug.map(|s| validate::slug("input.slug", s)).transpose()?;
    let txn = db.begin().await?;
    let current = db::tag::find_by_id(&txn, id)
        .await?
        .ok_or_else(|| AppError::not_found("tag", id.to_string()))?;
    let renamed = name.as_ref().is_some_and(|n| *n != current.name);
    let mut model: tag::ActiveModel = current.into();
    if let Some(n) = name {
        model.name = Set(n);
    }
    if let Some(s) = slug {
        model.slug = Set(s);
    }
    let updated = db::tag::update(&txn, model).await?;
    if renamed {
        let tagged = search::articles_tagged(&txn, id).await?;
        search::reindex(&txn, &tagged).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a tag (admins); articles lose it, in their search text too.
pub async fn delete(db: &impl TransactionTrait, viewer: Viewer, id: i32) -> AppResult<i32> {
    viewer.require_admin()?;
    let txn = db.begin().await?;
    let tagged = search::articles_tagged(&txn, id).await?;
    if !db::tag::delete(&txn, id).await? {
        return Err(AppError::not_found("tag", id.to_string()));
    }
    search::reindex(&txn, &tagged).await?;
    txn.commit().await?;
    Ok(id)
}

/// Merges tag `from` into `into` (admins): articles keep one copy of `into`; `from` is gone,
/// from their search text too.
pub async fn merge(
    db: &impl TransactionTrait,
    viewer: Viewer,
    from: &str,
    into: &str,
) -> AppResult<tag::Model> {
    viewer.require_admin()?;
    let txn = db.begin().await?;
    let find = |field: &'static str, slug: String| {
        let txn = &txn;
        async move {
            db::tag::find_by_slug(txn, &slug)
                .await?
                .ok_or_else(|| AppError::invalid(field, format!("unknown tag `{slug}`")))
        }
    };
    let source = find("from", slug_of(from)).await?;
    let target = find("into", slug_of(into)).await?;
    if source.id == target.id {
        return Err(AppError::invalid(
            "into",
            "a tag cannot be merged into itself",
        ));
    }
    let tagged = search::articles_tagged(&txn, source.id).await?;
    db::article::merge_tag_links(&txn, source.id, target.id).await?;
    db::tag::delete(&txn, source.id).await?;
    search::reindex(&txn, &tagged).await?;
    txn.commit().await?;
    Ok(target)
}
