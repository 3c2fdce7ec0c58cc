//! The handle's webhook calls: subscriptions managed by commands, read in one snapshot each.

use super::{
    CreatedWebhook, Delivery, DeliveryReport, Lease, MAX_DELIVERIES_PAGE, NewWebhook, Webhook,
    WebhookChange, check_target, new_secret,
};
use crate::command::{Command, Outcome};
use crate::error::{Error, Result};
use crate::{DEFAULT_PAGE, Inventory};
use uuid::Uuid;

fn unexpected<T>(other: Outcome) -> Result<T> {
    Err(Error::storage(format!(
        "internal error: unexpected outcome {other:?}"
    )))
}

impl Inventory {
    /// Creates a webhook subscription. Its secret is in the result, this once. A URL whose
    /// host resolves to a loopback, private or link-local address is VALIDATION_ERROR (field
    /// `url`) unless the handle was opened with `Options::allow_private_webhooks`.
    pub fn create_webhook(&self, new: NewWebhook) -> Result<CreatedWebhook> {
        check_target(new.url.trim(), self.shared.allow_private_webhooks)?;
        let secret = new_secret()?;
        match self.execute(Command::CreateWebhook {
            id: Uuid::now_v7(),
            new,
            secret: secret.clone(),
        })? {
            Outcome::WebhookCreated(webhook) => Ok(CreatedWebhook {
                webhook: *webhook,
                secret,
            }),
            other => unexpected(other),
        }
    }

    /// Every subscription, by id (creation order), without secrets.
    pub fn webhooks(&self) -> Result<Vec<Webhook>> {
        let all = self.store().read(|tx| tx.webhooks())?;
        Ok(all.into_iter().map(|(w, _)| w).collect())
    }

    /// One subscription; NOT_FOUND if there is none.
    pub fn webhook(&self, id: Uuid) -> Result<Webhook> {
        self.webhooks()?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| Error::not_found(format!("webhook {id}")))
    }

    /// Pauses, resumes, rewinds or deletes a subscription; the subscription after (as it
    /// was, for a deletion). NOT_FOUND if there is none.
    pub fn change_webhook(&self, id: Uuid, change: WebhookChange) -> Result<Webhook> {
        match self.execute(Command::ChangeWebhook { id, change })? {
            Outcome::WebhookChanged(webhook) => Ok(*webhook),
            other => unexpected(other),
        }
    }

    /// A subscription's delivery log, newest first: up to `limit` attempts (1 to
    /// [`MAX_DELIVERIES_PAGE`], default [`DEFAULT_PAGE`]), only those that carried the
    /// event `event` when given. NOT_FOUND for an unknown subscription.
    pub fn webhook_deliveries(
        &self,
        id: Uuid,
        event: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<Delivery>> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_DELIVERIES_PAGE).contains(&limit) {
            return Err(Error::validation(
                "limit",
                format!("limit must be 1 to {MAX_DELIVERIES_PAGE}"),
            ));
        }
        self.store().read(|tx| {
            if !tx.webhooks()?.iter().any(|(w, _)| w.id == id) {
                return Err(Error::not_found(format!("webhook {id}")));
            }
            tx.deliveries(id, event, limit)
        })
    }

    /// Every subscription with how many movements follow its cursor (before its filters),
    /// in one snapshot: what a metric of each one's backlog shows.
    pub fn webhook_backlog(&self) -> Result<Vec<(Webhook, i64)>> {
        self.store().read(|tx| {
            let last = tx.last_seq()?;
            Ok(tx
                .webhooks()?
                .into_iter()
                .map(|(w, _)| {
                    let pending = (last - w.after).max(0);
                    (w, pending)
                })
                .collect())
        })
    }

    pub(crate) fn claim_webhooks(&self, owner: &str, lease_seconds: i64) -> Result<Vec<Lease>> {
        match self.execute(Command::ClaimWebhooks {
            owner: owner.to_owned(),
            lease_seconds,
        })? {
            Outcome::WebhooksClaimed(leases) => Ok(leases),
            other => unexpected(other),
        }
    }

    /// The subscriptions `owner` holds a live lease on, with their secrets: a read, for the
    /// passes that need no new lease.
    pub(crate) fn held_webhooks(&self, owner: &str) -> Result<Vec<Lease>> {
        let now = self.now();
        let all = self.store().read(|tx| tx.webhooks())?;
        Ok(all
            .into_iter()
            .filter(|(w, _)| {
                w.lease_owner.as_deref() == Some(owner) && w.lease_until.is_some_and(|u| u > now)
            })
            .map(|(webhook, secret)| Lease { webhook, secret })
            .collect())
    }

    pub(crate) fn record_delivery(&self, report: DeliveryReport) -> Result<Webhook> {
        match self.execute(Command::RecordDelivery(report))? {
            Outcome::DeliveryRecorded(webhook) => Ok(*webhook),
            other => unexpected(other),
        }
    }
}
