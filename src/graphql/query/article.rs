//! `article` and `articles`.

use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{self, page::PageArgs, preview::PreviewKey},
    error::AppError,
    graphql::{
        cache, now,
        types::{
            Article, ArticleConnection, ArticleFilterInput, ArticleOrderInput, NodeId, NodeKind,
            article_connection,
        },
        visibility,
    },
};

/// Article lookups and listings.
#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    /// One article, by `slug` or by `id` (give exactly one). A missing article, or one the
    /// caller may not see, is a NOT_FOUND error. With a `previewToken` the article it was issued
    /// for is returned whatever its state (a token is refused with UNAUTHENTICATED once expired).
    async fn article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's slug.")] slug: Option<String>,
        #[graphql(desc = "The article's global id.")] id: Option<ID>,
        #[graphql(desc = "A token from `createPreviewToken`.")] preview_token: Option<String>,
    ) -> async_graphql::Result<Option<Article>> {
        let db = ctx.data::<DatabaseConnection>()?;
        if let Some(token) = preview_token {
            let key = ctx.data::<PreviewKey>()?;
            cache::private();
            let model = domain::preview::read(db, key, &token, now(ctx)).await?;
            let matches = match (&slug, &id) {
                (Some(s), None) => s.trim() == model.slug,
                (None, Some(i)) => NodeId::decode_as(i, NodeKind::Article)? == model.id,
                (None, None) => true,
                (Some(_), Some(_)) => {
                    return Err(AppError::bad_input("give at most one of `slug` and `id`").into());
                }
            };
            if !matches {
                return Err(AppError::not_found("article", slug.unwrap_or_default()).into());
            }
            return Ok(Some(model.into()));
        }
        let model = match (slug, id) {
            (Some(slug), None) => domain::article::get_by_slug(db, &slug, visibility(ctx)).await?,
            (None, Some(id)) => {
                let id = NodeId::decode_as(&id, NodeKind::Article)?;
                domain::article::get_by_id(db, id, visibility(ctx)).await?
            }
            _ => return Err(AppError::bad_input("give exactly one of `slug` and `id`").into()),
        };
        Ok(Some(model.into()))
    }

    /// Published articles, newest first unless `orderBy` says otherwise.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per GraphQL argument"
    )]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the start (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the end (0 to 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
        #[graphql(desc = "Only articles matching this.")] filter: Option<ArticleFilterInput>,
        #[graphql(desc = "Sort order.")] order_by: Option<ArticleOrderInput>,
    ) -> async_graphql::Result<ArticleConnection> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        let filter = filter.unwrap_or_default().into();
        article_connection(ctx, filter, order_by, page).await
    }
}
