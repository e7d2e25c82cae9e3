//! Apollo Federation subgraph: `_service { sdl }` and `_entities` for Article, Author and Tag.

use entity::article::Status;
use serde_json::{Value, json};

use crate::helpers::{ArticleBuilder, insert_author, insert_tag};

const ENTITIES: &str = r#"query($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Article { title author { name } }
    ... on Author { name }
    ... on Tag { name }
  }
}"#;

fn rep(typename: &str, kind: &str, id: i32) -> Value {
    use base64::Engine;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"));
    json!({ "__typename": typename, "id": id })
}

db_test!(
    async fn entities_resolve_by_id_in_one_statement_per_type(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let ai = insert_tag(&app.db, "ai", "AI").await;
        let a = ArticleBuilder::new(ann.id, "a").title("A").insert(&app.db).await;
        let b = ArticleBuilder::new(ann.id, "b").title("B").insert(&app.db).await;
        let draft = ArticleBuilder::new(ann.id, "d")
            .status(Status::Draft)
            .insert(&app.db)
            .await;

        let reps = json!([
            rep("Article", "Article", b.id),
            rep("Author", "Author", ann.id),
            rep("Article", "Article", draft.id),
            rep("Tag", "Tag", ai.id),
            rep("Article", "Article", a.id),
        ]);
        app.reset_statements();
        let data = app.graphql_ok(ENTITIES, json!({ "r": reps })).await;
        // One statement per entity type, then one for the articles' authors; more
        // representations would not add any.
        assert_eq!(app.statements(), 4, "{:#?}", app.sql_log());
        assert_eq!(
            data["_entities"],
            json!([
                { "__typename": "Article", "title": "B", "author": { "name": "Ann" } },
                { "__typename": "Author", "name": "Ann" },
                null,
                { "__typename": "Tag", "name": "AI" },
                { "__typename": "Article", "title": "A", "author": { "name": "Ann" } },
            ]),
            "a draft is not an entity the public can reach"
        );
    }
);

db_test!(
    async fn service_sdl_is_the_committed_subgraph_schema(app) {
        let data = app.graphql_ok("{ _service { sdl } }", json!({})).await;
        assert_eq!(
            data["_service"]["sdl"].as_str().unwrap().trim_end(),
            content_api::graphql::subgraph_sdl().trim_end()
        );
    }
);

db_test!(
    async fn malformed_representations_are_refused_with_a_code(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        for (reps, expected) in [
            (json!([{ "__typename": "Article", "id": "not-an-id" }]), "BAD_USER_INPUT"),
            (json!([rep("Article", "Author", ann.id)]), "BAD_USER_INPUT"),
            (json!([{ "__typename": "Nope", "id": "x" }]), "GRAPHQL_VALIDATION_FAILED"),
            (json!([{ "id": "x" }]), "GRAPHQL_VALIDATION_FAILED"),
        ] {
            let resp = app.graphql(ENTITIES, json!({ "r": reps })).await;
            let code = resp["errors"][0]["extensions"]["code"].as_str();
            assert_eq!(code, Some(expected), "{reps}: {resp:#}");
        }
    }
);
