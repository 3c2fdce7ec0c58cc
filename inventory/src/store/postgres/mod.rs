//! The PostgreSQL store: one database shared by any number of processes (servers, scripts,
//! tills), each with one writer connection running the same leader-based group commit as SQLite
//! (`store/group.rs`) and a pool of read connections.
//!
//! **Writes.** A group's transaction (READ COMMITTED) starts by locking, in one fixed global
//! order, everything its commands can conflict on: first the rows of every product they touch
//! (`Command::products()`, plus for a sweep the products with a reservation past its expiry),
//! `SELECT ... ORDER BY id FOR NO KEY UPDATE`, so in id order; then every idempotency key of the
//! group, as `pg_advisory_xact_lock` on a 64-bit hash of the key, in hash order. Every writer of
//! a product's levels, reservations or totals holds that product's row lock, so the check and the
//! change of a command are never separated by another process's write (no oversell, expired
//! reservations released once, compare-and-set exact), and the same key sent to two processes at
//! once is applied by whichever locks it first while the other waits and then finds the stored
//! outcome. Because every group takes its locks in the same order, two groups never wait on each
//! other in a cycle; a deadlock or serialization failure (which a lock taken later than the start
//! could still cause: a unique index wait) rolls the group back and runs it again, a bounded
//! number of times. Each command that writes runs in its own SAVEPOINT, taken just before its
//! first statement that writes (a failing one rolls back alone); a command alone in its group
//! needs none. The rows of locked products are read once per group, and changes to their levels
//! and reservations are written at the end of the group (`rows.rs`). A lock held past
//! `Options::busy_timeout` (`lock_timeout`) is BUSY, as SQLite's busy timeout is.
//!
//! **The change feed.** A sequence is not commit-ordered, so `seq` is not taken from one: a
//! group's movements wait in the transaction (`Pg::movements`; a rolled-back savepoint drops its
//! command's) and are numbered at its very end from a one-row counter, `UPDATE feed_counter SET
//! last = last + n`, in the statement that inserts them. That row's lock is held from there to
//! COMMIT, so numbers are handed out in commit order and without gaps, and a transaction becomes
//! visible before the next one can take the counter: a reader that reads `seq > after` never
//! misses a movement that commits later below its cursor. The cost is that committing groups
//! queue on that row, one commit's flush at a time; group commit makes each of them carry many
//! commands. The same statement sends `pg_notify('inventory_feed', last)`, which other processes'
//! listeners (started on the first `wait_for_change`) turn into wake-ups; the counter, polled
//! when no notification comes for a second, is the fallback.
//!
//! **Reads** run in one REPEATABLE READ, READ ONLY transaction each, so every statement of a read
//! sees one snapshot; pooled connections never wait for the writer.

mod read;
mod rows;
mod schema;
mod verify;
mod webhooks;
mod write;

use super::Options;
use super::group::{self, Feed, GroupTx, Queue, Queued, lock, settle};
use super::sql::due;
use super::tx::ReadTx;
use crate::clock::Clock;
use crate::command::{Command, Outcome};
use crate::error::{Error, ErrorCode, Result};
use crate::observe::Observer;
use crate::store::Durability;
use crate::write::{Applied, Call};
use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, NoTls, Row, Statement};
use r2d2_postgres::PostgresConnectionManager;
use rows::{Deferred, Known, Undo};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The channel commits are announced on (channels are per database).
const CHANNEL: &str = "inventory_feed";
/// How often a listener reads the counter when no notification arrives.
const POLL: Duration = Duration::from_secs(1);
/// How many times a group is run when it keeps hitting deadlocks or serialization failures.
const ATTEMPTS: u32 = 5;

/// Prepared statements of one connection, by their SQL.
#[derive(Default)]
pub(crate) struct Cache(HashMap<String, Statement>);

/// A movement waiting for its sequence number, which it gets at the end of its transaction.
pub(crate) struct PendingMovement {
    id: Uuid,
    product_id: Uuid,
    location_id: i64,
    kind: &'static str,
    quantity: i64,
    on_hand_delta: i64,
    reserved_delta: i64,
    on_hand_after: i64,
    reserved_after: i64,
    reference: Option<String>,
    notes: Option<String>,
    transfer_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    product_ordinal: i64,
    actor: Option<String>,
    external_id: Option<String>,
}

