//! Webhooks: endpoints admins register, the outbox rows written with each article change, and
//! the rules workers follow (claiming, signing, retrying).
//!
//! Design: one `webhook_events` row per change holds the payload; one `webhook_deliveries` row
//! per endpoint subscribed to the event's kind tracks sending it there. Both are written by
//! [`enqueue`] in the transaction of the change. A worker claims due deliveries with a lease
//! ([`claim`]), sends them, and records each attempt ([`finish`]).

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use entity::{
    webhook, webhook_attempt,
    webhook_delivery::{self, DeliveryStatus},
    webhook_event,
};
use hmac::{Hmac, Mac};
use sea_orm::{ConnectionTrait, DbBackend, Set, TransactionSession, TransactionTrait};
use sha2::Sha256;

use super::{
    events::{EventKind, RecordedEvent},
    validate,
};
use crate::{
    db::{self, webhook::DeliveryFilter},
    error::{AppError, AppResult},
};

/// Shortest accepted signing secret, in characters.
pub const MIN_SECRET_CHARS: usize = 16;
/// Longest accepted signing secret, in characters.
pub const MAX_SECRET_CHARS: usize = 256;
/// Characters of the secret shown after creation.
const SECRET_PREFIX_CHARS: usize = 4;
/// Most deliveries one listing page returns.
pub const MAX_PAGE: u64 = 100;

/// The fields of a new endpoint, or the changes to one (`None`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct WebhookInput {
    /// Absolute http(s) URL the events are POSTed to.
    pub url: Option<String>,
    /// Signing secret.
    pub secret: Option<String>,
    /// Event kinds the endpoint receives.
    pub events: Option<Vec<EventKind>>,
}

fn valid_url(url: &str) -> AppResult<String> {
    validate::url("input.url", Some(url))?
        .ok_or_else(|| AppError::invalid("input.url", "must not be empty"))
}

fn valid_secret(secret: &str) -> AppResult<String> {
    let n = secret.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) || secret.trim() != secret {
        return Err(AppError::invalid(
            "input.secret",
            format!(
                "must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters, without surrounding spaces"
            ),
        ));
    }
    Ok(secret.to_owned())
}

/// The stored form of a subscription: wire names, comma-separated, duplicates dropped.
fn valid_events(events: &[EventKind]) -> AppResult<String> {
    if events.is_empty() {
        return Err(AppError::invalid("input.events", "name at least one event"));
    }
    let mut names: Vec<&str> = Vec::new();
    for kind in EventKind::ALL {
        if events.contains(&kind) {
            names.push(kind.as_str());
        }
    }
    Ok(names.join(","))
}

/// The event kinds an endpoint receives.
pub fn events_of(hook: &webhook::Model) -> Vec<EventKind> {
    hook.events
        .split(',')
        .filter_map(EventKind::parse)
        .collect()
}

fn secret_prefix(secret: &str) -> String {
    secret.chars().take(SECRET_PREFIX_CHARS).collect()
}

