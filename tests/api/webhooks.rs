//! Webhooks: admin API, the outbox written with each change, and workers delivering to a
//! local receiver (retries, failure, leases, concurrent workers).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use content_api::{
    domain::{auth, webhook::RetryPolicy},
    graphql::types::{NodeId, NodeKind},
    webhook::{Worker, WorkerSettings},
};
use entity::{api_key::Role, article::Status};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::watch;

use crate::helpers::{ArticleBuilder, TestApp, error_code, insert_author};

const SECRET: &str = "whsec_0123456789abcdef";

/// Every test finishes well within this; it only bounds a broken one.
const PATIENCE: Duration = Duration::from_secs(10);

/// An HTTP endpoint on 127.0.0.1 that answers 500 to the first `fail_first` requests, then 200,
/// and keeps every request it got.
struct Receiver {
    fail_first: usize,
    requests: Mutex<Vec<(HeaderMap, String)>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (String, Arc<Self>) {
        let state = Arc::new(Self {
            fail_first,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/hook"), state)
    }

    fn requests(&self) -> Vec<(HeaderMap, String)> {
        self.requests.lock().unwrap().clone()
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let mut requests = receiver.requests.lock().unwrap();
    requests.push((headers, body));
    if requests.len() <= receiver.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// Millisecond backoff and the given lease, so that retries take no real time.
fn fast_settings(max_attempts: u32, lease: Duration) -> WorkerSettings {
    WorkerSettings {
        poll_interval: Duration::from_millis(20),
        lease,
        timeout: Duration::from_secs(2),
        batch_size: 16,
        retry: RetryPolicy {
            max_attempts,
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(40),
        },
    }
}

async fn admin(app: &TestApp) -> String {
    auth::create_key(&app.db, Role::Admin, None, "root")
        .await
        .unwrap()
        .1
}

async fn gql(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let (_, resp) = app.graphql_as(token, query, variables).await;
    assert!(resp.get("errors").is_none(), "unexpected errors: {resp:#}");
    resp["data"].clone()
}

const CREATE: &str = "mutation($input: CreateWebhookInput!) {
    createWebhook(input: $input) { id url events secretPrefix } }";

async fn create_webhook(app: &TestApp, token: &str, url: &str, events: &[&str]) -> String {
    let data = gql(
        app,
        token,
        CREATE,
        json!({ "input": { "url": url, "secret": SECRET, "events": events } }),
    )
    .await;
    data["createWebhook"]["id"].as_str().unwrap().to_owned()
}

const DELIVERIES: &str = "query($webhookId: ID, $status: WebhookDeliveryStatus) {
    webhookDeliveries(webhookId: $webhookId, status: $status, first: 100) {
        nodes { id eventId event status attemptCount payload deliveredAt
                attempts { statusCode error durationMs } }
        hasNextPage endCursor } }";

async fn deliveries(app: &TestApp, token: &str) -> Vec<Value> {
    let data = gql(app, token, DELIVERIES, json!({})).await;
    data["webhookDeliveries"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

/// Runs `worker` until every delivery is `status` (and there are `count` of them).
async fn settle(
    app: &TestApp,
    token: &str,
    worker: &Worker,
    count: usize,
    status: &str,
) -> Vec<Value> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        worker.run_once().await.unwrap();
        let nodes = deliveries(app, token).await;
        if nodes.len() == count && nodes.iter().all(|n| n["status"] == status) {
            return nodes;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries did not settle: {nodes:#?}"
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

async fn draft(app: &TestApp, slug: &str) -> (i32, String) {
    let author = insert_author(&app.db, &format!("author-{slug}"), "Author").await;
    let article = ArticleBuilder::new(author.id, slug)
        .status(Status::Draft)
        .insert(&app.db)
        .await;
    (article.id, NodeId::encode(NodeKind::Article, article.id).0)
}

async fn publish(app: &TestApp, token: &str, id: &str) {
    gql(
        app,
        token,
        "mutation($id: ID!) { publishArticle(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
}

fn hex_hmac(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

db_test! {
    async fn a_failing_receiver_gets_the_event_on_retry_with_a_valid_signature(app) {
        // Arrange: a receiver that fails twice, an endpoint for publications, a draft.
        let token = admin(&app).await;
        let (url, receiver) = Receiver::start(2).await;
        create_webhook(&app, &token, &url, &["ARTICLE_PUBLISHED"]).await;
        let (_, article_id) = draft(&app, "hello").await;
        let worker = Worker::new(app.db.clone(), fast_settings(8, Duration::from_secs(5))).unwrap();

        // Act
        publish(&app, &token, &article_id).await;
        let nodes = settle(&app, &token, &worker, 1, "DELIVERED").await;

        // Assert: three attempts recorded, the last one 2xx.
        let delivery = &nodes[0];
        assert_eq!(delivery["attemptCount"], 3);
        let codes: Vec<&Value> = delivery["attempts"].as_array().unwrap().iter().map(|a| &a["statusCode"]).collect();
        assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
        assert_eq!(delivery["attempts"][0]["error"], "HTTP 500");
        assert!(delivery["deliveredAt"].is_string());

        // The receiver got the same signed payload three times.
        let requests = receiver.requests();
        assert_eq!(requests.len(), 3);
        let (headers, body) = requests.last().unwrap();
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["type"], "ARTICLE_PUBLISHED");
        assert_eq!(payload["data"]["article"]["id"], article_id.as_str());
        assert_eq!(payload["data"]["article"]["slug"], "hello");
        assert_eq!(payload["data"]["article"]["title"], "Title of hello");
        assert_eq!(payload["data"]["article"]["status"], "PUBLISHED");
        assert!(payload["data"]["article"]["publishedAt"].is_string());
        assert!(payload["occurredAt"].is_string());
        assert!(payload["data"]["article"].get("body").is_none(), "no bodies in payloads");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["webhook-id"], payload["id"].as_str().unwrap());
        assert_eq!(delivery["eventId"], payload["id"]);
        let timestamp = headers["webhook-timestamp"].to_str().unwrap();
        assert!(timestamp.parse::<i64>().is_ok(), "{timestamp}");
        assert_eq!(
            headers["webhook-signature"].to_str().unwrap(),
            format!("v1={}", hex_hmac(SECRET, &format!("{timestamp}.{body}")))
        );
    }
}

db_test! {
    async fn a_delivery_is_marked_failed_once_max_attempts_are_used(app) {
        // Arrange: a receiver that always fails, three attempts allowed.
        let token = admin(&app).await;
        let (url, receiver) = Receiver::start(usize::MAX).await;
        create_webhook(&app, &token, &url, &["ARTICLE_PUBLISHED"]).await;
        let (_, article_id) = draft(&app, "doomed").await;
        let worker = Worker::new(app.db.clone(), fast_settings(3, Duration::from_secs(5))).unwrap();

        // Act
        publish(&app, &token, &article_id).await;
        let nodes = settle(&app, &token, &worker, 1, "FAILED").await;

        // Assert: no more attempts after the last one.
        assert_eq!(nodes[0]["attemptCount"], 3);
        assert_eq!(nodes[0]["attempts"].as_array().unwrap().len(), 3);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(worker.run_once().await.unwrap(), 0);
        assert_eq!(receiver.requests().len(), 3);
    }
}

db_test! {
    async fn a_change_that_does_not_commit_records_no_event(app) {
        // Arrange
        let token = admin(&app).await;
        create_webhook(&app, &token, "http://127.0.0.1:9/hook", &["ARTICLE_UPDATED"]).await;
        let (_, article_id) = draft(&app, "versioned").await;
        let update = "mutation($id: ID!, $v: Int!) {
            updateArticle(id: $id, expectedVersion: $v, input: { title: \"New\" }) { version } }";

        // Act: a stale version is refused.
        let (_, stale) = app.graphql_as(&token, update, json!({ "id": article_id, "v": 99 })).await;

        // Assert: nothing queued; the same update at the right version queues one event.
        assert_eq!(error_code(&stale), Some("CONFLICT"), "{stale:#}");
        assert!(deliveries(&app, &token).await.is_empty());
        gql(&app, &token, update, json!({ "id": article_id, "v": 1 })).await;
        let nodes = deliveries(&app, &token).await;
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0]["event"], "ARTICLE_UPDATED");
        assert_eq!(nodes[0]["status"], "PENDING");
    }
}

db_test! {
    async fn each_article_change_queues_its_event_for_subscribed_endpoints_only(app) {
        // Arrange: one endpoint for everything, one for deletions only.
        let token = admin(&app).await;
        let all = ["ARTICLE_PUBLISHED", "ARTICLE_UPDATED", "ARTICLE_UNPUBLISHED", "ARTICLE_DELETED"];
        let everything = create_webhook(&app, &token, "http://127.0.0.1:9/all", &all).await;
        let deletions = create_webhook(&app, &token, "http://127.0.0.1:9/del", &["ARTICLE_DELETED"]).await;
        let (_, id) = draft(&app, "lifecycle").await;
        let v = json!({ "id": id });

        // Act
        publish(&app, &token, &id).await;
        gql(&app, &token, "mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 2, input: { title: \"T\" }) { version } }", v.clone()).await;
        gql(&app, &token, "mutation($id: ID!) { unpublishArticle(id: $id) { status } }", v.clone()).await;
        gql(&app, &token, "mutation($id: ID!) { archiveArticle(id: $id) { status } }", v.clone()).await;
        gql(&app, &token, "mutation($id: ID!) { deleteArticle(id: $id) }", v.clone()).await;

        // Assert (newest first)
        let events = |hook: &str| {
            let app = &app;
            let token = &token;
            let hook = hook.to_owned();
            async move {
                let data = gql(app, token, DELIVERIES, json!({ "webhookId": hook })).await;
                data["webhookDeliveries"]["nodes"].as_array().unwrap().iter()
                    .map(|n| n["event"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            events(&everything).await,
            ["ARTICLE_DELETED", "ARTICLE_UNPUBLISHED", "ARTICLE_UNPUBLISHED", "ARTICLE_UPDATED", "ARTICLE_PUBLISHED"]
        );
        assert_eq!(events(&deletions).await, ["ARTICLE_DELETED"]);
        let deleted: Value = serde_json::from_str(
            deliveries(&app, &token).await[0]["payload"].as_str().unwrap(),
        ).unwrap();
        assert_eq!(deleted["data"]["article"]["slug"], "lifecycle");
        assert_eq!(deleted["data"]["article"]["status"], "ARCHIVED");
    }
}

db_test! {
    async fn a_scheduled_publish_queues_its_event_at_the_write(app) {
        // Arrange
        let token = admin(&app).await;
        create_webhook(&app, &token, "http://127.0.0.1:9/hook", &["ARTICLE_PUBLISHED"]).await;
        let (_, id) = draft(&app, "later").await;
        let at = "2999-01-01T00:00:00Z";

        // Act
        gql(&app, &token, "mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, publishAt: $at) { status } }",
            json!({ "id": id, "at": at })).await;

        // Assert
        let nodes = deliveries(&app, &token).await;
        assert_eq!(nodes.len(), 1);
        let payload: Value = serde_json::from_str(nodes[0]["payload"].as_str().unwrap()).unwrap();
        assert_eq!(payload["data"]["article"]["publishedAt"], at);
    }
}

db_test! {
    async fn a_claim_whose_worker_died_is_taken_over_once_its_lease_expires(app) {
        // Arrange: a delivery claimed by a worker that then "dies" (never finishes it).
        let token = admin(&app).await;
        let (url, receiver) = Receiver::start(0).await;
        create_webhook(&app, &token, &url, &["ARTICLE_PUBLISHED"]).await;
        let (_, id) = draft(&app, "orphan").await;
        publish(&app, &token, &id).await;
        let lease = Duration::from_millis(300);
        let dead = Worker::new(app.db.clone(), fast_settings(8, lease)).unwrap();
        let (_, claimed) = dead.claim().await.unwrap();
        assert_eq!(claimed.len(), 1);
        drop(dead);
        let survivor = Worker::new(app.db.clone(), fast_settings(8, lease)).unwrap();

        // Act + Assert: leased, so nothing to do; once the lease ran out, it is delivered.
        assert_eq!(survivor.run_once().await.unwrap(), 0);
        assert!(receiver.requests().is_empty());
        tokio::time::sleep(lease + Duration::from_millis(100)).await;
        let nodes = settle(&app, &token, &survivor, 1, "DELIVERED").await;
        assert_eq!(nodes[0]["attemptCount"], 1);
        assert_eq!(receiver.requests().len(), 1);
    }
}

db_test! {
    async fn redelivering_queues_the_event_again_with_the_same_id(app) {
        // Arrange: one delivered event.
        let token = admin(&app).await;
        let (url, receiver) = Receiver::start(0).await;
        create_webhook(&app, &token, &url, &["ARTICLE_PUBLISHED"]).await;
        let (_, id) = draft(&app, "again").await;
        publish(&app, &token, &id).await;
        let worker = Worker::new(app.db.clone(), fast_settings(8, Duration::from_secs(5))).unwrap();
        let first = settle(&app, &token, &worker, 1, "DELIVERED").await;

        // Act
        let data = gql(&app, &token, "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status attemptCount } }",
            json!({ "id": first[0]["id"] })).await;

        // Assert: a new pending delivery, then delivered; the receiver saw the same Webhook-Id twice.
        assert_eq!(data["redeliverWebhook"]["status"], "PENDING");
        assert_ne!(data["redeliverWebhook"]["id"], first[0]["id"]);
        settle(&app, &token, &worker, 2, "DELIVERED").await;
        let ids: Vec<String> = receiver.requests().iter()
            .map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0], ids[1]);
        let (_, missing) = app.graphql_as(&token, "mutation { redeliverWebhook(deliveryId: \"999999\") { id } }", json!({})).await;
        assert_eq!(error_code(&missing), Some("NOT_FOUND"));
    }
}

db_test! {
    async fn admins_manage_webhooks_and_never_see_the_secret_again(app) {
        // Arrange
        let token = admin(&app).await;

        // Act
        let (_, created) = app.graphql_as(&token, CREATE, json!({ "input": {
            "url": "https://hooks.example.com/in", "secret": SECRET, "events": ["ARTICLE_PUBLISHED"] } })).await;
        let id = created["data"]["createWebhook"]["id"].as_str().unwrap().to_owned();
        let updated = gql(&app, &token, "mutation($id: ID!) { updateWebhook(id: $id, input: {
            events: [ARTICLE_DELETED, ARTICLE_UPDATED] }) { url events } }", json!({ "id": id })).await;
        let listed = gql(&app, &token, "{ webhooks { id url events secretPrefix } }", json!({})).await;
        let deleted = gql(&app, &token, "mutation($id: ID!) { deleteWebhook(id: $id) }", json!({ "id": id })).await;
        let after = gql(&app, &token, "{ webhooks { id } }", json!({})).await;

        // Assert
        assert!(!created.to_string().contains(SECRET), "{created}");
        assert_eq!(created["data"]["createWebhook"]["secretPrefix"], "whse");
        assert_eq!(updated["updateWebhook"]["events"], json!(["ARTICLE_UPDATED", "ARTICLE_DELETED"]));
        assert_eq!(updated["updateWebhook"]["url"], "https://hooks.example.com/in");
        assert_eq!(listed["webhooks"][0]["id"], id.as_str());
        assert!(!listed.to_string().contains(SECRET));
        assert_eq!(deleted["deleteWebhook"], id.as_str());
        assert_eq!(after["webhooks"], json!([]));
        let (_, gone) = app.graphql_as(&token, "mutation($id: ID!) { deleteWebhook(id: $id) }", json!({ "id": id })).await;
        assert_eq!(error_code(&gone), Some("NOT_FOUND"));
    }
}

db_test! {
    async fn webhook_input_is_validated_field_by_field(app) {
        let token = admin(&app).await;
        let cases = [
            (json!({ "url": "ftp://example.com/x", "secret": SECRET, "events": ["ARTICLE_PUBLISHED"] }), "input.url"),
            (json!({ "url": "/relative", "secret": SECRET, "events": ["ARTICLE_PUBLISHED"] }), "input.url"),
            (json!({ "url": "", "secret": SECRET, "events": ["ARTICLE_PUBLISHED"] }), "input.url"),
            (json!({ "url": "http://example.com", "secret": "short", "events": ["ARTICLE_PUBLISHED"] }), "input.secret"),
            (json!({ "url": "http://example.com", "secret": SECRET, "events": [] }), "input.events"),
        ];
        for (input, field) in cases {
            let (_, resp) = app.graphql_as(&token, CREATE, json!({ "input": input })).await;
            assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"), "{input}: {resp:#}");
            assert_eq!(resp["errors"][0]["extensions"]["field"], field, "{input}");
        }
        let (_, resp) = app.graphql_as(&token, "mutation { updateWebhook(id: \"1\", input: { url: \"nope\" }) { id } }", json!({})).await;
        assert_eq!(resp["errors"][0]["extensions"]["field"], "input.url", "{resp:#}");
        let listed = gql(&app, &token, "{ webhooks { id } }", json!({})).await;
        assert_eq!(listed["webhooks"], json!([]), "nothing invalid was stored");
    }
}

db_test! {
    async fn only_admins_may_manage_webhooks(app) {
        // Arrange
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();
        let input = json!({ "input": { "url": "http://example.com", "secret": SECRET, "events": ["ARTICLE_PUBLISHED"] } });
        let operations = [
            (CREATE, input),
            ("{ webhooks { id } }", json!({})),
            ("{ webhookDeliveries { nodes { id } } }", json!({})),
            ("mutation { deleteWebhook(id: \"1\") }", json!({})),
            ("mutation { redeliverWebhook(deliveryId: \"1\") { id } }", json!({})),
        ];

        for (query, variables) in operations {
            // Act
            let (_, as_editor) = app.graphql_as(&editor, query, variables.clone()).await;
            let anonymous = app.graphql(query, variables).await;

            // Assert
            assert_eq!(error_code(&as_editor), Some("FORBIDDEN"), "{query}: {as_editor:#}");
            assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"), "{query}: {anonymous:#}");
        }
    }
}

/// Two workers polling one Postgres database: SKIP LOCKED claims split the outbox between them
/// and every event reaches the receiver exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_postgres_deliver_each_event_exactly_once() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    // Arrange: 12 published articles, one event each.
    let token = admin(&app).await;
    let (url, receiver) = Receiver::start(0).await;
    create_webhook(&app, &token, &url, &["ARTICLE_PUBLISHED"]).await;
    for n in 0..12 {
        let (_, id) = draft(&app, &format!("a{n}")).await;
        publish(&app, &token, &id).await;
    }
    let (stop, stopping) = watch::channel(false);
    let mut settings = fast_settings(8, Duration::from_secs(5));
    settings.batch_size = 2;

    // Act: two workers race for the same rows.
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let worker = Worker::new(app.db.clone(), settings).unwrap();
            tokio::spawn(worker.run(stopping.clone()))
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while receiver.requests().len() < 12 {
        assert!(
            Instant::now() < deadline,
            "only {} delivered",
            receiver.requests().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Give a duplicate, if there were one, the time to arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send_replace(true);
    for w in workers {
        w.await.unwrap();
    }

    // Assert
    let mut ids: Vec<String> = receiver
        .requests()
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(receiver.requests().len(), 12);
    assert_eq!(ids.len(), 12);
    let nodes = deliveries(&app, &token).await;
    assert!(
        nodes
            .iter()
            .all(|n| n["status"] == "DELIVERED" && n["attemptCount"] == 1),
        "{nodes:#?}"
    );
    assert!(
        app.sql_log()
            .iter()
            .any(|sql| sql.contains("FOR UPDATE SKIP LOCKED")),
        "claims lock their rows"
    );
}

/// Two real server processes on one Postgres schema: the one that published is killed with
/// SIGKILL while its POSTs are in flight, and the other delivers everything once the dead
/// process's leases run out.
#[cfg(unix)]
mod processes {
    use std::{
        io::{BufRead as _, BufReader},
        net::SocketAddr,
        process::{Child, Command, Stdio},
        sync::mpsc,
    };

    use content_api::{
        db::webhook::DeliveryFilter,
        domain::{
            events::EventKind,
            webhook::{self as hooks, WebhookInput},
        },
    };
    use entity::webhook_delivery::DeliveryStatus;
    use migration::MigratorTrait as _;
    use sea_orm::ConnectionTrait as _;

    use super::*;

    /// A schema of `TEST_DATABASE_URL`, dropped at the end.
    struct Schema {
        admin_url: String,
        name: String,
    }

    impl Drop for Schema {
        fn drop(&mut self) {
            let (url, name) = (self.admin_url.clone(), self.name.clone());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = sea_orm::Database::connect(&url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                r#"DROP SCHEMA IF EXISTS "{name}" CASCADE"#
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }

    /// A `content-api serve` process; killed when dropped.
    struct Server {
        child: Child,
        addr: SocketAddr,
    }

    impl Server {
        fn start(database_url: &str) -> Self {
            let mut child = Command::new(env!("CARGO_BIN_EXE_content-api"))
                .args([
                    "serve",
                    "--database-url",
                    database_url,
                    "--bind",
                    "127.0.0.1:0",
                ])
                .env_remove("DATABASE_URL")
                .env("RUST_LOG", "info")
                .env("LOG_FORMAT", "json")
                .env("WEBHOOK_POLL_INTERVAL_MS", "50")
                .env("WEBHOOK_TIMEOUT_SECS", "2")
                .env("WEBHOOK_LEASE_SECS", "3")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stderr = child.stderr.take().unwrap();
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
            let deadline = Instant::now() + Duration::from_secs(60);
            let addr = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let line = rx.recv_timeout(left).expect("the server did not start");
                if let Some(rest) = line.split("serving GraphQL on http://").nth(1) {
                    break rest.split('/').next().unwrap().parse().unwrap();
                }
            };
            // Keep draining the log so the process never blocks on a full pipe.
            std::thread::spawn(move || while rx.recv().is_ok() {});
            Self { child, addr }
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Answers 200 once `open` is true; until then requests hang. Records whether each request
    /// arrived with the gate open (only those can be answered, and so acknowledged).
    struct GatedReceiver {
        open: watch::Receiver<bool>,
        seen: Mutex<Vec<(String, bool)>>,
    }

    async fn gated(State(r): State<Arc<GatedReceiver>>, headers: HeaderMap) -> StatusCode {
        let id = headers["webhook-id"].to_str().unwrap().to_owned();
        let open = *r.open.borrow();
        r.seen.lock().unwrap().push((id, open));
        let mut gate = r.open.clone();
        let _ = gate.wait_for(|o| *o).await;
        StatusCode::OK
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_process_leaves_its_deliveries_to_the_other_one_exactly_once() {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("skipped: TEST_DATABASE_URL is not set");
            return;
        };
        // Arrange: a migrated schema, an endpoint, five drafts, a receiver whose gate is shut.
        let schema = Schema {
            admin_url: admin_url.clone(),
            name: format!("test_{}", uuid::Uuid::new_v4().simple()),
        };
        let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!(r#"CREATE SCHEMA "{}""#, schema.name))
            .await
            .unwrap();
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{}", schema.name);
        let db = content_api::db::connect(&url, 2).await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        let (_, token) = auth::create_key(&db, Role::Admin, None, "root")
            .await
            .unwrap();
        let (open_tx, open) = watch::channel(false);
        let receiver = Arc::new(GatedReceiver {
            open,
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/hook", post(gated))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        hooks::create(
            &db,
            &WebhookInput {
                url: Some(hook_url),
                secret: Some(SECRET.into()),
                events: Some(vec![EventKind::ArticlePublished]),
            },
        )
        .await
        .unwrap();
        let author = insert_author(&db, "writer", "Writer").await;
        let mut ids = Vec::new();
        for n in 0..5 {
            let a = ArticleBuilder::new(author.id, &format!("p{n}"))
                .status(Status::Draft)
                .insert(&db)
                .await;
            ids.push(NodeId::encode(NodeKind::Article, a.id).0);
        }

        // Act: publish through the first process; kill it once its POSTs hang at the receiver.
        let mut first = Server::start(&url);
        let client = reqwest::Client::new();
        for id in &ids {
            let body = json!({ "query": "mutation($id: ID!) { publishArticle(id: $id) { status } }", "variables": { "id": id } });
            let resp = client
                .post(format!("http://{}/graphql", first.addr))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success());
            let text = resp.text().await.unwrap();
            assert!(text.contains("PUBLISHED"), "{text}");
        }
        let deadline = Instant::now() + PATIENCE;
        while receiver.seen.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "the first process sent nothing");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        first.child.kill().unwrap();
        first.child.wait().unwrap();
        open_tx.send_replace(true);
        let _second = Server::start(&url);

        // Assert: every event is acknowledged exactly once, after the dead process's leases.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let page = hooks::list_deliveries(&db, DeliveryFilter::default(), 100)
                .await
                .unwrap();
            if page
                .nodes
                .iter()
                .all(|v| v.delivery.status == DeliveryStatus::Delivered)
            {
                assert_eq!(page.nodes.len(), 5);
                for v in &page.nodes {
                    assert_eq!(v.delivery.attempt_count, 1, "{v:?}");
                    assert_eq!(v.attempts.len(), 1, "{v:?}");
                }
                break;
            }
            assert!(Instant::now() < deadline, "not all delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let seen = receiver.seen.lock().unwrap().clone();
        let mut acknowledged: Vec<&str> = seen
            .iter()
            .filter(|(_, open)| *open)
            .map(|(id, _)| id.as_str())
            .collect();
        acknowledged.sort_unstable();
        let total = acknowledged.len();
        acknowledged.dedup();
        assert_eq!((total, acknowledged.len()), (5, 5), "{seen:?}");
        assert!(
            seen.iter().any(|(_, open)| !open),
            "the first process had POSTs in flight"
        );
    }
}
