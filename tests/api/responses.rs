//! The response cache: anonymous queries answered again without SQL, shared between GET and
//! POST, never for credentials or errors, and dropped by every change made through the API, in
//! this process or (on Postgres) another.

use std::time::{Duration, Instant};

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use content_api::domain::auth;
use entity::api_key::Role;
use serde_json::{Value, json};

use crate::helpers::{ArticleBuilder, TestApp, insert_author, insert_tag, samples_dir};

const HOME: &str = "{ articles(first: 10) { totalCount edges { node { title stats { views } \
                    author { name } tags { name } } } } }";

fn gid(kind: &str, id: i32) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

fn post() -> axum::http::request::Builder {
    Request::post("/graphql").header("content-type", "application/json")
}

/// POSTs `query` (anonymously unless `token`): status, headers, body.
async fn send(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> (StatusCode, HeaderMap, String) {
    let mut req = post();
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    app.send(req.body(Body::from(body)).unwrap()).await
}

fn x_cache(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-cache").map(|v| v.to_str().unwrap())
}

async fn cached_app(app: TestApp) -> TestApp {
    let mut app = app;
    app.reconfigure(|c| c.response_cache_bytes = 1 << 20);
    app
}

async fn seed(app: &TestApp) -> (i32, i32, i32) {
    let ann = insert_author(&app.db, "ann", "Ann").await;
    let ai = insert_tag(&app.db, "ai", "AI").await;
    let a = ArticleBuilder::new(ann.id, "a")
        .title("A")
        .tags(&[ai.id])
        .insert(&app.db)
        .await;
    ArticleBuilder::new(ann.id, "b")
        .title("B")
        .insert(&app.db)
        .await;
    (ann.id, ai.id, a.id)
}

db_test!(
    async fn a_repeated_anonymous_query_runs_no_sql(app) {
        let app = cached_app(app).await;
        seed(&app).await;
        let (status, headers, first) = send(&app, HOME, json!({}), None).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(x_cache(&headers), Some("miss"));
        assert!(first.contains("\"title\":\"A\""), "{first}");

        app.reset_statements();
        let (status, headers, again) = send(&app, HOME, json!({}), None).await;
        assert_eq!((status, x_cache(&headers)), (StatusCode::OK, Some("hit")));
        assert_eq!(again, first);
        assert_eq!(headers["cache-control"], "no-store", "POST stays uncacheable over HTTP");
        assert_eq!(app.statements(), 0, "{:?}", app.sql_log());

        // GET shares the entry, with the validators and headers a GET answer has.
        let url = format!(
            "/graphql?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("query", HOME)
                .append_pair("variables", "{}")
                .finish()
        );
        let get = || Request::get(&url).header("accept", "application/json");
        let (status, headers, body) = app.send(get().body(Body::empty()).unwrap()).await;
        assert_eq!((status, x_cache(&headers)), (StatusCode::OK, Some("hit")));
        assert_eq!(body, first);
        assert_eq!(headers["cache-control"], "public, max-age=60");
        assert!(headers["surrogate-key"].to_str().unwrap().contains("articles"));
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let (status, headers, _) = app
            .send(get().header("if-none-match", &etag).body(Body::empty()).unwrap())
            .await;
        assert_eq!((status, x_cache(&headers)), (StatusCode::NOT_MODIFIED, Some("hit")));
        assert_eq!(app.statements(), 0, "{:?}", app.sql_log());

        // Other variables or another media type are other entries.
        let by_slug = "query($s: String!) { article(slug: $s) { title } }";
        let (_, h1, b1) = send(&app, by_slug, json!({ "s": "a" }), None).await;
        let (_, h2, b2) = send(&app, by_slug, json!({ "s": "b" }), None).await;
        assert_eq!((x_cache(&h1), x_cache(&h2)), (Some("miss"), Some("miss")));
        assert!(b1.contains("\"A\"") && b2.contains("\"B\""), "{b1} {b2}");
        let (_, h3, _) = send(&app, by_slug, json!({ "s": "a" }), None).await;
        assert_eq!(x_cache(&h3), Some("hit"));
        let req = post()
            .header("accept", "application/graphql-response+json")
            .body(Body::from(json!({ "query": HOME, "variables": {} }).to_string()))
            .unwrap();
        let (_, headers, _) = app.send(req).await;
        assert_eq!(x_cache(&headers), Some("miss"));
    }
);

db_test!(
    async fn credentials_errors_and_private_answers_are_never_stored(app) {
        let app = cached_app(app).await;
        seed(&app).await;
        let (_, token) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();
        for _ in 0..2 {
            app.reset_statements();
            let (status, headers, _) = send(&app, HOME, json!({}), Some(&token)).await;
            assert_eq!(status, 200);
            assert_eq!(x_cache(&headers), None);
            assert!(app.statements() > 0);
        }
        // An error (an unknown article is NOT_FOUND) is answered afresh each time.
        let missing = r#"{ article(slug: "nope") { title } }"#;
        for _ in 0..2 {
            let (_, headers, body) = send(&app, missing, json!({}), None).await;
            assert!(body.contains("NOT_FOUND"), "{body}");
            assert_eq!(x_cache(&headers), Some("miss"));
        }
        // `viewer` depends on who asks: private, so never stored.
        let viewer = "{ viewer { role } }";
        for _ in 0..2 {
            let (_, headers, body) = send(&app, viewer, json!({}), None).await;
            assert!(body.contains("ANONYMOUS"), "{body}");
            assert_eq!(x_cache(&headers), Some("miss"));
        }
    }
);

db_test!(
    async fn changes_through_the_api_drop_what_they_touch(app) {
        let app = cached_app(app).await;
        let (_, ai, a) = seed(&app).await;
        let (_, token) = auth::create_key(&app.db, Role::Admin, None, "desk").await.unwrap();
        let tag_page = r#"{ tag(slug: "ai") { name } }"#;
        let article = r#"{ article(slug: "a") { title stats { views } } }"#;
        let other = r#"{ article(slug: "b") { title stats { views } } }"#;
        let by_views = "{ articles(first: 1, orderBy: { field: VIEWS }) { edges { node { title } } } }";
        let warm = |q: &'static str| {
            let app = &app;
            async move {
                send(app, q, json!({}), None).await;
                let (_, headers, body) = send(app, q, json!({}), None).await;
                assert_eq!(x_cache(&headers), Some("hit"), "{q}");
                body
            }
        };

        // A view drops the entries showing that article and listings ordered by a counter.
        for q in [HOME, article, other, by_views, tag_page] {
            warm(q).await;
        }
        let view = "mutation($id: ID!) { recordView(id: $id) { views } }";
        let (_, _, body) = send(&app, view, json!({ "id": gid("Article", a) }), None).await;
        assert!(body.contains("\"views\":1"), "{body}");
        for (q, expected) in [
            (HOME, "miss"),
            (article, "miss"),
            (by_views, "miss"),
            (other, "hit"),
            (tag_page, "hit"),
        ] {
            let (_, headers, body) = send(&app, q, json!({}), None).await;
            assert_eq!(x_cache(&headers), Some(expected), "{q}: {body}");
        }
        let (_, _, body) = send(&app, article, json!({}), None).await;
        assert!(body.contains("\"views\":1"), "{body}");

        // Renaming a tag (no article event) empties the cache: the new name shows at once.
        warm(tag_page).await;
        warm(other).await;
        let rename = "mutation($id: ID!) { updateTag(id: $id, input: { name: \"Machine\" }) { name } }";
        let (status, body) = app
            .graphql_as(&token, rename, json!({ "id": gid("Tag", ai) }))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        let (_, headers, body) = send(&app, tag_page, json!({}), None).await;
        assert_eq!(x_cache(&headers), Some("miss"));
        assert!(body.contains("Machine"), "{body}");
        let (_, headers, _) = send(&app, other, json!({}), None).await;
        assert_eq!(x_cache(&headers), Some("miss"));

        // A mutation that fails writes nothing and keeps the cache.
        warm(tag_page).await;
        let (_, body) = app
            .graphql_as(&token, rename, json!({ "id": gid("Tag", 99_999) }))
            .await;
        assert!(body.get("errors").is_some(), "{body}");
        let (_, headers, _) = send(&app, tag_page, json!({}), None).await;
        assert_eq!(x_cache(&headers), Some("hit"));

        // An article edit empties it too.
        warm(other).await;
        let edit = "mutation($id: ID!, $v: Int!) { updateArticle(id: $id, input: { title: \"B2\" }, \
                    expectedVersion: $v) { title } }";
        let (_, b) = app
            .graphql_as(&token, "{ article(slug: \"b\") { id version } }", json!({}))
            .await;
        let b = &b["data"]["article"];
        let (status, body) = app
            .graphql_as(&token, edit, json!({ "id": b["id"], "v": b["version"] }))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        let (_, headers, body) = send(&app, other, json!({}), None).await;
        assert_eq!(x_cache(&headers), Some("miss"));
        assert!(body.contains("B2"), "{body}");
    }
);

