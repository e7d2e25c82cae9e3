//! Query shape limits (just under and just over each), introspection and suggestions switches.

use axum::{body::Body, http::Request};
use content_api::config::Profile;
use serde_json::{Value, json};

use crate::helpers::error_code;

fn aliases(n: usize) -> String {
    let fields: Vec<String> = (0..n).map(|i| format!("a{i}: viewer {{ role }}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

/// Ten fragments, each spreading the previous one ten times: ~800 bytes, 10^10 fields.
fn fragment_bomb() -> String {
    let mut q = String::from("query { ...F9 }\nfragment F0 on Query { viewer { role } }\n");
    for level in 1..10 {
        let spreads = vec![format!("...F{}", level - 1); 10].join(" ");
        q.push_str(&format!("fragment F{level} on Query {{ {spreads} }}\n"));
    }
    q
}

db_test!(
    async fn alias_limit_lets_30_through_and_refuses_31(app) {
        let ok = app.graphql(&aliases(30), json!({})).await;
        assert!(ok.get("errors").is_none(), "{ok}");
        let over = app.graphql(&aliases(31), json!({})).await;
        assert_eq!(error_code(&over), Some("GRAPHQL_VALIDATION_FAILED"));
        assert!(over["errors"][0]["message"].as_str().unwrap().contains("alias"));
    }
);

db_test!(
    async fn a_fragment_bomb_is_refused_before_execution(app) {
        let bomb = fragment_bomb();
        assert!(bomb.len() < 1000);
        app.reset_statements();
        let resp = app.graphql(&bomb, json!({})).await;
        assert_eq!(error_code(&resp), Some("GRAPHQL_VALIDATION_FAILED"), "{resp}");
        assert!(resp.get("data").is_none() || resp["data"].is_null());
        assert_eq!(app.statements(), 0, "nothing ran");
    }
);

db_test!(
    async fn length_and_token_limits_are_exact(app) {
        let mut app = app;
        let q = "{ viewer { role } }"; // 19 bytes, 6 tokens
        app.reconfigure(|c| {
            c.max_query_length = 19;
            c.max_query_tokens = 6;
        });
        assert!(app.graphql(q, json!({})).await.get("errors").is_none());
        let longer = app.graphql("{ viewer { role }  }", json!({})).await;
        assert_eq!(error_code(&longer), Some("GRAPHQL_VALIDATION_FAILED"));
        app.reconfigure(|c| c.max_query_tokens = 5);
        let more_tokens = app.graphql(q, json!({})).await;
        assert_eq!(error_code(&more_tokens), Some("GRAPHQL_VALIDATION_FAILED"));
    }
);

db_test!(
    async fn field_and_directive_limits_are_exact(app) {
        let mut app = app;
        app.reconfigure(|c| {
            c.max_query_fields = 4;
            c.max_query_directives = 2;
        });
        // viewer, role, a: viewer, role = 4 fields
        let four = "{ viewer { role } a: viewer { role } }";
        assert!(app.graphql(four, json!({})).await.get("errors").is_none());
        let five = "{ viewer { role } a: viewer { role } b: viewer }";
        assert_eq!(error_code(&app.graphql(five, json!({})).await), Some("GRAPHQL_VALIDATION_FAILED"));
        let two = "{ viewer @include(if: true) { role @skip(if: false) } }";
        assert!(app.graphql(two, json!({})).await.get("errors").is_none());
        let three = "{ viewer @include(if: true) { role @skip(if: false) @include(if: true) } }";
        assert_eq!(error_code(&app.graphql(three, json!({})).await), Some("GRAPHQL_VALIDATION_FAILED"));
    }
);

db_test!(
    async fn production_profile_turns_off_introspection_and_suggestions(app) {
        let mut app = app;
        let introspect = "{ __schema { queryType { name } } }";
        assert!(app.graphql(introspect, json!({})).await.get("errors").is_none());
        let typo = app.graphql("{ articels { totalCount } }", json!({})).await;
        assert!(typo["errors"][0]["message"].as_str().unwrap().contains("articles"), "{typo}");

        app.reconfigure(|c| c.profile = Profile::Production);

        let refused = app.graphql(introspect, json!({})).await;
        assert!(refused["data"]["__schema"].is_null(), "{refused}");
        let typo = app.graphql("{ articels { totalCount } }", json!({})).await;
        assert!(!typo["errors"][0]["message"].as_str().unwrap().contains("articles"), "{typo}");
    }
);

db_test!(
    async fn graphiql_introspection_query_fits_the_default_limits(app) {
        let q = include_str!("introspection.graphql");
        let (status, _, body) = app
            .send(
                Request::post("/graphql")
                    .header("content-type", "application/json")
                    .body(Body::from(json!({ "query": q }).to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v.get("errors").is_none(), "{body}");
        assert_eq!(v["data"]["__schema"]["queryType"]["name"], "Query");
    }
);

db_test!(
    async fn depth_and_complexity_limits_are_exact(app) {
        let mut app = app;
        app.reconfigure(|c| {
            c.max_query_depth = 3;
            c.max_query_complexity = 4;
        });
        let at_limit = "{ viewer { role author { slug } } }"; // depth 3, complexity 4
        let r = app.graphql(at_limit, json!({})).await;
        assert!(r.get("errors").is_none(), "{r}");
        let deeper = "{ viewer { author { articles { totalCount } } } }"; // depth 4
        assert_eq!(error_code(&app.graphql(deeper, json!({})).await), Some("GRAPHQL_VALIDATION_FAILED"));
        let wider = "{ viewer { role author { slug name } } }"; // complexity 5
        assert_eq!(error_code(&app.graphql(wider, json!({})).await), Some("GRAPHQL_VALIDATION_FAILED"));
    }
);

db_test!(
    async fn body_size_limit_is_exact(app) {
        let mut app = app;
        let body = |pad: usize| json!({ "query": format!("{{ viewer {{ role }} }}#{}", "x".repeat(pad)) }).to_string();
        let size = body(0).len();
        app.reconfigure(|c| c.max_body_bytes = size + 100);
        let send = |b: String| {
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(b))
                .unwrap()
        };
        let (status, _, _) = app.send(send(body(100))).await;
        assert_eq!(status, 200);
        let (status, _, _) = app.send(send(body(101))).await;
        assert_eq!(status, 413);
    }
);
