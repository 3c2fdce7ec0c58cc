//! The real parts a till test runs against: central as the `inventory-server` binary on a real
//! SQLite file, a key made through the engine on that file before central starts, a small TCP
//! proxy between till and central that can refuse connections or swallow central's answers
//! after central has acted on the request, and readings of central's ledger. Central's clock
//! is the wall clock plus an offset the tests move (`Central::advance`, through the server's
//! `--clock-offset-file`), so that leases lapse without waiting.
//!
//! The server binary is `$INVENTORY_SERVER_BIN` (tests/tills/run.sh builds it and sets it), else
//! the one beside this test in the same target directory (`cargo test --workspace` builds it).
//! Auth: these tests send `Authorization: Bearer` with a key limited to the till's location;
//! until central requires keys it serves loopback without them and records no actor, which
//! `assert_actor` checks either way.
#![allow(dead_code)] // each test binary uses a different subset

use inventory::{Inventory, MovementKind, MovementQuery, NewProduct, Price, Scope, Uuid};
pub use inventory_test_support::{wait_for, wait_until};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn server_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("INVENTORY_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/inventory-server
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("inventory-server");
    assert!(
        bin.exists(),
        "{} is missing: cargo build -p inventory-server, or set INVENTORY_SERVER_BIN",
        bin.display()
    );
    bin
}

/// Central: the server binary on its own file, restartable on the same port.
pub struct Central {
    pub db: PathBuf,
    pub port: u16,
    /// Seconds central's clock runs ahead of the wall clock (the server re-reads the file).
    clock: PathBuf,
    child: Option<Child>,
    /// More arguments for the server.
    extra: Vec<String>,
}

impl Central {
    pub fn start(db: &Path) -> Central {
        Central::start_with(db, &[])
    }

    /// As `start`, with more arguments for the server (`--auth required`).
    pub fn start_with(db: &Path, extra: &[&str]) -> Central {
        let mut central = Central {
            db: db.to_owned(),
            port: 0,
            clock: db.with_extension("clock"),
            child: None,
            extra: extra.iter().map(|a| a.to_string()).collect(),
        };
        central.restart();
        central
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the server again (on the port it had, so tills keep their URL).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "central is running");
        let (child, port) = wait_for(Duration::from_secs(20), "central starts", || {
            let mut child = Command::new(server_bin())
                .args(["--addr", &format!("127.0.0.1:{}", self.port)])
                .arg("--db")
                .arg(&self.db)
                .arg("--clock-offset-file")
                .arg(&self.clock)
                .args(["--sweep-interval-secs", "1", "--workers", "4"])
                .args(&self.extra)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("the server starts");
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let addr = loop {
                match lines.next() {
                    Some(Ok(line)) => {
                        let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                        if entry["message"] == "listening" {
                            break Some(entry["addr"].as_str().unwrap().to_owned());
                        }
                    }
                    _ => break None,
                }
            };
            match addr {
                Some(addr) => {
                    std::thread::spawn(move || for _ in lines {});
                    Some((child, addr.rsplit(':').next().unwrap().parse().unwrap()))
                }
                // The port was taken meanwhile (the old process still closing): again.
                None => {
                    let _ = child.wait();
                    None
                }
            }
        });
        self.port = port;
        self.child = Some(child);
    }

    /// Moves central's clock forward: its next "now" (a reservation's expiry, the sweep,
    /// the time of a movement) is `by` later than it would have been.
    pub fn advance(&self, by: Duration) {
        let ahead: i64 = std::fs::read_to_string(&self.clock)
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(0);
        let next = self.clock.with_extension("clock.next");
        std::fs::write(&next, (ahead + by.as_secs() as i64).to_string()).unwrap();
        // Renamed into place, so the server never reads half a number.
        std::fs::rename(&next, &self.clock).unwrap();
    }

    /// Kills central at once (SIGKILL): whatever it was doing stops mid-way.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops central (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            sigterm(child.id());
            let _ = child.wait();
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Central's file, opened by the engine (central must be stopped, or the reads are a snapshot).
    pub fn open(&self) -> Inventory {
        Inventory::open(&self.db).unwrap()
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        self.kill();
    }
}

