//! Articles: what the public may see, how listings are filtered, sorted and paged, and the
//! idempotent import upsert that keeps derived data (HTML, word count, reading time) right.

use chrono::{DateTime, Utc};
use entity::{
    api_key::Role,
    article::{self, Status},
};
use sea_orm::{ConnectionTrait, Set, TransactionSession, TransactionTrait};

use super::{
    auth::Viewer,
    author,
    events::{self, Event},
    markdown,
    page::{self, Page, PageArgs, Sort, SortKind, SortValue},
    search, tag, validate,
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

/// One page of the articles `vis` allows that match `filter`. Without `with_bodies` the rows
/// carry empty bodies (for listings that show no body, excerpt or table of contents).
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ArticleFilter,
    order: ArticleOrder,
    args: &PageArgs,
    vis: Visibility,
    with_bodies: bool,
) -> AppResult<Page<article::Model>> {
    let sort = order.sort();
    let spec = page::spec(args, sort)?;
    let db_order = Order {
        column: order.column(),
        id: article::Column::Id,
        direction: order.direction,
    };
    let rows = db::article::list(conn, filter, &db_order, &spec, vis, with_bodies).await?;
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

/// The ids of an article's tags, in the article's order.
pub async fn tag_ids(conn: &impl ConnectionTrait, id: i32) -> AppResult<Vec<i32>> {
    db::article::tag_ids_of(conn, id).await
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
        search::index_article(conn, &created).await?;
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
    search::index_article(conn, &updated).await?;
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

/// A change to a nullable field: leave it, clear it, or set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Leave as is.
    #[default]
    Keep,
    /// Set to null.
    Clear,
    /// Set to this.
    Set(T),
}

/// The fields of a new article, or the changes to one (`None` / `Keep`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct ArticleInput {
    /// Slug; derived from the title when a new article has none.
    pub slug: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// Lead.
    pub summary: Patch<String>,
    /// Category.
    pub category: Patch<String>,
    /// Author (editors and admins choose; an author key writes as itself).
    pub author_slug: Option<String>,
    /// Tags, in order.
    pub tag_slugs: Option<Vec<String>>,
    /// Cover image URL.
    pub cover_image_url: Patch<String>,
}

/// The fields of an [`ArticleInput`] that could be checked without the database.
struct ValidInput {
    title: Option<String>,
    body: Option<String>,
    summary: Patch<String>,
    category: Patch<String>,
    cover: Patch<String>,
    slug: Option<String>,
}

impl ArticleInput {
    /// Validates every given field, naming the first invalid one.
    fn validate(&self, max_body_bytes: usize) -> AppResult<ValidInput> {
        Ok(ValidInput {
            title: self
                .title
                .as_deref()
                .map(|t| validate::text("input.title", t, validate::MAX_TITLE_CHARS))
                .transpose()?,
            body: self
                .body
                .as_deref()
                .map(|b| validate::body("input.body", b, max_body_bytes))
                .transpose()?,
            summary: patch_text("input.summary", &self.summary, validate::MAX_SUMMARY_CHARS)?,
            category: patch_text("input.category", &self.category, validate::MAX_NAME_CHARS)?,
            cover: patch_url("input.coverImageUrl", &self.cover_image_url)?,
            slug: self
                .slug
                .as_deref()
                .map(|s| validate::slug("input.slug", s))
                .transpose()?,
        })
    }
}

/// Derived data of a body: sanitized HTML, word count, reading time.
struct Derived {
    html: String,
    words: i32,
    minutes: i32,
}

fn derive(body: &str) -> Derived {
    let words = markdown::word_count(&markdown::plain_text(body));
    Derived {
        html: markdown::render_html(body),
        words: i32::try_from(words).unwrap_or(i32::MAX),
        minutes: markdown::reading_time_minutes(words),
    }
}

fn patch_text(field: &str, p: &Patch<String>, max: usize) -> AppResult<Patch<String>> {
    Ok(match p {
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
        Patch::Set(v) => match validate::optional_text(field, Some(v), max)? {
            Some(v) => Patch::Set(v),
            None => Patch::Clear,
        },
    })
}

