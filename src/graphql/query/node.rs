//! Relay's `node` and `nodes`.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object};
use sea_orm::DatabaseConnection;

use crate::{
    domain,
    error::AppError,
    graphql::{
        types::{Article, Author, Node, NodeId, NodeKind, Tag},
        visibility,
    },
};

/// Most ids one `nodes` call may name.
pub const MAX_NODES: usize = 100;

/// Global object lookups.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global id, or null when there is none (or it is not public).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        Ok(fetch(ctx, &[id]).await?.pop().flatten())
    }

    /// The objects with these global ids, in the same order; null where there is none.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most 100 ids.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(
                AppError::bad_input(format!("`ids` may name at most {MAX_NODES} objects")).into(),
            );
        }
        fetch(ctx, &ids).await
    }
}

/// Resolves global ids with one query per type named.
async fn fetch(ctx: &Context<'_>, ids: &[ID]) -> async_graphql::Result<Vec<Option<Node>>> {
    let db = ctx.data::<DatabaseConnection>()?;
    let decoded = ids
        .iter()
        .map(|id| NodeId::decode(id))
        .collect::<Result<Vec<_>, _>>()?;
    let of_kind = |kind| {
        decoded
            .iter()
            .filter(move |n| n.kind == kind)
            .map(|n| n.id)
            .collect::<Vec<_>>()
    };
    let mut found: HashMap<NodeId, Node> = HashMap::new();
    let articles = of_kind(NodeKind::Article);
    if !articles.is_empty() {
        for a in domain::article::find_visible_by_ids(db, &articles, visibility(ctx)).await? {
            found.insert(
                NodeId {
                    kind: NodeKind::Article,
                    id: a.id,
                },
                Node::Article(Article::from(a)),
            );
        }
    }
    let authors = of_kind(NodeKind::Author);
    if !authors.is_empty() {
        for a in domain::author::find_by_ids(db, &authors).await? {
            found.insert(
                NodeId {
                    kind: NodeKind::Author,
                    id: a.id,
                },
                Node::Author(Author::from(a)),
            );
        }
    }
    let tags = of_kind(NodeKind::Tag);
    if !tags.is_empty() {
        for t in domain::tag::find_by_ids(db, &tags).await? {
            found.insert(
                NodeId {
                    kind: NodeKind::Tag,
                    id: t.id,
                },
                Node::Tag(Tag::from(t)),
            );
        }
    }
    Ok(decoded.iter().map(|n| found.get(n).cloned()).collect())
}
