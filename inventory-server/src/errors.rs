//! Every failure a request can meet, as an HTTP status plus the seed's error envelope.
//! Engine errors keep their stable code; the status is derived from that code alone.

use inventory::ErrorCode;

/// The envelope's `error` codes of failures the server meets before or around the engine,
/// beside the engine's own (`ErrorCode::ALL`).
pub const SERVER_CODES: [&str; 6] = [
    "METHOD_NOT_ALLOWED",
    "PAYLOAD_TOO_LARGE",
    "REQUEST_TIMEOUT",
    "RATE_LIMITED",
    "SERVICE_UNAVAILABLE",
    "INTERNAL_ERROR",
];

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    /// The envelope's `error`: an engine code, or an HTTP-level one (METHOD_NOT_ALLOWED…).
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// The failing operation of a batch.
    pub index: Option<usize>,
    /// The Allow header of a 405.
    pub allow: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            index: None,
            allow: None,
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(400, ErrorCode::ValidationError.as_str(), message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, ErrorCode::NotFound.as_str(), message)
    }

    pub fn method_not_allowed(allow: String) -> Self {
        ApiError {
            allow: Some(allow),
            ..ApiError::new(405, "METHOD_NOT_ALLOWED", "method not allowed on this path")
        }
    }

    /// Maps an engine error. `conditional` says the request carried If-Match: then a version
    /// conflict is a failed precondition (412) rather than a plain conflict (409).
    pub fn from_engine(e: inventory::Error, conditional: bool) -> Self {
        let status = match e.code {
            ErrorCode::NotFound => 404,
            ErrorCode::ValidationError => 400,
            ErrorCode::Conflict if conditional && e.field.as_deref() == Some("version") => 412,
            ErrorCode::InsufficientStock
            | ErrorCode::InsufficientReserved
            | ErrorCode::DuplicateSku
            | ErrorCode::Conflict => 409,
            ErrorCode::StorageError => 500,
            ErrorCode::Busy => 503,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
        };
        ApiError {
            status,
            code: e.code.as_str(),
            message: e.message,
            field: e.field,
            index: e.index,
            allow: None,
        }
    }
}

impl From<inventory::Error> for ApiError {
    fn from(e: inventory::Error) -> Self {
        ApiError::from_engine(e, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_code_has_a_status() {
        for code in ErrorCode::ALL {
            let e = ApiError::from(inventory::Error::new(code, "x"));
            assert_eq!(e.code, code.as_str());
            let expected = match code {
                ErrorCode::NotFound => 404,
                ErrorCode::ValidationError => 400,
                ErrorCode::StorageError => 500,
                ErrorCode::Busy => 503,
                ErrorCode::Unauthorized => 401,
                ErrorCode::Forbidden => 403,
                _ => 409,
            };
            assert_eq!(e.status, expected);
        }
        let version = inventory::Error {
            field: Some("version".into()),
            ..inventory::Error::conflict("stale")
        };
        assert_eq!(ApiError::from_engine(version.clone(), true).status, 412);
        assert_eq!(ApiError::from_engine(version, false).status, 409);
    }
}
