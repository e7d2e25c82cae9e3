//! Integration tests: the real router against a real database, SQLite always and Postgres when
//! `TEST_DATABASE_URL` is set. Every test gets its own database (a temp file, or a schema).

#![expect(
    clippy::unwrap_used,
    reason = "test bodies run in helper fns (one per backend) and assert by panicking"
)]

#[macro_use]
mod helpers;

mod articles;
mod auth;
mod caching;
mod cli;
mod federation;
mod graphiql;
mod http;
mod import;
mod limits;
mod loaders;
mod mutations;
mod ops;
mod pagination;
mod replica;
mod responses;
mod schema;
mod search;
mod subscriptions;
mod webhooks;
