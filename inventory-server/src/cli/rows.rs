//! Input rows of an import, from CSV (RFC 4180, with a header row, read by the `csv` crate) or
//! JSON Lines (one object per line), as cells named by the import's columns, each row with the
//! line it starts on. Reading only finds the cells; what they must hold is for the import to say.
//! A CSV cell that an export neutralised (`formula`) is read as the text it stands for.

use super::{Format, formula};
use inventory::{Error, ErrorCode};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

/// The columns an import takes, named as the engine names the fields they fill.
#[derive(Debug)]
pub struct Columns {
    pub names: &'static [&'static str],
    pub required: &'static [&'static str],
}

impl Columns {
    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }

    fn expected(&self) -> String {
        self.names.join(", ")
    }

    /// The required columns, with their indexes.
    fn required(&self) -> impl Iterator<Item = (usize, &'static str)> + '_ {
        self.names
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, name)| self.required.contains(name))
    }
}

/// One cell of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// The file has no such column (CSV) or the line no such key (JSON Lines).
    Absent,
    /// An empty CSV field, an empty JSON string, or JSON `null`.
    Empty,
    /// The text of the field: a JSON number as written, a JSON string unescaped.
    Text(&'a str),
}

/// A row's cells, by column.
pub struct Cells<'a> {
    columns: &'a Columns,
    values: &'a [Option<String>],
}

impl<'a> Cells<'a> {
    pub fn get(&self, column: &str) -> Cell<'a> {
        match self
            .columns
            .index(column)
            .and_then(|i| self.values[i].as_deref())
        {
            None => Cell::Absent,
            Some("") => Cell::Empty,
            Some(text) => Cell::Text(text),
        }
    }
}

/// A problem with one row, reported as `line N, column C: CODE: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub code: ErrorCode,
    pub message: String,
}

impl RowError {
    pub fn new(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        RowError {
            line,
            column: column.map(str::to_owned),
            code: ErrorCode::ValidationError,
            message: message.into(),
        }
    }

    /// An engine error about one row: its field, when it is one of `columns`, is the column.
    pub fn from_engine(line: u64, columns: &Columns, e: Error) -> Self {
        let column = e
            .field
            .as_deref()
            .filter(|f| columns.index(f).is_some())
            .map(str::to_owned);
        // A failing row of an import comes back as "operation N: ..."; here the line says which.
        let message = match e.index {
            Some(i) => e
                .message
                .strip_prefix(&format!("operation {i}: "))
                .map_or(e.message.clone(), str::to_owned),
            None => e.message,
        };
        RowError {
            line,
            column,
            code: e.code,
            message,
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {}: {}", self.code, self.message)
    }
}

/// Most row errors kept for the report; the rest are only counted.
pub const MAX_REPORTED: usize = 20;

/// What reading found: the converted rows with their lines, or the problems.
#[derive(Debug)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    /// The line each row starts on, by row.
    pub lines: Vec<u64>,
    /// The first [`MAX_REPORTED`] problems, in file order.
    pub errors: Vec<RowError>,
    /// How many problems there were in all.
    pub error_count: usize,
}

impl<T> Parsed<T> {
    fn new() -> Self {
        Parsed {
            rows: Vec::new(),
            lines: Vec::new(),
            errors: Vec::new(),
            error_count: 0,
        }
    }

    fn problem(&mut self, error: RowError) {
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(error);
        }
    }

    fn row(&mut self, line: u64, cells: Cells, convert: &impl Fn(&Cells) -> inventory::Result<T>) {
        match convert(&cells) {
            Ok(row) => {
                self.rows.push(row);
                self.lines.push(line);
            }
            Err(e) => self.problem(RowError::from_engine(line, cells.columns, e)),
        }
    }
}

/// Reads every row of `input`, converting each with `convert`. Fails only when the input
/// cannot be read; problems with its content are in the result, up to [`MAX_REPORTED`].
/// `raw_csv`: CSV cells are taken as written, a neutralised formula's `'` included.
pub fn read<T>(
    input: impl Read,
    format: Format,
    raw_csv: bool,
    columns: &Columns,
    convert: impl Fn(&Cells) -> inventory::Result<T>,
) -> std::io::Result<Parsed<T>> {
    match format {
        Format::Csv => read_csv(input, raw_csv, columns, convert),
        Format::Jsonl => read_jsonl(input, columns, convert),
    }
}

