//! `author` and `authors`.

use async_graphql::{Context, Object};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{self, page::PageArgs},
    graphql::{
        cache,
        types::{Author, AuthorConnection, TotalCount, connection},
    },
};

/// Author lookups and listings.
#[derive(Default)]
pub struct AuthorQuery;

#[Object]
impl AuthorQuery {
    /// One author by slug; a missing author is a NOT_FOUND error.
    async fn author(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The author's slug.")] slug: String,
    ) -> async_graphql::Result<Option<Author>> {
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(Some(domain::author::get_by_slug(db, &slug).await?.into()))
    }

    /// All authors, by name.
    async fn authors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the start (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the end (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> async_graphql::Result<AuthorConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        cache::list("authors");
        let page = domain::author::list(db, &page).await?;
        Ok(connection(page, TotalCount::Authors, Author::from))
    }
}
