//! Preview tokens: a signed, expiring grant to read one article (draft included) without a key.
//! Format: `<article id>.<expiry unix seconds>.<base64url HMAC-SHA256 of the first two parts>`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::ConnectionTrait;
use sha2::Sha256;

use super::auth::Viewer;
use crate::{
    db,
    error::{AppError, AppResult},
};

/// Longest lifetime of a preview token, in seconds (7 days).
pub const MAX_TTL_SECONDS: i64 = 7 * 24 * 3600;

/// The key that signs preview tokens (none: preview tokens are unavailable).
#[derive(Clone)]
pub struct PreviewKey(Option<Vec<u8>>);

impl PreviewKey {
    /// A key from configured secret text.
    pub fn from_secret(secret: &str) -> Self {
        Self(Some(secret.as_bytes().to_vec()))
    }

    /// A random key (tokens then work only in this process, until it stops). Without a source
    /// of randomness there is no key, and issuing a token is an internal error.
    pub fn random() -> Self {
        let mut key = vec![0_u8; 32];
        match getrandom::fill(&mut key) {
            Ok(()) => Self(Some(key)),
            Err(e) => {
                tracing::error!(error = %e, "no randomness: preview tokens need PREVIEW_SECRET");
                Self(None)
            }
        }
    }

    fn mac(&self, payload: &str) -> AppResult<Hmac<Sha256>> {
        let key = self
            .0
            .as_deref()
            .ok_or_else(|| AppError::Internal("no preview key configured".into()))?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .map_err(|e| AppError::Internal(format!("preview key: {e}")))?;
        mac.update(payload.as_bytes());
        Ok(mac)
    }

    fn sign(&self, article_id: i32, expires: DateTime<Utc>) -> AppResult<String> {
        let payload = format!("{article_id}.{}", expires.timestamp());
        let tag = self.mac(&payload)?.finalize().into_bytes();
        Ok(format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag)))
    }

    /// The article a token grants, if it is authentic and unexpired at `now`; otherwise
    /// `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> AppResult<i32> {
        let refused = || AppError::Unauthenticated("invalid or expired preview token".into());
        let mut parts = token.trim().splitn(3, '.');
        let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(refused());
        };
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| refused())?;
        // verify_slice compares in constant time.
        self.mac(&format!("{id}.{exp}"))?
            .verify_slice(&sig)
            .map_err(|_| refused())?;
        let exp: i64 = exp.parse().map_err(|_| refused())?;
        if now.timestamp() >= exp {
            return Err(refused());
        }
        id.parse().map_err(|_| refused())
    }
}

/// Issues a preview token for an article the viewer may edit, valid `ttl_seconds`.
pub async fn create(
    conn: &impl ConnectionTrait,
    key: &PreviewKey,
    viewer: Viewer,
    article_id: i32,
    ttl_seconds: i64,
) -> AppResult<(String, DateTime<Utc>)> {
    viewer.require_key()?;
    if !(1..=MAX_TTL_SECONDS).contains(&ttl_seconds) {
        return Err(AppError::invalid(
            "ttl",
            format!("must be between 1 and {MAX_TTL_SECONDS} seconds"),
        ));
    }
    let article = db::article::find_visible_by_ids(
        conn,
        &[article_id],
        viewer.visibility(super::request_time()),
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| AppError::not_found("article", article_id.to_string()))?;
    viewer.require_editor_of(article.author_id)?;
    let expires = Utc::now() + chrono::Duration::seconds(ttl_seconds);
    Ok((key.sign(article.id, expires)?, expires))
}

/// The article a preview token grants (in whatever state), if the token is valid at `now`.
pub async fn read(
    conn: &impl ConnectionTrait,
    key: &PreviewKey,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<entity::article::Model> {
    let id = key.verify(token, now)?;
    db::article::find_by_id(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("article", id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_not_after_tampering() {
        let key = PreviewKey::from_secret("s3cret");
        let now = Utc::now();
        let token = key.sign(42, now + chrono::Duration::seconds(60)).unwrap();
        assert_eq!(key.verify(&token, now).unwrap(), 42);
        assert!(
            key.verify(&token, now + chrono::Duration::seconds(61))
                .is_err()
        );
        let tampered = token.replacen("42.", "43.", 1);
        assert!(key.verify(&tampered, now).is_err());
        assert!(
            PreviewKey::from_secret("other")
                .verify(&token, now)
                .is_err()
        );
        for junk in ["", "a.b", "1.2.3", "..."] {
            assert!(key.verify(junk, now).is_err(), "{junk:?}");
        }
    }
}
