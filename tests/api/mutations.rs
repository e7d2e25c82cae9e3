//! Writing content: the editorial flow, versions, permissions, validation, counters, admin
//! operations and preview tokens.

use content_api::domain::auth;
use entity::api_key::Role;
use serde_json::{Value, json};

use crate::helpers::{ArticleBuilder, TestApp, error_code, insert_author, insert_tag};

const CREATE: &str = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id slug status version wordCount readingTimeMinutes body(format: HTML) tags { slug } author { slug } } }";

struct Keys {
    admin: String,
    editor: String,
    ann: String,
    bob: String,
}

/// Authors ann and bob, tags rust and go, and a key per role.
async fn setup(app: &TestApp) -> Keys {
    insert_author(&app.db, "ann", "Ann").await;
    insert_author(&app.db, "bob", "Bob").await;
    insert_tag(&app.db, "rust", "Rust").await;
    insert_tag(&app.db, "go", "Go").await;
    let key = |role, author: Option<&'static str>| {
        let db = app.db.clone();
        async move { auth::create_key(&db, role, author, "t").await.unwrap().1 }
    };
    Keys {
        admin: key(Role::Admin, None).await,
        editor: key(Role::Editor, None).await,
        ann: key(Role::Author, Some("ann")).await,
        bob: key(Role::Author, Some("bob")).await,
    }
}

async fn ok(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let (status, resp) = app.graphql_as(token, query, vars).await;
    assert_eq!(status, 200, "{resp}");
    assert!(resp.get("errors").is_none(), "unexpected errors: {resp:#}");
    resp["data"].clone()
}

async fn code_as(app: &TestApp, token: &str, query: &str, vars: Value) -> String {
    let (_, resp) = app.graphql_as(token, query, vars).await;
    error_code(&resp).unwrap_or("none").to_owned()
}

async fn draft(app: &TestApp, token: &str, title: &str, author: Option<&str>) -> Value {
    let mut input =
        json!({ "title": title, "body": "# Heading\n\n中文内容 text", "tagSlugs": ["go", "RUST"] });
    if let Some(a) = author {
        input["authorSlug"] = json!(a);
    }
    ok(app, token, CREATE, json!({ "input": input })).await["createArticle"].clone()
}

