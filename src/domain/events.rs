//! Article events: the one point where a committed change announces itself. Domain functions
//! call [`record`] inside the transaction that makes the change, so an event exists exactly
//! when the change commits. Today the only listener is the webhook outbox
//! ([`super::webhook::enqueue`]); other listeners hook in here.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use entity::article::{self, Status};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::error::{AppError, AppResult};

/// What happened to an article. Each variant names the article as it is after the change
/// (as it was before, for a deletion).
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// Published now, or scheduled for a later `publishedAt`.
    ArticlePublished {
        /// The article.
        article: &'a article::Model,
    },
    /// Fields or tags changed.
    ArticleUpdated {
        /// The article.
        article: &'a article::Model,
    },
    /// Back to draft, or archived.
    ArticleUnpublished {
        /// The article.
        article: &'a article::Model,
    },
    /// Deleted.
    ArticleDeleted {
        /// The article as it was.
        article: &'a article::Model,
    },
}

/// The kinds of event, as webhook endpoints subscribe to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `ARTICLE_PUBLISHED`.
    ArticlePublished,
    /// `ARTICLE_UPDATED`.
    ArticleUpdated,
    /// `ARTICLE_UNPUBLISHED`.
    ArticleUnpublished,
    /// `ARTICLE_DELETED`.
    ArticleDeleted,
}

impl EventKind {
    /// Every kind, in schema order.
    pub const ALL: [Self; 4] = [
        Self::ArticlePublished,
        Self::ArticleUpdated,
        Self::ArticleUnpublished,
        Self::ArticleDeleted,
    ];

    /// The wire name (`ARTICLE_PUBLISHED`), used in payloads and stored subscriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ArticlePublished => "ARTICLE_PUBLISHED",
            Self::ArticleUpdated => "ARTICLE_UPDATED",
            Self::ArticleUnpublished => "ARTICLE_UNPUBLISHED",
            Self::ArticleDeleted => "ARTICLE_DELETED",
        }
    }

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl Event<'_> {
    /// Its kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::ArticlePublished { .. } => EventKind::ArticlePublished,
            Self::ArticleUpdated { .. } => EventKind::ArticleUpdated,
            Self::ArticleUnpublished { .. } => EventKind::ArticleUnpublished,
            Self::ArticleDeleted { .. } => EventKind::ArticleDeleted,
        }
    }

    fn article(&self) -> &article::Model {
        match self {
            Self::ArticlePublished { article }
            | Self::ArticleUpdated { article }
            | Self::ArticleUnpublished { article }
            | Self::ArticleDeleted { article } => article,
        }
    }
}

/// An event with its identity and its serialized payload, as listeners receive it.
#[derive(Clone, Debug)]
pub struct RecordedEvent {
    /// Public id (`evt_` and 32 hex digits), unique per event.
    pub id: String,
    /// Kind.
    pub kind: EventKind,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
    /// The JSON body webhook endpoints receive.
    pub payload: String,
}

/// Records `event` in the current transaction: run it with the connection of the transaction
/// that makes the change, so that a rolled-back change leaves no event behind.
pub async fn record(conn: &impl ConnectionTrait, event: Event<'_>) -> AppResult<()> {
    let recorded = describe(&event, new_event_id()?, Utc::now());
    super::webhook::enqueue(conn, &recorded).await
}

/// The recorded form of `event`: ids and small metadata, never bodies.
fn describe(event: &Event<'_>, id: String, occurred_at: DateTime<Utc>) -> RecordedEvent {
    let a = event.article();
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let payload = json!({
        "id": id,
        "type": event.kind().as_str(),
        "occurredAt": rfc3339(occurred_at),
        "data": {
            "article": {
                "id": article_global_id(a.id),
                "slug": a.slug,
                "title": a.title,
                "status": status_name(a.status),
                "publishedAt": a.published_at.map(rfc3339),
            }
        }
    });
    RecordedEvent {
        id,
        kind: event.kind(),
        occurred_at,
        payload: payload.to_string(),
    }
}

/// The article's global id as GraphQL shows it (`Article.id`); see `graphql::types::node`.
fn article_global_id(id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("Article:{id}"))
}

/// The status as GraphQL names it (`ArticleStatus`).
fn status_name(status: Status) -> &'static str {
    match status {
        Status::Draft => "DRAFT",
        Status::Published => "PUBLISHED",
        Status::Archived => "ARCHIVED",
    }
}

fn new_event_id() -> AppResult<String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(format!("no randomness available: {e}")))?;
    Ok(format!(
        "evt_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::types::{NodeId, NodeKind};

    #[test]
    fn article_ids_in_payloads_are_the_graphql_global_ids() {
        assert_eq!(
            article_global_id(42),
            NodeId::encode(NodeKind::Article, 42).0
        );
    }

    #[test]
    fn event_kinds_round_trip_through_their_wire_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("ARTICLE_CREATED"), None);
    }

    #[test]
    fn event_ids_are_prefixed_and_unique() {
        let (a, b) = (new_event_id().unwrap(), new_event_id().unwrap());
        assert!(a.starts_with("evt_") && a.len() == 36, "{a}");
        assert_ne!(a, b);
    }
}
