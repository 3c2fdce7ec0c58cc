//! `import products FILE` and `import levels FILE`: rows of a file become one engine import,
//! applied in one transaction, all or nothing. Every row is read and checked before the engine
//! sees any (so a file with several bad cells reports each), then the engine applies its own
//! rules and names the first row it refuses. Rows that match what is stored change nothing, so
//! importing a file twice changes nothing the second time.

use super::rows::{self, Cell, Cells, Columns, MAX_REPORTED, RowError};
use super::{Database, Failure, Format, progress};
use inventory::{CountImport, Error, ImportSummary, Price, ProductImport};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Create products by SKU, or update existing ones.
    ///
    /// Columns: sku, name, price (required), description, location, initial_quantity,
    /// reorder_point, in any order. An existing product's name, description, price and reorder
    /// point are updated; initial_quantity applies to new products only.
    #[command(after_help = PRODUCTS_HELP)]
    Products(Args),
    /// Apply physical counts of stock at locations.
    ///
    /// Columns: sku, location, counted. Each row sets a product's units on hand at a location
    /// (ADJUST movements, with reference import:<file name>); a row that matches what is on
    /// hand records nothing.
    #[command(
        after_help = "Exit status: 0 imported (or, with --dry-run, importable), 1 \
                            refused: nothing was changed."
    )]
    Levels(Args),
}

const PRODUCTS_HELP: &str = "\
A new SKU is created at `location` (the default location if none) with `initial_quantity` \
units; an existing one keeps its location and stock. A column the \
file does not have keeps what is stored; an empty cell clears the description and the reorder \
point. In JSON Lines an absent key is an absent column, and null or \"\" an empty cell. \
Exit status: 0 imported (or, with --dry-run, importable), 1 refused: nothing was changed.";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file: CSV with a header row, or JSON Lines (one object per line).
    file: PathBuf,
    /// Its format; by default JSON Lines for a .jsonl or .ndjson file, else CSV.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Check every row against the database and report what would change, changing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Take CSV cells as they are written. By default a cell that an export wrote with a
    /// leading ' (a text beginning with =, +, -, @, a tab or a carriage return, which a
    /// spreadsheet would run as a formula) loses that ', so that an export imports exactly.
    #[arg(long)]
    raw_csv: bool,
    #[command(flatten)]
    db: Database,
}

pub const PRODUCT_COLUMNS: Columns = Columns {
    names: &[
        "sku",
        "name",
        "description",
        "price",
        "location",
        "initial_quantity",
        "reorder_point",
    ],
    required: &["sku", "name", "price"],
};

pub const COUNT_COLUMNS: Columns = Columns {
    names: &["sku", "location", "counted"],
    required: &["sku", "location", "counted"],
};

