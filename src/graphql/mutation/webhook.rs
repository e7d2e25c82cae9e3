//! Managing webhooks over GraphQL (admins): endpoints, their deliveries and attempts, and
//! redelivery. The secret is write-only: after creation only its first characters are shown.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook, webhook_attempt, webhook_delivery::DeliveryStatus};
use sea_orm::DatabaseConnection;

use crate::{
    db::webhook::DeliveryFilter,
    domain::{
        events::EventKind,
        webhook::{self as hooks, DeliveryView, WebhookInput},
    },
    error::AppError,
    graphql::viewer,
};

/// An article event an endpoint can subscribe to.
#[expect(
    clippy::enum_variant_names,
    reason = "events name their subject (ARTICLE_…) so that events on other subjects can join"
)]
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEvent {
    /// Published now, or scheduled (sent at the write, with the future `publishedAt`).
    ArticlePublished,
    /// Fields or tags changed.
    ArticleUpdated,
    /// Back to draft, or archived.
    ArticleUnpublished,
    /// Deleted.
    ArticleDeleted,
}

impl From<WebhookEvent> for EventKind {
    fn from(e: WebhookEvent) -> Self {
        match e {
            WebhookEvent::ArticlePublished => Self::ArticlePublished,
            WebhookEvent::ArticleUpdated => Self::ArticleUpdated,
            WebhookEvent::ArticleUnpublished => Self::ArticleUnpublished,
            WebhookEvent::ArticleDeleted => Self::ArticleDeleted,
        }
    }
}

impl From<EventKind> for WebhookEvent {
    fn from(e: EventKind) -> Self {
        match e {
            EventKind::ArticlePublished => Self::ArticlePublished,
            EventKind::ArticleUpdated => Self::ArticleUpdated,
            EventKind::ArticleUnpublished => Self::ArticleUnpublished,
            EventKind::ArticleDeleted => Self::ArticleDeleted,
        }
    }
}

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt, or being attempted.
    Pending,
    /// An attempt got a 2xx answer.
    Delivered,
    /// Every allowed attempt failed (`redeliverWebhook` queues it again).
    Failed,
}

impl From<DeliveryStatus> for WebhookDeliveryStatus {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Pending => Self::Pending,
            DeliveryStatus::Delivered => Self::Delivered,
            DeliveryStatus::Failed => Self::Failed,
        }
    }
}

impl From<WebhookDeliveryStatus> for DeliveryStatus {
    fn from(s: WebhookDeliveryStatus) -> Self {
        match s {
            WebhookDeliveryStatus::Pending => Self::Pending,
            WebhookDeliveryStatus::Delivered => Self::Delivered,
            WebhookDeliveryStatus::Failed => Self::Failed,
        }
    }
}

