//! One sync: push the outbox, apply operators' resolutions, mirror the catalogue, rebalance
//! the allotments. Each step reads central's truth rather than trusting what the till last
//! saw, so a sync interrupted anywhere (central killed, the connection dropped, the till's
//! process killed) is finished by the next one.
//!
//! **Exactly once.** A sale is pushed as a commit of the till's reservation under the sale's
//! reference as `Idempotency-Key`: a repeat within central's key window replays. A repeat
//! after it (a sale whose answer was lost, sent again more than `key_window` later on central's
//! clock) would apply again, so such sales are first looked up in central's ledger (the
//! product's movements at the till's location since the first attempt) and sent only if absent.
//! The till records, durably and before sending, how far the outbox has been attempted and
//! when, so it knows which sales may have reached central.
//!
//! **One identity, and a central that may be rewound.** Every sync starts with a check-in
//! (`POST /api/tills/{id}/check-in`): central refuses a till id's other key, other instance or
//! a copy of its files left behind, and the sync then stops before touching anything. The
//! answer carries central's database identity, generation (which `restore` changes), ledger
//! high-water and the movement there (a point), and whether central still holds the point the
//! till sent. When those show central went back in time since the last check, every
//! acknowledged sale of the retention window that central no longer holds is pushed again,
//! each found in central's ledger by its reference or applied once. Once sales are
//! acknowledged the till checks in again, so that the point it keeps is after them: a rewind
//! that takes one of them takes the point too, even when the ledger has grown past it since.

use crate::Inner;
use crate::catalogue;
use crate::central::{Failure, Reply};
use crate::model::{AllotmentChange, Conflict, Resolution, Sale, SyncReport};
use crate::outbox;
use crate::state::SeenCentral;
use crate::wire;
use chrono::{DateTime, Utc};
use inventory::{Error, ErrorCode, Expect, Expiry, SeenPoint, StockOp, Uuid};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Why a sync stopped.
pub(crate) enum Stop {
    /// Central did not answer, or refused for a reason retrying later may fix.
    Central(Failure),
    /// The till's own files failed.
    Local(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Local(e)
    }
}

pub(crate) type Step<T> = Result<T, Stop>;

/// A call to central that must succeed for the sync to go on.
fn must(answer: Result<Reply, Failure>) -> Step<Reply> {
    answer.map_err(Stop::Central)
}

/// How many acknowledgements are recorded at once (a crash re-sends at most these, and central
/// replays them).
const ACK_EVERY: usize = 32;
/// Central's clock runs on between a first attempt and its movement's time; a lookup reads
/// this much further back.
const LOOKUP_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

pub(crate) fn run(till: &Inner, report: &mut SyncReport) -> Step<()> {
    // The till's own idempotency keys (of sales with a POS id) are kept as central keeps its.
    till.local.expire_reservations()?;
    // The first call also tells central's clock, which every window below is measured on.
    let last = till.state.identity()?.central;
    let (mut seen, now, back) = check_in(till, last.as_ref())?;
    if let Some(last) = &last {
        if back {
            report.rewound = true;
            repush(till, report, now, 0, None)?;
            // Sales pushed again are after the new point: the check-in after the pushes
            // covers them.
            seen.covers = 0;
        } else if seen.covers > last.covers {
            // Sales acknowledged since the last point (a sync stopped before its check-in
            // after the pushes): a rewind may have taken them without taking the point. They
            // were applied after that check-in, so central's ledger is read back to it only.
            let since = last.point.map(|p| p.checked_in_at);
            if repush(till, report, now, last.covers, since)? {
                report.rewound = true;
                // Those pushed again are after the new point.
                seen.covers = last.covers;
            }
        }
    }
    till.state.saw_central(&seen)?;
    push(till, report, now)?;
    cover(till, report, seen, now)?;
    report_conflicts(till)?;
    resolutions(till, report)?;
    catalogue::pull(till, report)?;
    rebalance(till, report)?;
    till.state.synced(now)?;
    Ok(())
}

/// How many check-ins after pushes a sync makes at most: one, and one more for each rewind
/// found meanwhile (what is left is the next sync's).
const COVER_ROUNDS: usize = 3;