fn sigterm(pid: u32) {
    // No libc binding in this crate: the kill command sends it.
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// Central's database: a SQLite file in a test's directory or, when `INVENTORY_TEST_PG` holds a
/// PostgreSQL URL (tests/pg/run.sh sets it), a database of the test's own on that server,
/// dropped at the end. Either can be copied aside and put back while central is stopped, as
/// a file copied back or a volume snapshot restored would (the generation and every token
/// kept).
pub struct Store {
    /// What the server's `--db` and `Inventory::open` take.
    pub target: PathBuf,
    postgres: Option<(String, String)>,
}

impl Store {
    pub fn new(dir: &Path) -> Store {
        let base = std::env::var("INVENTORY_TEST_PG")
            .ok()
            .filter(|u| !u.is_empty());
        let Some(base) = base else {
            return Store::sqlite(dir);
        };
        let name = format!("till_test_{}", Uuid::now_v7().simple());
        pg_admin(&base)
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (server, _) = base.rsplit_once('/').expect("a URL with a database name");
        Store {
            target: PathBuf::from(format!("{server}/{name}")),
            postgres: Some((name, base)),
        }
    }

    /// Always a SQLite file: for what only files have (the server's backup and restore).
    pub fn sqlite(dir: &Path) -> Store {
        Store {
            target: dir.join("central.db"),
            postgres: None,
        }
    }

    /// Copies the database aside (central stopped).
    pub fn snapshot(&self) {
        match &self.postgres {
            Some((name, base)) => pg_run(
                base,
                &[
                    &format!("DROP DATABASE IF EXISTS {name}_snap"),
                    &format!("CREATE DATABASE {name}_snap TEMPLATE {name}"),
                ],
            ),
            None => {
                for suffix in ["", "-wal"] {
                    let from = format!("{}{suffix}", self.target.display());
                    let to = format!("{}.snap{suffix}", self.target.display());
                    let _ = std::fs::remove_file(&to);
                    if Path::new(&from).exists() {
                        std::fs::copy(&from, &to).unwrap();
                    }
                }
            }
        }
    }

    /// Puts the copy back in place of the database (central stopped).
    pub fn restore_snapshot(&self) {
        match &self.postgres {
            Some((name, base)) => pg_run(
                base,
                &[
                    &format!("DROP DATABASE {name} WITH (FORCE)"),
                    &format!("CREATE DATABASE {name} TEMPLATE {name}_snap"),
                ],
            ),
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.target.display()));
                }
                for suffix in ["", "-wal"] {
                    let from = format!("{}.snap{suffix}", self.target.display());
                    if Path::new(&from).exists() {
                        std::fs::copy(&from, format!("{}{suffix}", self.target.display())).unwrap();
                    }
                }
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some((name, base)) = &self.postgres {
            let mut admin = pg_admin(base);
            for db in [name.clone(), format!("{name}_snap")] {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
            }
        }
    }
}

/// Runs each statement on its own (a database is made or dropped outside a transaction). A
/// template is copied only once nobody is connected to it: the stopped server's sessions
/// may still be closing, so a copy refused for that is tried again until a deadline.
fn pg_run(base: &str, statements: &[&str]) {
    let mut admin = pg_admin(base);
    for statement in statements {
        wait_for(Duration::from_secs(20), statement, || {
            match admin.batch_execute(statement) {
                Ok(()) => Some(()),
                Err(e) if e.code() == Some(&postgres::error::SqlState::OBJECT_IN_USE) => None,
                Err(e) => panic!("{statement}: {e}"),
            }
        });
    }
}

fn pg_admin(base: &str) -> postgres::Client {
    postgres::Client::connect(base, postgres::NoTls).expect("INVENTORY_TEST_PG is reachable")
}

