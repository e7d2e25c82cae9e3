//! GraphQL output and input types. They wrap entity models (the entity crate stays free of
//! GraphQL) and resolve relations through the request's dataloaders.

mod article;
mod author;
mod connection;
mod node;
mod tag;

pub(crate) use article::article_connection;
pub use article::{
    Article, ArticleFilterInput, ArticleOrderField, ArticleOrderInput, ArticleStats, ArticleStatus,
    BodyFormat, OrderDirection, TocEntry,
};
pub use author::Author;
pub use connection::{
    ArticleConnection, AuthorConnection, SearchConnection, TagConnection, TotalCount, connection,
};
pub use node::{Node, NodeId, NodeKind};
pub use tag::Tag;

use async_graphql::{Context, dataloader::DataLoader};

/// The request's dataloader of type `L` (registered by `loaders::register`).
pub(crate) fn loader<'a, L>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a DataLoader<L>>
where
    L: Send + Sync + 'static,
{
    ctx.data::<DataLoader<L>>()
}
