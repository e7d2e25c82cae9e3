//! The GraphQL endpoint. Unlike a stock integration it refuses what it should: a POST that is
//! not JSON (415), a mutation over GET (405), a batch over the limit or malformed JSON (400);
//! and no error carries Rust debug text.

use std::{any::Any, net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::{
    Request, Response, ServerError, Variables,
    parser::types::{DocumentOperations, OperationType},
};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, RawQuery, State},
    http::{Extensions, HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use serde_json::{Value as Json, json};

use super::{
    AppState,
    apq::{self, ApqError},
    caching,
    response_cache::{self, ResponseCache},
};
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

/// `GET /graphql`: GraphiQL for a browser without a query; otherwise a query (never a
/// mutation), possibly persisted, answered with cache headers and `304` on a matching
/// `If-None-Match`.
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
    let query = param("query");
    let ext = param("extensions").filter(|v| !v.is_empty());
    if query.is_none() && ext.is_none() {
        if wants_html(&headers) {
            return super::graphiql::page();
        }
        return Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "missing `query` parameter",
        )
        .into_response(media);
    }
    let bad = |m: &str| Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", m);
    let persisted = match ext.map(serde_json::from_str::<Json>) {
        None | Some(Ok(Json::Null)) => None,
        Some(Ok(v @ Json::Object(_))) => Some(v),
        Some(_) => return bad("`extensions` must be a JSON object").into_response(media),
    };
    let mut request = Request::new(query.unwrap_or_default());
    if let Some(name) = param("operationName").filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    match param("variables")
        .filter(|v| !v.is_empty())
        .map(serde_json::from_str::<Json>)
    {
        None | Some(Ok(Json::Null)) => {}
        Some(Ok(v @ Json::Object(_))) => request = request.variables(Variables::from_json(v)),
        Some(_) => return bad("`variables` must be a JSON object").into_response(media),
    }
    let (mut request, register) = match prepare(&state, request, persisted.as_ref()) {
        Ok(prepared) => prepared,
        Err(refused) => return respond(Response::from_errors(vec![refused]), media),
    };
    let stored = Stored::lookup(&state, &headers, &request, media);
    if let Some(hit) = stored.hit(&headers) {
        remember(&state, register, &request);
        return stored.mark(hit.rendered.answer_get(&headers));
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
    remember(&state, register, &request);
    let viewer = match identify(&state, &headers).await {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(media),
    };
    let client = client(&state, &headers, &extensions);
    let marker = stored.marker(OperationType::Query);
    let rendered = stored
        .run(
            &state,
            (request, OperationType::Query),
            (viewer, client),
            (media, true, caching::accepts_gzip(&headers)),
        )
        .await;
    marker.mark(rendered.answer_get(&headers))
}

/// The `x-cache` header of an answer: `hit` or `miss` when the response cache was consulted.
pub const X_CACHE: &str = "x-cache";

