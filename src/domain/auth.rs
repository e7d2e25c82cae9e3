//! Identity: API keys (only a hash of each token is stored) and the viewer they stand for.

use chrono::Utc;
use entity::api_key::{self, Role};
use sea_orm::{ConnectionTrait, Set};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::author;
use crate::{
    db::{self, article::Visibility},
    error::{AppError, AppResult},
};

/// Prefix of every token, so that leaked tokens are easy to recognise and search for.
pub const TOKEN_PREFIX: &str = "cak_";

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// No credentials: reads published content only.
    Anonymous,
    /// A valid API key.
    Key {
        /// The key's id.
        key_id: i32,
        /// Its role.
        role: Role,
        /// The author an author key writes as.
        author_id: Option<i32>,
    },
}

impl Viewer {
    /// The articles this viewer may read at `now`: the public's, plus an author's own, plus
    /// everything for editors and admins.
    pub fn visibility(self, now: chrono::DateTime<Utc>) -> Visibility {
        match self {
            Self::Key {
                role: Role::Admin | Role::Editor,
                ..
            } => Visibility::Everything,
            Self::Key {
                role: Role::Author,
                author_id: Some(id),
                ..
            } => Visibility::PublicAndAuthor(now, id),
            _ => Visibility::Public(now),
        }
    }
}

impl Viewer {
    /// The key's role and author; anonymous callers are `UNAUTHENTICATED`.
    pub fn require_key(self) -> AppResult<(Role, Option<i32>)> {
        match self {
            Self::Anonymous => Err(AppError::Unauthenticated(
                "this needs an API key: send `Authorization: Bearer <token>`".into(),
            )),
            Self::Key {
                role, author_id, ..
            } => Ok((role, author_id)),
        }
    }

    /// Editors and admins pass; authors are `FORBIDDEN`.
    pub fn require_editor(self) -> AppResult<()> {
        match self.require_key()? {
            (Role::Admin | Role::Editor, _) => Ok(()),
            (Role::Author, _) => Err(AppError::Forbidden(
                "only editors and admins may do this".into(),
            )),
        }
    }

    /// Admins pass; everyone else is `FORBIDDEN`.
    pub fn require_admin(self) -> AppResult<()> {
        match self.require_key()? {
            (Role::Admin, _) => Ok(()),
            _ => Err(AppError::Forbidden("only admins may do this".into())),
        }
    }

    /// Whether this viewer may edit an article by `author_id`: editors and admins may edit
    /// any, an author only its own.
    pub fn require_editor_of(self, author_id: i32) -> AppResult<()> {
        match self.require_key()? {
            (Role::Admin | Role::Editor, _) => Ok(()),
            (Role::Author, Some(own)) if own == author_id => Ok(()),
            (Role::Author, _) => Err(AppError::Forbidden(
                "an author key may edit its own articles only".into(),
            )),
        }
    }
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The viewer a bearer token stands for. An unknown, malformed or revoked token is
/// `UNAUTHENTICATED` (never silently anonymous).
pub async fn authenticate(conn: &impl ConnectionTrait, token: &str) -> AppResult<Viewer> {
    let refused = || AppError::Unauthenticated("invalid or revoked API key".into());
    let token = token.trim();
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Err(refused());
    }
    let digest = hash(token);
    let key = db::api_key::find_by_hash(conn, &digest)
        .await?
        .ok_or_else(refused)?;
    // The lookup is by hash; compare again in constant time so that no early-exit string
    // comparison runs on secret-derived bytes.
    if !bool::from(key.token_hash.as_bytes().ct_eq(digest.as_bytes())) || key.revoked_at.is_some() {
        return Err(refused());
    }
    Ok(Viewer::Key {
        key_id: key.id,
        role: key.role,
        author_id: key.author_id,
    })
}

/// Creates a key and returns it with its token, which is shown once and never stored.
/// An author key must name the author it writes as.
pub async fn create_key(
    conn: &impl ConnectionTrait,
    role: Role,
    author_slug: Option<&str>,
    name: &str,
) -> AppResult<(api_key::Model, String)> {
    let author_id = match (role, author_slug) {
        (Role::Author, None) => {
            return Err(AppError::bad_input("an author key needs --author SLUG"));
        }
        (Role::Author, Some(slug)) => Some(author::get_by_slug(conn, slug).await?.id),
        (_, Some(_)) => {
            return Err(AppError::bad_input("--author applies to author keys only"));
        }
        (_, None) => None,
    };
    let mut secret = [0_u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| AppError::Internal(format!("no randomness available: {e}")))?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, secret)
    );
    let key = db::api_key::insert(
        conn,
        api_key::ActiveModel {
            name: Set(name.trim().to_owned()),
            role: Set(role),
            author_id: Set(author_id),
            token_hash: Set(hash(&token)),
            token_prefix: Set(token.chars().take(10).collect()),
            created_at: Set(Utc::now()),
            revoked_at: Set(None),
            ..Default::default()
        },
    )
    .await?;
    Ok((key, token))
}

/// Every key (hashes only; tokens are never stored).
pub async fn list_keys(conn: &impl ConnectionTrait) -> AppResult<Vec<api_key::Model>> {
    db::api_key::list(conn).await
}

/// Revokes a key; requests with its token are refused from now on.
pub async fn revoke_key(conn: &impl ConnectionTrait, id: i32) -> AppResult<api_key::Model> {
    db::api_key::revoke(conn, id, Utc::now())
        .await?
        .ok_or_else(|| AppError::not_found("API key", id.to_string()))
}
