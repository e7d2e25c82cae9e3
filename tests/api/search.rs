//! Chinese-aware search: relevance on the samples, query hygiene, paging, index upkeep, related.

use content_api::domain::{auth, search::index_article};
use entity::api_key::Role;
use serde_json::{Value, json};

use crate::helpers::{ArticleBuilder, TestApp, error_code, insert_author, insert_tag};

const SEARCH: &str = r#"query($q: String!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { score titleHighlight snippet article { slug } } }
  }
}"#;

fn slugs(data: &Value) -> Vec<String> {
    data["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["article"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(app: &TestApp, q: &str) -> Value {
    app.graphql_ok(SEARCH, json!({ "q": q, "first": 20 })).await
}

db_test!(
    async fn relevance_on_the_samples(app) {
        app.import_samples().await;
        let cases = [
            ("互联网大厂", "woshipm-6183097"),
            ("内容中台", "woshipm-6190001"),
            ("dataloader", "woshipm-6211950"),
            ("DataLoader", "woshipm-6211950"),
            ("DeepSeek开源", "woshipm-6200417"),
        ];
        for (q, first) in cases {
            let data = search(&app, q).await;
            assert_eq!(slugs(&data).first().map(String::as_str), Some(first), "query {q}: {data}");
        }
    }
);

db_test!(
    async fn words_find_exactly_the_articles_that_contain_them(app) {
        app.import_samples().await;
        let cases: [(&str, &[&str]); 4] = [
            ("大厂", &["woshipm-6183097"]),
            ("开源", &["woshipm-6183097", "woshipm-6200417"]),
            // Both characters occur in the samples (大厂, 产业家), the word 厂家 nowhere.
            ("厂家", &[]),
            ("dataloader 中台", &[]),
        ];
        for (q, expected) in cases {
            let data = search(&app, q).await;
            let mut got = slugs(&data);
            got.sort();
            assert_eq!(got, expected, "query {q}");
            assert_eq!(data["search"]["totalCount"], expected.len(), "count for {q}");
        }
    }
);

db_test!(
    async fn hits_are_highlighted_and_html_safe(app) {
        app.import_samples().await;
        let data = search(&app, "内容中台").await;
        let hit = &data["search"]["edges"][0]["node"];
        assert!(hit["titleHighlight"].as_str().unwrap().contains("<mark>内容中台</mark>"), "{hit}");
        assert!(hit["snippet"].as_str().unwrap().contains("<mark>"), "{hit}");
        assert!(hit["score"].as_f64().unwrap() > 0.0);
    }
);

db_test!(
    async fn operators_and_empty_queries_are_plain_input(app) {
        app.import_samples().await;
        for q in ["", "   ", "&|!():*'\"\\", "%_"] {
            let resp = app.graphql(SEARCH, json!({ "q": q })).await;
            assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"), "query {q:?}: {resp}");
        }
        for q in ["DeepSeek & 开源", "开源)*", "'开源'", "开源 OR 大厂", "大厂 -开源"] {
            let resp = app.graphql(SEARCH, json!({ "q": q })).await;
            assert!(resp.get("errors").is_none(), "query {q:?}: {resp}");
        }
        let long = "开源".repeat(500);
        let resp = app.graphql(SEARCH, json!({ "q": long })).await;
        assert!(resp.get("errors").is_none(), "long queries are cut, not refused");
    }
);

db_test!(
    async fn paging_through_hits_never_skips_or_repeats(app) {
        app.import_samples().await;
        let all = slugs(&search(&app, "产品").await);
        assert!(all.len() >= 2, "{all:?}");
        let mut paged = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app.graphql_ok(SEARCH, json!({ "q": "产品", "first": 1, "after": after })).await;
            paged.extend(slugs(&data));
            if data["search"]["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = data["search"]["pageInfo"]["endCursor"].clone();
            assert!(paged.len() <= all.len(), "paging does not end");
        }
        assert_eq!(paged, all);
    }
);

db_test!(
    async fn the_index_follows_writes_and_hides_drafts(app) {
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "t").await.unwrap();
        app.import_samples().await;
        let create = r#"mutation { createArticle(input: { title: "量子计算入门", body: "量子比特与叠加态", authorSlug: "产业家" }) { id } }"#;
        let (_, created) = app.graphql_as(&editor, create, json!({})).await;
        let id = created["data"]["createArticle"]["id"].clone();

        // A draft: found by the editor, not by the public.
        let (_, mine) = app.graphql_as(&editor, SEARCH, json!({ "q": "量子" })).await;
        assert_eq!(slugs(&mine["data"]).len(), 1, "{mine}");
        assert_eq!(slugs(&search(&app, "量子").await).len(), 0);

        // Update the text: the old word goes, the new one comes.
        let update = "mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 1, input: { title: \"区块链入门\", body: \"共识算法\" }) { version } }";
        app.graphql_as(&editor, update, json!({ "id": id })).await;
        let (_, old) = app.graphql_as(&editor, SEARCH, json!({ "q": "量子" })).await;
        assert_eq!(slugs(&old["data"]).len(), 0);
        let (_, new) = app.graphql_as(&editor, SEARCH, json!({ "q": "区块链" })).await;
        assert_eq!(slugs(&new["data"]).len(), 1);

        // Publish: public now. Delete: gone.
        app.graphql_as(&editor, "mutation($id: ID!) { publishArticle(id: $id) { status } }", json!({ "id": id })).await;
        assert_eq!(slugs(&search(&app, "区块链").await).len(), 1);
        app.graphql_as(&editor, "mutation($id: ID!) { deleteArticle(id: $id) }", json!({ "id": id })).await;
        let (_, gone) = app.graphql_as(&editor, SEARCH, json!({ "q": "区块链" })).await;
        assert_eq!(slugs(&gone["data"]).len(), 0);
    }
);

