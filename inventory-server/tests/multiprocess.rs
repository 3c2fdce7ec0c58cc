//! Several real server processes on one PostgreSQL database, under concurrent HTTP load: a hot
//! product that 4 servers x 32 clients reserve, one idempotency key sent to two servers at the
//! same moment, batches that overlap on the same rows in opposite orders, reservations that
//! expire while every server sweeps. Then the engine opens the database itself: `verify()`
//! proves every balance, and the ledger holds exactly what the servers acknowledged.
//!
//! Needs a PostgreSQL server: `scripts/with-postgres.sh` sets INVENTORY_TEST_PG, and
//! `tests/pg/run.sh` runs this (ignored otherwise).

use inventory_test_support::wait_until;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Duration;

struct Server {
    child: Child,
    addr: String,
}

/// The servers' clock: the wall clock plus the seconds in this file (`--clock-offset-file`),
/// which the test moves so that reservations lapse at once on every server.
fn clock_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("multiprocess-{}.clock", std::process::id()))
}

/// A failed assertion must not leave servers running (they hold the test's output pipes).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inventory-server"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--workers",
            "8",
            "--sweep-interval-secs",
            "1",
        ])
        .args(["--db", db])
        .arg("--clock-offset-file")
        .arg(clock_file())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("a listening line").unwrap();
        let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if entry["message"] == "listening" {
            break entry["addr"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr }
}

struct Reply {
    status: u16,
    head: String,
    text: String,
    body: Value,
}

