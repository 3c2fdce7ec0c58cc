//! The values the engine hands out. Every read and every write result is one of these plain,
//! owned, serializable structs, so that each surface can translate them field by field.

use crate::money::Price;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A catalogue entry. `location` is the product's own location: stock operations that name
/// no location act there, as the seed's single-location API did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// UUID v7.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Stock keeping unit, unique among live products.
    pub sku: String,
    /// Unit price, exact.
    pub price: Price,
    /// The product's own location.
    pub location: String,
    /// Low-stock threshold on the available total.
    pub reorder_point: Option<i64>,
    /// Bumped by every update; the basis of compare-and-set (HTTP ETag / If-Match).
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The stock of one product at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The level's own id (the seed's `inventory.id`).
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The location's name.
    pub location: String,
    /// Units physically held.
    pub on_hand: i64,
    /// Units held for reservations.
    pub reserved: i64,
    /// on_hand - reserved.
    pub available: i64,
    /// When the level was first stocked.
    pub created_at: DateTime<Utc>,
    /// When the level last changed.
    pub updated_at: DateTime<Utc>,
}

/// A product's stock over all its locations: `totals` is a level whose quantities are sums over
/// `locations`, and whose `id`, `location` and `created_at` are those of the product's own
/// location (as in the seed); its `updated_at` is the latest of any level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockSummary {
    /// The totals, in the shape of one level (flattened into the summary when serialized).
    #[serde(flatten)]
    pub totals: StockLevel,
    /// One level per location the product has ever stocked, ordered by location name.
    pub locations: Vec<StockLevel>,
    /// Whether the product has a reorder point and its available total is at or below it: the
    /// predicate of `ProductQuery::low_stock`, given with the totals so that a reader shows it
    /// without stating the rule again.
    pub low_stock: bool,
}

/// A product together with its stock, as `get_product` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductWithStock {
    /// The product.
    pub product: Product,
    /// Its stock.
    pub inventory: StockSummary,
}

/// What a movement did. The string forms are stored in the ledger and shown on every surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MovementKind {
    /// Stock received.
    In,
    /// Stock removed.
    Out,
    /// Stock reserved.
    Reserve,
    /// A reservation released.
    Unreserve,
    /// A reservation fulfilled: on_hand and reserved both drop.
    Commit,
    /// A reservation released by its expiry.
    Expire,
    /// The source half of a transfer.
    TransferOut,
    /// The destination half of a transfer.
    TransferIn,
    /// A physical count; `quantity` is the signed change it made to on_hand.
    Adjust,
}

impl MovementKind {
    /// Every kind.
    pub const ALL: [MovementKind; 9] = [
        MovementKind::In,
        MovementKind::Out,
        MovementKind::Reserve,
        MovementKind::Unreserve,
        MovementKind::Commit,
        MovementKind::Expire,
        MovementKind::TransferOut,
        MovementKind::TransferIn,
        MovementKind::Adjust,
    ];

    /// The ledger's name for the kind, e.g. `"TRANSFER_IN"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::In => "IN",
            MovementKind::Out => "OUT",
            MovementKind::Reserve => "RESERVE",
            MovementKind::Unreserve => "UNRESERVE",
            MovementKind::Commit => "COMMIT",
            MovementKind::Expire => "EXPIRE",
            MovementKind::TransferOut => "TRANSFER_OUT",
            MovementKind::TransferIn => "TRANSFER_IN",
            MovementKind::Adjust => "ADJUST",
        }
    }

    /// The kind named by [`MovementKind::as_str`], if any.
    pub fn parse(s: &str) -> Option<Self> {
        MovementKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The change this kind of movement makes to (on_hand, reserved) for a given quantity.
    pub fn deltas(self, quantity: i64) -> (i64, i64) {
        match self {
            MovementKind::In | MovementKind::TransferIn | MovementKind::Adjust => (quantity, 0),
            MovementKind::Out | MovementKind::TransferOut => (-quantity, 0),
            MovementKind::Reserve => (0, quantity),
            MovementKind::Unreserve | MovementKind::Expire => (0, -quantity),
            MovementKind::Commit => (-quantity, -quantity),
        }
    }
}

