//! The one error that crosses dbdeck's API boundary.
//!
//! Every door (Tauri, HTTP, CLI) shows the same thing: a stable `code` the UI can branch on,
//! a message a person can act on, and, where we know one, a hint saying what to do next.
//! Module errors convert into it; a Debug dump or a stack trace must never reach a person.

use serde::Serialize;
use ts_rs::TS;

/// Stable, machine-readable error codes. Add one only when a door needs to branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    AlreadyExists,
    /// A write or control action on a `prod` environment was not confirmed by its name.
    ConfirmationRequired,
    KeychainUnavailable,
    SecretMissing,
    AuthFailed,
    UnknownHost,
    ConnectionRefused,
    Timeout,
    TlsFailed,
    Unreachable,
    ServerError,
    Store,
    Unauthorized,
    /// The target's state forbids it now: a migration lock held elsewhere, a modified or
    /// failed migration not yet repaired.
    Conflict,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::ConfirmationRequired => "confirmation_required",
            ErrorCode::KeychainUnavailable => "keychain_unavailable",
            ErrorCode::SecretMissing => "secret_missing",
            ErrorCode::AuthFailed => "auth_failed",
            ErrorCode::UnknownHost => "unknown_host",
            ErrorCode::ConnectionRefused => "connection_refused",
            ErrorCode::Timeout => "timeout",
            ErrorCode::TlsFailed => "tls_failed",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::ServerError => "server_error",
            ErrorCode::Store => "store",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Internal => "internal",
        }
    }
}

/// `{code, message, hint?}` — what a person sees when something fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Name what the error is about: "plan B: cannot read the plan: …".
    pub fn prefixed(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn not_found(what: &str, name: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no {what} named '{name}'"))
    }

    /// Message and hint on one line each, for terminals and logs.
    pub fn render(&self) -> String {
        match &self.hint {
            Some(h) => format!("error: {}\n  hint: {}", self.message, h),
            None => format!("error: {}", self.message),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::new(ErrorCode::Store, format!("local store: {e}"))
            .with_hint("check that the data directory is writable and not on a full disk")
    }
}

impl From<sqlx::migrate::MigrateError> for ApiError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        ApiError::new(ErrorCode::Store, format!("while migrating the local store: {e}"))
            .with_hint("this data directory may belong to a newer dbdeck; use a matching version or another --data-dir")
    }
}
