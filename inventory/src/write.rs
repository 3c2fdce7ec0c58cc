//! Typed writes: a [`Command`] together with the type of its result, so that every surface can
//! apply a write with an idempotency key and an actor and get back the typed value and whether it
//! was replayed, without matching [`Outcome`]s by hand.

use crate::command::{
    Command, CountImport, NewProduct, OpKind, Outcome, ProductChanges, ProductImport, StockOp,
};
use crate::error::{Error, Result};
use crate::model::{
    ApiKey, CheckIn, ConflictReport, ImportSummary, Location, Product, ProductWithStock, SeenPoint,
    StockLevel, TakeOver,
};
use uuid::Uuid;

/// Per-call options of a write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    /// Applies the write once per key: a repeat returns the first outcome (see
    /// [`Inventory::execute_with_key`](crate::Inventory::execute_with_key)).
    pub idempotency_key: Option<String>,
    /// Recorded as the actor of every movement the write makes; `None`: the handle's actor.
    pub actor: Option<String>,
    /// The only locations the write may move stock at (those of the API key it is made with);
    /// an operation elsewhere is FORBIDDEN and a batch is refused whole. `None`: anywhere.
    pub locations: Option<Vec<String>>,
    /// The name of the API key the write is made with: it owns the reservations the write
    /// opens, and a call limited to locations may change no reservation another key owns.
    pub key: Option<String>,
    /// Made with an admin key: it may change any reservation, and take over a till.
    pub admin: bool,
    /// Check everything and change nothing: the command runs, with every rule and constraint,
    /// and is then rolled back. Its result is what it would have been.
    pub dry_run: bool,
}

impl Call {
    /// A call under an idempotency key.
    pub fn keyed(key: impl Into<String>) -> Call {
        Call::default().idempotency_key(Some(&key.into()))
    }

    /// A call made with an API key: the key's name is the actor, and its locations bound it.
    pub fn by(key: &ApiKey) -> Call {
        Call {
            actor: Some(key.name.clone()),
            locations: key.locations.clone(),
            key: Some(key.name.clone()),
            admin: key.scope == crate::model::Scope::Admin,
            ..Call::default()
        }
    }

    /// Sets (or clears) the idempotency key.
    pub fn idempotency_key(mut self, key: Option<&str>) -> Call {
        self.idempotency_key = key.map(str::to_owned);
        self
    }

    /// Sets (or clears) the actor.
    pub fn actor(mut self, actor: Option<&str>) -> Call {
        self.actor = actor.map(str::to_owned);
        self
    }
}

/// A write's result, and whether it was replayed from an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied<T> {
    /// The result (the stored one, when replayed).
    pub value: T,
    /// True when an idempotency key matched an earlier identical request and nothing was applied.
    pub replayed: bool,
}

impl<T> Applied<T> {
    /// The same flag around another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Applied<U> {
        Applied {
            value: f(self.value),
            replayed: self.replayed,
        }
    }
}

/// A command whose outcome is known to be a `T`. Build one with the constructors below and
/// apply it with [`Inventory::write`](crate::Inventory::write).
#[derive(Debug, Clone)]
pub struct Write<T> {
    pub(crate) command: Command,
    /// A reason to refuse the write before it runs (a stock operation of the wrong kind).
    pub(crate) refused: Option<Error>,
    pick: fn(Outcome) -> Result<T, Outcome>,
}

impl<T> Write<T> {
    fn new(command: Command, pick: fn(Outcome) -> Result<T, Outcome>) -> Self {
        Write {
            command,
            refused: None,
            pick,
        }
    }

    /// The command this write applies.
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// The command to apply, and what types its outcome; or the reason to refuse it unapplied.
    /// The command is moved, not copied: an import's rows are held once.
    pub(crate) fn into_parts(self) -> Result<(Command, Typed<T>)> {
        match self.refused {
            Some(refused) => Err(refused),
            None => Ok((self.command, Typed(self.pick))),
        }
    }
}

/// Turns a write's outcome into its typed value.
pub(crate) struct Typed<T>(fn(Outcome) -> Result<T, Outcome>);

impl<T> Typed<T> {
    pub(crate) fn value(&self, outcome: Outcome) -> Result<T> {
        (self.0)(outcome).map_err(|other| {
            Error::storage(format!("internal error: unexpected outcome {other:?}"))
        })
    }
}

impl Write<Outcome> {
    /// Any command, with its untyped outcome.
    pub fn any(command: Command) -> Self {
        Write::new(command, Ok)
    }
}

impl Write<ProductWithStock> {
    /// Creates a product; its initial quantity becomes an IN movement.
    pub fn create_product(new: NewProduct) -> Self {
        Write::new(Command::CreateProduct(new), |o| match o {
            Outcome::ProductCreated(p) => Ok(*p),
            other => Err(other),
        })
    }
}

impl Write<Product> {
    /// Changes the given fields; `expected_version` makes it a compare-and-set.
    pub fn update_product(
        id: Uuid,
        changes: ProductChanges,
        expected_version: Option<i64>,
    ) -> Self {
        let command = Command::UpdateProduct {
            id,
            changes,
            expected_version,
        };
        Write::new(command, |o| match o {
            Outcome::ProductUpdated(p) => Ok(*p),
            other => Err(other),
        })
    }
}

impl Write<Uuid> {
    /// Archives a product (its ledger stays); returns its id.
    pub fn delete_product(id: Uuid, expected_version: Option<i64>) -> Self {
        let command = Command::DeleteProduct {
            id,
            expected_version,
        };
        Write::new(command, |o| match o {
            Outcome::ProductDeleted(id) => Ok(id),
            other => Err(other),
        })
    }
}