/// An endpoint as admins see it: never the secret, only its first characters.
#[derive(SimpleObject)]
#[graphql(cache_control(private))]
pub struct Webhook {
    /// Webhook id.
    pub id: ID,
    /// Where events are POSTed.
    pub url: String,
    /// The events it receives.
    pub events: Vec<WebhookEvent>,
    /// The signing secret's first characters.
    pub secret_prefix: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<webhook::Model> for Webhook {
    fn from(h: webhook::Model) -> Self {
        Self {
            id: ID(h.id.to_string()),
            events: hooks::events_of(&h).into_iter().map(Into::into).collect(),
            url: h.url,
            secret_prefix: h.secret_prefix,
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

/// One HTTP attempt of a delivery.
#[derive(SimpleObject)]
#[graphql(cache_control(private))]
pub struct WebhookAttempt {
    /// When it started.
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status of the answer, if one came.
    pub status_code: Option<i32>,
    /// Why it failed (no answer, or a status other than 2xx), if it did.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(a: webhook_attempt::Model) -> Self {
        Self {
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

/// One event sent (or to be sent) to one endpoint.
#[derive(SimpleObject)]
#[graphql(cache_control(private))]
pub struct WebhookDelivery {
    /// Delivery id (for `redeliverWebhook`).
    pub id: ID,
    /// The endpoint's id.
    pub webhook_id: ID,
    /// The event's id, sent as `Webhook-Id` (the same for every endpoint and every attempt).
    pub event_id: String,
    /// The event.
    pub event: Option<WebhookEvent>,
    /// The JSON body sent.
    pub payload: String,
    /// State.
    pub status: WebhookDeliveryStatus,
    /// Attempts made.
    pub attempt_count: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When an attempt got a 2xx answer.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempts: Vec<WebhookAttempt>,
}

impl From<DeliveryView> for WebhookDelivery {
    fn from(v: DeliveryView) -> Self {
        let d = v.delivery;
        Self {
            id: ID(d.id.to_string()),
            webhook_id: ID(d.webhook_id.to_string()),
            event_id: v.event.event_id,
            event: EventKind::parse(&v.event.kind).map(Into::into),
            payload: v.event.payload,
            status: d.status.into(),
            attempt_count: d.attempt_count,
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
            created_at: d.created_at,
            attempts: v.attempts.into_iter().map(Into::into).collect(),
        }
    }
}

/// A page of deliveries, newest first.
#[derive(SimpleObject)]
#[graphql(cache_control(private))]
pub struct WebhookDeliveryPage {
    /// The deliveries.
    pub nodes: Vec<WebhookDelivery>,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
    /// Whether older deliveries follow.
    pub has_next_page: bool,
}

/// A new endpoint.
#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// Absolute http(s) URL events are POSTed to.
    pub url: String,
    /// Signing secret (16 to 256 characters); shown again only as a prefix.
    pub secret: String,
    /// The events it receives (at least one).
    pub events: Vec<WebhookEvent>,
}

/// Changes to an endpoint; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateWebhookInput {
    /// Absolute http(s) URL events are POSTed to.
    pub url: Option<String>,
    /// New signing secret (16 to 256 characters); later attempts are signed with it.
    pub secret: Option<String>,
    /// The events it receives (at least one).
    pub events: Option<Vec<WebhookEvent>>,
}

fn numeric_id(field: &str, what: &str, id: &ID) -> Result<i32, AppError> {
    id.parse::<i32>()
        .map_err(|_| AppError::invalid(field, format!("`{}` is not a {what} id", id.as_str())))
}

fn kinds(events: Vec<WebhookEvent>) -> Vec<EventKind> {
    events.into_iter().map(Into::into).collect()
}

/// Webhook management (admins).
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for article events.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        viewer(ctx).require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let input = WebhookInput {
            url: Some(input.url),
            secret: Some(input.secret),
            events: Some(kinds(input.events)),
        };
        Ok(hooks::create(db, &input).await?.into())
    }

    /// Changes an endpoint.
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        viewer(ctx).require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let id = numeric_id("id", "webhook", &id)?;
        let input = WebhookInput {
            url: input.url,
            secret: input.secret,
            events: input.events.map(kinds),
        };
        Ok(hooks::update(db, id, &input).await?.into())
    }

    /// Deletes an endpoint with its deliveries; returns its id.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        viewer(ctx).require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let id = numeric_id("id", "webhook", &id)?;
        Ok(ID(hooks::delete(db, id).await?.to_string()))
    }

    /// Sends a delivery's event to its endpoint again: queues a new delivery, due now.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        delivery_id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        viewer(ctx).require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let id = numeric_id("deliveryId", "webhook delivery", &delivery_id)?;
        Ok(hooks::redeliver(db, id).await?.into())
    }
}

/// Webhook listings (admins).
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every registered endpoint (admins only).
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
        viewer(ctx).require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(hooks::list(db)
            .await?
            .into_iter()
            .map(Webhook::from)
            .collect())
    }

    /// Deliveries with their attempts, newest first (admins only).
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this endpoint's deliveries.")] webhook_id: Option<ID>,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<WebhookDeliveryStatus>,
        #[graphql(desc = "Page size, 1 to 100.", default = 20)] first: i32,
        #[graphql(desc = "`endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryPage> {
        viewer(ctx).require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let filter = DeliveryFilter {
            webhook_id: webhook_id
                .map(|id| numeric_id("webhookId", "webhook", &id))
                .transpose()?,
            status: status.map(Into::into),
            before_id: after
                .map(|c| {
                    c.parse::<i32>()
                        .map_err(|_| AppError::invalid("after", "not a cursor from this listing"))
                })
                .transpose()?,
        };
        let page = hooks::list_deliveries(db, filter, first).await?;
        let end_cursor = page.nodes.last().map(|v| v.delivery.id.to_string());
        Ok(WebhookDeliveryPage {
            nodes: page.nodes.into_iter().map(Into::into).collect(),
            end_cursor,
            has_next_page: page.has_next_page,
        })
    }
}
