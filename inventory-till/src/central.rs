//! Central, as the till sees it: the few calls of its HTTP API a sync makes, over one `ureq`
//! agent (kept connections, timeouts, `Authorization: Bearer`), each answer read from the
//! server's envelope with central's own clock (`timestamp`), which the till uses for anything
//! measured in central's time (its idempotency window, lease expiries).

use crate::wire;
use chrono::{DateTime, Utc};
use inventory::StockOp;
use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// Why a call to central did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No answer: refused connection, timeout, a broken connection, an answer that is not the
    /// API's. Whether a write was applied is unknown.
    Unreachable(String),
    /// Central answered with its error envelope: nothing was applied.
    Refused {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
        /// Central's clock when it answered.
        at: Option<DateTime<Utc>>,
    },
}

impl Failure {
    /// The envelope's code, or `UNREACHABLE`.
    pub fn code(&self) -> &str {
        match self {
            Failure::Unreachable(_) => "UNREACHABLE",
            Failure::Refused { code, .. } => code,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Failure::Unreachable(m) => m.clone(),
            Failure::Refused {
                status,
                code,
                message,
                ..
            } => format!("central answered {status} {code}: {message}"),
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code() == code
    }

    /// The refusal names this field.
    pub fn on_field(&self, name: &str) -> bool {
        matches!(self, Failure::Refused { field: Some(f), .. } if f == name)
    }

    /// Central refused this request for what it asks, not for who asks or for its own state:
    /// retrying the same request will not change the answer.
    pub fn is_final_refusal(&self) -> bool {
        matches!(
            self.code(),
            "NOT_FOUND"
                | "VALIDATION_ERROR"
                | "INSUFFICIENT_STOCK"
                | "INSUFFICIENT_RESERVED"
                | "CONFLICT"
                | "DUPLICATE_SKU"
        )
    }
}

/// A success: the envelope's `data`, whether it was a replay of an idempotency key, and
/// central's clock.
#[derive(Debug)]
pub(crate) struct Reply {
    pub data: Value,
    /// The whole answer as sent, for values JSON numbers would round (prices).
    pub text: String,
    pub replayed: bool,
    pub at: DateTime<Utc>,
}

pub(crate) type Answer = Result<Reply, Failure>;

pub(crate) struct Central {
    base: String,
    bearer: String,
    agent: ureq::Agent,
    /// Set as the till closes: no request is sent from then on.
    closing: AtomicBool,
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Central {
    pub fn new(base: &str, key: &str, timeout: Duration) -> Central {
        // Each phase of a request is bounded, but not the name lookup: with a deadline on it
        // ureq runs every lookup on a thread of its own, left running when it times out. A
        // lookup is bounded by the system resolver's own timeouts instead.
        let phase = Some(timeout);
        let config = ureq::Agent::config_builder()
            // Error envelopes are answers to read, not transport failures.
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .timeout_send_request(phase)
            .timeout_send_body(phase)
            .timeout_recv_response(phase)
            .timeout_recv_body(phase)
            .build();
        Central {
            base: base.trim_end_matches('/').to_owned(),
            bearer: format!("Bearer {key}"),
            agent: config.into(),
            closing: AtomicBool::new(false),
        }
    }

    /// Refuses every later request (as unreachable): a sync under way stops at its next one.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    fn open(&self) -> Result<(), Failure> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(Failure::Unreachable("the till is closing".to_owned()));
        }
        Ok(())
    }

    fn read(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut response = result.map_err(|e| Failure::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get("Idempotent-Replayed")
            .is_some_and(|v| v.as_bytes() == b"true");
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| Failure::Unreachable(format!("reading central's answer: {e}")))?;
        let body: Value = serde_json::from_str(&text).map_err(|_| {
            Failure::Unreachable(format!("central answered {status} without the API's JSON"))
        })?;
        let at = body["timestamp"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        if (200..300).contains(&status) {
            let at = at.ok_or_else(|| {
                Failure::Unreachable("central's answer has no timestamp".to_owned())
            })?;
            return Ok(Reply {
                data: body["data"].clone(),
                text,
                replayed,
                at,
            });
        }
        match body["error"].as_str() {
            Some(code) => Err(Failure::Refused {
                status,
                code: code.to_owned(),
                message: body["message"].as_str().unwrap_or_default().to_owned(),
                field: body["field"].as_str().map(str::to_owned),
                at,
            }),
            None => Err(Failure::Unreachable(format!(
                "central answered {status} without an error envelope"
            ))),
        }
    }

    pub fn get(&self, path: &str) -> Answer {
        self.open()?;
        let url = format!("{}{path}", self.base);
        Self::read(
            self.agent
                .get(&url)
                .header("Authorization", &self.bearer)
                .call(),
        )
    }

    pub fn post(&self, path: &str, body: &impl Serialize, key: Option<&str>) -> Answer {
        self.open()?;
        let url = format!("{}{path}", self.base);
        let mut request = self
            .agent
            .post(&url)
            .header("Authorization", &self.bearer)
            .header("Content-Type", "application/json");
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let body = serde_json::to_string(body)
            .map_err(|e| Failure::Unreachable(format!("cannot write the request: {e}")))?;
        Self::read(request.send(body))
    }

    /// Open reservations held under `reference`, across products.
    pub fn reservations(&self, reference: &str) -> Answer {
        self.get(&format!(
            "/api/reservations?reference={}",
            encode(reference)
        ))
    }

    /// A product's level at a location.
    pub fn level(&self, product: Uuid, location: &str) -> Answer {
        self.get(&format!(
            "/api/products/{product}/inventory?location={}",
            encode(location)
        ))
    }

    /// A page of a product's movements at a location, newest first, below `before`.
    pub fn movements(&self, product: Uuid, location: &str, before: Option<i64>) -> Answer {
        let mut path = format!(
            "/api/products/{product}/transactions?limit=100&location={}",
            encode(location)
        );
        if let Some(before) = before {
            path.push_str(&format!("&before={before}"));
        }
        self.get(&path)
    }

    /// A page of the catalogue feed.
    pub fn catalogue(&self, after: i64, limit: i64) -> Answer {
        self.get(&format!("/api/catalogue?after={after}&limit={limit}"))
    }

    /// One stock operation, on its product's route for its kind.
    pub fn stock(&self, op: &StockOp, key: Option<&str>) -> Answer {
        let path = format!("/api/products/{}/stock/{}", op.product_id, op.kind.as_str());
        self.post(&path, &wire::body(op), key)
    }

    /// Operations all or nothing.
    pub fn batch(&self, ops: &[StockOp], key: Option<&str>) -> Answer {
        let batch = wire::Batch {
            operations: ops.iter().map(wire::item).collect(),
        };
        self.post("/api/stock/batch", &batch, key)
    }

    /// A till's check-in, the first call of every sync.
    pub fn check_in(&self, till_id: &str, body: &wire::CheckIn) -> Answer {
        self.post(
            &format!("/api/tills/{}/check-in", encode(till_id)),
            body,
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("till:T-1.a_b~"), "till%3AT-1.a_b~");
        assert_eq!(encode("Shop 1/é"), "Shop%201%2F%C3%A9");
    }

    #[test]
    fn a_server_that_is_not_there_is_unreachable() {
        // A port that was just free: nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let central = Central::new(
            &format!("http://127.0.0.1:{port}"),
            "k",
            Duration::from_secs(2),
        );
        let failure = central.get("/health").unwrap_err();
        assert_eq!(failure.code(), "UNREACHABLE");
        assert!(!failure.is_final_refusal());
    }
}