/// Whether the command running in a shared transaction has its savepoint yet. A savepoint is
/// taken just before a command's first write, so a command that only reads (or fails before
/// writing, as a refused reserve does) costs no round trip for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Savepoint {
    /// The command is alone in its transaction: a failure rolls the transaction back.
    NotNeeded,
    /// None yet for this command.
    Wanted,
    /// Taken: the command's writes can be rolled back alone.
    Open,
}

/// Statements on one connection, inside whatever transaction it is in, and what a writing
/// transaction keeps until it commits.
pub(crate) struct Pg<'c> {
    client: &'c mut Client,
    cache: &'c mut Cache,
    /// This transaction's movements, numbered at commit.
    movements: Vec<PendingMovement>,
    /// Products this transaction created, updated or archived, given revisions at commit.
    revised: Vec<Uuid>,
    /// Products whose rows this transaction has locked.
    locked: HashSet<Uuid>,
    /// Those of them locked inside the current command's savepoint, which releases them if it
    /// rolls back.
    locked_late: Vec<Uuid>,
    known: Known,
    /// Changes to the rows of locked products, written at the end of the group.
    deferred: Deferred,
    /// How to take back what the running command kept in `known` and `deferred`.
    undo: Vec<Undo>,
    /// How many movements and revised products there were when the running command began.
    marks: (usize, usize),
    savepoint: Savepoint,
    /// A savepoint of an earlier command is still open: the next one releases it first.
    unreleased: bool,
    /// A statement failed in a way that running the whole transaction again fixes (a deadlock).
    retry: bool,
    /// A statement failed outside any savepoint: the transaction can only roll back.
    aborted: bool,
    /// The server ended the connection (a restart, a failover, an administrator).
    lost: bool,
}

type Params<'a> = [&'a (dyn ToSql + Sync)];

impl<'c> Pg<'c> {
    fn new(client: &'c mut Client, cache: &'c mut Cache) -> Self {
        Pg {
            client,
            cache,
            movements: Vec::new(),
            revised: Vec::new(),
            locked: HashSet::new(),
            locked_late: Vec::new(),
            known: Known::default(),
            deferred: Deferred::default(),
            undo: Vec::new(),
            marks: (0, 0),
            savepoint: Savepoint::NotNeeded,
            unreleased: false,
            retry: false,
            aborted: false,
            lost: false,
        }
    }

    /// Called before every statement that changes a row: takes the command's savepoint if it
    /// wants one and has none yet.
    fn writing(&mut self) -> Result<()> {
        if self.savepoint == Savepoint::Wanted {
            let sql = if self.unreleased {
                "RELEASE command; SAVEPOINT command"
            } else {
                "SAVEPOINT command"
            };
            self.batch(sql)?;
            self.savepoint = Savepoint::Open;
            self.unreleased = false;
        }
        Ok(())
    }

    fn fail(&mut self, e: postgres::Error) -> Error {
        if self.savepoint != Savepoint::Open {
            self.aborted = true;
        }
        if e.is_closed()
            || matches!(
                e.code(),
                Some(
                    &SqlState::ADMIN_SHUTDOWN
                        | &SqlState::CRASH_SHUTDOWN
                        | &SqlState::CANNOT_CONNECT_NOW
                )
            )
        {
            self.lost = true;
        }
        if matches!(
            e.code(),
            Some(&SqlState::T_R_DEADLOCK_DETECTED | &SqlState::T_R_SERIALIZATION_FAILURE)
        ) {
            self.retry = true;
        }
        describe_error(e)
    }

    fn stmt(&mut self, sql: &str) -> Result<Statement> {
        if let Some(stmt) = self.cache.0.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql).map_err(|e| self.fail(e))?;
        self.cache.0.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn query(&mut self, sql: &str, params: &Params) -> Result<Vec<Row>> {
        let stmt = self.stmt(sql)?;
        self.client.query(&stmt, params).map_err(|e| self.fail(e))
    }

    fn query_opt(&mut self, sql: &str, params: &Params) -> Result<Option<Row>> {
        let stmt = self.stmt(sql)?;
        self.client
            .query_opt(&stmt, params)
            .map_err(|e| self.fail(e))
    }

