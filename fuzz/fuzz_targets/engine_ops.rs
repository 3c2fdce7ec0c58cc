//! A stream of engine operations (stock operations at three locations, reservations under
//! three references with expiries on a manual clock, commits, transfers, counts, all-or-nothing
//! batches, the expiry sweep) on a real SQLite file, each checked against a plain model: the
//! same levels or the same error code. Every level the engine returns holds
//! 0 <= reserved <= on_hand (never oversold), the stored levels and reservations match the
//! model at the end, and `verify()` passes. The model's rules are those of
//! inventory/tests/model.rs, which runs the same comparison under proptest.
#![no_main]

use arbitrary::Arbitrary;
use inventory::{
    Clock, ErrorCode, Expiry, ManualClock, NewProduct, Options, Price, StockLevel, StockOp, Uuid,
};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const HOME: &str = "Warehouse A";
const LOCATIONS: [&str; 3] = [HOME, "B", "C"];
const REFS: [Option<&str>; 3] = [None, Some("r1"), Some("r2")];
const PRODUCTS: usize = 2;

/// Indexes are taken modulo their table; quantities are small, with zero and negatives.
#[derive(Arbitrary, Debug, Clone)]
enum Op {
    Add {
        p: u8,
        loc: u8,
        q: i8,
    },
    Remove {
        p: u8,
        loc: u8,
        q: i8,
    },
    Reserve {
        p: u8,
        loc: u8,
        q: i8,
        r: u8,
        expires_in: Option<u8>,
    },
    Unreserve {
        p: u8,
        loc: u8,
        q: Option<i8>,
        r: u8,
    },
    Commit {
        p: u8,
        loc: u8,
        q: Option<i8>,
        r: u8,
        release: bool,
    },
    Transfer {
        p: u8,
        from: u8,
        to: u8,
        q: i8,
    },
    Count {
        p: u8,
        loc: u8,
        counted: i8,
    },
}

#[derive(Arbitrary, Debug)]
enum Step {
    One(Op),
    Batch(Vec<Op>),
    Advance(u8),
    Sweep,
}

fn product(p: u8) -> usize {
    usize::from(p) % PRODUCTS
}
fn location(loc: u8) -> &'static str {
    LOCATIONS[usize::from(loc) % LOCATIONS.len()]
}
fn reference(r: u8) -> Option<&'static str> {
    REFS[usize::from(r) % REFS.len()]
}

impl Op {
    fn product(&self) -> usize {
        match *self {
            Op::Add { p, .. }
            | Op::Remove { p, .. }
            | Op::Reserve { p, .. }
            | Op::Unreserve { p, .. }
            | Op::Commit { p, .. }
            | Op::Transfer { p, .. }
            | Op::Count { p, .. } => product(p),
        }
    }

    fn to_stock_op(&self, ids: &[Uuid]) -> StockOp {
        let id = ids[self.product()];
        let at = |s: StockOp, loc: u8| match location(loc) {
            HOME => s,
            other => s.at(other),
        };
        match *self {
            Op::Add { loc, q, .. } => at(StockOp::add(id, q.into()), loc),
            Op::Remove { loc, q, .. } => at(StockOp::remove(id, q.into()), loc),
            Op::Reserve {
                loc,
                q,
                r,
                expires_in,
                ..
            } => {
                let mut s = at(StockOp::reserve(id, q.into()), loc);
                if let Some(x) = reference(r) {
                    s = s.reference(x);
                }
                match expires_in {
                    Some(secs) => s.expires(Expiry::In(i64::from(secs) + 1)),
                    None => s,
                }
            }
            Op::Unreserve { loc, q, r, .. } => {
                let mut s = at(StockOp::unreserve(id, 0), loc).quantity(q.map(i64::from));
                s.reference = reference(r).map(str::to_owned);
                s
            }
            Op::Commit {
                loc, q, r, release, ..
            } => {
                let mut s = at(StockOp::commit(id, "x"), loc)
                    .quantity(q.map(i64::from))
                    .release_remainder(release);
                s.reference = reference(r).map(str::to_owned);
                s
            }
            Op::Transfer { from, to, q, .. } => {
                let mut s = StockOp::transfer(id, location(from), location(to), q.into());
                s.location = (location(from) != HOME).then(|| location(from).to_owned());
                s
            }
            Op::Count { loc, counted, .. } => at(StockOp::count(id, HOME, counted.into()), loc),
        }
    }
}

type Levels = Vec<(String, i64, i64)>;

