//! Articles: what the public may see, how listings are filtered, sorted and paged, and the
//! idempotent import upsert that keeps derived data (HTML, word count, reading time) right.

use chrono::{DateTime, Utc};
use entity::article::{self, Status};
use sea_orm::{ConnectionTrait, Set};

use super::{
    author, markdown,
    page::{self, Page, PageArgs, Sort, SortKind, SortValue},
    tag,
};
use crate::{
    db::{
        self,
        article::{ArticleFilter, Visibility},
        page::{Direction, Order},
    },
    error::{AppError, AppResult},
};

/// Most tag slugs one filter may name.
pub const MAX_FILTER_TAGS: usize = 20;

/// What a listing of articles is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OrderField {
    /// Publication time.
    #[default]
    PublishedAt,
    /// View count.
    Views,
    /// Like count.
    Likes,
    /// Title.
    Title,
}

/// A full article ordering: field and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArticleOrder {
    /// The field.
    pub field: OrderField,
    /// The direction.
    pub direction: Direction,
}

impl Default for ArticleOrder {
    /// Newest first.
    fn default() -> Self {
        Self {
            field: OrderField::PublishedAt,
            direction: Direction::Desc,
        }
    }
}

impl ArticleOrder {
    fn sort(self) -> Sort {
        let (name, kind) = match (self.field, self.direction) {
            (OrderField::PublishedAt, Direction::Desc) => ("pub-desc", SortKind::Time),
            (OrderField::PublishedAt, Direction::Asc) => ("pub-asc", SortKind::Time),
            (OrderField::Views, Direction::Desc) => ("views-desc", SortKind::Int),
            (OrderField::Views, Direction::Asc) => ("views-asc", SortKind::Int),
            (OrderField::Likes, Direction::Desc) => ("likes-desc", SortKind::Int),
            (OrderField::Likes, Direction::Asc) => ("likes-asc", SortKind::Int),
            (OrderField::Title, Direction::Desc) => ("title-desc", SortKind::Text),
            (OrderField::Title, Direction::Asc) => ("title-asc", SortKind::Text),
        };
        Sort { name, kind }
    }

    fn column(self) -> article::Column {
        match self.field {
            OrderField::PublishedAt => article::Column::PublishedAt,
            OrderField::Views => article::Column::ViewCount,
            OrderField::Likes => article::Column::LikeCount,
            OrderField::Title => article::Column::Title,
        }
    }

    fn key(self, a: &article::Model) -> (i32, SortValue) {
        let value = match self.field {
            OrderField::PublishedAt => SortValue::Time(a.published_at.unwrap_or_default()),
            OrderField::Views => SortValue::Int(a.view_count),
            OrderField::Likes => SortValue::Int(a.like_count),
            OrderField::Title => SortValue::Text(a.title.clone()),
        };
        (a.id, value)
    }
}

/// Normalizes a client's filter: trims strings, case-folds tag slugs, enforces limits.
pub fn normalize_filter(mut filter: ArticleFilter) -> AppResult<ArticleFilter> {
    if filter.tag_slugs.len() > MAX_FILTER_TAGS {
        return Err(AppError::bad_input(format!(
            "`filter.tagSlugs` may name at most {MAX_FILTER_TAGS} tags"
        )));
    }
    filter.tag_slugs = filter
        .tag_slugs
        .iter()
        .map(|s| tag::slug_of(s))
        .filter(|s| !s.is_empty())
        .collect();
    filter.author_slug = filter.author_slug.map(|s| s.trim().to_owned());
    filter.category = filter.category.map(|s| s.trim().to_owned());
    Ok(filter)
}

/// One page of the articles `vis` allows that match `filter`.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ArticleFilter,
    order: ArticleOrder,
    args: &PageArgs,
    vis: Visibility,
) -> AppResult<Page<article::Model>> {
    let sort = order.sort();
    let spec = page::spec(args, sort)?;
    let db_order = Order {
        column: order.column(),
        id: article::Column::Id,
        direction: order.direction,
    };
    let rows = db::article::list(conn, filter, &db_order, &spec, vis).await?;
    Ok(Page::from_rows(rows, &spec, sort, |a| order.key(a)))
}

