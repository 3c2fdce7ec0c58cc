//! Writes as values. Every write the engine performs is one `Command`, applied by
//! `rules::execute` inside one write transaction; batches, idempotent replays and group commit
//! all go through that single path, on every store. Commands are serializable so that an
//! idempotency key can be checked against the exact request it was first used with.

use crate::model::{
    ApiKey, CheckIn, ConflictReport, ImportSummary, Location, Product, ProductWithStock, Scope,
    StockLevel, TakeOver,
};
use crate::money::Price;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// A write. Every write the engine performs is one of these.
pub enum Command {
    /// Creates a product, with an IN movement for a positive initial quantity.
    CreateProduct(NewProduct),
    /// Changes the given fields of a live product.
    UpdateProduct {
        /// The product.
        id: Uuid,
        /// The fields to change.
        changes: ProductChanges,
        /// Compare-and-set: fail with CONFLICT (field `version`) unless the product is at this version.
        expected_version: Option<i64>,
    },
    /// Archives a product; its ledger stays.
    DeleteProduct {
        /// The product.
        id: Uuid,
        /// Compare-and-set: fail with CONFLICT (field `version`) unless the product is at this version.
        expected_version: Option<i64>,
    },
    /// Creates a location explicitly; CONFLICT if it exists.
    CreateLocation {
        /// The location's name.
        name: String,
    },
    /// One stock operation.
    Stock(StockOp),
    /// All or nothing: the first failing operation rolls the whole batch back.
    Batch(Vec<StockOp>),
    /// Releases every reservation whose expiry has passed, and forgets old idempotency keys.
    Sweep,
    /// Creates an API key from the hash of its secret (the secret itself is never stored).
    CreateKey {
        /// Unique among keys not revoked.
        name: String,
        /// What the key may do.
        scope: Scope,
        /// The only locations it may move stock at; `None`: any.
        locations: Option<Vec<String>>,
        /// SHA-256 of the secret, lowercase hex.
        secret_sha256: String,
    },
    /// Revokes the live key of that name.
    RevokeKey {
        /// The key's name.
        name: String,
    },
    /// Creates or updates products by SKU, all or nothing; the error's `index` names the row.
    ImportProducts(Vec<ProductImport>),
    /// Physical counts by SKU, all or nothing; a count that changes nothing records nothing.
    ImportCounts {
        /// The reference every ADJUST movement carries (`import:<file name>`).
        reference: String,
        /// The counts.
        counts: Vec<CountImport>,
    },
    /// A till's check-in at the start of a sync: registers the till id with the call's key
    /// and the till's instance on first use, and refuses any other pair after.
    CheckInTill {
        /// The till's id.
        till_id: String,
        /// The id the till generated for its own files.
        instance_id: String,
        /// Where it sells.
        location: String,
    },
    /// An admin ends a till id's registration (a replaced device): its allotments are
    /// released, or kept for the next instance to register under the id.
    TakeOverTill {
        /// The till's id.
        till_id: String,
        /// Release the allotments (true) or keep them for the next instance (false).
        release: bool,
    },
    /// A till reports a sale of its own that central refused.
    ReportTillConflict {
        /// The sale's reference, `sale:<till id>:<sale id>`.
        reference: String,
        /// The code central refused it with.
        code: String,
    },
}

/// One product of an import: a new SKU is created, an existing live one updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductImport {
    /// Identifies the product.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Unit price.
    pub price: Price,
    /// `None`: kept (empty for a new product).
    pub description: Option<String>,
    /// A new product's own location; `None`: the default. Not changed for existing products.
    pub location: Option<String>,
    /// A new product's units on hand; `None`: none. Ignored for existing products.
    pub initial_quantity: Option<i64>,
    /// `None`: kept; `Some(None)`: cleared.
    pub reorder_point: Option<Option<i64>>,
}

/// One physical count of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountImport {
    /// The live product's SKU.
    pub sku: String,
    /// Where it was counted.
    pub location: String,
    /// The on-hand quantity counted.
    pub counted: i64,
}

impl Command {
    /// The products the command changes, as far as the command itself tells (a sweep finds its
    /// own); stores that lock rows lock these, in order, before applying.
    pub fn products(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = match self {
            Command::Stock(op) => vec![op.product_id],
            Command::Batch(ops) => ops.iter().map(|op| op.product_id).collect(),
            Command::UpdateProduct { id, .. } | Command::DeleteProduct { id, .. } => vec![*id],
            _ => Vec::new(),
        };
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// A short name of the command's kind, for logs and metrics: "stock.reserve", "batch", ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Command::CreateProduct(_) => "product.create",
            Command::UpdateProduct { .. } => "product.update",
            Command::DeleteProduct { .. } => "product.delete",
            Command::CreateLocation { .. } => "location.create",
            Command::Stock(op) => match op.kind {
                OpKind::Add => "stock.add",
                OpKind::Remove => "stock.remove",
                OpKind::Reserve => "stock.reserve",
                OpKind::Unreserve => "stock.unreserve",
                OpKind::Commit => "stock.commit",
                OpKind::Transfer => "stock.transfer",
                OpKind::Count => "stock.count",
                OpKind::Renew => "stock.renew",
            },
            Command::Batch(_) => "batch",
            Command::Sweep => "sweep",
            Command::CreateKey { .. } => "key.create",
            Command::RevokeKey { .. } => "key.revoke",
            Command::ImportProducts(_) => "import.products",
            Command::ImportCounts { .. } => "import.counts",
            Command::CheckInTill { .. } => "till.check_in",
            Command::TakeOverTill { .. } => "till.take_over",
            Command::ReportTillConflict { .. } => "till.conflict",
        }
    }
}