#[derive(Debug, Clone, Default)]
struct Model {
    levels: BTreeMap<(usize, &'static str), (i64, i64)>,
    locations: BTreeSet<&'static str>,
    /// Held quantity and expiry (seconds on the model's clock), by product, location, reference.
    reservations: BTreeMap<(usize, &'static str, &'static str), (i64, Option<i64>)>,
    now: i64,
}

fn positive(q: i64) -> Result<i64, ErrorCode> {
    if q > 0 {
        Ok(q)
    } else {
        Err(ErrorCode::ValidationError)
    }
}

impl Model {
    fn expire(&mut self, p: usize) {
        let now = self.now;
        let due: Vec<_> = self
            .reservations
            .iter()
            .filter(|((rp, _, _), (_, exp))| *rp == p && exp.is_some_and(|e| e <= now))
            .map(|(k, (q, _))| (*k, *q))
            .collect();
        for ((rp, loc, r), q) in due {
            self.levels.get_mut(&(rp, loc)).unwrap().1 -= q;
            self.reservations.remove(&(rp, loc, r));
        }
    }

    fn level(&self, p: usize, loc: &'static str) -> (i64, i64) {
        self.levels.get(&(p, loc)).copied().unwrap_or((0, 0))
    }

    fn set(&mut self, p: usize, loc: &'static str, level: (i64, i64)) -> (String, i64, i64) {
        self.levels.insert((p, loc), level);
        self.locations.insert(loc);
        (loc.to_owned(), level.0, level.1)
    }

