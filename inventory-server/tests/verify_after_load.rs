//! The real binary under 32 concurrent HTTP clients (reserves, commits and transfers between two
//! locations on one product), stopped with SIGTERM; then the engine itself opens the file and
//! `verify()` proves every balance against the ledger. HTTP alone cannot reach verify().

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

struct Server {
    child: Child,
    addr: String,
}

/// A failed assertion must not leave the server running (it holds the test's output pipes).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inventory-server"))
        .args(["--addr", "127.0.0.1:0", "--workers", "4", "--db"])
        .arg(db)
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

/// One request on its own connection; returns (status, JSON body).
fn call(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let json = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

#[test]
fn concurrent_http_load_leaves_a_verified_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("load.db");
    let mut server = start(&db);
    let addr = server.addr.clone();
    let (status, created) = call(
        &addr,
        "POST",
        "/api/products",
        r#"{"name":"Gaming Laptop","sku":"LAP001","price":1500.00,"location":"Warehouse A","initial_quantity":300}"#,
    );
    assert_eq!(status, 201);
    let id = created["data"]["product"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = call(
        &addr,
        "POST",
        &format!("/api/products/{id}/stock/transfer"),
        r#"{"from_location":"Warehouse A","to_location":"Store 1","quantity":100}"#,
    );
    assert_eq!(status, 200);
    let committed = Arc::new(AtomicI64::new(0));
    let threads: Vec<_> = (0..32)
        .map(|n| {
            let (addr, id, committed) = (addr.clone(), id.clone(), Arc::clone(&committed));
            std::thread::spawn(move || {
                let base = format!("/api/products/{id}/stock");
                for i in 0..12 {
                    let (from, to) = if (n + i) % 2 == 0 {
                        ("Warehouse A", "Store 1")
                    } else {
                        ("Store 1", "Warehouse A")
                    };
                    let reference = format!("ORDER-{n}-{i}");
                    let (s, _) = call(
                        &addr,
                        "POST",
                        &format!("{base}/reserve"),
                        &format!(
                            r#"{{"quantity":2,"reference":"{reference}","location":"{from}"}}"#
                        ),
                    );
                    assert!(s == 200 || s == 409, "reserve: {s}");
                    if s == 200 && i % 3 == 0 {
                        let (s, _) = call(
                            &addr,
                            "POST",
                            &format!("{base}/commit"),
                            &format!(r#"{{"reference":"{reference}","location":"{from}"}}"#),
                        );
                        assert_eq!(s, 200, "commit");
                        committed.fetch_add(2, Ordering::SeqCst);
                    }
                    let (s, _) = call(
                        &addr,
                        "POST",
                        &format!("{base}/transfer"),
                        &format!(
                            r#"{{"from_location":"{from}","to_location":"{to}","quantity":1}}"#
                        ),
                    );
                    assert!(s == 200 || s == 409, "transfer: {s}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (_, inv) = call(&addr, "GET", &format!("/api/products/{id}/inventory"), "");
    let on_hand = inv["data"]["quantity"].as_i64().unwrap();
    assert_eq!(on_hand, 300 - committed.load(Ordering::SeqCst));

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(server.child.wait().unwrap().success(), "graceful exit 0");

    let inv = inventory::Inventory::open(&db).unwrap();
    let report = inv.verify().unwrap();
    assert!(report.ok, "{:?}", report.problems);
    let id = id.parse().unwrap();
    let summary = inv.get_inventory(id).unwrap();
    assert_eq!(summary.totals.on_hand, on_hand);
    let reserved: i64 = inv
        .list_reservations(id)
        .unwrap()
        .iter()
        .map(|r| r.quantity)
        .sum();
    assert_eq!(summary.totals.reserved, reserved);
    assert!(summary.locations.iter().all(|l| l.available >= 0));
}
