//! `export products|levels|movements`: records streamed page by page from the engine (keyset
//! pages of the catalogue, the change feed for movements), so memory stays flat however large
//! the database. Products and levels are written in the columns their imports take, so an
//! export imports as it is; movements carry every field of the engine's ledger entry.
//!
//! A CSV text cell that a spreadsheet would run as a formula is written with a leading `'`
//! (`formula`), unless `--raw-csv`; JSON Lines is always raw.

use super::{Database, Failure, Format, formula, progress};
use indicatif::ProgressBar;
use inventory::{MAX_CHANGES_PAGE, MAX_PAGE, Price, Product, StockLevel};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Live products, in creation order, as `import products` reads them.
    ///
    /// Columns: sku, name, description, price (exact, as stored), location, reorder_point.
    Products(Args),
    /// Every stock level of every live product, as `import levels` reads them.
    ///
    /// Columns: sku, location, counted (the units on hand). Reserved units belong to
    /// reservations, which are not exported.
    Levels(Args),
    /// Ledger entries in sequence order, with every field.
    ///
    /// Columns: seq, id, inventory_id, product_id, location, kind, quantity, on_hand_after,
    /// reserved_after, reference, notes, transfer_id, actor, created_at.
    Movements(MovementArgs),
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The record format; by default JSON Lines when --out ends in .jsonl or .ndjson, else CSV.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write here (through a temporary file renamed into place when complete) instead of to
    /// stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write CSV text cells as they are stored, even those beginning with =, +, -, @, a tab or
    /// a carriage return (by default such a cell gets a leading ', so that a spreadsheet shows
    /// it rather than running it; `import` takes the ' off again).
    #[arg(long)]
    raw_csv: bool,
    #[command(flatten)]
    db: Database,
}

#[derive(Debug, clap::Args)]
pub struct MovementArgs {
    /// Only movements with a sequence number above this: the last `seq` of an earlier export
    /// continues it.
    #[arg(long, default_value_t = 0)]
    after: i64,
    #[command(flatten)]
    args: Args,
}

/// A product as `import products` reads it back.
#[derive(Debug, Serialize)]
pub struct ProductRecord<'a> {
    sku: &'a str,
    name: &'a str,
    description: &'a str,
    price: Price,
    location: &'a str,
    reorder_point: Option<i64>,
}

impl<'a> From<&'a Product> for ProductRecord<'a> {
    fn from(p: &'a Product) -> Self {
        ProductRecord {
            sku: &p.sku,
            name: &p.name,
            description: &p.description,
            price: p.price,
            location: &p.location,
            reorder_point: p.reorder_point,
        }
    }
}

/// A level as `import levels` reads it back.
#[derive(Debug, Serialize)]
pub struct LevelRecord<'a> {
    sku: &'a str,
    location: &'a str,
    counted: i64,
}

impl<'a> LevelRecord<'a> {
    fn new(sku: &'a str, level: &'a StockLevel) -> Self {
        LevelRecord {
            sku,
            location: &level.location,
            counted: level.on_hand,
        }
    }
}

const PRODUCT_HEADER: &[&str] = &[
    "sku",
    "name",
    "description",
    "price",
    "location",
    "reorder_point",
];
const LEVEL_HEADER: &[&str] = &["sku", "location", "counted"];
const MOVEMENT_HEADER: &[&str] = &[
    "seq",
    "id",
    "inventory_id",
    "product_id",
    "location",
    "kind",
    "quantity",
    "on_hand_after",
    "reserved_after",
    "reference",
    "notes",
    "external_id",
    "transfer_id",
    "actor",
    "created_at",
];

/// Where records go, in their format. The CSV header is written first even when no record
/// follows, so that an empty export still imports.
enum Sink<W: Write> {
    /// `header`: the record's fields in order; `neutralise` unless `--raw-csv`.
    Csv {
        writer: Box<csv::Writer<W>>,
        header: &'static [&'static str],
        neutralise: bool,
    },
    Jsonl(std::io::BufWriter<W>),
}

/// One CSV cell of a field, a formula-looking text neutralised. The field's JSON type tells
/// text (a string) from a number, so a negative ADJUST quantity stays a number.
fn neutral_cell(value: Option<&serde_json::Value>) -> std::io::Result<std::borrow::Cow<'_, str>> {
    use serde_json::Value;
    match value {
        Some(Value::String(text)) => Ok(formula::neutralise(text)),
        Some(Value::Number(n)) => Ok(n.to_string().into()),
        Some(Value::Bool(b)) => Ok(b.to_string().into()),
        Some(Value::Null) => Ok("".into()),
        other => Err(std::io::Error::other(format!(
            "a record field is not a CSV cell: {other:?}"
        ))),
    }
}