db_test!(
    async fn a_draft_is_created_published_and_appears(app) {
        // Arrange
        let keys = setup(&app).await;

        // Act: create a draft
        let created = draft(&app, &keys.editor, "Hello World", Some("ann")).await;

        // Assert: a draft with derived data, invisible to the public
        assert_eq!(created["status"], "DRAFT");
        assert_eq!(created["slug"], "hello-world");
        assert_eq!(created["version"], 1);
        assert_eq!(created["wordCount"], 6, "Heading + 4 CJK characters + text");
        assert!(created["body"].as_str().unwrap().contains("<h1 id=\"heading\">"));
        assert_eq!(created["tags"], json!([{ "slug": "go" }, { "slug": "rust" }]));
        let anon = app.graphql(r#"{ article(slug: "hello-world") { title } author(slug: "ann") { articleCount } }"#, json!({})).await;
        assert_eq!(error_code(&anon), Some("NOT_FOUND"));
        assert_eq!(anon["data"]["author"]["articleCount"], 0);

        // Act: publish
        let published = ok(&app, &keys.editor, "mutation($id: ID!) { publishArticle(id: $id) { status version publishedAt } }", json!({ "id": created["id"] })).await;

        // Assert: public now, counted
        assert_eq!(published["publishArticle"]["status"], "PUBLISHED");
        assert_eq!(published["publishArticle"]["version"], 2);
        let anon = app.graphql_ok(r#"{ article(slug: "hello-world") { title } author(slug: "ann") { articleCount } tag(slug: "go") { articleCount } }"#, json!({})).await;
        assert_eq!(anon["article"]["title"], "Hello World");
        assert_eq!(anon["author"]["articleCount"], 1);
        assert_eq!(anon["tag"]["articleCount"], 1);

        // Unpublish and archive hide it again.
        for m in ["unpublishArticle", "archiveArticle"] {
            ok(&app, &keys.editor, &format!("mutation($id: ID!) {{ {m}(id: $id) {{ status }} }}"), json!({ "id": created["id"] })).await;
            let anon = app.graphql(r#"{ article(slug: "hello-world") { title } }"#, json!({})).await;
            assert_eq!(error_code(&anon), Some("NOT_FOUND"), "{m}");
        }
    }
);

db_test!(
    async fn a_stale_version_is_a_conflict_and_writes_nothing(app) {
        let keys = setup(&app).await;
        let a = draft(&app, &keys.ann, "First", None).await;
        let update = "mutation($id: ID!, $v: Int!, $input: UpdateArticleInput!) { updateArticle(id: $id, expectedVersion: $v, input: $input) { title version wordCount body(format: HTML) summary } }";

        let first = ok(&app, &keys.ann, update, json!({ "id": a["id"], "v": 1, "input": { "title": "Second", "body": "one two three", "summary": "lead" } })).await;
        assert_eq!(first["updateArticle"]["version"], 2);
        assert_eq!(first["updateArticle"]["wordCount"], 3);
        assert_eq!(first["updateArticle"]["body"], "<p>one two three</p>\n");

        let stale = code_as(&app, &keys.editor, update, json!({ "id": a["id"], "v": 1, "input": { "title": "Lost update" } })).await;
        assert_eq!(stale, "CONFLICT");

        let cleared = ok(&app, &keys.ann, update, json!({ "id": a["id"], "v": 2, "input": { "summary": null } })).await;
        assert_eq!(cleared["updateArticle"]["title"], "Second", "the stale write changed nothing");
        assert_eq!(cleared["updateArticle"]["summary"], Value::Null);
        assert_eq!(cleared["updateArticle"]["version"], 3);
    }
);

db_test!(
    async fn scheduled_articles_appear_at_their_time_without_a_job(app) {
        let keys = setup(&app).await;
        let a = draft(&app, &keys.editor, "Later", Some("bob")).await;
        let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
        ok(&app, &keys.editor, "mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, publishAt: $at) { status } }", json!({ "id": a["id"], "at": at })).await;
        let q = r#"{ articles { totalCount } }"#;
        assert_eq!(app.graphql_ok(q, json!({})).await["articles"]["totalCount"], 0);

        tokio::time::sleep(std::time::Duration::from_millis(3100)).await;

        assert_eq!(app.graphql_ok(q, json!({})).await["articles"]["totalCount"], 1);
        let past = code_as(&app, &keys.editor, "mutation($id: ID!) { publishArticle(id: $id, publishAt: \"2020-01-01T00:00:00Z\") { status } }", json!({ "id": a["id"] })).await;
        assert_eq!(past, "BAD_USER_INPUT");
    }
);

db_test!(
    async fn each_refused_attempt_gets_its_code(app) {
        let keys = setup(&app).await;
        let bobs = draft(&app, &keys.bob, "Bob's", None).await;
        let bob_id = bobs["id"].clone();
        let publish = "mutation($id: ID!) { publishArticle(id: $id) { status } }";
        ok(&app, &keys.editor, publish, json!({ "id": bob_id })).await;
        let create = json!({ "input": { "title": "x", "body": "y" } });

        // No token, bad token, revoked token.
        assert_eq!(error_code(&app.graphql(CREATE, create.clone()).await), Some("UNAUTHENTICATED"));
        let (status, _) = app.graphql_as("cak_wrong", CREATE, create.clone()).await;
        assert_eq!(status, 401);
        let (key, token) = auth::create_key(&app.db, Role::Editor, None, "gone").await.unwrap();
        auth::revoke_key(&app.db, key.id).await.unwrap();
        assert_eq!(code_as(&app, &token, CREATE, create.clone()).await, "UNAUTHENTICATED");
        // Authentication comes before validation.
        let invalid = json!({ "input": { "title": "", "body": "y", "slug": "Not A Slug" } });
        assert_eq!(error_code(&app.graphql(CREATE, invalid).await), Some("UNAUTHENTICATED"));
        // Wrong role.
        assert_eq!(code_as(&app, &keys.ann, publish, json!({ "id": bob_id })).await, "FORBIDDEN");
        assert_eq!(code_as(&app, &keys.editor, r#"mutation { createTag(input: { name: "X" }) { slug } }"#, json!({})).await, "FORBIDDEN");
        // Another author's article, and writing as another author.
        let update = "mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 2, input: { title: \"mine\" }) { title } }";
        assert_eq!(code_as(&app, &keys.ann, update, json!({ "id": bob_id })).await, "FORBIDDEN");
        let as_bob = json!({ "input": { "title": "x", "body": "y", "authorSlug": "bob" } });
        assert_eq!(code_as(&app, &keys.ann, CREATE, as_bob).await, "FORBIDDEN");
        // Anonymous may view, not like.
        let like = "mutation($id: ID!) { likeArticle(id: $id) { likes } }";
        assert_eq!(error_code(&app.graphql(like, json!({ "id": bob_id })).await), Some("UNAUTHENTICATED"));
    }
);

db_test!(
    async fn invalid_input_names_the_field_and_writes_nothing(app) {
        let mut app = app;
        let keys = setup(&app).await;
        app.reconfigure(|c| c.max_article_bytes = 100);
        let cases = [
            (json!({ "title": "  ", "body": "b", "authorSlug": "ann" }), "input.title"),
            (json!({ "title": "t".repeat(201), "body": "b", "authorSlug": "ann" }), "input.title"),
            (json!({ "title": "t", "body": "b".repeat(101), "authorSlug": "ann" }), "input.body"),
            (json!({ "title": "t", "body": "b", "authorSlug": "ann", "slug": "Bad Slug" }), "input.slug"),
            (json!({ "title": "t", "body": "b", "authorSlug": "ann", "coverImageUrl": "javascript:alert(1)" }), "input.coverImageUrl"),
            (json!({ "title": "t", "body": "b", "authorSlug": "ann", "tagSlugs": ["rust", "nope"] }), "input.tagSlugs"),
            (json!({ "title": "t", "body": "b", "authorSlug": "ghost" }), "input.authorSlug"),
            (json!({ "title": "t", "body": "b" }), "input.authorSlug"),
            (json!({ "title": "t", "body": "b", "authorSlug": "ann", "summary": "s".repeat(1001) }), "input.summary"),
        ];
        for (input, field) in cases {
            let (_, resp) = app.graphql_as(&keys.editor, CREATE, json!({ "input": input })).await;
            assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"), "{input}: {resp}");
            assert_eq!(resp["errors"][0]["extensions"]["field"], field, "{input}");
        }
        let just_fits = json!({ "title": "t".repeat(200), "body": "b".repeat(100), "authorSlug": "ann" });
        ok(&app, &keys.editor, CREATE, json!({ "input": just_fits })).await;
        let (_, all) = app.graphql_as(&keys.editor, "{ articles { totalCount } }", json!({})).await;
        assert_eq!(all["data"]["articles"]["totalCount"], 1, "only the valid article was written");
    }
);

db_test!(
    async fn five_hundred_concurrent_views_add_exactly_five_hundred(app) {
        let mut app = app;
        app.reconfigure(|c| c.view_rate_per_minute = 10_000);
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let a = ArticleBuilder::new(ann.id, "hot").views(7).insert(&app.db).await;
        let id = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Article:{}", a.id))
        };
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for _ in 0..500 {
            let (app, id) = (app.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let r = app.graphql("mutation($id: ID!) { recordView(id: $id) { views } }", json!({ "id": id })).await;
                assert!(r.get("errors").is_none(), "{r}");
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let data = app.graphql_ok(r#"{ article(slug: "hot") { stats { views } } }"#, json!({})).await;
        assert_eq!(data["article"]["stats"]["views"], 507);
    }
);

db_test!(
    async fn likes_never_go_below_zero_and_views_are_rate_limited(app) {
        let mut app = app;
        app.reconfigure(|c| c.view_rate_per_minute = 3);
        let keys = setup(&app).await;
        let a = draft(&app, &keys.editor, "Counted", Some("ann")).await;
        ok(&app, &keys.editor, "mutation($id: ID!) { publishArticle(id: $id) { status } }", json!({ "id": a["id"] })).await;
        let m = |name: &str| format!("mutation($id: ID!) {{ {name}(id: $id) {{ views likes collects }} }}");
        let id = json!({ "id": a["id"] });

        let liked = ok(&app, &keys.bob, &m("likeArticle"), id.clone()).await;
        assert_eq!(liked["likeArticle"]["likes"], 1);
        ok(&app, &keys.bob, &m("unlikeArticle"), id.clone()).await;
        let floor = ok(&app, &keys.bob, &m("unlikeArticle"), id.clone()).await;
        assert_eq!(floor["unlikeArticle"]["likes"], 0);
        let collected = ok(&app, &keys.bob, &m("collectArticle"), id.clone()).await;
        assert_eq!(collected["collectArticle"]["collects"], 1);
        let back = ok(&app, &keys.bob, &m("uncollectArticle"), id.clone()).await;
        assert_eq!(back["uncollectArticle"]["collects"], 0);

        for n in 1..=3 {
            let r = app.graphql(&m("recordView"), id.clone()).await;
            assert_eq!(r["data"]["recordView"]["views"], n);
        }
        let limited = app.graphql(&m("recordView"), id.clone()).await;
        assert_eq!(error_code(&limited), Some("RATE_LIMITED"));
    }
);

db_test!(
    async fn authors_with_articles_need_reassigning_and_tags_merge(app) {
        let keys = setup(&app).await;
        let a = draft(&app, &keys.ann, "Tagged", None).await;
        draft(&app, &keys.bob, "Only rust", None).await;
        let (_, ann) = app.graphql_as(&keys.admin, r#"{ author(slug: "ann") { id } }"#, json!({})).await;
        let ann_id = ann["data"]["author"]["id"].clone();

        let del = "mutation($id: ID!, $to: String) { deleteAuthor(id: $id, reassignTo: $to) }";
        assert_eq!(code_as(&app, &keys.admin, del, json!({ "id": ann_id })).await, "CONFLICT");
        ok(&app, &keys.admin, del, json!({ "id": ann_id, "to": "bob" })).await;
        let (_, bob) = app.graphql_as(&keys.admin, r#"{ author(slug: "bob") { articleCount } }"#, json!({})).await;
        assert_eq!(bob["data"]["author"]["articleCount"], 2);

        // "Tagged" has go and rust; merging rust into go leaves it one go.
        let merged = ok(&app, &keys.admin, r#"mutation { mergeTags(from: "rust", into: "go") { slug } }"#, json!({})).await;
        assert_eq!(merged["mergeTags"]["slug"], "go");
        let (_, tags) = app.graphql_as(&keys.admin, "query($id: ID!) { node(id: $id) { ... on Article { tags { slug } } } tags { totalCount } tag(slug: \"go\") { articleCount } }", json!({ "id": a["id"] })).await;
        assert_eq!(tags["data"]["node"]["tags"], json!([{ "slug": "go" }]));
        assert_eq!(tags["data"]["tags"]["totalCount"], 1);
        assert_eq!(tags["data"]["tag"]["articleCount"], 2);
    }
);

db_test!(
    async fn a_preview_token_reads_one_draft_and_nothing_else(app) {
        let keys = setup(&app).await;
        let a = draft(&app, &keys.ann, "Secret draft", None).await;
        draft(&app, &keys.ann, "Other draft", None).await;
        let issued = ok(&app, &keys.ann, "mutation($id: ID!) { createPreviewToken(articleId: $id, ttl: 60) { token expiresAt } }", json!({ "id": a["id"] })).await;
        let token = issued["createPreviewToken"]["token"].as_str().unwrap().to_owned();
        let read = |slug: &str| format!(r#"query($t: String) {{ article(slug: "{slug}", previewToken: $t) {{ title status }} }}"#);

        let seen = app.graphql_ok(&read("secret-draft"), json!({ "t": token })).await;
        assert_eq!(seen["article"], json!({ "title": "Secret draft", "status": "DRAFT" }));
        let other = app.graphql(&read("other-draft"), json!({ "t": token })).await;
        assert_eq!(error_code(&other), Some("NOT_FOUND"));
        let tampered = token.replacen('.', "0.", 1);
        let bad = app.graphql(&read("secret-draft"), json!({ "t": tampered })).await;
        assert_eq!(error_code(&bad), Some("UNAUTHENTICATED"));
        let list = app.graphql_ok("{ articles { totalCount } }", json!({})).await;
        assert_eq!(list["articles"]["totalCount"], 0, "the token opens nothing else");
        // Bob may not preview Ann's draft (he cannot even see it).
        let (_, refused) = app.graphql_as(&keys.bob, "mutation($id: ID!) { createPreviewToken(articleId: $id) { token } }", json!({ "id": a["id"] })).await;
        assert_eq!(error_code(&refused), Some("NOT_FOUND"));
    }
);

db_test!(
    async fn an_expired_preview_token_is_refused(app) {
        let keys = setup(&app).await;
        let a = draft(&app, &keys.editor, "Brief", Some("ann")).await;
        let issued = ok(&app, &keys.editor, "mutation($id: ID!) { createPreviewToken(articleId: $id, ttl: 1) { token } }", json!({ "id": a["id"] })).await;
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let resp = app
            .graphql(r#"query($t: String) { article(previewToken: $t) { title } }"#, json!({ "t": issued["createPreviewToken"]["token"] }))
            .await;
        assert_eq!(error_code(&resp), Some("UNAUTHENTICATED"));
    }
);

db_test!(
    async fn deleting_an_article_removes_it(app) {
        let keys = setup(&app).await;
        let a = draft(&app, &keys.ann, "Short lived", None).await;
        ok(&app, &keys.ann, "mutation($id: ID!) { deleteArticle(id: $id) }", json!({ "id": a["id"] })).await;
        let (_, gone) = app.graphql_as(&keys.editor, "query($id: ID!) { node(id: $id) { id } articles { totalCount } }", json!({ "id": a["id"] })).await;
        assert_eq!(gone["data"]["node"], Value::Null);
        assert_eq!(gone["data"]["articles"]["totalCount"], 0);
    }
);

db_test!(
    async fn forwarded_addresses_count_separately_only_when_trusted(app) {
        let mut app = app;
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let a = ArticleBuilder::new(ann.id, "v").insert(&app.db).await;
        let id = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Article:{}", a.id))
        };
        let view = |from: &'static str| {
            let body = json!({ "query": "mutation($id: ID!) { recordView(id: $id) { views } }", "variables": { "id": id } });
            axum::http::Request::post("/graphql")
                .header("content-type", "application/json")
                .header("x-forwarded-for", from)
                .body(axum::body::Body::from(body.to_string()))
                .unwrap()
        };
        let code = |body: &str| -> Option<String> {
            let v: Value = serde_json::from_str(body).unwrap();
            v["errors"][0]["extensions"]["code"].as_str().map(str::to_owned)
        };

        app.reconfigure(|c| c.view_rate_per_minute = 1);
        let (_, _, first) = app.send(view("203.0.113.1")).await;
        assert_eq!(code(&first), None);
        let (_, _, second) = app.send(view("203.0.113.2")).await;
        assert_eq!(code(&second).as_deref(), Some("RATE_LIMITED"), "untrusted header is ignored");

        app.reconfigure(|c| {
            c.view_rate_per_minute = 1;
            c.trust_forwarded_for = true;
        });
        let (_, _, a1) = app.send(view("203.0.113.1")).await;
        let (_, _, b1) = app.send(view("203.0.113.2, 10.0.0.1")).await;
        let (_, _, a2) = app.send(view("203.0.113.1")).await;
        assert_eq!((code(&a1), code(&b1)), (None, None));
        assert_eq!(code(&a2).as_deref(), Some("RATE_LIMITED"));
    }
);