/// One ledger entry. `seq` is global and strictly increasing; `on_hand_after` and
/// `reserved_after` are the level's balances once this movement applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// Global sequence number: strictly increasing across all products.
    pub seq: i64,
    /// UUID v7.
    pub id: Uuid,
    /// The stock level's id (the seed's `inventory_id`).
    pub inventory_id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The location's name.
    pub location: String,
    /// What happened.
    pub kind: MovementKind,
    /// Units moved: positive, except an ADJUST's signed difference.
    pub quantity: i64,
    /// The level's on_hand after this movement.
    pub on_hand_after: i64,
    /// The level's reserved after this movement.
    pub reserved_after: i64,
    /// The reference given with the operation.
    pub reference: Option<String>,
    /// The notes given with the operation.
    pub notes: Option<String>,
    /// The id of the document in another system that caused a receipt (`external_id`).
    #[serde(default)]
    pub external_id: Option<String>,
    /// Shared by the two halves of a transfer.
    pub transfer_id: Option<Uuid>,
    /// Who made it: the API key's name over HTTP, or the actor a caller set; `None` if unknown.
    pub actor: Option<String>,
    /// When it was applied.
    pub created_at: DateTime<Utc>,
}

/// A named place that holds stock, with its totals over live products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Location {
    /// The location's name.
    pub name: String,
    /// On hand over live products.
    pub on_hand: i64,
    /// Reserved over live products.
    pub reserved: i64,
    /// Available over live products.
    pub available: i64,
    /// Live products with a stock level here.
    pub products: i64,
    /// When the location was created.
    pub created_at: DateTime<Utc>,
}

/// An open reservation: quantity held for `reference` at one product and location.
/// An unreferenced reserve is held under the empty reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Reservation {
    /// UUID v7.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The location's name.
    pub location: String,
    /// The reference it is held for; empty for unreferenced reserves.
    pub reference: String,
    /// Units held.
    pub quantity: i64,
    /// When it lapses, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The name of the API key that opened it, which alone (besides keys without a location
    /// limit and admin keys) may change it; `None` when it was opened without a key (by the
    /// library itself, or with authentication off): anyone's at its location.
    pub owner: Option<String>,
}

/// The result of `verify()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// True when no problem was found.
    pub ok: bool,
    /// One line per problem found.
    pub problems: Vec<String>,
}

/// A page of the change feed and the cursor to ask for the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePage {
    /// Movements after the cursor, oldest first.
    pub movements: Vec<Movement>,
    /// Pass as `after` to continue; equal to the request's `after` when nothing was new.
    pub next_after: i64,
}

/// A product as the catalogue feed gives it: its latest state, archived or not, and the
/// revision at which it last changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    /// The product's fields as they are now.
    pub product: Product,
    /// When it was archived; `None` while it is live.
    pub archived_at: Option<DateTime<Utc>>,
    /// A number from one counter of the whole database, given to a product each time it is
    /// created, updated or archived: in commit order, never reused.
    pub revision: i64,
}

/// A page of the catalogue feed and the cursor to ask for the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CataloguePage {
    /// Products changed after the cursor, in revision order; each appears once, as it is now.
    pub products: Vec<CatalogueEntry>,
    /// Pass as `after` to continue; equal to the request's `after` when nothing was new.
    pub next_after: i64,
}

/// What an import did, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Rows that created something.
    pub created: u64,
    /// Rows that changed something that existed.
    pub updated: u64,
    /// Rows that matched what was there already.
    pub unchanged: u64,
}

/// A unit enum's schema as one `enum` of its names: schemars gives documented variants a
/// `oneOf`, which clients read as a union of types rather than as a string.
#[cfg(feature = "schema")]
pub(crate) fn names_only(schema: &mut schemars::Schema) {
    if let Some(variants) = schema.remove("oneOf") {
        let names: Vec<serde_json::Value> = variants
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("const").or_else(|| v["enum"].get(0)).cloned())
            .collect();
        schema.insert("type".into(), "string".into());
        schema.insert("enum".into(), names.into());
    }
}

/// What an API key may do. Each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = names_only))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every read.
    Read,
    /// Reads, product changes and every stock operation.
    Write,
    /// Everything, including managing keys.
    Admin,
}

