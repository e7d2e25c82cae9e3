//! Subscriptions over graphql-transport-ws: the protocol's failure modes, and events reaching
//! subscribers with their own rights (on Postgres through LISTEN/NOTIFY).

use std::{net::SocketAddr, time::Duration};

use content_api::domain::auth;
use entity::{api_key::Role, article::Status};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode},
};

use crate::helpers::{ArticleBuilder, TestApp, insert_author, insert_tag};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Serves the app's router on a free port.
async fn serve(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

async fn connect(addr: SocketAddr) -> Ws {
    let mut req = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (ws, resp) = connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    ws
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next protocol message (pings skipped), or the close code.
async fn next(ws: &mut Ws) -> Result<Value, u16> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an answer within 10 s");
        match message {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(Some(frame)))) => return Err(u16::from(frame.code)),
            Some(Ok(Message::Close(None))) | None => return Err(u16::from(CloseCode::Status)),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("socket error: {e}"),
        }
    }
}

/// Nothing arrives within `wait`.
async fn quiet(ws: &mut Ws, wait: Duration) {
    if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(wait, ws.next()).await {
        panic!("unexpected message: {t}");
    }
}

async fn init(ws: &mut Ws, payload: Value) {
    send(ws, json!({ "type": "connection_init", "payload": payload })).await;
    assert_eq!(next(ws).await.unwrap()["type"], "connection_ack");
}

fn subscribe(id: &str, query: &str, variables: Value) -> Value {
    json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } })
}

const PUBLISHED: &str = "subscription($tags: [String!]) { articlePublished(tagSlugs: $tags) { title author { name } tags { slug } } }";

