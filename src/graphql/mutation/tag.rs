//! Managing tags (admins).

use async_graphql::{Context, ID, InputObject, Object};
use sea_orm::DatabaseConnection;

use crate::{
    domain,
    graphql::{
        types::{NodeId, NodeKind, Tag},
        viewer,
    },
};

/// A new tag.
#[derive(InputObject)]
pub struct CreateTagInput {
    /// Display name.
    pub name: String,
    /// Slug; the case-folded name when omitted.
    pub slug: Option<String>,
}

/// Changes to a tag.
#[derive(InputObject)]
pub struct UpdateTagInput {
    /// Display name.
    pub name: Option<String>,
    /// Slug.
    pub slug: Option<String>,
}

/// Tag writes.
#[derive(Default)]
pub struct TagMutation;

#[Object]
impl TagMutation {
    /// Creates a tag.
    async fn create_tag(
        &self,
        ctx: &Context<'_>,
        input: CreateTagInput,
    ) -> async_graphql::Result<Tag> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(
            domain::tag::create(db, viewer, &input.name, input.slug.as_deref())
                .await?
                .into(),
        )
    }

    /// Renames a tag or changes its slug.
    async fn update_tag(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTagInput,
    ) -> async_graphql::Result<Tag> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let id = NodeId::decode_as(&id, NodeKind::Tag)?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(
            domain::tag::update(db, viewer, id, input.name.as_deref(), input.slug.as_deref())
                .await?
                .into(),
        )
    }

    /// Deletes a tag; articles lose it.
    async fn delete_tag(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let raw = NodeId::decode_as(&id, NodeKind::Tag)?;
        let db = ctx.data::<DatabaseConnection>()?;
        domain::tag::delete(db, viewer, raw).await?;
        Ok(id)
    }

    /// Merges tag `from` into `into` (slugs): articles keep one copy of `into`, `from` is gone.
    async fn merge_tags(
        &self,
        ctx: &Context<'_>,
        from: String,
        into: String,
    ) -> async_graphql::Result<Tag> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(domain::tag::merge(db, viewer, &from, &into).await?.into())
    }
}