    fn query_one(&mut self, sql: &str, params: &Params) -> Result<Row> {
        let stmt = self.stmt(sql)?;
        self.client
            .query_one(&stmt, params)
            .map_err(|e| self.fail(e))
    }

    fn execute(&mut self, sql: &str, params: &Params) -> Result<u64> {
        let stmt = self.stmt(sql)?;
        self.client.execute(&stmt, params).map_err(|e| self.fail(e))
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(|e| self.fail(e))
    }

    /// A column of a row.
    fn get<'r, T: FromSql<'r>>(&self, row: &'r Row, i: usize) -> Result<T> {
        row.try_get(i)
            .map_err(|e| Error::storage(format!("stored record is unreadable: {e}")))
    }

    /// Locks, in the global order (products by id, then idempotency keys by hash), everything
    /// the group's commands can conflict on. `now` is the group's start: a command's own "now"
    /// is no earlier, and a reservation it finds due that was not due then belongs to a product
    /// this transaction did not lock, which `due` leaves to the next sweep.
    fn lock_group(&mut self, group: &[Arc<Queued>], now: DateTime<Utc>) -> Result<()> {
        let mut products: Vec<Uuid> = group.iter().flat_map(|q| q.command.products()).collect();
        products.sort_unstable();
        products.dedup();
        let sweep = group.iter().any(|q| matches!(q.command, Command::Sweep));
        if !products.is_empty() || sweep {
            let rows = self.query(
                concat!(
                    "SELECT id FROM products
                     WHERE id = ANY($1)
                        OR ($2 AND id IN (SELECT r.product_id FROM reservations r WHERE ",
                    due!("r", "$3"),
                    "))
                     ORDER BY id FOR NO KEY UPDATE"
                ),
                &[&products, &sweep, &now],
            )?;
            for row in &rows {
                let id: Uuid = self.get(row, 0)?;
                self.locked.insert(id);
            }
        }
        let mut keys: Vec<i64> = group
            .iter()
            .filter_map(|q| q.call.idempotency_key.as_deref())
            .map(key_lock)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        if !keys.is_empty() {
            // unnest hands the keys out in array order, so they are locked in that order.
            self.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS k",
                &[&keys],
            )?;
        }
        Ok(())
    }

    /// Locks a product's row if this transaction has not: for a product the group's commands did
    /// not name (none does today; a lock taken out of order can only deadlock, which retries).
    fn lock_product(&mut self, id: Uuid) -> Result<()> {
        if self.locked.contains(&id) {
            return Ok(());
        }
        self.query(
            "SELECT 1 FROM products WHERE id = $1 FOR NO KEY UPDATE",
            &[&id],
        )?;
        self.locked.insert(id);
        self.locked_late.push(id);
        Ok(())
    }
}

impl GroupTx for Pg<'_> {
    fn begin_command(&mut self, command: &Command) -> Result<()> {
        self.savepoint = Savepoint::Wanted;
        if !matches!(command, Command::Stock(_) | Command::Batch(_)) {
            // Its SQL may read levels and reservations that earlier commands changed: write
            // those out first, before this command's savepoint (they are not its to undo).
            self.flush_deferred()?;
        }
        self.marks = (self.movements.len(), self.revised.len());
        Ok(())
    }

    fn end_command(&mut self, undo: bool) -> Result<()> {
        if undo {
            self.movements.truncate(self.marks.0);
            self.revised.truncate(self.marks.1);
            self.undo_command();
            if self.savepoint == Savepoint::Open {
                self.batch("ROLLBACK TO command")?;
                for id in std::mem::take(&mut self.locked_late) {
                    self.locked.remove(&id);
                    self.forget_product(id);
                }
                // A location it created is gone again.
                self.known.ids.clear();
            }
        } else {
            self.keep_command();
        }
        if self.savepoint == Savepoint::Open {
            self.unreleased = true;
        }
        self.locked_late.clear();
        Ok(())
    }

