//! SQL both stores run as it is written: the rules that are predicates on rows (a reservation is
//! due, low stock, the cached totals), the movement columns every read of the ledger selects, the
//! statements that are the same on both, and the proofs of `verify()`. Each is written in the
//! subset of SQL that SQLite and PostgreSQL share (`<>`, `CAST`, `$1` parameters), so that a
//! column, a rule or a proof changed here changes on both stores; each store adds only the
//! checks of what it alone has (SQLite's integrity check, PostgreSQL's counters and
//! constraints). SQLite numbers `$N` parameters in the order they first appear, not by `N`:
//! in every statement here they first appear in order (a test checks), so both stores bind
//! them by position alike.

/// "A reservation is due": its expiry has come (at or before now), so the next stock operation
/// on its product, or a sweep, releases it. `$reservation` is the alias of the reservations
/// table, `$now` the parameter holding now. Stated for Rust, for what a transaction holds in
/// memory, by [`crate::rules::expiry::is_due`]. The `IS NOT NULL` names the partial indexes'
/// predicate, which both stores need to see implied to use them.
macro_rules! due {
    ($reservation:literal, $now:literal) => {
        concat!(
            $reservation,
            ".expires_at IS NOT NULL AND ",
            $reservation,
            ".expires_at <= ",
            $now
        )
    };
}
#[cfg(feature = "postgres")]
pub(crate) use due; // PostgreSQL also locks the products with a reservation due

/// Whether any reservation of one product (`$1`) is due at `$2`.
pub(crate) const ANY_DUE_OF: &str = concat!(
    "SELECT 1 FROM reservations r WHERE r.product_id = $1 AND ",
    due!("r", "$2"),
    " LIMIT 1"
);

/// Whether any reservation is due at `$1`.
pub(crate) const ANY_DUE: &str = concat!(
    "SELECT 1 FROM reservations r WHERE ",
    due!("r", "$1"),
    " LIMIT 1"
);

/// The reservations of product `$1` (of every product, for NULL) due at `$2`, with what
/// releasing one needs: product, product number, location id and name, reference, quantity.
pub(crate) const DUE_SELECT: &str = concat!(
    "SELECT r.product_id, p.ordinal, r.location_id, l.name, r.reference, r.quantity
     FROM reservations r JOIN products p ON p.id = r.product_id
     JOIN locations l ON l.id = r.location_id
     WHERE r.product_id = coalesce($1, r.product_id) AND ",
    due!("r", "$2")
);

/// "Low stock": the product has a reorder point and what is available (its cached totals, on
/// hand less reserved) is at or below it. Written exactly as the partial index
/// `products_low_stock` states it, so that a listing filtered by it uses the index; stated for
/// Rust by [`crate::reads::is_low_stock`].
pub(crate) const LOW_STOCK: &str =
    "p.reorder_point IS NOT NULL AND p.reorder_point >= p.on_hand_total - p.reserved_total";

/// The cached-totals rule, on a stock change: only a product with a reorder point keeps its
/// totals (on hand `$1`, reserved `$2` added to product `$3`), for the low-stock index; any
/// other keeps zero.
pub(crate) const ADD_TO_TOTALS: &str =
    "UPDATE products SET on_hand_total = on_hand_total + $1, reserved_total = reserved_total + $2
     WHERE id = $3 AND reorder_point IS NOT NULL";

/// Writes a product's fields (name `$1`, description `$2`, price `$3`, reorder point `$4`, at
/// `$5`, of product `$6`) and bumps its version. The cached-totals rule, on an edit: a product
/// given a reorder point takes its totals from its levels, one losing it goes back to zero.
/// (The catalogue revision is each store's to give: see `revise` in each.)
pub(crate) const UPDATE_PRODUCT: &str =
    "UPDATE products SET name = $1, description = $2, price = $3, reorder_point = $4,
            version = version + 1, updated_at = $5,
            on_hand_total = CASE WHEN CAST($4 AS bigint) IS NULL THEN 0 ELSE
                (SELECT coalesce(sum(on_hand), 0) FROM stock_levels WHERE product_id = $6) END,
            reserved_total = CASE WHEN CAST($4 AS bigint) IS NULL THEN 0 ELSE
                (SELECT coalesce(sum(reserved), 0) FROM stock_levels WHERE product_id = $6) END
     WHERE id = $6";

/// Archives product `$2` at `$1` and bumps its version.
pub(crate) const ARCHIVE_PRODUCT: &str =
    "UPDATE products SET archived_at = $1, updated_at = $1, version = version + 1 WHERE id = $2";

/// Every read of products selects these columns, in this order (each store maps the row).
pub(crate) const PRODUCT_COLUMNS: &str = "p.id, p.name, p.description, p.sku, p.price, l.name, p.reorder_point, p.version, p.created_at, p.updated_at";

