//! The CSV and JSON Lines rows of `import products` and `import levels`. Any file: reading never
//! fails but on JSON Lines that is not UTF-8 (a file that cannot be read as text), every row
//! keeps the line it started on (lines counted by `\n`), in file order, and problems are
//! counted in full and kept up to the report's limit. Any text: the cell an export writes for
//! it starts with no formula trigger, and an import reads that cell back as the text (raw, as
//! the cell).
#![no_main]

use inventory_server::fuzzing::{self, MAX_REPORTED, Rows};
use libfuzzer_sys::fuzz_target;

const TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

fn check<T>(read: std::io::Result<Rows<T>>, file: &[u8], jsonl: bool) {
    let rows = match read {
        Ok(rows) => rows,
        Err(e) => {
            assert!(
                jsonl && std::str::from_utf8(file).is_err(),
                "the read failed: {e}"
            );
            return;
        }
    };
    assert_eq!(rows.rows.len(), rows.lines.len());
    assert!(rows.lines.iter().all(|&line| line >= 1), "{:?}", rows.lines);
    // Lines are counted by `\n`, as the csv crate counts them: a lone `\r` ends a CSV record
    // but not a line, so several rows may start on one line.
    assert!(
        rows.lines.windows(2).all(|w| w[0] <= w[1]),
        "{:?}",
        rows.lines
    );
    assert_eq!(rows.problems.len(), rows.problem_count.min(MAX_REPORTED));
}

/// A one-row product file whose name cell is `cell`, as the csv crate writes it.
fn product_file(cell: &str) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["sku", "name", "price"]).unwrap();
    w.write_record(["S-1", cell, "1.00"]).unwrap();
    w.into_inner().unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    let (jsonl, raw) = (flags & 1 == 1, flags & 2 == 2);
    check(fuzzing::product_rows(file, jsonl, raw), file, jsonl);
    check(fuzzing::count_rows(file, jsonl, raw), file, jsonl);

    let Ok(text) = std::str::from_utf8(file) else {
        return;
    };
    let cell = fuzzing::neutralise(text);
    assert!(!cell.starts_with(TRIGGERS), "{cell:?}");
    for (raw, want) in [(false, text), (true, cell.as_str())] {
        let read = fuzzing::product_rows(&product_file(&cell), false, raw).unwrap();
        assert_eq!(read.problems, Vec::<String>::new());
        let names: Vec<&str> = read.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, [want], "raw: {raw}");
    }
});
