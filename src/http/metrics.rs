//! Prometheus metrics: GraphQL operations by name and outcome, their latency, errors by
//! `extensions.code`, HTTP responses by status class and database pool use, served on
//! `GET /metrics` in the Prometheus text format (0.0.4).
//!
//! Operations the schema runs are reported through [`observe`](crate::graphql::observe);
//! [`track`] covers what it cannot see: requests the endpoint refuses before the
//! schema (400/401/405/413/415, parse and shape errors), and operations cut off by the request
//! timeout or a panic.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    body::{Body, HttpBody},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, prometheus_text},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use sea_orm::{DatabaseConnection, DatabaseConnectionType};
use serde_json::Value as Json;

use super::response_cache::ResponseCache;
use crate::graphql::observe::{self, Observation, OperationRecord, OperationSink, Outcome};

/// Most distinct operation names given their own label; later names are counted as `other`.
pub const MAX_OPERATION_LABELS: usize = 100;

/// Most distinct error codes given their own label; later codes are counted as `other`.
const MAX_CODE_LABELS: usize = 50;

/// Longest label value kept; longer names are counted as `other`.
const MAX_LABEL_LEN: usize = 100;

/// Largest refusal body read back for its error codes.
const MAX_REFUSAL_BODY: u64 = 64 * 1024;

const ANONYMOUS: &str = "anonymous";
const OTHER: &str = "other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationName {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabel {
    class: &'static str,
}

/// Label values admitted so far: the first `max` distinct values keep their own label, the
/// rest share `other`, so clients cannot grow the number of series without bound.
struct LabelCap {
    seen: Mutex<HashSet<String>>,
    max: usize,
}

impl LabelCap {
    fn new(max: usize) -> Self {
        Self {
            seen: Mutex::new(HashSet::new()),
            max,
        }
    }

    fn label(&self, value: &str) -> String {
        if value.is_empty() || value.len() > MAX_LABEL_LEN {
            return OTHER.to_owned();
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() < self.max {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        OTHER.to_owned()
    }
}

fn duration_histogram() -> Histogram {
    // 5 ms … ~20 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

/// The metrics of one running application.
pub struct Metrics {
    registry: Registry,
    requests: Family<OperationLabels, Counter>,
    durations: Family<OperationName, Histogram, fn() -> Histogram>,
    errors: Family<CodeLabel, Counter>,
    responses: Family<ClassLabel, Counter>,
    cache: Family<CacheLabel, Counter>,
    cache_entries: Gauge,
    cache_bytes: Gauge,
    pool_size: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    operations: LabelCap,
    codes: LabelCap,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<OperationLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations by operation name and outcome (ok, error, refused)",
            requests.clone(),
        );
        let durations = Family::<OperationName, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        registry.register(
            "graphql_request_duration_seconds",
            "Time to answer a GraphQL operation (parse, validate, execute), by operation name",
            durations.clone(),
        );
        let errors = Family::<CodeLabel, Counter>::default();
        registry.register(
            "graphql_errors",
            "GraphQL errors by extensions.code",
            errors.clone(),
        );
        let responses = Family::<ClassLabel, Counter>::default();
        registry.register(
            "http_responses",
            "HTTP responses by status class (2xx, 4xx, ...)",
            responses.clone(),
        );
        let cache = Family::<CacheLabel, Counter>::default();
        registry.register(
            "graphql_response_cache",
            "Anonymous queries answered from the response cache (hit) or executed (miss)",
            cache.clone(),
        );
        let cache_entries = Gauge::default();
        registry.register(
            "graphql_response_cache_entries",
            "Responses held by the response cache",
            cache_entries.clone(),
        );
        let cache_bytes = Gauge::default();
        registry.register(
            "graphql_response_cache_bytes",
            "Bytes held by the response cache",
            cache_bytes.clone(),
        );
        let pool_size = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Open database connections (idle and in use)",
            pool_size.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            pool_idle.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "Most database connections the pool opens",
            pool_max.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            errors,
            responses,
            cache,
            cache_entries,
            cache_bytes,
            pool_size,
            pool_idle,
            pool_max,
            operations: LabelCap::new(MAX_OPERATION_LABELS),
            codes: LabelCap::new(MAX_CODE_LABELS),
        }
    }

    /// Counts one HTTP response by its status class.
    pub fn record_response(&self, status: StatusCode) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.responses.get_or_create(&ClassLabel { class }).inc();
    }

    /// Reads the pool's current size from `db` into the gauges (other backends: left at 0).
    fn read_pool(&self, db: &DatabaseConnection) {
        let (size, idle, max) = match &db.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                let pool = db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                let pool = db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
        self.pool_max.set(i64::from(max));
    }

    /// The registry in the Prometheus text format.
    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl OperationSink for Metrics {
    fn record(&self, op: &OperationRecord<'_>) {
        let operation = op
            .name
            .map_or_else(|| ANONYMOUS.to_owned(), |n| self.operations.label(n));
        self.requests
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
                outcome: op.outcome.as_str(),
            })
            .inc();
        if let Some(duration) = op.duration {
            self.durations
                .get_or_create(&OperationName { operation })
                .observe(duration.as_secs_f64());
        }
        for code in &op.codes {
            self.errors
                .get_or_create(&CodeLabel {
                    code: self.codes.label(code),
                })
                .inc();
        }
    }
}

/// What the metrics middleware and endpoint share.
#[derive(Clone)]
pub struct Telemetry {
    metrics: Arc<Metrics>,
    db: DatabaseConnection,
    responses: Option<Arc<ResponseCache>>,
    slow: Duration,
}