/// Two processes on one Postgres schema: a change made through one drops the other's entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_another_process_reaches_this_cache() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let app = cached_app(app).await;
    let (_, ai, _) = seed(&app).await;
    let other = content_api::http::router(app.db.clone(), &app.config);
    let (_, token) = auth::create_key(&app.db, Role::Admin, None, "desk")
        .await
        .unwrap();
    let tag_page = r#"{ tag(slug: "ai") { name } }"#;
    let ask_other = || {
        let req = post()
            .body(Body::from(json!({ "query": tag_page }).to_string()))
            .unwrap();
        let other = other.clone();
        async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let resp = other.oneshot(req).await.unwrap();
            let hit = resp.headers().get("x-cache").cloned();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (hit, String::from_utf8_lossy(&body).into_owned())
        }
    };
    // The other process starts listening asynchronously: rename until it hears one.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut round = 0;
    loop {
        round += 1;
        ask_other().await;
        let (hit, before) = ask_other().await;
        assert_eq!(
            hit.as_ref().map(|v| v.to_str().unwrap()),
            Some("hit"),
            "{before}"
        );
        let name = format!("Round {round}");
        let rename =
            "mutation($id: ID!, $n: String!) { updateTag(id: $id, input: { name: $n }) { name } }";
        let (status, body) = app
            .graphql_as(&token, rename, json!({ "id": gid("Tag", ai), "n": name }))
            .await;
        assert_eq!(status, 200, "{body}");
        let heard = Instant::now() + Duration::from_secs(2);
        while Instant::now() < heard {
            let (_, body) = ask_other().await;
            if body.contains(&name) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            Instant::now() < deadline,
            "the other process never heard a change"
        );
    }
}

