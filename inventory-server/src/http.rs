//! One request as the handlers see it (path parameters, query, headers, a capped body) and
//! the reply they give back. Handlers never touch tiny_http directly.

use crate::errors::ApiError;
use crate::input::Query;
use std::io::Read;
use std::time::{Duration, Instant};
use tiny_http::{Header, Request};

pub struct Req<'a> {
    pub request: &'a mut Request,
    pub params: Vec<(String, String)>,
    pub query: Query,
    pub max_body: usize,
    pub body_timeout: Duration,
}

impl Req<'_> {
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(self.request, name)
    }

    /// The body, at most `max_body` bytes (413 beyond). Content-Type is not checked: `curl -d`
    /// sends a form type, and a body that parses as JSON is accepted whatever it declares.
    pub fn body(&mut self) -> Result<Vec<u8>, ApiError> {
        let too_large = || {
            ApiError::new(
                413,
                "PAYLOAD_TOO_LARGE",
                format!("request body exceeds {} bytes", self.max_body),
            )
        };
        if self
            .request
            .body_length()
            .is_some_and(|n| n > self.max_body)
        {
            return Err(too_large());
        }
        let timed_out = |what: String| ApiError::new(408, "REQUEST_TIMEOUT", what);
        // Each read is bounded by the socket's timeout; the deadline bounds the whole body, so a
        // client trickling a byte at a time cannot hold a worker for longer than that.
        let deadline = Instant::now() + self.body_timeout;
        let mut body =
            Vec::with_capacity(self.request.body_length().unwrap_or(0).min(self.max_body));
        let mut reader = self.request.as_reader().take(self.max_body as u64 + 1);
        let mut chunk = [0u8; 8192];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(timed_out(format!("reading the body failed: {e}"))),
            }
            if Instant::now() > deadline {
                return Err(timed_out("the body took too long to arrive".into()));
            }
        }
        if body.len() > self.max_body {
            // tiny_http drains the rest of a Content-Length body when the request is dropped, but
            // not of a chunked one, whose leftovers would be read as the next request on this
            // connection. Drain it here, within limits (this runs on an upload thread).
            let mut rest = self.request.as_reader().take(8 * self.max_body as u64);
            while let Ok(n) = rest.read(&mut chunk) {
                if n == 0 || Instant::now() > deadline {
                    break;
                }
            }
            return Err(too_large());
        }
        Ok(body)
    }

    /// The If-Match version: `"3"`, `W/"3"` or `3`. `*` (any version) is no condition.
    pub fn if_match(&self) -> Result<Option<i64>, ApiError> {
        let Some(value) = self.header("If-Match") else {
            return Ok(None);
        };
        let value = value.trim();
        if value == "*" {
            return Ok(None);
        }
        let tag = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
        tag.parse::<i64>().map(Some).map_err(|_| {
            ApiError::validation(
                "If-Match",
                "If-Match must be an ETag this server sent (\"<version>\")",
            )
        })
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.header("Idempotency-Key")
    }
}

pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// A successful answer: status, body, its content type (JSON unless a handler says otherwise)
/// and any extra headers.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub headers: Vec<Header>,
}

impl Reply {
    pub fn json(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            body,
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    pub fn ok<T: serde::Serialize>(data: &T, message: &str) -> Reply {
        Reply::json(200, crate::json::success(data, message))
    }

    pub fn created<T: serde::Serialize>(data: &T, message: &str) -> Reply {
        Reply::json(201, crate::json::success(data, message))
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push(make_header(name, value));
        self
    }

    pub fn etag(self, version: i64) -> Reply {
        self.with_header("ETag", &format!("\"{version}\""))
    }

    /// Marks an idempotent replay, so a client can tell a repeat from a first application.
    pub fn replayed(self, replayed: bool) -> Reply {
        if replayed {
            self.with_header("Idempotent-Replayed", "true")
        } else {
            self
        }
    }
}

pub fn make_header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("header names and values are ASCII")
}
