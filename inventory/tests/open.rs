//! Opening SQLite files: creation in WAL mode, and files that are not (or not yet) an inventory
//! database. These are SQLite's own and run on SQLite whatever INVENTORY_TEST_PG says; the
//! PostgreSQL counterparts are in tests/postgres.rs.
mod common;

use inventory::{ErrorCode, Inventory};
use std::fs;
use std::path::Path;

/// Opening `path` fails with a STORAGE_ERROR whose message contains `why`, and leaves the
/// file byte for byte as it was.
fn assert_refused_unchanged(path: &Path, why: &str) {
    let before = fs::read(path).unwrap();
    let e = Inventory::open(path).unwrap_err();
    assert_eq!(e.code, ErrorCode::StorageError);
    assert!(e.message.contains(why), "{}", e.message);
    assert_eq!(fs::read(path).unwrap(), before);
}

#[test]
fn a_missing_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let inv = Inventory::open(&path).unwrap();
    assert!(path.exists());
    inv.health().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, inventory::schema_version());
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let content =
        b"this is not a database, just some text that is long enough to look like a header"
            .repeat(20);
    fs::write(&path, &content).unwrap();
    assert_refused_unchanged(&path, "not an inventory database");
    assert!(!dir.path().join("notes.txt-wal").exists());
}

#[test]
fn another_applications_database_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');")
            .unwrap();
    }
    assert_refused_unchanged(&path, "not an inventory database");
}

#[test]
fn a_newer_schema_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(Inventory::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert_refused_unchanged(&path, "newer than this build supports");
}

#[test]
fn a_directory_path_gives_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        Inventory::open(dir.path()).unwrap_err().code,
        ErrorCode::StorageError
    );
}
