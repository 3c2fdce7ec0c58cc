//! Webhooks against a real receiver on a socket: every movement delivered, in `seq` order,
//! signed; failures backed off on the engine's clock until the subscription pauses; rewinds;
//! the SSRF guard; leases between two deliverers on one database; writes never waiting on a
//! receiver. On SQLite, and on PostgreSQL when INVENTORY_TEST_PG is set.
//!
//! The receiver is a few lines over `std::net` rather than an HTTP server crate: the engine
//! depends on none, and the tests need to make it fail in exact ways (a status, a hang, a
//! refused connection) and to see every request as it arrived.

mod common;

use common::{Target, product};
use inventory::webhooks::{
    Deliverer, DeliveryConfig, NewWebhook, WebhookChange, WebhookState, signature_header,
};
use inventory::{Clock, ErrorCode, Inventory, ManualClock, Options, StockOp};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ok,
    Status(u16),
    Hang,
}

#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
}

struct Receiver {
    url: String,
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Vec<Received>>>,
    /// Requests being answered right now.
    busy: Arc<AtomicUsize>,
    /// Requests to one path (one subscription) being answered at once, per path, and how
    /// often a request came while another to its path was being answered.
    per_path: Arc<Mutex<HashMap<String, usize>>>,
    overlaps: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

/// What the serving threads share.
#[derive(Clone)]
struct Shared {
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Vec<Received>>>,
    busy: Arc<AtomicUsize>,
    per_path: Arc<Mutex<HashMap<String, usize>>>,
    overlaps: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    fn start() -> Receiver {
        Self::on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    fn on(listener: TcpListener) -> Receiver {
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let r = Receiver {
            url,
            mode: Arc::new(Mutex::new(Mode::Ok)),
            got: Arc::default(),
            busy: Arc::default(),
            per_path: Arc::default(),
            overlaps: Arc::default(),
            stop: Arc::default(),
        };
        let shared = Shared {
            mode: r.mode.clone(),
            got: r.got.clone(),
            busy: r.busy.clone(),
            per_path: r.per_path.clone(),
            overlaps: r.overlaps.clone(),
            stop: r.stop.clone(),
        };
        std::thread::spawn(move || {
            while !shared.stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let shared = shared.clone();
                        std::thread::spawn(move || serve(stream, &shared));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        r
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Every event delivered, in arrival order, as (seq, the event's JSON).
    fn events(&self) -> Vec<(i64, serde_json::Value)> {
        let mut out = Vec::new();
        for r in self.received() {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let list = match body {
                serde_json::Value::Array(list) => list,
                one => vec![one],
            };
            for e in list {
                out.push((e["id"].as_i64().unwrap(), e));
            }
        }
        out
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, sh: &Shared) {
    stream.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut headers = HashMap::new();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.insert(k.to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers["content-length"].parse().unwrap();
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    sh.busy.fetch_add(1, Ordering::SeqCst);
    {
        let mut per_path = sh.per_path.lock().unwrap();
        let n = per_path.entry(path.clone()).or_default();
        *n += 1;
        if *n > 1 {
            sh.overlaps.fetch_add(1, Ordering::SeqCst);
        }
    }
    let current = *sh.mode.lock().unwrap();
    let status = match current {
        Mode::Ok => {
            // Long enough that a second request to the path would overlap this one.
            std::thread::sleep(Duration::from_millis(2));
            200
        }
        Mode::Status(s) => s,
        Mode::Hang => {
            while !sh.stop.load(Ordering::Relaxed) && *sh.mode.lock().unwrap() == Mode::Hang {
                std::thread::sleep(Duration::from_millis(5));
            }
            0
        }
    };
    if status == 200 {
        sh.got.lock().unwrap().push(Received {
            path: path.clone(),
            id: headers["webhook-id"].clone(),
            timestamp: headers["webhook-timestamp"].parse().unwrap(),
            signature: headers["webhook-signature"].clone(),
            body,
        });
    }
    *sh.per_path.lock().unwrap().get_mut(&path).unwrap() -= 1;
    sh.busy.fetch_sub(1, Ordering::SeqCst);
    if status != 0 {
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
    }
}

/// A handle that allows private targets (the receiver is on 127.0.0.1), on a manual clock.
fn open(store: &Target, clock: &Arc<ManualClock>) -> Inventory {
    store.open(Options {
        clock: clock.clone(),
        allow_private_webhooks: true,
        ..Options::default()
    })
}

fn config() -> DeliveryConfig {
    DeliveryConfig {
        allow_private: true,
        timeout: Duration::from_millis(1500),
        max_batch: 50,
        ..DeliveryConfig::default()
    }
}

fn subscribe(inv: &Inventory, url: &str) -> inventory::webhooks::CreatedWebhook {
    inv.create_webhook(NewWebhook {
        url: url.into(),
        ..NewWebhook::default()
    })
    .unwrap()
}

/// Ticks until `done` holds, failing after 60 s.
fn tick_until(d: &Deliverer, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "not delivered within 60 s");
        d.tick().unwrap();
    }
}

fn seqs_after(inv: &Inventory, after: i64) -> Vec<i64> {
    inv.changes(after, Some(1000))
        .unwrap()
        .movements
        .iter()
        .map(|m| m.seq)
        .collect()
}

#[test]
fn every_movement_is_delivered_once_in_order_and_signed() {
    let store = Target::new();
    let clock = Arc::new(ManualClock::fixed());
    let inv = open(&store, &clock);
    let receiver = Receiver::start();
    let before = product(&inv, "OLD", 5);
    let hook = subscribe(&inv, &receiver.url);
    assert!(hook.secret.starts_with("whsec_"));
    assert_eq!(hook.webhook.after, inv.changes(0, None).unwrap().next_after);

    let products: Vec<_> = (0..3)
        .map(|i| product(&inv, &format!("P{i}"), 100))
        .collect();
    let first = hook.webhook.after;
    for round in 0..150 {
        let p = products[round % 3];
        inv.reserve_stock(StockOp::reserve(p, 1).reference(format!("r{round}")))
            .unwrap();
        inv.stock(StockOp::transfer(p, "Warehouse A", "Shop", 1))
            .unwrap();
        // Rapid changes on one level: up and down again, each its own event.
        inv.add_stock(StockOp::add(before, 3)).unwrap();
        inv.remove_stock(StockOp::remove(before, 3)).unwrap();
    }
    let ledger: Vec<i64> = {
        let mut all = Vec::new();
        let mut after = first;
        loop {
            let page = inv.changes(after, Some(1000)).unwrap();
            if page.movements.is_empty() {
                break;
            }
            all.extend(page.movements.iter().map(|m| m.seq));
            after = page.next_after;
        }
        all
    };
    assert!(ledger.len() > 600);

    let d = Deliverer::new(inv.clone(), config());
    tick_until(&d, || receiver.events().len() >= ledger.len());

    let events = receiver.events();
    let delivered: Vec<i64> = events.iter().map(|(s, _)| *s).collect();
    assert_eq!(delivered, ledger, "each event once, in seq order");
    // Per level (product, location), in seq order, with the ledger's balances after.
    let mut last: HashMap<(String, String), i64> = HashMap::new();
    let mut on_hand: HashMap<(String, String), i64> = HashMap::new();
    for (seq, e) in &events {
        assert_eq!(e["type"], "movement.created");
        let data = &e["data"];
        assert_eq!(data["seq"].as_i64(), Some(*seq));
        let level = (
            data["product_id"].as_str().unwrap().to_owned(),
            data["location"].as_str().unwrap().to_owned(),
        );
        assert!(
            last.insert(level.clone(), *seq)
                .is_none_or(|prev| prev < *seq)
        );
        on_hand.insert(level, data["on_hand_after"].as_i64().unwrap());
    }
    let old = (before.to_string(), "Warehouse A".to_owned());
    assert_eq!(
        on_hand[&old], 5,
        "0 -> 3 -> 0 arrives as every step, ending where it is"
    );
    // Several events per request once a backlog builds, and every request signed.
    let requests = receiver.received();
    assert!(requests.len() < ledger.len());
    for r in &requests {
        assert_eq!(
            r.signature,
            signature_header(&hook.secret, &r.id, r.timestamp, &r.body).unwrap()
        );
    }
    let w = inv.webhook(hook.webhook.id).unwrap();
    assert_eq!(w.after, *ledger.last().unwrap());
    assert_eq!(w.failures, 0);
    let log = inv.webhook_deliveries(w.id, None, Some(1000)).unwrap();
    assert_eq!(log.len(), requests.len());
    assert!(log.iter().all(|d| d.ok && d.status == Some(200)));
    let of_one = inv.webhook_deliveries(w.id, Some(ledger[7]), None).unwrap();
    assert_eq!(of_one.len(), 1);
    assert!(of_one[0].first_seq <= ledger[7] && ledger[7] <= of_one[0].last_seq);
}

#[test]
fn failures_back_off_on_the_engines_clock_then_pause_and_resume_where_they_stopped() {
    let store = Target::new();
    let clock = Arc::new(ManualClock::fixed());
    let inv = open(&store, &clock);
    let receiver = Receiver::start();
    receiver.set(Mode::Status(500));
    let hook = subscribe(&inv, &receiver.url).webhook;
    let p = product(&inv, "A", 10);
    let d = Deliverer::new(inv.clone(), config());

    assert_eq!(d.tick().unwrap().failures, 1);
    let w = inv.webhook(hook.id).unwrap();
    assert_eq!((w.failures, w.failing_since), (1, Some(clock.now())));
    let wait = w.next_attempt_at.unwrap() - clock.now();
    assert!(wait > chrono::Duration::milliseconds(499) && wait <= chrono::Duration::seconds(1));
    // Not due yet: no request.
    assert_eq!(d.tick().unwrap().attempts, 0);

    // Each failure doubles the delay (less up to half of it, the jitter).
    let mut delays = Vec::new();
    for _ in 0..6 {
        let w = inv.webhook(hook.id).unwrap();
        clock.set(w.next_attempt_at.unwrap());
        assert_eq!(d.tick().unwrap().failures, 1);
        let after = inv.webhook(hook.id).unwrap();
        delays.push((after.next_attempt_at.unwrap() - clock.now()).num_milliseconds());
    }
    for (i, ms) in delays.iter().enumerate() {
        let full = 1000 << (i + 1);
        assert!(
            *ms >= full / 2 && *ms <= full,
            "delay {i}: {ms} ms of {full}"
        );
    }

    // Past 24 hours of failing, the subscription pauses (and is never deleted).
    clock.advance(chrono::Duration::hours(25));
    d.tick().unwrap();
    let w = inv.webhook(hook.id).unwrap();
    assert_eq!(w.state, WebhookState::Paused);
    assert!(w.paused_reason.as_deref().unwrap().contains("500"));
    let log = inv.webhook_deliveries(hook.id, None, None).unwrap();
    assert_eq!(log.len(), 8);
    assert_eq!(log[0].attempt, 8);
    assert!(log.iter().all(|d| !d.ok && d.status == Some(500)));
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        d.tick().unwrap().attempts,
        0,
        "a paused subscription is not delivered"
    );

    receiver.set(Mode::Ok);
    inv.add_stock(StockOp::add(p, 1)).unwrap();
    let w = inv.change_webhook(hook.id, WebhookChange::Resume).unwrap();
    assert_eq!(
        (w.state, w.failures, w.after),
        (WebhookState::Active, 0, hook.after)
    );
    tick_until(&d, || receiver.events().len() == 2);
    let got: Vec<i64> = receiver.events().iter().map(|(s, _)| *s).collect();
    assert_eq!(got, seqs_after(&inv, hook.after));
}

#[test]
fn refused_connections_and_hangs_lose_nothing_and_writes_never_wait() {
    let store = Target::new();
    let clock = Arc::new(ManualClock::fixed());
    let inv = open(&store, &clock);
    // A port nothing listens on: connections are refused.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let hook = subscribe(&inv, &format!("http://{addr}/hook")).webhook;
    let p = product(&inv, "A", 10);
    let d = Deliverer::new(inv.clone(), config());
    assert_eq!(d.tick().unwrap().failures, 1);
    let log = inv.webhook_deliveries(hook.id, None, None).unwrap();
    assert!(log[0].status.is_none() && log[0].error.is_some());

    // The receiver comes up, but hangs: the request times out, while writes go on.
    let receiver = Receiver::on(TcpListener::bind(addr).unwrap());
    receiver.set(Mode::Hang);
    clock.advance(chrono::Duration::minutes(5));
    let ticking = std::thread::scope(|s| {
        let t = s.spawn(|| d.tick().unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        while receiver.busy.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "the deliverer never connected");
            std::thread::sleep(Duration::from_millis(2));
        }
        for _ in 0..20 {
            inv.add_stock(StockOp::add(p, 1)).unwrap();
        }
        // Every write returned while the request was still hanging.
        assert!(!t.is_finished());
        t.join().unwrap()
    });
    assert_eq!(ticking.failures, 1);
    let log = inv.webhook_deliveries(hook.id, None, None).unwrap();
    assert!(
        log[0]
            .error
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("timeout")
    );

    receiver.set(Mode::Ok);
    clock.advance(chrono::Duration::minutes(5));
    let ledger = seqs_after(&inv, hook.after);
    tick_until(&d, || receiver.events().len() >= ledger.len());
    let got: Vec<i64> = receiver.events().iter().map(|(s, _)| *s).collect();
    assert_eq!(got, ledger);
}

#[test]
fn a_rewind_delivers_again_from_any_seq_and_filters_choose_movements() {
    let store = Target::new();
    let clock = Arc::new(ManualClock::fixed());
    let inv = open(&store, &clock);
    let receiver = Receiver::start();
    let a = product(&inv, "A", 10);
    let b = product(&inv, "B", 10);
    let start = inv.changes(0, None).unwrap().next_after;
    let only_b = inv
        .create_webhook(NewWebhook {
            url: receiver.url.clone(),
            events: Some(vec!["movement.created".into()]),
            locations: Some(vec!["Shop".into()]),
            product_ids: Some(vec![b]),
        })
        .unwrap()
        .webhook;
    inv.stock(StockOp::transfer(a, "Warehouse A", "Shop", 2))
        .unwrap();
    inv.stock(StockOp::transfer(b, "Warehouse A", "Shop", 2))
        .unwrap();
    inv.add_stock(StockOp::add(b, 1)).unwrap();
    let d = Deliverer::new(inv.clone(), config());
    tick_until(&d, || {
        inv.webhook(only_b.id).unwrap().after == inv.changes(0, None).unwrap().next_after
    });
    let got: Vec<_> = receiver.events();
    assert_eq!(got.len(), 1, "only b's movement at Shop: {got:?}");
    assert_eq!(got[0].1["data"]["kind"], "TRANSFER_IN");

    // Rewound to before anything: the whole ledger is offered again, the filters still apply.
    let w = inv
        .change_webhook(only_b.id, WebhookChange::Rewind(0))
        .unwrap();
    assert_eq!(w.after, 0);
    tick_until(&d, || receiver.events().len() == 2);
    assert_eq!(receiver.events()[1].0, got[0].0);
    assert!(got[0].0 > start);

    let err = inv
        .change_webhook(only_b.id, WebhookChange::Rewind(10_000))
        .unwrap_err();
    assert_eq!(
        (err.code, err.field.as_deref()),
        (ErrorCode::ValidationError, Some("after"))
    );
    let err = inv
        .create_webhook(NewWebhook {
            url: receiver.url.clone(),
            events: Some(vec!["stock.teleported".into()]),
            ..NewWebhook::default()
        })
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("events"));

    let gone = inv
        .change_webhook(only_b.id, WebhookChange::Delete)
        .unwrap();
    assert_eq!(gone.id, only_b.id);
    assert_eq!(
        inv.webhook(only_b.id).unwrap_err().code,
        ErrorCode::NotFound
    );
    assert!(inv.webhooks().unwrap().is_empty());
}

#[test]
fn private_targets_are_refused_unless_allowed() {
    let store = Target::new();
    let inv = store.open(Options::default());
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ] {
        let err = inv
            .create_webhook(NewWebhook {
                url: url.into(),
                ..NewWebhook::default()
            })
            .unwrap_err();
        assert_eq!(
            (err.code, err.field.as_deref()),
            (ErrorCode::ValidationError, Some("url")),
            "{url}"
        );
    }
    assert!(inv.webhooks().unwrap().is_empty());

    // A subscription made where private targets were allowed is still not delivered to one
    // by a deliverer that refuses them: the address is checked at connection time.
    let clock = Arc::new(ManualClock::fixed());
    let allowing = open(&store, &clock);
    let receiver = Receiver::start();
    let hook = subscribe(&allowing, &receiver.url).webhook;
    product(&allowing, "A", 1);
    let guarded = Deliverer::new(
        allowing.clone(),
        DeliveryConfig {
            allow_private: false,
            ..config()
        },
    );
    assert_eq!(guarded.tick().unwrap().failures, 1);
    assert!(receiver.received().is_empty());
    let log = allowing.webhook_deliveries(hook.id, None, None).unwrap();
    assert!(
        log[0].error.as_deref().unwrap().contains("private"),
        "{log:?}"
    );
}

#[test]
fn two_deliverers_on_one_database_never_deliver_a_subscription_at_once() {
    let store = Target::new();
    let clock = Arc::new(ManualClock::fixed());
    let one = open(&store, &clock);
    let two = open(&store, &clock);
    let receiver = Receiver::start();
    let hooks: Vec<_> = (0..3)
        .map(|i| subscribe(&one, &format!("{}/{i}", receiver.url)).webhook)
        .collect();
    let p = product(&one, "A", 0);
    for _ in 0..200 {
        one.add_stock(StockOp::add(p, 1)).unwrap();
    }
    let ledger = seqs_after(&one, hooks[0].after);
    let small = DeliveryConfig {
        max_batch: 7,
        ..config()
    };
    let (d1, d2) = (
        Deliverer::new(one.clone(), small.clone()),
        Deliverer::new(two.clone(), small),
    );
    std::thread::scope(|s| {
        let want = 3 * ledger.len();
        for d in [&d1, &d2] {
            let receiver = &receiver;
            s.spawn(move || tick_until(d, || receiver.events().len() >= want));
        }
    });
    // Never two requests of one subscription at once, and each subscription got every
    // event once, in order.
    assert_eq!(receiver.overlaps.load(Ordering::SeqCst), 0);
    let mut per_hook: HashMap<String, Vec<i64>> = HashMap::new();
    for r in receiver.received() {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let seqs = per_hook.entry(r.path.clone()).or_default();
        match body {
            serde_json::Value::Array(list) => {
                seqs.extend(list.iter().map(|e| e["id"].as_i64().unwrap()))
            }
            one => seqs.push(one["id"].as_i64().unwrap()),
        }
    }
    assert_eq!(per_hook.len(), 3);
    for seqs in per_hook.values() {
        assert_eq!(seqs, &ledger);
    }
    let owners: BTreeSet<_> = one
        .webhooks()
        .unwrap()
        .into_iter()
        .map(|w| w.lease_owner.unwrap())
        .collect();
    assert!(owners.is_subset(&[d1.owner().to_owned(), d2.owner().to_owned()].into()));

    // The deliverer holding them stops; the other takes over once the leases run out.
    let holder = if owners.contains(d1.owner()) {
        &d1
    } else {
        &d2
    };
    let other = if std::ptr::eq(holder, &d1) { &d2 } else { &d1 };
    one.add_stock(StockOp::add(p, 1)).unwrap();
    let held_by_holder = one
        .webhooks()
        .unwrap()
        .into_iter()
        .filter(|w| w.lease_owner.as_deref() == Some(holder.owner()))
        .count();
    let before = receiver.events().len();
    other.tick().unwrap();
    assert_eq!(
        receiver.events().len(),
        before + 3 - held_by_holder,
        "no event of a subscription another deliverer holds"
    );
    clock.advance(chrono::Duration::seconds(31));
    tick_until(other, || receiver.events().len() == before + 3);
    assert!(
        one.webhooks()
            .unwrap()
            .iter()
            .all(|w| w.lease_owner.as_deref() == Some(other.owner()))
    );
}