impl<W: Write> Sink<W> {
    fn new(
        out: W,
        format: Format,
        header: &'static [&'static str],
        raw_csv: bool,
    ) -> std::io::Result<Self> {
        Ok(match format {
            Format::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .buffer_capacity(1 << 16)
                    .from_writer(out);
                w.write_record(header)?;
                Sink::Csv {
                    writer: Box::new(w),
                    header,
                    neutralise: !raw_csv,
                }
            }
            Format::Jsonl => Sink::Jsonl(std::io::BufWriter::with_capacity(1 << 16, out)),
        })
    }

    fn write(&mut self, record: &impl Serialize) -> std::io::Result<()> {
        match self {
            Sink::Csv {
                writer,
                neutralise: false,
                ..
            } => Ok(writer.serialize(record)?),
            Sink::Csv { writer, header, .. } => {
                let serde_json::Value::Object(fields) = serde_json::to_value(record)? else {
                    return Err(std::io::Error::other("a record is not a struct"));
                };
                let cells = header
                    .iter()
                    .map(|name| neutral_cell(fields.get(*name)))
                    .collect::<std::io::Result<Vec<_>>>()?;
                Ok(writer.write_record(cells.iter().map(|c| c.as_bytes()))?)
            }
            Sink::Jsonl(w) => {
                serde_json::to_writer(&mut *w, record)?;
                w.write_all(b"\n")
            }
        }
    }

    fn finish(self) -> std::io::Result<W> {
        match self {
            Sink::Csv { writer, .. } => writer.into_inner().map_err(|e| e.into_error()),
            Sink::Jsonl(w) => w.into_inner().map_err(|e| e.into_error()),
        }
    }
}

/// Why an export stopped early.
enum Stop {
    Engine(inventory::Error),
    Write(std::io::Error),
}

impl From<inventory::Error> for Stop {
    fn from(e: inventory::Error) -> Self {
        Stop::Engine(e)
    }
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Write(e)
    }
}

pub fn run(what: &What) -> Result<(), Failure> {
    let (args, noun) = match what {
        What::Products(args) => (args, "products"),
        What::Levels(args) => (args, "levels"),
        What::Movements(m) => (&m.args, "movements"),
    };
    let format = Format::pick(args.format, args.out.as_deref());
    let inv = args.db.open(true)?;
    // Records written to a terminal share it with stderr: a bar redrawn there would overwrite them.
    let show = args.out.is_some() || !std::io::stdout().is_terminal();
    let written = match &args.out {
        Some(path) => to_file(path, format, args.raw_csv, what, &inv),
        None => Sink::new(std::io::stdout().lock(), format, header(what), args.raw_csv)
            .map_err(Stop::Write)
            .and_then(|mut sink| {
                write_records(what, &inv, &mut sink, show)?;
                sink.finish()?.flush()?;
                Ok(())
            }),
    };
    match written {
        Ok(()) => Ok(()),
        // A reader that stops early (`| head`) ends the export quietly, as it does other tools.
        Err(Stop::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe && args.out.is_none() => {
            Ok(())
        }
        Err(Stop::Write(e)) => Err(Failure::failed(format!("cannot write the {noun}: {e}"))),
        Err(Stop::Engine(e)) => Err(Failure::failed(format!("export of {noun} stopped: {e}"))),
    }
}

fn header(what: &What) -> &'static [&'static str] {
    match what {
        What::Products(_) => PRODUCT_HEADER,
        What::Levels(_) => LEVEL_HEADER,
        What::Movements(_) => MOVEMENT_HEADER,
    }
}

/// Writes every record, showing their progress on a terminal if `show` (the finished bar stays
/// as the summary).
fn write_records<W: Write>(
    what: &What,
    inv: &inventory::Inventory,
    sink: &mut Sink<W>,
    show: bool,
) -> Result<(), Stop> {
    match what {
        What::Products(_) => products(
            inv,
            sink,
            progress::shown(progress::count("products".into()), show),
        ),
        What::Levels(_) => levels(
            inv,
            sink,
            progress::shown(progress::count("levels".into()), show),
        ),
        What::Movements(m) => movements(inv, sink, m.after, show),
    }
}

