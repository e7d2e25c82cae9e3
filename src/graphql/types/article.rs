//! The `Article` type and its inputs.

use std::sync::OnceLock;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::article::{self, Status};

use super::{Author, NodeId, NodeKind, Tag, loader};
use crate::{
    db::{article::ArticleFilter, page::Direction},
    domain::{
        article::{ArticleOrder, OrderField},
        markdown,
    },
    error::AppError,
    graphql::{
        cache::{self, ArticleList},
        loaders::{AuthorLoader, TagsByArticleLoader},
    },
};

/// Longest excerpt a client may ask for, in characters.
pub const MAX_EXCERPT_LENGTH: i32 = 2000;

/// A long-form article.
#[derive(Clone)]
pub struct Article {
    model: article::Model,
    plain: OnceLock<String>,
}

impl From<article::Model> for Article {
    fn from(model: article::Model) -> Self {
        cache::entity("article", model.id);
        Self {
            model,
            plain: OnceLock::new(),
        }
    }
}

impl Article {
    fn plain_text(&self) -> &str {
        self.plain
            .get_or_init(|| markdown::plain_text(&self.model.body))
    }
}

/// Editorial state of an article.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ArticleStatus {
    /// Being written; not public.
    Draft,
    /// Public from `publishedAt` on.
    Published,
    /// Withdrawn; not public.
    Archived,
}

impl From<Status> for ArticleStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Draft => Self::Draft,
            Status::Published => Self::Published,
            Status::Archived => Self::Archived,
        }
    }
}

/// The representation `Article.body` returns.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyFormat {
    /// The markdown source.
    #[default]
    Markdown,
    /// Sanitized HTML rendered from the markdown (CommonMark); headings carry `id` anchors.
    Html,
    /// Plain text without markup.
    Plain,
}

/// Engagement counters of an article.
#[derive(SimpleObject)]
pub struct ArticleStats {
    /// Times read.
    pub views: i64,
    /// Comments.
    pub comments: i64,
    /// Times bookmarked ("collected").
    pub collects: i64,
    /// Likes.
    pub likes: i64,
}

impl ArticleStats {
    /// The counters of an article row.
    pub fn of(a: &article::Model) -> Self {
        Self {
            views: a.view_count,
            comments: a.comment_count,
            collects: a.collect_count,
            likes: a.like_count,
        }
    }
}

/// One heading of an article, for a table of contents.
#[derive(SimpleObject)]
pub struct TocEntry {
    /// Heading level, 1 to 6.
    pub level: i32,
    /// Heading text without markup.
    pub text: String,
    /// The `id` of the heading in the HTML body (link to `#anchor`).
    pub anchor: String,
}

#[Object(cache_control(max_age = 60))]
impl Article {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        NodeId::encode(NodeKind::Article, self.model.id)
    }

    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        &self.model.slug
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.model.title
    }

    /// The lead: a short summary shown above the body.
    async fn summary(&self) -> Option<&str> {
        self.model.summary.as_deref()
    }

    /// Category, as the source names it.
    async fn category(&self) -> Option<&str> {
        self.model.category.as_deref()
    }

    /// Editorial state.
    async fn status(&self) -> ArticleStatus {
        self.model.status.into()
    }

    /// When the article went (or goes) public.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.model.published_at
    }

    /// When the article was created here.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the article last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    /// The body in the requested format.
    async fn body(
        &self,
        #[graphql(default, desc = "Representation wanted.")] format: BodyFormat,
    ) -> &str {
        match format {
            BodyFormat::Markdown => &self.model.body,
            BodyFormat::Html => &self.model.body_html,
            BodyFormat::Plain => self.plain_text(),
        }
    }

    /// The start of the plain-text body, cut at a word boundary with `…` when longer.
    async fn excerpt(
        &self,
        #[graphql(
            default = 200,
            desc = "Most characters returned, 1 to 2000 (`…` included)."
        )]
        max_length: i32,
    ) -> async_graphql::Result<String> {
        if !(1..=MAX_EXCERPT_LENGTH).contains(&max_length) {
            return Err(AppError::bad_input(format!(
                "`maxLength` must be between 1 and {MAX_EXCERPT_LENGTH}, got {max_length}"
            ))
            .into());
        }
        let max = usize::try_from(max_length).unwrap_or_default();
        Ok(markdown::excerpt(self.plain_text(), max))
    }

    /// The headings of the body, in order.
    async fn table_of_contents(&self) -> Vec<TocEntry> {
        markdown::table_of_contents(&self.model.body)
            .into_iter()
            .map(|t| TocEntry {
                level: i32::from(t.level),
                text: t.text,
                anchor: t.anchor,
            })
            .collect()
    }

    /// Estimated minutes to read.
    async fn reading_time_minutes(&self) -> i32 {
        self.model.reading_time_minutes
    }

    /// Words in the body; each Chinese (CJK) character counts as one word.
    async fn word_count(&self) -> i32 {
        self.model.word_count
    }

    /// Engagement counters.
    async fn stats(&self) -> ArticleStats {
        ArticleStats::of(&self.model)
    }

    /// Revision number; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.model.version
    }

    /// Cover image URL.
    async fn cover_image_url(&self) -> Option<&str> {
        self.model.cover_image_url.as_deref()
    }

    /// Where the article was first published.
    async fn original_url(&self) -> Option<&str> {
        self.model.original_url.as_deref()
    }

    /// The author.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Author> {
        let id = self.model.author_id;
        let author = loader::<AuthorLoader>(ctx)?
            .load_one(id)
            .await?
            .ok_or_else(|| AppError::not_found("author", id.to_string()))?;
        Ok(author.into())
    }

    /// Published articles related to this one: most shared tags first, then same category,
    /// then similar titles.
    async fn related(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5, desc = "How many, 0 to 20.")] first: i32,
    ) -> async_graphql::Result<Vec<RelatedArticle>> {
        if !(0..=20).contains(&first) {
            return Err(AppError::bad_input(format!(
                "`first` must be between 0 and 20, got {first}"
            ))
            .into());
        }
        let db = ctx.data::<sea_orm::DatabaseConnection>()?;
        let vis = crate::graphql::visibility(ctx);
        cache::article_list(ArticleList::All);
        let related = crate::domain::search::related(
            db,
            &self.model,
            usize::try_from(first).unwrap_or(0),
            vis,
        )
        .await?;
        Ok(related
            .into_iter()
            .map(|r| RelatedArticle {
                article: r.article.into(),
                shared_tags: r.shared_tags.into_iter().map(Tag::from).collect(),
            })
            .collect())
    }

    /// Tags, in the article's order.
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Tag>> {
        let tags = loader::<TagsByArticleLoader>(ctx)?
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(tags.into_iter().map(Tag::from).collect())
    }
}

