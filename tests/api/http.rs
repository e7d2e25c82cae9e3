//! The HTTP surface: methods, content types, batches, GraphiQL, probes, error hygiene.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};

use crate::helpers::{ArticleBuilder, insert_author};

fn post(body: &str, content_type: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/graphql");
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

fn get(query_string: &str, accept: &str) -> Request<Body> {
    Request::get(format!("/graphql?{query_string}"))
        .header("accept", accept)
        .body(Body::empty())
        .unwrap()
}

fn code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

db_test!(
    async fn get_runs_queries_and_refuses_mutations_with_405(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(ann.id, "a").title("Hi").insert(&app.db).await;

        let (status, headers, body) = app
            .send(get("query=%7Barticle(slug%3A%22a%22)%7Btitle%7D%7D", "application/json"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["data"]["article"]["title"], "Hi");

        let (status, headers, body) = app
            .send(get("query=mutation%20%7B%20x%20%7D", "application/json"))
            .await;
        assert_eq!(status, 405, "{body}");
        assert_eq!(headers["allow"], "POST");
        assert_eq!(code(&body), "METHOD_NOT_ALLOWED");
    }
);

db_test!(
    async fn post_requires_json_content_type_and_a_well_formed_body(app) {
        let q = r#"{"query":"{ articles { totalCount } }"}"#;
        for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            let (status, _, body) = app.send(post(q, ct)).await;
            assert_eq!(status, 415, "content type {ct:?}");
            assert_eq!(code(&body), "UNSUPPORTED_MEDIA_TYPE");
        }
        let (status, _, _) = app.send(post(q, Some("application/json; charset=utf-8"))).await;
        assert_eq!(status, 200);

        for bad in ["{", "[]", "42", r#"{"query": 1}"#, r#"{"variables": {}}"#, r#"{"query":"{a}","variables":[1]}"#] {
            let (status, _, body) = app.send(post(bad, Some("application/json"))).await;
            assert_eq!(status, 400, "body {bad}");
            assert_eq!(code(&body), "BAD_REQUEST", "body {bad}");
        }
    }
);

db_test!(
    async fn batches_run_up_to_the_limit_and_larger_ones_are_refused(app) {
        let one = json!({ "query": "{ articles { totalCount } }" });
        let ten = Value::Array(vec![one.clone(); 10]).to_string();
        let (status, _, body) = app.send(post(&ten, Some("application/json"))).await;
        assert_eq!(status, 200);
        let answers: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answers.as_array().unwrap().len(), 10);
        assert_eq!(answers[9]["data"]["articles"]["totalCount"], 0);

        let eleven = Value::Array(vec![one; 11]).to_string();
        let (status, _, body) = app.send(post(&eleven, Some("application/json"))).await;
        assert_eq!(status, 400);
        assert_eq!(code(&body), "BAD_REQUEST");
    }
);

db_test!(
    async fn request_errors_carry_codes_and_graphql_response_json_uses_400(app) {
        let req = |accept: &'static str| {
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("accept", accept)
                .body(Body::from(r#"{"query":"{ noSuchField }"}"#))
                .unwrap()
        };
        let (status, _, body) = app.send(req("application/json")).await;
        assert_eq!(status, 200);
        assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");

        let (status, headers, body) = app.send(req("application/graphql-response+json")).await;
        assert_eq!(status, 400);
        assert_eq!(headers["content-type"], "application/graphql-response+json");
        assert!(serde_json::from_str::<Value>(&body).unwrap().get("data").is_none());

        let (_, _, body) = app.send(post(r#"{"query":"{ articles { "}"#, Some("application/json"))).await;
        assert_eq!(code(&body), "GRAPHQL_PARSE_FAILED");
    }
);

db_test!(
    async fn database_failures_are_internal_and_never_leak_sql(app) {
        // Break the database under the running app.
        use sea_orm::ConnectionTrait;
        app.db.execute_unprepared("DROP TABLE article_tags").await.unwrap();
        app.db.execute_unprepared("DROP TABLE articles").await.unwrap();

        let resp = app.graphql("{ articles { totalCount } }", json!({})).await;

        assert_eq!(resp["errors"][0]["extensions"]["code"], "INTERNAL");
        let text = resp.to_string().to_lowercase();
        for leak in ["select", "no such table", "relation \"", "sqlx", "sqlite", "src/", "error returned"] {
            assert!(!text.contains(leak), "response leaks {leak:?}: {text}");
        }
    }
);

db_test!(
    async fn graphiql_is_served_to_browsers_and_probes_answer(app) {
        let (status, headers, body) = app.send(get("", "text/html,application/xhtml+xml")).await;
        assert_eq!(status, 200);
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(body.to_lowercase().contains("graphiql"));

        let (status, _, body) = app.send(get("", "application/json")).await;
        assert_eq!(status, 400);
        assert_eq!(code(&body), "BAD_REQUEST");

        for path in ["/healthz", "/readyz"] {
            let (status, _, _) = app
                .send(Request::get(path).body(Body::empty()).unwrap())
                .await;
            assert_eq!(status, 200, "{path}");
        }
    }
);

db_test!(
    async fn depth_limit_refuses_deep_queries(app) {
        let mut app = app;
        app.reconfigure(|c| c.max_query_depth = 4);
        let ok = app.graphql("{ articles { edges { node { title } } } }", json!({})).await;
        assert!(ok.get("errors").is_none(), "{ok}");
        let deep = app
            .graphql("{ articles { edges { node { author { name } } } } }", json!({}))
            .await;
        assert_eq!(deep["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    }
);

db_test!(
    async fn oversized_bodies_are_refused_with_413(app) {
        let mut app = app;
        app.reconfigure(|c| c.max_body_bytes = 1024);
        let big = json!({ "query": format!("{{ articles {{ totalCount }} }} #{}", "x".repeat(2000)) }).to_string();
        let (status, _, _) = app.send(post(&big, Some("application/json"))).await;
        assert_eq!(status, 413);
    }
);
