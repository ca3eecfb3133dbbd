//! Exports for Excel and auditors: "Export all" (a ZIP with one CSV per table and a
//! manifest, which `import::all` reads back exactly), the key log for a date range (CSV
//! and XLSX) and the audit trail with its filters (CSV and JSON).
//!
//! Never: split or quote CSV by hand (the `csv` crate writes RFC 4180), build a whole
//! table in memory (rows stream from the query into the file), or export password hashes.

pub mod all;
pub mod audit_log;
pub mod keylog;

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The UTF-8 byte order mark: without it Excel reads "Jānis Bērziņš" as Latin-1.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Excel's last row is 1,048,576; one is the header.
pub const EXCEL_MAX_DATA_ROWS: u64 = 1_048_575;

/// How a column's SQLite value is written to CSV and read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    /// INTEGER, written in decimal.
    Int,
    /// TEXT, neutralised against formula injection (see [`escape_roundtrip`]).
    Text,
    /// INTEGER Unix seconds, written as ISO 8601 UTC (`2026-01-01T00:00:00Z`).
    Time,
}

/// One table of "Export all", its columns in order and the order of its rows.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Col)],
    pub order_by: &'static str,
}

use Col::{Int, Text, Time};

/// Every table of "Export all", in the order an import must insert them (foreign keys).
/// `users` has no `password_hash`: hashes never leave the database.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("username", Text),
            ("role", Text),
            ("is_root", Int),
            ("active", Int),
            ("failed_logins", Int),
            ("locked_until", Time),
            ("created_at", Time),
            ("updated_at", Time),
            ("last_login_at", Time),
        ],
        order_by: "id",
    },
    Table {
        name: "persons",
        columns: &[
            ("id", Int),
            ("full_name", Text),
            ("code", Text),
            ("department", Text),
            ("phone", Text),
            ("email", Text),
            ("badge", Text),
            ("notes", Text),
            ("active", Int),
            ("created_at", Time),
            ("updated_at", Time),
            ("deleted_at", Time),
        ],
        order_by: "id",
    },
    Table {
        name: "keys",
        columns: &[
            ("id", Int),
            ("number", Text),
            ("name", Text),
            ("location", Text),
            ("key_type", Text),
            ("copies_note", Text),
            ("status", Text),
            ("holder_person_id", Int),
            ("issued_at", Time),
            ("due_back_at", Time),
            ("created_at", Time),
            ("updated_at", Time),
            ("deleted_at", Time),
        ],
        order_by: "id",
    },
    Table {
        name: "groups",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("description", Text),
            ("created_at", Time),
            ("updated_at", Time),
        ],
        order_by: "id",
    },
    Table {
        name: "group_members",
        columns: &[("group_id", Int), ("person_id", Int)],
        order_by: "group_id, person_id",
    },
    Table {
        name: "group_keys",
        columns: &[("group_id", Int), ("key_id", Int)],
        order_by: "group_id, key_id",
    },
    Table {
        name: "key_sets",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("tag", Text),
            ("created_at", Time),
            ("updated_at", Time),
            ("deleted_at", Time),
        ],
        order_by: "id",
    },
    Table {
        name: "key_set_keys",
        columns: &[("set_id", Int), ("key_id", Int)],
        order_by: "set_id, key_id",
    },
    Table {
        name: "receipts",
        columns: &[
            ("number", Int),
            ("kind", Text),
            ("at", Time),
            ("person_id", Int),
            ("user_id", Int),
            ("actor", Text),
            ("due_back_at", Time),
            ("set_id", Int),
            ("site_name", Text),
            ("terms_lv", Text),
            ("terms_en", Text),
            ("signature", Text),
            ("printed", Int),
        ],
        order_by: "number",
    },
    Table {
        name: "areas",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("description", Text),
            ("created_at", Time),
            ("updated_at", Time),
            ("deleted_at", Time),
        ],
        order_by: "id",
    },
    Table {
        name: "key_areas",
        columns: &[("key_id", Int), ("area_id", Int)],
        order_by: "key_id, area_id",
    },
    Table {
        name: "key_log",
        columns: &[
            ("id", Int),
            ("action", Text),
            ("key_id", Int),
            ("person_id", Int),
            ("user_id", Int),
            ("actor", Text),
            ("at", Time),
            ("due_back_at", Time),
            ("comment", Text),
            ("override_reason", Text),
            ("receipt_number", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "stocktakes",
        columns: &[
            ("id", Int),
            ("started_at", Time),
            ("started_by", Text),
            ("finished_at", Time),
            ("finished_by", Text),
            ("report", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "stocktake_scans",
        columns: &[
            ("stocktake_id", Int),
            ("key_id", Int),
            ("at", Time),
            ("actor", Text),
        ],
        order_by: "stocktake_id, key_id",
    },
    Table {
        name: "clearances",
        columns: &[
            ("number", Int),
            ("person_id", Int),
            ("at", Time),
            ("user_id", Int),
            ("actor", Text),
            ("site_name", Text),
            ("override_reason", Text),
            ("still_held", Text),
            ("printed", Int),
        ],
        order_by: "number",
    },
    Table {
        name: "audit_log",
        columns: &[
            ("id", Int),
            ("at", Time),
            ("actor", Text),
            ("component", Text),
            ("record_id", Text),
            ("operation", Text),
            ("before", Text),
            ("after", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "backups",
        columns: &[
            ("id", Int),
            ("kind", Text),
            ("started_at", Time),
            ("finished_at", Time),
            ("destination", Text),
            ("file_name", Text),
            ("size_bytes", Int),
            ("sha256", Text),
            ("encrypted", Int),
            ("pinned", Int),
            ("status", Text),
            ("steps", Text),
            ("error", Text),
            ("pruned_at", Time),
        ],
        order_by: "id",
    },
];

/// True when a spreadsheet would read a cell starting this way as a formula (OWASP's
/// list: `= + - @`, and tab / carriage return, which some programs strip first).
fn formula_start(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Neutralises a text for a spreadsheet: a leading `'` makes Excel and LibreOffice show
/// it as text instead of running it. For exports people read (key log, audit).
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if formula_start(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The reversible form "Export all" uses: formula starts and a leading `'` itself get one
/// `'` in front, and the empty text (not NULL) is a lone `'`, so NULL (an empty cell) and
/// "" stay apart. [`unescape_roundtrip`] removes exactly one leading `'`, which is exact
/// because every cell of ours that starts with `'` got it from here.
pub(crate) fn escape_roundtrip(s: &str) -> Cow<'_, str> {
    if s.is_empty() {
        Cow::Borrowed("'")
    } else if formula_start(s) || s.starts_with('\'') {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The inverse of [`escape_roundtrip`] for a non-empty cell.
pub(crate) fn unescape_roundtrip(s: &str) -> &str {
    s.strip_prefix('\'').unwrap_or(s)
}

/// ISO 8601 UTC with a `Z`, written without a format string (the key-log export writes a
/// million of these). Out-of-range values fall back to the number.
pub fn iso_utc_into(ts: i64, out: &mut String) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write as _;
    match chrono::DateTime::from_timestamp(ts, 0) {
        Some(t) if (0..=9999).contains(&t.year()) => {
            let two = |out: &mut String, v: u32| {
                out.push((b'0' + (v / 10) as u8) as char);
                out.push((b'0' + (v % 10) as u8) as char);
            };
            let y = t.year() as u32;
            two(out, y / 100);
            two(out, y % 100);
            out.push('-');
            two(out, t.month());
            out.push('-');
            two(out, t.day());
            out.push('T');
            two(out, t.hour());
            out.push(':');
            two(out, t.minute());
            out.push(':');
            two(out, t.second());
            out.push('Z');
        }
        _ => {
            let _ = write!(out, "{ts}");
        }
    }
}

/// Reads what [`iso_utc_into`] wrote (or plain Unix seconds).
pub(crate) fn parse_iso_utc(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// A writer that hashes and counts what passes through it.
pub(crate) struct HashingWriter<W: Write> {
    pub inner: W,
    hasher: Sha256,
    pub bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A CSV writer as every export uses it: RFC 4180, CRLF line ends (what Excel writes).
pub(crate) fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .buffer_capacity(256 * 1024)
        .from_writer(w)
}

pub(crate) fn csv_err(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("write", path, io),
        other => Error::io("write", path, std::io::Error::other(format!("{other:?}"))),
    }
}

/// A file written as `NAME.partial` and renamed into place once complete and flushed,
/// so a failed or cancelled export never leaves a file that looks finished.
pub(crate) struct PartialFile {
    pub partial: PathBuf,
    pub target: PathBuf,
    done: bool,
}

impl PartialFile {
    pub fn new(target: &Path) -> PartialFile {
        PartialFile {
            partial: crate::db::suffixed(target, ".partial"),
            target: target.to_path_buf(),
            done: false,
        }
    }
    pub fn create(&self) -> Result<std::fs::File> {
        if let Some(dir) = self.target.parent() {
            if !dir.as_os_str().is_empty() && !dir.is_dir() {
                return Err(Error::invalid(
                    "out",
                    format!("the folder {} does not exist", dir.display()),
                ));
            }
        }
        std::fs::File::create(&self.partial).map_err(|e| Error::io("create", &self.partial, e))
    }
    /// Renames the flushed, closed file to the target name.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.partial, &self.target)
            .map_err(|e| Error::io("rename", &self.partial, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Records one export in the audit trail (component `export`, operation `export`).
pub(crate) fn audit_export(
    store: &mut crate::Store,
    actor: &crate::Actor,
    needed: crate::Role,
    what: &str,
    detail: serde_json::Value,
) -> Result<()> {
    store.write(actor, needed, "export", |tx, now| {
        crate::audit::Change::new(&actor.name, "export", "export")
            .after(serde_json::json!({"what": what, "detail": detail}))
            .record(tx, now)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_the_roundtrip_form_is_reversible() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("-5"), "'-5");
        assert_eq!(neutralise("Jānis"), "Jānis");
        for s in [
            "=x",
            "+x",
            "-x",
            "@x",
            "\tx",
            "\rx",
            "'x",
            "''",
            "x",
            "Bērziņš",
            "",
        ] {
            let e = escape_roundtrip(s);
            assert!(!formula_start(&e), "{e}");
            assert!(!e.is_empty());
            assert_eq!(unescape_roundtrip(&e), s);
        }
    }

    #[test]
    fn iso_times_are_written_and_read_back() {
        let mut s = String::new();
        iso_utc_into(1_767_225_600, &mut s);
        assert_eq!(s, "2026-01-01T00:00:00Z");
        assert_eq!(s, crate::time::iso_utc(1_767_225_600));
        assert_eq!(parse_iso_utc(&s), Some(1_767_225_600));
        s.clear();
        iso_utc_into(-1, &mut s);
        assert_eq!(parse_iso_utc(&s), Some(-1));
    }
}