/// Makes central's file with a product per entry of `stock` (all at `location`) and a write key
/// limited to each location in `tills`; returns the products and the keys' secrets.
pub fn central_file(
    db: &Path,
    location: &str,
    stock: &[(&str, i64)],
    keys: &[&str],
) -> (Vec<Uuid>, HashMap<String, String>) {
    let inv = Inventory::open(db).unwrap();
    let mut ids = Vec::new();
    for (sku, quantity) in stock {
        let mut p = NewProduct::new(
            format!("Product {sku}"),
            *sku,
            Price::parse("2.50").unwrap(),
        );
        p.location = Some(location.into());
        p.initial_quantity = *quantity;
        ids.push(inv.create_product(p).unwrap().product.id);
    }
    let mut secrets = HashMap::new();
    for name in keys {
        let key = inv
            .create_key(name, Scope::Write, Some(vec![location.into()]))
            .unwrap();
        secrets.insert((*name).to_owned(), key.secret);
    }
    (ids, secrets)
}

/// A GET on central; the envelope's data.
pub fn get(url: &str, path: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let text = agent
        .get(&format!("{url}{path}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    body["data"].clone()
}

/// A POST on central; (status, envelope).
pub fn post(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("{url}{path}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// A GET on central with a key: the answer's text.
pub fn get_text_as(url: &str, path: &str, secret: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(&format!("{url}{path}"))
        .header("Authorization", &format!("Bearer {secret}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// A GET on central with a key; the envelope's data.
pub fn get_as(url: &str, path: &str, secret: &str) -> Value {
    let body: Value = serde_json::from_str(&get_text_as(url, path, secret)).unwrap();
    body["data"].clone()
}

/// A POST on central with a key; (status, envelope).
pub fn post_as(url: &str, path: &str, body: &Value, secret: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("{url}{path}"))
        .header("Content-Type", "application/json")
        .header("Authorization", &format!("Bearer {secret}"))
        .send(body.to_string())
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// Whether central requires keys: an unauthenticated read is refused.
pub fn auth_required(url: &str) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(&format!("{url}/api/locations"))
        .call()
        .unwrap()
        .status()
        .as_u16()
        == 401
}

/// Every COMMIT in central's ledger, by reference (central stopped, or a snapshot).
pub fn commits(inv: &Inventory, products: &[Uuid]) -> HashMap<String, Vec<inventory::Movement>> {
    let mut by_ref: HashMap<String, Vec<inventory::Movement>> = HashMap::new();
    for &id in products {
        let mut before = None;
        loop {
            let page = inv
                .list_movements(
                    id,
                    &MovementQuery {
                        limit: Some(100),
                        before,
                        ..MovementQuery::default()
                    },
                )
                .unwrap();
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            for m in page {
                if m.kind == MovementKind::Commit {
                    by_ref
                        .entry(m.reference.clone().unwrap_or_default())
                        .or_default()
                        .push(m);
                }
            }
        }
    }
    by_ref
}

/// The actor central records on a till's movement: the key's name when central requires
/// keys, none when it serves loopback without them.
pub fn assert_actor(m: &inventory::Movement, key_name: &str, auth: bool) {
    let expected = auth.then(|| key_name.to_owned());
    assert_eq!(m.actor, expected, "actor of {:?}", m.reference);
}

/// What the proxy does with the exchanges passing through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards requests and answers.
    Pass,
    /// Closes every new connection at once: central looks down.
    Refuse,
    /// Forwards requests, waits for central's answer, then closes the till's connection
    /// without it: central acted, the till never hears.
    Swallow,
    /// Forwards requests, waits for central's answer, then keeps the till's connection open
    /// without answering until the mode changes: the till waits mid-sync (to be killed there).
    Hold,
}

/// A TCP proxy between a till and central that understands just enough HTTP/1.1 (heads and
/// Content-Length bodies) to count exchanges and act on each.
pub struct Proxy {
    pub port: u16,
    mode: Arc<Mutex<Mode>>,
    /// Answers still to forward before the mode switches to `then` (`usize::MAX`: never).
    pass_budget: Arc<AtomicUsize>,
    then: Arc<Mutex<Mode>>,
    pub exchanges: Arc<AtomicUsize>,
    /// Answers held back (`Mode::Hold`) so far.
    pub held: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn start(upstream_port: Arc<AtomicUsize>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(Mode::Pass));
        let pass_budget = Arc::new(AtomicUsize::new(usize::MAX));
        let exchanges = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let link = Link {
            mode: mode.clone(),
            budget: pass_budget.clone(),
            then: Arc::new(Mutex::new(Mode::Swallow)),
            exchanges: exchanges.clone(),
            held: Arc::new(AtomicUsize::new(0)),
            upstream: upstream_port,
        };
        let (then, held) = (link.then.clone(), link.held.clone());
        let s = stop.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let link = link.clone();
                std::thread::spawn(move || relay(client, &link));
            }
        });
        Proxy {
            port,
            mode,
            pass_budget,
            then,
            exchanges,
            held,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
        self.pass_budget.store(usize::MAX, Ordering::SeqCst);
    }

    /// Forwards `n` more answers, then swallows every later one.
    pub fn swallow_after(&self, n: usize) {
        *self.then.lock().unwrap() = Mode::Swallow;
        *self.mode.lock().unwrap() = Mode::Pass;
        self.pass_budget.store(n, Ordering::SeqCst);
    }

    /// Forwards `n` more answers, then holds every later one back until `set`.
    pub fn hold_after(&self, n: usize) {
        *self.then.lock().unwrap() = Mode::Hold;
        *self.mode.lock().unwrap() = Mode::Pass;
        self.pass_budget.store(n, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One HTTP message (head and Content-Length body) read off a stream; None at EOF.
fn read_message(stream: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = Vec::new();
        if stream.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
        if let Some(v) = text.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        message.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    message.extend_from_slice(&body);
    Some(message)
}

/// What each relayed connection shares with the proxy.
#[derive(Clone)]
struct Link {
    mode: Arc<Mutex<Mode>>,
    budget: Arc<AtomicUsize>,
    then: Arc<Mutex<Mode>>,
    exchanges: Arc<AtomicUsize>,
    held: Arc<AtomicUsize>,
    upstream: Arc<AtomicUsize>,
}

fn relay(client: TcpStream, link: &Link) {
    let mode = || *link.mode.lock().unwrap();
    if mode() == Mode::Refuse {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let port = link.upstream.load(Ordering::SeqCst) as u16;
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", port)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let mut from_client = BufReader::new(client.try_clone().unwrap());
    let mut from_upstream = BufReader::new(upstream.try_clone().unwrap());
    let (mut to_client, mut to_upstream) = (client, upstream);
    while let Some(request) = read_message(&mut from_client) {
        if mode() == Mode::Refuse {
            break;
        }
        if to_upstream.write_all(&request).is_err() {
            break;
        }
        let Some(answer) = read_message(&mut from_upstream) else {
            break;
        };
        link.exchanges.fetch_add(1, Ordering::SeqCst);
        let forward = mode() == Mode::Pass
            && link
                .budget
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| {
                    (b > 0).then(|| if b == usize::MAX { b } else { b - 1 })
                })
                .is_ok();
        if !forward {
            if mode() == Mode::Pass {
                let then = *link.then.lock().unwrap();
                *link.mode.lock().unwrap() = then;
            }
            if mode() == Mode::Hold {
                link.held.fetch_add(1, Ordering::SeqCst);
                wait_until(
                    Duration::from_secs(600),
                    "the test releases the held answer",
                    || mode() != Mode::Hold,
                );
            }
            break;
        }
        if to_client.write_all(&answer).is_err() {
            break;
        }
    }
    let _ = to_client.shutdown(Shutdown::Both);
    let _ = to_upstream.shutdown(Shutdown::Both);
}

/// Every sale in a till's own ledger: (reference, quantity), in order.
pub fn sales_in_ledger(local: &Inventory, till_id: &str) -> Vec<(String, i64)> {
    let prefix = format!("sale:{till_id}:");
    let mut sales = Vec::new();
    let mut after = 0;
    loop {
        let page = local.changes(after, Some(1000)).unwrap();
        if page.movements.is_empty() {
            return sales;
        }
        after = page.next_after;
        for m in page.movements {
            if m.kind == MovementKind::Out {
                let reference = m.reference.unwrap_or_default();
                assert!(reference.starts_with(&prefix), "{reference}");
                sales.push((reference, m.quantity));
            }
        }
    }
}
