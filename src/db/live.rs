//! Postgres LISTEN/NOTIFY for live events across processes.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement, sqlx::postgres::PgListener,
};

use crate::error::{AppError, AppResult};

/// The channel events travel on: `content_events`, suffixed with the current schema when it is
/// not `public`, so deployments (and tests) sharing one database do not hear each other.
pub async fn channel(db: &DatabaseConnection) -> AppResult<String> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, CURRENT_SCHEMA))
        .await?;
    let schema: String = row
        .map(|r| r.try_get("", "s"))
        .transpose()?
        .unwrap_or_default();
    Ok(channel_of(&schema))
}

const CURRENT_SCHEMA: &str = "SELECT current_schema()::text AS s";

fn channel_of(schema: &str) -> String {
    if schema.is_empty() || schema == "public" {
        "content_events".to_owned()
    } else {
        format!("content_events_{schema}")
    }
}

/// Sends `payload` on `channel` (delivered to every listener, in this process too).
pub async fn notify(db: &DatabaseConnection, channel: &str, payload: &str) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// A listener on its own connection (from the pool's settings), listening on the channel,
/// which it names (see [`channel`]).
pub async fn listen(db: &DatabaseConnection) -> AppResult<(PgListener, String)> {
    let failed =
        |e: sea_orm::sqlx::Error| AppError::Internal(format!("cannot listen for events: {e}"));
    let pool = db.get_postgres_connection_pool();
    let mut listener = PgListener::connect_with(pool).await.map_err(failed)?;
    let schema: Option<String> = sea_orm::sqlx::query_scalar(CURRENT_SCHEMA)
        .fetch_one(&mut listener)
        .await
        .map_err(failed)?;
    let channel = channel_of(&schema.unwrap_or_default());
    listener.listen(&channel).await.map_err(failed)?;
    Ok((listener, channel))
}
