//! `viewer`: who the request is made as.

use async_graphql::{Context, Enum, Object};
use entity::api_key::Role;

use crate::{
    domain::auth::Viewer,
    error::AppError,
    graphql::{
        loaders::AuthorLoader,
        types::{Author, loader},
        viewer,
    },
};

/// Identity lookups.
#[derive(Default)]
pub struct ViewerQuery;

/// What a caller may do.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ViewerRole {
    /// No API key: published content only.
    Anonymous,
    /// Writes its own articles.
    Author,
    /// Edits and publishes all content.
    Editor,
    /// Also manages authors, tags and keys.
    Admin,
}

/// The identity a request is made with.
pub struct ViewerInfo(Viewer);

#[Object(name = "Viewer", cache_control(private))]
impl ViewerInfo {
    /// The caller's role.
    async fn role(&self) -> ViewerRole {
        match self.0 {
            Viewer::Anonymous => ViewerRole::Anonymous,
            Viewer::Key { role, .. } => match role {
                Role::Admin => ViewerRole::Admin,
                Role::Editor => ViewerRole::Editor,
                Role::Author => ViewerRole::Author,
            },
        }
    }

    /// The author an author key writes as.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Author>> {
        let Viewer::Key {
            author_id: Some(id),
            ..
        } = self.0
        else {
            return Ok(None);
        };
        let author = loader::<AuthorLoader>(ctx)?
            .load_one(id)
            .await?
            .ok_or_else(|| AppError::not_found("author", id.to_string()))?;
        Ok(Some(author.into()))
    }
}

#[Object]
impl ViewerQuery {
    /// Who this request is made as (send `Authorization: Bearer <token>` to be someone).
    async fn viewer(&self, ctx: &Context<'_>) -> ViewerInfo {
        ViewerInfo(viewer(ctx))
    }
}
