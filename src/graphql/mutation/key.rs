//! Managing API keys over GraphQL (admins); the CLI's `keys` command does the same.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_key::{self, Role};
use sea_orm::DatabaseConnection;

use crate::{domain::auth, error::AppError, graphql::viewer};

/// What a key may do.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// Everything, including authors, tags and keys.
    Admin,
    /// All content, including publishing.
    Editor,
    /// Its own articles only.
    Author,
}

impl From<KeyRole> for Role {
    fn from(r: KeyRole) -> Self {
        match r {
            KeyRole::Admin => Role::Admin,
            KeyRole::Editor => Role::Editor,
            KeyRole::Author => Role::Author,
        }
    }
}

impl From<Role> for KeyRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => KeyRole::Admin,
            Role::Editor => KeyRole::Editor,
            Role::Author => KeyRole::Author,
        }
    }
}

/// An API key as admins see it: never the token, only its first characters.
#[derive(SimpleObject)]
#[graphql(cache_control(private))]
pub struct ApiKey {
    /// Key id (for `revokeApiKey`).
    pub id: ID,
    /// Label.
    pub name: String,
    /// Role.
    pub role: KeyRole,
    /// The token's first characters.
    pub token_prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(k: api_key::Model) -> Self {
        Self {
            id: ID(k.id.to_string()),
            name: k.name,
            role: k.role.into(),
            token_prefix: k.token_prefix,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key and its token, which is shown only here.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKey,
    /// The bearer token; store it now, it cannot be shown again.
    pub token: String,
}

fn key_id(id: &ID) -> Result<i32, AppError> {
    id.parse::<i32>()
        .map_err(|_| AppError::invalid("id", format!("`{}` is not an API key id", id.as_str())))
}

/// Key management (admins).
#[derive(Default)]
pub struct KeyMutation;

#[Object]
impl KeyMutation {
    /// Creates a key; an author key names the author it writes as.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        role: KeyRole,
        author_slug: Option<String>,
        #[graphql(default)] name: String,
    ) -> async_graphql::Result<CreatedApiKey> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let (key, token) = auth::create_key(db, role.into(), author_slug.as_deref(), &name).await?;
        Ok(CreatedApiKey {
            key: key.into(),
            token,
        })
    }

    /// Revokes a key: its token is refused from now on.
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ApiKey> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(auth::revoke_key(db, key_id(&id)?).await?.into())
    }
}

/// Key listing (admins).
#[derive(Default)]
pub struct KeyQuery;

#[Object]
impl KeyQuery {
    /// Every API key (admins only).
    async fn api_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        let viewer = viewer(ctx);
        viewer.require_admin()?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(auth::list_keys(db)
            .await?
            .into_iter()
            .map(ApiKey::from)
            .collect())
    }
}
