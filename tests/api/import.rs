//! Import of the sample format: every field, idempotence, updates in place, bad files.

use std::fs;

use serde_json::json;

use crate::helpers::samples_dir;

const ARTICLE_FIELDS: &str = r#"
query ($slug: String!) {
  article(slug: $slug) {
    title category status publishedAt summary coverImageUrl originalUrl
    readingTimeMinutes wordCount
    stats { views comments collects likes }
    author { name slug profileUrl }
    tags { name slug }
    markdown: body(format: MARKDOWN)
  }
}"#;

db_test!(
    async fn import_reads_every_field_of_the_reference_article(app) {
        // Arrange
        let report = app.import_samples().await;
        assert_eq!((report.imported, report.updated, report.failures.len()), (4, 0, 0));

        // Act
        let data = app
            .graphql_ok(ARTICLE_FIELDS, json!({ "slug": "woshipm-6183097" }))
            .await;

        // Assert
        let a = &data["article"];
        assert_eq!(a["title"], "写在DeepSeek持续发酵背后：中国互联网大厂的想象力还在吗？");
        assert_eq!(a["category"], "It");
        assert_eq!(a["status"], "PUBLISHED");
        assert!(a["publishedAt"].as_str().unwrap().starts_with("2025-02-21T00:00:00"));
        assert!(a["summary"].as_str().unwrap().starts_with("如果说在AI技术尚不足以构成产品内核的如今"));
        assert_eq!(
            a["coverImageUrl"],
            "https://image.woshipm.com/2023/04/13/d34ae8a8-d9e1-11ed-9d7a-00163e0b5ff3.jpg"
        );
        assert_eq!(a["originalUrl"], "https://www.woshipm.com/it/6183097.html");
        assert_eq!(a["readingTimeMinutes"], 18);
        assert_eq!(a["stats"], json!({ "views": 1897, "comments": 0, "collects": 2, "likes": 1 }));
        assert_eq!(a["author"]["name"], "产业家");
        assert_eq!(a["author"]["profileUrl"], "https://www.woshipm.com/u/1315455");
        let tags: Vec<&str> = a["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(tags, ["DeepSeek", "互联网大厂", "行业观察"]);
        let body = a["markdown"].as_str().unwrap();
        assert!(body.contains("碎发，银框眼镜"));
        assert!(body.contains("## 一、DeepSeek，共识背后的“共振”"));
        for chrome in ["ke.qidianla.com", "1897 浏览", "赞赏", "二维码", "分享到微博", "/tag/", "72x72", "更多精彩内容"] {
            assert!(!body.contains(chrome), "body still contains site chrome {chrome:?}");
        }
        // CJK-aware: thousands of words for a long Chinese article, not a few hundred.
        assert!(a["wordCount"].as_i64().unwrap() > 3000, "wordCount = {}", a["wordCount"]);
    }
);

db_test!(
    async fn import_reads_the_key_fields_of_every_sample(app) {
        app.import_samples().await;
        let cases = [
            ("woshipm-6183097", "产业家", 3, 1897, 2, 1, 18),
            ("woshipm-6190001", "林间一叶", 4, 5321, 86, 23, 9),
            ("woshipm-6200417", "产业家", 3, 2410, 41, 9, 6),
            ("woshipm-6211950", "Mara Lindqvist", 3, 980, 17, 5, 4),
        ];
        for (slug, author, tags, views, collects, likes, minutes) in cases {
            let a = &app.graphql_ok(ARTICLE_FIELDS, json!({ "slug": slug })).await["article"];
            assert_eq!(a["author"]["name"], author, "{slug}");
            assert_eq!(a["tags"].as_array().unwrap().len(), tags, "{slug}");
            assert_eq!(a["stats"]["views"], views, "{slug}");
            assert_eq!(a["stats"]["collects"], collects, "{slug}");
            assert_eq!(a["stats"]["likes"], likes, "{slug}");
            assert_eq!(a["readingTimeMinutes"], minutes, "{slug}");
        }
        // The two 产业家 articles share one author (same profile URL).
        let data = app
            .graphql_ok(r#"{ authors { totalCount edges { node { name articleCount } } } }"#, json!({}))
            .await;
        assert_eq!(data["authors"]["totalCount"], 3);
    }
);

db_test!(
    async fn reimporting_unchanged_files_changes_nothing(app) {
        app.import_samples().await;
        let before = app
            .graphql_ok(r#"{ articles { totalCount } tags { totalCount } authors { totalCount } }"#, json!({}))
            .await;

        let report = app.import_samples().await;

        assert_eq!((report.imported, report.updated, report.unchanged), (0, 0, 4));
        let after = app
            .graphql_ok(r#"{ articles { totalCount } tags { totalCount } authors { totalCount } }"#, json!({}))
            .await;
        assert_eq!(before, after);
    }
);

db_test!(
    async fn reimporting_a_changed_file_updates_the_article_in_place(app) {
        // Arrange
        let dir = tempfile::tempdir().unwrap();
        let original = fs::read_to_string(samples_dir().join("woshipm-6190001.md")).unwrap();
        let path = dir.path().join("a.md");
        fs::write(&path, &original).unwrap();
        content_api::import::import_paths(&app.db, std::slice::from_ref(&path)).await;
        let q = r#"{ article(slug: "woshipm-6190001") { id stats { views likes } tags { slug } body } }"#;
        let first = app.graphql_ok(q, json!({})).await;

        // Act: new stats, one tag dropped and one added, an extra paragraph.
        let changed = original
            .replace("👁️ 5321 views", "👁️ 6000 views")
            .replace("点赞已赞23", "点赞已赞30")
            .replace("`内容中台` `B端产品` `产品经理` `复盘`", "`复盘` `内容中台` `GraphQL`")
            .replace("## 四、写在最后", "新增的一段。\n\n## 四、写在最后");
        fs::write(&path, changed).unwrap();
        let report = content_api::import::import_paths(&app.db, &[path]).await;

        // Assert
        assert_eq!((report.imported, report.updated), (0, 1));
        let second = app.graphql_ok(q, json!({})).await;
        assert_eq!(second["article"]["id"], first["article"]["id"], "same article, not a duplicate");
        assert_eq!(second["article"]["stats"], json!({ "views": 6000, "likes": 30 }));
        let tags: Vec<&str> = second["article"]["tags"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
        assert_eq!(tags, ["复盘", "内容中台", "graphql"]);
        assert!(second["article"]["body"].as_str().unwrap().contains("新增的一段。"));
        let total = app.graphql_ok("{ articles { totalCount } }", json!({})).await;
        assert_eq!(total["articles"]["totalCount"], 1);
    }
);

db_test!(
    async fn bad_files_are_reported_by_name_and_the_others_still_import(app) {
        // Arrange
        let dir = tempfile::tempdir().unwrap();
        let good = fs::read_to_string(samples_dir().join("woshipm-6211950.md")).unwrap();
        fs::write(dir.path().join("1-good.md"), &good).unwrap();
        fs::write(dir.path().join("2-no-metadata.md"), "# Just a title\n\nSome text.\n").unwrap();
        fs::write(
            dir.path().join("3-bad-date.md"),
            good.replace("**Published:** 2025-04-02", "**Published:** 2025-13-45"),
        )
        .unwrap();
        fs::write(dir.path().join("4-binary.md"), [0xff_u8, 0xfe, 0x00, 0x9f]).unwrap();
        fs::write(dir.path().join("ignored.txt"), "not markdown").unwrap();

        // Act
        let report = content_api::import::import_paths(&app.db, &[dir.path().to_path_buf()]).await;

        // Assert
        assert_eq!(report.imported, 1);
        assert_eq!(report.failures.len(), 3, "{:?}", report.failures);
        let text: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        assert!(text[0].contains("2-no-metadata.md") && text[0].contains("metadata"), "{}", text[0]);
        assert!(text[1].contains("3-bad-date.md") && text[1].contains("line 5") && text[1].contains("2025-13-45"), "{}", text[1]);
        assert!(text[2].contains("4-binary.md") && text[2].contains("UTF-8"), "{}", text[2]);
        assert_eq!(report.to_string(), "imported 1, updated 0, failed 3");
    }
);

db_test!(
    async fn tags_differing_only_in_case_are_one_tag(app) {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::read_to_string(samples_dir().join("woshipm-6211950.md")).unwrap();
        fs::write(dir.path().join("a.md"), &base).unwrap();
        fs::write(
            dir.path().join("b.md"),
            base.replace("6211950", "6211951").replace("`GraphQL`", "`graphql`"),
        )
        .unwrap();

        content_api::import::import_paths(&app.db, &[dir.path().to_path_buf()]).await;

        let data = app
            .graphql_ok(r#"{ tag(slug: "GRAPHQL") { slug name articleCount } }"#, json!({}))
            .await;
        assert_eq!(data["tag"], json!({ "slug": "graphql", "name": "GraphQL", "articleCount": 2 }));
    }
);

db_test!(
    async fn authors_are_keyed_by_profile_url_not_name(app) {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::read_to_string(samples_dir().join("woshipm-6211950.md")).unwrap();
        fs::write(dir.path().join("a.md"), &base).unwrap();
        fs::write(
            dir.path().join("b.md"),
            base.replace("6211950", "6211951").replace("/u/3310042", "/u/999"),
        )
        .unwrap();

        content_api::import::import_paths(&app.db, &[dir.path().to_path_buf()]).await;

        let data = app
            .graphql_ok(r#"{ authors { edges { node { slug name profileUrl articleCount } } } }"#, json!({}))
            .await;
        let authors = data["authors"]["edges"].as_array().unwrap();
        assert_eq!(authors.len(), 2, "{data}");
        assert_eq!(authors[0]["node"]["name"], "Mara Lindqvist");
        assert_eq!(authors[1]["node"]["name"], "Mara Lindqvist");
        assert_ne!(authors[0]["node"]["slug"], authors[1]["node"]["slug"]);
        assert_eq!(authors[0]["node"]["articleCount"], 1);
    }
);
