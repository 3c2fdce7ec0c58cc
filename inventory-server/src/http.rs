//! One request as the handlers see it (path parameters, query, headers, a body already read in
//! full) and the reply they give back. Nothing here names the HTTP implementation: the
//! transport (`transport.rs`) turns the wire into an `Incoming` and a `Reply` back into bytes,
//! so it can be replaced without touching a handler.

use crate::errors::ApiError;
use crate::input::Query;
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// Request headers: hyper's map, moved out of the request as it is.
pub type Headers = hyper::HeaderMap;

/// The reads of a header the server interprets.
pub trait HeaderText {
    /// The first value of `name` when it is text; a value with non-UTF-8 bytes reads as absent
    /// (the headers the server interprets are checked with `raw` first, see dispatch).
    fn text(&self, name: &str) -> Option<&str>;
    /// The first value of `name`, as sent (it may hold obs-text bytes).
    fn raw(&self, name: &str) -> Option<&[u8]>;
}

impl HeaderText for Headers {
    fn text(&self, name: &str) -> Option<&str> {
        self.raw(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    fn raw(&self, name: &str) -> Option<&[u8]> {
        self.get(name).map(|v| v.as_bytes())
    }
}

/// A request as it came off the wire, before routing.
#[derive(Debug)]
pub struct Incoming {
    pub method: String,
    pub path: String,
    /// The authority of an absolute-form target (`GET http://name:port/path`), which RFC 9112
    /// makes the request's host in place of `Host`.
    pub authority: Option<String>,
    /// The raw query string, without the `?`.
    pub query: String,
    pub headers: Headers,
    /// The client's address (for the rate limit of clients without a key).
    pub peer: std::net::IpAddr,
    /// The body, read in full within `--max-body-bytes` and `--io-timeout-secs`, or why the
    /// request could not be read (framing, size, time): then it is answered with that error
    /// and the connection is closed.
    pub body: Result<Vec<u8>, ApiError>,
}

pub struct Req<'a> {
    /// The route's path parameters, as matched (percent-encoded).
    pub path_pairs: Vec<(String, String)>,
    pub query_pairs: Query,
    pub headers: &'a Headers,
    pub body: &'a [u8],
    /// The API key the request is made with (none when keys are not required).
    pub key: Option<&'a inventory::ApiKey>,
}

/// One entity tag of an If-Match or If-None-Match list.
#[derive(Debug, PartialEq, Eq)]
struct Tag<'a> {
    weak: bool,
    opaque: &'a str,
}

/// `*`, or a list of entity tags (RFC 9110 §8.8.3: `"x"`, `W/"x"`, comma-separated).
#[derive(Debug, PartialEq, Eq)]
enum Condition<'a> {
    Any,
    Tags(Vec<Tag<'a>>),
}

fn parse_condition<'a>(value: &'a str, header: &str) -> Result<Condition<'a>, ApiError> {
    let value = value.trim();
    if value == "*" {
        return Ok(Condition::Any);
    }
    let bad = || {
        ApiError::validation(
            header,
            format!("{header} must be `*` or a list of entity tags (\"<version>\")"),
        )
    };
    let mut tags = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (weak, quoted) = match item.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        let opaque = quoted
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .filter(|s| !s.contains('"'))
            .ok_or_else(bad)?;
        tags.push(Tag { weak, opaque });
    }
    if tags.is_empty() {
        return Err(bad());
    }
    Ok(Condition::Tags(tags))
}

/// The entity tag this server gives a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

