//! Queries on `articles` and `article_tags`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    article::{self, Status},
    article_tag, author, tag,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Func, Query},
};

use super::page::{self, Order, PageSpec, Rows};
use crate::error::{AppResult, DbResultExt};

/// Which articles a listing or count covers. Every field narrows the set; empty means all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArticleFilter {
    /// Only this author's articles.
    pub author_id: Option<i32>,
    /// Only articles of the author with this slug.
    pub author_slug: Option<String>,
    /// Only articles carrying this tag.
    pub tag_id: Option<i32>,
    /// Only articles carrying any of these tag slugs.
    pub tag_slugs: Vec<String>,
    /// Only this category (compared case-insensitively).
    pub category: Option<String>,
    /// Only articles published at or after this instant.
    pub published_after: Option<DateTime<Utc>>,
    /// Only articles published before this instant.
    pub published_before: Option<DateTime<Utc>>,
}

/// Which articles a reader may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// What the public sees at this instant: published, with a publish time that has passed.
    Public(DateTime<Utc>),
    /// The public's articles plus every article of this author (drafts included).
    PublicAndAuthor(DateTime<Utc>, i32),
    /// Every article, whatever its state (editors and admins).
    Everything,
}

impl Visibility {
    /// The SQL condition selecting the allowed articles.
    pub fn condition(self) -> Condition {
        let public = |now: DateTime<Utc>| {
            Condition::all()
                .add(article::Column::Status.eq(Status::Published))
                .add(article::Column::PublishedAt.lte(now))
        };
        match self {
            Self::Public(now) => public(now),
            Self::PublicAndAuthor(now, author_id) => Condition::any()
                .add(public(now))
                .add(article::Column::AuthorId.eq(author_id)),
            Self::Everything => Condition::all(),
        }
    }
}

