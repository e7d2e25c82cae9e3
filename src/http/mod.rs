//! HTTP: the router, the GraphQL endpoint (hardened: content types, methods, batch size,
//! body size), the health probes and `/metrics`, under one layer stack: request ids, tracing,
//! compression, CORS, metrics, panic and timeout handling.

mod apq;
mod caching;
mod graphiql;
mod graphql;
pub mod metrics;
mod response_cache;
pub mod server;
mod ws;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{Extensions, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use sea_orm::DatabaseConnection;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{CompressionLayer, DefaultPredicate, Predicate},
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    config::{Config, CorsOrigin, CorsOrigins},
    domain::{live::Hub, preview::PreviewKey, rate_limit::RateLimiter},
    graphql::{
        AppSchema, SchemaOptions, Services, WriteSettings, build_schema, guard::ShapeLimits,
    },
};

/// The header carrying the request id, on requests and on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// With a read replica, how long after a change the response cache stores nothing that the
/// change concerns: longer than a healthy replica lags.
const REPLICA_SETTLE: Duration = Duration::from_secs(10);

/// Longest client-sent request id that is kept.
const MAX_REQUEST_ID_LEN: usize = 128;

/// What every handler shares.
pub struct AppState {
    schema: AppSchema,
    db: DatabaseConnection,
    /// A replica for anonymous queries (`DATABASE_READ_URL`).
    reads: Option<DatabaseConnection>,
    max_batch_size: usize,
    shape: ShapeLimits,
    trust_forwarded_for: bool,
    apq: apq::Store,
    /// Whole responses to anonymous queries (`RESPONSE_CACHE_BYTES`).
    responses: Option<Arc<response_cache::ResponseCache>>,
    hub: Hub,
    ws: ws::WsLimits,
}

impl AppState {
    /// The pool an operation runs on: anonymous queries go to the read replica when there is
    /// one; mutations, and every request made with a key, use the primary, so a writer always
    /// reads its own writes.
    fn db_for(
        &self,
        viewer: crate::domain::auth::Viewer,
        operation: async_graphql::parser::types::OperationType,
    ) -> &DatabaseConnection {
        use async_graphql::parser::types::OperationType;
        match (&self.reads, viewer, operation) {
            (Some(reads), crate::domain::auth::Viewer::Anonymous, OperationType::Query) => reads,
            _ => &self.db,
        }
    }
}

/// Keeps `cache` in step with every change: this process's at once, other processes' as the hub
/// relays them. Events lost to a lagging receiver empty the cache.
fn follow_changes(hub: &Hub, cache: &Arc<response_cache::ResponseCache>) {
    use tokio::sync::broadcast::error::RecvError;
    let local = Arc::downgrade(cache);
    hub.on_publish(move |event| {
        if let Some(cache) = local.upgrade() {
            cache.apply(event);
        }
    });
    let mut events = hub.subscribe();
    let relayed = Arc::downgrade(cache);
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => crate::domain::live::Event::Changed,
                Err(RecvError::Closed) => return,
            };
            let Some(cache) = relayed.upgrade() else {
                return;
            };
            cache.apply(event);
        }
    });
}

/// The whole HTTP application over `db`, configured by `config`.
pub fn router(db: DatabaseConnection, config: &Config) -> Router {
    router_with_reads(db, None, config)
}

/// The whole HTTP application over the primary `db` and, when given, a read replica for
/// anonymous queries.
pub fn router_with_reads(
    db: DatabaseConnection,
    reads: Option<DatabaseConnection>,
    config: &Config,
) -> Router {
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
    let hub = Hub::new(&db);
    // A replica may lag behind the events: give it time before storing what it answers.
    let settle = reads.is_some().then_some(REPLICA_SETTLE);
    let responses =
        response_cache::ResponseCache::new(config.response_cache_bytes, settle).map(Arc::new);
    if let Some(cache) = &responses {
        follow_changes(&hub, cache);
    }
    let services = Services {
        preview_key,
        view_limiter: RateLimiter::per_minute(config.view_rate_per_minute),
        write: WriteSettings {
            max_article_bytes: config.max_article_bytes,
        },
        hub: hub.clone(),
    };
    let state = Arc::new(AppState {
        schema: build_schema(db.clone(), options, services),
        db,
        reads,
        max_batch_size: config.max_batch_size,
        trust_forwarded_for: config.trust_forwarded_for,
        apq: apq::Store::new(config.apq_cache_size),
        responses,
        hub,
        ws: ws::WsLimits {
            init_timeout: Duration::from_secs(config.ws_init_timeout_secs),
            max_subscriptions: config.ws_max_subscriptions,
            max_message_bytes: config.ws_max_message_bytes,
        },
        shape: ShapeLimits {
            max_length: config.max_query_length,
            max_tokens: config.max_query_tokens,
            max_aliases: config.max_query_aliases,
            max_directives: config.max_query_directives,
            max_fields: config.max_query_fields,
        },
    });
    let telemetry = metrics::Telemetry::new(
        state.db.clone(),
        state.responses.clone(),
        config.slow_operation(),
    );
    let metrics_route = Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(telemetry.clone());
    Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .merge(graphiql::routes())
        .route("/graphql/ws", get(ws::upgrade))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .merge(metrics_route)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        // Outermost first.
        .layer(
            ServiceBuilder::new()
                .layer(middleware::map_request(drop_unfit_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(has_body)))
                .option_layer(cors(&config.cors_origins))
                // Inside compression, so it reads refusal bodies uncompressed; outside the panic
                // and timeout handlers, so it sees their answers.
                .layer(middleware::from_fn_with_state(telemetry, metrics::track))
                .layer(CatchPanicLayer::custom(graphql::panic_response))
                .layer(middleware::from_fn_with_state(
                    config.request_timeout(),
                    time_limit,
                )),
        )
}

