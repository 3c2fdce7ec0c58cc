//! Model-based property test: random sequences of commands run against the engine and against
//! a plain in-memory model must give the same results and the same errors, and verify() must
//! pass after every sequence. Covers stock ops at several locations, transfers, counts,
//! reservations with expiry (on an injected clock), commits, batches, idempotent replays, and
//! compare-and-set guards (`expected_available` / `expected_quantity`) on every kind.

mod common;

use inventory::{
    Clock, Command, ErrorCode, Expect, Expiry, ManualClock, NewProduct, Options, Outcome, Price,
    StockOp, Uuid,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

const HOME: &str = "Warehouse A";
const LOCATIONS: [Option<&str>; 3] = [None, Some("B"), Some("C")];
const REFS: [Option<&str>; 3] = [None, Some("r1"), Some("r2")];
const PRODUCTS: usize = 2;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Add {
        p: usize,
        loc: usize,
        q: i64,
    },
    Remove {
        p: usize,
        loc: usize,
        q: i64,
    },
    Reserve {
        p: usize,
        loc: usize,
        q: i64,
        r: usize,
        expires_in: Option<i64>,
    },
    Unreserve {
        p: usize,
        loc: usize,
        q: Option<i64>,
        r: usize,
    },
    Commit {
        p: usize,
        loc: usize,
        q: Option<i64>,
        r: usize,
        release: bool,
    },
    Transfer {
        p: usize,
        from: usize,
        to: usize,
        q: i64,
    },
    Count {
        p: usize,
        loc: usize,
        counted: i64,
    },
}

#[derive(Debug, Clone)]
enum Step {
    One(Op),
    /// The operation guarded by the target's current available (`true`) or on-hand quantity,
    /// plus an offset: 0 applies, anything else is a stale guard (or a negative one).
    Guarded(Op, bool, i64),
    Batch(Vec<Op>),
    Keyed(u8, Op),
    Advance(i64),
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0..PRODUCTS;
    let loc = 0..LOCATIONS.len();
    let q = prop_oneof![8 => 1i64..12, 1 => -1i64..=0];
    let r = 0..REFS.len();
    prop_oneof![
        (p.clone(), loc.clone(), q.clone()).prop_map(|(p, loc, q)| Op::Add { p, loc, q }),
        (p.clone(), loc.clone(), q.clone()).prop_map(|(p, loc, q)| Op::Remove { p, loc, q }),
        (
            p.clone(),
            loc.clone(),
            q.clone(),
            r.clone(),
            proptest::option::of(1i64..90)
        )
            .prop_map(|(p, loc, q, r, expires_in)| Op::Reserve {
                p,
                loc,
                q,
                r,
                expires_in
            }),
        (
            p.clone(),
            loc.clone(),
            proptest::option::of(q.clone()),
            r.clone()
        )
            .prop_map(|(p, loc, q, r)| Op::Unreserve { p, loc, q, r }),
        (
            p.clone(),
            loc.clone(),
            proptest::option::of(q.clone()),
            r.clone(),
            any::<bool>()
        )
            .prop_map(|(p, loc, q, r, release)| Op::Commit {
                p,
                loc,
                q,
                r,
                release
            }),
        (p.clone(), loc.clone(), loc.clone(), q).prop_map(|(p, from, to, q)| Op::Transfer {
            p,
            from,
            to,
            q
        }),
        (p, loc, -1i64..15).prop_map(|(p, loc, counted)| Op::Count { p, loc, counted }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => op().prop_map(Step::One),
        4 => (op(), any::<bool>(), -1i64..=1).prop_map(|(o, a, d)| Step::Guarded(o, a, d)),
        2 => proptest::collection::vec(op(), 1..5).prop_map(Step::Batch),
        2 => (0u8..4, op()).prop_map(|(k, o)| Step::Keyed(k, o)),
        2 => (1i64..60).prop_map(Step::Advance),
        1 => Just(Step::Sweep),
    ]
}

fn loc_name(loc: usize) -> &'static str {
    LOCATIONS[loc].unwrap_or(HOME)
}