impl Req<'_> {
    /// The path parameters as the route's type for them (`params.rs`), each percent-decoded.
    pub fn path<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let decoded = self
            .path_pairs
            .iter()
            .map(|(name, raw)| Ok((name.clone(), crate::input::path_param(raw, name)?)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        crate::params::read(&decoded)
    }

    /// The query as the route's type for it (`params.rs`).
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        crate::params::read(self.query_pairs.pairs())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.text(name)
    }

    /// The body, already read in full (at most `--max-body-bytes`). Content-Type is not
    /// checked: `curl -d` sends a form type, and a body that parses as JSON is accepted.
    pub fn body(&self) -> &[u8] {
        self.body
    }

    /// The version a conditional write must find (RFC 9110 §13.1.1), resolved against the
    /// current one: no If-Match or `*` is no condition; a list matches when one of its tags is
    /// the current version's ETag under strong comparison (a weak tag never matches), and then
    /// that version is returned for the engine to check again atomically; otherwise 412.
    /// `current` is only called when a list has to be compared.
    pub fn expected_version(
        &self,
        current: impl FnOnce() -> Result<i64, ApiError>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(value) = self.header("If-Match") else {
            return Ok(None);
        };
        let Condition::Tags(tags) = parse_condition(value, "If-Match")? else {
            return Ok(None);
        };
        let version = current()?;
        let current_tag = version.to_string();
        if tags.iter().any(|t| !t.weak && t.opaque == current_tag) {
            return Ok(Some(version));
        }
        // A retry of a keyed write that succeeded finds its tag stale now. The engine looks
        // the key up first, so hand it a listed version: it replays a stored outcome for the
        // same request, and otherwise refuses the stale version (412 as well).
        let listed = tags
            .iter()
            .filter(|t| !t.weak)
            .filter_map(|t| t.opaque.parse::<i64>().ok())
            .max();
        match listed {
            Some(listed) if self.idempotency_key().is_some() => Ok(Some(listed)),
            _ => Err(ApiError {
                field: Some("If-Match".into()),
                ..ApiError::new(
                    412,
                    inventory::ErrorCode::Conflict.as_str(),
                    format!(
                        "If-Match names no current version (the current ETag is {})",
                        etag(version)
                    ),
                )
            }),
        }
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.header("Idempotency-Key")
    }

    /// A write's call: the key's (its name is the actor, its locations bound it), under the
    /// request's Idempotency-Key.
    pub fn call(&self) -> inventory::Call {
        self.key
            .map(inventory::Call::by)
            .unwrap_or_default()
            .idempotency_key(self.idempotency_key())
    }
}

/// Whether If-None-Match (`value`) matches `etag` under weak comparison (RFC 9110 §13.1.2):
/// then a GET is answered 304. An unparseable value never matches.
pub fn none_match(value: &str, etag: &str) -> bool {
    let Some(etag) = etag.strip_prefix("W/").unwrap_or(etag).strip_prefix('"') else {
        return false;
    };
    let etag = etag.strip_suffix('"').unwrap_or(etag);
    match parse_condition(value, "If-None-Match") {
        Ok(Condition::Any) => true,
        Ok(Condition::Tags(tags)) => tags.iter().any(|t| t.opaque == etag),
        Err(_) => false,
    }
}

/// A response body: bytes, or a stream of chunks written as they come (Server-Sent Events).
pub enum Body {
    Bytes(Cow<'static, [u8]>),
    Stream(Stream),
}

/// The receiving end of a streamed body; the transport writes each chunk as it arrives and
/// ends the body when every sender is gone.
pub struct Stream(pub tokio::sync::mpsc::Receiver<Vec<u8>>);

/// The sending end, used from a plain thread (never from the transport's runtime).
pub struct StreamSender(tokio::sync::mpsc::Sender<Vec<u8>>);

/// A streamed body and its sender; `depth` chunks may wait unwritten before `send` blocks.
pub fn stream(depth: usize) -> (StreamSender, Stream) {
    let (tx, rx) = tokio::sync::mpsc::channel(depth);
    (StreamSender(tx), Stream(rx))
}

impl StreamSender {
    /// Blocks while the client is slow to read; false once the connection is gone.
    pub fn send(&self, chunk: Vec<u8>) -> bool {
        self.0.blocking_send(chunk).is_ok()
    }