    fn go_on(&mut self, result: &Result<Applied<Outcome>>) -> Result<()> {
        // A statement that failed before its command had a savepoint (a read, or the savepoint
        // itself) lost the transaction, and every command with it; a command alone in its
        // transaction loses only itself.
        let lost = self.aborted && self.savepoint != Savepoint::NotNeeded;
        if self.retry || lost {
            return Err(result.as_ref().err().cloned().unwrap_or_else(busy));
        }
        Ok(())
    }

    /// COMMIT also commits the last savepoint: no RELEASE needed.
    fn finish(&mut self) -> Result<Option<i64>> {
        self.flush_deferred()?;
        self.publish()
    }

    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }

    fn roll_back(&mut self) -> Result<()> {
        self.batch("ROLLBACK")
    }
}

impl Pg<'_> {
    /// Gives each change to a product this transaction made its catalogue revision from the
    /// counter, in the order they were made, and then numbers the movements (`publish_movements`):
    /// both counters' rows stay locked until COMMIT, so revisions and sequence numbers are in
    /// commit order. Always in this order (catalogue, then feed), so two groups never wait on
    /// each other's counter.
    fn publish(&mut self) -> Result<Option<i64>> {
        self.publish_revisions()?;
        self.publish_movements()
    }

    /// Every change takes the next revision, as on SQLite (docs/ENGINE.md): the counter moves
    /// by one per change, and a product changed more than once keeps the revision of its last.
    fn publish_revisions(&mut self) -> Result<()> {
        let changes = std::mem::take(&mut self.revised);
        if changes.is_empty() {
            return Ok(());
        }
        let mut last: HashMap<Uuid, i64> = HashMap::new();
        for (i, id) in changes.iter().enumerate() {
            last.insert(*id, i as i64 + 1);
        }
        let (ids, places): (Vec<Uuid>, Vec<i64>) = last.into_iter().unzip();
        let n = changes.len() as i64;
        self.execute(
            "WITH counter AS (
                 UPDATE catalogue_counter SET last = last + $1 RETURNING last
             )
             UPDATE products p SET revision = counter.last - $1 + r.n
             FROM counter, unnest($2::uuid[], $3::int8[]) AS r(id, n)
             WHERE p.id = r.id",
            &[&n, &ids, &places],
        )?;
        Ok(())
    }

    /// Numbers the transaction's movements from the counter and inserts them, announcing the
    /// latest number; returns it. The counter's row stays locked until COMMIT.
    fn publish_movements(&mut self) -> Result<Option<i64>> {
        if self.movements.is_empty() {
            return Ok(None);
        }
        let ms = std::mem::take(&mut self.movements);
        let n = ms.len() as i64;
        let col = |f: fn(&PendingMovement) -> i64| ms.iter().map(f).collect::<Vec<i64>>();
        let ids: Vec<Uuid> = ms.iter().map(|m| m.id).collect();
        let products: Vec<Uuid> = ms.iter().map(|m| m.product_id).collect();
        let locations = col(|m| m.location_id);
        let kinds: Vec<&str> = ms.iter().map(|m| m.kind).collect();
        let quantities = col(|m| m.quantity);
        let on_hand_deltas = col(|m| m.on_hand_delta);
        let reserved_deltas = col(|m| m.reserved_delta);
        let on_hand_afters = col(|m| m.on_hand_after);
        let reserved_afters = col(|m| m.reserved_after);
        let references: Vec<Option<&str>> = ms.iter().map(|m| m.reference.as_deref()).collect();
        let notes: Vec<Option<&str>> = ms.iter().map(|m| m.notes.as_deref()).collect();
        let transfers: Vec<Option<Uuid>> = ms.iter().map(|m| m.transfer_id).collect();
        let times: Vec<DateTime<Utc>> = ms.iter().map(|m| m.created_at).collect();
        let ordinals = col(|m| m.product_ordinal);
        let actors: Vec<Option<&str>> = ms.iter().map(|m| m.actor.as_deref()).collect();
        let external_ids: Vec<Option<&str>> = ms.iter().map(|m| m.external_id.as_deref()).collect();
        let row = self.query_one(
            "WITH counter AS (
                 UPDATE feed_counter SET last = last + $1 RETURNING last
             ), appended AS (
                 INSERT INTO movements (seq, id, product_id, location_id, kind, quantity, on_hand_delta,
                                        reserved_delta, on_hand_after, reserved_after, reference, notes,
                                        transfer_id, created_at, product_ordinal, actor, external_id)
                 SELECT counter.last - $1 + m.n, m.id, m.product_id, m.location_id, m.kind, m.quantity,
                        m.on_hand_delta, m.reserved_delta, m.on_hand_after, m.reserved_after, m.reference,
                        m.notes, m.transfer_id, m.created_at, m.product_ordinal, m.actor, m.external_id
                 FROM counter, unnest($2::uuid[], $3::uuid[], $4::int8[], $5::text[], $6::int8[], $7::int8[],
                                      $8::int8[], $9::int8[], $10::int8[], $11::text[], $12::text[],
                                      $13::uuid[], $14::timestamptz[], $15::int8[], $16::text[], $17::text[])
                      WITH ORDINALITY AS m(id, product_id, location_id, kind, quantity, on_hand_delta,
                                           reserved_delta, on_hand_after, reserved_after, reference, notes,
                                           transfer_id, created_at, product_ordinal, actor, external_id, n)
             )
             SELECT counter.last, pg_notify('inventory_feed', counter.last::text)::text FROM counter",
            &[
                &n,
                &ids,
                &products,
                &locations,
                &kinds,
                &quantities,
                &on_hand_deltas,
                &reserved_deltas,
                &on_hand_afters,
                &reserved_afters,
                &references,
                &notes,
                &transfers,
                &times,
                &ordinals,
                &actors,
                &external_ids,
            ],
        )?;
        Ok(Some(self.get(&row, 0)?))
    }
}

