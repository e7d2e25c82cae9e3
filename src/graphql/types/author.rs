//! The `Author` type.

use async_graphql::{Context, ID, Object};
use entity::author;

use super::{
    ArticleConnection, ArticleOrderInput, NodeId, NodeKind, article::article_connection, loader,
};
use crate::{
    db::article::ArticleFilter,
    domain::page::PageArgs,
    graphql::{
        cache::{self, ArticleList},
        loaders::ArticleCountByAuthorLoader,
    },
};

/// A person (account) who writes articles.
#[derive(Clone)]
pub struct Author(author::Model);

impl From<author::Model> for Author {
    fn from(m: author::Model) -> Self {
        crate::graphql::cache::entity("author", m.id);
        Self(m)
    }
}

#[Object(cache_control(max_age = 300))]
impl Author {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        NodeId::encode(NodeKind::Author, self.0.id)
    }

    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Short biography.
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }

    /// Avatar image URL.
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }

    /// The author's profile page at the source.
    async fn profile_url(&self) -> Option<&str> {
        self.0.profile_url.as_deref()
    }

    /// Number of the author's published articles.
    async fn article_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        cache::article_list(ArticleList::OfAuthor(self.0.id));
        Ok(loader::<ArticleCountByAuthorLoader>(ctx)?
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }

    /// The author's published articles.
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
            author_id: Some(self.0.id),
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
