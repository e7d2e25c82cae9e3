//! HTTP caching and persisted queries: Cache-Control from hints and credentials, ETag and 304,
//! Surrogate-Key naming what a response shows, automatic persisted queries over GET and POST.

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use content_api::domain::auth;
use entity::api_key::Role;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{ArticleBuilder, TestApp, insert_author, insert_tag};

fn get(query: &str, variables: Option<&Value>) -> axum::http::request::Builder {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    url.append_pair("query", query);
    if let Some(v) = variables {
        url.append_pair("variables", &v.to_string());
    }
    Request::get(format!("/graphql?{}", url.finish())).header("accept", "application/json")
}

async fn send_get(app: &TestApp, query: &str) -> (StatusCode, HeaderMap, String) {
    app.send(get(query, None).body(Body::empty()).unwrap())
        .await
}

fn keys(headers: &HeaderMap) -> Vec<String> {
    headers
        .get("surrogate-key")
        .map(|v| v.to_str().unwrap().split(' ').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn hash(query: &str) -> String {
    Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(query: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash(query) } })
}

db_test!(
    async fn public_queries_are_cacheable_and_revalidate_with_304(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let ai = insert_tag(&app.db, "ai", "AI").await;
        let a = ArticleBuilder::new(ann.id, "a").tags(&[ai.id]).insert(&app.db).await;

        let q = r#"{ article(slug: "a") { title author { name } tags { name } } }"#;
        let (status, headers, body) = send_get(&app, q).await;
        assert_eq!(status, 200, "{body}");
        // Article's hint (60 s) is shorter than Author's and Tag's (300 s).
        assert_eq!(headers["cache-control"], "public, max-age=60");
        assert_eq!(
            keys(&headers),
            [format!("article:{}", a.id), format!("author:{}", ann.id), format!("tag:{}", ai.id)]
        );
        let etag = headers["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with("W/\"") && etag.len() == 36, "{etag}");
        assert!(headers["vary"].to_str().unwrap().contains("authorization"));

        // The same request with the tag: 304, no body, the same validators.
        let req = get(q, None).header("if-none-match", &etag).body(Body::empty()).unwrap();
        let (status, again, body) = app.send(req).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{body} {etag} {again:?}");
        assert!(body.is_empty());
        assert_eq!(again["etag"], etag.as_str());
        assert_eq!(again["cache-control"], "public, max-age=60");

        // A change in the content changes the tag: a full answer again.
        entity::article::Entity::update_many()
            .col_expr(entity::article::Column::Title, sea_orm::sea_query::Expr::value("New"))
            .exec(&app.db)
            .await
            .unwrap();
        let req = get(q, None).header("if-none-match", &etag).body(Body::empty()).unwrap();
        let (status, changed, body) = app.send(req).await;
        assert_eq!(status, 200);
        assert!(body.contains("New"));
        assert_ne!(changed["etag"], etag.as_str());

        // Authors alone are cacheable for longer.
        let (_, headers, _) = send_get(&app, "{ authors(first: 5) { nodes { name } } }").await;
        assert_eq!(headers["cache-control"], "public, max-age=300");
        assert_eq!(keys(&headers), [format!("author:{}", ann.id), "authors".to_owned()]);
        // No hint at all: caches must revalidate.
        let (_, headers, _) = send_get(&app, "{ __typename }").await;
        assert_eq!(headers["cache-control"], "no-cache");
        assert!(headers.get("surrogate-key").is_none());
    }
);