/// Checks in again once sales were acknowledged, so that the point the till keeps is after
/// them: a later rewind that takes any of them takes the point too. When this check-in finds
/// central rewound since the first, everything is pushed again and checked once more.
fn cover(
    till: &Inner,
    report: &mut SyncReport,
    mut seen: SeenCentral,
    now: DateTime<Utc>,
) -> Step<()> {
    for _ in 0..COVER_ROUNDS {
        if till.state.cursor()?.acked_upto <= seen.covers {
            return Ok(());
        }
        let (mut next, _, back) = check_in(till, Some(&seen))?;
        if back {
            report.rewound = true;
            repush(till, report, now, 0, None)?;
            next.covers = 0;
        }
        till.state.saw_central(&next)?;
        seen = next;
    }
    Ok(())
}

/// Checks in at central under the till's id, instance and token, sending what it last saw
/// of central: what central is now, with how far the till's acknowledged sales are before its
/// point, its clock, and whether it went back past what the till saw. A refusal (another key,
/// another instance, a copy left behind) stops the sync.
fn check_in(till: &Inner, last: Option<&SeenCentral>) -> Step<(SeenCentral, DateTime<Utc>, bool)> {
    let identity = till.state.identity()?;
    let next = till.state.next_token()?;
    // Read before the check-in: every sale acknowledged by now is in central's ledger before
    // the point it answers, if central holds it at all.
    let acked = till.state.cursor()?.acked_upto;
    let body = wire::CheckIn {
        instance_id: &identity.instance_id,
        location: &till.location,
        token: identity.token.as_deref(),
        next_token: &next,
        seen: last.and_then(|l| l.point),
    };
    let reply = must(till.central.check_in(&till.till_id, &body))?;
    till.state.checked_in(&next)?;
    let answer: wire::CheckedIn = serde_json::from_value(reply.data).map_err(|e| {
        Stop::Central(Failure::Unreachable(format!(
            "central's check-in answer is not what this till reads: {e}"
        )))
    })?;
    let seen = SeenCentral {
        id: answer.database.id.clone(),
        generation: answer.database.generation.clone(),
        high_water: answer.high_water,
        point: answer.point.map(|point| SeenPoint {
            point,
            checked_in_at: answer.till.last_sync_at,
        }),
        covers: acked,
    };
    let back = last.is_some_and(|l| went_back(l, &answer));
    Ok((seen, reply.at, back))
}

/// Central went back in time since the till last checked it: restored (a new generation, or
/// another database), no longer holding the point the till saw (a copy of its file, a
/// snapshot, a point-in-time recovery), or its ledger shorter than it was.
fn went_back(last: &SeenCentral, now: &wire::CheckedIn) -> bool {
    last.id != now.database.id
        || last.generation != now.database.generation
        || now.seen_held == Some(false)
        || now.high_water < last.high_water
}