/// How many articles `vis` allows match `filter`.
pub async fn count(
    conn: &impl ConnectionTrait,
    filter: &ArticleFilter,
    vis: Visibility,
) -> AppResult<u64> {
    db::article::count(conn, filter, vis).await
}

/// The article with this slug if `vis` allows it; `NOT_FOUND` otherwise (a hidden article and a
/// missing one answer the same).
pub async fn get_by_slug(
    conn: &impl ConnectionTrait,
    slug: &str,
    vis: Visibility,
) -> AppResult<article::Model> {
    db::article::find_visible_by_slug(conn, slug.trim(), vis)
        .await?
        .ok_or_else(|| AppError::not_found("article", slug))
}

/// The article with this id if `vis` allows it; `NOT_FOUND` otherwise.
pub async fn get_by_id(
    conn: &impl ConnectionTrait,
    id: i32,
    vis: Visibility,
) -> AppResult<article::Model> {
    db::article::find_visible_by_ids(conn, &[id], vis)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("article", id.to_string()))
}

/// The articles among `ids` that `vis` allows (others are left out).
pub async fn find_visible_by_ids(
    conn: &impl ConnectionTrait,
    ids: &[i32],
    vis: Visibility,
) -> AppResult<Vec<article::Model>> {
    db::article::find_visible_by_ids(conn, ids, vis).await
}

/// An article as the importer read it from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedArticle {
    /// Title.
    pub title: String,
    /// Category, as the source names it.
    pub category: Option<String>,
    /// Author display name.
    pub author_name: String,
    /// Author profile URL (the author's import key).
    pub author_profile_url: String,
    /// Publication instant.
    pub published_at: DateTime<Utc>,
    /// View count.
    pub views: i64,
    /// Comment count.
    pub comments: i64,
    /// Collect (bookmark) count.
    pub collects: i64,
    /// Like count.
    pub likes: i64,
    /// Reading time stated by the source, if any.
    pub reading_time_minutes: Option<i32>,
    /// Tag names, in order.
    pub tags: Vec<String>,
    /// Original URL (the article's import key).
    pub original_url: String,
    /// Lead.
    pub summary: Option<String>,
    /// Cover image.
    pub cover_image_url: Option<String>,
    /// Markdown body.
    pub body: String,
}

/// What an import did to one article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// The article was new.
    Created,
    /// The article existed and something changed.
    Updated,
    /// The article existed exactly as imported.
    Unchanged,
}

/// The slug an imported article gets: site name and the source's article number
/// (`https://www.woshipm.com/it/6183097.html` → `woshipm-6183097`), else the title.
fn import_slug(original_url: &str, title: &str) -> String {
    let parsed = url::Url::parse(original_url).ok();
    let site = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .map(|h| {
            let labels: Vec<&str> = h.split('.').collect();
            labels
                .len()
                .checked_sub(2)
                .map_or(h, |i| labels[i])
                .to_owned()
        })
        .unwrap_or_default();
    let last = parsed
        .as_ref()
        .and_then(|u| u.path_segments())
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(str::to_owned))
        .unwrap_or_default();
    let stem = last.split('.').next().unwrap_or_default();
    let slug = markdown::slugify(&format!("{site} {stem}"));
    if slug.is_empty() {
        markdown::slugify(title).chars().take(80).collect()
    } else {
        slug
    }
}

async fn free_article_slug(conn: &impl ConnectionTrait, base: &str) -> AppResult<String> {
    let base = if base.is_empty() { "article" } else { base };
    for n in 1..1000 {
        let slug = if n == 1 {
            base.to_owned()
        } else {
            format!("{base}-{n}")
        };
        if !db::article::slug_taken(conn, &slug, None).await? {
            return Ok(slug);
        }
    }
    Err(AppError::Conflict(format!("no free slug for `{base}`")))
}

