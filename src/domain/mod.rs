//! Business rules: visibility, pagination, validation and the import upsert. Talks to the
//! database only through db/, and takes any `ConnectionTrait` so it also runs in a transaction.

pub mod article;
pub mod auth;
pub mod author;
pub mod events;
pub mod live;
pub mod markdown;
pub mod page;
pub mod preview;
pub mod rate_limit;
pub mod search;
pub mod search_text;
pub mod tag;
pub mod validate;
pub mod webhook;

use chrono::{DateTime, SubsecRound, Utc};

/// The instant a request reads "now" at: whole seconds, so that both databases compare it the
/// same way, and fixed for the whole request, so that every field agrees on what is visible.
pub fn request_time() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}
