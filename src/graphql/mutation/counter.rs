//! Engagement counters: each change is one atomic SQL update.

use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{self, article::CounterChange, live::Event, rate_limit::RateLimiter},
    error::AppError,
    graphql::{
        ClientAddr, announce,
        types::{ArticleStats, NodeId, NodeKind},
        viewer,
    },
};

/// Counter writes.
#[derive(Default)]
pub struct CounterMutation;

async fn change(
    ctx: &Context<'_>,
    id: &ID,
    change: CounterChange,
) -> async_graphql::Result<ArticleStats> {
    let viewer = viewer(ctx);
    if change != CounterChange::View {
        viewer.require_key()?;
    }
    let id = NodeId::decode_as(id, NodeKind::Article)?;
    let db = ctx.data::<DatabaseConnection>()?;
    let article = domain::article::bump_counter(db, viewer, id, change).await?;
    announce(ctx, Event::Stats(article.id)).await;
    Ok(ArticleStats::of(&article))
}

#[Object]
impl CounterMutation {
    /// Counts one view (anonymous callers allowed; rate-limited per client address).
    async fn record_view(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ArticleStats> {
        let client = ctx.data_opt::<ClientAddr>().and_then(|c| c.0);
        if !ctx.data::<RateLimiter>()?.allow(client) {
            return Err(AppError::RateLimited(
                "too many views from this address; retry in a minute".into(),
            )
            .into());
        }
        change(ctx, &id, CounterChange::View).await
    }

    /// Adds a like.
    async fn like_article(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ArticleStats> {
        change(ctx, &id, CounterChange::Like(true)).await
    }

    /// Removes a like (never below zero).
    async fn unlike_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ArticleStats> {
        change(ctx, &id, CounterChange::Like(false)).await
    }

    /// Adds a collect (bookmark).
    async fn collect_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ArticleStats> {
        change(ctx, &id, CounterChange::Collect(true)).await
    }

    /// Removes a collect (never below zero).
    async fn uncollect_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ArticleStats> {
        change(ctx, &id, CounterChange::Collect(false)).await
    }
}