fn read_csv<T>(
    input: impl Read,
    raw: bool,
    columns: &Columns,
    convert: impl Fn(&Cells) -> inventory::Result<T>,
) -> std::io::Result<Parsed<T>> {
    let mut found = Parsed::new();
    let mut reader = csv::ReaderBuilder::new().from_reader(input);
    // Which column each field of a record fills, if any.
    let mut fills: Vec<Option<usize>> = Vec::new();
    match reader.headers() {
        Ok(headers) => {
            let line = headers.position().map_or(1, |p| p.line());
            let mut seen = vec![false; columns.names.len()];
            for header in headers {
                let name = header.trim().to_ascii_lowercase();
                match columns.index(&name) {
                    Some(i) if seen[i] => found.problem(RowError::new(
                        line,
                        Some(&name),
                        "the column is given twice",
                    )),
                    Some(i) => seen[i] = true,
                    None => found.problem(RowError::new(
                        line,
                        Some(header),
                        format!("unknown column (the columns are: {})", columns.expected()),
                    )),
                }
                fills.push(columns.index(&name));
            }
            for (i, required) in columns.required() {
                if !seen[i] {
                    found.problem(RowError::new(
                        line,
                        Some(required),
                        "the header row has no such column, which is required",
                    ));
                }
            }
        }
        Err(e) => return csv_problem(found, e, columns, &fills),
    }
    if found.error_count > 0 {
        return Ok(found);
    }
    let mut record = csv::StringRecord::new();
    let mut values: Vec<Option<String>> = vec![None; columns.names.len()];
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                for (field, fill) in record.iter().zip(&fills) {
                    if let Some(i) = fill {
                        let text = if raw { field } else { formula::restore(field) };
                        values[*i] = Some(text.to_owned());
                    }
                }
                let cells = Cells {
                    columns,
                    values: &values,
                };
                found.row(line, cells, &convert);
            }
            Err(e) => {
                found = csv_problem(found, e, columns, &fills)?;
            }
        }
    }
    Ok(found)
}

/// A CSV error: an input that cannot be read fails the whole read, a malformed record is a
/// problem of its line. `fills` maps fields to columns, to name the column of a bad field.
fn csv_problem<T>(
    mut found: Parsed<T>,
    e: csv::Error,
    columns: &Columns,
    fills: &[Option<usize>],
) -> std::io::Result<Parsed<T>> {
    let line = e.position().map_or(0, |p| p.line());
    let (column, message) = match e.kind() {
        csv::ErrorKind::Io(_) => return Err(e.into()),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => (
            None,
            format!("the row has {len} fields, the header row {expected_len}"),
        ),
        csv::ErrorKind::Utf8 { err, .. } => (
            fills
                .get(err.field())
                .copied()
                .flatten()
                .map(|i| columns.names[i]),
            format!("field {} is not valid UTF-8", err.field() + 1),
        ),
        _ => (None, e.to_string()),
    };
    found.problem(RowError::new(line, column, message));
    Ok(found)
}

fn read_jsonl<T>(
    input: impl Read,
    columns: &Columns,
    convert: impl Fn(&Cells) -> inventory::Result<T>,
) -> std::io::Result<Parsed<T>> {
    let mut found = Parsed::new();
    let mut reader = BufReader::new(input);
    let mut text = String::new();
    let mut line = 0;
    let mut values: Vec<Option<String>> = vec![None; columns.names.len()];
    loop {
        text.clear();
        if reader.read_line(&mut text)? == 0 {
            break;
        }
        line += 1;
        if text.trim().is_empty() {
            continue;
        }
        match json_cells(&text, columns, &mut values) {
            Ok(()) => found.row(
                line,
                Cells {
                    columns,
                    values: &values,
                },
                &convert,
            ),
            Err((column, message)) => {
                found.problem(RowError::new(line, column.as_deref(), message))
            }
        }
    }
    Ok(found)
}

/// Fills `values` from one JSON object; the error names the key at fault, if any.
fn json_cells(
    text: &str,
    columns: &Columns,
    values: &mut [Option<String>],
) -> Result<(), (Option<String>, String)> {
    let object: BTreeMap<String, &RawValue> =
        serde_json::from_str(text).map_err(|e| (None, format!("not a JSON object: {e}")))?;
    values.iter_mut().for_each(|v| *v = None);
    for (key, raw) in object {
        let Some(i) = columns.index(&key) else {
            let message = format!("unknown key (the keys are: {})", columns.expected());
            return Err((Some(key), message));
        };
        let raw = raw.get();
        values[i] = Some(match raw.as_bytes()[0] {
            b'"' => serde_json::from_str::<String>(raw)
                .map_err(|e| (Some(key.clone()), e.to_string()))?,
            b'n' => String::new(),
            b'-' | b'0'..=b'9' => raw.to_owned(),
            _ => return Err((Some(key), "must be a string or a number".to_owned())),
        });
    }
    for (i, required) in columns.required() {
        if values[i].is_none() {
            return Err((Some(required.to_owned()), "the key is required".to_owned()));
        }
    }
    Ok(())
}