fn patch_url(field: &str, p: &Patch<String>) -> AppResult<Patch<String>> {
    Ok(match p {
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
        Patch::Set(v) => match validate::url(field, Some(v))? {
            Some(v) => Patch::Set(v),
            None => Patch::Clear,
        },
    })
}

fn apply<T: Clone>(p: &Patch<T>, current: Option<T>) -> Option<T> {
    match p {
        Patch::Keep => current,
        Patch::Clear => None,
        Patch::Set(v) => Some(v.clone()),
    }
}

/// The ids of tags named by slug, in order; an unknown one is `BAD_USER_INPUT` on `field`.
async fn resolve_tags(
    conn: &impl ConnectionTrait,
    field: &str,
    slugs: &[String],
) -> AppResult<Vec<i32>> {
    let slugs = validate::tag_slugs(field, slugs)?;
    let found = db::tag::find_by_slugs(conn, &slugs).await?;
    slugs
        .iter()
        .map(|s| {
            found
                .iter()
                .find(|t| &t.slug == s)
                .map(|t| t.id)
                .ok_or_else(|| AppError::invalid(field, format!("unknown tag `{s}`")))
        })
        .collect()
}

/// The author an article is written as: an author key writes as itself; editors and admins
/// must name one.
async fn resolve_author(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    slug: Option<&str>,
) -> AppResult<i32> {
    let (role, own) = viewer.require_key()?;
    if role == Role::Author {
        let own = own.ok_or_else(|| AppError::Forbidden("this author key has no author".into()))?;
        if let Some(slug) = slug {
            let named = db::author::find_by_slug(conn, slug.trim()).await?;
            if named.map(|a| a.id) != Some(own) {
                return Err(AppError::Forbidden(
                    "an author key writes as its own author only".into(),
                ));
            }
        }
        return Ok(own);
    }
    let slug = slug.ok_or_else(|| AppError::invalid("input.authorSlug", "name the author"))?;
    db::author::find_by_slug(conn, slug.trim())
        .await?
        .map(|a| a.id)
        .ok_or_else(|| AppError::invalid("input.authorSlug", format!("unknown author `{slug}`")))
}