/// Removes a client-sent `x-request-id` unfit for logs (so a new one is made): more than one,
/// empty, longer than 128 bytes, or anything but visible ASCII.
async fn drop_unfit_request_id(mut req: Request) -> Request {
    let mut ids = req.headers().get_all(&REQUEST_ID).iter();
    let fit = match (ids.next(), ids.next()) {
        (None, _) => true,
        (Some(id), None) => is_fit_request_id(id),
        (Some(_), Some(_)) => false,
    };
    if !fit {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

fn is_fit_request_id(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// The span every log line of a request is written in: method, path and request id. The path,
/// not the URI: a GET query string holds the query and its variables, which stay out of logs.
fn request_span(req: &Request<Body>) -> tracing::Span {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // At ERROR level, so the span is on whenever any line is logged: with `RUST_LOG=warn` an
    // INFO span would be filtered out and the warnings would lose their request id.
    tracing::error_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
    )
}

/// Compress only responses that can have a body: never 1xx, 204 or 304 (whose bodies are
/// empty by definition, and which must keep their headers untouched).
fn has_body(status: StatusCode, _: Version, _: &HeaderMap, _: &Extensions) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// CORS for the configured origins; none configured, no CORS headers at all.
fn cors(CorsOrigins(origins): &CorsOrigins) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.contains(&CorsOrigin::Any) {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| match o {
            CorsOrigin::Exact(origin) => HeaderValue::from_str(origin).ok(),
            CorsOrigin::Any => None,
        }))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, REQUEST_ID])
            .expose_headers([
                header::ETAG,
                HeaderName::from_static("surrogate-key"),
                REQUEST_ID,
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// Answers a request that takes longer than `limit` with 408 and a GraphQL error body
/// (`TIMEOUT`); the work in progress is dropped.
async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs(), "request timed out");
            let body = serde_json::json!({ "errors": [{
                "message": format!("the request took longer than {} s", limit.as_secs()),
                "extensions": { "code": "TIMEOUT" },
            }] });
            (
                StatusCode::REQUEST_TIMEOUT,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
    }
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

#[cfg(test)]
mod tests {
    use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version};

    use super::{has_body, is_fit_request_id};

    #[test]
    fn only_statuses_with_a_body_are_compressed() {
        let compress = |status| {
            has_body(
                status,
                Version::HTTP_11,
                &HeaderMap::new(),
                &Extensions::new(),
            )
        };
        assert!(compress(StatusCode::OK));
        assert!(compress(StatusCode::BAD_REQUEST));
        assert!(!compress(StatusCode::NOT_MODIFIED));
        assert!(!compress(StatusCode::NO_CONTENT));
        assert!(!compress(StatusCode::SWITCHING_PROTOCOLS));
    }

    #[test]
    fn request_ids_must_be_short_visible_ascii() {
        let fit = |s: &[u8]| HeaderValue::from_bytes(s).is_ok_and(|v| is_fit_request_id(&v));
        assert!(fit(b"3f0c7a52-6a1e-4d6b-9d0a-2b1f0e2c9a11"));
        assert!(fit(b"req_1.2:3/4"));
        assert!(fit(&[b'a'; 128]));
        assert!(!fit(&[b'a'; 129]), "too long");
        assert!(!fit(b""), "empty");
        assert!(!fit(b"a b"), "space");
        assert!(!fit(b"a\tb"), "tab");
        assert!(!fit("caf\u{e9}".as_bytes()), "not ASCII");
    }
}