    fn existing(&self, loc: &'static str) -> Result<&'static str, ErrorCode> {
        if self.locations.contains(loc) {
            Ok(loc)
        } else {
            Err(ErrorCode::NotFound)
        }
    }

    /// The shape and each field's limits first, then due reservations expire, then the target
    /// location must exist unless the operation creates it, then the operation's own rules.
    fn apply(&mut self, op: &Op) -> Result<Levels, ErrorCode> {
        let p = op.product();
        if matches!(*op, Op::Unreserve { q: None, r, .. } if reference(r).is_none()) {
            return Err(ErrorCode::ValidationError);
        }
        let quantity = match *op {
            Op::Add { q, .. } | Op::Remove { q, .. } | Op::Reserve { q, .. } => Some(q),
            Op::Transfer { q, .. } => Some(q),
            Op::Unreserve { q, .. } | Op::Commit { q, .. } => q,
            Op::Count { .. } => None,
        };
        if let Some(q) = quantity {
            positive(q.into())?;
        }
        if matches!(*op, Op::Count { counted, .. } if counted < 0) {
            return Err(ErrorCode::ValidationError);
        }
        self.expire(p);
        match *op {
            Op::Add { loc, q, .. } => {
                let loc = location(loc);
                let (h, r) = self.level(p, loc);
                Ok(vec![self.set(p, loc, (h + i64::from(q), r))])
            }
            Op::Remove { loc, q, .. } => {
                let loc = self.existing(location(loc))?;
                let q = i64::from(q);
                let (h, r) = self.level(p, loc);
                if h - r < q {
                    return Err(ErrorCode::InsufficientStock);
                }
                Ok(vec![self.set(p, loc, (h - q, r))])
            }
            Op::Reserve {
                loc,
                q,
                r: rf,
                expires_in,
                ..
            } => {
                let loc = self.existing(location(loc))?;
                let q = i64::from(q);
                let (h, r) = self.level(p, loc);
                if h - r < q {
                    return Err(ErrorCode::InsufficientStock);
                }
                let now = self.now;
                let entry = self
                    .reservations
                    .entry((p, loc, reference(rf).unwrap_or("")))
                    .or_insert((0, None));
                entry.0 += q;
                if let Some(secs) = expires_in {
                    entry.1 = Some(now + i64::from(secs) + 1);
                }
                Ok(vec![self.set(p, loc, (h, r + q))])
            }
            Op::Unreserve { loc, q, r: rf, .. } | Op::Commit { loc, q, r: rf, .. } => {
                let commit = matches!(op, Op::Commit { .. });
                let release = matches!(op, Op::Commit { release: true, .. });
                let loc = self.existing(location(loc))?;
                let key = (p, loc, reference(rf).unwrap_or(""));
                let held = self.reservations.get(&key).map_or(0, |e| e.0);
                let q = match q {
                    Some(q) => i64::from(q),
                    None if held == 0 => return Err(ErrorCode::InsufficientReserved),
                    None => held,
                };
                if held < q {
                    return Err(ErrorCode::InsufficientReserved);
                }
                let taken = if release { held } else { q };
                if taken == held {
                    self.reservations.remove(&key);
                } else {
                    self.reservations.get_mut(&key).unwrap().0 -= taken;
                }
                let (h, r) = self.level(p, loc);
                let h = if commit { h - q } else { h };
                Ok(vec![self.set(p, loc, (h, r - taken))])
            }
            Op::Transfer { from, to, q, .. } => {
                let from = self.existing(location(from))?;
                let (to, q) = (location(to), i64::from(q));
                if from == to {
                    return Err(ErrorCode::ValidationError);
                }
                let (h, r) = self.level(p, from);
                if h - r < q {
                    return Err(ErrorCode::InsufficientStock);
                }
                let a = self.set(p, from, (h - q, r));
                let (th, tr) = self.level(p, to);
                let b = self.set(p, to, (th + q, tr));
                Ok(vec![a, b])
            }
            Op::Count { loc, counted, .. } => {
                let loc = location(loc);
                let (_, r) = self.level(p, loc);
                if i64::from(counted) < r {
                    return Err(ErrorCode::Conflict);
                }
                Ok(vec![self.set(p, loc, (counted.into(), r))])
            }
        }
    }

    /// All or nothing: a failing operation leaves the model as it was. An empty batch,
    /// or one over the limit is refused as a whole (no operation's index).
    fn batch(&mut self, ops: &[Op]) -> Result<Vec<Levels>, (ErrorCode, Option<usize>)> {
        if ops.is_empty() || ops.len() > inventory::MAX_BATCH {
            return Err((ErrorCode::ValidationError, None));
        }
        let mut next = self.clone();
        let mut out = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            out.push(next.apply(op).map_err(|e| (e, Some(i)))?);
        }
        *self = next;
        Ok(out)
    }
}

/// The levels as the model states them, each checked never oversold.
fn levels(out: &[StockLevel]) -> Levels {
    out.iter()
        .map(|l| {
            assert!(
                0 <= l.reserved && l.reserved <= l.on_hand,
                "oversold: {l:?}"
            );
            (l.location.clone(), l.on_hand, l.reserved)
        })
        .collect()
}

fuzz_target!(|steps: Vec<Step>| {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::fixed());
    let start = clock.now();
    let options = Options {
        clock: clock.clone(),
        durability: inventory::Durability::Normal,
        ..Options::default()
    };
    let inv = inventory::Inventory::open_with(dir.path().join("fuzz.db"), options).unwrap();
    let mut model = Model::default();
    let ids: Vec<Uuid> = (0..PRODUCTS)
        .map(|i| {
            let mut new = NewProduct::new(
                format!("P{i}"),
                format!("SKU{i}"),
                Price::parse("1.00").unwrap(),
            );
            new.location = Some(HOME.into());
            new.initial_quantity = 10;
            model.set(i, HOME, (10, 0));
            inv.create_product(new).unwrap().product.id
        })
        .collect();
    for step in steps {
        match step {
            Step::One(op) => {
                let got = inv
                    .stock(op.to_stock_op(&ids))
                    .map(|l| levels(&l))
                    .map_err(|e| e.code);
                assert_eq!(got, model.apply(&op), "{op:?}");
            }
            Step::Batch(ops) => {
                let got = inv
                    .batch(ops.iter().map(|o| o.to_stock_op(&ids)).collect())
                    .map(|all| all.iter().map(|l| levels(l)).collect::<Vec<_>>())
                    .map_err(|e| (e.code, e.index));
                assert_eq!(got, model.batch(&ops), "{ops:?}");
            }
            Step::Advance(secs) => {
                clock.advance(chrono::Duration::seconds(secs.into()));
                model.now += i64::from(secs);
            }
            Step::Sweep => {
                inv.expire_reservations().unwrap();
                (0..PRODUCTS).for_each(|p| model.expire(p));
            }
        }
    }
    for (p, id) in ids.iter().enumerate() {
        model.expire(p);
        let summary = inv.get_inventory(*id).unwrap();
        let want: Levels = model
            .levels
            .iter()
            .filter(|((mp, _), _)| *mp == p)
            .map(|((_, loc), (h, r))| (loc.to_string(), *h, *r))
            .collect();
        assert_eq!(levels(&summary.locations), want);
        let held: Vec<_> = inv
            .list_reservations(*id)
            .unwrap()
            .into_iter()
            .map(|r| {
                let expires = r.expires_at.map(|e| (e - start).num_seconds());
                (r.location, r.reference, r.quantity, expires)
            })
            .collect();
        let want_held: Vec<_> = model
            .reservations
            .iter()
            .filter(|((rp, _, _), _)| *rp == p)
            .map(|((_, loc, r), (q, e))| (loc.to_string(), r.to_string(), *q, *e))
            .collect();
        assert_eq!(held, want_held);
    }
    let report = inv.verify().unwrap();
    assert!(report.ok, "verify: {:?}", report.problems);
});