impl Scope {
    /// Every scope, narrowest first.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// `"read"`, `"write"` or `"admin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// The scope named by [`Scope::as_str`], if any.
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether a key of this scope may do what `needed` allows.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

/// An API key, as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApiKey {
    /// Unique among keys not revoked; recorded as the actor of the movements the key makes.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// The only locations it may move stock at; `None`: any location.
    pub locations: Option<Vec<String>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key may move stock at `location`.
    pub fn may_stock_at(&self, location: &str) -> bool {
        self.locations
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|l| l == location))
    }
}

/// A key just created, with its secret: shown this once, stored only as a hash. Its `Debug`
/// form leaves the secret out, so that it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedKey {
    /// The key.
    pub key: ApiKey,
    /// The bearer secret.
    pub secret: String,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A till as central knows it: the first sync under a till id registers it with the key that
/// made it and the instance id the till generated for its own files, and only that pair may
/// sync under the id until an admin takes it over (`Inventory::take_over_till`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Till {
    /// The till's id (its allotments are held under `till:<id>`, its sales are `sale:<id>:…`).
    pub id: String,
    /// The name of the key it registered with.
    pub key: String,
    /// The instance (a till's own files) that registered it.
    pub instance_id: String,
    /// Where it sells.
    pub location: String,
    /// Its first sync.
    pub registered_at: DateTime<Utc>,
    /// Its latest sync.
    pub last_sync_at: DateTime<Utc>,
}

/// Which database this is: `generation` changes whenever it is restored from a backup, so a
/// till that saw another generation knows central was rewound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DatabaseIdentity {
    /// Given when the database was created; kept by a restore of one of its backups.
    pub id: String,
    /// Changed by every restore.
    pub generation: String,
}

/// A point in a ledger's history: the movement at a sequence number. A rewound database
/// (restored from a backup, a copy of its file or a snapshot, a point-in-time recovery) either
/// stops before that number or holds another movement there once it has grown past it, so a
/// point shows a rewind that keeps the generation. Sequence numbers are commit-ordered on both
/// stores, so holding the point means holding everything committed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LedgerPoint {
    /// The movement's sequence number.
    pub seq: i64,
    /// The movement's id.
    pub movement_id: Uuid,
}

/// What a till last saw of central, sent back at its next check-in: the point its last
/// check-in answered and central's clock then (the registration's `last_sync_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SeenPoint {
    /// The point.
    pub point: LedgerPoint,
    /// Central's clock at that check-in.
    pub checked_in_at: DateTime<Utc>,
}

/// What central answers a till checking in at the start of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckIn {
    /// The till's registration.
    pub till: Till,
    /// Central's database identity and generation.
    pub database: DatabaseIdentity,
    /// The ledger's high-water sequence number: a restore from a backup takes it back.
    pub high_water: i64,
    /// The movement at `high_water`; none while the ledger is empty.
    pub point: Option<LedgerPoint>,
    /// Whether central still holds the point the till sent as seen (none when it sent none):
    /// false means central was rewound past it.
    pub seen_held: Option<bool>,
}

/// A till's state at central: its registration, what it holds and how long since it synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TillStatus {
    /// The registration.
    pub till: Till,
    /// Its open reservations (`till:<id>`), by product.
    pub allotments: Vec<Reservation>,
    /// Seconds since its latest sync, on this database's clock.
    pub lag_seconds: i64,
}

/// What taking a till id over did: the registration it ended and its allotments' units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TakeOver {
    /// The registration that ended; the next sync under the id registers anew.
    pub till: Till,
    /// Units of its allotments released (UNRESERVE movements).
    pub released: i64,
    /// Units of its allotments kept for the till's next instance (an UNRESERVE and a RESERVE
    /// each, so that the ledger records the hand-over).
    pub transferred: i64,
}

/// A conflict a till reported, as central recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "TillConflictReport"))]
pub struct ConflictReport {
    /// The sale's reference (`sale:<till id>:<sale id>`).
    pub reference: String,
    /// The till it belongs to.
    pub till_id: String,
    /// The code central refused the sale with.
    pub code: String,
    /// False when this reference was reported before: it is counted once.
    pub first: bool,
}
