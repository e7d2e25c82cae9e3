//! The GraphQL endpoint. Unlike a stock integration it refuses what it should: a POST that is
//! not JSON (415), a mutation over GET (405), a batch over the limit or malformed JSON (400);
//! and no error carries Rust debug text.

use std::{any::Any, net::SocketAddr, sync::Arc};

use async_graphql::{
    BatchRequest, Request, Response, ServerError, Variables,
    parser::types::{DocumentOperations, OperationType},
};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, RawQuery, State},
    http::{Extensions, HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use serde_json::{Value as Json, json};

use super::AppState;
use crate::{
    domain::auth::{self, Viewer},
    error::AppError,
    graphql::{
        ClientAddr, execute,
        guard::{self, ShapeLimits},
    },
};

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// A request refused before execution, answered as a GraphQL error body.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    header: Option<(header::HeaderName, &'static str)>,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            header: None,
        }
    }

    fn with_header(mut self, name: header::HeaderName, value: &'static str) -> Self {
        self.header = Some((name, value));
        self
    }

    fn into_response(self, media: &'static str) -> HttpResponse {
        let body =
            json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code } }] });
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
        if let Some((name, value)) = self.header {
            resp.headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
        resp
    }
}

/// The response media type: `application/graphql-response+json` when the client accepts it,
/// else `application/json`.
fn response_media(headers: &HeaderMap) -> &'static str {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept
        .split(',')
        .any(|m| m.trim().starts_with(GRAPHQL_RESPONSE_JSON))
    {
        GRAPHQL_RESPONSE_JSON
    } else {
        JSON
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// `GET /graphql`: GraphiQL for a browser without a query; otherwise a query (never a mutation).
pub async fn get_graphql(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    extensions: Extensions,
    RawQuery(raw): RawQuery,
) -> HttpResponse {
    let media = response_media(&headers);
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(query) = param("query") else {
        if wants_html(&headers) {
            return super::graphiql::page();
        }
        return Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "missing `query` parameter",
        )
        .into_response(media);
    };
    let mut request = Request::new(query);
    if let Some(name) = param("operationName").filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    match param("variables")
        .filter(|v| !v.is_empty())
        .map(serde_json::from_str::<Json>)
    {
        None => {}
        Some(Ok(v @ Json::Object(_))) => request = request.variables(Variables::from_json(v)),
        Some(Ok(Json::Null)) => {}
        Some(_) => {
            return Refusal::new(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "`variables` must be a JSON object",
            )
            .into_response(media);
        }
    }
    match param("extensions")
        .filter(|v| !v.is_empty())
        .map(serde_json::from_str::<Json>)
    {
        None | Some(Ok(Json::Object(_) | Json::Null)) => {}
        Some(_) => {
            return Refusal::new(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "`extensions` must be a JSON object",
            )
            .into_response(media);
        }
    }
    match operation_type(&mut request, &state.shape) {
        Ok(OperationType::Query) => {}
        Ok(_) => {
            return Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "only queries may be sent with GET; send mutations with POST",
            )
            .with_header(header::ALLOW, "POST")
            .into_response(media);
        }
        Err(parse_error) => return respond(Response::from_errors(vec![parse_error]), media),
    }
    let viewer = match identify(&state, &headers).await {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(media),
    };
    let response = execute(
        &state.schema,
        request,
        &state.db,
        viewer,
        client(&state, &headers, &extensions),
    )
    .await;
    respond(response, media)
}

/// The client's address, when the server was started with connection info.
/// The client's address: the peer, or (behind a trusted proxy) the first address of
/// `X-Forwarded-For`.
fn client(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> ClientAddr {
    let forwarded = || {
        headers
            .get("x-forwarded-for")?
            .to_str()
            .ok()?
            .split(',')
            .next()?
            .trim()
            .parse::<std::net::IpAddr>()
            .ok()
    };
    let peer = || {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    };
    ClientAddr(if state.trust_forwarded_for {
        forwarded().or_else(peer)
    } else {
        peer()
    })
}

/// The viewer named by the `Authorization: Bearer <token>` header; anonymous without one. A
/// header that names no valid key is refused with 401, never treated as anonymous.
async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Viewer, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Viewer::Anonymous);
    };
    let unauthenticated = |m: &str| {
        Refusal::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", m)
            .with_header(header::WWW_AUTHENTICATE, "Bearer")
    };
    let value = value
        .to_str()
        .map_err(|_| unauthenticated("malformed Authorization header"))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token,
        _ => return Err(unauthenticated("use `Authorization: Bearer <token>`")),
    };
    match auth::authenticate(&state.db, token).await {
        Ok(viewer) => Ok(viewer),
        Err(AppError::Unauthenticated(m)) => Err(unauthenticated(&m)),
        Err(e) => {
            tracing::error!(error = %crate::db::describe(&e), "cannot check an API key");
            Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            ))
        }
    }
}

