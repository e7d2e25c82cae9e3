//! Mutation roots, one per schema area, merged into `Mutation`. Each resolver checks who is
//! asking before it looks at the input.

mod article;
mod author;
mod counter;
mod key;
mod tag;
mod webhook;

use async_graphql::MergedObject;

pub use key::KeyQuery;
pub use webhook::WebhookQuery;

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(
    article::ArticleMutation,
    counter::CounterMutation,
    author::AuthorMutation,
    tag::TagMutation,
    key::KeyMutation,
    webhook::WebhookMutation,
);
