//! Start-up and shutdown of the HTTP server.

use std::path::PathBuf;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::{config::Config, db, import};

/// Opens (and migrates) the database, seeds a newly created embedded database with the
/// samples, and serves until SIGINT/SIGTERM, letting in-flight requests finish.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let opened = db::open(&config).await?;
    if opened.created_embedded {
        seed_samples(&opened.db, &config).await;
    }
    let app = super::router(opened.db, &config);
    let listener = TcpListener::bind(config.bind_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!("serving GraphQL on http://{addr}/graphql");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server failed")?;
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

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
