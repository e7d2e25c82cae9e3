//! Start-up and shutdown of the HTTP server.

use std::{future::IntoFuture as _, path::PathBuf};

use anyhow::Context as _;
use tokio::{net::TcpListener, sync::watch};

use crate::{config::Config, db, import, webhook};

/// Opens (and migrates) the database, seeds a newly created embedded database with the
/// samples, starts the webhook worker (unless `WEBHOOK_WORKER=off`), and serves until
/// SIGINT/SIGTERM. Then it stops accepting connections and lets in-flight requests finish, for
/// at most `SHUTDOWN_GRACE_SECS`; after that it returns anyway. The worker is told to stop at
/// the signal too, and is waited for at most another grace period.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Listen for signals before anything else, so a stop request is never missed.
    let stop = shutdown_signal()?;
    let opened = db::open(&config).await?;
    if opened.created_embedded {
        seed_samples(&opened.db, &config).await;
    }
    let (worker_stop, worker_stopping) = watch::channel(false);
    let worker = if config.webhook_worker {
        let settings = webhook::WorkerSettings::from_config(&config);
        Some(
            webhook::worker::spawn(opened.db.clone(), settings, worker_stopping)
                .map_err(|e| anyhow::anyhow!("{}", db::describe(&e)))?,
        )
    } else {
        None
    };
    let reads = match config
        .database_read_url
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        Some(url) => Some(
            db::connect(url, config.db_max_connections)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("cannot open DATABASE_READ_URL: {}", db::describe(&e))
                })?,
        ),
        None => None,
    };
    let app = super::router_with_reads(opened.db, reads, &config);
    let listener = TcpListener::bind(config.bind_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!("serving GraphQL on http://{addr}/graphql");

    let (stopping_tx, stopping) = watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop.await;
        stopping_tx.send_replace(true);
        // The worker stops with the server: it finishes the attempts it has in flight (each
        // bounded by WEBHOOK_TIMEOUT_SECS) and claims nothing new.
        worker_stop.send_replace(true);
    })
    .into_future();
    let grace = config.shutdown_grace();
    let deadline = async move {
        let mut stopping = stopping;
        // An error means the sender is gone, which only happens once the server has returned.
        if stopping.wait_for(|s| *s).await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result.context("server failed")?,
        () = deadline => tracing::warn!(
            grace_secs = grace.as_secs(),
            "in-flight requests did not finish within the grace period; stopping anyway"
        ),
    }
    if let Some(worker) = worker
        && tokio::time::timeout(grace, worker).await.is_err()
    {
        // Its claims expire and another worker (or the next start) retries them.
        tracing::warn!("the webhook worker did not stop within the grace period");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The samples folder: as configured, or the one shipped beside the source when the default
/// relative folder is not found from the current directory.
fn samples_dir(config: &Config) -> PathBuf {
    if config.samples_dir.exists() || config.samples_dir.is_absolute() {
        return config.samples_dir.clone();
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
}

async fn seed_samples(db: &sea_orm::DatabaseConnection, config: &Config) {
    let dir = samples_dir(config);
    let report = import::import_paths(db, std::slice::from_ref(&dir)).await;
    tracing::info!(folder = %dir.display(), "new embedded database seeded with the samples: {report}");
    for failure in &report.failures {
        tracing::warn!("{failure}");
    }
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed now, not when the
/// future is first polled, so a signal arriving during start-up still stops the server cleanly.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let stop = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        }
    };
    #[cfg(not(unix))]
    let stop = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    Ok(async move {
        stop.await;
        tracing::info!("shutting down: refusing new connections, finishing in-flight requests");
    })
}
