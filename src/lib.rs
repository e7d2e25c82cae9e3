//! A GraphQL content API for long-form articles, their authors and tags.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod webhook;
