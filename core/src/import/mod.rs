//! Bulk import of persons, keys, groups and users from CSV or JSON ([`bulk`]), and of an
//! "Export all" ZIP into an empty database ([`all`]). Both are all or nothing: one
//! transaction through [`crate::Store::write`]; a preview is the same run rolled back, so
//! it cannot differ from what the import then does.
//!
//! Never: split CSV by hand (the `csv` crate reads it), store a plain password, or leave
//! half a file imported.

pub mod all;
pub mod bulk;

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Transaction;
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::error::{Error, Result};
use crate::store::Actor;

pub use bulk::{apply, preview, Entity, ImportReport, OnExisting, RowError};

/// The one audit row an import writes (a bulk file, or "Export all" into an empty
/// database), with what it did as `after`.
fn audit_import(tx: &Transaction, now: i64, actor: &Actor, after: serde_json::Value) -> Result<()> {
    Change::new(&actor.name, "import", "import")
        .after(after)
        .record(tx, now)?;
    Ok(())
}

/// One record of an input file: its position (CSV line, or JSON item number) and its
/// cells by normalised column name. An empty cell is absent.
#[derive(Debug, Clone)]
pub struct Record {
    pub line: u64,
    pub fields: HashMap<String, String>,
    /// A CSV line with more cells than the header has columns: (cells, columns).
    pub extra_cells: Option<(usize, usize)>,
}

/// Which kind of file this was read from (positions are lines in CSV, items in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Csv,
    Json,
}

/// A column name as people write it: trimmed, lower case, spaces and dashes as `_`,
/// camelCase split (`fullName` -> `full_name`).
pub(crate) fn normalise_header(h: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in h.trim().trim_start_matches('\u{feff}').chars() {
        if c.is_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        match c {
            ' ' | '-' | '.' => out.push('_'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Reads `bytes` as CSV (`,` or `;`, with or without a BOM) or JSON (an array of objects,
/// or an object holding one array), by content: JSON starts with `[` or `{`.
pub fn read_records(file: &Path, bytes: &[u8]) -> Result<(Source, Vec<Record>)> {
    let bytes = bytes.strip_prefix(crate::export::BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid_rule(
            "file",
            "import_not_utf8",
            json!({ "byte": e.valid_up_to() + 1 }),
            format!(
                "{} is not UTF-8 text (byte {}); save it as \"CSV UTF-8\"",
                file.display(),
                e.valid_up_to() + 1
            ),
        )
    })?;
    match text.trim_start().chars().next() {
        Some('[' | '{') => Ok((Source::Json, read_json(file, text)?)),
        _ => Ok((Source::Csv, read_csv(file, text)?)),
    }
}

/// `;` when the header line has more semicolons than commas outside quotes (Excel in a
/// Latvian locale writes `;`), else `,`.
fn detect_delimiter(text: &str) -> u8 {
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semis += 1,
            '\n' if !quoted => break,
            _ => {}
        }
    }
    if semis > commas {
        b';'
    } else {
        b','
    }
}

fn read_csv(file: &Path, text: &str) -> Result<Vec<Record>> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(detect_delimiter(text))
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let bad = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        Error::invalid_rule(
            "file",
            "import_bad_csv",
            json!({ "line": line }),
            format!("{} is not valid CSV at line {line}: {e}", file.display()),
        )
    };
    let mut rec = csv::StringRecord::new();
    rdr.read_record(&mut rec).map_err(bad)?;
    let headers: Vec<String> = rec.iter().map(normalise_header).collect();
    if headers.iter().all(String::is_empty) {
        return Err(Error::invalid_rule(
            "file",
            "import_no_header",
            serde_json::Value::Null,
            format!("{} has no header row", file.display()),
        ));
    }
    let mut out = Vec::new();
    // Lines counted from the record's byte offset (a quoted cell may hold line breaks, so
    // the record number is not the line number).
    let (mut at_byte, mut at_line) = (0usize, 1u64);
    loop {
        // The reader's position after a record is where the next one starts.
        let mut start = (rdr.position().byte() as usize).min(text.len());
        // With CRLF the reader may stop between the \r and the \n.
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if !rdr.read_record(&mut rec).map_err(bad)? {
            break;
        }
        at_line += line_breaks(text.as_bytes(), at_byte..start.max(at_byte));
        at_byte = start.max(at_byte);
        let line = at_line;
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue; // blank lines Excel leaves at the end
        }
        let mut fields = HashMap::new();
        let extra_cells = (rec.len() > headers.len()).then_some((rec.len(), headers.len()));
        for (h, v) in headers.iter().zip(rec.iter()) {
            if !v.trim().is_empty() {
                fields.insert(h.clone(), v.to_string());
            }
        }
        out.push(Record {
            line,
            fields,
            extra_cells,
        });
    }
    Ok(out)
}

