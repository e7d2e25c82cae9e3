//! Authors: lookups, listing, and the import-side "find or create by profile URL".

use chrono::Utc;
use entity::author;
use sea_orm::{ConnectionTrait, Set, TransactionSession, TransactionTrait};

use super::{
    auth::Viewer,
    markdown::slugify,
    page::{self, Page, PageArgs, Sort, SortKind, SortValue},
    validate,
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

/// The fields of a new author, or changes to one (`None`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct AuthorInput {
    /// Slug; derived from the name when a new author has none.
    pub slug: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Biography (empty clears it).
    pub bio: Option<String>,
    /// Avatar URL (empty clears it).
    pub avatar_url: Option<String>,
    /// Profile URL (empty clears it).
    pub profile_url: Option<String>,
}

/// Creates an author (admins).
pub async fn create(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    input: &AuthorInput,
) -> AppResult<author::Model> {
    viewer.require_admin()?;
    let name = validate::text(
        "input.name",
        input.name.as_deref().unwrap_or_default(),
        validate::MAX_NAME_CHARS,
    )?;
    let slug = match input.slug.as_deref() {
        Some(s) => validate::slug("input.slug", s)?,
        None => match slugify(&name) {
            s if s.is_empty() => {
                return Err(AppError::invalid(
                    "input.slug",
                    "the name gives no slug; give one",
                ));
            }
            s => s,
        },
    };
    let now = Utc::now();
    db::author::insert(
        conn,
        author::ActiveModel {
            slug: Set(slug),
            name: Set(name),
            bio: Set(validate::optional_text(
                "input.bio",
                input.bio.as_deref(),
                validate::MAX_BIO_CHARS,
            )?),
            avatar_url: Set(validate::url(
                "input.avatarUrl",
                input.avatar_url.as_deref(),
            )?),
            profile_url: Set(validate::url(
                "input.profileUrl",
                input.profile_url.as_deref(),
            )?),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await
}

/// Changes an author (admins).
pub async fn update(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
    input: &AuthorInput,
) -> AppResult<author::Model> {
    viewer.require_admin()?;
    let mut model = author::ActiveModel {
        id: Set(id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(s) = input.slug.as_deref() {
        model.slug = Set(validate::slug("input.slug", s)?);
    }
    if let Some(n) = input.name.as_deref() {
        model.name = Set(validate::text("input.name", n, validate::MAX_NAME_CHARS)?);
    }
    if let Some(b) = input.bio.as_deref() {
        model.bio = Set(validate::optional_text(
            "input.bio",
            Some(b),
            validate::MAX_BIO_CHARS,
        )?);
    }
    if let Some(u) = input.avatar_url.as_deref() {
        model.avatar_url = Set(validate::url("input.avatarUrl", Some(u))?);
    }
    if let Some(u) = input.profile_url.as_deref() {
        model.profile_url = Set(validate::url("input.profileUrl", Some(u))?);
    }
    if db::author::find_by_id(conn, id).await?.is_none() {
        return Err(AppError::not_found("author", id.to_string()));
    }
    db::author::update(conn, model).await
}

/// Deletes an author (admins). One who still has articles is a `CONFLICT`, unless they are
/// reassigned to `reassign_to` (an author slug) in the same transaction.
pub async fn delete(
    db: &impl TransactionTrait,
    viewer: Viewer,
    id: i32,
    reassign_to: Option<&str>,
) -> AppResult<i32> {
    viewer.require_admin()?;
    let txn = db.begin().await?;
    let author = db::author::find_by_id(&txn, id)
        .await?
        .ok_or_else(|| AppError::not_found("author", id.to_string()))?;
    let articles = db::article::count_by_author(&txn, author.id).await?;
    if articles > 0 {
        let Some(slug) = reassign_to else {
            return Err(AppError::Conflict(format!(
                "author `{}` has {articles} articles; pass reassignTo to move them first",
                author.slug
            )));
        };
        let heir = db::author::find_by_slug(&txn, slug.trim())
            .await?
            .filter(|h| h.id != author.id)
            .ok_or_else(|| AppError::invalid("reassignTo", format!("unknown author `{slug}`")))?;
        db::article::reassign_author(&txn, author.id, heir.id).await?;
    }
    db::author::delete(&txn, author.id).await?;
    txn.commit().await?;
    Ok(author.id)
}
