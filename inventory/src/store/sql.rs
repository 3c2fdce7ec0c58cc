//! SQL both stores run as it is written: the movement columns every read of the ledger selects,
//! the statements that are the same on both, and the proofs of `verify()`. Each is written in the subset of SQL that SQLite and PostgreSQL
//! share (`<>`, a `$1` parameter, which SQLite binds by position like `?1`), so that a column or
//! a proof added here is added to both stores; each store adds only the checks of what it alone
//! has (SQLite's integrity check, PostgreSQL's counters and constraints).

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
