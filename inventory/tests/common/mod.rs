//! Shared fixtures: every test gets a store of its own. By default that is a real SQLite file in
//! its own temporary directory; when `INVENTORY_TEST_PG` holds a PostgreSQL URL (the test script
//! starts a private server and sets it), it is a fresh database on that server, dropped at the
//! end, so that the same tests prove the same behaviour on both stores.
#![allow(dead_code)] // each test binary uses a different subset

use inventory::{Inventory, ManualClock, NewProduct, Options, Price, Uuid};
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;

/// The PostgreSQL server the tests run against, if any.
pub fn postgres_base() -> Option<String> {
    std::env::var("INVENTORY_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A store of one test's own: a SQLite file, or a PostgreSQL database made for it.
pub struct Target {
    /// What `Inventory::open` takes: the file's path or the database's URL.
    pub target: PathBuf,
    pub dir: TempDir,
    /// The PostgreSQL database's name, and the URL of the server's maintenance database.
    postgres: Option<(String, String)>,
}

impl Target {
    /// A SQLite file, whatever the tests run against: for tests of file behaviour.
    pub fn sqlite() -> Target {
        let dir = tempfile::tempdir().unwrap();
        Target {
            target: dir.path().join("inventory.db"),
            dir,
            postgres: None,
        }
    }

    pub fn new() -> Target {
        let Some(base) = postgres_base() else {
            return Target::sqlite();
        };
        let dir = tempfile::tempdir().unwrap();
        let name = format!("inv_test_{}", Uuid::now_v7().simple());
        admin(&base)
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (server, _) = base.rsplit_once('/').expect("a URL with a database name");
        Target {
            target: PathBuf::from(format!("{server}/{name}")),
            dir,
            postgres: Some((name, base)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn open(&self, options: Options) -> Inventory {
        Inventory::open_with(&self.target, options).unwrap()
    }

    /// Runs SQL on the store behind the engine's back (to damage it, or to hold its locks).
    pub fn execute_sql(&self, sql: &str) {
        if self.is_postgres() {
            self.connect().batch_execute(sql).unwrap();
        } else {
            rusqlite::Connection::open(&self.target)
                .unwrap()
                .execute_batch(sql)
                .unwrap();
        }
    }

    /// A plain connection to the PostgreSQL database.
    pub fn connect(&self) -> postgres::Client {
        postgres::Client::connect(self.target.to_str().unwrap(), postgres::NoTls).unwrap()
    }
}

impl Default for Target {
    fn default() -> Self {
        Target::new()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some((name, base)) = &self.postgres {
            // FORCE ends the connections engines dropped by now may still hold (a listener).
            let _ =
                admin(base).batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn admin(base: &str) -> postgres::Client {
    postgres::Client::connect(base, postgres::NoTls).expect("INVENTORY_TEST_PG is reachable")
}

pub struct Fixture {
    pub inv: Inventory,
    pub clock: Arc<ManualClock>,
    pub store: Target,
}

impl Fixture {
    /// The SQLite file (for the tests of file behaviour, which only SQLite has).
    pub fn path(&self) -> PathBuf {
        assert!(!self.store.is_postgres(), "a SQLite-only test");
        self.store.target.clone()
    }
}

/// An inventory on a fresh store, with a manual clock so expiry is deterministic.
pub fn fixture() -> Fixture {
    fixture_on(Target::new())
}

/// As [`fixture`], always on a SQLite file: for tests of what only files have.
pub fn sqlite_fixture() -> Fixture {
    fixture_on(Target::sqlite())
}

fn fixture_on(store: Target) -> Fixture {
    let clock = Arc::new(ManualClock::fixed());
    let options = Options {
        clock: clock.clone(),
        ..Options::default()
    };
    let inv = store.open(options);
    Fixture { inv, clock, store }
}

pub fn new_product(sku: &str, initial: i64) -> NewProduct {
    let mut p = NewProduct::new(format!("Product {sku}"), sku, Price::parse("9.99").unwrap());
    p.location = Some("Warehouse A".into());
    p.initial_quantity = initial;
    p
}

pub fn product(inv: &Inventory, sku: &str, initial: i64) -> Uuid {
    inv.create_product(new_product(sku, initial))
        .unwrap()
        .product
        .id
}

pub fn assert_verified(inv: &Inventory) {
    let report = inv.verify().unwrap();
    assert!(report.ok, "verify failed: {:?}", report.problems);
}