/// One request on its own connection.
fn call(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    Reply {
        status: head[9..12].parse().unwrap(),
        head: head.to_ascii_lowercase(),
        text: body.to_owned(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// How many sweeps a server has run (its metrics count each applied command by kind).
fn sweeps(addr: &str) -> u64 {
    let r = call(addr, "GET", "/metrics", "", "");
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
        .lines()
        .find_map(|l| l.strip_prefix(r#"inventory_commands_applied_total{kind="sweep"} "#))
        .map_or(0, |n| n.trim().parse().unwrap())
}

fn create(addr: &str, sku: &str, quantity: i64) -> String {
    let r = call(
        addr,
        "POST",
        "/api/products",
        "",
        &format!(
            r#"{{"name":"{sku}","sku":"{sku}","price":"9.99","location":"Warehouse A","initial_quantity":{quantity}}}"#
        ),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["data"]["product"]["id"].as_str().unwrap().to_owned()
}

/// The product's reserved total, as a server reads it.
fn reserved_of(addr: &str, id: &str) -> i64 {
    let r = call(
        addr,
        "GET",
        &format!("/api/products/{id}/inventory"),
        "",
        "",
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["data"]["reserved"].as_i64().unwrap()
}

/// `work(client, server address)` on `clients` threads spread over the servers, started together.
fn race(servers: &[Server], clients: usize, work: impl Fn(usize, &str) + Send + Sync) {
    let barrier = Barrier::new(clients);
    std::thread::scope(|s| {
        for c in 0..clients {
            let (addr, barrier, work) = (&servers[c % servers.len()].addr, &barrier, &work);
            s.spawn(move || {
                barrier.wait();
                work(c, addr)
            });
        }
    });
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn four_servers_on_one_database_never_oversell_never_apply_a_key_twice_and_keep_a_true_ledger() {
    let base = std::env::var("INVENTORY_TEST_PG")
        .expect("INVENTORY_TEST_PG names a PostgreSQL server (scripts/with-postgres.sh)");
    let name = format!("multiprocess_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    // Four processes started at once also migrate the new database at once.
    let servers: Vec<Server> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4).map(|_| s.spawn(|| start(&url))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let first = &servers[0].addr;

    // A hot product: 4 servers x 32 clients reserve one unit at a time until it runs out.
    let hot = create(first, "HOT", 300);
    let reserved = AtomicI64::new(0);
    race(&servers, 128, |_, addr| {
        loop {
            let r = call(
                addr,
                "POST",
                &format!("/api/products/{hot}/stock/reserve"),
                "",
                r#"{"quantity":1}"#,
            );
            match r.status {
                200 => {
                    assert!(r.body["data"]["available"].as_i64().unwrap() >= 0);
                    reserved.fetch_add(1, Ordering::SeqCst);
                }
                409 => {
                    assert_eq!(r.body["error"], "INSUFFICIENT_STOCK", "{:?}", r.body);
                    break;
                }
                other => panic!("reserve answered {other}: {:?}", r.body),
            }
        }
    });
    assert_eq!(
        reserved.load(Ordering::SeqCst),
        300,
        "exactly the stock, never more"
    );

    // One key sent to two servers at the same moment: applied once, both answers the first.
    let keyed = create(first, "KEYED", 1000);
    for k in 0..25 {
        let answers = Mutex::new(Vec::new());
        let pair = [&servers[k % 4], &servers[(k + 1) % 4]];
        let barrier = Barrier::new(2);
        std::thread::scope(|s| {
            for server in pair {
                let (answers, barrier, keyed) = (&answers, &barrier, &keyed);
                s.spawn(move || {
                    barrier.wait();
                    let r = call(
                        &server.addr,
                        "POST",
                        &format!("/api/products/{keyed}/stock/reserve"),
                        &format!("Idempotency-Key: order-{k}\r\n"),
                        &format!(r#"{{"quantity":2,"reference":"order-{k}"}}"#),
                    );
                    answers.lock().unwrap().push(r);
                });
            }
        });
        let answers = answers.into_inner().unwrap();
        assert!(answers.iter().all(|a| a.status == 200), "key {k}");
        let replays = answers
            .iter()
            .filter(|a| a.head.contains("idempotent-replayed: true"))
            .count();
        assert_eq!(replays, 1, "key {k}: one applied, one replayed");
        assert_eq!(answers[0].body["data"], answers[1].body["data"], "key {k}");
    }

    // Batches taking one unit of two products, in opposite orders, from every server: no
    // deadlock surfaces, and each is all or nothing.
    let (a, b) = (create(first, "BATCH-A", 60), create(first, "BATCH-B", 80));
    let batches = AtomicI64::new(0);
    race(&servers, 32, |c, addr| {
        for _ in 0..5 {
            let (x, y) = if c % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let body = format!(
                r#"{{"operations":[{{"product_id":"{x}","op":"remove","quantity":1}},{{"product_id":"{y}","op":"remove","quantity":1}}]}}"#
            );
            let r = call(addr, "POST", "/api/stock/batch", "", &body);
            match r.status {
                200 => {
                    batches.fetch_add(1, Ordering::SeqCst);
                }
                409 => assert_eq!(r.body["error"], "INSUFFICIENT_STOCK", "{:?}", r.body),
                other => panic!("batch answered {other}: {:?}", r.body),
            }
        }
    });
    assert_eq!(
        batches.load(Ordering::SeqCst),
        60,
        "until A ran out, and not one more"
    );

    // Reservations that lapse at once on all four servers, which sweep every second.
    let carts = create(first, "CARTS", 100);
    race(&servers, 20, |c, addr| {
        let r = call(
            addr,
            "POST",
            &format!("/api/products/{carts}/stock/reserve"),
            "",
            &format!(r#"{{"quantity":3,"reference":"cart-{c}","expires_in_seconds":60}}"#),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
    });
    let swept: Vec<u64> = servers.iter().map(|s| sweeps(&s.addr)).collect();
    std::fs::write(clock_file(), "120").unwrap();
    // Every server sweeps twice more: the first sweeps race for the lapsed carts, the later
    // ones must find nothing left.
    for (server, before) in servers.iter().zip(swept) {
        wait_until(
            Duration::from_secs(30),
            "two more sweeps on each server",
            || sweeps(&server.addr) >= before + 2,
        );
    }

    // Every server reads what the others wrote.
    for server in &servers {
        assert_eq!(reserved_of(&server.addr, &hot), 300);
        assert_eq!(
            reserved_of(&server.addr, &keyed),
            50,
            "25 keys x 2, each once"
        );
        assert_eq!(reserved_of(&server.addr, &carts), 0);
    }

    for mut server in servers {
        let pid = server.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(server.child.wait().unwrap().success(), "a clean shutdown");
    }
    let inv = inventory::Inventory::open(&url).unwrap();
    let report = inv.verify().unwrap();
    assert!(report.ok, "verify: {:?}", report.problems);
    // The ledger equals what was acknowledged: one IN per product created, then each product's
    // movements of each kind.
    let page = inv.changes(0, Some(1000)).unwrap();
    let count = |id: &str, kind: &str| {
        page.movements
            .iter()
            .filter(|m| m.product_id.to_string() == id && m.kind.as_str() == kind)
            .count()
    };
    assert_eq!(count(&hot, "RESERVE"), 300);
    assert_eq!(count(&keyed, "RESERVE"), 25, "each key applied once");
    assert_eq!((count(&a, "OUT"), count(&b, "OUT")), (60, 60));
    assert_eq!(count(&carts, "RESERVE"), 20);
    assert_eq!(count(&carts, "EXPIRE"), 20, "each cart released once");
    let expected = 5 /* initial quantities */ + 300 + 25 + 2 * 60 + 20 + 20;
    assert_eq!(page.movements.len(), expected, "and nothing else");
    assert!(
        page.movements.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "the feed numbers them without a gap"
    );
    drop(inv);
    let _ = std::fs::remove_file(clock_file());
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
}