/// Every read of movements selects these columns, in this order (each store maps the row).
pub(crate) const MOVEMENT_SELECT: &str =
    "SELECT m.seq, m.id, s.id, m.product_id, l.name, m.kind, m.quantity, m.on_hand_after,
        m.reserved_after, m.reference, m.notes, m.transfer_id, m.created_at, m.actor,
        m.external_id
    FROM movements m
    JOIN locations l ON l.id = m.location_id
    JOIN stock_levels s ON s.product_id = m.product_id AND s.location_id = m.location_id";

/// Every read of reservations selects these columns, in this order (each store maps the row).
pub(crate) const RESERVATION_SELECT: &str =
    "SELECT r.id, r.product_id, l.name, r.reference, r.quantity, r.expires_at,
        r.created_at, r.updated_at, r.owner
    FROM reservations r JOIN locations l ON l.id = r.location_id";

/// Stores a command's request and outcome under its idempotency key.
pub(crate) const INSERT_REQUEST: &str =
    "INSERT INTO idempotency_keys (key, request, outcome, created_at) VALUES ($1, $2, $3, $4)";

/// Records a till's reported conflict once: a reference reported again inserts nothing.
pub(crate) const INSERT_TILL_CONFLICT: &str =
    "INSERT INTO till_conflicts (reference, till_id, code, reported_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT (reference) DO NOTHING";

/// Problems reported per check at most, so a badly damaged database still gives a readable report.
pub(crate) const MAX_PROBLEMS_PER_CHECK: i64 = 50;

/// The proofs of the caches against the ledger, on every store: levels equal the sum of their
/// movements, balances chain, movements are filed under their product's number, product totals
/// equal their levels (kept, for the low-stock index, only while the product has a reorder
/// point; otherwise zero), reserved equals the open reservations, nothing is orphaned, and every
/// product has a catalogue revision. Each is a title and a query of at most `$1` problem lines.
pub(crate) const PROOFS: &[(&str, &str)] = &[
    (
        "level differs from the sum of its movements",
        "SELECT s.product_id || ' @ ' || s.location_id || ': level ' || s.on_hand || '/' || s.reserved
                || ', ledger ' || coalesce(m.on_hand, 0) || '/' || coalesce(m.reserved, 0)
         FROM stock_levels s
         LEFT JOIN (SELECT product_id, location_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                    FROM movements GROUP BY product_id, location_id) m
           ON m.product_id = s.product_id AND m.location_id = s.location_id
         WHERE s.on_hand <> coalesce(m.on_hand, 0) OR s.reserved <> coalesce(m.reserved, 0)
         LIMIT $1",
    ),
    (
        "movements without a stock level",
        "SELECT 'movement ' || m.seq FROM movements m
         WHERE NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.product_id = m.product_id AND s.location_id = m.location_id)
         LIMIT $1",
    ),
    (
        "movement filed under another product's number",
        "SELECT 'movement ' || m.seq FROM movements m JOIN products p ON p.id = m.product_id
         WHERE m.product_ordinal <> p.ordinal
         LIMIT $1",
    ),
    (
        "movement balances do not chain",
        "SELECT 'movement ' || seq || ': after ' || on_hand_after || '/' || reserved_after
                || ', running sum ' || run_on_hand || '/' || run_reserved
         FROM (SELECT seq, on_hand_after, reserved_after,
                      sum(on_hand_delta) OVER w AS run_on_hand, sum(reserved_delta) OVER w AS run_reserved
               FROM movements
               WINDOW w AS (PARTITION BY product_id, location_id ORDER BY seq)) chained
         WHERE on_hand_after <> run_on_hand OR reserved_after <> run_reserved
         LIMIT $1",
    ),
    (
        "product totals differ from their levels",
        "SELECT 'product ' || p.id || ': totals ' || p.on_hand_total || '/' || p.reserved_total
                || ', levels ' || coalesce(s.on_hand, 0) || '/' || coalesce(s.reserved, 0)
         FROM products p
         LEFT JOIN (SELECT product_id, sum(on_hand) AS on_hand, sum(reserved) AS reserved
                    FROM stock_levels GROUP BY product_id) s ON s.product_id = p.id
         WHERE p.reorder_point IS NOT NULL
           AND (p.on_hand_total <> coalesce(s.on_hand, 0) OR p.reserved_total <> coalesce(s.reserved, 0))
         LIMIT $1",
    ),
    (
        "product without a reorder point keeps totals",
        "SELECT 'product ' || id || ': totals ' || on_hand_total || '/' || reserved_total
         FROM products WHERE reorder_point IS NULL AND (on_hand_total <> 0 OR reserved_total <> 0)
         LIMIT $1",
    ),
    (
        "reserved differs from the open reservations",
        "SELECT s.product_id || ' @ ' || s.location_id || ': reserved ' || s.reserved
                || ', reservations ' || coalesce(r.quantity, 0)
         FROM stock_levels s
         LEFT JOIN (SELECT product_id, location_id, sum(quantity) AS quantity
                    FROM reservations GROUP BY product_id, location_id) r
           ON r.product_id = s.product_id AND r.location_id = s.location_id
         WHERE s.reserved <> coalesce(r.quantity, 0)
         LIMIT $1",
    ),
    (
        "reservations without a stock level",
        "SELECT 'reservation ' || r.id FROM reservations r
         WHERE NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.product_id = r.product_id AND s.location_id = r.location_id)
         LIMIT $1",
    ),
    (
        "product without a catalogue revision",
        "SELECT 'product ' || id FROM products WHERE revision IS NULL OR revision <= 0 LIMIT $1",
    ),
];

