//! Batching: a listing with authors, tags and counts costs the same statements for 5 rows or 50.

use serde_json::json;

use crate::helpers::{ArticleBuilder, TestApp, insert_author, insert_tag};

const LIST: &str = r#"
query($n: Int!) {
  articles(first: $n) {
    totalCount
    edges { node { title author { name articleCount } tags { name articleCount } } }
  }
}"#;

async fn statements_for(app: &TestApp, n: usize) -> usize {
    app.reset_statements();
    let data = app.graphql_ok(LIST, json!({ "n": n })).await;
    assert_eq!(data["articles"]["edges"].as_array().unwrap().len(), n);
    app.statements()
}

db_test!(
    async fn a_page_costs_the_same_statements_whatever_its_size(app) {
        // Arrange: 50 articles over 10 authors and 5 tags.
        let mut authors = Vec::new();
        for i in 0..10 {
            authors.push(insert_author(&app.db, &format!("au{i}"), &format!("Author {i}")).await);
        }
        let mut tags = Vec::new();
        for i in 0..5 {
            tags.push(insert_tag(&app.db, &format!("t{i}"), &format!("Tag {i}")).await.id);
        }
        for i in 0..50 {
            ArticleBuilder::new(authors[i % 10].id, &format!("a{i}"))
                .tags(&[tags[i % 5], tags[(i + 1) % 5]])
                .insert(&app.db)
                .await;
        }

        // Act
        let small = statements_for(&app, 5).await;
        let large = statements_for(&app, 50).await;

        // Assert: list + count + authors + tags + author counts + tag counts.
        assert_eq!(small, large, "statement count grows with the page size");
        assert!(small <= 6, "{small} statements for one page");
    }
);

db_test!(
    async fn listings_read_bodies_only_when_a_field_needs_them(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(ann.id, "a")
            .body("## Part one\n\nThe body text.")
            .insert(&app.db)
            .await;
        let list_sql = |app: &TestApp| {
            app.sql_log()
                .into_iter()
                .find(|s| s.contains("ORDER BY") && s.contains("FROM \"articles\""))
                .expect("the listing query ran")
        };

        app.reset_statements();
        let data = app.graphql_ok("{ articles { edges { node { title wordCount } } } }", json!({})).await;
        assert_eq!(data["articles"]["edges"][0]["node"]["title"], "Title of a");
        assert!(!list_sql(&app).contains("\"articles\".\"body\""), "{}", list_sql(&app));

        let queries = [
            "{ articles { edges { node { excerpt(maxLength: 50) } } } }",
            "{ articles { nodes { tableOfContents { anchor } } } }",
            "{ articles { ...Page } } fragment Page on ArticleConnection { edges { node { ... on Article { body } } } }",
        ];
        for q in queries {
            app.reset_statements();
            let data = app.graphql_ok(q, json!({})).await;
            assert!(list_sql(&app).contains("\"articles\".\"body\""), "{q}");
            let text = data.to_string();
            assert!(text.contains("The body text") || text.contains("part-one"), "{q}: {text}");
        }
    }
);