/// Creates or updates the article keyed by its original URL, with its author and tags, and
/// recomputes derived data. Run it in a transaction: it writes several rows. An existing
/// article keeps its slug and status; a change bumps `version` and `updated_at`.
pub async fn upsert_imported(
    conn: &impl ConnectionTrait,
    input: &ImportedArticle,
) -> AppResult<(article::Model, UpsertOutcome)> {
    let author =
        author::ensure_by_profile(conn, &input.author_name, &input.author_profile_url).await?;
    let tag_ids = tag::ensure_all(conn, &input.tags).await?;
    let body_html = markdown::render_html(&input.body);
    let words = markdown::word_count(&markdown::plain_text(&input.body));
    let word_count = i32::try_from(words).unwrap_or(i32::MAX);
    let reading = input
        .reading_time_minutes
        .unwrap_or_else(|| markdown::reading_time_minutes(words));
    let now = Utc::now();

    let Some(existing) = db::article::find_by_original_url(conn, &input.original_url).await? else {
        let slug = free_article_slug(conn, &import_slug(&input.original_url, &input.title)).await?;
        let created = db::article::insert(
            conn,
            article::ActiveModel {
                slug: Set(slug),
                title: Set(input.title.clone()),
                summary: Set(input.summary.clone()),
                body: Set(input.body.clone()),
                body_html: Set(body_html),
                category: Set(input.category.clone()),
                status: Set(Status::Published),
                published_at: Set(Some(input.published_at)),
                author_id: Set(author.id),
                cover_image_url: Set(input.cover_image_url.clone()),
                original_url: Set(Some(input.original_url.clone())),
                reading_time_minutes: Set(reading),
                word_count: Set(word_count),
                view_count: Set(input.views),
                like_count: Set(input.likes),
                collect_count: Set(input.collects),
                comment_count: Set(input.comments),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
        db::article::set_tags(conn, created.id, &tag_ids).await?;
        return Ok((created, UpsertOutcome::Created));
    };

    let tags_changed = db::article::tag_ids_of(conn, existing.id).await? != tag_ids;
    let fields_changed = existing.title != input.title
        || existing.summary != input.summary
        || existing.body != input.body
        || existing.body_html != body_html
        || existing.category != input.category
        || existing.published_at != Some(input.published_at)
        || existing.author_id != author.id
        || existing.cover_image_url != input.cover_image_url
        || existing.reading_time_minutes != reading
        || existing.word_count != word_count
        || existing.view_count != input.views
        || existing.like_count != input.likes
        || existing.collect_count != input.collects
        || existing.comment_count != input.comments;
    if !tags_changed && !fields_changed {
        return Ok((existing, UpsertOutcome::Unchanged));
    }
    if tags_changed {
        db::article::set_tags(conn, existing.id, &tag_ids).await?;
    }
    let version = existing.version + 1;
    let mut model: article::ActiveModel = existing.into();
    model.title = Set(input.title.clone());
    model.summary = Set(input.summary.clone());
    model.body = Set(input.body.clone());
    model.body_html = Set(body_html);
    model.category = Set(input.category.clone());
    model.published_at = Set(Some(input.published_at));
    model.author_id = Set(author.id);
    model.cover_image_url = Set(input.cover_image_url.clone());
    model.reading_time_minutes = Set(reading);
    model.word_count = Set(word_count);
    model.view_count = Set(input.views);
    model.like_count = Set(input.likes);
    model.collect_count = Set(input.collects);
    model.comment_count = Set(input.comments);
    model.version = Set(version);
    model.updated_at = Set(now);
    let updated = db::article::update(conn, model).await?;
    Ok((updated, UpsertOutcome::Updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_slug_is_site_and_article_number() {
        assert_eq!(
            import_slug("https://www.woshipm.com/it/6183097.html", "x"),
            "woshipm-6183097"
        );
        assert_eq!(
            import_slug("https://example.com/", "Hello World"),
            "example"
        );
        assert_eq!(import_slug("not a url", "Hello World"), "hello-world");
    }
}
