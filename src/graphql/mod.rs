//! The GraphQL schema: resolvers parse arguments, call one domain function and map the result
//! to a GraphQL type. Only `DatabaseConnection` is taken from sea_orm here, to pass it along.

pub mod cache;
mod changes;
pub mod guard;
pub mod loaders;
pub mod mutation;
pub mod observe;
mod order;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::{Request, Response, Schema, ServerError};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    db::article::Visibility,
    domain::{self, auth::Viewer, preview::PreviewKey, rate_limit::RateLimiter},
    error::AppError,
};
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

/// The schema type served over HTTP.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Limits and switches the schema enforces while validating a query.
#[derive(Clone, Copy, Debug)]
pub struct SchemaOptions {
    /// Deepest selection nesting.
    pub depth: usize,
    /// Highest complexity.
    pub complexity: usize,
    /// Answer introspection queries.
    pub introspection: bool,
    /// Suggest field names in validation errors.
    pub suggestions: bool,
}

/// Limits on writes, shared with the mutation resolvers.
#[derive(Clone, Copy, Debug)]
pub struct WriteSettings {
    /// Largest article body, in bytes.
    pub max_article_bytes: usize,
}

/// The client's network address, for per-client limits.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

/// Shared services the resolvers need besides the database.
pub struct Services {
    /// Signs and checks preview tokens.
    pub preview_key: PreviewKey,
    /// Limits `recordView` per client.
    pub view_limiter: RateLimiter,
    /// Write limits.
    pub write: WriteSettings,
    /// Live events for subscriptions.
    pub hub: domain::live::Hub,
}

/// Builds the schema over `db`.
pub fn build_schema(
    db: DatabaseConnection,
    options: SchemaOptions,
    services: Services,
) -> AppSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .data(db)
        .data(services.preview_key)
        .data(services.view_limiter)
        .data(services.write)
        .data(services.hub)
        .enable_federation()
        .limit_depth(options.depth)
        .limit_complexity(options.complexity);
    if !options.introspection {
        builder = builder.disable_introspection();
    }
    if !options.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn schema_sdl() -> String {
    sdl_schema().sdl()
}

/// The subgraph SDL a federation gateway composes (what `_service { sdl }` answers), as
/// committed in `subgraph.graphql`.
pub fn subgraph_sdl() -> String {
    sdl_schema().sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}

fn sdl_schema() -> AppSchema {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .enable_federation()
        .finish()
}

/// The instant a request reads "now" at (see [`domain::request_time`]).
#[derive(Clone, Copy, Debug)]
pub struct RequestTime(pub DateTime<Utc>);

/// Executes one request for `viewer` with its per-request data: the request time and fresh
/// dataloaders (so no cached value outlives its request), batching loads deterministically.
/// Returns the response and what it may be cached as (see [`cache`]).
pub async fn execute(
    schema: &AppSchema,
    hub: &domain::live::Hub,
    req: Request,
    db: &DatabaseConnection,
    viewer: Viewer,
    client: ClientAddr,
) -> (Response, cache::Collected) {
    let now = domain::request_time();
    let queue = loaders::BatchQueue::default();
    // Request data wins over the schema's: resolvers use the pool chosen for this request.
    let req = req
        .data(RequestTime(now))
        .data(viewer)
        .data(client)
        .data(db.clone());
    let fetches = loaders::Fetches::Queued(queue.clone());
    let mut req = loaders::register(req, db, viewer.visibility(now), &fetches);
    let shape = req
        .parsed_query()
        .ok()
        .cloned()
        .map(|doc| (doc, req.operation_name.clone()));
    let watch = observe::begin(
        shape.as_ref().map(|(doc, _)| doc),
        req.operation_name.as_deref(),
    );
    let (mut response, collected) =
        cache::collect(loaders::drive(queue, schema.execute(req))).await;
    response.errors.iter_mut().for_each(tag_error);
    if let Some(watch) = watch {
        watch.end(&response);
    }
    if let Some((doc, operation)) = shape {
        order::restore(&mut response.data, &doc, operation.as_deref());
        if changes::content_changed(&doc, operation.as_deref(), &response.data) {
            hub.publish(domain::live::Event::Changed).await;
        }
    }
    (response, collected)
}

/// Executes a subscription for `viewer`: one response per event. "Now" is read afresh for
/// every event, so an article published for later shows once its time has come.
pub fn execute_stream(
    schema: &AppSchema,
    req: Request,
    db: &DatabaseConnection,
    viewer: Viewer,
) -> impl futures_util::Stream<Item = Response> + Send + use<> {
    use futures_util::StreamExt as _;
    let req = req.data(viewer);
    let vis = viewer.visibility(domain::request_time());
    let mut req = loaders::register(req, db, vis, &loaders::Fetches::Spawned);
    let shape = req
        .parsed_query()
        .ok()
        .cloned()
        .map(|doc| (doc, req.operation_name.clone()));
    schema.execute_stream(req).map(move |mut response| {
        response.errors.iter_mut().for_each(tag_error);
        if let Some((doc, operation)) = &shape {
            order::restore(&mut response.data, doc, operation.as_deref());
        }
        response
    })
}

/// Announces a committed change to subscribers (a no-op when the schema has no hub).
pub(crate) async fn announce(ctx: &async_graphql::Context<'_>, event: domain::live::Event) {
    if let Ok(hub) = ctx.data::<domain::live::Hub>() {
        hub.publish(event).await;
    }
}

/// "Now" for this request.
pub(crate) fn now(ctx: &async_graphql::Context<'_>) -> DateTime<Utc> {
    ctx.data_opt::<RequestTime>()
        .map_or_else(domain::request_time, |t| t.0)
}

/// Who is asking (anonymous when the request carries no identity).
pub(crate) fn viewer(ctx: &async_graphql::Context<'_>) -> Viewer {
    ctx.data_opt::<Viewer>()
        .copied()
        .unwrap_or(Viewer::Anonymous)
}

/// The articles this request may read.
pub(crate) fn visibility(ctx: &async_graphql::Context<'_>) -> Visibility {
    viewer(ctx).visibility(now(ctx))
}

/// Gives every error from a domain failure its `extensions.code` (and `field`), logging
/// database and internal failures, whose text never reaches the client.
fn tag_error(err: &mut ServerError) {
    let Some(app) = err.source::<AppError>() else {
        return;
    };
    match app {
        AppError::Database(e) => tracing::error!(error = %e, path = ?err.path, "database error"),
        AppError::Internal(e) => tracing::error!(error = %e, path = ?err.path, "internal error"),
        _ => {}
    }
    let code = app.code();
    let field = match app {
        AppError::InvalidField { field, .. } => Some(field.clone()),
        _ => None,
    };
    let ext = err.extensions.get_or_insert_with(Default::default);
    ext.set("code", code);
    if let Some(field) = field {
        ext.set("field", field);
    }
}
