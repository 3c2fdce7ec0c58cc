//! One error type for every surface. The `code` is the stable contract: HTTP statuses,
//! Python exception classes and C status codes are all derived from it, never from the message.

use std::fmt;

/// Stable machine codes. Their string forms (`as_str`) never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No such live product, location or stock level.
    NotFound,
    /// The input is invalid; [`Error::field`] names the field.
    ValidationError,
    /// Not enough available stock for a remove, reserve or transfer.
    InsufficientStock,
    /// Not enough reserved for an unreserve or commit.
    InsufficientReserved,
    /// A live product already has this SKU.
    DuplicateSku,
    /// The request contradicts current state: a stale expected value or version, an
    /// idempotency key reused for a different request, a duplicate location.
    Conflict,
    /// The database failed, or the file is not (or not yet) an inventory database this build can use.
    StorageError,
    /// Another process held the database's write lock past the busy timeout: retry later.
    Busy,
    /// No valid API key was given where one is required, or the key is revoked.
    Unauthorized,
    /// The key is valid but may not do this (its scope, or the locations it is limited to).
    Forbidden,
}

impl ErrorCode {
    /// Every code, for surfaces that enumerate them.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::NotFound,
        ErrorCode::ValidationError,
        ErrorCode::InsufficientStock,
        ErrorCode::InsufficientReserved,
        ErrorCode::DuplicateSku,
        ErrorCode::Conflict,
        ErrorCode::StorageError,
        ErrorCode::Busy,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
    ];

    /// The stable machine code, e.g. `"NOT_FOUND"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::InsufficientStock => "INSUFFICIENT_STOCK",
            ErrorCode::InsufficientReserved => "INSUFFICIENT_RESERVED",
            ErrorCode::DuplicateSku => "DUPLICATE_SKU",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::StorageError => "STORAGE_ERROR",
            ErrorCode::Busy => "BUSY",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An engine error: a stable code, a human message, and where known the offending input
/// field and (inside a batch) the index of the failing operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{code}: {message}")]
pub struct Error {
    /// The stable machine code.
    pub code: ErrorCode,
    /// A human-readable explanation.
    pub message: String,
    /// The input field at fault, where there is one.
    pub field: Option<String>,
    /// Inside a batch: the index of the failing operation.
    pub index: Option<usize>,
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            field: None,
            index: None,
        }
    }

    /// A VALIDATION_ERROR about `field`.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorCode::ValidationError, message).on_field(field)
    }

    /// A NOT_FOUND error for `what`.
    pub fn not_found(what: impl fmt::Display) -> Self {
        Error::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// A CONFLICT error.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Conflict, message)
    }

    /// A STORAGE_ERROR.
    pub fn storage(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::StorageError, message)
    }

    /// A FORBIDDEN error.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Forbidden, message)
    }

    /// The same error, naming the input field at fault.
    pub(crate) fn on_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub(crate) fn at_index(mut self, index: usize) -> Self {
        self.index = Some(index);
        self.message = format!("operation {index}: {}", self.message);
        self
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as Sqlite;
        match e.sqlite_error_code() {
            Some(Sqlite::DatabaseBusy | Sqlite::DatabaseLocked) => Error::new(
                ErrorCode::Busy,
                format!("the database is busy (another process holds its lock): {e}"),
            ),
            _ => Error::storage(format!("database error: {e}")),
        }
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::storage(format!("connection pool error: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::storage(format!("stored record is unreadable: {e}"))
    }
}