/// Writes to a temporary file beside `path`, synced and renamed over it only once complete.
fn to_file(
    path: &Path,
    format: Format,
    raw_csv: bool,
    what: &What,
    inv: &inventory::Inventory,
) -> Result<(), Stop> {
    let name = path.file_name().ok_or_else(|| {
        Stop::Write(std::io::Error::other(format!(
            "{} names no file",
            path.display()
        )))
    })?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let done = (|| {
        let mut sink = Sink::new(std::fs::File::create(&tmp)?, format, header(what), raw_csv)?;
        write_records(what, inv, &mut sink, true)?;
        sink.finish()?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

fn products<W: Write>(
    inv: &inventory::Inventory,
    sink: &mut Sink<W>,
    bar: ProgressBar,
) -> Result<(), Stop> {
    each_page(inv, &bar, |p| {
        sink.write(&ProductRecord::from(&p.product))?;
        bar.inc(1);
        Ok(())
    })
}

fn levels<W: Write>(
    inv: &inventory::Inventory,
    sink: &mut Sink<W>,
    bar: ProgressBar,
) -> Result<(), Stop> {
    each_page(inv, &bar, |p| {
        for level in &p.inventory.locations {
            sink.write(&LevelRecord::new(&p.product.sku, level))?;
            bar.inc(1);
        }
        Ok(())
    })
}

/// Every product with its stock, in keyset pages of MAX_PAGE (memory flat in the catalogue's
/// size), then the bar finished.
fn each_page(
    inv: &inventory::Inventory,
    bar: &ProgressBar,
    mut each: impl FnMut(&inventory::ProductWithStock) -> Result<(), Stop>,
) -> Result<(), Stop> {
    let mut after = None;
    loop {
        let page = inv.products_after(after, Some(MAX_PAGE))?;
        let Some(last) = page.last() else { break };
        after = Some(last.product.id);
        page.iter().try_for_each(&mut each)?;
    }
    bar.finish();
    Ok(())
}

fn movements<W: Write>(
    inv: &inventory::Inventory,
    sink: &mut Sink<W>,
    after: i64,
    show: bool,
) -> Result<(), Stop> {
    // The latest sequence number when the export starts: sequence numbers are dense, so the
    // difference is about how many movements there are to write.
    let latest = inv.wait_for_changes(after, Duration::ZERO);
    let total = latest.saturating_sub(after).max(0) as u64;
    let bar = progress::shown(progress::rows(total, "movements".into()), show);
    let mut cursor = after;
    let mut written = 0;
    loop {
        let page = inv.changes(cursor, Some(MAX_CHANGES_PAGE))?;
        if page.movements.is_empty() {
            break;
        }
        for m in &page.movements {
            sink.write(m)?;
        }
        written += page.movements.len() as u64;
        bar.set_position(written);
        cursor = page.next_after;
    }
    bar.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::import::{COUNT_COLUMNS, PRODUCT_COLUMNS};
    use inventory::{Inventory, Movement, NewProduct, StockOp};

    /// The header a CSV writer derives from a record's own fields.
    fn derived_header(record: &impl Serialize) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(record).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_owned()
    }

    fn sample() -> (tempfile::TempDir, Inventory) {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::open(dir.path().join("e.db")).unwrap();
        let mut p = NewProduct::new("Laptop", "LAP-1", Price::parse("1500.00").unwrap());
        p.description = "16\", \"gaming\"\nsecond line".into();
        p.location = Some("Warehouse A".into());
        p.initial_quantity = 5;
        p.reorder_point = Some(2);
        let id = inv.create_product(p).unwrap().product.id;
        inv.with_actor("clerk-7")
            .transfer_stock(StockOp::transfer(id, "Warehouse A", "Shop", 2).reference("T-1"))
            .unwrap();
        (dir, inv)
    }

    /// Each header is exactly what its record serializes, so the written header and the
    /// fields below it cannot drift apart; products and levels use only columns their import
    /// takes, and movements every field of the engine's [`Movement`].
    #[test]
    fn headers_match_their_records_and_the_imports() {
        let (_dir, inv) = sample();
        let p = inv.products_after(None, None).unwrap().remove(0);
        assert_eq!(
            derived_header(&ProductRecord::from(&p.product)),
            PRODUCT_HEADER.join(",")
        );
        assert!(
            PRODUCT_HEADER
                .iter()
                .all(|c| PRODUCT_COLUMNS.names.contains(c))
        );
        let level = &p.inventory.locations[0];
        assert_eq!(
            derived_header(&LevelRecord::new(&p.product.sku, level)),
            LEVEL_HEADER.join(",")
        );
        assert_eq!(LEVEL_HEADER, COUNT_COLUMNS.names);
        let m = inv.changes(0, None).unwrap().movements.remove(0);
        assert_eq!(derived_header(&m), MOVEMENT_HEADER.join(","));
    }

    fn export(inv: &Inventory, format: Format, what: &str) -> String {
        export_with(inv, format, what, false)
    }

    fn export_with(inv: &Inventory, format: Format, what: &str, raw_csv: bool) -> String {
        let mut sink = Sink::new(
            Vec::new(),
            format,
            match what {
                "products" => PRODUCT_HEADER,
                "levels" => LEVEL_HEADER,
                _ => MOVEMENT_HEADER,
            },
            raw_csv,
        )
        .unwrap();
        let hidden = ProgressBar::hidden;
        let n = match what {
            "products" => products(inv, &mut sink, hidden()),
            "levels" => levels(inv, &mut sink, hidden()),
            _ => movements(inv, &mut sink, 0, false),
        };
        assert!(n.is_ok());
        String::from_utf8(sink.finish().unwrap()).unwrap()
    }

    #[test]
    fn products_and_levels_are_written_exactly_and_quoted() {
        let (_dir, inv) = sample();
        assert_eq!(
            export(&inv, Format::Csv, "products"),
            "sku,name,description,price,location,reorder_point\n\
             LAP-1,Laptop,\"16\"\", \"\"gaming\"\"\nsecond line\",1500.00,Warehouse A,2\n"
        );
        assert_eq!(
            export(&inv, Format::Csv, "levels"),
            "sku,location,counted\nLAP-1,Shop,2\nLAP-1,Warehouse A,3\n"
        );
        assert_eq!(
            export(&inv, Format::Jsonl, "products"),
            "{\"sku\":\"LAP-1\",\"name\":\"Laptop\",\"description\":\"16\\\", \\\"gaming\\\"\\nsecond line\",\"price\":\"1500.00\",\"location\":\"Warehouse A\",\"reorder_point\":2}\n"
        );
    }

    #[test]
    fn movements_carry_every_field() {
        let (_dir, inv) = sample();
        let csv = export(&inv, Format::Csv, "movements");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "{csv}");
        let ledger = inv.changes(0, None).unwrap().movements;
        let out = &ledger[1];
        assert_eq!(
            lines[2],
            format!(
                "2,{},{},{},Warehouse A,TRANSFER_OUT,2,3,0,T-1,,,{},clerk-7,{}",
                out.id,
                out.inventory_id,
                out.product_id,
                out.transfer_id.unwrap(),
                serde_json::to_value(out.created_at)
                    .unwrap()
                    .as_str()
                    .unwrap()
            )
        );
        let jsonl = export(&inv, Format::Jsonl, "movements");
        let read: Vec<Movement> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(read, ledger);
    }

    /// Neutralised and raw CSV are the same file but for the cells a spreadsheet would run;
    /// numbers (a negative ADJUST quantity) are never touched.
    #[test]
    fn formula_cells_are_neutralised_unless_raw() {
        let (_dir, inv) = sample();
        let id = inv.products_after(None, None).unwrap()[0].product.id;
        inv.count_stock(StockOp::count(id, "Warehouse A", 1).notes("=1+1"))
            .unwrap();
        let raw = export_with(&inv, Format::Csv, "movements", true);
        let neutral = export(&inv, Format::Csv, "movements");
        let last = |csv: &str| csv.lines().last().unwrap().to_owned();
        assert!(last(&raw).contains(",ADJUST,-2,1,0,,=1+1,"), "{raw}");
        assert!(
            last(&neutral).contains(",ADJUST,-2,1,0,,'=1+1,"),
            "{neutral}"
        );
        assert_eq!(
            raw.lines().count(),
            neutral.lines().count(),
            "only the cell changes"
        );
        assert_eq!(
            raw.lines().take(4).collect::<Vec<_>>(),
            neutral.lines().take(4).collect::<Vec<_>>()
        );
    }

    #[test]
    fn an_empty_export_still_has_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::open(dir.path().join("empty.db")).unwrap();
        assert_eq!(
            export(&inv, Format::Csv, "products"),
            "sku,name,description,price,location,reorder_point\n"
        );
        assert_eq!(export(&inv, Format::Jsonl, "levels"), "");
    }
}