impl Telemetry {
    /// Fresh metrics for the application over `db` with its response cache; operations slower
    /// than `slow` are logged.
    pub(super) fn new(
        db: DatabaseConnection,
        responses: Option<Arc<ResponseCache>>,
        slow: Duration,
    ) -> Self {
        Self {
            metrics: Arc::new(Metrics::new()),
            db,
            responses,
            slow,
        }
    }
}

/// `GET /metrics`: every metric, with the pool gauges read now.
pub async fn render(State(telemetry): State<Telemetry>) -> Response {
    telemetry.metrics.read_pool(&telemetry.db);
    if let Some(cache) = &telemetry.responses {
        let (entries, bytes) = cache.usage();
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        telemetry.metrics.cache_entries.set(gauge(entries));
        telemetry.metrics.cache_bytes.set(gauge(bytes));
    }
    match telemetry.metrics.encode() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(prometheus_text::CONTENT_TYPE),
            )],
            text,
        )
            .into_response(),
        Err(_) => {
            tracing::error!("cannot encode metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Middleware: counts every response by status class and opens the request's
/// [`Observation`] for the GraphQL extension; then accounts for what the extension did not
/// see on `/graphql`.
pub async fn track(State(telemetry): State<Telemetry>, req: Request, next: Next) -> Response {
    let graphql = req.uri().path() == "/graphql";
    let started = Instant::now();
    let sink: Arc<dyn OperationSink> = telemetry.metrics.clone();
    let observation = Arc::new(Observation::new(sink, telemetry.slow));
    let resp = observe::scope(observation.clone(), next.run(req)).await;
    telemetry.metrics.record_response(resp.status());
    if !graphql {
        return resp;
    }
    match resp
        .headers()
        .get(super::graphql::X_CACHE)
        .map(|v| v.as_bytes())
    {
        Some(b"hit") => {
            // Answered without running the schema: there is nothing else to account for.
            telemetry
                .metrics
                .cache
                .get_or_create(&CacheLabel { result: "hit" })
                .inc();
            return resp;
        }
        Some(b"miss") => {
            telemetry
                .metrics
                .cache
                .get_or_create(&CacheLabel { result: "miss" })
                .inc();
        }
        _ => {}
    }
    unobserved(&telemetry.metrics, &observation, started.elapsed(), resp).await
}

/// Records a `/graphql` answer the extension did not: an operation cut off mid-way (timeout,
/// panic), a failure before execution (5xx), or a refusal. Returns the response unchanged.
async fn unobserved(
    metrics: &Metrics,
    observation: &Observation,
    elapsed: Duration,
    resp: Response,
) -> Response {
    let status = resp.status();
    let running = observation.running();
    let cut_off =
        running.is_some() || status == StatusCode::REQUEST_TIMEOUT || status.is_server_error();
    if observation.finished() > 0 && !cut_off {
        return resp;
    }
    if !cut_off && !status.is_client_error() && !is_json(&resp) {
        // Not a GraphQL answer (the GraphiQL page).
        return resp;
    }
    let (resp, codes) = read_codes(resp).await;
    if !cut_off && !status.is_client_error() && codes.is_empty() {
        return resp;
    }
    let name = running.and_then(|r| r.name);
    metrics.record(&OperationRecord {
        name: name.as_deref(),
        outcome: if cut_off {
            Outcome::Error
        } else {
            Outcome::Refused
        },
        duration: cut_off.then_some(elapsed),
        codes,
    });
    resp
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            let media = media.trim();
            media.eq_ignore_ascii_case("application/json")
                || media.eq_ignore_ascii_case("application/graphql-response+json")
        })
}

/// The `extensions.code` of each error in a small, in-memory JSON body (a refusal or an
/// error answer), with the response rebuilt around the same bytes.
async fn read_codes(resp: Response) -> (Response, Vec<String>) {
    let small = resp
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_REFUSAL_BODY);
    if !is_json(&resp) || !small {
        return (resp, Vec::new());
    }
    let (parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            // In-memory bodies cannot fail; should one, the client gets what was there: nothing.
            tracing::error!(error = %e, "cannot read a response body back");
            return (Response::from_parts(parts, Body::empty()), Vec::new());
        }
    };
    let codes = serde_json::from_slice::<Json>(&bytes)
        .map(|json| codes_in(&json))
        .unwrap_or_default();
    (Response::from_parts(parts, Body::from(bytes)), codes)
}

/// Codes of the errors of one GraphQL response, or of every response of a batch.
fn codes_in(json: &Json) -> Vec<String> {
    let responses = match json {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    responses
        .into_iter()
        .filter_map(|r| r.get("errors")?.as_array())
        .flatten()
        .map(|e| {
            e.pointer("/extensions/code")
                .and_then(Json::as_str)
                .unwrap_or("UNKNOWN")
                .to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{LabelCap, OTHER, codes_in};

    #[test]
    fn label_cap_keeps_the_first_values_and_folds_the_rest() {
        let cap = LabelCap::new(2);
        assert_eq!(cap.label("A"), "A");
        assert_eq!(cap.label("B"), "B");
        assert_eq!(cap.label("C"), OTHER, "over the cap");
        assert_eq!(cap.label("A"), "A", "admitted values stay");
        assert_eq!(cap.label(&"x".repeat(500)), OTHER, "too long");
    }

    #[test]
    fn codes_are_read_from_single_and_batched_responses() {
        let single =
            json!({ "errors": [{ "message": "m", "extensions": { "code": "BAD_REQUEST" } }] });
        assert_eq!(codes_in(&single), ["BAD_REQUEST"]);
        let batch = json!([
            { "data": {} },
            { "errors": [{ "message": "m", "extensions": { "code": "X" } }, { "message": "n" }] }
        ]);
        assert_eq!(codes_in(&batch), ["X", "UNKNOWN"]);
        assert!(codes_in(&json!("nonsense")).is_empty());
    }
}