impl Write<Location> {
    /// Creates a location explicitly.
    pub fn create_location(name: impl Into<String>) -> Self {
        Write::new(Command::CreateLocation { name: name.into() }, |o| match o {
            Outcome::LocationCreated(l) => Ok(l),
            other => Err(other),
        })
    }
}

impl Write<Vec<StockLevel>> {
    /// Any stock operation: the levels it changed (for a transfer, source then destination).
    pub fn stock(op: StockOp) -> Self {
        Write::new(Command::Stock(op), |o| match o {
            Outcome::Levels(levels) => Ok(levels),
            other => Err(other),
        })
    }
}

impl Write<StockLevel> {
    /// A stock operation other than a transfer: the level it changed.
    pub fn level(op: StockOp) -> Self {
        let refused = (op.kind == OpKind::Transfer).then(|| {
            Error::validation(
                "kind",
                "a transfer changes two levels: apply it with Write::transfer",
            )
        });
        Write {
            refused,
            ..Write::new(Command::Stock(op), |o| match o {
                Outcome::Levels(levels) => match <[StockLevel; 1]>::try_from(levels) {
                    Ok([level]) => Ok(level),
                    Err(levels) => Err(Outcome::Levels(levels)),
                },
                other => Err(other),
            })
        }
    }
}

impl Write<(StockLevel, StockLevel)> {
    /// A transfer: the (source, destination) levels.
    pub fn transfer(op: StockOp) -> Self {
        let refused = (op.kind != OpKind::Transfer)
            .then(|| Error::validation("kind", "expected a transfer operation"));
        Write {
            refused,
            ..Write::new(Command::Stock(op), |o| match o {
                Outcome::Levels(levels) => match <[StockLevel; 2]>::try_from(levels) {
                    Ok([from, to]) => Ok((from, to)),
                    Err(levels) => Err(Outcome::Levels(levels)),
                },
                other => Err(other),
            })
        }
    }
}

impl Write<Vec<Vec<StockLevel>>> {
    /// Every operation or none; on failure the error's `index` names the operation.
    pub fn batch(ops: Vec<StockOp>) -> Self {
        Write::new(Command::Batch(ops), |o| match o {
            Outcome::Batch(levels) => Ok(levels),
            other => Err(other),
        })
    }
}

impl Write<ImportSummary> {
    /// Creates or updates products by SKU, all or nothing.
    pub fn import_products(rows: Vec<ProductImport>) -> Self {
        Write::new(Command::ImportProducts(rows), |o| match o {
            Outcome::Imported(summary) => Ok(summary),
            other => Err(other),
        })
    }

    /// Physical counts by SKU, all or nothing, each movement carrying `reference`.
    pub fn import_counts(reference: impl Into<String>, counts: Vec<CountImport>) -> Self {
        let command = Command::ImportCounts {
            reference: reference.into(),
            counts,
        };
        Write::new(command, |o| match o {
            Outcome::Imported(summary) => Ok(summary),
            other => Err(other),
        })
    }
}

impl Write<u64> {
    /// Releases expired reservations and forgets old idempotency keys; returns how many
    /// reservations were released.
    pub fn sweep() -> Self {
        Write::new(Command::Sweep, |o| match o {
            Outcome::Swept(n) => Ok(n),
            other => Err(other),
        })
    }
}

impl Write<CheckIn> {
    /// A till's check-in: registers `till_id` with the call's key and `instance_id` the first
    /// time; after that, FORBIDDEN (field `till_id`) under another key, CONFLICT (field
    /// `instance_id`) from another instance, and CONFLICT (field `token`) from a copy of the
    /// till's files left behind by a later check-in, changing nothing. `token` is what the
    /// till's previous check-in left (`None` before its first), `next_token` what this one
    /// leaves; sending the same pair again (an answer lost) is accepted. `seen` is what the
    /// till's last check-in answered: the answer's `seen_held` says whether central still
    /// holds that point, and a till whose point central lost, checking in with a token older
    /// than central's (a database rewound past its last check-in), is accepted.
    pub fn check_in_till(
        till_id: impl Into<String>,
        instance_id: impl Into<String>,
        location: impl Into<String>,
        token: Option<String>,
        next_token: impl Into<String>,
        seen: Option<SeenPoint>,
    ) -> Self {
        let command = Command::CheckInTill {
            till_id: till_id.into(),
            instance_id: instance_id.into(),
            location: location.into(),
            token,
            next_token: next_token.into(),
            seen,
        };
        Write::new(command, |o| match o {
            Outcome::TillCheckedIn(c) => Ok(*c),
            other => Err(other),
        })
    }
}

impl Write<TakeOver> {
    /// Ends a till's registration (admin keys only), releasing its allotments or keeping them
    /// for its next instance; both are recorded in the ledger.
    pub fn take_over_till(till_id: impl Into<String>, release: bool) -> Self {
        let command = Command::TakeOverTill {
            till_id: till_id.into(),
            release,
        };
        Write::new(command, |o| match o {
            Outcome::TillTakenOver(t) => Ok(*t),
            other => Err(other),
        })
    }
}

impl Write<ConflictReport> {
    /// Records a conflict a till reports: only a sale reference of a till registered to the
    /// call's key (any till's, for an admin key), counted once.
    pub fn report_till_conflict(reference: impl Into<String>, code: impl Into<String>) -> Self {
        let command = Command::ReportTillConflict {
            reference: reference.into(),
            code: code.into(),
        };
        Write::new(command, |o| match o {
            Outcome::TillConflict(c) => Ok(c),
            other => Err(other),
        })
    }
}
