//! The context one command's rules run in: its transaction, what it has looked up and changed so
//! far, its time and its actor. Rules state what may happen; this is how it is recorded:
//! `post` is the only place a balance ever changes.

use super::pending::Pending;
use crate::error::{Error, ErrorCode, Result};
use crate::model::MovementKind;
use crate::store::rows::{Level, NewMovement, Stamp};
use crate::store::tx::WriteTx;
use crate::validate::MAX_QUANTITY;
use crate::write::Call;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// A live product, as the stock rules need it.
#[derive(Debug, Clone)]
pub(crate) struct Stocked {
    pub id: Uuid,
    pub ordinal: i64,
    /// The product's own location, where operations without a location act.
    pub home: String,
}

/// The free fields a posting records beside its quantity.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memo<'a> {
    pub reference: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub transfer_id: Option<Uuid>,
}

pub(crate) struct Ctx<'t> {
    pub tx: &'t mut dyn WriteTx,
    pub now: Stamp,
    pub actor: Option<&'t str>,
    /// The name of the API key the command is made with: it owns what it reserves.
    pub key: Option<&'t str>,
    /// Made with an admin key.
    pub admin: bool,
    /// The only locations this command may move stock at; `None`: any.
    allowed: Option<&'t [String]>,
    /// Within a command `now` is fixed and stock operations change neither a product's fields
    /// nor a location's id, so a batch looks each product and location up once.
    products: HashMap<Uuid, Stocked>,
    locations: HashMap<String, i64>,
    pub pending: Pending,
}

impl<'t> Ctx<'t> {
    pub fn new(tx: &'t mut dyn WriteTx, now: DateTime<Utc>, call: &'t Call) -> Self {
        Ctx {
            tx,
            now: Stamp::new(now),
            actor: call.actor.as_deref(),
            key: call.key.as_deref(),
            admin: call.admin,
            allowed: call.locations.as_deref(),
            products: HashMap::new(),
            locations: HashMap::new(),
            pending: Pending::default(),
        }
    }

    /// A live product, whose expired reservations have been released.
    pub fn product(&mut self, id: Uuid) -> Result<Stocked> {
        if let Some(seen) = self.products.get(&id) {
            return Ok(seen.clone());
        }
        let target = self
            .tx
            .stock_target(id)?
            .ok_or_else(|| Error::not_found(format!("product {id}")))?;
        if !target.keeps_totals {
            self.pending.without_totals(id);
        }
        self.known_location(&target.home, target.home_id);
        let stocked = Stocked {
            id,
            ordinal: target.ordinal,
            home: target.home,
        };
        self.products.insert(id, stocked.clone());
        if super::expiry::is_due(target.earliest_expiry, self.now.at) {
            super::expiry::expire_due(self, Some(id))?;
        }
        Ok(stocked)
    }

    /// Refuses moving stock at `location` when the call is limited to other locations.
    pub fn may_stock_at(&self, location: &str, field: &str) -> Result<()> {
        match self.allowed {
            Some(allowed) if !allowed.iter().any(|l| l == location) => Err(Error::forbidden(
                format!("{field}: this key may not move stock at location {location:?}"),
            )
            .on_field(field)),
            _ => Ok(()),
        }
    }

    /// Whether the call is bound by reservations' owners: made with a key limited to
    /// locations, and not an admin key.
    pub fn limited(&self) -> bool {
        self.allowed.is_some() && !self.admin
    }

    /// Refuses changing the catalogue (`what`: "create products"…) when the call is limited to
    /// some locations.
    pub fn may_change_catalogue(&self, what: &str) -> Result<()> {
        match self.allowed {
            Some(allowed) => Err(Error::forbidden(format!(
                "this key is limited to locations {allowed:?}: only a key without a location \
                 limit may {what}"
            ))),
            None => Ok(()),
        }
    }

    /// Notes a location's id found along with something else.
    pub fn known_location(&mut self, name: &str, id: i64) {
        if !self.locations.contains_key(name) {
            self.locations.insert(name.to_owned(), id);
        }
    }

    /// A location's id. With `create`, a missing location is created; without, it is NOT_FOUND,
    /// so that operations which only take stock away cannot leave a mistyped location behind.
    pub fn location(&mut self, name: &str, create: bool) -> Result<i64> {
        if let Some(id) = self.locations.get(name) {
            return Ok(*id);
        }
        let id = match self.tx.location_id(name)? {
            Some(id) => id,
            None if create => self.tx.insert_location(name, &self.now)?,
            None => return Err(Error::not_found(format!("location {name:?}"))),
        };
        self.locations.insert(name.to_owned(), id);
        Ok(id)
    }