db_test!(
    async fn protocol_failures_close_with_the_specified_codes(app) {
        let mut app = app;
        app.reconfigure(|c| c.ws_init_timeout_secs = 1);
        let addr = serve(&app).await;

        // Subscribe before connection_init: 4401.
        let mut ws = connect(addr).await;
        send(&mut ws, subscribe("1", "{ __typename }", json!({}))).await;
        assert_eq!(next(&mut ws).await, Err(4401));

        // Not JSON, or no type: 4400.
        for bad in ["nope", r#"{"id":"1"}"#, r#"{"type":"subscribe","id":"1"}"#] {
            let mut ws = connect(addr).await;
            init(&mut ws, json!({})).await;
            ws.send(Message::Text(bad.into())).await.unwrap();
            assert_eq!(next(&mut ws).await, Err(4400), "{bad}");
        }

        // A second connection_init: 4429.
        let mut ws = connect(addr).await;
        init(&mut ws, json!({})).await;
        send(&mut ws, json!({ "type": "connection_init" })).await;
        assert_eq!(next(&mut ws).await, Err(4429));

        // A token that names no key: 4403.
        let mut ws = connect(addr).await;
        send(&mut ws, json!({ "type": "connection_init", "payload": { "authorization": "Bearer nope" } })).await;
        assert_eq!(next(&mut ws).await, Err(4403));

        // No connection_init in time: 4408.
        let mut ws = connect(addr).await;
        assert_eq!(next(&mut ws).await, Err(4408));

        // The same id twice while the first runs: 4409.
        let mut ws = connect(addr).await;
        init(&mut ws, json!({})).await;
        send(&mut ws, subscribe("s", PUBLISHED, json!({}))).await;
        send(&mut ws, subscribe("s", PUBLISHED, json!({}))).await;
        assert_eq!(next(&mut ws).await, Err(4409));

        // Ping is answered; a query runs once and completes.
        let mut ws = connect(addr).await;
        init(&mut ws, json!({})).await;
        send(&mut ws, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
        send(&mut ws, subscribe("q", "{ __typename }", json!({}))).await;
        let got = next(&mut ws).await.unwrap();
        assert_eq!(got, json!({ "type": "next", "id": "q", "payload": { "data": { "__typename": "Query" } } }));
        assert_eq!(next(&mut ws).await.unwrap(), json!({ "type": "complete", "id": "q" }));

        // An invalid operation is an error message, and the connection stays.
        send(&mut ws, subscribe("v", "subscription { nope }", json!({}))).await;
        let got = next(&mut ws).await.unwrap();
        assert_eq!(got["type"], "error");
        assert_eq!(got["payload"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        send(&mut ws, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
    }
);

db_test!(
    async fn subscriptions_per_connection_and_message_size_are_bounded(app) {
        let mut app = app;
        app.reconfigure(|c| {
            c.ws_max_subscriptions = 2;
            c.ws_max_message_bytes = 2048;
        });
        let addr = serve(&app).await;
        let mut ws = connect(addr).await;
        init(&mut ws, json!({})).await;
        send(&mut ws, subscribe("1", PUBLISHED, json!({}))).await;
        send(&mut ws, subscribe("2", PUBLISHED, json!({}))).await;
        send(&mut ws, subscribe("3", PUBLISHED, json!({}))).await;
        let got = next(&mut ws).await.unwrap();
        assert_eq!(got["type"], "error");
        assert_eq!(got["id"], "3");
        assert_eq!(got["payload"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
        // Completing one frees a place.
        send(&mut ws, json!({ "type": "complete", "id": "1" })).await;
        send(&mut ws, subscribe("3", PUBLISHED, json!({}))).await;
        quiet(&mut ws, Duration::from_millis(300)).await;

        // A message over the size limit closes the connection (1009, message too big).
        let huge = format!("{{ __typename {} }}", " ".repeat(4096));
        send(&mut ws, subscribe("4", &huge, json!({}))).await;
        assert_eq!(next(&mut ws).await, Err(1009));
    }
);

db_test!(
    async fn published_articles_reach_subscribers_with_matching_tags_only(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        let ai = insert_tag(&app.db, "ai", "AI").await;
        let web = insert_tag(&app.db, "web", "Web").await;
        let on_ai = ArticleBuilder::new(ann.id, "on-ai")
            .title("On AI")
            .status(Status::Draft)
            .tags(&[ai.id])
            .insert(&app.db)
            .await;
        let on_web = ArticleBuilder::new(ann.id, "on-web")
            .title("On the web")
            .status(Status::Draft)
            .tags(&[web.id])
            .insert(&app.db)
            .await;
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();
        let addr = serve(&app).await;

        let mut all = connect(addr).await;
        init(&mut all, json!({})).await;
        send(&mut all, subscribe("all", PUBLISHED, json!({}))).await;
        let mut ai_only = connect(addr).await;
        init(&mut ai_only, json!({})).await;
        send(&mut ai_only, subscribe("ai", PUBLISHED, json!({ "tags": ["AI"] }))).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let publish = "mutation($id: ID!) { publishArticle(id: $id) { status } }";
        for slug in ["on-web", "on-ai"] {
            let id = global_id(&app, &editor, slug).await;
            let (status, resp) = app.graphql_as(&editor, publish, json!({ "id": id })).await;
            assert_eq!(status, 200, "{resp}");
            assert!(resp.get("errors").is_none(), "{resp}");
        }

        let first = next(&mut all).await.unwrap();
        assert_eq!(first["payload"]["data"]["articlePublished"]["title"], on_web.title);
        let second = next(&mut all).await.unwrap();
        assert_eq!(
            second["payload"]["data"]["articlePublished"],
            json!({ "title": on_ai.title, "author": { "name": "Ann" }, "tags": [{ "slug": "ai" }] })
        );
        let only = next(&mut ai_only).await.unwrap();
        assert_eq!(only["id"], "ai");
        assert_eq!(only["payload"]["data"]["articlePublished"]["title"], on_ai.title);
        quiet(&mut ai_only, Duration::from_millis(300)).await;
    }
);

db_test!(
    async fn drafts_stay_hidden_from_anonymous_subscribers_and_deletion_completes(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(ann.id, "draft").status(Status::Draft).insert(&app.db).await;
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();
        let id = global_id(&app, &editor, "draft").await;
        let addr = serve(&app).await;
        let updated = "subscription($id: ID!) { articleUpdated(id: $id) { title version } }";

        // Anonymous: the draft does not exist for them.
        let mut anon = connect(addr).await;
        init(&mut anon, json!({})).await;
        send(&mut anon, subscribe("u", updated, json!({ "id": id }))).await;
        let got = next(&mut anon).await.unwrap();
        assert_eq!(got["type"], "next");
        assert_eq!(got["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{got}");

        // The editor's token in connection_init gives the editor's rights.
        let mut ed = connect(addr).await;
        init(&mut ed, json!({ "authorization": format!("Bearer {editor}") })).await;
        send(&mut ed, subscribe("u", updated, json!({ "id": id }))).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let update = "mutation($id: ID!) { updateArticle(id: $id, input: { title: \"Renamed\" }, expectedVersion: 1) { version } }";
        let (_, resp) = app.graphql_as(&editor, update, json!({ "id": id })).await;
        assert!(resp.get("errors").is_none(), "{resp}");
        let got = next(&mut ed).await.unwrap();
        assert_eq!(got["payload"]["data"]["articleUpdated"], json!({ "title": "Renamed", "version": 2 }));

        let delete = "mutation($id: ID!) { deleteArticle(id: $id) }";
        let (_, resp) = app.graphql_as(&editor, delete, json!({ "id": id })).await;
        assert!(resp.get("errors").is_none(), "{resp}");
        assert_eq!(next(&mut ed).await.unwrap(), json!({ "type": "complete", "id": "u" }));
    }
);

db_test!(
    async fn counter_bursts_arrive_coalesced(app) {
        let ann = insert_author(&app.db, "ann", "Ann").await;
        ArticleBuilder::new(ann.id, "a").insert(&app.db).await;
        let (_, editor) = auth::create_key(&app.db, Role::Editor, None, "desk").await.unwrap();
        let id = global_id(&app, &editor, "a").await;
        let addr = serve(&app).await;
        let mut ws = connect(addr).await;
        init(&mut ws, json!({})).await;
        let stats = "subscription($id: ID!) { articleStats(id: $id) { likes } }";
        send(&mut ws, subscribe("s", stats, json!({ "id": id }))).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let like = "mutation($id: ID!) { likeArticle(id: $id) { likes } }";
        for _ in 0..5 {
            let (_, resp) = app.graphql_as(&editor, like, json!({ "id": id })).await;
            assert!(resp.get("errors").is_none(), "{resp}");
        }
        // Changes inside one window arrive as one message with the count at its end.
        let mut messages = 0;
        loop {
            let got = next(&mut ws).await.unwrap();
            messages += 1;
            if got["payload"]["data"]["articleStats"]["likes"] == 5 {
                break;
            }
        }
        assert!(messages < 5, "{messages} messages for 5 likes");
        quiet(&mut ws, Duration::from_millis(800)).await;
    }
);

db_test!(
    async fn upgrade_requires_the_subprotocol(app) {
        let addr = serve(&app).await;
        let req = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
        let err = connect_async(req).await.unwrap_err();
        assert!(err.to_string().contains("400"), "{err}");
    }
);

/// The global id of the article `slug`, read with `token`'s rights.
async fn global_id(app: &TestApp, token: &str, slug: &str) -> String {
    let (_, v) = app
        .graphql_as(
            token,
            "query($s: String) { article(slug: $s) { id } }",
            json!({ "s": slug }),
        )
        .await;
    v["data"]["article"]["id"].as_str().unwrap().to_owned()
}
