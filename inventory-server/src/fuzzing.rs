//! The parsers that read what clients and files send, reachable from `fuzz/` (cargo-fuzz
//! targets, which link this crate as a library). Each takes raw input and says what the server
//! made of it, in plain types, so that the targets can check it against an independent reading.
//! Nothing else calls these: they are the fuzz targets' door, not an API.

use crate::errors::ApiError;
use crate::input::{self, Query};
use crate::params;
use crate::strict_json::{self, Strictness};
use inventory::OpKind;
use uuid::Uuid;

/// A refusal: its HTTP status, its envelope's `error` code and the field it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub field: Option<String>,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal {
            status: e.status,
            code: e.code,
            field: e.field,
        }
    }
}

/// What the strictness check found in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strict {
    /// An object with unique keys at every depth (or a syntax error, left to the typed parse).
    Passed,
    NotAnObject,
    /// The path of the first repeated key.
    DuplicateKey(String),
}

/// The strictness check every body goes through first.
pub fn strictness(body: &[u8]) -> Strict {
    match strict_json::check(body) {
        Ok(()) => Strict::Passed,
        Err(Strictness::NotAnObject) => Strict::NotAnObject,
        Err(Strictness::DuplicateKey(path)) => Strict::DuplicateKey(path),
    }
}

/// A body read as every route that takes one reads it: the product, location, key, till and
/// batch bodies, and each stock operation's. One verdict per reading.
pub fn bodies(body: &[u8]) -> Vec<Result<(), Refusal>> {
    fn typed<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), Refusal> {
        input::parse_body::<T>(body)
            .map(drop)
            .map_err(Refusal::from)
    }
    let mut verdicts = vec![
        typed::<input::CreateProductBody>(body),
        typed::<input::UpdateProductBody>(body),
        typed::<input::LocationBody>(body),
        typed::<input::KeyBody>(body),
        typed::<input::TillConflictBody>(body),
        typed::<input::CheckInBody>(body),
        typed::<input::TakeOverBody>(body),
        input::parse_batch(body).map(drop).map_err(Refusal::from),
    ];
    for kind in OpKind::ALL {
        verdicts.push(
            input::parse_stock(body, kind, Uuid::nil())
                .map(drop)
                .map_err(Refusal::from),
        );
    }
    verdicts
}

/// A query string's decoded (name, value) pairs.
pub fn query(raw: &str) -> Result<Vec<(String, String)>, Refusal> {
    Query::parse(raw)
        .map(|q| q.pairs().to_vec())
        .map_err(Refusal::from)
}

/// A query string read as every route's query type; one verdict per type.
pub fn typed_queries(raw: &str) -> Vec<Result<(), Refusal>> {
    fn typed<T: serde::de::DeserializeOwned>(q: &Query) -> Result<(), Refusal> {
        params::read::<T>(q.pairs())
            .map(drop)
            .map_err(Refusal::from)
    }
    match Query::parse(raw) {
        Err(e) => vec![Err(e.into())],
        Ok(q) => vec![
            typed::<params::ProductListQuery>(&q),
            typed::<params::InventoryQuery>(&q),
            typed::<params::MovementQuery>(&q),
            typed::<params::ReferenceQuery>(&q),
            typed::<params::ExpiringQuery>(&q),
            typed::<params::EventsQuery>(&q),
        ],
    }
}

/// A path parameter (`/api/keys/{name}`), percent-decoded.
pub fn path_param(raw: &str) -> Result<String, Refusal> {
    input::path_param(raw, "name").map_err(Refusal::from)
}

/// What an import found in a file: rows converted, and problems (kept, and counted).
#[derive(Debug)]
pub struct Rows<T> {
    pub rows: Vec<T>,
    pub lines: Vec<u64>,
    pub problems: Vec<String>,
    pub problem_count: usize,
}

/// The most problems an import keeps for its report.
pub const MAX_REPORTED: usize = crate::cli::rows::MAX_REPORTED;

fn rows<T>(parsed: crate::cli::rows::Parsed<T>) -> Rows<T> {
    Rows {
        rows: parsed.rows,
        lines: parsed.lines,
        problems: parsed.errors.iter().map(ToString::to_string).collect(),
        problem_count: parsed.error_count,
    }
}

fn format(jsonl: bool) -> crate::cli::Format {
    if jsonl {
        crate::cli::Format::Jsonl
    } else {
        crate::cli::Format::Csv
    }
}

/// `import products` reading a file: CSV (`raw_csv` as `--raw-csv`) or JSON Lines.
pub fn product_rows(
    file: &[u8],
    jsonl: bool,
    raw_csv: bool,
) -> std::io::Result<Rows<inventory::ProductImport>> {
    use crate::cli::import::{PRODUCT_COLUMNS, product};
    crate::cli::rows::read(file, format(jsonl), raw_csv, &PRODUCT_COLUMNS, product).map(rows)
}

/// `import levels` reading a file.
pub fn count_rows(
    file: &[u8],
    jsonl: bool,
    raw_csv: bool,
) -> std::io::Result<Rows<inventory::CountImport>> {
    use crate::cli::import::{COUNT_COLUMNS, count};
    crate::cli::rows::read(file, format(jsonl), raw_csv, &COUNT_COLUMNS, count).map(rows)
}

/// The CSV cell an export writes for a text.
pub fn neutralise(text: &str) -> String {
    crate::cli::formula::neutralise(text).into_owned()
}