/// An article related to another.
#[derive(SimpleObject)]
pub struct RelatedArticle {
    /// The related article.
    pub article: Article,
    /// Tags both articles carry.
    pub shared_tags: Vec<Tag>,
}

/// Narrows an article listing; all given fields must match.
#[derive(InputObject, Default)]
pub struct ArticleFilterInput {
    /// Only articles by the author with this slug.
    pub author_slug: Option<String>,
    /// Only articles carrying any of these tags (slugs, case-insensitive; at most 20).
    pub tag_slugs: Option<Vec<String>>,
    /// Only articles of this category (case-insensitive).
    pub category: Option<String>,
    /// Only articles published at or after this instant.
    pub published_after: Option<DateTime<Utc>>,
    /// Only articles published before this instant.
    pub published_before: Option<DateTime<Utc>>,
}

impl From<ArticleFilterInput> for ArticleFilter {
    fn from(f: ArticleFilterInput) -> Self {
        Self {
            author_slug: f.author_slug,
            tag_slugs: f.tag_slugs.unwrap_or_default(),
            category: f.category,
            published_after: f.published_after,
            published_before: f.published_before,
            ..Default::default()
        }
    }
}

/// Fields an article listing can be sorted by (ties broken by id).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArticleOrderField {
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

/// Sort direction.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How to sort an article listing. Default: newest first.
#[derive(InputObject)]
pub struct ArticleOrderInput {
    /// Field to sort by.
    #[graphql(default)]
    pub field: ArticleOrderField,
    /// Direction; defaults to DESC, except ASC for TITLE.
    pub direction: Option<OrderDirection>,
}

impl From<ArticleOrderInput> for ArticleOrder {
    fn from(o: ArticleOrderInput) -> Self {
        let field = match o.field {
            ArticleOrderField::PublishedAt => OrderField::PublishedAt,
            ArticleOrderField::Views => OrderField::Views,
            ArticleOrderField::Likes => OrderField::Likes,
            ArticleOrderField::Title => OrderField::Title,
        };
        if matches!(field, OrderField::Views | OrderField::Likes) {
            crate::graphql::cache::ordered_by_counter();
        }
        let direction = match (o.direction, field) {
            (Some(OrderDirection::Asc), _) | (None, OrderField::Title) => Direction::Asc,
            (Some(OrderDirection::Desc), _) | (None, _) => Direction::Desc,
        };
        Self { field, direction }
    }
}

/// Resolves an article listing: validates the filter, pages it, and counts lazily. Shared by
/// `Query.articles`, `Author.articles` and `Tag.articles`.
pub(crate) async fn article_connection(
    ctx: &Context<'_>,
    filter: ArticleFilter,
    order: Option<ArticleOrderInput>,
    page: crate::domain::page::PageArgs,
) -> async_graphql::Result<super::ArticleConnection> {
    let db = ctx.data::<sea_orm::DatabaseConnection>()?;
    let filter = crate::domain::article::normalize_filter(filter)?;
    cache::article_list(list_key(&filter));
    let order = order.map(ArticleOrder::from).unwrap_or_default();
    // Read bodies only when a listed article shows something derived from its body.
    let look = ctx.look_ahead();
    let shows_body = |node: async_graphql::Lookahead<'_>| {
        ["body", "excerpt", "tableOfContents"]
            .iter()
            .any(|f| node.field(f).exists())
    };
    let with_bodies =
        shows_body(look.field("edges").field("node")) || shows_body(look.field("nodes"));
    let page = crate::domain::article::list(
        db,
        &filter,
        order,
        &page,
        crate::graphql::visibility(ctx),
        with_bodies,
    )
    .await?;
    Ok(super::connection(
        page,
        super::TotalCount::Articles(filter),
        Article::from,
    ))
}

/// The surrogate key of a listing: scoped to an author or a tag when the filter names just
/// that, by id (`Author.articles`, `Tag.articles`); every other listing is `articles`.
fn list_key(f: &ArticleFilter) -> ArticleList {
    let scope_only = f.author_slug.is_none()
        && f.tag_slugs.is_empty()
        && f.category.is_none()
        && f.published_after.is_none()
        && f.published_before.is_none();
    match (f.author_id, f.tag_id) {
        (Some(id), None) if scope_only => ArticleList::OfAuthor(id),
        (None, Some(id)) if scope_only => ArticleList::OfTag(id),
        _ => ArticleList::All,
    }
}