/// The SQL condition of a filter under a visibility.
pub(crate) fn condition(filter: &ArticleFilter, vis: Visibility) -> Condition {
    let mut cond = vis.condition();
    if let Some(id) = filter.author_id {
        cond = cond.add(article::Column::AuthorId.eq(id));
    }
    if let Some(slug) = &filter.author_slug {
        cond = cond.add(
            article::Column::AuthorId.in_subquery(
                Query::select()
                    .column(author::Column::Id)
                    .from(author::Entity)
                    .and_where(author::Column::Slug.eq(slug.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(tag_id) = filter.tag_id {
        cond = cond.add(
            article::Column::Id.in_subquery(
                Query::select()
                    .column(article_tag::Column::ArticleId)
                    .from(article_tag::Entity)
                    .and_where(article_tag::Column::TagId.eq(tag_id))
                    .to_owned(),
            ),
        );
    }
    if !filter.tag_slugs.is_empty() {
        cond = cond.add(
            article::Column::Id.in_subquery(
                Query::select()
                    .column((article_tag::Entity, article_tag::Column::ArticleId))
                    .from(article_tag::Entity)
                    .inner_join(
                        tag::Entity,
                        Expr::col((tag::Entity, tag::Column::Id))
                            .equals((article_tag::Entity, article_tag::Column::TagId)),
                    )
                    .and_where(tag::Column::Slug.is_in(filter.tag_slugs.iter().map(String::as_str)))
                    .to_owned(),
            ),
        );
    }
    if let Some(category) = &filter.category {
        cond = cond.add(
            Expr::expr(Func::lower(Expr::col((
                article::Entity,
                article::Column::Category,
            ))))
            .eq(category.to_lowercase()),
        );
    }
    if let Some(after) = filter.published_after {
        cond = cond.add(article::Column::PublishedAt.gte(after));
    }
    if let Some(before) = filter.published_before {
        cond = cond.add(article::Column::PublishedAt.lt(before));
    }
    cond
}

/// `select` reading empty bodies: bodies are most of a row's bytes, and listings and search
/// hits rarely show them.
pub(crate) fn without_bodies(
    select: sea_orm::Select<article::Entity>,
) -> sea_orm::Select<article::Entity> {
    select
        .select_only()
        .columns(
            article::Column::iter()
                .filter(|c| !matches!(c, article::Column::Body | article::Column::BodyHtml)),
        )
        .expr_as(Expr::val(""), "body")
        .expr_as(Expr::val(""), "body_html")
}

/// One page of the articles `vis` allows matching `filter`, in `order`.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ArticleFilter,
    order: &Order<article::Column>,
    spec: &PageSpec,
    vis: Visibility,
    with_bodies: bool,
) -> AppResult<Rows<article::Model>> {
    let mut select = article::Entity::find().filter(condition(filter, vis));
    if !with_bodies {
        select = without_bodies(select);
    }
    let rows = page::apply(select, order, spec).all(conn).await?;
    Ok(page::finish(rows, spec))
}

/// How many articles `vis` allows match `filter`.
pub async fn count(
    conn: &impl ConnectionTrait,
    filter: &ArticleFilter,
    vis: Visibility,
) -> AppResult<u64> {
    Ok(article::Entity::find()
        .filter(condition(filter, vis))
        .count(conn)
        .await?)
}

/// The visible article with this slug.
pub async fn find_visible_by_slug(
    conn: &impl ConnectionTrait,
    slug: &str,
    vis: Visibility,
) -> AppResult<Option<article::Model>> {
    Ok(article::Entity::find()
        .filter(vis.condition())
        .filter(article::Column::Slug.eq(slug))
        .one(conn)
        .await?)
}

/// The visible articles among `ids` (any order; hidden and missing ids are left out).
pub async fn find_visible_by_ids(
    conn: &impl ConnectionTrait,
    ids: &[i32],
    vis: Visibility,
) -> AppResult<Vec<article::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(article::Entity::find()
        .filter(vis.condition())
        .filter(article::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?)
}

/// Visible article counts per author, for the given authors (authors with none are absent).
pub async fn count_visible_by_author(
    conn: &impl ConnectionTrait,
    author_ids: &[i32],
    vis: Visibility,
) -> AppResult<HashMap<i32, i64>> {
    let rows: Vec<(i32, i64)> = article::Entity::find()
        .select_only()
        .column(article::Column::AuthorId)
        .column_as(article::Column::Id.count(), "n")
        .filter(vis.condition())
        .filter(article::Column::AuthorId.is_in(author_ids.iter().copied()))
        .group_by(article::Column::AuthorId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Visible article counts per tag, for the given tags (tags with none are absent).
pub async fn count_visible_by_tag(
    conn: &impl ConnectionTrait,
    tag_ids: &[i32],
    vis: Visibility,
) -> AppResult<HashMap<i32, i64>> {
    let rows: Vec<(i32, i64)> = article_tag::Entity::find()
        .select_only()
        .column(article_tag::Column::TagId)
        .column_as(article_tag::Column::ArticleId.count(), "n")
        .inner_join(article::Entity)
        .filter(vis.condition())
        .filter(article_tag::Column::TagId.is_in(tag_ids.iter().copied()))
        .group_by(article_tag::Column::TagId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The tags of each given article, in each article's own order: `(article_id, tag)` pairs.
pub async fn tags_of(
    conn: &impl ConnectionTrait,
    article_ids: &[i32],
) -> AppResult<Vec<(i32, tag::Model)>> {
    let rows = article_tag::Entity::find()
        .filter(article_tag::Column::ArticleId.is_in(article_ids.iter().copied()))
        .order_by_asc(article_tag::Column::ArticleId)
        .order_by_asc(article_tag::Column::Position)
        .find_also_related(tag::Entity)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(link, tag)| tag.map(|t| (link.article_id, t)))
        .collect())
}

/// The article imported from `url`, whatever its status.
pub async fn find_by_original_url(
    conn: &impl ConnectionTrait,
    url: &str,
) -> AppResult<Option<article::Model>> {
    Ok(article::Entity::find()
        .filter(article::Column::OriginalUrl.eq(url))
        .one(conn)
        .await?)
}

/// Whether any article (other than `except`) has this slug.
pub async fn slug_taken(
    conn: &impl ConnectionTrait,
    slug: &str,
    except: Option<i32>,
) -> AppResult<bool> {
    let mut q = article::Entity::find().filter(article::Column::Slug.eq(slug));
    if let Some(id) = except {
        q = q.filter(article::Column::Id.ne(id));
    }
    Ok(q.count(conn).await? > 0)
}

/// Inserts a new article; a taken slug or original URL is a conflict.
pub async fn insert(
    conn: &impl ConnectionTrait,
    model: article::ActiveModel,
) -> AppResult<article::Model> {
    model.insert(conn).await.on_unique_violation(|| {
        crate::error::AppError::Conflict("an article with this slug or original URL exists".into())
    })
}

/// Writes the changed fields of an article.
pub async fn update(
    conn: &impl ConnectionTrait,
    model: article::ActiveModel,
) -> AppResult<article::Model> {
    model.update(conn).await.on_unique_violation(|| {
        crate::error::AppError::Conflict("an article with this slug or original URL exists".into())
    })
}

/// Replaces an article's tags with `tag_ids`, in that order.
pub async fn set_tags(
    conn: &impl ConnectionTrait,
    article_id: i32,
    tag_ids: &[i32],
) -> AppResult<()> {
    article_tag::Entity::delete_many()
        .filter(article_tag::Column::ArticleId.eq(article_id))
        .exec(conn)
        .await?;
    if tag_ids.is_empty() {
        return Ok(());
    }
    let links = tag_ids
        .iter()
        .enumerate()
        .map(|(pos, &tag_id)| article_tag::ActiveModel {
            article_id: Set(article_id),
            tag_id: Set(tag_id),
            position: Set(i32::try_from(pos).unwrap_or(i32::MAX)),
        });
    article_tag::Entity::insert_many(links).exec(conn).await?;
    Ok(())
}

/// The ids of an article's tags, in order.
pub async fn tag_ids_of(conn: &impl ConnectionTrait, article_id: i32) -> AppResult<Vec<i32>> {
    Ok(article_tag::Entity::find()
        .select_only()
        .column(article_tag::Column::TagId)
        .filter(article_tag::Column::ArticleId.eq(article_id))
        .order_by_asc(article_tag::Column::Position)
        .into_tuple()
        .all(conn)
        .await?)
}

/// The article with this id, whatever its state.
pub async fn find_by_id(conn: &impl ConnectionTrait, id: i32) -> AppResult<Option<article::Model>> {
    Ok(article::Entity::find_by_id(id).one(conn).await?)
}

/// Writes `changes` only if the article is still at `expected_version`; returns whether it was.
pub async fn update_if_version(
    conn: &impl ConnectionTrait,
    id: i32,
    expected_version: i32,
    changes: article::ActiveModel,
) -> AppResult<bool> {
    let result = article::Entity::update_many()
        .set(changes)
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Version.eq(expected_version))
        .exec(conn)
        .await
        .on_unique_violation(|| {
            crate::error::AppError::invalid("input.slug", "another article has this slug")
        })?;
    Ok(result.rows_affected == 1)
}

/// Deletes an article (its tag links go with it); returns whether it existed.
pub async fn delete(conn: &impl ConnectionTrait, id: i32) -> AppResult<bool> {
    article_tag::Entity::delete_many()
        .filter(article_tag::Column::ArticleId.eq(id))
        .exec(conn)
        .await?;
    Ok(article::Entity::delete_by_id(id)
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// A counter of an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// `view_count`.
    Views,
    /// `like_count`.
    Likes,
    /// `collect_count`.
    Collects,
}

/// Adds `delta` to a counter in one atomic statement (never below zero), for an article `vis`
/// allows; returns the updated article, or `None` when there is no such visible article.
pub async fn bump(
    conn: &impl ConnectionTrait,
    id: i32,
    counter: Counter,
    delta: i64,
    vis: Visibility,
) -> AppResult<Option<article::Model>> {
    let col = match counter {
        Counter::Views => article::Column::ViewCount,
        Counter::Likes => article::Column::LikeCount,
        Counter::Collects => article::Column::CollectCount,
    };
    let current = Expr::col((article::Entity, col));
    // CASE keeps the arithmetic inside the UPDATE on both backends (no GREATEST in SQLite).
    let value = Expr::case(current.clone().add(delta).lt(0), 0).finally(current.add(delta));
    let rows = article::Entity::update_many()
        .col_expr(col, value.into())
        .filter(article::Column::Id.eq(id))
        .filter(vis.condition())
        .exec_with_returning(conn)
        .await?;
    Ok(rows.into_iter().next())
}

/// Moves every article of `from` to `to`; returns how many moved.
pub async fn reassign_author(conn: &impl ConnectionTrait, from: i32, to: i32) -> AppResult<u64> {
    Ok(article::Entity::update_many()
        .col_expr(article::Column::AuthorId, Expr::value(to))
        .filter(article::Column::AuthorId.eq(from))
        .exec(conn)
        .await?
        .rows_affected)
}

/// How many articles (in any state) an author has.
pub async fn count_by_author(conn: &impl ConnectionTrait, author_id: i32) -> AppResult<u64> {
    Ok(article::Entity::find()
        .filter(article::Column::AuthorId.eq(author_id))
        .count(conn)
        .await?)
}

/// Re-labels every article tagged `from` with `into` (articles with both keep one `into`).
pub async fn merge_tag_links(conn: &impl ConnectionTrait, from: i32, into: i32) -> AppResult<()> {
    article_tag::Entity::delete_many()
        .filter(article_tag::Column::TagId.eq(from))
        .filter(
            article_tag::Column::ArticleId.in_subquery(
                Query::select()
                    .column(article_tag::Column::ArticleId)
                    .from(article_tag::Entity)
                    .and_where(article_tag::Column::TagId.eq(into))
                    .to_owned(),
            ),
        )
        .exec(conn)
        .await?;
    article_tag::Entity::update_many()
        .col_expr(article_tag::Column::TagId, Expr::value(into))
        .filter(article_tag::Column::TagId.eq(from))
        .exec(conn)
        .await?;
    Ok(())
}
