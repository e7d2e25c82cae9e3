//! Subscriptions, served over graphql-transport-ws at `/graphql/ws`. Each event carries only an
//! article id; the subscriber's stream reads the article with the subscriber's own rights, so
//! anonymous subscribers only ever see published content.

use std::{collections::HashSet, time::Duration};

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, stream};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::{
    domain::{
        self,
        auth::Viewer,
        live::{Event, Hub},
    },
    graphql::{
        types::{Article, ArticleStats, NodeId, NodeKind},
        viewer,
    },
};

/// How long counter changes are gathered into one `articleStats` message.
pub const STATS_WINDOW: Duration = Duration::from_millis(500);

/// The root subscription type.
#[derive(Default)]
pub struct Subscription;

/// What a subscription stream needs between events.
struct Follow {
    db: DatabaseConnection,
    viewer: Viewer,
    events: Receiver<Event>,
}

impl Follow {
    fn new(ctx: &Context<'_>) -> async_graphql::Result<Self> {
        Ok(Self {
            db: ctx.data::<DatabaseConnection>()?.clone(),
            viewer: viewer(ctx),
            events: ctx.data::<Hub>()?.subscribe(),
        })
    }

    /// The next event, skipping ahead when this subscriber fell behind; `None` once the hub
    /// is gone.
    async fn next(&mut self) -> Option<Event> {
        loop {
            match self.events.recv().await {
                Ok(e) => return Some(e),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "a subscriber fell behind; events skipped");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The article as this subscriber may see it now (`None`: hidden or gone).
    async fn read(&self, id: i32) -> Option<entity::article::Model> {
        let vis = self.viewer.visibility(domain::request_time());
        domain::article::get_by_id(&self.db, id, vis).await.ok()
    }
}

/// The article `id` names, checked to be visible to the subscriber now.
async fn visible(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<i32> {
    let raw = NodeId::decode_as(id, NodeKind::Article)?;
    let db = ctx.data::<DatabaseConnection>()?;
    let vis = viewer(ctx).visibility(domain::request_time());
    domain::article::get_by_id(db, raw, vis).await?;
    Ok(raw)
}

#[Subscription]
impl Subscription {
    /// Articles as they are published, optionally only those carrying any of `tagSlugs`. An
    /// article scheduled for later is announced when it is published, and only to subscribers
    /// who may already see it.
    async fn article_published(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only articles with any of these tags (slugs).")] tag_slugs: Option<
            Vec<String>,
        >,
    ) -> async_graphql::Result<impl Stream<Item = Article>> {
        let follow = Follow::new(ctx)?;
        let wanted: Option<HashSet<i32>> = match tag_slugs {
            None => None,
            Some(slugs) => {
                let db = ctx.data::<DatabaseConnection>()?;
                let tags = domain::tag::find_by_slugs(db, &slugs).await?;
                Some(tags.into_iter().map(|t| t.id).collect())
            }
        };
        Ok(stream::unfold(
            (follow, wanted),
            |(mut f, wanted)| async move {
                loop {
                    let Event::Published(id) = f.next().await? else {
                        continue;
                    };
                    let Some(article) = f.read(id).await else {
                        continue;
                    };
                    if let Some(wanted) = &wanted {
                        let tags = domain::article::tag_ids(&f.db, id)
                            .await
                            .unwrap_or_default();
                        if !tags.iter().any(|t| wanted.contains(t)) {
                            continue;
                        }
                    }
                    return Some((Article::from(article), (f, wanted)));
                }
            },
        ))
    }

    /// The article each time it changes (content, tags, publication state) while the
    /// subscriber may see it; the stream ends when the article is deleted.
    async fn article_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Article>> {
        let id = visible(ctx, &id).await?;
        let follow = Follow::new(ctx)?;
        Ok(stream::unfold(follow, move |mut f| async move {
            loop {
                match f.next().await? {
                    Event::Deleted(e) if e == id => return None,
                    Event::Updated(e) | Event::Published(e) | Event::Unpublished(e) if e == id => {
                        if let Some(article) = f.read(id).await {
                            return Some((Article::from(article), f));
                        }
                    }
                    _ => {}
                }
            }
        }))
    }

    /// The article's counters when they change; changes within half a second arrive as one
    /// message. The stream ends when the article is deleted.
    async fn article_stats(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ArticleStats>> {
        let id = visible(ctx, &id).await?;
        let follow = Follow::new(ctx)?;
        Ok(stream::unfold(follow, move |mut f| async move {
            loop {
                match f.next().await? {
                    Event::Deleted(e) if e == id => return None,
                    Event::Stats(e) if e == id => {
                        // Coalesce: let the burst settle, then read the counters once.
                        tokio::time::sleep(STATS_WINDOW).await;
                        while let Ok(later) = f.events.try_recv() {
                            if later == Event::Deleted(id) {
                                return None;
                            }
                        }
                        if let Some(article) = f.read(id).await {
                            return Some((ArticleStats::of(&article), f));
                        }
                    }
                    _ => {}
                }
            }
        }))
    }
}
