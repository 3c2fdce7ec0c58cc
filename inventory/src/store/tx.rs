//! The one interface the rules call. A store implements these two traits with its own SQL, inside
//! one transaction; every rule (what may change, by how much, what is refused) lives in
//! `rules` and `reads`, written once for every store.

use super::rows::*;
use crate::error::Result;
use crate::model::{
    ApiKey, CatalogueEntry, DatabaseIdentity, Location, Movement, Product, Reservation, StockLevel,
    Till,
};
use crate::webhooks::{Delivery, Webhook};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a read transaction can be asked. Every call within one transaction sees one snapshot.
pub(crate) trait ReadTx {
    /// A live (not archived) product.
    fn product(&mut self, id: Uuid) -> Result<Option<Product>>;
    /// Every level of a product, by location name.
    fn levels(&mut self, product: Uuid) -> Result<Vec<StockLevel>>;
    /// A page of live products in id (creation) order.
    fn list_products(&mut self, filter: &ProductFilter) -> Result<Vec<Product>>;
    /// Up to `limit` live products with an id above `after` (all, for `None`), in id order.
    fn products_after(&mut self, after: Option<Uuid>, limit: i64) -> Result<Vec<Product>>;
    /// Up to `limit` products, archived ones included, whose catalogue revision is above
    /// `after`, in revision (commit) order.
    fn catalogue(&mut self, after: i64, limit: i64) -> Result<Vec<CatalogueEntry>>;
    /// A page of a product's movements, newest first.
    fn movements(&mut self, product: Uuid, filter: &HistoryFilter) -> Result<Vec<Movement>>;
    /// Movements of every product with `seq` above `after`, oldest first.
    fn changes(&mut self, after: i64, limit: i64) -> Result<Vec<Movement>>;
    /// The latest sequence number handed out, 0 when the ledger is empty.
    fn last_seq(&mut self) -> Result<i64>;
    /// Every location with its totals over live products, by name.
    fn locations(&mut self) -> Result<Vec<Location>>;
    /// One location with its totals.
    fn location(&mut self, name: &str) -> Result<Option<Location>>;
    /// Open reservations of a product, by location then reference.
    fn reservations_of(&mut self, product: Uuid) -> Result<Vec<Reservation>>;
    /// Open reservations of live products held under a (non-empty) reference.
    fn reservations_by_reference(&mut self, reference: &str) -> Result<Vec<Reservation>>;
    /// Up to `limit` open reservations of live products expiring before `before`, soonest
    /// first (ties by id).
    fn reservations_expiring(&mut self, before: &Stamp, limit: i64) -> Result<Vec<Reservation>>;
    /// Whether any reservation of `product` (or of any product) has passed its expiry.
    fn any_due(&mut self, product: Option<Uuid>, now: &Stamp) -> Result<bool>;
    /// How many reservations are open.
    fn open_reservations(&mut self) -> Result<i64>;
    /// Every API key, revoked ones included, each with the SHA-256 hex of its secret.
    fn api_keys(&mut self) -> Result<Vec<(ApiKey, String)>>;
    /// Every registered till, by id.
    fn tills(&mut self) -> Result<Vec<Till>>;
    /// The database's identity and generation.
    fn identity(&mut self) -> Result<DatabaseIdentity>;
    /// Every webhook subscription with its signing secret, by id.
    fn webhooks(&mut self) -> Result<Vec<(Webhook, String)>>;
    /// Up to `limit` delivery attempts of a subscription, newest first; only those whose
    /// request carried the event `event`, when given.
    fn deliveries(
        &mut self,
        webhook: Uuid,
        event: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>>;
    /// The problems `verify()` finds: caches against the ledger, and the store's own integrity.
    fn verify(&mut self) -> Result<Vec<String>>;
}

/// What a write transaction can be asked, beyond reads.
pub(crate) trait WriteTx: ReadTx {
    /// What a stock operation needs of a live product, in one look-up.
    fn stock_target(&mut self, id: Uuid) -> Result<Option<StockTarget>>;
    /// Whether any product, live or archived, has this id.
    fn product_ever_existed(&mut self, id: Uuid) -> Result<bool>;
    /// Whether a live product holds `sku`.
    fn sku_taken(&mut self, sku: &str) -> Result<bool>;
    /// The live product that holds `sku`.
    fn product_id_by_sku(&mut self, sku: &str) -> Result<Option<Uuid>>;
    /// Inserts a product (version 1, no totals); returns its compact number.
    fn insert_product(&mut self, row: &NewProductRow) -> Result<i64>;
    /// Writes a product's fields and bumps its version.
    fn update_product(&mut self, id: Uuid, row: &ProductUpdate) -> Result<()>;
    /// Archives a product and bumps its version.
    fn archive_product(&mut self, id: Uuid, now: &Stamp) -> Result<()>;

