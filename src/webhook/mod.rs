//! Sending webhooks: the background worker that drains the outbox. The rules it follows
//! (claiming, signing, retrying) live in `domain::webhook`; this module only does the I/O.

pub mod worker;

pub use worker::{Worker, WorkerSettings};