/// The fields of a new product. `location` defaults to [`DEFAULT_LOCATION`](crate::DEFAULT_LOCATION).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProduct {
    /// Display name, 1 to 255 characters.
    pub name: String,
    /// Stock keeping unit, 1 to 100 characters, unique among live products.
    pub sku: String,
    /// Unit price.
    pub price: Price,
    /// Free text, up to 4096 characters.
    pub description: String,
    /// The product's own location, where operations without a location act.
    pub location: Option<String>,
    /// Units on hand at creation, recorded as one IN movement.
    pub initial_quantity: i64,
    /// Available total at or below which the product is listed as low on stock.
    pub reorder_point: Option<i64>,
    /// The product's id; `None`: a new UUID v7. For a database that mirrors another's
    /// catalogue (a till keeps central's ids), so that both name a product alike. An id any
    /// product has ever had (archived ones included) is CONFLICT, field `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
}

impl NewProduct {
    /// A product with an empty description, no initial stock and the default location.
    pub fn new(name: impl Into<String>, sku: impl Into<String>, price: Price) -> Self {
        NewProduct {
            name: name.into(),
            sku: sku.into(),
            price,
            description: String::new(),
            location: None,
            initial_quantity: 0,
            reorder_point: None,
            id: None,
        }
    }
}

/// A partial update: `None` leaves a field as it is. `reorder_point: Some(None)` clears it.
/// The SKU is immutable and so is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price.
    pub price: Option<Price>,
    /// `Some(Some(n))` sets the reorder point, `Some(None)` clears it.
    pub reorder_point: Option<Option<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// The kinds of stock operation.
pub enum OpKind {
    /// Puts units on hand (IN).
    Add,
    /// Takes available units off hand (OUT).
    Remove,
    /// Holds available units for a reference (RESERVE).
    Reserve,
    /// Releases reserved quantity: the reservation named by `reference`, or unreferenced
    /// reserved quantity when there is no reference.
    Unreserve,
    /// Fulfils a reservation: on_hand and reserved both drop.
    Commit,
    /// Moves `quantity` from `location` to `to_location`.
    Transfer,
    /// A physical count: sets on_hand at `location` to `quantity`.
    Count,
    /// Gives an open reservation a new expiry, changing nothing else (no movement): a lease
    /// renewed without its quantity changing.
    Renew,
}

impl OpKind {
    /// Every kind, in the order surfaces list them.
    pub const ALL: [OpKind; 8] = [
        OpKind::Add,
        OpKind::Remove,
        OpKind::Reserve,
        OpKind::Unreserve,
        OpKind::Commit,
        OpKind::Transfer,
        OpKind::Count,
        OpKind::Renew,
    ];

    /// The lowercase name used in HTTP batch items and elsewhere ("add", "transfer", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Reserve => "reserve",
            OpKind::Unreserve => "unreserve",
            OpKind::Commit => "commit",
            OpKind::Transfer => "transfer",
            OpKind::Count => "count",
            OpKind::Renew => "renew",
        }
    }

    /// The kind named by [`OpKind::as_str`], if any.
    pub fn parse(s: &str) -> Option<Self> {
        OpKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// When a reservation lapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiry {
    /// Seconds from the moment the reservation is applied.
    In(i64),
    /// At this instant.
    At(DateTime<Utc>),
}

/// A compare-and-set guard on the target level, checked before the operation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// Available (on hand less reserved).
    Available(i64),
    /// On hand.
    Quantity(i64),
}

/// One stock operation. One flat value serves every kind; which fields each kind takes, and
/// what their absence means, is stated once in [`shape`](crate::shape): a field that does not
/// apply to the kind is a validation error naming it, never silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockOp {
    /// What the operation does.
    pub kind: OpKind,
    /// The live product it acts on.
    pub product_id: Uuid,
    /// The target location (`location`); a transfer's source (`from_location`). `None`: the
    /// product's own location.
    pub location: Option<String>,
    /// Transfer destination (`to_location`).
    pub to_location: Option<String>,
    /// Units to move (`quantity`); a count's counted on-hand (`counted`).
    pub quantity: Option<i64>,
    /// Free reference (an order, a purchase order); names the reservation for reserve,
    /// unreserve, commit and renew.
    pub reference: Option<String>,
    /// Commit only: the reservation to take from (`reservation`), when the movement is to carry
    /// another reference; `None`: the one named by `reference`. Left out of the serialized
    /// command when absent, so that requests stored under idempotency keys before it existed
    /// still match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<String>,
    /// Free notes, stored in the ledger.
    pub notes: Option<String>,
    /// Reserve only: when the reservation lapses.
    pub expires: Option<Expiry>,
    /// Commit only: release what the commit leaves of the reservation.
    pub release_remainder: bool,
    /// Compare-and-set guard on the target level.
    pub expect: Option<Expect>,
}