/// Pushes again every acknowledged sale of the retention window after `after` in the till's
/// ledger that a rewound central no longer holds: those its ledger has (found by reference)
/// are left alone, the others are committed as a first push would, under the same key, or
/// become conflicts. Sales ever in conflict are the operator's, and are not pushed again.
/// Central's ledger is read back twice the window, so that a till clock running ahead does
/// not hide a sale it holds, unless `since` says when on central's clock the sales were all
/// applied after. Returns whether any sale was missing.
fn repush(
    till: &Inner,
    report: &mut SyncReport,
    now: DateTime<Utc>,
    after: i64,
    since: Option<DateTime<Utc>>,
) -> Step<bool> {
    let window =
        chrono::Duration::from_std(till.options.retention).unwrap_or(chrono::Duration::MAX);
    let floor = now
        .checked_sub_signed(window)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let acked = till.state.cursor()?.acked_upto;
    let settled = till.state.conflict_references()?;
    let sales: Vec<Sale> = outbox::sales_after(&till.local, after, &till.prefix, &till.location)?
        .into_iter()
        .filter(|s| s.seq <= acked && s.sold_at >= floor && !settled.contains(&s.reference))
        .collect();
    if sales.is_empty() {
        return Ok(false);
    }
    let wanted: Vec<&Sale> = sales.iter().collect();
    let lookup = since.unwrap_or_else(|| {
        floor
            .checked_sub_signed(window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    });
    let found = applied_at_central(till, &wanted, "COMMIT", Some(lookup))?;
    let mut missing = false;
    for sale in sales.iter().filter(|s| !found.contains(&s.reference)) {
        missing = true;
        match push_one(till, sale)? {
            Pushed::Applied { .. } => {
                report.pushed += 1;
                report.repushed += 1;
            }
            Pushed::Conflict(failure) => {
                let conflict = conflict_of(sale, failure, now);
                till.state.conflict(&conflict)?;
                report.conflicts.push(conflict);
            }
        }
    }
    Ok(missing)
}

/// A sale central refused, as the till records it.
fn conflict_of(sale: &Sale, failure: Failure, now: DateTime<Utc>) -> Conflict {
    Conflict {
        sale: Sale {
            conflict: true,
            ..sale.clone()
        },
        code: failure.code().to_owned(),
        message: failure.message(),
        found_at: match &failure {
            Failure::Refused { at: Some(at), .. } => *at,
            _ => now,
        },
        resolution: None,
        reason: None,
        resolution_error: None,
    }
}

/// What became of one sale.
enum Pushed {
    Applied { already: bool, refitted: bool },
    Conflict(Failure),
}

fn push(till: &Inner, report: &mut SyncReport, now: DateTime<Utc>) -> Step<()> {
    let cursor = till.state.cursor()?;
    let sales = outbox::sales_after(&till.local, cursor.acked_upto, &till.prefix, &till.location)?;
    let Some(last) = sales.last().map(|s| s.seq) else {
        return Ok(());
    };
    let retried: Vec<&Sale> = sales
        .iter()
        .filter(|s| s.seq <= cursor.attempted_upto)
        .collect();
    let window =
        chrono::Duration::from_std(till.options.key_window).unwrap_or(chrono::Duration::MAX);
    let mut found = HashSet::new();
    let mut since = now;
    if let Some(first) = retried.first().map(|_| cursor.attempted_at) {
        match first {
            Some(at) if now - at < window => since = at,
            // Central may have forgotten the key: what it applied is in its ledger.
            _ => found = applied_at_central(till, &retried, "COMMIT", first)?,
        }
    }
    till.state.attempting(last, since)?;

    let mut acked = cursor.acked_upto;
    let mut unrecorded = 0;
    for sale in &sales {
        let pushed = if found.contains(&sale.reference) {
            Pushed::Applied {
                already: true,
                refitted: false,
            }
        } else {
            match push_one(till, sale) {
                Ok(p) => p,
                Err(stop) => {
                    till.state.acknowledged(acked)?;
                    return Err(stop);
                }
            }
        };
        match pushed {
            Pushed::Applied { already, refitted } => {
                report.pushed += 1;
                report.already_applied += u64::from(already);
                report.refitted += u64::from(refitted);
                acked = sale.seq;
                unrecorded += 1;
                if unrecorded >= ACK_EVERY {
                    till.state.acknowledged(acked)?;
                    unrecorded = 0;
                }
            }
            Pushed::Conflict(failure) => {
                let conflict = conflict_of(sale, failure, now);
                till.state.acknowledged(acked)?;
                till.state.conflict(&conflict)?;
                acked = sale.seq;
                unrecorded = 0;
                report.conflicts.push(conflict);
            }
        }
    }
    till.state.acknowledged(acked)?;
    Ok(())
}

/// Commits one sale from the till's reservation. A commit refused because the reservation no
/// longer holds the sale (the lease lapsed and central released it) is tried once more as a
/// reserve and a commit in one batch under the same key: when the units are still available
/// the sale is applied after all; when they are not, it is in conflict.
fn push_one(till: &Inner, sale: &Sale) -> Step<Pushed> {
    let mut commit = StockOp::commit(sale.product_id, sale.reference.clone())
        .quantity(Some(sale.quantity))
        .at(till.location.clone())
        .from_reservation(till.reservation.clone());
    if let Some(notes) = &sale.notes {
        commit = commit.notes(notes.clone());
    }
    let key = Some(sale.reference.as_str());
    let refused = match till.central.stock(&commit, key) {
        Ok(reply) => {
            return Ok(Pushed::Applied {
                already: reply.replayed,
                refitted: false,
            });
        }
        Err(f) => f,
    };
    if applied_under_key(&refused) {
        return Ok(Pushed::Applied {
            already: true,
            refitted: false,
        });
    }
    if !refused.is("INSUFFICIENT_RESERVED") {
        return settle(refused);
    }
    let reserve = StockOp::reserve(sale.product_id, sale.quantity)
        .at(till.location.clone())
        .reference(till.reservation.clone())
        .expires(Expiry::In(till.lease_seconds()));
    match till.central.batch(&[reserve, commit], key) {
        Ok(reply) => Ok(Pushed::Applied {
            already: reply.replayed,
            refitted: !reply.replayed,
        }),
        Err(f) if applied_under_key(&f) => Ok(Pushed::Applied {
            already: true,
            refitted: false,
        }),
        Err(f) => settle(f),
    }
}

/// A refusal that says another request under this key was applied (only successes are
/// stored under keys): the first form of the sale, answered but not heard.
fn applied_under_key(f: &Failure) -> bool {
    f.is("CONFLICT") && f.on_field("idempotency_key")
}

/// A final refusal makes a conflict; anything else stops the sync with the sale still pending.
fn settle(f: Failure) -> Step<Pushed> {
    if f.is_final_refusal() {
        Ok(Pushed::Conflict(f))
    } else {
        Err(Stop::Central(f))
    }
}

/// The references among `wanted` that central's ledger holds as movements of `kind` at the
/// till's location, reading each product's history back to `since` (all of it when unknown).
fn applied_at_central(
    till: &Inner,
    wanted: &[&Sale],
    kind: &str,
    since: Option<DateTime<Utc>>,
) -> Step<HashSet<String>> {
    let floor = since.map(|t| t - LOOKUP_MARGIN);
    let products: BTreeSet<Uuid> = wanted.iter().map(|s| s.product_id).collect();
    let references: HashSet<&str> = wanted.iter().map(|s| s.reference.as_str()).collect();
    let mut found = HashSet::new();
    for product in products {
        let mut before = None;
        'pages: loop {
            let page = match till.central.movements(product, &till.location, before) {
                Ok(reply) => reply.data,
                // An archived product's history cannot be read; its sales will be refused.
                Err(f) if f.is("NOT_FOUND") => break,
                Err(f) => return Err(Stop::Central(f)),
            };
            let movements = page.as_array().cloned().unwrap_or_default();
            for m in &movements {
                let at = m["created_at"]
                    .as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
                if let (Some(floor), Some(at)) = (floor, at) {
                    if at < floor {
                        break 'pages;
                    }
                }
                if m["type"] == kind {
                    if let Some(r) = m["reference"].as_str().filter(|r| references.contains(r)) {
                        found.insert(r.to_owned());
                    }
                }
                before = m["seq"].as_i64();
            }
            if movements.len() < 100 {
                break;
            }
        }
    }
    Ok(found)
}