db_test!(
    async fn related_articles_share_tags_first(app) {
        app.import_samples().await;
        let data = app
            .graphql_ok(
                r#"{ article(slug: "woshipm-6183097") { related(first: 3) { article { slug } sharedTags { slug } } } }"#,
                json!({}),
            )
            .await;
        let related = data["article"]["related"].as_array().unwrap();
        assert_eq!(related[0]["article"]["slug"], "woshipm-6200417", "{data}");
        assert_eq!(related[0]["sharedTags"], json!([{ "slug": "deepseek" }]));
        assert!(related.iter().all(|r| r["article"]["slug"] != "woshipm-6183097"));
    }
);

db_test!(
    async fn head_matches_rank_above_body_only_matches_which_go_newest_first(app) {
        // Arrange: the word in one title, one summary-less tag, and two bodies only.
        let author = insert_author(&app.db, "writer", "Writer").await;
        let tag = insert_tag(&app.db, "quantum", "量子计算").await;
        let in_title = ArticleBuilder::new(author.id, "in-title").title("量子计算入门").insert(&app.db).await;
        let old_body = ArticleBuilder::new(author.id, "old-body").body("本文谈到量子计算的未来。").insert(&app.db).await;
        let in_tag = ArticleBuilder::new(author.id, "in-tag").tags(&[tag.id]).insert(&app.db).await;
        let new_body = ArticleBuilder::new(author.id, "new-body").body("量子计算，量子计算，量子计算。").insert(&app.db).await;
        ArticleBuilder::new(author.id, "unrelated").body("区块链").insert(&app.db).await;
        for a in [&in_title, &old_body, &in_tag, &new_body] {
            index_article(&app.db, a).await.unwrap();
        }

        // Act
        let data = search(&app, "量子计算").await;

        // Assert: title (A) above tag (B), both above the body-only hits, those newest first
        // whatever their term frequency.
        assert_eq!(slugs(&data), ["in-title", "in-tag", "new-body", "old-body"], "{data}");
        let scores: Vec<f64> = data["search"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["score"].as_f64().unwrap())
            .collect();
        assert!(scores[0] > scores[1] && scores[1] >= 1.0, "{scores:?}");
        assert_eq!(&scores[2..], [0.0, 0.0]);
        assert_eq!(data["search"]["totalCount"], 4);
        let snippet = data["search"]["edges"][2]["node"]["snippet"].as_str().unwrap();
        assert!(snippet.contains("<mark>"), "body-only hits have snippets too: {snippet}");

        // Paging one by one crosses from the head tier into the body tier exactly once.
        let mut paged = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = app.graphql_ok(SEARCH, json!({ "q": "量子计算", "first": 1, "after": after })).await;
            paged.extend(slugs(&page));
            if page["search"]["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["search"]["pageInfo"]["endCursor"].clone();
            assert!(paged.len() <= 4, "paging does not end: {paged:?}");
        }
        assert_eq!(paged, slugs(&data));
    }
);

db_test!(
    async fn renaming_merging_and_deleting_a_tag_reindexes_its_articles(app) {
        // Arrange: one article whose only mention of the words is its tag.
        let (_, admin) = auth::create_key(&app.db, Role::Admin, None, "root").await.unwrap();
        let author = insert_author(&app.db, "writer", "Writer").await;
        let tag = insert_tag(&app.db, "quantum", "量子计算").await;
        insert_tag(&app.db, "cloud", "云计算").await;
        let article = ArticleBuilder::new(author.id, "tagged").tags(&[tag.id]).insert(&app.db).await;
        index_article(&app.db, &article).await.unwrap();
        let found = |q: &'static str| {
            let app = &app;
            async move { slugs(&search(app, q).await) }
        };
        assert_eq!(found("量子计算").await, ["tagged"]);
        let (_, data) = app.graphql_as(&admin, r#"{ tag(slug: "quantum") { id } }"#, json!({})).await;
        let id = data["data"]["tag"]["id"].clone();

        // Rename: the old name goes, the new one comes.
        let rename = "mutation($id: ID!) { updateTag(id: $id, input: { name: \"区块链\" }) { name } }";
        let (_, renamed) = app.graphql_as(&admin, rename, json!({ "id": id })).await;
        assert_eq!(renamed["data"]["updateTag"]["name"], "区块链", "{renamed}");
        assert!(found("量子计算").await.is_empty());
        assert_eq!(found("区块链").await, ["tagged"]);

        // Merge into another tag: the article now carries that one's name.
        let merge = r#"mutation { mergeTags(from: "quantum", into: "cloud") { slug } }"#;
        let (_, merged) = app.graphql_as(&admin, merge, json!({})).await;
        assert_eq!(merged["data"]["mergeTags"]["slug"], "cloud", "{merged}");
        assert!(found("区块链").await.is_empty());
        assert_eq!(found("云计算").await, ["tagged"]);

        // Delete: the article is no longer found by the tag's name.
        let (_, data) = app.graphql_as(&admin, r#"{ tag(slug: "cloud") { id } }"#, json!({})).await;
        let delete = "mutation($id: ID!) { deleteTag(id: $id) }";
        let (_, deleted) = app.graphql_as(&admin, delete, json!({ "id": data["data"]["tag"]["id"] })).await;
        assert!(deleted.get("errors").is_none(), "{deleted}");
        assert!(found("云计算").await.is_empty());
    }
);
