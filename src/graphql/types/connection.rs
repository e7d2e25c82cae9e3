//! Relay connections: `edges { cursor node }`, `pageInfo`, `nodes` and a lazy `totalCount`.

use async_graphql::{
    Context, Object, OutputType,
    connection::{Connection, Edge},
};
use sea_orm::DatabaseConnection;

use super::{Article, Author, Tag};
use crate::{
    db::article::ArticleFilter,
    domain::{self, page::Page},
    graphql::visibility,
};

/// A page of articles.
pub type ArticleConnection = Connection<String, Article, TotalCount>;
/// A page of authors.
pub type AuthorConnection = Connection<String, Author, TotalCount>;
/// A page of tags.
pub type TagConnection = Connection<String, Tag, TotalCount>;
/// A page of search hits.
pub type SearchConnection = Connection<String, crate::graphql::query::SearchHit, TotalCount>;

/// What a connection's `totalCount` counts; the count runs only when a client selects it.
pub enum TotalCount {
    /// Visible articles matching a filter.
    Articles(ArticleFilter),
    /// All authors.
    Authors,
    /// All tags.
    Tags,
    /// Articles matching a search query and a filter.
    Search(String, ArticleFilter),
}

#[Object]
impl TotalCount {
    /// Number of items in the whole list (all pages), counted when asked for.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(match self {
            Self::Articles(filter) => domain::article::count(db, filter, visibility(ctx)).await?,
            Self::Authors => domain::author::count(db).await?,
            Self::Tags => domain::tag::count(db).await?,
            Self::Search(query, filter) => {
                domain::search::count(db, query, filter, visibility(ctx)).await?
            }
        })
    }
}

/// Turns a domain page into a connection of `N`.
pub fn connection<M, N>(
    page: Page<M>,
    total: TotalCount,
    node: impl Fn(M) -> N,
) -> Connection<String, N, TotalCount>
where
    N: OutputType,
{
    let mut conn = Connection::with_additional_fields(page.has_previous, page.has_next, total);
    conn.edges = page
        .items
        .into_iter()
        .map(|(cursor, m)| Edge::new(cursor, node(m)))
        .collect();
    conn
}