    /// The product's level at a location as this command sees it: its latest state, else as
    /// stored, else an empty one that `post` records on its first movement.
    pub fn level(&mut self, product: &Stocked, location: &str, create: bool) -> Result<Level> {
        let location_id = self.location(location, create)?;
        if let Some(level) = self.pending.level(product.id, location_id) {
            return Ok(level.clone());
        }
        let stored = self.tx.load_level(product.id, location_id)?;
        let existed = stored.is_some();
        let level = match stored {
            Some(s) => Level {
                id: s.id,
                product_id: product.id,
                product_ordinal: product.ordinal,
                location_id,
                location: location.to_owned(),
                on_hand: s.on_hand,
                reserved: s.reserved,
                created_at: s.created_at,
                updated_at: s.updated_at,
            },
            None => Level {
                id: Uuid::now_v7(),
                product_id: product.id,
                product_ordinal: product.ordinal,
                location_id,
                location: location.to_owned(),
                on_hand: 0,
                reserved: 0,
                created_at: self.now.at,
                updated_at: self.now.at,
            },
        };
        if existed {
            self.pending.track(level.clone(), true);
        }
        Ok(level)
    }

    /// Applies one movement to a level: checks the resulting balances, records the level's new
    /// state, and appends the movement with its balances after. Rules check first to give
    /// precise errors; the checks here guard the invariants themselves.
    pub fn post(
        &mut self,
        level: &mut Level,
        kind: MovementKind,
        quantity: i64,
        memo: &Memo,
    ) -> Result<()> {
        let (d_on_hand, d_reserved) = kind.deltas(quantity);
        let on_hand = level
            .on_hand
            .checked_add(d_on_hand)
            .filter(|v| *v <= MAX_QUANTITY)
            .ok_or_else(|| {
                Error::validation(
                    "quantity",
                    format!("on_hand at {} would exceed {MAX_QUANTITY}", level.location),
                )
            })?;
        let reserved = level.reserved + d_reserved;
        if reserved < 0 {
            return Err(Error::new(
                ErrorCode::InsufficientReserved,
                format!("not enough reserved at {}", level.location),
            ));
        }
        if on_hand < 0 || reserved > on_hand {
            return Err(Error::new(
                ErrorCode::InsufficientStock,
                format!("not enough stock at {}", level.location),
            ));
        }
        level.on_hand = on_hand;
        level.reserved = reserved;
        level.updated_at = self.now.at;
        self.pending.record(level, d_on_hand, d_reserved);
        self.tx.append(&NewMovement {
            id: Uuid::now_v7(),
            level,
            kind,
            quantity,
            on_hand_delta: d_on_hand,
            reserved_delta: d_reserved,
            reference: memo.reference,
            notes: memo.notes,
            external_id: memo.external_id,
            transfer_id: memo.transfer_id,
            actor: self.actor,
            at: &self.now,
        })
    }

    /// The quantity held for `reference` at the level.
    pub fn held(&mut self, level: &Level, reference: &str) -> Result<i64> {
        Ok(self.pending.hold(self.tx, level, reference)?.quantity)
    }

    /// Adds to the reservation held for `reference` (see [`Hold::add`](super::pending::Hold::add)).
    pub fn hold(
        &mut self,
        level: &Level,
        reference: &str,
        quantity: i64,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let at = level.updated_at;
        let owner = self.key;
        self.pending
            .hold(self.tx, level, reference)?
            .add(quantity, expires_at, at, owner);
        Ok(())
    }

    /// Gives the open reservation held for `reference` a new expiry.
    pub fn renew(
        &mut self,
        level: &Level,
        reference: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let at = self.now.at;
        self.pending
            .hold(self.tx, level, reference)?
            .renew(expires_at, at);
        Ok(())
    }

    /// Takes `quantity` off the reservation held for `reference`.
    pub fn release(&mut self, level: &Level, reference: &str, quantity: i64) -> Result<()> {
        let at = level.updated_at;
        let hold = self.pending.hold(self.tx, level, reference)?;
        if hold.quantity < quantity {
            return Err(Error::new(
                ErrorCode::InsufficientReserved,
                "reservation holds less than requested",
            ));
        }
        hold.take(quantity, at);
        Ok(())
    }

    /// Writes what the command changed.
    pub fn finish(mut self) -> Result<()> {
        self.pending.flush(self.tx)
    }
}