/// The advisory lock of an idempotency key: the first 8 bytes of its SHA-256, the same in every
/// process and build. Two keys that share one merely take turns.
fn key_lock(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// An engine error for a PostgreSQL error. Unique violations that a concurrent writer causes
/// get the code the engine's own check would have given; waits past the lock timeout are BUSY.
pub(crate) fn describe_error(e: postgres::Error) -> Error {
    let Some(db) = e.as_db_error() else {
        if e.is_closed() {
            return unreachable(format!("the connection to PostgreSQL is closed: {e}"));
        }
        return Error::storage(format!("database error: {e}"));
    };
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        match db.constraint() {
            Some("products_live_sku") => {
                return Error::new(
                    ErrorCode::DuplicateSku,
                    "a product with this sku already exists",
                )
                .on_field("sku");
            }
            Some("api_keys_live_name") => {
                return Error::conflict("a key with this name already exists").on_field("name");
            }
            Some("idempotency_keys_pkey") => {
                // The advisory lock on the key makes this unreachable between engines; a writer
                // that does not take it raced this one. A retry with the same key replays.
                return Error::new(
                    ErrorCode::Busy,
                    "another request stored this idempotency key at the same moment; retry with the same key",
                );
            }
            _ => {}
        }
    }
    if matches!(
        *code,
        SqlState::LOCK_NOT_AVAILABLE
            | SqlState::QUERY_CANCELED
            | SqlState::T_R_DEADLOCK_DETECTED
            | SqlState::T_R_SERIALIZATION_FAILURE
    ) {
        return Error::new(
            ErrorCode::Busy,
            format!(
                "the database is busy (another transaction holds a lock this one needs): {}",
                db.message()
            ),
        );
    }
    Error::storage(format!(
        "database error: {} ({})",
        db.message(),
        code.code()
    ))
}

/// Where a configuration points, without its password: `user@host:port/dbname`.
fn describe(config: &postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{db}")
}

/// The pooled readers: r2d2_postgres's manager, with each connection's prepared statements.
struct Readers(PostgresConnectionManager<NoTls>);

struct Reader {
    client: Client,
    cache: Cache,
    /// The server ended this connection: the pool drops it.
    lost: bool,
}

