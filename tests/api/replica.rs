//! `DATABASE_READ_URL`: anonymous queries read the replica; mutations and keyed requests use
//! the primary. Two separate databases stand in for primary and replica here, so where each
//! request went shows in what it reads (a real streaming replica is exercised by
//! `tests/replica/run`).

use axum::{body::Body, http::Request};
use content_api::{domain::auth, http::router_with_reads};
use entity::api_key::Role;
use serde_json::{Value, json};

use crate::helpers::{ArticleBuilder, TestApp, insert_author};

async fn title(app: &TestApp, token: Option<&str>) -> Value {
    let mut req = Request::post("/graphql").header("content-type", "application/json");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = json!({ "query": r#"{ article(slug: "a") { title stats { views } } }"# });
    let (status, _, body) = app
        .send(req.body(Body::from(body.to_string())).unwrap())
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["data"]["article"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_queries_read_the_replica_and_writers_the_primary() {
    let mut primary = TestApp::sqlite().await;
    let replica = TestApp::sqlite().await;
    for (app, title) in [(&primary, "On the primary"), (&replica, "On the replica")] {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(ann.id, "a")
            .title(title)
            .insert(&app.db)
            .await;
    }
    // Keys live on the primary (the replica would have them too, by replication).
    let (_, editor) = auth::create_key(&primary.db, Role::Editor, None, "desk")
        .await
        .unwrap();
    primary.router = router_with_reads(
        primary.db.clone(),
        Some(replica.db.clone()),
        &primary.config,
    );

    assert_eq!(title(&primary, None).await["title"], "On the replica");
    assert_eq!(
        title(&primary, Some(&editor)).await["title"],
        "On the primary"
    );

    // GET is a query too.
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("query", r#"{ article(slug: "a") { title } }"#)
        .finish();
    let (_, _, body) = primary
        .send(
            Request::get(format!("/graphql?{q}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(body.contains("On the replica"), "{body}");

    // An anonymous mutation writes to the primary.
    let id = {
        let (_, v) = primary
            .graphql_as(&editor, r#"{ article(slug: "a") { id } }"#, json!({}))
            .await;
        v["data"]["article"]["id"].clone()
    };
    let resp = primary
        .graphql(
            "mutation($id: ID!) { recordView(id: $id) { views } }",
            json!({ "id": id }),
        )
        .await;
    assert!(resp.get("errors").is_none(), "{resp}");
    let on_primary = title(&primary, Some(&editor)).await["stats"]["views"]
        .as_i64()
        .unwrap();
    let on_replica = title(&primary, None).await["stats"]["views"]
        .as_i64()
        .unwrap();
    assert_eq!(
        on_primary,
        on_replica + 1,
        "the view went to the primary only"
    );
}