pub fn run(what: &What) -> Result<(), Failure> {
    match what {
        What::Products(args) => import(args, "products", &PRODUCT_COLUMNS, product, |inv, rows| {
            inv.import_products(rows, args.dry_run)
        }),
        What::Levels(args) => {
            let reference = format!("import:{}", file_name(&args.file));
            import(args, "counts", &COUNT_COLUMNS, count, |inv, rows| {
                inv.import_counts(&reference, rows, args.dry_run)
            })
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn import<T>(
    args: &Args,
    noun: &str,
    columns: &Columns,
    convert: impl Fn(&Cells) -> inventory::Result<T>,
    apply: impl FnOnce(&inventory::Inventory, Vec<T>) -> inventory::Result<ImportSummary>,
) -> Result<(), Failure> {
    let shown = args.file.display();
    let file = std::fs::File::open(&args.file)
        .map_err(|e| Failure::failed(format!("cannot read {shown}: {e}")))?;
    let size = file.metadata().map_or(0, |m| m.len());
    let format = Format::pick(args.format, Some(&args.file));
    let bar = progress::bytes(size, format!("reading {}", file_name(&args.file)));
    let found = rows::read(bar.wrap_read(file), format, args.raw_csv, columns, convert)
        .map_err(|e| Failure::failed(format!("cannot read {shown}: {e}")));
    bar.finish_and_clear();
    let found = found?;
    if found.error_count > 0 {
        for error in &found.errors {
            eprintln!("{error}");
        }
        if found.error_count > MAX_REPORTED {
            eprintln!("... and {} more", found.error_count - MAX_REPORTED);
        }
        return Err(refused(&file_name(&args.file), found.error_count));
    }
    let inv = args.db.open(false)?;
    let count = found.rows.len();
    let spinner = progress::wait(format!(
        "{} {count} {noun} in one transaction",
        if args.dry_run {
            "checking"
        } else {
            "importing"
        }
    ));
    let applied = apply(&inv, found.rows);
    spinner.finish_and_clear();
    match applied {
        Ok(summary) => {
            println!(
                "{}",
                summary_line(&file_name(&args.file), &summary, args.dry_run)
            );
            Ok(())
        }
        Err(e) => match e.index.and_then(|i| found.lines.get(i).copied()) {
            Some(line) => {
                eprintln!("{}", RowError::from_engine(line, columns, e));
                Err(refused(&file_name(&args.file), 1))
            }
            None => Err(Failure::failed(format!("nothing was imported: {e}"))),
        },
    }
}

fn refused(file: &str, errors: usize) -> Failure {
    let s = if errors == 1 { "" } else { "s" };
    Failure::failed(format!("{file}: {errors} error{s}, nothing was imported"))
}

fn summary_line(file: &str, s: &ImportSummary, dry_run: bool) -> String {
    let (created, updated, unchanged) = (s.created, s.updated, s.unchanged);
    if dry_run {
        format!(
            "{file}: dry run, nothing changed: {created} would be created, {updated} updated, {unchanged} unchanged"
        )
    } else {
        format!("{file}: {created} created, {updated} updated, {unchanged} unchanged")
    }
}

fn text(cells: &Cells, column: &str) -> String {
    match cells.get(column) {
        Cell::Text(t) => t.to_owned(),
        Cell::Absent | Cell::Empty => String::new(),
    }
}

/// A whole number: a quantity or a reorder point. Its range is the engine's to check.
fn whole(column: &str, text: &str) -> inventory::Result<i64> {
    text.trim().parse().map_err(|_| {
        Error::validation(
            column,
            format!("{column} must be a whole number, not {text:?}"),
        )
    })
}

/// A cell that may be left out: absent or empty is `None`.
fn optional_whole(cells: &Cells, column: &str) -> inventory::Result<Option<i64>> {
    match cells.get(column) {
        Cell::Text(t) => whole(column, t).map(Some),
        Cell::Absent | Cell::Empty => Ok(None),
    }
}

/// One product row. The engine's [`ProductImport`] says what each field's absence means; here
/// an absent column is `None` (kept) and an empty cell clears what can be cleared.
pub fn product(cells: &Cells) -> inventory::Result<ProductImport> {
    let price = match cells.get("price") {
        Cell::Text(t) => Price::parse(t.trim())?,
        Cell::Absent | Cell::Empty => {
            return Err(Error::validation("price", "price must not be empty"));
        }
    };
    Ok(ProductImport {
        sku: text(cells, "sku"),
        name: text(cells, "name"),
        price,
        description: match cells.get("description") {
            Cell::Absent => None,
            Cell::Empty => Some(String::new()),
            Cell::Text(t) => Some(t.to_owned()),
        },
        location: match cells.get("location") {
            Cell::Absent | Cell::Empty => None,
            Cell::Text(t) => Some(t.to_owned()),
        },
        initial_quantity: optional_whole(cells, "initial_quantity")?,
        reorder_point: match cells.get("reorder_point") {
            Cell::Absent => None,
            Cell::Empty => Some(None),
            Cell::Text(t) => Some(Some(whole("reorder_point", t)?)),
        },
    })
}

/// One count row.
pub fn count(cells: &Cells) -> inventory::Result<CountImport> {
    let counted = match cells.get("counted") {
        Cell::Text(t) => whole("counted", t)?,
        Cell::Absent | Cell::Empty => {
            return Err(Error::validation("counted", "counted must not be empty"));
        }
    };
    Ok(CountImport {
        sku: text(cells, "sku"),
        location: text(cells, "location"),
        counted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::rows::Parsed;
    use inventory::{ErrorCode, Inventory};

    fn read<T>(
        text: &str,
        format: Format,
        columns: &Columns,
        convert: impl Fn(&Cells) -> inventory::Result<T>,
    ) -> Parsed<T> {
        rows::read(text.as_bytes(), format, false, columns, convert).unwrap()
    }

    fn products(text: &str, format: Format) -> Parsed<ProductImport> {
        read(text, format, &PRODUCT_COLUMNS, product)
    }

    fn errors<T>(found: &Parsed<T>) -> Vec<String> {
        found.errors.iter().map(|e| e.to_string()).collect()
    }

    /// The columns are the fields of the engine's import row, spelled as the engine spells
    /// them: a field added to [`ProductImport`] or [`CountImport`] fails this until the
    /// command line takes it.
    #[test]
    fn the_columns_are_the_engines_fields() {
        let keys = |v: serde_json::Value| {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        let sorted = |names: &[&str]| {
            let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            names.sort();
            names
        };
        let row = ProductImport {
            sku: "S".into(),
            name: "N".into(),
            price: Price::parse("1").unwrap(),
            description: None,
            location: None,
            initial_quantity: None,
            reorder_point: None,
        };
        assert_eq!(
            keys(serde_json::to_value(&row).unwrap()),
            sorted(PRODUCT_COLUMNS.names)
        );
        let count = CountImport {
            sku: "S".into(),
            location: "L".into(),
            counted: 1,
        };
        assert_eq!(
            keys(serde_json::to_value(&count).unwrap()),
            sorted(COUNT_COLUMNS.names)
        );
    }

    #[test]
    fn required_columns_are_columns() {
        for columns in [&PRODUCT_COLUMNS, &COUNT_COLUMNS] {
            assert!(columns.required.iter().all(|r| columns.names.contains(r)));
        }
    }

    #[test]
    fn csv_columns_in_any_order_absent_and_empty_cells() {
        let found = products(
            "price,SKU,name,reorder_point,description\n\
             1500.00,LAP-1,Laptop,,\"Gaming, 16\"\" screen\nline two\"\n\
             0.0001,PEN-1,Pen,5,\n",
            Format::Csv,
        );
        assert_eq!(errors(&found), Vec::<String>::new());
        assert_eq!(found.lines, [2, 4]);
        let [laptop, pen] = &found.rows[..] else {
            panic!("{:?}", found.rows)
        };
        assert_eq!(laptop.sku, "LAP-1");
        assert_eq!(laptop.price.to_string(), "1500.00");
        assert_eq!(
            laptop.description.as_deref(),
            Some("Gaming, 16\" screen\nline two")
        );
        assert_eq!(laptop.reorder_point, Some(None), "an empty cell clears");
        assert_eq!(laptop.location, None, "an absent column keeps");
        assert_eq!(laptop.initial_quantity, None);
        assert_eq!(pen.price.to_string(), "0.0001");
        assert_eq!(pen.reorder_point, Some(Some(5)));
        assert_eq!(pen.description.as_deref(), Some(""));
    }

    #[test]
    fn csv_problems_name_their_line_and_column() {
        let found = products(
            "sku,name,price,initial_quantity\n\
             A,Fine,1.00,3\n\
             B,Bad price,1.00001,\n\
             C,Bad quantity,2,three\n\
             D,Short row\n\
             E,No price,,\n",
            Format::Csv,
        );
        assert_eq!(
            errors(&found),
            [
                "line 3, column price: VALIDATION_ERROR: price has more than 4 decimal places",
                "line 4, column initial_quantity: VALIDATION_ERROR: initial_quantity must be a whole number, not \"three\"",
                "line 5: VALIDATION_ERROR: the row has 2 fields, the header row 4",
                "line 6, column price: VALIDATION_ERROR: price must not be empty",
            ]
        );
        assert_eq!(found.error_count, 4);
    }

    #[test]
    fn csv_headers_are_checked_before_any_row() {
        let found = products("sku,name,cost,sku\nA,B,1,A\n", Format::Csv);
        assert_eq!(
            errors(&found),
            [
                "line 1, column cost: VALIDATION_ERROR: unknown column (the columns are: sku, name, description, price, location, initial_quantity, reorder_point)",
                "line 1, column sku: VALIDATION_ERROR: the column is given twice",
                "line 1, column price: VALIDATION_ERROR: the header row has no such column, which is required",
            ]
        );
        assert!(found.rows.is_empty());
    }

    #[test]
    fn a_utf8_bom_and_crlf_line_ends_are_read() {
        let found = products("\u{feff}sku,name,price\r\nA,B,1.5\r\n", Format::Csv);
        assert_eq!(errors(&found), Vec::<String>::new());
        assert_eq!(found.rows[0].sku, "A");
    }

    #[test]
    fn only_the_first_problems_are_kept_but_all_are_counted() {
        let text: String = std::iter::once("sku,name,price\n".to_owned())
            .chain((0..30).map(|i| format!("S{i},N,bad\n")))
            .collect();
        let found = products(&text, Format::Csv);
        assert_eq!(found.errors.len(), MAX_REPORTED);
        assert_eq!(found.error_count, 30);
        assert_eq!(found.errors[0].line, 2);
    }

    #[test]
    fn json_lines_numbers_are_exact_and_null_clears() {
        let found = products(
            "{\"sku\":\"A\",\"name\":\"Á \\\"quoted\\\"\",\"price\":1500.00,\"reorder_point\":null}\n\
             \n\
             {\"sku\":\"B\",\"name\":\"B\",\"price\":\"0.10\",\"initial_quantity\":7,\"description\":\"\"}\n",
            Format::Jsonl,
        );
        assert_eq!(errors(&found), Vec::<String>::new());
        assert_eq!(found.lines, [1, 3]);
        let [a, b] = &found.rows[..] else {
            panic!("{:?}", found.rows)
        };
        assert_eq!(a.name, "Á \"quoted\"");
        assert_eq!(a.price.to_string(), "1500.00");
        assert_eq!(a.reorder_point, Some(None));
        assert_eq!(a.description, None);
        assert_eq!(b.price.to_string(), "0.10");
        assert_eq!(b.initial_quantity, Some(7));
        assert_eq!(b.description.as_deref(), Some(""));
    }

    #[test]
    fn json_lines_problems_name_their_line_and_key() {
        let found = products(
            "{\"sku\":\"A\",\"name\":\"N\",\"price\":1e3}\n\
             not json\n\
             {\"sku\":\"A\",\"name\":\"N\",\"price\":1,\"colour\":\"red\"}\n\
             {\"sku\":\"A\",\"name\":\"N\"}\n\
             {\"sku\":\"A\",\"name\":\"N\",\"price\":1,\"reorder_point\":true}\n\
             {\"sku\":\"A\",\"name\":\"N\",\"price\":1,\"reorder_point\":2.5}\n",
            Format::Jsonl,
        );
        let found = errors(&found);
        assert_eq!(
            found[0],
            "line 1, column price: VALIDATION_ERROR: price \"1e3\" is not a decimal number"
        );
        assert!(
            found[1].starts_with("line 2: VALIDATION_ERROR: not a JSON object"),
            "{}",
            found[1]
        );
        assert!(
            found[2].starts_with("line 3, column colour: VALIDATION_ERROR: unknown key"),
            "{}",
            found[2]
        );
        assert_eq!(
            found[3..],
            [
                "line 4, column price: VALIDATION_ERROR: the key is required",
                "line 5, column reorder_point: VALIDATION_ERROR: must be a string or a number",
                "line 6, column reorder_point: VALIDATION_ERROR: reorder_point must be a whole number, not \"2.5\"",
            ]
        );
    }

    #[test]
    fn counts_need_every_column() {
        let found = read(
            "sku,location,counted\nA,Shop,4\nB,Shop,\n",
            Format::Csv,
            &COUNT_COLUMNS,
            count,
        );
        assert_eq!(
            errors(&found),
            ["line 3, column counted: VALIDATION_ERROR: counted must not be empty"]
        );
        assert_eq!(found.rows[0].counted, 4);
        let found = read("sku,counted\nA,4\n", Format::Csv, &COUNT_COLUMNS, count);
        assert_eq!(
            errors(&found),
            [
                "line 1, column location: VALIDATION_ERROR: the header row has no such column, which is required"
            ]
        );
    }

    /// The engine's refusal of a row, mapped back to the file: its index to the row's line,
    /// its field to the column, its code kept, the engine's "operation N" left out.
    #[test]
    fn engine_refusals_name_the_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::open(dir.path().join("i.db")).unwrap();
        let found = products(
            "sku,name,price,reorder_point\nA,Fine,1,\nB,,1,\nC,Fine,1,-4\n",
            Format::Csv,
        );
        let e = inv.import_products(found.rows.clone(), false).unwrap_err();
        let line = found.lines[e.index.unwrap()];
        assert_eq!(
            RowError::from_engine(line, &PRODUCT_COLUMNS, e).to_string(),
            "line 3, column name: VALIDATION_ERROR: name must not be empty"
        );
        let counts = read(
            "sku,location,counted\nNOPE,Shop,1\n",
            Format::Csv,
            &COUNT_COLUMNS,
            count,
        );
        let e = inv
            .import_counts("import:x.csv", counts.rows, false)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        assert_eq!(
            RowError::from_engine(counts.lines[0], &COUNT_COLUMNS, e).to_string(),
            "line 2, column sku: NOT_FOUND: product with sku \"NOPE\" not found"
        );
    }

    #[test]
    fn summaries_say_what_changed_or_would() {
        let s = ImportSummary {
            created: 2,
            updated: 1,
            unchanged: 0,
        };
        assert_eq!(
            summary_line("p.csv", &s, false),
            "p.csv: 2 created, 1 updated, 0 unchanged"
        );
        assert_eq!(
            summary_line("p.csv", &s, true),
            "p.csv: dry run, nothing changed: 2 would be created, 1 updated, 0 unchanged"
        );
    }
}