/// Tells central of each conflict it has not heard of, so that its metrics count it
/// (`inventory_till_conflicts_total`) and its log names the till's key. A central that refuses
/// the report for what it is (one without the route answers 404) is not asked again.
fn report_conflicts(till: &Inner) -> Step<()> {
    for (reference, code) in till.state.unreported()? {
        let body = wire::ConflictReport {
            reference: &reference,
            code: &code,
        };
        match till.central.post("/api/tills/conflicts", &body, None) {
            Ok(reply) => till.state.reported(&reference, reply.at)?,
            Err(f @ Failure::Refused { .. }) if f.is_final_refusal() => {
                let at = match f {
                    Failure::Refused { at: Some(at), .. } => at,
                    _ => Utc::now(),
                };
                till.state.reported(&reference, at)?
            }
            Err(f) => return Err(Stop::Central(f)),
        }
    }
    Ok(())
}

/// Applies every resolution decided and not yet applied.
fn resolutions(till: &Inner, report: &mut SyncReport) -> Step<()> {
    for conflict in till.state.conflicts()? {
        if let Some(resolution) = conflict.resolution {
            match resolve(till, &conflict, resolution)? {
                Resolved::Applied => report.resolved += 1,
                Resolved::Refused(_) => {}
            }
        }
    }
    Ok(())
}

pub(crate) enum Resolved {
    Applied,
    Refused(Failure),
}