fn to_stock_op(op: &Op, ids: &[Uuid]) -> StockOp {
    let at = |s: StockOp, loc: usize| match LOCATIONS[loc] {
        Some(l) => s.at(l),
        None => s,
    };
    let refd = |s: StockOp, r: usize| match REFS[r] {
        Some(x) => s.reference(x),
        None => s,
    };
    match *op {
        Op::Add { p, loc, q } => at(StockOp::add(ids[p], q), loc),
        Op::Remove { p, loc, q } => at(StockOp::remove(ids[p], q), loc),
        Op::Reserve {
            p,
            loc,
            q,
            r,
            expires_in,
        } => {
            let s = refd(at(StockOp::reserve(ids[p], q), loc), r);
            match expires_in {
                Some(secs) => s.expires(Expiry::In(secs)),
                None => s,
            }
        }
        Op::Unreserve { p, loc, q, r } => {
            refd(at(StockOp::unreserve(ids[p], 0), loc), r).quantity(q)
        }
        Op::Commit {
            p,
            loc,
            q,
            r,
            release,
        } => {
            let mut s = at(StockOp::commit(ids[p], "x"), loc)
                .quantity(q)
                .release_remainder(release);
            s.reference = REFS[r].map(str::to_owned);
            s
        }
        Op::Transfer { p, from, to, q } => {
            let mut s = StockOp::transfer(ids[p], loc_name(from), loc_name(to), q);
            s.location = LOCATIONS[from].map(str::to_owned);
            s
        }
        Op::Count { p, loc, counted } => at(StockOp::count(ids[p], HOME, counted), loc),
    }
}

type Levels = Vec<(String, i64, i64)>;