/// Line ends in `text[range]` as an editor counts them: `\n`, `\r\n`, and a lone `\r`
/// (old Mac files, which the CSV reader also takes as a line end).
fn line_breaks(text: &[u8], range: std::ops::Range<usize>) -> u64 {
    range
        .filter(|&i| match text[i] {
            b'\n' => true,
            b'\r' => text.get(i + 1) != Some(&b'\n'),
            _ => false,
        })
        .count() as u64
}

fn read_json(file: &Path, text: &str) -> Result<Vec<Record>> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::invalid_rule(
            "file",
            "import_bad_json",
            json!({ "line": e.line(), "column": e.column() }),
            format!(
                "{} is not valid JSON at line {}, column {}: {e}",
                file.display(),
                e.line(),
                e.column()
            ),
        )
    })?;
    let items = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) if o.len() == 1 => match o.values_mut().next() {
            Some(serde_json::Value::Array(a)) => std::mem::take(a),
            _ => Vec::new(),
        },
        _ => {
            return Err(Error::invalid_rule(
                "file",
                "import_json_shape",
                serde_json::Value::Null,
                format!(
                    "{} must hold a JSON array of objects (or {{\"persons\": [...]}})",
                    file.display()
                ),
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let line = i as u64 + 1;
        let serde_json::Value::Object(o) = item else {
            return Err(Error::invalid_rule(
                "file",
                "import_json_item",
                json!({ "item": line }),
                format!("{}: item {line} is not an object", file.display()),
            ));
        };
        let mut fields = HashMap::new();
        for (k, v) in o {
            let text = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| match x {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("|"),
                other => other.to_string(),
            };
            if !text.trim().is_empty() {
                fields.insert(normalise_header(&k), text);
            }
        }
        out.push(Record {
            line,
            fields,
            extra_cells: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_normalised() {
        assert_eq!(normalise_header(" Full Name "), "full_name");
        assert_eq!(normalise_header("fullName"), "full_name");
        assert_eq!(normalise_header("keyNumber"), "key_number");
        assert_eq!(normalise_header("\u{feff}code"), "code");
    }

    #[test]
    fn semicolon_and_comma_files_with_and_without_bom_read_the_same() {
        let p = Path::new("x.csv");
        let a = read_records(p, "full_name;code\r\n\"Bērziņš; Jānis\";E-1\r\n".as_bytes())
            .unwrap()
            .1;
        let mut with_bom = crate::export::BOM.to_vec();
        with_bom.extend_from_slice("full_name,code\n\"Bērziņš; Jānis\",E-1\n".as_bytes());
        let b = read_records(p, &with_bom).unwrap().1;
        for r in [&a, &b] {
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].fields["full_name"], "Bērziņš; Jānis");
            assert_eq!(r[0].fields["code"], "E-1");
            assert_eq!(r[0].line, 2);
        }
    }

    #[test]
    fn rows_of_a_file_with_carriage_returns_only_have_their_own_lines() {
        // Old Mac line ends (Excel's "CSV (Macintosh)"): a lone \r ends a line too.
        // Found by the import_csv fuzz target: every row was reported at line 1.
        let p = Path::new("mac.csv");
        let r = read_records(p, b"full_name,code\rA,E-1\r\rB,E-2\r\nC,E-3\n")
            .unwrap()
            .1;
        let lines: Vec<u64> = r.iter().map(|x| x.line).collect();
        assert_eq!(lines, [2, 4, 5]);
    }

    #[test]
    fn malformed_json_says_where() {
        let e = read_records(Path::new("p.json"), b"[{\"full_name\": \"A\",}]").unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(
            e.message().contains("not valid JSON at line 1"),
            "{}",
            e.message()
        );
    }
}