impl r2d2::ManageConnection for Readers {
    type Connection = Reader;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<Reader, postgres::Error> {
        Ok(Reader {
            client: self.0.connect()?,
            cache: Cache::default(),
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut Reader) -> std::result::Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut Reader) -> bool {
        conn.lost || conn.client.is_closed()
    }
}

/// The writer connection, opened again if it was lost.
struct Writer {
    client: Option<Client>,
    cache: Cache,
}

pub(crate) struct Db {
    config: postgres::Config,
    /// Where the database is, for messages (never with a password).
    shown: String,
    /// `SET` statements every writer connection starts with.
    session: String,
    readers: r2d2::Pool<Readers>,
    /// A read found PostgreSQL unreachable, and none has reached it since.
    unreachable: AtomicBool,
    queue: Queue,
    writer: Mutex<Writer>,
    feed: Arc<Feed>,
    listener: OnceLock<()>,
    stop: Arc<AtomicBool>,
    pub clock: Arc<dyn Clock>,
    observer: Option<Arc<dyn Observer>>,
}

impl Db {
    pub fn open(url: &str, options: Options) -> Result<Db> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            Error::storage(format!(
                "not a usable PostgreSQL URL ({}): {e}",
                super::redact_url(url)
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("inventory");
        let shown = describe(&config);
        let sync = match options.durability {
            Durability::Full => "on",
            Durability::Normal => "off",
        };
        let session = format!(
            "SET lock_timeout = {}; SET synchronous_commit = {sync}",
            options.busy_timeout.as_millis().max(1)
        );
        // Opening has no caller to retry for it: a server out of reach is a failure to open.
        let mut writer = connect(&config, &shown, &session).map_err(|e| Error {
            code: ErrorCode::StorageError,
            ..e
        })?;
        schema::migrate(&mut writer).map_err(|e| Error {
            message: format!("{shown}: {}", e.message),
            ..e
        })?;
        let last_seq: i64 = writer
            .query_one("SELECT last FROM feed_counter", &[])
            .map_err(describe_error)?
            .get(0);
        let readers = r2d2::Pool::builder()
            .max_size(options.readers.max(1))
            .min_idle(Some(1))
            // A broken connection is noticed when used (and replaced); checking each one out
            // with a query would cost every read a round trip.
            .test_on_check_out(false)
            .connection_timeout(options.busy_timeout.max(Duration::from_secs(1)))
            .build(Readers(PostgresConnectionManager::new(
                config.clone(),
                NoTls,
            )))
            .map_err(|e| Error::storage(format!("cannot connect to PostgreSQL at {shown}: {e}")))?;
        Ok(Db {
            config,
            shown,
            session,
            readers,
            unreachable: AtomicBool::new(false),
            queue: Queue::new(options.observer.clone()),
            observer: options.observer,
            writer: Mutex::new(Writer {
                client: Some(writer),
                cache: Cache::default(),
            }),
            feed: Arc::new(Feed::new(last_seq)),
            listener: OnceLock::new(),
            stop: Arc::new(AtomicBool::new(false)),
            clock: options.clock,
        })
    }

    /// Runs `f` in one REPEATABLE READ, READ ONLY transaction: every statement in it sees the
    /// same snapshot.
    pub fn read<T>(&self, f: impl Fn(&mut dyn ReadTx) -> Result<T>) -> Result<T> {
        // A pooled connection the server has closed (a restart, a failover) fails at its first
        // use and leaves the pool; a read is safe to run again on another, as many times as the
        // pool may hold lost ones.
        let mut tries = self.readers.max_size() + 1;
        loop {
            let got = if self.unreachable.load(Ordering::Relaxed) {
                self.readers.get_timeout(UNREACHABLE_WAIT)
            } else {
                self.readers.get()
            };
            let mut conn = got.map_err(|e| {
                self.unreachable.store(true, Ordering::Relaxed);
                unreachable(format!("cannot reach PostgreSQL at {}: {e}", self.shown))
            })?;
            let result = read_in(&mut conn, &f);
            // A lost connection is what a server going away looks like first.
            self.unreachable.store(conn.lost, Ordering::Relaxed);
            tries -= 1;
            if result.is_err() && conn.lost && tries > 0 {
                continue;
            }
            return result;
        }
    }

    pub fn submit(&self, command: Command, call: Call) -> Result<Applied<Outcome>> {
        self.queue.submit(command, call, |group| {
            let mut writer = lock(&self.writer);
            self.commit_group(&mut writer, group);
        })
    }

    fn commit_group(&self, writer: &mut Writer, group: &[Arc<Queued>]) {
        let mut attempt = 1;
        let outcome = loop {
            if writer.client.as_ref().is_none_or(Client::is_closed) {
                // The connection was lost (the server restarted, or failed over): open a new one.
                // The group that saw it fail was told STORAGE_ERROR; its commit may or may not
                // have happened, which a retry with the same idempotency key settles.
                writer.cache = Cache::default();
                writer.client = None;
                match connect(&self.config, &self.shown, &self.session) {
                    Ok(client) => writer.client = Some(client),
                    Err(e) => break Err(e),
                }
            }
            let Writer { client, cache } = writer;
            let client = client.as_mut().expect("connected above");
            match self.apply_group(client, cache, group) {
                Ok(done) => break Ok(done),
                Err(Failure { error, retry, lost }) => {
                    if lost {
                        writer.client = None; // opened again at the top of the loop
                    } else {
                        // Ends the transaction, whatever state it was left in.
                        let _ = client.batch_execute("ROLLBACK");
                    }
                    if retry && attempt < ATTEMPTS {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(u64::from(attempt) * 2));
                        continue;
                    }
                    break Err(error);
                }
            }
        };
        settle(group, &self.feed, outcome);
    }

