//! Webhook subscriptions as Python objects: `Webhook`, `CreatedWebhook` (its secret in no repr)
//! and `Delivery`, one attempt of the delivery log. Field names are the HTTP API's.

use pyo3::prelude::*;

/// A webhook subscription: its URL, event types, filters, state, cursor (`after`), backoff
/// and lease. Never its secret.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct Webhook(pub(crate) inventory::webhooks::Webhook);

type Time = inventory::DateTime<inventory::Utc>;

#[pymethods]
impl Webhook {
    #[getter]
    fn id(&self) -> String {
        self.0.id.to_string()
    }
    #[getter]
    fn url(&self) -> &str {
        &self.0.url
    }
    #[getter]
    fn events(&self) -> Vec<String> {
        self.0.events.clone()
    }
    #[getter]
    fn locations(&self) -> Option<Vec<String>> {
        self.0.locations.clone()
    }
    #[getter]
    fn product_ids(&self) -> Option<Vec<String>> {
        self.0
            .product_ids
            .as_ref()
            .map(|ids| ids.iter().map(|id| id.to_string()).collect())
    }
    #[getter]
    fn state(&self) -> &'static str {
        self.0.state.as_str()
    }
    #[getter]
    fn paused_reason(&self) -> Option<&str> {
        self.0.paused_reason.as_deref()
    }
    #[getter]
    fn after(&self) -> i64 {
        self.0.after
    }
    #[getter]
    fn failures(&self) -> i64 {
        self.0.failures
    }
    #[getter]
    fn failing_since(&self) -> Option<Time> {
        self.0.failing_since
    }
    #[getter]
    fn next_attempt_at(&self) -> Option<Time> {
        self.0.next_attempt_at
    }
    #[getter]
    fn lease_owner(&self) -> Option<&str> {
        self.0.lease_owner.as_deref()
    }
    #[getter]
    fn lease_until(&self) -> Option<Time> {
        self.0.lease_until
    }
    #[getter]
    fn created_at(&self) -> Time {
        self.0.created_at
    }
    fn __repr__(&self) -> String {
        format!(
            "Webhook(id={:?}, url={:?}, state={:?}, after={})",
            self.0.id.to_string(),
            self.0.url,
            self.0.state.as_str(),
            self.0.after
        )
    }
}

/// A subscription just made by `create_webhook`: `.webhook` and `.secret` (`whsec_...`, the
/// receiver's key for checking signatures), shown this once and in no repr.
#[pyclass(frozen, module = "inventory")]
pub struct CreatedWebhook(pub(crate) inventory::webhooks::CreatedWebhook);

#[pymethods]
impl CreatedWebhook {
    #[getter]
    fn webhook(&self) -> Webhook {
        Webhook(self.0.webhook.clone())
    }
    #[getter]
    fn secret(&self) -> &str {
        &self.0.secret
    }
    fn __repr__(&self) -> String {
        format!(
            "CreatedWebhook(webhook={}, secret=<hidden>)",
            self.webhook().__repr__()
        )
    }
}

/// One delivery attempt: the events it carried, whether it was delivered, its status,
/// latency and error.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct Delivery(pub(crate) inventory::webhooks::Delivery);

#[pymethods]
impl Delivery {
    #[getter]
    fn id(&self) -> i64 {
        self.0.id
    }
    #[getter]
    fn webhook_id(&self) -> String {
        self.0.webhook_id.to_string()
    }
    #[getter]
    fn first_seq(&self) -> i64 {
        self.0.first_seq
    }
    #[getter]
    fn last_seq(&self) -> i64 {
        self.0.last_seq
    }
    #[getter]
    fn events(&self) -> i64 {
        self.0.events
    }
    #[getter]
    fn attempt(&self) -> i64 {
        self.0.attempt
    }
    #[getter]
    fn ok(&self) -> bool {
        self.0.ok
    }
    #[getter]
    fn status(&self) -> Option<i64> {
        self.0.status
    }
    #[getter]
    fn latency_ms(&self) -> i64 {
        self.0.latency_ms
    }
    #[getter]
    fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    #[getter]
    fn at(&self) -> Time {
        self.0.at
    }
    fn __repr__(&self) -> String {
        format!(
            "Delivery(first_seq={}, last_seq={}, ok={}, status={:?})",
            self.0.first_seq,
            self.0.last_seq,
            if self.0.ok { "True" } else { "False" },
            self.0.status
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Webhook>()?;
    m.add_class::<CreatedWebhook>()?;
    m.add_class::<Delivery>()?;
    Ok(())
}