/// Registers an endpoint; every field is required.
pub async fn create(
    conn: &impl ConnectionTrait,
    input: &WebhookInput,
) -> AppResult<webhook::Model> {
    let url = valid_url(input.url.as_deref().unwrap_or_default())?;
    let secret = valid_secret(input.secret.as_deref().unwrap_or_default())?;
    let events = valid_events(input.events.as_deref().unwrap_or_default())?;
    let now = Utc::now();
    db::webhook::insert(
        conn,
        webhook::ActiveModel {
            url: Set(url),
            secret_prefix: Set(secret_prefix(&secret)),
            secret: Set(secret),
            events: Set(events),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await
}

/// Changes the given fields of endpoint `id`. Deliveries already queued keep going to it and
/// are signed with the secret current when they are sent.
pub async fn update(
    conn: &impl ConnectionTrait,
    id: i32,
    input: &WebhookInput,
) -> AppResult<webhook::Model> {
    let url = input.url.as_deref().map(valid_url).transpose()?;
    let secret = input.secret.as_deref().map(valid_secret).transpose()?;
    let events = input.events.as_deref().map(valid_events).transpose()?;
    let current = get(conn, id).await?;
    let mut model: webhook::ActiveModel = current.into();
    if let Some(url) = url {
        model.url = Set(url);
    }
    if let Some(secret) = secret {
        model.secret_prefix = Set(secret_prefix(&secret));
        model.secret = Set(secret);
    }
    if let Some(events) = events {
        model.events = Set(events);
    }
    model.updated_at = Set(Utc::now());
    db::webhook::update(conn, model).await
}

/// Deletes endpoint `id` with its deliveries and their attempts.
pub async fn delete(db: &impl TransactionTrait, id: i32) -> AppResult<i32> {
    let txn = db.begin().await?;
    if !db::webhook::delete(&txn, id).await? {
        return Err(AppError::not_found("webhook", id.to_string()));
    }
    txn.commit().await?;
    Ok(id)
}

/// Endpoint `id`; `NOT_FOUND` when there is none.
pub async fn get(conn: &impl ConnectionTrait, id: i32) -> AppResult<webhook::Model> {
    db::webhook::find(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("webhook", id.to_string()))
}

/// Every endpoint.
pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<webhook::Model>> {
    db::webhook::list(conn).await
}

/// Writes the outbox rows for `event`: the event and one delivery per endpoint subscribed to
/// its kind, due now. Nothing is written when no endpoint is subscribed. Called by
/// [`super::events::record`] inside the change's transaction.
pub async fn enqueue(conn: &impl ConnectionTrait, event: &RecordedEvent) -> AppResult<()> {
    let hooks: Vec<webhook::Model> = db::webhook::list(conn)
        .await?
        .into_iter()
        .filter(|h| events_of(h).contains(&event.kind))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let stored = db::webhook::insert_event(
        conn,
        webhook_event::ActiveModel {
            event_id: Set(event.id.clone()),
            kind: Set(event.kind.as_str().to_owned()),
            payload: Set(event.payload.clone()),
            occurred_at: Set(event.occurred_at),
            ..Default::default()
        },
    )
    .await?;
    let now = Utc::now();
    let deliveries = hooks
        .iter()
        .map(|h| new_delivery(h.id, stored.id, now))
        .collect();
    db::webhook::insert_deliveries(conn, deliveries).await
}

fn new_delivery(
    webhook_id: i32,
    event_id: i32,
    now: DateTime<Utc>,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        webhook_id: Set(webhook_id),
        event_id: Set(event_id),
        status: Set(DeliveryStatus::Pending),
        attempt_count: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        claimed_by: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// A delivery with its event and attempts, as admins see it.
#[derive(Clone, Debug)]
pub struct DeliveryView {
    /// The delivery.
    pub delivery: webhook_delivery::Model,
    /// Its event.
    pub event: webhook_event::Model,
    /// Its attempts, oldest first.
    pub attempts: Vec<webhook_attempt::Model>,
}

/// One page of deliveries, newest first.
#[derive(Clone, Debug)]
pub struct DeliveryPage {
    /// The deliveries.
    pub nodes: Vec<DeliveryView>,
    /// Whether older ones follow.
    pub has_next_page: bool,
}

/// Deliveries matching `filter`, at most `first` (1 to [`MAX_PAGE`]), with their events and
/// attempts (three queries, whatever the page size).
pub async fn list_deliveries(
    conn: &impl ConnectionTrait,
    filter: DeliveryFilter,
    first: i32,
) -> AppResult<DeliveryPage> {
    let first = u64::try_from(first)
        .ok()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .ok_or_else(|| AppError::invalid("first", format!("must be 1 to {MAX_PAGE}")))?;
    let mut rows = db::webhook::list_deliveries(conn, filter, first + 1).await?;
    let has_next_page = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok(DeliveryPage {
        nodes: with_details(conn, rows).await?,
        has_next_page,
    })
}

async fn with_details(
    conn: &impl ConnectionTrait,
    rows: Vec<webhook_delivery::Model>,
) -> AppResult<Vec<DeliveryView>> {
    let ids: Vec<i32> = rows.iter().map(|d| d.id).collect();
    let event_ids: Vec<i32> = rows.iter().map(|d| d.event_id).collect();
    let events: HashMap<i32, webhook_event::Model> = db::webhook::find_events(conn, &event_ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut attempts: HashMap<i32, Vec<webhook_attempt::Model>> = HashMap::new();
    for a in db::webhook::attempts_of(conn, &ids).await? {
        attempts.entry(a.delivery_id).or_default().push(a);
    }
    rows.into_iter()
        .map(|delivery| {
            let event = events.get(&delivery.event_id).cloned().ok_or_else(|| {
                AppError::Internal(format!("delivery {} has no event", delivery.id))
            })?;
            let attempts = attempts.remove(&delivery.id).unwrap_or_default();
            Ok(DeliveryView {
                delivery,
                event,
                attempts,
            })
        })
        .collect()
}

/// Queues delivery `id` again: a new pending delivery of the same event to the same endpoint,
/// due now, with its own attempts. The original keeps its history.
pub async fn redeliver(conn: &impl ConnectionTrait, id: i32) -> AppResult<DeliveryView> {
    let original = db::webhook::find_delivery(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("webhook delivery", id.to_string()))?;
    let created = db::webhook::insert_delivery(
        conn,
        new_delivery(original.webhook_id, original.event_id, Utc::now()),
    )
    .await?;
    with_details(conn, vec![created])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("redelivery vanished".into()))
}

/// How workers retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts before a delivery is marked failed.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff_base: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (1-based): base, 2×base, 4×base, …, capped.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.backoff_base
            .saturating_mul(1_u32 << doublings)
            .min(self.backoff_max)
    }
}

/// A claimed delivery and everything needed to send it.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// The delivery (its `claimed_by` is the claim's token).
    pub delivery: webhook_delivery::Model,
    /// Its event (the payload is the body).
    pub event: webhook_event::Model,
    /// Its endpoint.
    pub webhook: webhook::Model,
}

