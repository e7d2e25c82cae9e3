//! Test harness: `TestApp` (router + database), data builders, and the `db_test!` macro that
//! runs one test body on every configured backend.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use chrono::{DateTime, Duration, Utc};
use content_api::{config::Config, db, http::router, import};
use entity::{article, article_tag, author, tag};
use http_body_util::BodyExt;
use migration::MigratorTrait;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, Set};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Runs the body once per backend: `mod name { fn sqlite(); fn postgres(); }`.
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            async fn run($app: $crate::helpers::TestApp) $body

            // Multi-threaded: a transaction dropped on an error path rolls back in a spawned task,
            // which must be able to run while the test thread waits on schema cleanup.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::helpers::TestApp::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::TestApp::postgres().await {
                    run(app).await;
                }
            }
        }
    };
}

/// The sample articles shipped with the repository.
pub fn samples_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
}

/// Cleans up a test database when the test ends (even when it panics).
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, schema } = self {
            let (url, schema) = (admin_url.clone(), schema.clone());
            // Drop runs inside the test's runtime; use a separate thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = sea_orm::Database::connect(&url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                r#"DROP SCHEMA IF EXISTS "{schema}" CASCADE"#
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The application under test.
pub struct TestApp {
    pub router: Router,
    pub db: DatabaseConnection,
    pub config: Config,
    /// The database URL (for Postgres, with the test's schema as `search_path`).
    pub url: String,
    statements: Arc<AtomicUsize>,
    sql: Arc<std::sync::Mutex<Vec<String>>>,
    _cleanup: Cleanup,
}

impl TestApp {
    /// A fresh SQLite database in a temp folder.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        Self::start(&url, Cleanup::Sqlite(dir)).await
    }

    /// A fresh schema in the Postgres database named by `TEST_DATABASE_URL`; `None` (skipped)
    /// when it is unset outside CI. In CI a missing variable fails the test.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "TEST_DATABASE_URL must be set in CI"
            );
            eprintln!("skipped: TEST_DATABASE_URL is not set");
            return None;
        };
        let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&admin_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!(r#"CREATE SCHEMA "{schema}""#))
            .await
            .expect("create test schema");
        admin.close().await.expect("close admin connection");
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(Self::start(&url, Cleanup::Postgres { admin_url, schema }).await)
    }

    async fn start(url: &str, cleanup: Cleanup) -> Self {
        let mut db = db::connect(url, 5).await.expect("connect test database");
        migration::Migrator::up(&db, None).await.expect("migrate");
        let statements = Arc::new(AtomicUsize::new(0));
        let sql = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counter, log) = (statements.clone(), sql.clone());
        db.set_metric_callback(move |info| {
            if std::env::var_os("DEBUG_SQL").is_some() {
                eprintln!(
                    "SQL: {}",
                    info.statement.sql.chars().take(120).collect::<String>()
                );
            }
            counter.fetch_add(1, Ordering::SeqCst);
            log.lock().unwrap().push(info.statement.sql.clone());
        });
        let mut config = Config::defaults();
        // Tests write rows directly between requests, which the response cache (like any HTTP
        // cache) does not see; the tests of that cache turn it on.
        config.response_cache_bytes = 0;
        Self {
            router: router(db.clone(), &config),
            db,
            config,
            url: url.to_owned(),
            statements,
            sql,
            _cleanup: cleanup,
        }
    }

    /// Rebuilds the router with a changed configuration.
    pub fn reconfigure(&mut self, change: impl FnOnce(&mut Config)) {
        change(&mut self.config);
        self.router = router(self.db.clone(), &self.config);
    }

    /// SQL statements run since the last reset.
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    /// Starts counting (and recording) statements from zero.
    pub fn reset_statements(&self) {
        self.statements.store(0, Ordering::SeqCst);
        self.sql.lock().unwrap().clear();
    }

    /// The SQL text of the statements run since the last reset.
    pub fn sql_log(&self) -> Vec<String> {
        self.sql.lock().unwrap().clone()
    }

    /// Imports the shipped samples.
    pub async fn import_samples(&self) -> import::ImportReport {
        import::import_paths(&self.db, &[samples_dir()]).await
    }

    /// Sends a raw HTTP request to the router.
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs a GraphQL query and returns the JSON response (asserting HTTP 200).
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        let (status, _, body) = self.send(req).await;
        assert_eq!(status, StatusCode::OK, "body: {body}");
        serde_json::from_str(&body).expect("JSON response")
    }

    /// POSTs a GraphQL query with `Authorization: Bearer <token>`; returns status and JSON.
    pub async fn graphql_as(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body))
            .expect("request");
        let (status, _, body) = self.send(req).await;
        (status, serde_json::from_str(&body).expect("JSON response"))
    }

    /// Like `graphql`, asserting there are no errors; returns `data`.
    pub async fn graphql_ok(&self, query: &str, variables: Value) -> Value {
        let resp = self.graphql(query, variables).await;
        assert!(resp.get("errors").is_none(), "unexpected errors: {resp:#}");
        resp["data"].clone()
    }
}

