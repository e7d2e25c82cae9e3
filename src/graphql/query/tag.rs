//! `tag` and `tags`.

use async_graphql::{Context, Object};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{self, page::PageArgs},
    graphql::{
        cache,
        types::{Tag, TagConnection, TotalCount, connection},
    },
};

/// Tag lookups and listings.
#[derive(Default)]
pub struct TagQuery;

#[Object]
impl TagQuery {
    /// One tag by slug (case-insensitive); a missing tag is a NOT_FOUND error.
    async fn tag(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tag's slug.")] slug: String,
    ) -> async_graphql::Result<Option<Tag>> {
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(Some(domain::tag::get_by_slug(db, &slug).await?.into()))
    }

    /// All tags, by slug.
    async fn tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the start (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the end (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> async_graphql::Result<TagConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        cache::list("tags");
        let page = domain::tag::list(db, &page).await?;
        Ok(connection(page, TotalCount::Tags, Tag::from))
    }
}
