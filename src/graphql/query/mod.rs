//! Query roots, one per schema area, merged into `Query`.

mod article;
mod author;
mod entity;
mod node;
mod search;
mod tag;
mod viewer;

pub use search::SearchHit;

use async_graphql::MergedObject;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(
    article::ArticleQuery,
    author::AuthorQuery,
    tag::TagQuery,
    node::NodeQuery,
    entity::EntityQuery,
    search::SearchQuery,
    viewer::ViewerQuery,
    crate::graphql::mutation::KeyQuery,
    crate::graphql::mutation::WebhookQuery,
);
