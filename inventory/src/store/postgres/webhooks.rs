//! Webhook subscriptions and their delivery log on PostgreSQL: the shared statements of
//! `store::sql` with uuid, timestamptz and boolean columns, lists as JSON text. A change or a
//! delivery locks the subscription's row (`FOR UPDATE`) before reading it, so two processes
//! never both act on one version of it.

use super::Pg;
use crate::error::{Error, Result};
use crate::store::rows::{NewDelivery, Stamp};
use crate::store::sql::{
    DELETE_DELIVERIES_OF, DELETE_WEBHOOK, DELIVERY_SELECT, FORGET_DELIVERIES, INSERT_DELIVERY,
    INSERT_WEBHOOK, TAKE_LEASE, UPDATE_WEBHOOK, WEBHOOK_SELECT,
};
use crate::webhooks::{Delivery, Webhook, WebhookState};
use postgres::Row;
use uuid::Uuid;

fn json<T: serde::de::DeserializeOwned>(pg: &Pg, r: &Row, i: usize) -> Result<Option<T>> {
    pg.get::<Option<String>>(r, i)?
        .map(|t| serde_json::from_str(&t).map_err(Error::from))
        .transpose()
}

fn webhook_row(pg: &Pg, r: &Row) -> Result<(Webhook, String)> {
    let state: String = pg.get(r, 5)?;
    Ok((
        Webhook {
            id: pg.get(r, 0)?,
            url: pg.get(r, 1)?,
            events: json(pg, r, 2)?.unwrap_or_default(),
            locations: json(pg, r, 3)?,
            product_ids: json(pg, r, 4)?,
            state: WebhookState::parse(&state)
                .ok_or_else(|| Error::storage(format!("unknown webhook state {state}")))?,
            paused_reason: pg.get(r, 6)?,
            after: pg.get(r, 7)?,
            failures: pg.get(r, 8)?,
            failing_since: pg.get(r, 9)?,
            next_attempt_at: pg.get(r, 10)?,
            lease_owner: pg.get(r, 11)?,
            lease_until: pg.get(r, 12)?,
            created_at: pg.get(r, 13)?,
        },
        pg.get(r, 14)?,
    ))
}

fn delivery_row(pg: &Pg, r: &Row) -> Result<Delivery> {
    Ok(Delivery {
        id: pg.get(r, 0)?,
        webhook_id: pg.get(r, 1)?,
        first_seq: pg.get(r, 2)?,
        last_seq: pg.get(r, 3)?,
        events: pg.get(r, 4)?,
        attempt: pg.get(r, 5)?,
        ok: pg.get(r, 6)?,
        status: pg.get(r, 7)?,
        latency_ms: pg.get(r, 8)?,
        error: pg.get(r, 9)?,
        at: pg.get(r, 10)?,
    })
}

fn text_list<T: serde::Serialize>(list: &Option<Vec<T>>) -> Result<Option<String>> {
    Ok(list.as_ref().map(serde_json::to_string).transpose()?)
}

impl Pg<'_> {
    pub(super) fn all_webhooks(&mut self) -> Result<Vec<(Webhook, String)>> {
        self.rows(&format!("{WEBHOOK_SELECT} ORDER BY id"), &[], webhook_row)
    }

    pub(super) fn webhook_deliveries(
        &mut self,
        webhook: Uuid,
        event: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        self.rows(DELIVERY_SELECT, &[&webhook, &event, &limit], delivery_row)
    }

    pub(super) fn locked_webhook(&mut self, id: Uuid) -> Result<Option<(Webhook, String)>> {
        self.row(
            &format!("{WEBHOOK_SELECT} WHERE id = $1 FOR UPDATE"),
            &[&id],
            webhook_row,
        )
    }

    pub(super) fn add_webhook(&mut self, w: &Webhook, secret: &str) -> Result<()> {
        self.writing()?;
        let (events, locations, products) = (
            serde_json::to_string(&w.events)?,
            text_list(&w.locations)?,
            text_list(&w.product_ids)?,
        );
        self.execute(
            INSERT_WEBHOOK,
            &[
                &w.id,
                &w.url,
                &events,
                &locations,
                &products,
                &w.state.as_str(),
                &w.paused_reason,
                &w.after,
                &w.failures,
                &w.failing_since,
                &w.next_attempt_at,
                &w.lease_owner,
                &w.lease_until,
                &w.created_at,
                &secret,
            ],
        )?;
        Ok(())
    }

    pub(super) fn save_webhook(&mut self, w: &Webhook) -> Result<()> {
        self.writing()?;
        self.execute(
            UPDATE_WEBHOOK,
            &[
                &w.state.as_str(),
                &w.paused_reason,
                &w.after,
                &w.failures,
                &w.failing_since,
                &w.next_attempt_at,
                &w.lease_owner,
                &w.lease_until,
                &w.id,
            ],
        )?;
        Ok(())
    }

    pub(super) fn remove_webhook(&mut self, id: Uuid) -> Result<()> {
        self.writing()?;
        self.execute(DELETE_DELIVERIES_OF, &[&id])?;
        self.execute(DELETE_WEBHOOK, &[&id])?;
        Ok(())
    }

    pub(super) fn lease(
        &mut self,
        id: Uuid,
        owner: &str,
        until: &Stamp,
        now: &Stamp,
    ) -> Result<bool> {
        self.writing()?;
        Ok(self.execute(TAKE_LEASE, &[&owner, &until.at, &id, &now.at])? == 1)
    }

    pub(super) fn log_delivery(&mut self, row: &NewDelivery) -> Result<()> {
        self.writing()?;
        let a = row.attempt;
        self.execute(
            INSERT_DELIVERY,
            &[
                &row.webhook,
                &a.first_seq,
                &a.last_seq,
                &a.events,
                &row.number,
                &a.error.is_none(),
                &a.status,
                &a.latency_ms,
                &a.error,
                &row.at.at,
            ],
        )?;
        Ok(())
    }

    pub(super) fn forget_old_deliveries(&mut self, before: &Stamp) -> Result<()> {
        self.writing()?;
        self.execute(FORGET_DELIVERIES, &[&before.at])?;
        Ok(())
    }
}
