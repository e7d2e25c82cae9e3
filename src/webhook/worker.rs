//! The delivery worker: every poll it claims due deliveries under a lease, POSTs each signed
//! payload, and records the attempt. Any number of workers (in one process or many) can share
//! one Postgres database; a worker that dies leaves its claims to expire, after which another
//! worker takes them.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use chrono::Utc;
use futures_util::future::join_all;
use sea_orm::DatabaseConnection;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    config::Config,
    domain::webhook::{self, AttemptOutcome, Claimed, RetryPolicy},
    error::{AppError, AppResult},
};

/// How a worker polls, leases, times out and retries.
#[derive(Clone, Copy, Debug)]
pub struct WorkerSettings {
    /// Pause between polls that found nothing to do.
    pub poll_interval: Duration,
    /// How long a claim holds a delivery.
    pub lease: Duration,
    /// How long one POST may take.
    pub timeout: Duration,
    /// Most deliveries claimed (and sent concurrently) per poll.
    pub batch_size: u64,
    /// Retry policy.
    pub retry: RetryPolicy,
}

impl WorkerSettings {
    /// The settings `config` asks for. The lease is raised to at least the request timeout plus
    /// one second, so that a slow endpoint does not lose its claim mid-request (which could
    /// send the event twice).
    pub fn from_config(config: &Config) -> Self {
        let timeout = Duration::from_secs(config.webhook_timeout_secs.max(1));
        Self {
            poll_interval: Duration::from_millis(config.webhook_poll_interval_ms.max(10)),
            lease: Duration::from_secs(config.webhook_lease_secs)
                .max(timeout + Duration::from_secs(1)),
            timeout,
            batch_size: 16,
            retry: RetryPolicy {
                max_attempts: config.webhook_max_attempts.max(1),
                backoff_base: Duration::from_millis(config.webhook_backoff_base_ms),
                backoff_max: Duration::from_secs(config.webhook_backoff_max_secs),
            },
        }
    }
}

/// One delivery worker.
pub struct Worker {
    db: DatabaseConnection,
    settings: WorkerSettings,
    client: reqwest::Client,
    /// Random per worker, so that claim tokens of different workers never collide.
    name: String,
    claims: AtomicU64,
}

impl Worker {
    /// A worker on `db`.
    pub fn new(db: DatabaseConnection, settings: WorkerSettings) -> AppResult<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A receiver that redirects is misconfigured; following it would re-send the
            // signed payload somewhere nobody registered.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("content-api-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AppError::Internal(format!("cannot build the webhook client: {e}")))?;
        let mut bytes = [0_u8; 8];
        getrandom::fill(&mut bytes)
            .map_err(|e| AppError::Internal(format!("no randomness available: {e}")))?;
        Ok(Self {
            db,
            settings,
            client,
            name: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            claims: AtomicU64::new(0),
        })
    }

    /// Claims up to a batch of due deliveries; returns the claim's token and what it got.
    pub async fn claim(&self) -> AppResult<(String, Vec<Claimed>)> {
        let token = format!(
            "{}-{}",
            self.name,
            self.claims.fetch_add(1, Ordering::Relaxed)
        );
        let claimed = webhook::claim(
            &self.db,
            &token,
            self.settings.lease,
            self.settings.batch_size,
        )
        .await?;
        Ok((token, claimed))
    }

    /// Claims due deliveries and attempts each once (concurrently); returns how many it
    /// attempted.
    pub async fn run_once(&self) -> AppResult<usize> {
        let (token, claimed) = self.claim().await?;
        let results = join_all(claimed.iter().map(|c| self.deliver(c, &token))).await;
        for result in &results {
            if let Err(e) = result {
                tracing::error!(error = %crate::db::describe(e), "cannot record a webhook attempt");
            }
        }
        Ok(claimed.len())
    }

    async fn deliver(&self, claimed: &Claimed, token: &str) -> AppResult<()> {
        let outcome = self.post(claimed).await;
        let held =
            webhook::finish(&self.db, claimed, token, &outcome, &self.settings.retry).await?;
        if !held {
            tracing::warn!(
                delivery = claimed.delivery.id,
                "webhook lease expired before the attempt finished; raise WEBHOOK_LEASE_SECS"
            );
        }
        Ok(())
    }

    async fn post(&self, claimed: &Claimed) -> AttemptOutcome {
        let timestamp = Utc::now().timestamp();
        let body = &claimed.event.payload;
        let attempted_at = Utc::now();
        let started = Instant::now();
        let sent = self
            .client
            .post(&claimed.webhook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Webhook-Id", &claimed.event.event_id)
            .header("Webhook-Timestamp", timestamp.to_string())
            .header(
                "Webhook-Signature",
                webhook::signature(&claimed.webhook.secret, timestamp, body),
            )
            .body(body.clone())
            .send()
            .await;
        let (status_code, error) = match sent {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) if e.is_timeout() => (
                None,
                Some(format!("timed out after {:?}", self.settings.timeout)),
            ),
            Err(e) => (None, Some(error_chain(&e))),
        };
        let outcome = AttemptOutcome {
            attempted_at,
            status_code,
            error,
            duration: started.elapsed(),
        };
        tracing::debug!(
            delivery = claimed.delivery.id,
            url = %claimed.webhook.url,
            status = ?outcome.status_code,
            error = ?outcome.error,
            "webhook attempt"
        );
        outcome
    }

    /// Polls until `stop` turns true (or its sender is dropped). A batch in flight is finished
    /// first; each of its requests is bounded by the timeout.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(worker = %self.name, "webhook worker started");
        loop {
            if *stop.borrow() {
                break;
            }
            let busy = match self.run_once().await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::warn!(error = %crate::db::describe(&e), "webhook poll failed");
                    false
                }
            };
            if busy {
                // More may be due right away.
                continue;
            }
            tokio::select! {
                changed = stop.changed() => if changed.is_err() { break },
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
        tracing::info!(worker = %self.name, "webhook worker stopped");
    }
}

/// Starts a worker on the runtime; it stops when `stop` turns true.
pub fn spawn(
    db: DatabaseConnection,
    settings: WorkerSettings,
    stop: watch::Receiver<bool>,
) -> AppResult<JoinHandle<()>> {
    let worker = Worker::new(db, settings)?;
    Ok(tokio::spawn(worker.run(stop)))
}

/// An error with its causes (reqwest's own text leaves out why a connection failed).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
