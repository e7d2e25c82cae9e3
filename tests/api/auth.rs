//! API keys and roles: who may read what.

use content_api::domain::auth;
use entity::{api_key::Role, article::Status};
use serde_json::json;

use crate::helpers::{ArticleBuilder, error_code, insert_author};

db_test!(
    async fn viewer_reports_the_role_and_author_of_the_key(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();
        let (_, author) = auth::create_key(&app.db, Role::Author, Some("ann"), "ann").await.unwrap();
        let q = "{ viewer { role author { slug } } }";

        let anonymous = app.graphql_ok(q, json!({})).await;
        let (s1, as_editor) = app.graphql_as(&editor, q, json!({})).await;
        let (s2, as_author) = app.graphql_as(&author, q, json!({})).await;

        assert_eq!(anonymous["viewer"], json!({ "role": "ANONYMOUS", "author": null }));
        assert_eq!((s1.as_u16(), s2.as_u16()), (200, 200));
        assert_eq!(as_editor["data"]["viewer"], json!({ "role": "EDITOR", "author": null }));
        assert_eq!(as_author["data"]["viewer"], json!({ "role": "AUTHOR", "author": { "slug": ann.slug } }));
    }
);

db_test!(
    async fn wrong_malformed_and_revoked_tokens_are_unauthenticated(app) {
        let (key, token) = auth::create_key(&app.db, Role::Admin, None, "ops").await.unwrap();
        let q = "{ viewer { role } }";
        for bad in ["cak_not-a-real-token", "nonsense", ""] {
            let (status, resp) = app.graphql_as(bad, q, json!({})).await;
            assert_eq!(status, 401, "token {bad:?}");
            assert_eq!(error_code(&resp), Some("UNAUTHENTICATED"), "token {bad:?}");
            assert!(resp.get("data").is_none());
        }

        auth::revoke_key(&app.db, key.id).await.unwrap();
        let (status, resp) = app.graphql_as(&token, q, json!({})).await;

        assert_eq!(status, 401);
        assert_eq!(error_code(&resp), Some("UNAUTHENTICATED"));
    }
);

db_test!(
    async fn only_a_hash_of_the_token_is_stored(app) {
        let (key, token) = auth::create_key(&app.db, Role::Editor, None, "x").await.unwrap();
        assert!(token.starts_with("cak_") && token.len() > 40);
        assert_ne!(key.token_hash, token);
        assert!(!key.token_hash.contains(&token[4..]));
        assert_eq!(key.token_hash.len(), 64);
    }
);

db_test!(
    async fn an_author_key_needs_an_existing_author(app) {
        let none = auth::create_key(&app.db, Role::Author, None, "x").await.unwrap_err();
        assert_eq!(none.code(), "BAD_USER_INPUT");
        let missing = auth::create_key(&app.db, Role::Author, Some("ghost"), "x").await.unwrap_err();
        assert_eq!(missing.code(), "NOT_FOUND");
        let stray = auth::create_key(&app.db, Role::Editor, Some("ghost"), "x").await.unwrap_err();
        assert_eq!(stray.code(), "BAD_USER_INPUT");
    }
);

db_test!(
    async fn editors_see_drafts_authors_see_their_own_anonymous_sees_neither(app) {
        // Arrange
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let bob = insert_author(&app.db, "bob", "Bob").await;
        ArticleBuilder::new(ann.id, "ann-public").insert(&app.db).await;
        ArticleBuilder::new(ann.id, "ann-draft").status(Status::Draft).insert(&app.db).await;
        ArticleBuilder::new(bob.id, "bob-draft").status(Status::Draft).insert(&app.db).await;
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "").await.unwrap();
        let (_, ann_key) = auth::create_key(&app.db, Role::Author, Some("ann"), "").await.unwrap();
        let q = r#"{ articles(orderBy: { field: TITLE }) { totalCount edges { node { slug status } } }
                     author(slug: "ann") { articleCount } }"#;
        let slugs = |v: &serde_json::Value| -> Vec<String> {
            v["data"]["articles"]["edges"].as_array().unwrap().iter()
                .map(|e| e["node"]["slug"].as_str().unwrap().to_owned()).collect()
        };

        // Act
        let anonymous = app.graphql(q, json!({})).await;
        let (_, as_editor) = app.graphql_as(&editor, q, json!({})).await;
        let (_, as_ann) = app.graphql_as(&ann_key, q, json!({})).await;

        // Assert
        assert_eq!(slugs(&anonymous), ["ann-public"]);
        assert_eq!(anonymous["data"]["author"]["articleCount"], 1);
        assert_eq!(slugs(&as_editor), ["ann-draft", "ann-public", "bob-draft"]);
        assert_eq!(as_editor["data"]["articles"]["totalCount"], 3);
        assert_eq!(as_editor["data"]["author"]["articleCount"], 2);
        assert_eq!(slugs(&as_ann), ["ann-draft", "ann-public"]);
        let (_, other) = app.graphql_as(&ann_key, r#"{ article(slug: "bob-draft") { slug } }"#, json!({})).await;
        assert_eq!(error_code(&other), Some("NOT_FOUND"));
        let hidden = app.graphql(r#"{ article(slug: "ann-draft") { slug } }"#, json!({})).await;
        assert_eq!(error_code(&hidden), Some("NOT_FOUND"));
    }
);

db_test!(
    async fn admins_manage_keys_over_graphql(app) {
        insert_author(&app.db, "ann", "Ann").await;
        let (_, admin) = auth::create_key(&app.db, Role::Admin, None, "root").await.unwrap();
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();
        let create = r#"mutation { createApiKey(role: AUTHOR, authorSlug: "ann", name: "ann's") { token key { id role tokenPrefix } } }"#;

        let (_, refused) = app.graphql_as(&editor, create, json!({})).await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"));
        let (_, refused) = app.graphql_as(&editor, "{ apiKeys { id } }", json!({})).await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"));

        let (_, created) = app.graphql_as(&admin, create, json!({})).await;
        let token = created["data"]["createApiKey"]["token"].as_str().unwrap().to_owned();
        let key_id = created["data"]["createApiKey"]["key"]["id"].clone();
        let (_, me) = app.graphql_as(&token, "{ viewer { role author { slug } } }", json!({})).await;
        assert_eq!(me["data"]["viewer"], json!({ "role": "AUTHOR", "author": { "slug": "ann" } }));

        let (_, listed) = app.graphql_as(&admin, "{ apiKeys { id name role revokedAt } }", json!({})).await;
        assert_eq!(listed["data"]["apiKeys"].as_array().unwrap().len(), 3);
        assert!(!listed.to_string().contains(&token), "tokens are never listed");

        let (_, revoked) = app
            .graphql_as(&admin, "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", json!({ "id": key_id }))
            .await;
        assert!(revoked["data"]["revokeApiKey"]["revokedAt"].is_string(), "{revoked}");
        let (status, _) = app.graphql_as(&token, "{ viewer { role } }", json!({})).await;
        assert_eq!(status, 401);
    }
);