    /// A location's id.
    fn location_id(&mut self, name: &str) -> Result<Option<i64>>;
    /// Creates a location (its name is not taken); returns its id.
    fn insert_location(&mut self, name: &str, now: &Stamp) -> Result<i64>;

    /// A stored level.
    fn load_level(&mut self, product: Uuid, location_id: i64) -> Result<Option<StoredLevel>>;
    fn insert_level(&mut self, level: &Level) -> Result<()>;
    fn update_level(&mut self, level: &Level) -> Result<()>;
    /// Adds to a product's cached totals (only products with a reorder point keep them).
    fn add_to_totals(&mut self, product: Uuid, on_hand: i64, reserved: i64) -> Result<()>;

    fn load_hold(&mut self, key: &HoldKey) -> Result<Option<StoredHold>>;
    fn delete_hold(&mut self, key: &HoldKey) -> Result<()>;
    fn update_hold(&mut self, key: &HoldKey, hold: &HoldRow) -> Result<()>;
    fn insert_hold(&mut self, key: &HoldKey, id: Uuid, hold: &HoldRow) -> Result<()>;
    /// Reservations of `product` (or of every product) whose expiry has passed.
    fn due(&mut self, product: Option<Uuid>, now: &Stamp) -> Result<Vec<Due>>;

    /// Appends a movement to the ledger, giving it the next sequence number.
    fn append(&mut self, movement: &NewMovement) -> Result<()>;

    /// The request and outcome (both JSON) first stored under an idempotency key.
    fn find_request(&mut self, key: &str) -> Result<Option<(String, String)>>;
    fn store_request(&mut self, request: &NewRequest) -> Result<()>;
    /// Forgets idempotency keys stored before `before`.
    fn forget_requests(&mut self, before: DateTime<Utc>) -> Result<()>;

    fn insert_key(&mut self, row: &NewKeyRow) -> Result<()>;
    /// The key of that name that is not revoked.
    fn live_key(&mut self, name: &str) -> Result<Option<ApiKey>>;
    fn revoke_key(&mut self, name: &str, now: &Stamp) -> Result<()>;

    /// A subscription with its secret, its row locked to the end of the transaction.
    fn lock_webhook(&mut self, id: Uuid) -> Result<Option<(Webhook, String)>>;
    fn insert_webhook(&mut self, webhook: &Webhook, secret: &str) -> Result<()>;
    /// Writes a subscription's state, cursor, backoff and lease.
    fn update_webhook(&mut self, webhook: &Webhook) -> Result<()>;
    /// Removes a subscription and its delivery log.
    fn delete_webhook(&mut self, id: Uuid) -> Result<()>;
    /// Gives `owner` the lease of a subscription until `until`, if no other owner holds it
    /// past `now`, in one conditional update; whether it did.
    fn take_lease(&mut self, id: Uuid, owner: &str, until: &Stamp, now: &Stamp) -> Result<bool>;
    fn insert_delivery(&mut self, row: &NewDelivery) -> Result<()>;
    /// Forgets delivery attempts logged before `before`.
    fn forget_deliveries(&mut self, before: &Stamp) -> Result<()>;

    /// A till's registration.
    fn load_till(&mut self, id: &str) -> Result<Option<Till>>;
    /// The token a till's latest check-in left.
    fn till_token(&mut self, id: &str) -> Result<Option<String>>;
    fn insert_till(&mut self, till: &Till, token: &str) -> Result<()>;
    /// Records a till's latest sync and the token it leaves.
    fn touch_till(&mut self, id: &str, token: &str, now: &Stamp) -> Result<()>;
    fn delete_till(&mut self, id: &str) -> Result<()>;
    /// Records a reported conflict; false when its reference was recorded before.
    fn insert_till_conflict(&mut self, conflict: &NewTillConflict) -> Result<bool>;
}
