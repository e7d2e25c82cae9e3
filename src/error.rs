//! One error type for the domain and data layers, with one mapping to the wire
//! (`extensions.code`). Database errors are logged and never shown to clients.

use sea_orm::{DbErr, SqlErr};

/// An error a client can act on, or one opaque internal error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The caller named something that does not exist (or that it may not see).
    #[error("{entity} `{id}` not found")]
    NotFound { entity: &'static str, id: String },
    /// The input is malformed or outside a limit.
    #[error("{0}")]
    BadUserInput(String),
    /// One input field is invalid; `field` is its path, e.g. `input.title`.
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    /// Too many requests of this kind from this client; retry later.
    #[error("{0}")]
    RateLimited(String),
    /// The request conflicts with the current state (a taken slug, a stale version).
    #[error("{0}")]
    Conflict(String),
    /// The credentials are missing where required, unknown, or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Something other than the database failed; the text is logged, never sent.
    #[error("internal error")]
    Internal(String),
    /// The database failed; the text is logged, never sent.
    #[error("internal error")]
    Database(#[source] DbErr),
}

impl AppError {
    /// The stable `extensions.code` clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NOT_FOUND",
            Self::BadUserInput(_) | Self::InvalidField { .. } => "BAD_USER_INPUT",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::Conflict(_) => "CONFLICT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Internal(_) | Self::Database(_) => "INTERNAL",
        }
    }

    /// Shorthand for a `BadUserInput` error.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    /// Shorthand for an `InvalidField` error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for a `NotFound` error.
    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound {
            entity,
            id: id.into(),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        Self::Database(e)
    }
}

/// Result of the domain and data layers.
pub type AppResult<T> = Result<T, AppError>;

/// Maps a unique-constraint violation to a caller-chosen error, at the call site.
pub trait DbResultExt<T> {
    /// Replaces a unique violation with `f()`; other errors stay database errors.
    fn on_unique_violation(self, f: impl FnOnce() -> AppError) -> AppResult<T>;
}

impl<T> DbResultExt<T> for Result<T, DbErr> {
    fn on_unique_violation(self, f: impl FnOnce() -> AppError) -> AppResult<T> {
        self.map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => f(),
            _ => AppError::Database(e),
        })
    }
}