    /// Applies a group in one transaction. Returns each command's result and, when movements
    /// were committed, the latest sequence number; or the error that failed the whole group and
    /// whether running it again may succeed.
    #[allow(clippy::type_complexity)]
    fn apply_group(
        &self,
        client: &mut Client,
        cache: &mut Cache,
        group: &[Arc<Queued>],
    ) -> std::result::Result<(Vec<Result<Applied<Outcome>>>, Option<i64>), Failure> {
        let mut pg = Pg::new(client, cache);
        let whole = |pg: &Pg, e: Error| Failure {
            error: e,
            retry: pg.retry,
            lost: pg.lost,
        };
        // A connection found closed here has applied nothing of this group: open another and
        // run the group on it.
        pg.batch("BEGIN ISOLATION LEVEL READ COMMITTED")
            .map_err(|e| Failure {
                error: e,
                retry: pg.retry || pg.lost,
                lost: pg.lost,
            })?;
        let start = super::command_time(self.clock.as_ref());
        pg.lock_group(group, start).map_err(|e| whole(&pg, e))?;
        group::apply(
            &mut pg,
            group,
            self.clock.as_ref(),
            self.observer.as_deref(),
        )
        .map_err(|e| whole(&pg, e))
    }

    /// A socket for each pooled reader, the writer and the change-feed listener.
    pub fn max_descriptors(&self) -> u64 {
        u64::from(self.readers.max_size()) + 2
    }

    /// Fails unless the writer's connection works and the database accepts writes (a standby
    /// in recovery does not).
    pub fn ready(&self) -> Result<()> {
        let mut writer = lock(&self.writer);
        if writer.client.as_ref().is_none_or(Client::is_closed) {
            writer.cache = Cache::default();
            writer.client = Some(connect(&self.config, &self.shown, &self.session)?);
        }
        let client = writer.client.as_mut().expect("connected above");
        let recovering: bool = client
            .query_one("SELECT pg_is_in_recovery()", &[])
            .map_err(describe_error)?
            .get(0);
        if recovering {
            return Err(Error::storage(format!(
                "{} is a standby in recovery: it takes no writes",
                self.shown
            )));
        }
        Ok(())
    }