/// Records an operator's decision at central as a count of the till's location carrying the
/// sale's reference: on hand less the sale's quantity (apply) or unchanged (discard), with
/// `expected_quantity` so that a count never overwrites a movement made since it was read,
/// under the key `resolve:<reference>`. A retry of an unanswered attempt sends a fresh count
/// under the same key, and a CONFLICT on the key means the first was applied.
pub(crate) fn resolve(till: &Inner, conflict: &Conflict, resolution: Resolution) -> Step<Resolved> {
    let reference = &conflict.sale.reference;
    let key = format!("resolve:{reference}");
    let probe = must(till.central.reservations(&till.reservation))?;
    let window =
        chrono::Duration::from_std(till.options.key_window).unwrap_or(chrono::Duration::MAX);
    if let Some(first) = till.state.resolution_attempt(reference, probe.at)? {
        if probe.at - first >= window {
            let sale = [&conflict.sale];
            if applied_at_central(till, &sale, "ADJUST", Some(first))?.contains(reference) {
                till.state.resolved(reference, probe.at)?;
                return Ok(Resolved::Applied);
            }
        }
    }
    let notes = format!(
        "till {}: sale of {} sold {} did not fit its allotment; {}: {}",
        till.till_id,
        conflict.sale.quantity,
        conflict.sale.sold_at.to_rfc3339(),
        match resolution {
            Resolution::Apply => "applied as a stock adjustment",
            Resolution::Discard => "discarded",
        },
        conflict.reason.as_deref().unwrap_or("")
    );
    // A count refused as stale is read and sent again; a few rounds settle any race.
    for _ in 0..8 {
        let level = match till.central.level(conflict.sale.product_id, &till.location) {
            Ok(reply) => reply,
            Err(f) if f.is_final_refusal() => return refuse(till, reference, f),
            Err(f) => return Err(Stop::Central(f)),
        };
        let on_hand = level.data["on_hand"].as_i64().unwrap_or(0);
        let counted = match resolution {
            Resolution::Apply => on_hand - conflict.sale.quantity,
            Resolution::Discard => on_hand,
        };
        if counted < 0 {
            let f = Failure::Refused {
                status: 409,
                code: ErrorCode::InsufficientStock.as_str().to_owned(),
                message: format!(
                    "central has {on_hand} on hand at {}, fewer than the sale's {}: count the shelf",
                    till.location, conflict.sale.quantity
                ),
                field: None,
                at: Some(level.at),
            };
            return refuse(till, reference, f);
        }
        let count = StockOp::count(conflict.sale.product_id, till.location.clone(), counted)
            .reference(reference.clone())
            .notes(notes.clone())
            .expect(Expect::Quantity(on_hand));
        match till.central.stock(&count, Some(&key)) {
            Ok(reply) => {
                till.state.resolved(reference, reply.at)?;
                return Ok(Resolved::Applied);
            }
            Err(f) if applied_under_key(&f) => {
                till.state.resolved(reference, level.at)?;
                return Ok(Resolved::Applied);
            }
            Err(f)
                if f.is("CONFLICT")
                    && f.on_field(inventory::shape::Field::ExpectedQuantity.name()) =>
            {
                continue;
            }
            Err(f) if f.is_final_refusal() => return refuse(till, reference, f),
            Err(f) => return Err(Stop::Central(f)),
        }
    }
    Err(Stop::Central(Failure::Unreachable(
        "the level kept changing while the resolution was counted; try again".to_owned(),
    )))
}

fn refuse(till: &Inner, reference: &str, f: Failure) -> Step<Resolved> {
    till.state.refused(reference, &f.message())?;
    Ok(Resolved::Refused(f))
}

/// What central holds for the till, by product: (quantity, expiry).
type Holdings = HashMap<Uuid, (i64, Option<DateTime<Utc>>)>;

