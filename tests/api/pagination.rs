//! Keyset pagination: forwards, backwards, limits and cursor checks.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::helpers::{ArticleBuilder, TestApp, error_code, insert_author};

const PAGE: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String, $o: ArticleOrderInput) {
  articles(first: $first, after: $after, last: $last, before: $before, orderBy: $o) {
    totalCount
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

/// Seven articles a1..a7, a7 newest; a3 and a4 share a publish time (the id breaks the tie).
async fn seed(app: &TestApp) {
    let ann = insert_author(&app.db, "ann", "Ann").await;
    let base = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    for i in 1..=7 {
        let hours = if i == 4 { 3 } else { i };
        ArticleBuilder::new(ann.id, &format!("a{i}"))
            .title(&format!("T{}", 8 - i))
            .published_at(base + Duration::hours(hours))
            .insert(&app.db)
            .await;
    }
}

fn slugs(data: &Value) -> Vec<String> {
    data["articles"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

db_test!(
    async fn paging_forwards_visits_every_article_once_in_order(app) {
        seed(&app).await;
        let mut seen = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let data = app.graphql_ok(PAGE, json!({ "first": 3, "after": after })).await;
            seen.extend(slugs(&data));
            pages += 1;
            let info = &data["articles"]["pageInfo"];
            assert_eq!(info["hasPreviousPage"], pages > 1);
            if info["hasNextPage"] == false {
                break;
            }
            after = info["endCursor"].clone();
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ["a7", "a6", "a5", "a4", "a3", "a2", "a1"]);
    }
);

db_test!(
    async fn paging_backwards_with_last_and_before_mirrors_forwards(app) {
        seed(&app).await;
        let last_page = app.graphql_ok(PAGE, json!({ "last": 3 })).await;
        assert_eq!(slugs(&last_page), ["a3", "a2", "a1"]);
        assert_eq!(last_page["articles"]["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(last_page["articles"]["pageInfo"]["hasNextPage"], false);

        let before = last_page["articles"]["pageInfo"]["startCursor"].clone();
        let middle = app.graphql_ok(PAGE, json!({ "last": 3, "before": before })).await;
        assert_eq!(slugs(&middle), ["a6", "a5", "a4"]);

        let before = middle["articles"]["pageInfo"]["startCursor"].clone();
        let first = app.graphql_ok(PAGE, json!({ "last": 3, "before": before })).await;
        assert_eq!(slugs(&first), ["a7"]);
        assert_eq!(first["articles"]["pageInfo"]["hasPreviousPage"], false);
        assert_eq!(first["articles"]["pageInfo"]["hasNextPage"], true);
    }
);

db_test!(
    async fn after_and_before_together_bound_a_window(app) {
        seed(&app).await;
        let all = app.graphql_ok(PAGE, json!({ "first": 7 })).await;
        let cursor = |i: usize| all["articles"]["edges"][i]["cursor"].clone();
        let window = app
            .graphql_ok(PAGE, json!({ "first": 10, "after": cursor(1), "before": cursor(5) }))
            .await;
        assert_eq!(slugs(&window), ["a5", "a4", "a3"]);
        assert_eq!(window["articles"]["totalCount"], 7, "totalCount counts the whole list");
    }
);

db_test!(
    async fn paging_other_orders_uses_their_own_cursors(app) {
        seed(&app).await;
        let o = json!({ "field": "TITLE" });
        let p1 = app.graphql_ok(PAGE, json!({ "first": 4, "o": o })).await;
        let after = p1["articles"]["pageInfo"]["endCursor"].clone();
        let p2 = app.graphql_ok(PAGE, json!({ "first": 4, "after": after, "o": o })).await;
        let mut all = slugs(&p1);
        all.extend(slugs(&p2));
        assert_eq!(all, ["a7", "a6", "a5", "a4", "a3", "a2", "a1"]);

        // A title cursor makes no sense for the date order.
        let resp = app
            .graphql(PAGE, json!({ "first": 4, "after": p1["articles"]["pageInfo"]["endCursor"] }))
            .await;
        assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"));
    }
);

db_test!(
    async fn page_sizes_outside_0_to_100_and_bad_cursors_are_bad_input(app) {
        seed(&app).await;
        for vars in [
            json!({ "first": 101 }),
            json!({ "first": -1 }),
            json!({ "last": 101 }),
            json!({ "last": -5 }),
            json!({ "first": 1, "last": 1 }),
            json!({ "after": "not-a-cursor" }),
            json!({ "before": "" }),
        ] {
            let resp = app.graphql(PAGE, vars.clone()).await;
            assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"), "{vars}: {resp}");
        }
        let ok = app.graphql_ok(PAGE, json!({ "first": 100 })).await;
        assert_eq!(slugs(&ok).len(), 7);
        let empty = app.graphql_ok(PAGE, json!({ "first": 0 })).await;
        assert_eq!(slugs(&empty).len(), 0);
        assert_eq!(empty["articles"]["pageInfo"]["hasNextPage"], true);
    }
);

db_test!(
    async fn authors_and_tags_lists_page_too(app) {
        for (slug, name) in [("c", "Cid"), ("a", "Ann"), ("b", "Bob")] {
            insert_author(&app.db, slug, name).await;
        }
        let q = "query($after: String) { authors(first: 2, after: $after) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }";
        let p1 = app.graphql_ok(q, json!({})).await;
        assert_eq!(p1["authors"]["edges"], json!([{ "node": { "name": "Ann" } }, { "node": { "name": "Bob" } }]));
        assert_eq!(p1["authors"]["totalCount"], 3);
        let p2 = app
            .graphql_ok(q, json!({ "after": p1["authors"]["pageInfo"]["endCursor"] }))
            .await;
        assert_eq!(p2["authors"]["edges"], json!([{ "node": { "name": "Cid" } }]));
        assert_eq!(p2["authors"]["pageInfo"]["hasNextPage"], false);
    }
);
