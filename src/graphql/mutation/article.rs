//! Writing articles: create, update, state changes, tags, delete, preview tokens.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{
        self,
        article::{ArticleInput, Patch, Transition},
        live::Event,
        preview::PreviewKey,
    },
    graphql::{
        WriteSettings, announce,
        types::{Article, NodeId, NodeKind},
        viewer,
    },
};

/// A new article (created as a draft).
#[derive(InputObject)]
pub struct CreateArticleInput {
    /// Title, 1 to 200 characters.
    pub title: String,
    /// Markdown body (1 MiB at most by default).
    pub body: String,
    /// Lead, at most 1000 characters.
    pub summary: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// The author; required for editor and admin keys, implied for author keys.
    pub author_slug: Option<String>,
    /// Tags (existing slugs), in order.
    pub tag_slugs: Option<Vec<String>>,
    /// Cover image (absolute http(s) URL).
    pub cover_image_url: Option<String>,
    /// Slug; derived from the title when omitted.
    pub slug: Option<String>,
}

/// Changes to an article; omitted fields stay, `null` clears a nullable one.
#[derive(InputObject, Default)]
pub struct UpdateArticleInput {
    /// Title.
    pub title: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// Lead.
    pub summary: MaybeUndefined<String>,
    /// Category.
    pub category: MaybeUndefined<String>,
    /// Author (editors and admins).
    pub author_slug: Option<String>,
    /// Tags, in order (replaces them all).
    pub tag_slugs: Option<Vec<String>>,
    /// Cover image URL.
    pub cover_image_url: MaybeUndefined<String>,
    /// Slug.
    pub slug: Option<String>,
}

fn patch(v: MaybeUndefined<String>) -> Patch<String> {
    match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(s) => Patch::Set(s),
    }
}

/// A signed, expiring grant to read one article, drafts included.
#[derive(SimpleObject)]
pub struct PreviewToken {
    /// Pass as `article(previewToken: …)`.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Article writes.
#[derive(Default)]
pub struct ArticleMutation;

#[Object]
impl ArticleMutation {
    /// Creates a draft.
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        input: CreateArticleInput,
    ) -> async_graphql::Result<Article> {
        let viewer = viewer(ctx);
        viewer.require_key()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let input = ArticleInput {
            slug: input.slug,
            title: Some(input.title),
            body: Some(input.body),
            summary: input.summary.map_or(Patch::Keep, Patch::Set),
            category: input.category.map_or(Patch::Keep, Patch::Set),
            author_slug: input.author_slug,
            tag_slugs: input.tag_slugs,
            cover_image_url: input.cover_image_url.map_or(Patch::Keep, Patch::Set),
        };
        let max = ctx.data::<WriteSettings>()?.max_article_bytes;
        Ok(domain::article::create(db, viewer, &input, max)
            .await?
            .into())
    }

    /// Changes an article. `expectedVersion` must be its current `version`; a stale one is a
    /// CONFLICT and nothing is written.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateArticleInput,
        expected_version: i32,
    ) -> async_graphql::Result<Article> {
        let viewer = viewer(ctx);
        viewer.require_key()?;
        let id = NodeId::decode_as(&id, NodeKind::Article)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let input = ArticleInput {
            slug: input.slug,
            title: input.title,
            body: input.body,
            summary: patch(input.summary),
            category: patch(input.category),
            author_slug: input.author_slug,
            tag_slugs: input.tag_slugs,
            cover_image_url: patch(input.cover_image_url),
        };
        let max = ctx.data::<WriteSettings>()?.max_article_bytes;
        let article =
            domain::article::update(db, viewer, id, &input, expected_version, max).await?;
        announce(ctx, Event::Updated(article.id)).await;
        Ok(article.into())
    }

    /// Publishes now, or schedules for `publishAt` (future): the article becomes visible at
    /// that time by itself (editors and admins).
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        publish_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Article> {
        self.transition(ctx, id, Transition::Publish(publish_at))
            .await
    }

    /// Takes an article back to draft (editors and admins).
    async fn unpublish_article(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Article> {
        self.transition(ctx, id, Transition::Unpublish).await
    }

    /// Archives an article: no longer public (editors and admins).
    async fn archive_article(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Article> {
        self.transition(ctx, id, Transition::Archive).await
    }

    /// Deletes an article; returns its id (editors and admins; an author its own drafts).
    async fn delete_article(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let viewer = viewer(ctx);
        viewer.require_key()?;
        let raw = NodeId::decode_as(&id, NodeKind::Article)?;
        let db = ctx.data::<DatabaseConnection>()?;
        domain::article::delete(db, viewer, raw).await?;
        announce(ctx, Event::Deleted(raw)).await;
        Ok(id)
    }

    /// Replaces an article's tags with these (existing) slugs, in this order.
    async fn set_article_tags(
        &self,
        ctx: &Context<'_>,
        id: ID,
        tag_slugs: Vec<String>,
    ) -> async_graphql::Result<Article> {
        let viewer = viewer(ctx);
        viewer.require_key()?;
        let id = NodeId::decode_as(&id, NodeKind::Article)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let article = domain::article::set_tags(db, viewer, id, &tag_slugs).await?;
        announce(ctx, Event::Updated(article.id)).await;
        Ok(article.into())
    }

    /// A token that lets a frontend read this article (draft included) without a key, for
    /// `ttl` seconds (default one hour, at most seven days).
    async fn create_preview_token(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
        #[graphql(default = 3600)] ttl: i32,
    ) -> async_graphql::Result<PreviewToken> {
        let viewer = viewer(ctx);
        viewer.require_key()?;
        let id = NodeId::decode_as(&article_id, NodeKind::Article)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let key = ctx.data::<PreviewKey>()?;
        let (token, expires_at) =
            domain::preview::create(db, key, viewer, id, i64::from(ttl)).await?;
        Ok(PreviewToken { token, expires_at })
    }
}

impl ArticleMutation {
    async fn transition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        to: Transition,
    ) -> async_graphql::Result<Article> {
        let viewer = viewer(ctx);
        viewer.require_editor()?;
        let id = NodeId::decode_as(&id, NodeKind::Article)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let event = match to {
            Transition::Publish(_) => Event::Published(id),
            Transition::Unpublish | Transition::Archive => Event::Unpublished(id),
        };
        let article = domain::article::transition(db, viewer, id, to).await?;
        announce(ctx, event).await;
        Ok(article.into())
    }
}