    /// Blocks until a movement after `after` has committed (in any process) or `timeout`
    /// passes; returns the latest committed sequence number known here.
    pub fn wait_for_change(&self, after: i64, timeout: Duration) -> i64 {
        self.listener.get_or_init(|| {
            let (config, feed, stop) = (
                self.config.clone(),
                Arc::clone(&self.feed),
                Arc::clone(&self.stop),
            );
            let spawned = std::thread::Builder::new()
                .name("inventory-feed".into())
                .spawn(move || listen(&config, &feed, &stop));
            // Without a listener, waiters still see this process's own commits and time out.
            drop(spawned);
        });
        self.feed.wait(after, timeout)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One read transaction on a pooled connection.
fn read_in<T>(conn: &mut Reader, f: &impl Fn(&mut dyn ReadTx) -> Result<T>) -> Result<T> {
    let Reader {
        client,
        cache,
        lost,
    } = conn;
    let mut pg = Pg::new(client, cache);
    let result = pg
        .batch("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .and_then(|()| f(&mut pg));
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = pg.batch(end);
    *lost = pg.lost;
    let value = result?;
    ended?;
    Ok(value)
}

/// Why a group failed as a whole.
struct Failure {
    error: Error,
    /// Running the group again may succeed (a deadlock; a connection lost before it began).
    retry: bool,
    /// The writer's connection is gone.
    lost: bool,
}

fn busy() -> Error {
    Error::new(ErrorCode::Busy, "the database is busy; retry")
}

/// A new connection with the writer's session settings.
/// PostgreSQL cannot be reached (restarting, failing over, down): BUSY, which every surface
/// maps to "retry soon" (HTTP 503 with `Retry-After`), since the server coming back or a
/// standby promoted cures it with no operator. A write that met it may or may not have
/// committed: a retry under the same idempotency key settles which.
fn unreachable(message: String) -> Error {
    Error::new(ErrorCode::Busy, message)
}

/// How long a read waits for a pooled connection once PostgreSQL was found unreachable, rather
/// than the pool's full timeout: reads and health checks answer within a second while it is
/// down.
const UNREACHABLE_WAIT: Duration = Duration::from_millis(500);

fn connect(config: &postgres::Config, shown: &str, session: &str) -> Result<Client> {
    let mut client = config
        .connect(NoTls)
        .map_err(|e| unreachable(format!("cannot connect to PostgreSQL at {shown}: {e}")))?;
    client.batch_execute(session).map_err(describe_error)?;
    Ok(client)
}

/// The listener: LISTENs on the channel and advances `feed` with every announced number, and
/// reads the counter when nothing arrives for `POLL` (or after reconnecting), until `stop`.
/// Every failure (no connection, LISTEN or the read refused, the connection lost) is followed by
/// a pause that doubles up to `Pause::LONGEST`, so a database that is down or refusing costs a
/// few wake-ups, never a spinning core.
fn listen(config: &postgres::Config, feed: &Feed, stop: &AtomicBool) {
    let mut pause = Pause::default();
    while !stop.load(Ordering::SeqCst) {
        if let Ok(mut client) = config.connect(NoTls) {
            if client.batch_execute(&format!("LISTEN {CHANNEL}")).is_ok() {
                follow(&mut client, feed, stop, &mut pause);
            }
        }
        pause.wait(stop);
    }
}

/// Follows the channel on a listening connection until it fails or `stop`.
fn follow(client: &mut Client, feed: &Feed, stop: &AtomicBool, pause: &mut Pause) {
    while !stop.load(Ordering::SeqCst) {
        match client.query_one("SELECT last FROM feed_counter", &[]) {
            Ok(row) => {
                feed.advance(row.get(0));
                pause.reset();
            }
            Err(_) => return,
        }
        {
            let mut notifications = client.notifications();
            let mut waiting = notifications.timeout_iter(POLL);
            // Until an error, or quiet for POLL (then the counter is read again).
            while let Ok(Some(n)) = waiting.next() {
                if let Ok(seq) = n.payload().parse() {
                    feed.advance(seq);
                }
                if stop.load(Ordering::SeqCst) {
                    return;
                }
            }
        }
        if client.is_closed() {
            return;
        }
    }
}

/// The listener's pause between attempts: doubling from `FIRST` to `LONGEST`, back to `FIRST`
/// once the counter has been read, and cut short by `stop`.
struct Pause {
    next: Duration,
}

impl Default for Pause {
    fn default() -> Self {
        Pause { next: Pause::FIRST }
    }
}

impl Pause {
    const FIRST: Duration = Duration::from_millis(50);
    const LONGEST: Duration = Duration::from_secs(5);
    /// How often a pause looks at `stop`, so shutdown never waits out a long pause.
    const SLICE: Duration = Duration::from_millis(50);

    fn reset(&mut self) {
        self.next = Pause::FIRST;
    }

    fn wait(&mut self, stop: &AtomicBool) {
        let until = Instant::now() + self.next;
        while !stop.load(Ordering::SeqCst) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Pause::SLICE));
        }
        self.next = (self.next * 2).min(Pause::LONGEST);
    }
}
