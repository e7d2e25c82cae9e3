//! The `Tag` type.

use async_graphql::{Context, ID, Object};
use entity::tag;

use super::{
    ArticleConnection, ArticleOrderInput, NodeId, NodeKind, article::article_connection, loader,
};
use crate::{
    db::article::ArticleFilter,
    domain::page::PageArgs,
    graphql::{
        cache::{self, ArticleList},
        loaders::ArticleCountByTagLoader,
    },
};

/// A label on articles. Slugs are case-folded: `AI` and `ai` are one tag.
#[derive(Clone)]
pub struct Tag(tag::Model);

impl From<tag::Model> for Tag {
    fn from(m: tag::Model) -> Self {
        crate::graphql::cache::entity("tag", m.id);
        Self(m)
    }
}

#[Object(cache_control(max_age = 300))]
impl Tag {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        NodeId::encode(NodeKind::Tag, self.0.id)
    }

    /// URL-safe unique name (lower-case).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Number of published articles with this tag.
    async fn article_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        cache::article_list(ArticleList::OfTag(self.0.id));
        Ok(loader::<ArticleCountByTagLoader>(ctx)?
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }

    /// Published articles with this tag.
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the start (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the end (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Sort order; newest first by default.")] order_by: Option<
            ArticleOrderInput,
        >,
    ) -> async_graphql::Result<ArticleConnection> {
        let filter = ArticleFilter {
            tag_id: Some(self.0.id),
            ..Default::default()
        };
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        article_connection(ctx, filter, order_by, page).await
    }
}