#[derive(Debug, Clone, Default)]
struct Model {
    levels: BTreeMap<(usize, &'static str), (i64, i64)>,
    locations: BTreeSet<&'static str>,
    reservations: BTreeMap<(usize, &'static str, &'static str), (i64, Option<i64>)>,
    keys: HashMap<u8, (Op, Levels)>,
    now: i64,
}

fn positive(q: i64) -> Result<i64, ErrorCode> {
    if q > 0 {
        Ok(q)
    } else {
        Err(ErrorCode::ValidationError)
    }
}

impl Op {
    /// The product and the location an operation's guard is checked at (a transfer's source).
    fn target(&self) -> (usize, usize) {
        match *self {
            Op::Add { p, loc, .. }
            | Op::Remove { p, loc, .. }
            | Op::Reserve { p, loc, .. }
            | Op::Unreserve { p, loc, .. }
            | Op::Commit { p, loc, .. }
            | Op::Count { p, loc, .. } => (p, loc),
            Op::Transfer { p, from, .. } => (p, from),
        }
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

    fn apply(&mut self, op: &Op) -> Result<Levels, ErrorCode> {
        self.apply_guarded(op, None)
    }

    /// The guard is checked once the target location is known to exist (operations that only
    /// take stock away do not create it), before anything else about the operation.
    fn check(&self, op: &Op, expect: Option<Expect>) -> Result<(), ErrorCode> {
        let (p, loc) = op.target();
        let loc = loc_name(loc);
        let creates = matches!(op, Op::Add { .. } | Op::Count { .. });
        if !creates {
            self.existing(loc)?;
        }
        let (h, r) = self.level(p, loc);
        let (expected, actual) = match expect {
            None => return Ok(()),
            Some(Expect::Available(v)) => (v, h - r),
            Some(Expect::Quantity(v)) => (v, h),
        };
        if expected != actual {
            return Err(ErrorCode::Conflict);
        }
        Ok(())
    }

    fn apply_guarded(&mut self, op: &Op, expect: Option<Expect>) -> Result<Levels, ErrorCode> {
        let p = op.target().0;
        // The shape and each field's limits come first: an unreserve needs a quantity or a
        // reference, quantities are positive, a count and a guard's value not negative.
        if matches!(*op, Op::Unreserve { q: None, r, .. } if REFS[r].is_none()) {
            return Err(ErrorCode::ValidationError);
        }
        let quantity = match *op {
            Op::Add { q, .. } | Op::Remove { q, .. } | Op::Reserve { q, .. } => Some(q),
            Op::Transfer { q, .. } => Some(q),
            Op::Unreserve { q, .. } | Op::Commit { q, .. } => q,
            Op::Count { .. } => None,
        };
        if let Some(q) = quantity {
            positive(q)?;
        }
        let negative_count = matches!(*op, Op::Count { counted, .. } if counted < 0);
        let negative_guard =
            matches!(expect, Some(Expect::Available(v) | Expect::Quantity(v)) if v < 0);
        if negative_count || negative_guard {
            return Err(ErrorCode::ValidationError);
        }
        self.expire(p);
        self.check(op, expect)?;
        match *op {
            Op::Add { loc, q, .. } => {
                let loc = loc_name(loc);
                let q = positive(q)?;
                let (h, r) = self.level(p, loc);
                Ok(vec![self.set(p, loc, (h + q, r))])
            }
            Op::Remove { loc, q, .. } => {
                let loc = self.existing(loc_name(loc))?;
                let q = positive(q)?;
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
                let loc = self.existing(loc_name(loc))?;
                let q = positive(q)?;
                let (h, r) = self.level(p, loc);
                if h - r < q {
                    return Err(ErrorCode::InsufficientStock);
                }
                let key = (p, loc, REFS[rf].unwrap_or(""));
                let entry = self.reservations.entry(key).or_insert((0, None));
                entry.0 += q;
                if let Some(secs) = expires_in {
                    entry.1 = Some(self.now + secs);
                }
                Ok(vec![self.set(p, loc, (h, r + q))])
            }
            Op::Unreserve { loc, q, r: rf, .. } | Op::Commit { loc, q, r: rf, .. } => {
                let commit = matches!(op, Op::Commit { .. });
                let release = matches!(op, Op::Commit { release: true, .. });
                let loc = self.existing(loc_name(loc))?;
                let key = (p, loc, REFS[rf].unwrap_or(""));
                let held = self.reservations.get(&key).map_or(0, |e| e.0);
                let q = match q {
                    Some(q) => positive(q)?,
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
                let from = self.existing(loc_name(from))?;
                let q = positive(q)?;
                let to = loc_name(to);
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
                let loc = loc_name(loc);
                if counted < 0 {
                    return Err(ErrorCode::ValidationError);
                }
                let (_, r) = self.level(p, loc);
                if counted < r {
                    return Err(ErrorCode::Conflict);
                }
                Ok(vec![self.set(p, loc, (counted, r))])
            }
        }
    }

    /// All or nothing: a failing operation leaves the model as it was.
    fn batch(&mut self, ops: &[Op]) -> Result<Vec<Levels>, (ErrorCode, usize)> {
        let mut next = self.clone();
        let mut out = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            out.push(next.apply(op).map_err(|e| (e, i))?);
        }
        *self = next;
        Ok(out)
    }
}

fn levels(out: &[inventory::StockLevel]) -> Levels {
    out.iter()
        .map(|l| (l.location.clone(), l.on_hand, l.reserved))
        .collect()
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let store = common::Target::new();
    let clock = Arc::new(ManualClock::fixed());
    let start = clock.now();
    let options = Options {
        clock: clock.clone(),
        durability: inventory::Durability::Normal,
        ..Options::default()
    };
    let inv = store.open(options);
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
                    .stock(to_stock_op(&op, &ids))
                    .map(|l| levels(&l))
                    .map_err(|e| e.code);
                prop_assert_eq!(got, model.apply(&op), "{:?}", op);
            }
            Step::Guarded(op, available, offset) => {
                let (p, loc) = op.target();
                model.expire(p);
                let (h, r) = model.level(p, loc_name(loc));
                let expect = if available {
                    Expect::Available(h - r + offset)
                } else {
                    Expect::Quantity(h + offset)
                };
                let got = inv
                    .stock(to_stock_op(&op, &ids).expect(expect))
                    .map(|l| levels(&l))
                    .map_err(|e| e.code);
                prop_assert_eq!(
                    got,
                    model.apply_guarded(&op, Some(expect)),
                    "{:?} {:?}",
                    op,
                    expect
                );
            }
            Step::Batch(ops) => {
                let got = inv
                    .batch(ops.iter().map(|o| to_stock_op(o, &ids)).collect())
                    .map(|all| all.iter().map(|l| levels(l)).collect::<Vec<_>>())
                    .map_err(|e| (e.code, e.index.unwrap()));
                prop_assert_eq!(got, model.batch(&ops), "{:?}", ops);
            }
            Step::Keyed(k, op) => {
                let got = inv
                    .execute_with_key(
                        Command::Stock(to_stock_op(&op, &ids)),
                        Some(&format!("key-{k}")),
                    )
                    .map(|e| match e.value {
                        Outcome::Levels(l) => levels(&l),
                        other => panic!("unexpected {other:?}"),
                    })
                    .map_err(|e| e.code);
                let want = match model.keys.get(&k) {
                    Some((first, out)) if *first == op => Ok(out.clone()),
                    Some(_) => Err(ErrorCode::Conflict),
                    None => model.apply(&op).inspect(|out| {
                        model.keys.insert(k, (op.clone(), out.clone()));
                    }),
                };
                prop_assert_eq!(got, want, "key {} {:?}", k, op);
            }
            Step::Advance(secs) => {
                clock.advance(chrono::Duration::seconds(secs));
                model.now += secs;
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
        prop_assert_eq!(levels(&summary.locations), want);
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
        prop_assert_eq!(held, want_held);
    }
    let report = inv.verify().unwrap();
    prop_assert!(report.ok, "verify: {:?}", report.problems);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_the_model(steps in proptest::collection::vec(step(), 1..40)) {
        run(steps)?;
    }
}