/// A webhook subscription's columns, its secret last.
pub(crate) const WEBHOOK_SELECT: &str = "SELECT id, url, events, locations, product_ids, state, paused_reason, after_seq, failures, failing_since, next_attempt_at, lease_owner, lease_until, created_at, secret FROM webhooks";

pub(crate) const INSERT_WEBHOOK: &str = "INSERT INTO webhooks (id, url, events, locations, product_ids, state, paused_reason, after_seq, failures, failing_since, next_attempt_at, lease_owner, lease_until, created_at, secret) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// What a change or a delivery moves of a subscription.
pub(crate) const UPDATE_WEBHOOK: &str = "UPDATE webhooks SET state = $1, paused_reason = $2, after_seq = $3, failures = $4, failing_since = $5, next_attempt_at = $6, lease_owner = $7, lease_until = $8 WHERE id = $9";

/// The lease rule as a predicate on the row: an active subscription goes to `$1` until `$2`
/// when no one holds it, `$1` holds it already, or its holder's lease ended before `$4`. One
/// statement, so of two processes claiming at once the second finds the first's lease (on
/// PostgreSQL it waits for the first's row lock, then re-reads the row).
pub(crate) const TAKE_LEASE: &str = "UPDATE webhooks SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND state = 'active' AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)";

pub(crate) const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE id = $1";

pub(crate) const DELETE_DELIVERIES_OF: &str =
    "DELETE FROM webhook_deliveries WHERE webhook_id = $1";

pub(crate) const FORGET_DELIVERIES: &str = "DELETE FROM webhook_deliveries WHERE at < $1";

pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (webhook_id, first_seq, last_seq, events, attempt, ok, status, latency_ms, error, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// A subscription's (`$1`) delivery log, newest first, optionally only the attempts whose
/// request carried the event `$2`, up to `$3`.
pub(crate) const DELIVERY_SELECT: &str = "SELECT id, webhook_id, first_seq, last_seq, events, attempt, ok, status, latency_ms, error, at FROM webhook_deliveries WHERE webhook_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR (first_seq <= $2 AND last_seq >= $2)) ORDER BY id DESC LIMIT $3";

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of a statement's `$N` parameters, in the order each first appears.
    fn first_appearances(sql: &str) -> Vec<u32> {
        let mut seen = Vec::new();
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            rest = &rest[at + 1..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let n: u32 = digits.parse().expect("a $ starts a parameter");
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
        seen
    }

    #[test]
    fn every_shared_statement_numbers_its_parameters_in_the_order_they_first_appear() {
        let statements = [
            ANY_DUE_OF,
            ANY_DUE,
            DUE_SELECT,
            ADD_TO_TOTALS,
            UPDATE_PRODUCT,
            ARCHIVE_PRODUCT,
            MOVEMENT_SELECT,
            INSERT_REQUEST,
            INSERT_TILL_CONFLICT,
            WEBHOOK_SELECT,
            INSERT_WEBHOOK,
            UPDATE_WEBHOOK,
            TAKE_LEASE,
            DELETE_WEBHOOK,
            DELETE_DELIVERIES_OF,
            FORGET_DELIVERIES,
            INSERT_DELIVERY,
            DELIVERY_SELECT,
        ];
        for sql in statements
            .into_iter()
            .chain(PROOFS.iter().map(|(_, sql)| *sql))
        {
            let seen = first_appearances(sql);
            let ordered: Vec<u32> = (1..=seen.len() as u32).collect();
            assert_eq!(seen, ordered, "{sql}");
        }
    }

    #[test]
    fn a_reservation_is_due_from_its_expiry_on() {
        let now = chrono::Utc::now();
        let is_due = crate::rules::expiry::is_due;
        assert!(is_due(Some(now), now));
        assert!(is_due(Some(now - chrono::Duration::microseconds(1)), now));
        assert!(!is_due(Some(now + chrono::Duration::microseconds(1)), now));
        assert!(!is_due(None, now));
    }
}
