//! Managing authors (admins).

use async_graphql::{Context, ID, InputObject, Object};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{self, author::AuthorInput},
    graphql::{
        types::{Author, NodeId, NodeKind},
        viewer,
    },
};

/// A new author.
#[derive(InputObject)]
pub struct CreateAuthorInput {
    /// Display name.
    pub name: String,
    /// Slug; derived from the name when omitted.
    pub slug: Option<String>,
    /// Biography.
    pub bio: Option<String>,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// Profile page URL.
    pub profile_url: Option<String>,
}

/// Changes to an author; omitted fields stay, an empty string clears a text or URL.
#[derive(InputObject)]
pub struct UpdateAuthorInput {
    /// Display name.
    pub name: Option<String>,
    /// Slug.
    pub slug: Option<String>,
    /// Biography.
    pub bio: Option<String>,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// Profile page URL.
    pub profile_url: Option<String>,
}

/// Author writes.
#[derive(Default)]
pub struct AuthorMutation;

#[Object]
impl AuthorMutation {
    /// Creates an author.
    async fn create_author(
        &self,
        ctx: &Context<'_>,
        input: CreateAuthorInput,
    ) -> async_graphql::Result<Author> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let input = AuthorInput {
            slug: input.slug,
            name: Some(input.name),
            bio: input.bio,
            avatar_url: input.avatar_url,
            profile_url: input.profile_url,
        };
        Ok(domain::author::create(db, viewer, &input).await?.into())
    }

    /// Changes an author.
    async fn update_author(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateAuthorInput,
    ) -> async_graphql::Result<Author> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let id = NodeId::decode_as(&id, NodeKind::Author)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let input = AuthorInput {
            slug: input.slug,
            name: input.name,
            bio: input.bio,
            avatar_url: input.avatar_url,
            profile_url: input.profile_url,
        };
        Ok(domain::author::update(db, viewer, id, &input).await?.into())
    }

    /// Deletes an author. One who still has articles is a CONFLICT unless `reassignTo` names
    /// the author who takes them over.
    async fn delete_author(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(desc = "Slug of the author who takes over the articles.")] reassign_to: Option<
            String,
        >,
    ) -> async_graphql::Result<ID> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let raw = NodeId::decode_as(&id, NodeKind::Author)?;
        let db = ctx.data::<DatabaseConnection>()?;
        domain::author::delete(db, viewer, raw, reassign_to.as_deref()).await?;
        Ok(id)
    }
}
