//! Article lookups, visibility, filters, orders and body formats.

use chrono::{Duration, TimeZone, Utc};
use entity::article::Status;
use serde_json::json;

use crate::helpers::{ArticleBuilder, error_code, insert_author, insert_tag};

db_test!(
    async fn article_is_found_by_slug_and_by_id(app) {
        let author = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(author.id, "hello").title("Hello").insert(&app.db).await;

        let by_slug = app.graphql_ok(r#"{ article(slug: "hello") { id title } }"#, json!({})).await;
        let id = by_slug["article"]["id"].as_str().unwrap().to_owned();
        let by_id = app
            .graphql_ok("query($id: ID!) { article(id: $id) { title } node(id: $id) { ... on Article { slug } } }", json!({ "id": id }))
            .await;

        assert_eq!(by_id["article"]["title"], "Hello");
        assert_eq!(by_id["node"]["slug"], "hello");
    }
);

db_test!(
    async fn missing_article_is_not_found_and_bad_arguments_are_bad_input(app) {
        let missing = app.graphql(r#"{ article(slug: "nope") { title } }"#, json!({})).await;
        assert_eq!(error_code(&missing), Some("NOT_FOUND"));
        assert_eq!(missing["data"]["article"], json!(null));

        let neither = app.graphql("{ article { title } }", json!({})).await;
        assert_eq!(error_code(&neither), Some("BAD_USER_INPUT"));

        let bad_id = app.graphql(r#"{ article(id: "garbage") { title } }"#, json!({})).await;
        assert_eq!(error_code(&bad_id), Some("BAD_USER_INPUT"));

        let missing_node = app.graphql_ok(r#"{ node(id: "QXJ0aWNsZTo5OTk") { id } }"#, json!({})).await;
        assert_eq!(missing_node["node"], json!(null));
    }
);

db_test!(
    async fn drafts_archived_and_future_articles_are_invisible_everywhere(app) {
        // Arrange
        let author = insert_author(&app.db, "ann", "Ann").await;
        let tag = insert_tag(&app.db, "rust", "Rust").await;
        let public = ArticleBuilder::new(author.id, "public").tags(&[tag.id]).insert(&app.db).await;
        let hidden = [
            ArticleBuilder::new(author.id, "draft").status(Status::Draft),
            ArticleBuilder::new(author.id, "archived").status(Status::Archived),
            ArticleBuilder::new(author.id, "scheduled").published_at(Utc::now() + Duration::days(1)),
        ];
        let mut hidden_ids = Vec::new();
        for b in hidden {
            hidden_ids.push(b.tags(&[tag.id]).insert(&app.db).await.id);
        }

        // Act
        let data = app
            .graphql_ok(
                r#"{
                  articles { totalCount edges { node { slug } } }
                  author(slug: "ann") { articleCount articles { totalCount edges { node { slug } } } }
                  tag(slug: "rust") { articleCount articles { totalCount edges { node { slug } } } }
                }"#,
                json!({}),
            )
            .await;

        // Assert
        for list in [&data["articles"], &data["author"]["articles"], &data["tag"]["articles"]] {
            assert_eq!(list["totalCount"], 1, "{list}");
            assert_eq!(list["edges"], json!([{ "node": { "slug": "public" } }]));
        }
        assert_eq!(data["author"]["articleCount"], 1);
        assert_eq!(data["tag"]["articleCount"], 1);
        let missing = app.graphql(r#"{ article(slug: "missing") { title } }"#, json!({})).await;
        for slug in ["draft", "archived", "scheduled"] {
            let resp = app.graphql(&format!(r#"{{ article(slug: "{slug}") {{ title }} }}"#), json!({})).await;
            assert_eq!(error_code(&resp), Some("NOT_FOUND"), "{slug}");
            // The error says no more than it says for an article that never existed.
            assert_eq!(
                resp["errors"][0]["message"].as_str().unwrap().replace(slug, "?"),
                missing["errors"][0]["message"].as_str().unwrap().replace("missing", "?"),
            );
        }
        let ids: Vec<String> = std::iter::once(public.id)
            .chain(hidden_ids)
            .map(|id| {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Article:{id}"))
            })
            .collect();
        let nodes = app
            .graphql_ok("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": ids }))
            .await;
        let found: Vec<bool> = nodes["nodes"].as_array().unwrap().iter().map(|n| !n.is_null()).collect();
        assert_eq!(found, [true, false, false, false]);
    }
);

db_test!(
    async fn filters_narrow_the_listing(app) {
        // Arrange
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let bob = insert_author(&app.db, "bob", "Bob").await;
        let rust = insert_tag(&app.db, "rust", "Rust").await;
        let go = insert_tag(&app.db, "go", "Go").await;
        let day = |d| Utc.with_ymd_and_hms(2025, 1, d, 12, 0, 0).unwrap();
        ArticleBuilder::new(ann.id, "a1").published_at(day(1)).category("Tech").tags(&[rust.id]).insert(&app.db).await;
        ArticleBuilder::new(ann.id, "a2").published_at(day(2)).category("Product").tags(&[go.id]).insert(&app.db).await;
        ArticleBuilder::new(bob.id, "b1").published_at(day(3)).category("tech").tags(&[rust.id, go.id]).insert(&app.db).await;
        ArticleBuilder::new(bob.id, "b2").published_at(day(4)).category("Design").insert(&app.db).await;
        let q = "query($f: ArticleFilterInput) { articles(filter: $f) { totalCount edges { node { slug } } } }";
        let slugs = |v: &serde_json::Value| -> Vec<String> {
            v["articles"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["slug"].as_str().unwrap().to_owned()).collect()
        };

        // Act + Assert, table-driven
        let cases = [
            (json!({ "authorSlug": "ann" }), vec!["a2", "a1"]),
            (json!({ "tagSlugs": ["RUST"] }), vec!["b1", "a1"]),
            (json!({ "tagSlugs": ["rust", "go"] }), vec!["b1", "a2", "a1"]),
            (json!({ "category": "TECH" }), vec!["b1", "a1"]),
            (json!({ "publishedAfter": "2025-01-02T12:00:00Z" }), vec!["b2", "b1", "a2"]),
            (json!({ "publishedBefore": "2025-01-02T12:00:00Z" }), vec!["a1"]),
            (json!({ "authorSlug": "bob", "tagSlugs": ["go"] }), vec!["b1"]),
            (json!({ "authorSlug": "nobody" }), vec![]),
        ];
        for (filter, expected) in cases {
            let data = app.graphql_ok(q, json!({ "f": filter })).await;
            assert_eq!(slugs(&data), expected, "filter {filter}");
            assert_eq!(data["articles"]["totalCount"], expected.len(), "count for filter {filter}");
        }
    }
);

db_test!(
    async fn orders_sort_by_views_likes_title_and_date(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let day = |d| Utc.with_ymd_and_hms(2025, 1, d, 0, 0, 0).unwrap();
        ArticleBuilder::new(ann.id, "x").title("Beta").views(10).likes(3).published_at(day(1)).insert(&app.db).await;
        ArticleBuilder::new(ann.id, "y").title("Alpha").views(30).likes(1).published_at(day(2)).insert(&app.db).await;
        ArticleBuilder::new(ann.id, "z").title("Gamma").views(20).likes(2).published_at(day(3)).insert(&app.db).await;
        let q = "query($o: ArticleOrderInput) { articles(orderBy: $o) { edges { node { slug } } } }";
        let cases = [
            (json!(null), ["z", "y", "x"]),
            (json!({ "field": "PUBLISHED_AT", "direction": "ASC" }), ["x", "y", "z"]),
            (json!({ "field": "VIEWS" }), ["y", "z", "x"]),
            (json!({ "field": "LIKES" }), ["x", "z", "y"]),
            (json!({ "field": "LIKES", "direction": "ASC" }), ["y", "z", "x"]),
            (json!({ "field": "TITLE" }), ["y", "x", "z"]),
            (json!({ "field": "TITLE", "direction": "DESC" }), ["z", "x", "y"]),
        ];
        for (order, expected) in cases {
            let data = app.graphql_ok(q, json!({ "o": order })).await;
            let got: Vec<&str> = data["articles"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["slug"].as_str().unwrap()).collect();
            assert_eq!(got, expected, "order {order}");
        }
    }
);

db_test!(
    async fn html_body_is_sanitized_and_headings_match_the_table_of_contents(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let markdown = "## 第一节 Intro\n\nHello <script>alert(1)</script> <img src=x onerror=\"alert(2)\"> \
                        [link](javascript:alert(3)) <a href=\"https://ok.example\" onclick=\"x()\">ok</a>\n\n## 第一节 Intro\n\n**bold** text";
        ArticleBuilder::new(ann.id, "xss").body(markdown).insert(&app.db).await;

        let data = app
            .graphql_ok(
                r#"{ article(slug: "xss") { html: body(format: HTML) plain: body(format: PLAIN)
                     tableOfContents { level text anchor } excerpt(maxLength: 10) } }"#,
                json!({}),
            )
            .await;

        let html = data["article"]["html"].as_str().unwrap().to_lowercase();
        for bad in ["<script", "onerror", "onclick", "javascript:"] {
            assert!(!html.contains(bad), "sanitized HTML still contains {bad}: {html}");
        }
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("https://ok.example"));
        let toc = data["article"]["tableOfContents"].as_array().unwrap();
        assert_eq!(toc.len(), 2);
        assert_eq!(toc[0]["level"], 2);
        assert_eq!(toc[0]["text"], "第一节 Intro");
        assert_ne!(toc[0]["anchor"], toc[1]["anchor"], "duplicate headings get distinct anchors");
        for entry in toc {
            let id = format!("id=\"{}\"", entry["anchor"].as_str().unwrap());
            assert!(html.contains(&id), "HTML lacks heading {id}: {html}");
        }
        let plain = data["article"]["plain"].as_str().unwrap();
        assert!(!plain.contains("**") && !plain.contains("##"), "{plain}");
        assert!(data["article"]["excerpt"].as_str().unwrap().chars().count() <= 10);
    }
);

db_test!(
    async fn excerpt_length_outside_limits_is_bad_input(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(ann.id, "a").insert(&app.db).await;
        for len in [0, -1, 2001] {
            let resp = app
                .graphql(&format!(r#"{{ article(slug: "a") {{ excerpt(maxLength: {len}) }} }}"#), json!({}))
                .await;
            assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"), "maxLength {len}");
        }
    }
);
