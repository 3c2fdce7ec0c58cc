//! Every failure a request can meet, as an HTTP status plus the seed's error envelope.
//! Engine errors keep their stable code; the status is derived from that code alone.
//!
//! 5xx: 503 when the store cannot serve the request: STORAGE_ERROR (the database failed, or
//! refuses writes because its file was deleted or replaced while open) and BUSY (another
//! process holds the write lock past the busy timeout); 500 INTERNAL_ERROR only for a fault of
//! the server itself (a handler that panicked). A 503 that retrying soon may cure (BUSY, and
//! SERVICE_UNAVAILABLE at the event-stream cap) carries `Retry-After`; one that needs an
//! operator (STORAGE_ERROR) does not.

use inventory::ErrorCode;

/// The envelope's `error` codes of failures the server meets before or around the engine,
/// beside the engine's own (`ErrorCode::ALL`).
pub const SERVER_CODES: [&str; 11] = [
    "BAD_REQUEST",
    "METHOD_NOT_ALLOWED",
    "REQUEST_TIMEOUT",
    "RATE_LIMITED",
    "PAYLOAD_TOO_LARGE",
    "URI_TOO_LONG",
    "INTERNAL_ERROR",
    "NOT_IMPLEMENTED",
    "SERVICE_UNAVAILABLE",
    "HTTP_VERSION_NOT_SUPPORTED",
    "READ_ONLY",
];

/// Every code the envelope's `error` can hold: the engine's, then the server's.
pub fn codes() -> impl Iterator<Item = &'static str> {
    ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(SERVER_CODES)
}

/// The schema of an error code (the document's `ErrorCode`): a closed set, [`codes`].
pub struct CodeName;

impl schemars::JsonSchema for CodeName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = codes().collect();
        schemars::json_schema!({
            "type": "string", "enum": codes,
            "description": "A stable machine code: the engine's, or the server's own for failures around it."
        })
    }
}

/// What a client is told to wait before retrying a BUSY write: the server has already waited
/// the busy timeout, so the lock is held by a long transaction elsewhere.
pub const RETRY_AFTER_SECS: u32 = 1;

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

    /// The `Retry-After` of a 503 that a retry may soon cure, in seconds.
    pub fn retry_after(&self) -> Option<u32> {
        let transient = [ErrorCode::Busy.as_str(), "SERVICE_UNAVAILABLE"];
        (self.status == 503 && transient.contains(&self.code)).then_some(RETRY_AFTER_SECS)
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
            ErrorCode::StorageError | ErrorCode::Busy => 503,
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

    /// The literal code of every `ApiError::new` in the server's source.
    fn codes_in_source() -> std::collections::BTreeSet<String> {
        fn walk(dir: &std::path::Path, codes: &mut std::collections::BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, codes);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for call in text.split("ApiError::new(").skip(1) {
                        // The second argument, when it is a literal (not an engine code's as_str()).
                        let code = call.split(',').nth(1).unwrap_or_default().trim();
                        if let Some(code) = code.strip_prefix('"') {
                            codes.insert(code.trim_end_matches('"').to_owned());
                        }
                    }
                }
            }
        }
        let mut codes = std::collections::BTreeSet::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut codes,
        );
        codes
    }

    /// The document's enum of codes is `ErrorCode::ALL` and `SERVER_CODES`: a code the server
    /// answers with must be in one of them, and every server code must be answered somewhere.
    #[test]
    fn server_codes_are_the_codes_the_server_writes() {
        let written = codes_in_source();
        let engine: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        for code in &written {
            assert!(
                SERVER_CODES.contains(&code.as_str()) || engine.contains(&code.as_str()),
                "{code} is written but not listed"
            );
        }
        for code in SERVER_CODES {
            assert!(written.contains(code), "{code} is listed but never written");
        }
    }

    #[test]
    fn every_engine_code_has_a_status() {
        for code in ErrorCode::ALL {
            let e = ApiError::from(inventory::Error::new(code, "x"));
            assert_eq!(e.code, code.as_str());
            let expected = match code {
                ErrorCode::NotFound => 404,
                ErrorCode::ValidationError => 400,
                ErrorCode::StorageError | ErrorCode::Busy => 503,
                ErrorCode::Unauthorized => 401,
                ErrorCode::Forbidden => 403,
                _ => 409,
            };
            assert_eq!(e.status, expected);
            let retry = (code == ErrorCode::Busy).then_some(RETRY_AFTER_SECS);
            assert_eq!(e.retry_after(), retry, "{code}");
        }
        let streams = ApiError::new(503, "SERVICE_UNAVAILABLE", "too many streams");
        assert_eq!(streams.retry_after(), Some(RETRY_AFTER_SECS));
        let panicked = ApiError::new(500, "INTERNAL_ERROR", "the handler panicked");
        assert_eq!(panicked.retry_after(), None);
        let version = inventory::Error {
            field: Some("version".into()),
            ..inventory::Error::conflict("stale")
        };
        assert_eq!(ApiError::from_engine(version.clone(), true).status, 412);
        assert_eq!(ApiError::from_engine(version, false).status, 409);
    }
}