    /// The transport dropped the body: the client went away or the connection failed.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

/// An answer: status, body, its content type (JSON unless said otherwise) and extra headers.
pub struct Reply {
    pub status: u16,
    pub content_type: Cow<'static, str>,
    pub body: Body,
    pub headers: Vec<(Cow<'static, str>, String)>,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<Cow<'static, [u8]>>) -> Reply {
        Reply::bytes(status, "application/json", body)
    }

    /// Any content: a dashboard's HTML, scripts and styles go through here.
    pub fn bytes(
        status: u16,
        content_type: impl Into<Cow<'static, str>>,
        body: impl Into<Cow<'static, [u8]>>,
    ) -> Reply {
        Reply {
            status,
            content_type: content_type.into(),
            body: Body::Bytes(body.into()),
            headers: Vec::new(),
        }
    }

    /// No body and no content type (204, 304).
    pub fn empty(status: u16) -> Reply {
        Reply::bytes(status, "", &[][..])
    }

    pub fn ok<T: serde::Serialize>(data: &T, message: &str) -> Reply {
        Reply::json(200, crate::json::success(data, message))
    }

    pub fn created<T: serde::Serialize>(data: &T, message: &str) -> Reply {
        Reply::json(201, crate::json::success(data, message))
    }

    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn etag(self, version: i64) -> Reply {
        self.with_header("ETag", etag(version))
    }

    /// The seed's error envelope for `e`, with the Allow header of a 405 and the Retry-After of a
    /// 503 worth retrying.
    pub fn error(e: &ApiError) -> Reply {
        let mut reply = Reply::json(e.status, crate::json::failure(e));
        if let Some(allow) = &e.allow {
            reply = reply.with_header("Allow", allow.clone());
        }
        if let Some(secs) = e.retry_after() {
            reply = reply.with_header("Retry-After", secs.to_string());
        }
        reply
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(if_match: Option<&str>) -> Headers {
        let mut headers = Headers::default();
        if let Some(v) = if_match {
            headers.insert("If-Match", v.parse().unwrap());
        }
        headers
    }

    fn expected(if_match: Option<&str>, current: i64) -> Result<Option<i64>, ApiError> {
        let headers = headers(if_match);
        let req = Req {
            path_pairs: Vec::new(),
            query_pairs: Query::parse("").unwrap(),
            headers: &headers,
            body: &[],
            key: None,
        };
        req.expected_version(|| Ok(current))
    }

    #[test]
    fn if_match_lists_star_and_strong_comparison() {
        assert_eq!(expected(None, 3).unwrap(), None);
        assert_eq!(expected(Some("*"), 3).unwrap(), None);
        assert_eq!(expected(Some("\"3\""), 3).unwrap(), Some(3));
        assert_eq!(expected(Some("\"1\", \"3\""), 3).unwrap(), Some(3));
        for stale in ["\"2\"", "W/\"3\"", "\"stale-0\"", "\"1\", W/\"3\""] {
            let e = expected(Some(stale), 3).unwrap_err();
            assert_eq!(e.status, 412, "{stale}");
        }
        for bad in ["3", "garbage", "\"3", ","] {
            let e = expected(Some(bad), 3).unwrap_err();
            assert_eq!(
                (e.status, e.field.as_deref()),
                (400, Some("If-Match")),
                "{bad}"
            );
        }
        // The current version is only read when a list has to be compared.
        let headers = headers(Some("*"));
        let req = Req {
            path_pairs: Vec::new(),
            query_pairs: Query::parse("").unwrap(),
            headers: &headers,
            body: &[],
            key: None,
        };
        assert_eq!(req.expected_version(|| panic!("read")).unwrap(), None);
    }

    #[test]
    fn if_none_match_is_weak() {
        assert!(none_match("\"3\"", "\"3\""));
        assert!(none_match("W/\"3\"", "\"3\""));
        assert!(none_match("\"1\", \"3\"", "\"3\""));
        assert!(none_match("*", "\"3\""));
        assert!(!none_match("\"2\"", "\"3\""));
        assert!(!none_match("garbage", "\"3\""));
    }
}