fn held(till: &Inner) -> Step<Holdings> {
    let reply = must(till.central.reservations(&till.reservation))?;
    let mut held = HashMap::new();
    for r in reply.data.as_array().cloned().unwrap_or_default() {
        if r["location"] != till.location.as_str() {
            continue;
        }
        let (Some(product), Some(quantity)) = (
            r["product_id"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok()),
            r["quantity"].as_i64(),
        ) else {
            continue;
        };
        let expires = r["expires_at"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        held.insert(product, (quantity, expires));
    }
    Ok(held)
}

/// The till's stock of a product now; 0 where it has none.
fn local_stock(till: &Inner, product: Uuid) -> Step<i64> {
    match till.local.get_stock_level(product, &till.location) {
        Ok(level) => Ok(level.on_hand),
        Err(e) if e.code == ErrorCode::NotFound => Ok(0),
        Err(e) => Err(Stop::Local(e)),
    }
}

/// Units of `product` sold and not yet acknowledged, read after the stock it is compared with.
fn pending_of(till: &Inner, product: Uuid) -> Step<i64> {
    let acked = till.state.cursor()?.acked_upto;
    let sales = outbox::sales_after(&till.local, acked, &till.prefix, &till.location)?;
    Ok(sales
        .iter()
        .filter(|s| s.product_id == product)
        .map(|s| s.quantity)
        .sum())
}

/// Sets the till's stock of `product` to `want(stock, pending)` with compare-and-set on the
/// stock it read: a sale made meanwhile fails the count, which is read and tried again, so a
/// sale is never overwritten. Returns (before, after); `None` when the product is not live at
/// the till.
fn set_local(
    till: &Inner,
    product: Uuid,
    want: impl Fn(i64, i64) -> i64,
) -> Step<Option<(i64, i64)>> {
    let first = local_stock(till, product)?;
    loop {
        let stock = local_stock(till, product)?;
        let pending = pending_of(till, product)?;
        let target = want(stock, pending).max(0);
        if target == stock {
            return Ok(Some((first, stock)));
        }
        let count = StockOp::count(product, till.location.clone(), target)
            .expect(Expect::Quantity(stock))
            .reference(till.reservation.clone())
            .notes(format!(
                "allotment: {pending} sold and not yet acknowledged"
            ));
        match till.local.count_stock(count) {
            Ok(_) => return Ok(Some((first, target))),
            Err(e) if e.code == ErrorCode::Conflict => continue,
            Err(e) if e.code == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(Stop::Local(e)),
        }
    }
}

/// Moves each allotment towards its target: what central holds for the till should be the
/// target plus what is sold and not yet acknowledged. A surplus is taken off the till's own
/// stock first and released at central after, and more is reserved at central first and added
/// to the till's stock after, so the till never has more to sell than central holds for it.
/// Every held reservation gets a new lease. Then the till's stock of each product is set from
/// central's holding less the pending sales.
fn rebalance(till: &Inner, report: &mut SyncReport) -> Step<()> {
    let rows = till.state.rows()?;
    let before = held(till)?;
    let products: BTreeSet<Uuid> = rows.keys().chain(before.keys()).copied().collect();
    let mut starting = HashMap::new();
    let mut ops = Vec::new();
    for &product in &products {
        if till.local.get_product(product).is_err() {
            continue; // not live here (archived, or not mirrored yet)
        }
        starting.insert(product, local_stock(till, product)?);
        let target = rows.get(&product).map_or(0, |r| r.target);
        let held = before.get(&product).map_or(0, |h| h.0);
        let pending = pending_of(till, product)?;
        let wanted = target + pending;
        let lease = Expiry::In(till.lease_seconds());
        let renew =
            || StockOp::renew(product, till.reservation.clone(), lease).at(till.location.clone());
        if wanted < held {
            set_local(till, product, |stock, _| stock.min(target))?;
            let release = StockOp::unreserve(product, held - wanted)
                .at(till.location.clone())
                .reference(till.reservation.clone());
            ops.push(release);
            if wanted > 0 {
                ops.push(renew());
            }
        } else if wanted > held {
            let available = match till.central.level(product, &till.location) {
                Ok(reply) => reply.data["available"].as_i64().unwrap_or(0),
                Err(f) if f.is("NOT_FOUND") => 0,
                Err(f) => return Err(Stop::Central(f)),
            };
            let more = (wanted - held).min(available);
            if more > 0 {
                let reserve = StockOp::reserve(product, more)
                    .at(till.location.clone())
                    .reference(till.reservation.clone())
                    .expires(lease);
                ops.push(reserve);
            } else if held > 0 {
                ops.push(renew());
            }
        } else if held > 0 {
            ops.push(renew());
        }
    }
    apply(till, ops)?;

    let after = held(till)?;
    let mut rows_after = Vec::new();
    let everything: BTreeSet<Uuid> = products.iter().chain(after.keys()).copied().collect();
    for product in everything {
        let (held, lease) = after.get(&product).copied().unwrap_or((0, None));
        let Some((_, now)) = set_local(till, product, |_, pending| held - pending)? else {
            continue;
        };
        let was = starting.get(&product).copied().unwrap_or(0);
        let held_before = before.get(&product).map_or(0, |h| h.0);
        if was != now || held != held_before {
            report.allotments.push(AllotmentChange {
                product_id: product,
                before: was,
                after: now,
                held,
            });
        }
        rows_after.push((product, held, lease));
    }
    till.state.held(&rows_after)?;
    Ok(())
}

/// Sends the rebalance in one batch; when central refuses it (one product archived, units
/// taken by someone else since they were read), each operation alone, where a refused one
/// waits for the next sync.
fn apply(till: &Inner, ops: Vec<StockOp>) -> Step<()> {
    if ops.is_empty() {
        return Ok(());
    }
    match till.central.batch(&ops, None) {
        Ok(_) => return Ok(()),
        Err(f) if f.is_final_refusal() => {}
        Err(f) => return Err(Stop::Central(f)),
    }
    for op in &ops {
        match till.central.stock(op, None) {
            Ok(_) => {}
            Err(f) if f.is_final_refusal() => {}
            Err(f) => return Err(Stop::Central(f)),
        }
    }
    Ok(())
}
