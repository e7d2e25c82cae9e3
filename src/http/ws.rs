//! GraphQL over WebSocket at `/graphql/ws`, speaking graphql-transport-ws (the protocol of the
//! `graphql-ws` client). Failures close the socket with the protocol's codes:
//! 4400 an invalid message, 4401 `subscribe` before the connection is acknowledged, 4403 a
//! refused token in `connection_init`, 4408 no `connection_init` in time, 4409 a subscription
//! id already running, 4429 a second `connection_init`. Messages over the size limit close the
//! socket (1009), and a connection runs at most `WS_MAX_SUBSCRIPTIONS` operations at once.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{Request, Response, ServerError, Variables};
use axum::{
    extract::{
        ConnectInfo, State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::{Extensions, HeaderMap, StatusCode},
    response::{IntoResponse, Response as HttpResponse},
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio::{sync::mpsc, task::JoinHandle};

use super::{AppState, graphql::operation_type};
use crate::{
    domain::auth::{self, Viewer},
    error::AppError,
    graphql::{ClientAddr, execute, execute_stream},
};

/// The subprotocol spoken.
const PROTOCOL: &str = "graphql-transport-ws";

/// Limits of one connection.
#[derive(Clone, Copy, Debug)]
pub struct WsLimits {
    /// Time allowed for `connection_init`.
    pub init_timeout: Duration,
    /// Operations running at once.
    pub max_subscriptions: usize,
    /// Largest message, in bytes.
    pub max_message_bytes: usize,
}

/// `GET /graphql/ws`: upgrades a client that offers graphql-transport-ws.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    extensions: Extensions,
    ws: WebSocketUpgrade,
) -> HttpResponse {
    let offered = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    if !offered {
        return (
            StatusCode::BAD_REQUEST,
            "offer the `graphql-transport-ws` WebSocket subprotocol",
        )
            .into_response();
    }
    let client = ClientAddr(
        extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip()),
    );
    let limits = state.ws;
    ws.protocols([PROTOCOL])
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .on_upgrade(move |socket| Connection::new(state, client).run(socket))
}

/// What a connection's operations send back to the socket.
enum Out {
    /// A protocol message.
    Send(Json),
    /// The operation `id` has finished (its `complete` is already queued).
    Done(String),
}