db_test!(
    async fn listings_and_counts_name_their_list_keys(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let ai = insert_tag(&app.db, "ai", "AI").await;
        let a = ArticleBuilder::new(ann.id, "a").tags(&[ai.id]).insert(&app.db).await;

        let (_, headers, body) = send_get(
            &app,
            r#"{ tag(slug: "ai") { articleCount articles(first: 5) { nodes { slug } } } }"#,
        )
        .await;
        assert!(body.contains("\"a\""), "{body}");
        assert_eq!(
            keys(&headers),
            [format!("article:{}", a.id), format!("tag:{}", ai.id), format!("tag:{}:articles", ai.id)]
        );

        let (_, headers, _) =
            send_get(&app, r#"{ author(slug: "ann") { articleCount articles { totalCount } } }"#)
                .await;
        let got = keys(&headers);
        for key in [format!("author:{}", ann.id), format!("author:{}:articles", ann.id)] {
            assert!(got.contains(&key), "{key} missing from {got:?}");
        }
        // Scoped listings do not name the global list, so publishing elsewhere keeps them.
        assert!(!got.contains(&"articles".to_owned()), "{got:?}");

        // The top-level listing, filtered or not, and search purge with `articles`.
        for q in [
            "{ articles(first: 5) { nodes { slug } } }",
            r#"{ articles(filter: { tagSlugs: ["ai"] }) { nodes { slug } } }"#,
            r#"{ search(query: "hello") { totalCount } }"#,
        ] {
            let (status, headers, body) = send_get(&app, q).await;
            assert_eq!(status, 200, "{body}");
            assert!(keys(&headers).contains(&"articles".to_owned()), "{q}: {headers:?}");
        }
    }
);

db_test!(
    async fn credentials_and_errors_are_never_shared(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let a = ArticleBuilder::new(ann.id, "a")
            .status(entity::article::Status::Draft)
            .insert(&app.db)
            .await;
        let (_, token) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();

        // A bearer token: private, and no keys for a shared cache.
        let req = get("{ articles { nodes { slug } } }", None)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = app.send(req).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"a\""), "the editor sees the draft: {body}");
        assert_eq!(headers["cache-control"], "private, no-store");
        assert!(headers.get("surrogate-key").is_none());

        // A preview token is a credential too.
        let (_, created) = app
            .graphql_as(
                &token,
                "mutation($id: ID!) { createPreviewToken(articleId: $id) { token } }",
                json!({ "id": node_id(&app, "a").await.unwrap_or_default() }),
            )
            .await;
        let preview = created["data"]["createPreviewToken"]["token"].as_str().unwrap();
        let vars = json!({ "t": preview });
        let req = get("query($t: String) { article(previewToken: $t) { title } }", Some(&vars))
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = app.send(req).await;
        assert_eq!(status, 200);
        assert!(body.contains(&a.title), "{body}");
        assert_eq!(headers["cache-control"], "private, no-store");

        // Errors: not stored.
        let (_, headers, body) = send_get(&app, r#"{ article(slug: "nope") { title } }"#).await;
        assert!(body.contains("NOT_FOUND"), "{body}");
        assert_eq!(headers["cache-control"], "no-store");

        // The viewer type is private by hint.
        let (_, headers, _) = send_get(&app, "{ viewer { role } }").await;
        assert_eq!(headers["cache-control"], "private, no-store");

        // POST responses are never stored.
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "query": "{ authors { totalCount } }" }).to_string()))
            .unwrap();
        let (_, headers, _) = app.send(req).await;
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers.get("etag").is_none());
    }
);

/// The global id of the article `slug`, read as an editor would (drafts included).
async fn node_id(app: &TestApp, slug: &str) -> Option<String> {
    let (_, token) = auth::create_key(&app.db, Role::Admin, None, "ids")
        .await
        .ok()?;
    let (_, v) = app
        .graphql_as(
            &token,
            "query($s: String) { article(slug: $s) { id } }",
            json!({ "s": slug }),
        )
        .await;
    v["data"]["article"]["id"].as_str().map(str::to_owned)
}

db_test!(
    async fn persisted_queries_register_once_then_run_by_hash_over_get(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(ann.id, "a").title("Persisted").insert(&app.db).await;
        let q = r#"query Home { articles(first: 1) { nodes { title } } }"#;
        let by_hash = || {
            let mut url = url::form_urlencoded::Serializer::new(String::new());
            url.append_pair("extensions", &persisted(q).to_string());
            Request::get(format!("/graphql?{}", url.finish()))
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap()
        };

        // Unknown hash: the client is told to send the text.
        let (status, _, body) = app.send(by_hash()).await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["errors"][0]["message"], "PersistedQueryNotFound");
        assert_eq!(v["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
        assert!(v.get("data").is_none());

        // Text with a wrong hash is refused and not stored.
        let wrong = json!({ "query": "{ __typename }", "extensions": persisted(q) });
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(wrong.to_string()))
            .unwrap();
        let (_, _, body) = app.send(req).await;
        assert!(body.contains("PERSISTED_QUERY_HASH_MISMATCH"), "{body}");

        // Text and hash: runs and registers.
        let register = json!({ "query": q, "extensions": persisted(q) });
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(register.to_string()))
            .unwrap();
        let (status, _, body) = app.send(req).await;
        assert_eq!(status, 200);
        assert!(body.contains("Persisted"), "{body}");

        // Now the hash alone runs over GET, cacheably.
        let (status, headers, body) = app.send(by_hash()).await;
        assert_eq!(status, 200);
        assert!(body.contains("Persisted"), "{body}");
        assert_eq!(headers["cache-control"], "public, max-age=60");
        assert!(headers.get("etag").is_some());

        // A persisted mutation is still refused over GET.
        let m = "mutation { recordView(id: \"x\") { views } }";
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "query": m, "extensions": persisted(m) }).to_string()))
            .unwrap();
        app.send(req).await;
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("extensions", &persisted(m).to_string());
        let req = Request::get(format!("/graphql?{}", url.finish()))
            .header("accept", "application/json")
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = app.send(req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers["allow"], "POST");

        // A malformed extension is a clear request error.
        let bad = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "xyz" } } });
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(Body::from(bad.to_string()))
            .unwrap();
        let (status, _, body) = app.send(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("64 hex digits"), "{body}");
    }
);