/// The type of the operation `request` selects, after the shape guard (length, tokens, fields
/// with fragments expanded, aliases, directives); a query that does not parse is an error. The
/// parsed document stays in the request, so the schema does not parse it again.
fn operation_type(
    request: &mut Request,
    limits: &ShapeLimits,
) -> Result<OperationType, ServerError> {
    let refuse = |refused: guard::ShapeError| {
        let mut e = ServerError::new(refused.message, None);
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", "GRAPHQL_VALIDATION_FAILED");
        e
    };
    let name = request.operation_name.clone();
    // Length and tokens before parsing; the rest on the one parsed document the schema reuses.
    guard::check_text(&request.query, limits).map_err(refuse)?;
    let doc = request.parsed_query().map_err(|mut e| {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", "GRAPHQL_PARSE_FAILED");
        e
    })?;
    guard::check_document(doc, name.as_deref(), limits).map_err(refuse)?;
    let ty = match (&doc.operations, name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) => ops.values().next().map(|op| op.node.ty),
    };
    // An unknown operation name is reported by the schema itself.
    Ok(ty.unwrap_or(OperationType::Query))
}

/// `POST /graphql`: one operation, or a batch (a JSON array) of at most `MAX_BATCH_SIZE`.
pub async fn post_graphql(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> HttpResponse {
    let media = response_media(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        return Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send GraphQL requests as `Content-Type: application/json`",
        )
        .into_response(media);
    }
    let batch = match parse_body(&body, state.max_batch_size) {
        Ok(b) => b,
        Err(refusal) => return refusal.into_response(media),
    };
    let viewer = match identify(&state, &headers).await {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(media),
    };
    match batch {
        BatchRequest::Single(mut request) => {
            if let Err(parse_error) = operation_type(&mut request, &state.shape) {
                return respond(Response::from_errors(vec![parse_error]), media);
            }
            let response = execute(
                &state.schema,
                request,
                &state.db,
                viewer,
                client(&state, &headers, &extensions),
            )
            .await;
            respond(response, media)
        }
        BatchRequest::Batch(requests) => {
            let mut out = Vec::with_capacity(requests.len());
            for mut request in requests {
                let response = match operation_type(&mut request, &state.shape) {
                    Err(parse_error) => Response::from_errors(vec![parse_error]),
                    Ok(_) => {
                        execute(
                            &state.schema,
                            request,
                            &state.db,
                            viewer,
                            client(&state, &headers, &extensions),
                        )
                        .await
                    }
                };
                out.push(response_json(response).1);
            }
            json_response(StatusCode::OK, Json::Array(out), media)
        }
    }
}

fn parse_body(body: &[u8], max_batch: usize) -> Result<BatchRequest, Refusal> {
    let bad = |m: String| Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", m);
    let value: Json =
        serde_json::from_slice(body).map_err(|e| bad(format!("body is not valid JSON: {e}")))?;
    let one = |v: Json| -> Result<Request, Refusal> {
        let Json::Object(map) = &v else {
            return Err(bad("a GraphQL request must be a JSON object".into()));
        };
        if !matches!(map.get("query"), Some(Json::String(_))) {
            return Err(bad("a GraphQL request needs a `query` string".into()));
        }
        if !matches!(
            map.get("variables"),
            None | Some(Json::Null | Json::Object(_))
        ) {
            return Err(bad("`variables` must be an object".into()));
        }
        if !matches!(
            map.get("operationName"),
            None | Some(Json::Null | Json::String(_))
        ) {
            return Err(bad("`operationName` must be a string".into()));
        }
        if !matches!(
            map.get("extensions"),
            None | Some(Json::Null | Json::Object(_))
        ) {
            return Err(bad("`extensions` must be an object".into()));
        }
        serde_json::from_value(v).map_err(|_| bad("malformed GraphQL request".into()))
    };
    match value {
        Json::Array(items) => {
            if items.is_empty() {
                return Err(bad("empty batch".into()));
            }
            if items.len() > max_batch {
                return Err(bad(format!(
                    "a batch may hold at most {max_batch} operations, got {}",
                    items.len()
                )));
            }
            Ok(BatchRequest::Batch(
                items.into_iter().map(one).collect::<Result<_, _>>()?,
            ))
        }
        other => Ok(BatchRequest::Single(one(other)?)),
    }
}

/// Serializes a response, tagging every error that has no code and telling whether it is a
/// request error (nothing executed: no `data` entry, per GraphQL-over-HTTP).
fn response_json(mut response: Response) -> (bool, Json) {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    for err in &mut response.errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            let code = if request_error {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "INTERNAL"
            };
            ext.set("code", code);
        }
    }
    let mut value = serde_json::to_value(&response).unwrap_or_else(|_| json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] }));
    if request_error && let Json::Object(map) = &mut value {
        map.remove("data");
    }
    (request_error, value)
}

fn respond(response: Response, media: &'static str) -> HttpResponse {
    let (request_error, body) = response_json(response);
    // application/json keeps 200 for every well-formed request; the newer media type signals
    // a request error with 400 (GraphQL-over-HTTP).
    let status = if request_error && media == GRAPHQL_RESPONSE_JSON {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response(status, body, media)
}

fn json_response(status: StatusCode, body: Json, media: &'static str) -> HttpResponse {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    resp
}

/// A panic becomes a plain 500 with a code; the panic text is logged, never sent.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> HttpResponse<Body> {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
    )
    .into_response(JSON)
}
