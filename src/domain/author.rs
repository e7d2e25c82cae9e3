//! Authors: lookups, listing, and the import-side "find or create by profile URL".

use chrono::Utc;
use entity::author;
use sea_orm::{ConnectionTrait, Set};

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

const BY_NAME: Sort = Sort {
    name: "author-name",
    kind: SortKind::Text,
};

/// The author with this slug; `NOT_FOUND` when there is none.
pub async fn get_by_slug(conn: &impl ConnectionTrait, slug: &str) -> AppResult<author::Model> {
    db::author::find_by_slug(conn, slug.trim())
        .await?
        .ok_or_else(|| AppError::not_found("author", slug))
}

/// One page of authors, by name.
pub async fn list(conn: &impl ConnectionTrait, args: &PageArgs) -> AppResult<Page<author::Model>> {
    let spec = page::spec(args, BY_NAME)?;
    let order = Order {
        column: author::Column::Name,
        id: author::Column::Id,
        direction: Direction::Asc,
    };
    let rows = db::author::list(conn, &order, &spec).await?;
    Ok(Page::from_rows(rows, &spec, BY_NAME, |a| {
        (a.id, SortValue::Text(a.name.clone()))
    }))
}

/// Finds the author with this profile URL, creating it (with a free slug) when new, and keeps
/// its display name current.
pub async fn ensure_by_profile(
    conn: &impl ConnectionTrait,
    name: &str,
    profile_url: &str,
) -> AppResult<author::Model> {
    let now = Utc::now();
    if let Some(existing) = db::author::find_by_profile_url(conn, profile_url).await? {
        if existing.name == name {
            return Ok(existing);
        }
        let mut model: author::ActiveModel = existing.into();
        model.name = Set(name.to_owned());
        model.updated_at = Set(now);
        return db::author::update(conn, model).await;
    }
    let slug = free_slug(conn, name, profile_url).await?;
    db::author::insert(
        conn,
        author::ActiveModel {
            slug: Set(slug),
            name: Set(name.to_owned()),
            profile_url: Set(Some(profile_url.to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await
}

/// The author's name as a slug; when another account already has it (two accounts may share
/// a name), the profile URL's last segment is appended.
async fn free_slug(
    conn: &impl ConnectionTrait,
    name: &str,
    profile_url: &str,
) -> AppResult<String> {
    let tail = slugify(
        profile_url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default(),
    );
    let base = match slugify(name) {
        s if s.is_empty() => format!("author-{tail}"),
        s => s,
    };
    let mut candidates = vec![base.clone(), format!("{base}-{tail}")];
    candidates.extend((2..100).map(|n| format!("{base}-{tail}-{n}")));
    for slug in candidates {
        if db::author::find_by_slug(conn, &slug).await?.is_none() {
            return Ok(slug);
        }
    }
    Err(AppError::Conflict(format!(
        "no free slug for author `{name}`"
    )))
}

/// Number of authors.
pub async fn count(conn: &impl ConnectionTrait) -> AppResult<u64> {
    db::author::count(conn).await
}

/// Authors by id (missing ids are left out).
pub async fn find_by_ids(
    conn: &impl ConnectionTrait,
    ids: &[i32],
) -> AppResult<Vec<author::Model>> {
    db::author::find_by_ids(conn, ids).await
}
