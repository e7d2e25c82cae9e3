//! Operations: request ids and the request timeout, through the real router.

use axum::{
    body::{Body, Bytes},
    http::{Request, StatusCode},
};
use serde_json::Value;

use crate::helpers::TestApp;

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
}