struct Marker(Option<&'static str>);

impl Marker {
    fn mark(self, mut resp: HttpResponse) -> HttpResponse {
        if let Some(value) = self.0 {
            resp.headers_mut()
                .insert(X_CACHE, HeaderValue::from_static(value));
        }
        resp
    }
}

/// A request's place in the response cache: consulted only for requests without credentials,
/// when the cache is on.
enum Stored<'a> {
    /// Not cacheable.
    Bypass,
    /// Found fresh.
    Hit(&'a ResponseCache, u128, Arc<response_cache::Entry>),
    /// Not found: the response is stored after it runs, if it may be.
    Miss(&'a ResponseCache, u128),
}

impl<'a> Stored<'a> {
    fn lookup(state: &'a AppState, headers: &HeaderMap, request: &Request, media: &str) -> Self {
        let Some(cache) = state.responses.as_deref() else {
            return Self::Bypass;
        };
        if headers.contains_key(header::AUTHORIZATION) {
            return Self::Bypass;
        }
        let variables = serde_json::to_string(&request.variables).unwrap_or_default();
        let key = ResponseCache::key(
            &request.query,
            request.operation_name.as_deref(),
            &variables,
            media,
        );
        match cache.get(key) {
            Some(entry) => Self::Hit(cache, key, entry),
            None => Self::Miss(cache, key),
        }
    }

    /// How the answer to an operation of type `ty` will be marked, before `run` consumes this.
    fn marker(&self, ty: OperationType) -> Marker {
        Marker(match self {
            Self::Bypass => None,
            Self::Hit(..) => Some("hit"),
            Self::Miss(..) if ty == OperationType::Query => Some("miss"),
            Self::Miss(..) => None,
        })
    }

    /// Marks `resp` as found in the cache, or not.
    fn mark(&self, resp: HttpResponse) -> HttpResponse {
        self.marker(OperationType::Query).mark(resp)
    }

    /// The entry found, with a gzip copy added first when this client takes gzip and the
    /// entry was filled for one that did not.
    fn hit(&self, request: &HeaderMap) -> Option<Arc<response_cache::Entry>> {
        let Self::Hit(cache, key, entry) = self else {
            return None;
        };
        if entry.rendered.gzip.is_none() && caching::accepts_gzip(request) {
            return Some(cache.with_gzip(*key, entry));
        }
        Some(entry.clone())
    }

    /// Executes `request`, an operation of type `ty`, and renders it; a query that missed is
    /// stored when its response may be shared.
    async fn run(
        self,
        state: &AppState,
        (request, ty): (Request, OperationType),
        (viewer, client): (Viewer, ClientAddr),
        (media, get, gzip): (&'static str, bool, bool),
    ) -> caching::Rendered {
        let ticket = match &self {
            Self::Miss(cache, key) if ty == OperationType::Query => {
                Some((*cache, cache.ticket(*key)))
            }
            _ => None,
        };
        let (response, collected) = execute(
            &state.schema,
            &state.hub,
            request,
            state.db_for(viewer, ty),
            viewer,
            client,
        )
        .await;
        let policy = caching::policy(viewer, &response, &collected);
        let (status, body) = render(response, media);
        let store = match (ticket, policy.public_for(), status) {
            (Some(ticket), Some(seconds), StatusCode::OK) => Some((ticket, seconds)),
            _ => None,
        };
        let tagged = get || store.is_some();
        let rendered = caching::Rendered::new(status, body, media, (&policy, &collected), tagged);
        let Some(((cache, ticket), seconds)) = store else {
            return rendered;
        };
        let fill = response_cache::Fill {
            keys: collected.keys.into_iter().collect(),
            by_counter: collected.by_counter,
            ttl: Duration::from_secs(u64::from(seconds)),
        };
        // Keep exactly the body's bytes: serialization leaves up to twice as much capacity.
        let mut stored = caching::Rendered {
            body: axum::body::Bytes::copy_from_slice(&rendered.body),
            ..rendered
        };
        // A client that takes gzip is answered (now and on every hit) with one compression.
        if gzip {
            stored = stored.with_gzip();
        }
        cache.put(ticket, stored.clone(), fill);
        stored
    }
}

/// Resolves a persisted query: the stored text for a known hash, or the request as sent. A
/// refusal is a GraphQL request error (`PERSISTED_QUERY_NOT_FOUND` tells the client to resend
/// the text).
fn prepare(
    state: &AppState,
    mut request: Request,
    persisted: Option<&Json>,
) -> Result<(Request, Option<[u8; 32]>), ServerError> {
    let refuse = |code: &str, message: &str| {
        let mut e = ServerError::new(message, None);
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        e
    };
    let mut register = None;
    match state.apq.resolve(persisted, &request.query) {
        Ok(apq::Resolved::Found(text)) => request.query = text,
        Ok(apq::Resolved::Plain) => {}
        Ok(apq::Resolved::Register(hash)) => register = Some(hash),
        Err(ApqError::NotFound) => {
            return Err(refuse("PERSISTED_QUERY_NOT_FOUND", apq::NOT_FOUND_MESSAGE));
        }
        Err(ApqError::Mismatch) => {
            return Err(refuse(
                "PERSISTED_QUERY_HASH_MISMATCH",
                "the query does not hash to `extensions.persistedQuery.sha256Hash`",
            ));
        }
        Err(ApqError::Malformed(m)) => return Err(refuse("BAD_REQUEST", m)),
    }
    if request.query.is_empty() {
        return Err(refuse(
            "BAD_REQUEST",
            "a GraphQL request needs a `query` string",
        ));
    }
    Ok((request, register))
}

/// Stores a newly sent persisted query once it has parsed.
fn remember(state: &AppState, register: Option<[u8; 32]>, request: &Request) {
    if let Some(hash) = register {
        state.apq.insert(hash, &request.query);
    }
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
pub(super) fn operation_type(
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
    let (batch, items) = match parse_body(&body, state.max_batch_size) {
        Ok(b) => b,
        Err(refusal) => return refusal.into_response(media),
    };
    let viewer = match identify(&state, &headers).await {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(media),
    };
    if !batch {
        let Some((request, persisted)) = items.into_iter().next() else {
            return Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", "empty request")
                .into_response(media);
        };
        return post_one(
            &state,
            &headers,
            &extensions,
            (request, persisted),
            viewer,
            media,
        )
        .await;
    }
    let mut responses = Vec::with_capacity(items.len());
    for (request, persisted) in items {
        let response = match prepare(&state, request, persisted.as_ref()) {
            Err(refused) => Response::from_errors(vec![refused]),
            Ok((mut request, register)) => match operation_type(&mut request, &state.shape) {
                Err(parse_error) => Response::from_errors(vec![parse_error]),
                Ok(ty) => {
                    remember(&state, register, &request);
                    let client = client(&state, &headers, &extensions);
                    let db = state.db_for(viewer, ty);
                    execute(&state.schema, &state.hub, request, db, viewer, client)
                        .await
                        .0
                }
            },
        };
        responses.push(response);
    }
    let out = responses.into_iter().map(|r| response_json(r).1).collect();
    let mut resp = json_response(StatusCode::OK, Json::Array(out), media);
    // Only GET responses are cacheable.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A POST of one operation: through the response cache when it is a query without credentials.
async fn post_one(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &Extensions,
    (request, persisted): Incoming,
    viewer: Viewer,
    media: &'static str,
) -> HttpResponse {
    let no_store = |mut resp: HttpResponse| {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    };
    let (mut request, register) = match prepare(state, request, persisted.as_ref()) {
        Ok(prepared) => prepared,
        Err(refused) => return no_store(respond(Response::from_errors(vec![refused]), media)),
    };
    let stored = Stored::lookup(state, headers, &request, media);
    if let Some(hit) = stored.hit(headers) {
        remember(state, register, &request);
        return stored.mark(hit.rendered.answer_post(headers));
    }
    let ty = match operation_type(&mut request, &state.shape) {
        Ok(ty) => ty,
        Err(parse_error) => {
            return no_store(respond(Response::from_errors(vec![parse_error]), media));
        }
    };
    remember(state, register, &request);
    let client = client(state, headers, extensions);
    let marker = stored.marker(ty);
    let gzip = caching::accepts_gzip(headers);
    let rendered = stored
        .run(state, (request, ty), (viewer, client), (media, false, gzip))
        .await;
    marker.mark(rendered.answer_post(headers))
}

/// One request of a POST body and its `extensions` (for persisted queries).
type Incoming = (Request, Option<Json>);

/// Parses a POST body: whether it was a batch, and its requests.
fn parse_body(body: &[u8], max_batch: usize) -> Result<(bool, Vec<Incoming>), Refusal> {
    let bad = |m: String| Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", m);
    let value: Json =
        serde_json::from_slice(body).map_err(|e| bad(format!("body is not valid JSON: {e}")))?;
    let one = |mut v: Json| -> Result<Incoming, Refusal> {
        let Json::Object(map) = &mut v else {
            return Err(bad("a GraphQL request must be a JSON object".into()));
        };
        let extensions = match map.get("extensions") {
            None | Some(Json::Null) => None,
            Some(e @ Json::Object(_)) => Some(e.clone()),
            Some(_) => return Err(bad("`extensions` must be an object".into())),
        };
        let persisted = extensions
            .as_ref()
            .is_some_and(|e| e.get("persistedQuery").is_some());
        match map.get("query") {
            Some(Json::String(_)) => {}
            // A persisted query may come without its text.
            None | Some(Json::Null) if persisted => {
                map.insert("query".into(), Json::String(String::new()));
            }
            _ => return Err(bad("a GraphQL request needs a `query` string".into())),
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
        let request =
            serde_json::from_value(v).map_err(|_| bad("malformed GraphQL request".into()))?;
        Ok((request, extensions))
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
            Ok((true, items.into_iter().map(one).collect::<Result<_, _>>()?))
        }
        other => Ok((false, vec![one(other)?])),
    }
}

/// Tags every error of `response` that has no code, and tells whether it is a request error
/// (nothing executed: no `data` entry, per GraphQL-over-HTTP).
fn code_errors(response: &mut Response) -> bool {
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
    request_error
}

const INTERNAL_BODY: &str =
    r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#;

/// A response as JSON, with every error coded; and whether it is a request error.
fn response_json(mut response: Response) -> (bool, Json) {
    let request_error = code_errors(&mut response);
    let mut value = serde_json::to_value(&response)
        .unwrap_or_else(|_| serde_json::from_str(INTERNAL_BODY).unwrap_or_default());
    if request_error && let Json::Object(map) = &mut value {
        map.remove("data");
    }
    (request_error, value)
}

/// The status and body of a response, serialized straight to text (a large body is not
/// copied into a JSON tree first).
fn render(mut response: Response, media: &'static str) -> (StatusCode, String) {
    let request_error = code_errors(&mut response);
    let body = if request_error {
        serde_json::to_string(&json!({ "errors": response.errors }))
    } else {
        serde_json::to_string(&response)
    };
    // application/json keeps 200 for every well-formed request; the newer media type signals
    // a request error with 400 (GraphQL-over-HTTP).
    let status = if request_error && media == GRAPHQL_RESPONSE_JSON {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, body.unwrap_or_else(|_| INTERNAL_BODY.to_owned()))
}

fn respond(response: Response, media: &'static str) -> HttpResponse {
    let (status, body) = render(response, media);
    body_response(status, body, media)
}

fn json_response(status: StatusCode, body: Json, media: &'static str) -> HttpResponse {
    body_response(status, body.to_string(), media)
}

fn body_response(status: StatusCode, body: String, media: &'static str) -> HttpResponse {
    let mut resp = (status, body).into_response();
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
