//! All database access goes through db/; nothing else builds a Select or an ActiveModel.

pub mod api_key;
pub mod article;
pub mod author;
pub mod live;
pub mod page;
pub mod search;
pub mod tag;
pub mod webhook;

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::error::AppResult;

/// Opens a connection pool. SQLite gets WAL mode so readers do not block the writer.
pub async fn connect(url: &str, max_connections: u32) -> AppResult<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .await?;
    }
    Ok(db)
}

/// Checks that the database answers (readiness probe).
pub async fn ping(db: &DatabaseConnection) -> AppResult<()> {
    db.ping().await?;
    Ok(())
}

/// An open, migrated database.
pub struct Opened {
    /// The pool.
    pub db: DatabaseConnection,
    /// True when this opened the embedded SQLite file for the first time (it has just been
    /// created, so it holds no content yet).
    pub created_embedded: bool,
}

/// Opens the configured database (creating the embedded SQLite file and its folder when
/// needed) and applies pending migrations.
pub async fn open(config: &crate::config::Config) -> anyhow::Result<Opened> {
    use anyhow::Context as _;
    use migration::MigratorTrait as _;

    let opened = open_unmigrated(config).await?;
    migration::Migrator::up(&opened.db, None)
        .await
        .context("cannot apply migrations")?;
    Ok(opened)
}

/// Opens the configured database without touching its schema (for `migrate`).
pub async fn open_unmigrated(config: &crate::config::Config) -> anyhow::Result<Opened> {
    use anyhow::Context as _;

    let (url, created_embedded) = match config.database() {
        crate::config::DatabaseChoice::Url(url) => (url, false),
        crate::config::DatabaseChoice::Embedded(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create data folder {}", dir.display()))?;
            }
            let created = !path.exists();
            (format!("sqlite://{}?mode=rwc", path.display()), created)
        }
    };
    let db = connect(&url, config.db_max_connections)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {}", describe(&e)))?;
    Ok(Opened {
        db,
        created_embedded,
    })
}

/// The operator-facing text of an error (database errors included, unlike the client's view).
pub fn describe(e: &crate::error::AppError) -> String {
    match e {
        crate::error::AppError::Database(db) => db.to_string(),
        crate::error::AppError::Internal(detail) => detail.clone(),
        other => other.to_string(),
    }
}
