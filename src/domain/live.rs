//! Live events for subscriptions: what changed, as ids only (subscribers read the content
//! themselves, with their own rights). On Postgres events travel by LISTEN/NOTIFY, so a change
//! made through one process reaches subscribers connected to any other; on SQLite (one
//! process) they stay in memory. Delivery is at most once: a subscriber that is not connected
//! when an event happens never sees it (webhooks are the durable path).

use std::{sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, DbBackend};
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, broadcast, watch};

use crate::db;

/// Something that happened to an article, by database id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "id", rename_all = "snake_case")]
pub enum Event {
    /// Published (now or scheduled).
    Published(i32),
    /// Content or tags changed.
    Updated(i32),
    /// Taken back to draft or archived.
    Unpublished(i32),
    /// Deleted.
    Deleted(i32),
    /// A counter (views, likes, collects) changed.
    Stats(i32),
    /// Other content changed: authors, tags, or many articles at once (an import).
    Changed,
}

/// Events buffered per subscriber before it is told it lagged (and skips ahead).
const BUFFER: usize = 1024;

/// Publishes and fans out events. Cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

struct Inner {
    tx: broadcast::Sender<Event>,
    /// Postgres: events go out by NOTIFY and come back through the listener.
    postgres: Option<Postgres>,
    ready: watch::Receiver<bool>,
    /// Told of every event this process publishes, before anyone else hears of it.
    local: std::sync::OnceLock<Box<dyn Fn(Event) + Send + Sync>>,
}

struct Postgres {
    db: DatabaseConnection,
    channel: OnceCell<String>,
}

impl Hub {
    /// A hub over `db`. On Postgres this starts the listener task, which reconnects when its
    /// connection drops; it must be called inside a tokio runtime.
    pub fn new(db: &DatabaseConnection) -> Self {
        let (tx, _) = broadcast::channel(BUFFER);
        if db.get_database_backend() != DbBackend::Postgres {
            let (_, ready) = watch::channel(true);
            return Self(Arc::new(Inner {
                tx,
                postgres: None,
                ready,
                local: std::sync::OnceLock::new(),
            }));
        }
        let (set_ready, ready) = watch::channel(false);
        let hub = Self(Arc::new(Inner {
            tx: tx.clone(),
            postgres: Some(Postgres {
                db: db.clone(),
                channel: OnceCell::new(),
            }),
            ready,
            local: std::sync::OnceLock::new(),
        }));
        let listening = hub.clone();
        tokio::spawn(async move { listening.listen(set_ready).await });
        hub
    }

    /// Waits (up to `limit`) until events from other processes can arrive.
    pub async fn ready(&self, limit: Duration) -> bool {
        let mut ready = self.0.ready.clone();
        tokio::time::timeout(limit, ready.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Calls `f` with every event this process publishes, at once (events from other processes
    /// arrive through [`Hub::subscribe`]). One hook per hub; a second is ignored.
    pub fn on_publish(&self, f: impl Fn(Event) + Send + Sync + 'static) {
        let _ = self.0.local.set(Box::new(f));
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0.tx.subscribe()
    }

    /// Announces `event` (after its change has committed). Failures are logged, never
    /// returned: the change itself has happened.
    pub async fn publish(&self, event: Event) {
        if let Some(local) = self.0.local.get() {
            local(event);
        }
        let Some(pg) = &self.0.postgres else {
            // No receivers is fine.
            let _ = self.0.tx.send(event);
            return;
        };
        let sent = async {
            let channel = pg
                .channel
                .get_or_try_init(|| db::live::channel(&pg.db))
                .await?;
            let payload = serde_json::to_string(&event)
                .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
            db::live::notify(&pg.db, channel, &payload).await
        };
        if let Err(e) = sent.await {
            tracing::warn!(error = %db::describe(&e), ?event, "cannot announce an event");
        }
    }

    /// Relays NOTIFY payloads to local subscribers until the hub is dropped everywhere else.
    async fn listen(self, set_ready: watch::Sender<bool>) {
        let Some(pg) = &self.0.postgres else { return };
        loop {
            // The listener's own connection names the channel, so start-up runs nothing on
            // the pool.
            let mut listener = match db::live::listen(&pg.db).await {
                Ok((listener, channel)) => {
                    let _ = pg.channel.set(channel);
                    listener
                }
                Err(e) => {
                    tracing::warn!(error = %db::describe(&e), "cannot listen for events; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let _ = set_ready.send(true);
            loop {
                // Only this task and the hub's users hold it: stop once nobody else does.
                if Arc::strong_count(&self.0) == 1 {
                    return;
                }
                let next = tokio::time::timeout(Duration::from_secs(5), listener.try_recv()).await;
                match next {
                    Err(_) => continue,
                    Ok(Ok(Some(n))) => match serde_json::from_str::<Event>(n.payload()) {
                        Ok(event) => {
                            let _ = self.0.tx.send(event);
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed event"),
                    },
                    // The connection dropped (events sent meanwhile are lost): reconnect.
                    Ok(Ok(None)) => {
                        tracing::warn!("event listener reconnecting");
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "event listener failed; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_the_event_and_the_id_only() {
        let json = serde_json::to_string(&Event::Published(12)).unwrap_or_default();
        assert_eq!(json, r#"{"event":"published","id":12}"#);
        assert_eq!(
            serde_json::from_str::<Event>(r#"{"event":"stats","id":3}"#).ok(),
            Some(Event::Stats(3))
        );
        assert!(serde_json::from_str::<Event>(r#"{"event":"nope","id":3}"#).is_err());
        let json = serde_json::to_string(&Event::Changed).unwrap_or_default();
        assert_eq!(json, r#"{"event":"changed"}"#);
        assert_eq!(
            serde_json::from_str::<Event>(&json).ok(),
            Some(Event::Changed)
        );
    }
}