/// `content-api import`, a process of its own, empties the caches of the servers on its
/// Postgres database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_run_empties_the_caches_of_running_servers() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let app = cached_app(app).await;
    let ann = insert_author(&app.db, "ann", "Ann").await;
    ArticleBuilder::new(ann.id, "a").insert(&app.db).await;
    // A listing with a node carries the articles' max-age; an empty one would not be stored.
    let count = "{ articles(first: 1) { totalCount nodes { slug } } }";
    send(&app, count, json!({}), None).await;
    let (_, headers, body) = send(&app, count, json!({}), None).await;
    assert_eq!(x_cache(&headers), Some("hit"));
    assert!(body.contains("\"totalCount\":1"), "{body}");

    let url = app.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_content-api"))
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "error")
            .arg("import")
            .arg(samples_dir())
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, headers, body) = send(&app, count, json!({}), None).await;
        if !body.contains("\"totalCount\":1") {
            assert_eq!(x_cache(&headers), Some("miss"), "{body}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the import was never heard of: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

db_test!(
    async fn a_client_taking_gzip_gets_the_stored_compressed_copy(app) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        const ARTICLE: &str = r#"{ article(slug: "a") { title } }"#;
        let app = cached_app(app).await;
        seed(&app).await;
        let raw = |query: &'static str, encoding: Option<&'static str>| {
            let mut req = post();
            if let Some(encoding) = encoding {
                req = req.header("accept-encoding", encoding);
            }
            let req = req
                .body(Body::from(json!({ "query": query }).to_string()))
                .unwrap();
            let router = app.router.clone();
            async move {
                let resp = router.oneshot(req).await.unwrap();
                let headers = resp.headers().clone();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                (headers, body)
            }
        };
        let gunzip = |bytes: &[u8]| {
            use std::io::Read;
            let mut out = String::new();
            flate2::read::GzDecoder::new(bytes)
                .read_to_string(&mut out)
                .unwrap();
            out
        };
        // The miss is compressed once, stored, and answered compressed.
        let (headers, first) = raw(HOME, Some("gzip, br")).await;
        assert_eq!(x_cache(&headers), Some("miss"));
        assert_eq!(headers["content-encoding"], "gzip");
        let plain = gunzip(&first);
        assert!(plain.contains("\"title\":\"A\""), "{plain}");
        // Hits: the same compressed bytes, or the plain body for a client without gzip.
        let (headers, again) = raw(HOME, Some("gzip")).await;
        assert_eq!((x_cache(&headers), &headers["content-encoding"]), (Some("hit"), &"gzip".parse().unwrap()));
        assert_eq!(again, first);
        assert!(
            headers.get_all("vary").iter().any(|v| v.to_str().unwrap().contains("accept-encoding")),
            "{headers:?}"
        );
        let (headers, body) = raw(HOME, None).await;
        assert_eq!(x_cache(&headers), Some("hit"));
        assert!(headers.get("content-encoding").is_none());
        assert_eq!(String::from_utf8(body.to_vec()).unwrap(), plain);
        let (headers, _) = raw(HOME, Some("gzip;q=0")).await;
        assert!(headers.get("content-encoding").is_none());

        // An entry filled for a client without gzip gains its copy at the first hit that asks.
        let (headers, plain_first) = raw(ARTICLE, None).await;
        assert_eq!(x_cache(&headers), Some("miss"));
        let (headers, zipped) = raw(ARTICLE, Some("gzip")).await;
        assert_eq!(x_cache(&headers), Some("hit"));
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(gunzip(&zipped).as_bytes(), &plain_first[..]);
        let (_, zipped_again) = raw(ARTICLE, Some("gzip")).await;
        assert_eq!(zipped_again, zipped, "the copy was stored");
    }
);