/// The `extensions.code` of the first error.
pub fn error_code(resp: &Value) -> Option<&str> {
    resp["errors"][0]["extensions"]["code"].as_str()
}

/// Inserts an author.
pub async fn insert_author(db: &DatabaseConnection, slug: &str, name: &str) -> author::Model {
    let now = Utc::now();
    author::ActiveModel {
        slug: Set(slug.into()),
        name: Set(name.into()),
        profile_url: Set(Some(format!("https://example.com/u/{slug}"))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert author")
}

/// Inserts a tag.
pub async fn insert_tag(db: &DatabaseConnection, slug: &str, name: &str) -> tag::Model {
    tag::ActiveModel {
        slug: Set(slug.into()),
        name: Set(name.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert tag")
}

/// Builds test articles: `ArticleBuilder::new(author.id, "slug").title("…").insert(&db)`.
pub struct ArticleBuilder {
    model: article::ActiveModel,
    tags: Vec<i32>,
}

impl ArticleBuilder {
    /// A published article (published a day ago) with a short body.
    pub fn new(author_id: i32, slug: &str) -> Self {
        let now = Utc::now();
        Self {
            model: article::ActiveModel {
                slug: Set(slug.into()),
                title: Set(format!("Title of {slug}")),
                summary: Set(None),
                body: Set("Body text.".into()),
                body_html: Set("<p>Body text.</p>".into()),
                category: Set(Some("Product".into())),
                status: Set(article::Status::Published),
                published_at: Set(Some(now - Duration::days(1))),
                author_id: Set(author_id),
                cover_image_url: Set(None),
                original_url: Set(None),
                reading_time_minutes: Set(1),
                word_count: Set(2),
                view_count: Set(0),
                like_count: Set(0),
                collect_count: Set(0),
                comment_count: Set(0),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            },
            tags: Vec::new(),
        }
    }

    pub fn title(mut self, t: &str) -> Self {
        self.model.title = Set(t.into());
        self
    }
    pub fn category(mut self, c: &str) -> Self {
        self.model.category = Set(Some(c.into()));
        self
    }
    pub fn published_at(mut self, at: DateTime<Utc>) -> Self {
        self.model.published_at = Set(Some(at));
        self
    }
    pub fn status(mut self, s: article::Status) -> Self {
        self.model.status = Set(s);
        self
    }
    pub fn views(mut self, n: i64) -> Self {
        self.model.view_count = Set(n);
        self
    }
    pub fn likes(mut self, n: i64) -> Self {
        self.model.like_count = Set(n);
        self
    }
    /// Sets the markdown body and its rendering, as a write through the domain would.
    pub fn body(mut self, markdown: &str) -> Self {
        self.model.body = Set(markdown.into());
        self.model.body_html = Set(content_api::domain::markdown::render_html(markdown));
        self
    }
    pub fn tags(mut self, ids: &[i32]) -> Self {
        self.tags = ids.to_vec();
        self
    }

    pub async fn insert(self, db: &DatabaseConnection) -> article::Model {
        let model = self.model.insert(db).await.expect("insert article");
        for (pos, tag_id) in self.tags.iter().enumerate() {
            article_tag::ActiveModel {
                article_id: Set(model.id),
                tag_id: Set(*tag_id),
                position: Set(pos as i32),
            }
            .insert(db)
            .await
            .expect("insert article tag");
        }
        model
    }
}