/// Claims up to `limit` due deliveries for `token` for `lease`. On Postgres this is one short
/// transaction whose candidates are locked `FOR UPDATE SKIP LOCKED`, so any number of processes
/// share the outbox; on SQLite the same statements run without row locks (one process).
pub async fn claim<C>(db: &C, token: &str, lease: Duration, limit: u64) -> AppResult<Vec<Claimed>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let deliveries = if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        let rows = db::webhook::claim_due(&txn, now, until, token, limit).await?;
        txn.commit().await?;
        rows
    } else {
        db::webhook::claim_due(db, now, until, token, limit).await?
    };
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let event_ids: Vec<i32> = deliveries.iter().map(|d| d.event_id).collect();
    let hook_ids: Vec<i32> = deliveries.iter().map(|d| d.webhook_id).collect();
    let events: HashMap<i32, webhook_event::Model> = db::webhook::find_events(db, &event_ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let hooks: HashMap<i32, webhook::Model> = db::webhook::find_by_ids(db, &hook_ids)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    // A row whose event or endpoint vanished meanwhile is left to its lease (deletion cascades).
    Ok(deliveries
        .into_iter()
        .filter_map(|delivery| {
            let event = events.get(&delivery.event_id)?.clone();
            let webhook = hooks.get(&delivery.webhook_id)?.clone();
            Some(Claimed {
                delivery,
                event,
                webhook,
            })
        })
        .collect())
}

/// What one HTTP attempt got.
#[derive(Clone, Debug)]
pub struct AttemptOutcome {
    /// When it started.
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status, if an answer came.
    pub status_code: Option<u16>,
    /// Why it failed (transport error, timeout), if no answer came.
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

impl AttemptOutcome {
    /// A 2xx answer.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an attempt of a claimed delivery and moves the delivery on: delivered on 2xx; else
/// pending with the next backoff, or failed once `max_attempts` is reached. The attempt is
/// always recorded; the delivery changes only if `token` still holds the claim (the return
/// value says whether it did).
pub async fn finish(
    db: &impl TransactionTrait,
    claimed: &Claimed,
    token: &str,
    outcome: &AttemptOutcome,
    policy: &RetryPolicy,
) -> AppResult<bool> {
    let now = Utc::now();
    let attempts = claimed.delivery.attempt_count.saturating_add(1);
    let delivered = outcome.succeeded();
    let (status, next) = if delivered {
        (DeliveryStatus::Delivered, now)
    } else if u32::try_from(attempts).unwrap_or(u32::MAX) >= policy.max_attempts {
        (DeliveryStatus::Failed, now)
    } else {
        let wait = policy.backoff(u32::try_from(attempts).unwrap_or(u32::MAX));
        (
            DeliveryStatus::Pending,
            now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
        )
    };
    let error = outcome.error.clone().or_else(|| {
        outcome
            .status_code
            .filter(|_| !delivered)
            .map(|s| format!("HTTP {s}"))
    });
    let txn = db.begin().await?;
    db::webhook::insert_attempt(
        &txn,
        claimed.delivery.id,
        outcome.attempted_at,
        outcome.status_code.map(i32::from),
        error.map(|e| e.chars().take(500).collect()),
        i32::try_from(outcome.duration.as_millis()).unwrap_or(i32::MAX),
    )
    .await?;
    let held = db::webhook::finish_claimed(
        &txn,
        claimed.delivery.id,
        token,
        db::webhook::DeliveryUpdate {
            status,
            attempt_count: attempts,
            next_attempt_at: next,
            delivered_at: delivered.then_some(now),
            updated_at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(held)
}

/// The `Webhook-Signature` value: `v1=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"`
/// keyed with the endpoint's secret.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!(
        "v1={}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(10),
        };
        let waits: Vec<u64> = (1..=6).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn signature_is_the_hex_hmac_of_timestamp_dot_body() {
        // RFC 4231-style check against a value computed independently (Python's hmac module).
        assert_eq!(
            signature("whsec_test_secret", 1_700_000_000, r#"{"a":1}"#),
            "v1=aecbc681fe3d2604c08ff8e880a0988d997a12367fcf9545e6a3b90c1dfc04b7"
        );
    }

    #[test]
    fn secrets_urls_and_events_are_validated_per_field() {
        let field = |e: AppError| match e {
            AppError::InvalidField { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(valid_secret("short").unwrap_err()), "input.secret");
        assert_eq!(
            field(valid_url("ftp://x.example").unwrap_err()),
            "input.url"
        );
        assert_eq!(field(valid_url("/relative").unwrap_err()), "input.url");
        assert_eq!(field(valid_events(&[]).unwrap_err()), "input.events");
        assert_eq!(
            valid_events(&[
                EventKind::ArticleDeleted,
                EventKind::ArticlePublished,
                EventKind::ArticleDeleted
            ])
            .unwrap(),
            "ARTICLE_PUBLISHED,ARTICLE_DELETED"
        );
    }
}
