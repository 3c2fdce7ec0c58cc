//! Webhook subscriptions and their delivery log on SQLite: uuids and times as text, lists as
//! JSON arrays. The statements are the shared ones of `store::sql`.

use super::Sql;
use super::read::parse_uuid;
use crate::clock::{from_text, to_text};
use crate::error::Result;
use crate::store::rows::{NewDelivery, Stamp};
use crate::store::sql::{
    DELETE_DELIVERIES_OF, DELETE_WEBHOOK, DELIVERY_SELECT, FORGET_DELIVERIES, INSERT_DELIVERY,
    INSERT_WEBHOOK, TAKE_LEASE, UPDATE_WEBHOOK, WEBHOOK_SELECT,
};
use crate::webhooks::{Delivery, Webhook, WebhookState};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

fn bad(i: usize, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.to_string().into())
}

fn json<T: serde::de::DeserializeOwned>(r: &Row, i: usize) -> rusqlite::Result<Option<T>> {
    r.get::<_, Option<String>>(i)?
        .map(|t| serde_json::from_str(&t).map_err(|e| bad(i, e)))
        .transpose()
}

fn time(r: &Row, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    r.get::<_, Option<String>>(i)?
        .map(|t| from_text(&t))
        .transpose()
}

fn webhook_row(r: &Row) -> rusqlite::Result<(Webhook, String)> {
    let state: String = r.get(5)?;
    Ok((
        Webhook {
            id: parse_uuid(&r.get::<_, String>(0)?)?,
            url: r.get(1)?,
            events: json(r, 2)?.unwrap_or_default(),
            locations: json(r, 3)?,
            product_ids: json(r, 4)?,
            state: WebhookState::parse(&state).ok_or_else(|| bad(5, "unknown state"))?,
            paused_reason: r.get(6)?,
            after: r.get(7)?,
            failures: r.get(8)?,
            failing_since: time(r, 9)?,
            next_attempt_at: time(r, 10)?,
            lease_owner: r.get(11)?,
            lease_until: time(r, 12)?,
            created_at: from_text(&r.get::<_, String>(13)?)?,
        },
        r.get(14)?,
    ))
}

fn delivery_row(r: &Row) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: parse_uuid(&r.get::<_, String>(1)?)?,
        first_seq: r.get(2)?,
        last_seq: r.get(3)?,
        events: r.get(4)?,
        attempt: r.get(5)?,
        ok: r.get(6)?,
        status: r.get(7)?,
        latency_ms: r.get(8)?,
        error: r.get(9)?,
        at: from_text(&r.get::<_, String>(10)?)?,
    })
}

fn text_list<T: serde::Serialize>(list: &Option<Vec<T>>) -> Result<Option<String>> {
    Ok(list.as_ref().map(serde_json::to_string).transpose()?)
}

impl Sql<'_> {
    pub(super) fn all_webhooks(&mut self) -> Result<Vec<(Webhook, String)>> {
        let mut stmt = self
            .0
            .prepare_cached(&format!("{WEBHOOK_SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], webhook_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(super) fn webhook_deliveries(
        &mut self,
        webhook: Uuid,
        event: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let mut stmt = self.0.prepare_cached(DELIVERY_SELECT)?;
        let rows = stmt.query_map(params![webhook.to_string(), event, limit], delivery_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(super) fn one_webhook(&mut self, id: Uuid) -> Result<Option<(Webhook, String)>> {
        let mut stmt = self
            .0
            .prepare_cached(&format!("{WEBHOOK_SELECT} WHERE id = $1"))?;
        Ok(stmt.query_row([id.to_string()], webhook_row).optional()?)
    }

    pub(super) fn add_webhook(&mut self, w: &Webhook, secret: &str) -> Result<()> {
        let mut stmt = self.0.prepare_cached(INSERT_WEBHOOK)?;
        stmt.execute(params![
            w.id.to_string(),
            w.url,
            serde_json::to_string(&w.events)?,
            text_list(&w.locations)?,
            text_list(&w.product_ids)?,
            w.state.as_str(),
            w.paused_reason,
            w.after,
            w.failures,
            w.failing_since.map(to_text),
            w.next_attempt_at.map(to_text),
            w.lease_owner,
            w.lease_until.map(to_text),
            to_text(w.created_at),
            secret,
        ])?;
        Ok(())
    }

    pub(super) fn save_webhook(&mut self, w: &Webhook) -> Result<()> {
        let mut stmt = self.0.prepare_cached(UPDATE_WEBHOOK)?;
        stmt.execute(params![
            w.state.as_str(),
            w.paused_reason,
            w.after,
            w.failures,
            w.failing_since.map(to_text),
            w.next_attempt_at.map(to_text),
            w.lease_owner,
            w.lease_until.map(to_text),
            w.id.to_string(),
        ])?;
        Ok(())
    }

    pub(super) fn remove_webhook(&mut self, id: Uuid) -> Result<()> {
        self.0
            .prepare_cached(DELETE_DELIVERIES_OF)?
            .execute([id.to_string()])?;
        self.0
            .prepare_cached(DELETE_WEBHOOK)?
            .execute([id.to_string()])?;
        Ok(())
    }

    pub(super) fn lease(
        &mut self,
        id: Uuid,
        owner: &str,
        until: &Stamp,
        now: &Stamp,
    ) -> Result<bool> {
        let mut stmt = self.0.prepare_cached(TAKE_LEASE)?;
        Ok(stmt.execute(params![owner, until.text, id.to_string(), now.text])? == 1)
    }

    pub(super) fn log_delivery(&mut self, row: &NewDelivery) -> Result<()> {
        let a = row.attempt;
        let mut stmt = self.0.prepare_cached(INSERT_DELIVERY)?;
        stmt.execute(params![
            row.webhook.to_string(),
            a.first_seq,
            a.last_seq,
            a.events,
            row.number,
            a.error.is_none(),
            a.status,
            a.latency_ms,
            a.error,
            row.at.text,
        ])?;
        Ok(())
    }

    pub(super) fn forget_old_deliveries(&mut self, before: &Stamp) -> Result<()> {
        self.0
            .prepare_cached(FORGET_DELIVERIES)?
            .execute([&before.text])?;
        Ok(())
    }
}
