//! HTTP: the router, the GraphQL endpoint (hardened: content types, methods, batch size,
//! body size) and the health probes.

mod apq;
mod caching;
mod graphiql;
mod graphql;
pub mod server;

use std::sync::Arc;

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use sea_orm::DatabaseConnection;
use tower_http::{catch_panic::CatchPanicLayer, timeout::TimeoutLayer, trace::TraceLayer};

use crate::{
    config::Config,
    domain::{preview::PreviewKey, rate_limit::RateLimiter},
    graphql::{
        AppSchema, SchemaOptions, Services, WriteSettings, build_schema, guard::ShapeLimits,
    },
};

/// Automatic persisted queries kept in memory.
const APQ_CACHE_SIZE: usize = 1000;

/// What every handler shares.
pub struct AppState {
    schema: AppSchema,
    db: DatabaseConnection,
    max_batch_size: usize,
    shape: ShapeLimits,
    trust_forwarded_for: bool,
    apq: apq::Store,
}

/// The whole HTTP application over `db`, configured by `config`.
pub fn router(db: DatabaseConnection, config: &Config) -> Router {
    let options = SchemaOptions {
        depth: config.max_query_depth,
        complexity: config.max_query_complexity,
        introspection: config.introspection_enabled(),
        suggestions: config.suggestions_enabled(),
    };
    let preview_key = match config.preview_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) => PreviewKey::from_secret(secret),
        None => PreviewKey::random(),
    };
    let services = Services {
        preview_key,
        view_limiter: RateLimiter::per_minute(config.view_rate_per_minute),
        write: WriteSettings {
            max_article_bytes: config.max_article_bytes,
        },
    };
    let state = Arc::new(AppState {
        schema: build_schema(db.clone(), options, services),
        db,
        max_batch_size: config.max_batch_size,
        trust_forwarded_for: config.trust_forwarded_for,
        apq: apq::Store::new(APQ_CACHE_SIZE),
        shape: ShapeLimits {
            max_length: config.max_query_length,
            max_tokens: config.max_query_tokens,
            max_aliases: config.max_query_aliases,
            max_directives: config.max_query_directives,
            max_fields: config.max_query_fields,
        },
    });
    Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .merge(graphiql::routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(CatchPanicLayer::custom(graphql::panic_response))
        .layer(TraceLayer::new_for_http())
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match crate::db::ping(&state.db).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %crate::db::describe(&e), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
