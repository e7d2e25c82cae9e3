//! Operations: `/metrics`, request ids, logs, slow operations, the request timeout, CORS and
//! compression, all through the real router.

use std::{
    io::Read as _,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::TestApp;

/// Sends `req` and returns status, headers and the raw body bytes.
async fn send_raw(app: &TestApp, req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

fn post_json() -> axum::http::request::Builder {
    Request::post("/graphql").header("content-type", "application/json")
}

/// A POST of `query` with `operationName` (when given).
fn operation(query: &str, name: Option<&str>) -> Request<Body> {
    let body = json!({ "query": query, "operationName": name });
    post_json().body(Body::from(body.to_string())).unwrap()
}

/// The `/metrics` text.
async fn metrics(app: &TestApp) -> String {
    let (status, headers, body) = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    body
}

/// The value of the sample named exactly `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

db_test!(
    async fn metrics_count_operations_by_name_and_outcome(app) {
        // Arrange
        let named = "query Foo { __typename }";

        // Act
        for _ in 0..2 {
            let (status, _, _) = app.send(operation(named, Some("Foo"))).await;
            assert_eq!(status, 200);
        }
        app.send(operation("{ __typename }", None)).await;
        // Named in the document only: the name is still known.
        app.send(operation("query Bar { __typename }", None)).await;
        let text = metrics(&app).await;

        // Assert
        let ok = |op: &str| sample(&text, &format!(r#"graphql_requests_total{{operation="{op}",outcome="ok"}}"#));
        assert_eq!(ok("Foo"), Some(2.0), "{text}");
        assert_eq!(ok("anonymous"), Some(1.0), "{text}");
        assert_eq!(ok("Bar"), Some(1.0), "{text}");
        assert_eq!(
            sample(&text, r#"graphql_request_duration_seconds_count{operation="Foo"}"#),
            Some(2.0),
            "{text}"
        );
        assert_eq!(sample(&text, r#"http_responses_total{class="2xx"}"#), Some(4.0), "{text}");
    }
);

db_test!(
    async fn metrics_count_errors_by_code(app) {
        // Act: a resolver error (coded as the schema runs it) and a validation failure.
        let (_, _, body) = app
            .send(operation(r#"query Missing { article(slug: "nope") { title } }"#, Some("Missing")))
            .await;
        assert!(body.contains("NOT_FOUND"), "{body}");
        app.send(operation("query Bad { nope }", Some("Bad"))).await;
        let text = metrics(&app).await;

        // Assert
        let errors = |code: &str| sample(&text, &format!(r#"graphql_errors_total{{code="{code}"}}"#));
        assert_eq!(errors("NOT_FOUND"), Some(1.0), "{text}");
        assert_eq!(errors("GRAPHQL_VALIDATION_FAILED"), Some(1.0), "{text}");
        let failed = |op: &str| sample(&text, &format!(r#"graphql_requests_total{{operation="{op}",outcome="error"}}"#));
        assert_eq!(failed("Missing"), Some(1.0), "{text}");
        assert_eq!(failed("Bad"), Some(1.0), "{text}");
    }
);

db_test!(
    async fn metrics_count_requests_refused_before_execution(app) {
        // Act: a wrong media type (415), a malformed body (400), a query that does not parse
        // (200 under application/json), a bad token (401).
        let text_plain = Request::post("/graphql")
            .header("content-type", "text/plain")
            .body(Body::from("{ __typename }"))
            .unwrap();
        assert_eq!(app.send(text_plain).await.0, 415);
        let malformed = post_json().body(Body::from("{")).unwrap();
        assert_eq!(app.send(malformed).await.0, 400);
        let (status, _, body) = app.send(operation("{ articles {", None)).await;
        assert_eq!((status.as_u16(), body.contains("GRAPHQL_PARSE_FAILED")), (200, true), "{body}");
        let bad_token = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", "Bearer nope")
            .body(Body::from(json!({ "query": "{ __typename }" }).to_string()))
            .unwrap();
        assert_eq!(app.send(bad_token).await.0, 401);
        let text = metrics(&app).await;

        // Assert
        assert_eq!(
            sample(&text, r#"graphql_requests_total{operation="anonymous",outcome="refused"}"#),
            Some(4.0),
            "{text}"
        );
        for code in ["UNSUPPORTED_MEDIA_TYPE", "BAD_REQUEST", "GRAPHQL_PARSE_FAILED", "UNAUTHENTICATED"] {
            assert_eq!(
                sample(&text, &format!(r#"graphql_errors_total{{code="{code}"}}"#)),
                Some(1.0),
                "{code}: {text}"
            );
        }
        assert_eq!(sample(&text, r#"http_responses_total{class="4xx"}"#), Some(3.0), "{text}");
        assert!(
            !text.contains(r#"outcome="ok""#),
            "nothing was executed: {text}"
        );
    }
);

db_test!(
    async fn metrics_fold_operation_names_over_the_cap_into_other(app) {
        // Act: more distinct names than the cap.
        let cap = content_api::http::metrics::MAX_OPERATION_LABELS;
        for i in 0..cap + 5 {
            app.send(operation(&format!("query Op{i} {{ __typename }}"), None)).await;
        }
        let text = metrics(&app).await;

        // Assert
        let series = text
            .lines()
            .filter(|l| l.starts_with("graphql_requests_total{"))
            .count();
        assert_eq!(series, cap + 1, "{cap} names plus `other`: {text}");
        assert_eq!(sample(&text, r#"graphql_requests_total{operation="Op0",outcome="ok"}"#), Some(1.0));
        assert_eq!(sample(&text, r#"graphql_requests_total{operation="other",outcome="ok"}"#), Some(5.0));
    }
);

db_test!(
    async fn metrics_report_the_database_pool(app) {
        // Act
        app.graphql_ok("{ articles(first: 1) { totalCount } }", json!({})).await;
        let text = metrics(&app).await;

        // Assert: the test pool allows 5 connections and keeps at least one open.
        assert_eq!(sample(&text, "db_pool_max_connections"), Some(5.0), "{text}");
        let size = sample(&text, "db_pool_connections").unwrap();
        let idle = sample(&text, "db_pool_idle_connections").unwrap();
        assert!((1.0..=5.0).contains(&size), "{text}");
        assert!((0.0..=size).contains(&idle), "{text}");
    }
);

db_test!(
    async fn request_ids_are_echoed_when_sane_and_generated_otherwise(app) {
        let with_id = |id: &str| {
            Request::get("/healthz")
                .header("x-request-id", id)
                .body(Body::empty())
                .unwrap()
        };

        // A sane id comes back unchanged.
        let (_, headers, _) = app.send(with_id("client-abc_123.4")).await;
        assert_eq!(headers["x-request-id"], "client-abc_123.4");

        // None sent: a new UUID.
        let (_, headers, _) = app.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
        let made = headers["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");

        // Unfit ids are replaced, never echoed.
        for bad in ["has space", "", &"x".repeat(129), "tab\there"] {
            let (_, headers, _) = app.send(with_id(bad)).await;
            let id = headers["x-request-id"].to_str().unwrap();
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{bad:?} became {id}");
        }
        let two = Request::get("/healthz")
            .header("x-request-id", "one")
            .header("x-request-id", "two")
            .body(Body::empty())
            .unwrap();
        let (_, headers, _) = app.send(two).await;
        assert!(uuid::Uuid::parse_str(headers["x-request-id"].to_str().unwrap()).is_ok());

        // Every response carries one, refusals included.
        let refused = Request::post("/graphql").body(Body::from("x")).unwrap();
        let (status, headers, _) = app.send(refused).await;
        assert_eq!(status, 415);
        assert!(headers.contains_key("x-request-id"));
    }
);

/// Log lines written while the returned guard lives (on this thread), as JSON values.
struct CapturedLogs {
    buf: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// JSON logs as the production profile writes them.
    fn start() -> Self {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        Self {
            buf,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.buf.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

// Single-threaded: the captured subscriber is this thread's default.
#[tokio::test]
async fn slow_operations_are_logged_with_name_duration_and_request_id() {
    // Arrange: every operation counts as slow.
    let mut app = TestApp::sqlite().await;
    app.reconfigure(|c| c.slow_operation_ms = 0);
    let logs = CapturedLogs::start();
    let mut req = operation("query Sluggish { __typename }", Some("Sluggish"));
    req.headers_mut()
        .insert("x-request-id", "trace-me-42".parse().unwrap());

    // Act
    let (status, _, _) = app.send(req).await;

    // Assert
    assert_eq!(status, 200);
    let lines = logs.lines();
    let slow = lines
        .iter()
        .find(|l| l["fields"]["message"] == "slow GraphQL operation")
        .unwrap_or_else(|| panic!("no slow-operation warning in {lines:#?}"));
    assert_eq!(slow["level"], "WARN");
    assert_eq!(slow["fields"]["operation"], "Sluggish");
    assert!(slow["fields"]["duration_ms"].is_u64(), "{slow}");
    assert_eq!(slow["span"]["request_id"], "trace-me-42", "{slow}");
}

#[tokio::test]
async fn fast_operations_are_not_logged_as_slow() {
    // Arrange: the default threshold (500 ms) is far above a `__typename` query.
    let app = TestApp::sqlite().await;
    let logs = CapturedLogs::start();

    // Act
    app.send(operation("query Quick { __typename }", Some("Quick")))
        .await;

    // Assert
    assert!(
        logs.lines()
            .iter()
            .all(|l| l["fields"]["message"] != "slow GraphQL operation"),
        "{:#?}",
        logs.lines()
    );
}

#[tokio::test]
async fn requests_over_the_timeout_get_408_with_a_graphql_error() {
    // Arrange: a one-second limit, and a client that sends its headers but never its body
    // (a slow upload, the way a real request runs out of time before execution).
    let mut app = TestApp::sqlite().await;
    app.reconfigure(|c| c.request_timeout_secs = 1);
    let never = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from_stream(never))
        .unwrap();

    // Act
    let (status, headers, body) = app.send(req).await;

    // Assert
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.contains_key("x-request-id"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
    let text = metrics(&app).await;
    assert_eq!(
        sample(&text, r#"graphql_errors_total{code="TIMEOUT"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"graphql_requests_total{operation="anonymous",outcome="error"}"#
        ),
        Some(1.0),
        "{text}"
    );
}

fn preflight(origin: &str) -> Request<Body> {
    Request::options("/graphql")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .body(Body::empty())
        .unwrap()
}

fn lower_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect()
}

db_test!(
    async fn cors_answers_allowed_origins_only(app) {
        // Arrange
        let mut app = app;
        app.reconfigure(|c| c.cors_origins = "https://app.example".parse().unwrap());

        // Act / Assert: preflight from an allowed origin.
        let (status, headers, _) = app.send(preflight("https://app.example")).await;
        assert!(status.is_success(), "{status}");
        assert_eq!(headers["access-control-allow-origin"], "https://app.example");
        let methods = lower_list(&headers, "access-control-allow-methods");
        assert!(methods.contains(&"get".into()) && methods.contains(&"post".into()), "{methods:?}");
        let allowed = lower_list(&headers, "access-control-allow-headers");
        for h in ["content-type", "authorization"] {
            assert!(allowed.contains(&h.into()), "{h} in {allowed:?}");
        }

        // The actual request exposes the headers clients need.
        let mut req = operation("{ __typename }", None);
        req.headers_mut().insert("origin", "https://app.example".parse().unwrap());
        let (status, headers, _) = app.send(req).await;
        assert_eq!(status, 200);
        assert_eq!(headers["access-control-allow-origin"], "https://app.example");
        let exposed = lower_list(&headers, "access-control-expose-headers");
        for h in ["etag", "surrogate-key", "x-request-id"] {
            assert!(exposed.contains(&h.into()), "{h} in {exposed:?}");
        }

        // Another origin gets no permission.
        let (_, headers, _) = app.send(preflight("https://evil.example")).await;
        assert!(!headers.contains_key("access-control-allow-origin"), "{headers:?}");
    }
);

db_test!(
    async fn cors_is_off_by_default_and_star_allows_any_origin(app) {
        let mut app = app;
        let mut req = operation("{ __typename }", None);
        req.headers_mut().insert("origin", "https://app.example".parse().unwrap());
        let (_, headers, _) = app.send(req).await;
        assert!(
            !headers.keys().any(|k| k.as_str().starts_with("access-control-")),
            "{headers:?}"
        );

        app.reconfigure(|c| c.cors_origins = "*".parse().unwrap());
        let (_, headers, _) = app.send(preflight("https://anyone.example")).await;
        assert_eq!(headers["access-control-allow-origin"], "*");
    }
);

db_test!(
    async fn responses_are_compressed_with_gzip_and_brotli(app) {
        // Arrange: a response large enough to be worth compressing.
        let query = "{ a: __typename b: __typename c: __typename d: __typename }";
        let (_, headers, plain) = send_raw(&app, operation(query, None)).await;
        assert!(!headers.contains_key("content-encoding"));
        let plain: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(plain["data"]["d"], "Query");

        for encoding in ["gzip", "br"] {
            // Act
            let mut req = operation(query, None);
            req.headers_mut().insert("accept-encoding", encoding.parse().unwrap());
            let (status, headers, body) = send_raw(&app, req).await;

            // Assert
            assert_eq!(status, 200);
            assert_eq!(headers["content-encoding"], encoding);
            assert_eq!(headers["content-type"], "application/json");
            let decoded = decode(encoding, &body);
            assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), plain, "{encoding}");
        }
    }
);

db_test!(
    async fn compression_keeps_metrics_readable_and_leaves_tiny_bodies_alone(app) {
        // /metrics compresses like any text, and decodes to the exposition format.
        app.send(operation("query Foo { __typename }", None)).await;
        let req = Request::get("/metrics")
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = send_raw(&app, req).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
        let text = String::from_utf8(decode(headers["content-encoding"].to_str().unwrap(), &body)).unwrap();
        assert_eq!(
            sample(&text, r#"graphql_requests_total{operation="Foo",outcome="ok"}"#),
            Some(1.0),
            "{text}"
        );

        // A two-byte body and an empty preflight answer stay as they are.
        let req = Request::get("/healthz")
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .unwrap();
        let (_, headers, body) = send_raw(&app, req).await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(&body[..], b"ok");
    }
);

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
        "br" => brotli::Decompressor::new(body, 4096).read_to_end(&mut out),
        other => panic!("unexpected encoding {other}"),
    }
    .unwrap();
    out
}
