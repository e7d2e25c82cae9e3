//! Apollo Federation entity lookups: a gateway resolves `Article`, `Author` and `Tag`
//! references by their `id` (the same global id as `node`) through `_entities`. Lookups go
//! through dataloaders, so a batch of representations costs one statement per type. Articles
//! follow the caller's visibility; an unknown or hidden one resolves to null.

use async_graphql::{Context, ID, Object};

use crate::graphql::{
    loaders::{ArticleLoader, AuthorLoader, TagLoader},
    types::{Article, Author, NodeId, NodeKind, Tag, loader},
};

/// Entity resolvers (not fields of `Query`; the federation `_entities` field calls them).
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// An article by global id.
    #[graphql(entity)]
    async fn find_article_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Article>> {
        let id = NodeId::decode_as(&id, NodeKind::Article)?;
        Ok(loader::<ArticleLoader>(ctx)?
            .load_one(id)
            .await?
            .map(Article::from))
    }

    /// An author by global id.
    #[graphql(entity)]
    async fn find_author_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Author>> {
        let id = NodeId::decode_as(&id, NodeKind::Author)?;
        Ok(loader::<AuthorLoader>(ctx)?
            .load_one(id)
            .await?
            .map(Author::from))
    }

    /// A tag by global id.
    #[graphql(entity)]
    async fn find_tag_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Tag>> {
        let id = NodeId::decode_as(&id, NodeKind::Tag)?;
        Ok(loader::<TagLoader>(ctx)?.load_one(id).await?.map(Tag::from))
    }
}