impl StockOp {
    /// An operation of `kind` on `quantity` units at the product's own location.
    pub fn new(kind: OpKind, product_id: Uuid, quantity: i64) -> Self {
        StockOp {
            kind,
            product_id,
            location: None,
            to_location: None,
            quantity: Some(quantity),
            reference: None,
            reservation: None,
            notes: None,
            expires: None,
            release_remainder: false,
            expect: None,
        }
    }

    /// Puts `quantity` units on hand.
    pub fn add(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Add, product_id, quantity)
    }
    /// Takes `quantity` available units off hand.
    pub fn remove(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Remove, product_id, quantity)
    }
    /// Holds `quantity` available units.
    pub fn reserve(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Reserve, product_id, quantity)
    }
    /// Releases `quantity` reserved units (the reservation named by the reference, if any).
    pub fn unreserve(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Unreserve, product_id, quantity)
    }
    /// Commits the whole reservation held for `reference`.
    pub fn commit(product_id: Uuid, reference: impl Into<String>) -> Self {
        StockOp {
            quantity: None,
            ..StockOp::new(OpKind::Commit, product_id, 0)
        }
        .reference(reference)
    }
    /// Moves `quantity` units from one location to another.
    pub fn transfer(
        product_id: Uuid,
        from: impl Into<String>,
        to: impl Into<String>,
        quantity: i64,
    ) -> Self {
        StockOp {
            to_location: Some(to.into()),
            ..StockOp::new(OpKind::Transfer, product_id, quantity)
        }
        .at(from)
    }
    /// Records a physical count: on_hand at `location` becomes `counted`.
    pub fn count(product_id: Uuid, location: impl Into<String>, counted: i64) -> Self {
        StockOp::new(OpKind::Count, product_id, counted).at(location)
    }
    /// Gives the reservation held for `reference` a new expiry.
    pub fn renew(product_id: Uuid, reference: impl Into<String>, expiry: Expiry) -> Self {
        StockOp {
            quantity: None,
            ..StockOp::new(OpKind::Renew, product_id, 0)
        }
        .reference(reference)
        .expires(expiry)
    }

    /// Acts at `location` instead of the product's own location.
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
    /// Sets the reference.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }
    /// Commit only: takes from the reservation held for `reservation`, while the movement
    /// carries the operation's own reference.
    pub fn from_reservation(mut self, reservation: impl Into<String>) -> Self {
        self.reservation = Some(reservation.into());
        self
    }
    /// Sets the notes.
    pub fn notes(mut self, notes: impl Into<String>) -> Self {
        self.notes = Some(notes.into());
        self
    }
    /// Sets the quantity; `None` means the whole reservation for unreserve (with a reference) and commit.
    pub fn quantity(mut self, quantity: Option<i64>) -> Self {
        self.quantity = quantity;
        self
    }
    /// Sets when a reservation lapses.
    pub fn expires(mut self, expiry: Expiry) -> Self {
        self.expires = Some(expiry);
        self
    }
    /// Guards the operation with an expected value at the target.
    pub fn expect(mut self, expect: Expect) -> Self {
        self.expect = Some(expect);
        self
    }
    /// Commit only: release what the commit leaves of the reservation.
    pub fn release_remainder(mut self, yes: bool) -> Self {
        self.release_remainder = yes;
        self
    }
}

/// What a command produced. Stored as JSON beside its idempotency key, so a replay returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The new product and its stock.
    ProductCreated(Box<ProductWithStock>),
    /// The product after the update.
    ProductUpdated(Box<Product>),
    /// The archived product's id.
    ProductDeleted(Uuid),
    /// The new location.
    LocationCreated(Location),
    /// The levels a stock operation changed: one, or for a transfer [source, destination].
    Levels(Vec<StockLevel>),
    /// The levels each operation of the batch changed, in order.
    Batch(Vec<Vec<StockLevel>>),
    /// Reservations released by a sweep.
    Swept(u64),
    /// The new key (without its secret, which only the caller that made it holds).
    KeyCreated(ApiKey),
    /// The revoked key.
    KeyRevoked(ApiKey),
    /// What an import did.
    Imported(ImportSummary),
    /// A till's registration, and central's identity and high-water sequence.
    TillCheckedIn(Box<CheckIn>),
    /// What taking a till over did.
    TillTakenOver(Box<TakeOver>),
    /// A till's conflict, as recorded.
    TillConflict(ConflictReport),
}
