//! Many threads on one handle: nothing oversells, nothing is applied twice or half, no
//! caller ever sees SQLITE_BUSY, and the ledger still proves every balance.
mod common;

use common::*;
use inventory::{Command, ErrorCode, Inventory, StockOp};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

const THREADS: usize = 8;

/// A small deterministic generator, one per thread.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n) as i64
    }
}

fn on_threads(inv: &Inventory, work: impl Fn(usize, &Inventory) + Send + Sync + 'static) {
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (inv, work, barrier) = (inv.clone(), work.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                work(t, &inv)
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn eight_threads_never_oversell_the_last_units() {
    let f = fixture();
    let id = product(&f.inv, "HOT", 100);
    let won = Arc::new(AtomicI64::new(0));
    let w = won.clone();
    on_threads(&f.inv, move |_, inv| {
        for _ in 0..40 {
            match inv.reserve_stock(StockOp::reserve(id, 1)) {
                Ok(level) => {
                    assert!(level.available >= 0);
                    w.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => assert_eq!(e.code, ErrorCode::InsufficientStock, "{e}"),
            }
        }
    });
    assert_eq!(
        won.load(Ordering::SeqCst),
        100,
        "exactly the stock, and no more, was reserved"
    );
    let s = f.inv.get_inventory(id).unwrap();
    assert_eq!(
        (s.totals.on_hand, s.totals.reserved, s.totals.available),
        (100, 100, 0)
    );
    assert_verified(&f.inv);
}

#[test]
fn mixed_reserve_remove_add_keep_every_balance_consistent() {
    let f = fixture();
    let id = product(&f.inv, "MIX", 200);
    let added = Arc::new(AtomicI64::new(0));
    let removed = Arc::new(AtomicI64::new(0));
    let reserved = Arc::new(AtomicI64::new(0));
    let (a, r, s) = (added.clone(), removed.clone(), reserved.clone());
    on_threads(&f.inv, move |t, inv| {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
        for _ in 0..150 {
            let q = rng.below(5) + 1;
            let result = match rng.below(4) {
                0 => inv
                    .add_stock(StockOp::add(id, q))
                    .map(|l| (a.fetch_add(q, Ordering::SeqCst), l)),
                1 => inv
                    .remove_stock(StockOp::remove(id, q))
                    .map(|l| (r.fetch_add(q, Ordering::SeqCst), l)),
                2 => inv
                    .reserve_stock(StockOp::reserve(id, q))
                    .map(|l| (s.fetch_add(q, Ordering::SeqCst), l)),
                _ => inv
                    .unreserve_stock(StockOp::unreserve(id, q))
                    .map(|l| (s.fetch_sub(q, Ordering::SeqCst), l)),
            };
            match result {
                Ok((_, level)) => {
                    assert!(level.on_hand >= 0 && level.reserved >= 0 && level.available >= 0)
                }
                Err(e) => assert!(
                    matches!(
                        e.code,
                        ErrorCode::InsufficientStock | ErrorCode::InsufficientReserved
                    ),
                    "unexpected {e}"
                ),
            }
        }
    });
    let s = f.inv.get_inventory(id).unwrap();
    assert_eq!(
        s.totals.on_hand,
        200 + added.load(Ordering::SeqCst) - removed.load(Ordering::SeqCst)
    );
    assert_eq!(s.totals.reserved, reserved.load(Ordering::SeqCst));
    assert!(s.totals.reserved <= s.totals.on_hand);
    assert_verified(&f.inv);
}

#[test]
fn transfers_beside_reservations_conserve_the_total() {
    let f = fixture();
    let id = product(&f.inv, "TRF", 500);
    f.inv.add_stock(StockOp::add(id, 500).at("B")).unwrap();
    on_threads(&f.inv, move |t, inv| {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (t as u64 + 1));
        let reference = format!("T{t}");
        for _ in 0..120 {
            let (from, to) = if rng.below(2) == 0 {
                ("Warehouse A", "B")
            } else {
                ("B", "Warehouse A")
            };
            let q = rng.below(20) + 1;
            let result = if t % 2 == 0 {
                inv.transfer_stock(StockOp::transfer(id, from, to, q))
                    .map(drop)
            } else if rng.below(2) == 0 {
                inv.reserve_stock(StockOp::reserve(id, q).at(from).reference(&reference))
                    .map(drop)
            } else {
                inv.unreserve_stock(
                    StockOp::unreserve(id, 0)
                        .quantity(None)
                        .at(from)
                        .reference(&reference),
                )
                .map(drop)
            };
            if let Err(e) = result {
                assert!(
                    matches!(
                        e.code,
                        ErrorCode::InsufficientStock | ErrorCode::InsufficientReserved
                    ),
                    "{e}"
                );
            }
        }
    });
    let s = f.inv.get_inventory(id).unwrap();
    assert_eq!(
        s.totals.on_hand, 1000,
        "transfers neither create nor destroy stock"
    );
    assert_eq!(
        s.totals.reserved,
        f.inv
            .list_reservations(id)
            .unwrap()
            .iter()
            .map(|r| r.quantity)
            .sum::<i64>()
    );
    assert_verified(&f.inv);
}

#[test]
fn retried_idempotent_requests_and_overlapping_batches_apply_exactly_once() {
    let f = fixture();
    let a = product(&f.inv, "IA", 1000);
    let b = product(&f.inv, "IB", 25);
    let fresh = Arc::new(AtomicI64::new(0));
    let fresh_in = fresh.clone();
    on_threads(&f.inv, move |t, inv| {
        let mut rng = Rng(0xA076_1D64_78BD_642F ^ (t as u64 + 1));
        for i in 0..60 {
            // Every thread sends the same 60 keyed requests, in its own order.
            let k = (i * 7 + t * 13) % 60;
            let cmd = Command::Stock(StockOp::add(a, 1).reference(format!("delivery-{k}")));
            let done = inv
                .execute_with_key(cmd, Some(&format!("delivery-{k}")))
                .unwrap();
            if !done.replayed {
                fresh_in.fetch_add(1, Ordering::SeqCst);
            }
            // Baskets that take one of each product: all or nothing.
            let basket = vec![StockOp::remove(a, 1), StockOp::remove(b, 1)];
            let key = format!("basket-{}", rng.below(40));
            if let Err(e) = inv.execute_with_key(Command::Batch(basket), Some(&key)) {
                assert_eq!(
                    (e.code, e.index),
                    (ErrorCode::InsufficientStock, Some(1)),
                    "{e}"
                );
            }
        }
    });
    assert_eq!(
        fresh.load(Ordering::SeqCst),
        60,
        "each key applied exactly once"
    );
    let sold_b = 25 - f.inv.get_inventory(b).unwrap().totals.on_hand;
    let on_hand_a = f.inv.get_inventory(a).unwrap().totals.on_hand;
    assert_eq!(
        on_hand_a,
        1000 + 60 - sold_b,
        "every basket took one of each, or nothing"
    );
    assert_eq!(
        sold_b, 25,
        "more basket keys (40) than stock: the last baskets failed whole"
    );
    assert_verified(&f.inv);
}