/// Creates a draft. Authentication comes first, then validation; nothing is written unless
/// everything is valid.
pub async fn create(
    db: &impl TransactionTrait,
    viewer: Viewer,
    input: &ArticleInput,
    max_body_bytes: usize,
) -> AppResult<article::Model> {
    viewer.require_key()?;
    let valid = input.validate(max_body_bytes)?;
    let missing = |field: &str| AppError::invalid(field, "must not be empty");
    let title = valid.title.ok_or_else(|| missing("input.title"))?;
    let body = valid.body.ok_or_else(|| missing("input.body"))?;
    let (summary, category, cover) = (
        apply(&valid.summary, None),
        apply(&valid.category, None),
        apply(&valid.cover, None),
    );
    let slug = valid.slug;
    let txn = db.begin().await?;
    let author_id = resolve_author(&txn, viewer, input.author_slug.as_deref()).await?;
    let tag_ids = match &input.tag_slugs {
        Some(slugs) => resolve_tags(&txn, "input.tagSlugs", slugs).await?,
        None => Vec::new(),
    };
    let slug = match slug {
        Some(s) => {
            if db::article::slug_taken(&txn, &s, None).await? {
                return Err(AppError::Conflict(format!("slug `{s}` is taken")));
            }
            s
        }
        None => {
            free_article_slug(
                &txn,
                &markdown::slugify(&title)
                    .chars()
                    .take(80)
                    .collect::<String>(),
            )
            .await?
        }
    };
    let derived = derive(&body);
    let now = Utc::now();
    let created = db::article::insert(
        &txn,
        article::ActiveModel {
            slug: Set(slug),
            title: Set(title),
            summary: Set(summary),
            body: Set(body),
            body_html: Set(derived.html),
            category: Set(category),
            status: Set(Status::Draft),
            published_at: Set(None),
            author_id: Set(author_id),
            cover_image_url: Set(cover),
            original_url: Set(None),
            reading_time_minutes: Set(derived.minutes),
            word_count: Set(derived.words),
            view_count: Set(0),
            like_count: Set(0),
            collect_count: Set(0),
            comment_count: Set(0),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    db::article::set_tags(&txn, created.id, &tag_ids).await?;
    search::index_article(&txn, &created).await?;
    txn.commit().await?;
    Ok(created)
}

/// The article `id` as `viewer` may change it: missing or invisible is `NOT_FOUND`; visible
/// but someone else's (for an author key) is `FORBIDDEN`.
async fn editable(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
) -> AppResult<article::Model> {
    viewer.require_key()?;
    let vis = viewer.visibility(super::request_time());
    let article = db::article::find_visible_by_ids(conn, &[id], vis)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("article", id.to_string()))?;
    viewer.require_editor_of(article.author_id)?;
    Ok(article)
}

/// Writes `changes` (plus version and updated_at) if the article is still at
/// `expected_version`; a stale version is `CONFLICT`.
async fn write_versioned(
    conn: &impl ConnectionTrait,
    current: &article::Model,
    expected_version: i32,
    mut changes: article::ActiveModel,
) -> AppResult<article::Model> {
    changes.version = Set(expected_version + 1);
    changes.updated_at = Set(Utc::now());
    if !db::article::update_if_version(conn, current.id, expected_version, changes).await? {
        return Err(AppError::Conflict(format!(
            "article changed since version {expected_version}; it is at version {}: reload and retry",
            current.version
        )));
    }
    db::article::find_by_id(conn, current.id)
        .await?
        .ok_or_else(|| AppError::not_found("article", current.id.to_string()))
}

/// Applies `input` to an article at `expected_version`.
pub async fn update(
    db: &impl TransactionTrait,
    viewer: Viewer,
    id: i32,
    input: &ArticleInput,
    expected_version: i32,
    max_body_bytes: usize,
) -> AppResult<article::Model> {
    viewer.require_key()?;
    let ValidInput {
        title,
        body,
        summary,
        category,
        cover,
        slug,
    } = input.validate(max_body_bytes)?;
    let txn = db.begin().await?;
    let current = editable(&txn, viewer, id).await?;
    let mut changes = article::ActiveModel::default();
    if let Some(slug) = input.author_slug.as_deref() {
        changes.author_id = Set(resolve_author(&txn, viewer, Some(slug)).await?);
    }
    if let Some(slugs) = &input.tag_slugs {
        let ids = resolve_tags(&txn, "input.tagSlugs", slugs).await?;
        db::article::set_tags(&txn, current.id, &ids).await?;
    }
    if let Some(slug) = slug {
        if db::article::slug_taken(&txn, &slug, Some(current.id)).await? {
            return Err(AppError::Conflict(format!("slug `{slug}` is taken")));
        }
        changes.slug = Set(slug);
    }
    if let Some(title) = title {
        changes.title = Set(title);
    }
    if let Some(body) = body {
        let derived = derive(&body);
        changes.body = Set(body);
        changes.body_html = Set(derived.html);
        changes.word_count = Set(derived.words);
        changes.reading_time_minutes = Set(derived.minutes);
    }
    if summary != Patch::Keep {
        changes.summary = Set(apply(&summary, None));
    }
    if category != Patch::Keep {
        changes.category = Set(apply(&category, None));
    }
    if cover != Patch::Keep {
        changes.cover_image_url = Set(apply(&cover, None));
    }
    let updated = write_versioned(&txn, &current, expected_version, changes).await?;
    search::index_article(&txn, &updated).await?;
    events::record(&txn, Event::ArticleUpdated { article: &updated }).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Replaces an article's tags (order kept); bumps its version.
pub async fn set_tags(
    db: &impl TransactionTrait,
    viewer: Viewer,
    id: i32,
    tag_slugs: &[String],
) -> AppResult<article::Model> {
    viewer.require_key()?;
    let txn = db.begin().await?;
    let current = editable(&txn, viewer, id).await?;
    let ids = resolve_tags(&txn, "tagSlugs", tag_slugs).await?;
    db::article::set_tags(&txn, current.id, &ids).await?;
    let updated = write_versioned(
        &txn,
        &current,
        current.version,
        article::ActiveModel::default(),
    )
    .await?;
    search::index_article(&txn, &updated).await?;
    events::record(&txn, Event::ArticleUpdated { article: &updated }).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Editorial state changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Public now, or at a future instant.
    Publish(Option<DateTime<Utc>>),
    /// Back to draft.
    Unpublish,
    /// Withdrawn.
    Archive,
}

/// Publishes, unpublishes or archives an article (editors and admins). A scheduled article
/// becomes visible at its time with no job having to run: visibility compares with "now".
/// Its `ARTICLE_PUBLISHED` event is recorded now, at the write, with the future `publishedAt`.
pub async fn transition(
    db: &impl TransactionTrait,
    viewer: Viewer,
    id: i32,
    to: Transition,
) -> AppResult<article::Model> {
    viewer.require_editor()?;
    let now = Utc::now();
    if let Transition::Publish(Some(at)) = to
        && at <= now
    {
        return Err(AppError::invalid(
            "publishAt",
            "must be in the future; omit it to publish now",
        ));
    }
    let txn = db.begin().await?;
    let current = editable(&txn, viewer, id).await?;
    let mut changes = article::ActiveModel::default();
    match to {
        Transition::Publish(at) => {
            changes.status = Set(Status::Published);
            changes.published_at = Set(Some(at.unwrap_or_else(super::request_time)));
        }
        Transition::Unpublish => {
            changes.status = Set(Status::Draft);
            changes.published_at = Set(None);
        }
        Transition::Archive => {
            changes.status = Set(Status::Archived);
        }
    }
    let updated = write_versioned(&txn, &current, current.version, changes).await?;
    let event = match to {
        Transition::Publish(_) => Event::ArticlePublished { article: &updated },
        Transition::Unpublish | Transition::Archive => {
            Event::ArticleUnpublished { article: &updated }
        }
    };
    events::record(&txn, event).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes an article: editors and admins any, an author key its own drafts.
pub async fn delete(db: &impl TransactionTrait, viewer: Viewer, id: i32) -> AppResult<i32> {
    viewer.require_key()?;
    let txn = db.begin().await?;
    let current = editable(&txn, viewer, id).await?;
    if matches!(viewer.require_key()?, (Role::Author, _)) && current.status != Status::Draft {
        return Err(AppError::Forbidden(
            "an author key may delete its own drafts only".into(),
        ));
    }
    db::article::delete(&txn, current.id).await?;
    search::unindex(&txn, current.id).await?;
    events::record(&txn, Event::ArticleDeleted { article: &current }).await?;
    txn.commit().await?;
    Ok(current.id)
}

/// Counter changes clients make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterChange {
    /// One more view (anonymous callers allowed).
    View,
    /// Like / unlike.
    Like(bool),
    /// Collect (bookmark) / uncollect.
    Collect(bool),
}

/// Applies a counter change in one atomic statement; the article must be visible to `viewer`.
pub async fn bump_counter(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
    change: CounterChange,
) -> AppResult<article::Model> {
    let (counter, delta) = match change {
        CounterChange::View => (db::article::Counter::Views, 1),
        CounterChange::Like(on) => {
            viewer.require_key()?;
            (db::article::Counter::Likes, if on { 1 } else { -1 })
        }
        CounterChange::Collect(on) => {
            viewer.require_key()?;
            (db::article::Counter::Collects, if on { 1 } else { -1 })
        }
    };
    db::article::bump(
        conn,
        id,
        counter,
        delta,
        viewer.visibility(super::request_time()),
    )
    .await?
    .ok_or_else(|| AppError::not_found("article", id.to_string()))
}
