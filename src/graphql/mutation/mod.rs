//! Mutation roots, one per schema area, merged into `Mutation`. Each resolver checks who is
//! asking before it looks at the input.

mod article;
mod author;
mod counter;
mod key;
mod tag;

use async_graphql::MergedObject;

pub use key::KeyQuery;

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(
    article::ArticleMutation,
    counter::CounterMutation,
    author::AuthorMutation,
    tag::TagMutation,
    key::KeyMutation,
);