/// Why a connection closes.
struct Close(u16, &'static str);

struct Connection {
    state: Arc<AppState>,
    client: ClientAddr,
    init_received: bool,
    viewer: Option<Viewer>,
    operations: HashMap<String, JoinHandle<()>>,
    out: mpsc::Sender<Out>,
    out_rx: Option<mpsc::Receiver<Out>>,
}

impl Connection {
    fn new(state: Arc<AppState>, client: ClientAddr) -> Self {
        let (out, out_rx) = mpsc::channel(64);
        Self {
            state,
            client,
            init_received: false,
            viewer: None,
            operations: HashMap::new(),
            out,
            out_rx: Some(out_rx),
        }
    }

    async fn run(mut self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let Some(mut out_rx) = self.out_rx.take() else {
            return;
        };
        let init_deadline = tokio::time::sleep(self.state.ws.init_timeout);
        tokio::pin!(init_deadline);
        let close = loop {
            tokio::select! {
                () = &mut init_deadline, if !self.init_received => {
                    break Some(Close(4408, "Connection initialisation timeout"));
                }
                message = incoming.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        if let Err(close) = self.handle(text.as_str()).await {
                            break Some(close);
                        }
                    }
                    Some(Ok(Message::Binary(_))) => break Some(Close(4400, "Binary messages are not supported")),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    // Over the size limit: the library refuses to read it (its error type is not
                    // exposed, so it is recognised by its text).
                    Some(Err(e)) if e.to_string().contains("too long") => {
                        break Some(Close(1009, "Message too big"));
                    }
                    // The client went away.
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
                },
                Some(out) = out_rx.recv() => match out {
                    Out::Send(message) => {
                        if sink.send(Message::Text(message.to_string().into())).await.is_err() {
                            break None;
                        }
                    }
                    Out::Done(id) => {
                        self.operations.remove(&id);
                    }
                },
            }
        };
        for (_, operation) in self.operations.drain() {
            operation.abort();
        }
        if let Some(Close(code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
        }
        let _ = sink.close().await;
    }

    async fn handle(&mut self, text: &str) -> Result<(), Close> {
        let invalid = || Close(4400, "Invalid message");
        let message: Json = serde_json::from_str(text).map_err(|_| invalid())?;
        let kind = message
            .get("type")
            .and_then(Json::as_str)
            .ok_or_else(invalid)?;
        match kind {
            "connection_init" => {
                if self.init_received {
                    return Err(Close(4429, "Too many initialisation requests"));
                }
                self.init_received = true;
                let payload = message.get("payload").cloned().unwrap_or(Json::Null);
                let viewer = self.authenticate(&payload).await?;
                // Events from other processes must be able to arrive before the client
                // subscribes; wait briefly for the listener.
                self.state.hub.ready(Duration::from_secs(5)).await;
                self.viewer = Some(viewer);
                self.send(json!({ "type": "connection_ack" })).await;
            }
            "ping" => self.send(json!({ "type": "pong" })).await,
            "pong" => {}
            "subscribe" => {
                let id = message
                    .get("id")
                    .and_then(Json::as_str)
                    .filter(|id| !id.is_empty())
                    .ok_or_else(invalid)?
                    .to_owned();
                let payload = message.get("payload").ok_or_else(invalid)?;
                let request = parse_request(payload).ok_or_else(invalid)?;
                let Some(viewer) = self.viewer else {
                    return Err(Close(4401, "Unauthorized"));
                };
                if self.operations.contains_key(&id) {
                    return Err(Close(4409, "Subscriber for this id already exists"));
                }
                if self.operations.len() >= self.state.ws.max_subscriptions {
                    let e = coded(
                        &format!(
                            "at most {} operations may run at once on one connection",
                            self.state.ws.max_subscriptions
                        ),
                        "LIMIT_EXCEEDED",
                    );
                    self.send(json!({ "type": "error", "id": id, "payload": [e] }))
                        .await;
                    return Ok(());
                }
                let task = self.start(id.clone(), request, viewer);
                self.operations.insert(id, task);
            }
            "complete" => {
                let id = message
                    .get("id")
                    .and_then(Json::as_str)
                    .ok_or_else(invalid)?;
                if let Some(operation) = self.operations.remove(id) {
                    operation.abort();
                }
            }
            _ => return Err(invalid()),
        }
        Ok(())
    }

    /// The viewer a `connection_init` payload names: `{"authorization": "Bearer <token>"}` (or
    /// `{"token": "<token>"}`); anonymous without one. A token that names no key is refused.
    async fn authenticate(&self, payload: &Json) -> Result<Viewer, Close> {
        let token = payload
            .get("authorization")
            .or_else(|| payload.get("Authorization"))
            .and_then(Json::as_str)
            .map(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map_or(v, |(_, t)| t)
            })
            .or_else(|| payload.get("token").and_then(Json::as_str));
        let Some(token) = token else {
            return Ok(Viewer::Anonymous);
        };
        match auth::authenticate(&self.state.db, token.trim()).await {
            Ok(viewer) => Ok(viewer),
            Err(AppError::Unauthenticated(_)) => Err(Close(4403, "Forbidden")),
            Err(e) => {
                tracing::error!(error = %crate::db::describe(&e), "cannot check an API key");
                Err(Close(4500, "Internal error"))
            }
        }
    }

    async fn send(&self, message: Json) {
        let _ = self.out.send(Out::Send(message)).await;
    }

    /// Runs one operation in its own task: a subscription streams `next` messages until it
    /// ends; a query or mutation sends one. Then `complete`.
    fn start(&self, id: String, mut request: Request, viewer: Viewer) -> JoinHandle<()> {
        let state = self.state.clone();
        let out = self.out.clone();
        let client = self.client;
        tokio::spawn(async move {
            let send = |m: Json| {
                let out = out.clone();
                async move { out.send(Out::Send(m)).await.is_ok() }
            };
            match operation_type(&mut request, &state.shape) {
                Err(e) => {
                    send(json!({ "type": "error", "id": id, "payload": [error_json(e)] })).await;
                }
                Ok(async_graphql::parser::types::OperationType::Subscription) => {
                    let mut stream = execute_stream(&state.schema, request, &state.db, viewer);
                    while let Some(response) = stream.next().await {
                        let message = match request_errors(&response) {
                            Some(errors) => json!({ "type": "error", "id": id, "payload": errors }),
                            None => json!({ "type": "next", "id": id, "payload": response }),
                        };
                        let stop = message["type"] == "error";
                        if !send(message).await || stop {
                            let _ = out.send(Out::Done(id)).await;
                            return;
                        }
                    }
                    send(json!({ "type": "complete", "id": id })).await;
                }
                Ok(_) => {
                    let (response, _) = execute(
                        &state.schema,
                        &state.hub,
                        request,
                        &state.db,
                        viewer,
                        client,
                    )
                    .await;
                    match request_errors(&response) {
                        Some(errors) => {
                            send(json!({ "type": "error", "id": id, "payload": errors })).await;
                        }
                        None => {
                            send(json!({ "type": "next", "id": id, "payload": response })).await;
                            send(json!({ "type": "complete", "id": id })).await;
                        }
                    }
                }
            }
            let _ = out.send(Out::Done(id)).await;
        })
    }
}

/// A `subscribe` payload as a request: `query` (string), optional `variables` (object),
/// `operationName` (string) and `extensions` (object).
fn parse_request(payload: &Json) -> Option<Request> {
    let query = payload.get("query")?.as_str()?;
    let mut request = Request::new(query);
    match payload.get("variables") {
        None | Some(Json::Null) => {}
        Some(v @ Json::Object(_)) => request = request.variables(Variables::from_json(v.clone())),
        Some(_) => return None,
    }
    match payload.get("operationName") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) => request = request.operation_name(name.as_str()),
        Some(_) => return None,
    }
    if !matches!(
        payload.get("extensions"),
        None | Some(Json::Null | Json::Object(_))
    ) {
        return None;
    }
    Some(request)
}

/// The errors of a response that failed before executing (validation), which the protocol
/// sends as an `error` message rather than `next`.
fn request_errors(response: &Response) -> Option<Vec<Json>> {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    request_error.then(|| response.errors.iter().cloned().map(error_json).collect())
}

fn error_json(mut e: ServerError) -> Json {
    let ext = e.extensions.get_or_insert_with(Default::default);
    if ext.get("code").is_none() {
        ext.set("code", "GRAPHQL_VALIDATION_FAILED");
    }
    serde_json::to_value(&e).unwrap_or_else(|_| coded("invalid operation", "BAD_REQUEST"))
}

fn coded(message: &str, code: &str) -> Json {
    json!({ "message": message, "extensions": { "code": code } })
}
