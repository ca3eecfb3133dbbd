//! The key log for a date range, as CSV (Excel opens it by double-click) or XLSX (a real
//! spreadsheet: a header row, column widths, times as dates). The fields are the
//! reference's key-log JSON (id, action label, keyNumber, at, userName, comment) plus the
//! person and the due date. Rows stream from one query into the file.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook, XlsxError};
use serde::Serialize;

use super::{
    audit_export, csv_err, csv_writer, iso_utc_into, neutralise, PartialFile, BOM,
    EXCEL_MAX_DATA_ROWS,
};
use crate::error::{Error, Result};
use crate::keylog::{action_label, LogFilter};
use crate::store::{Actor, Role, Store};
use crate::work::{Cancel, Progress};

/// The file types a key-log export can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// From the file name's extension (`.csv`, `.xlsx`).
    pub fn from_path(p: &Path) -> Result<Format> {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            _ => Err(Error::invalid(
                "out",
                format!("{} must end in .csv or .xlsx", p.display()),
            )),
        }
    }
}

/// The header row, in the reference's names.
pub const HEADER: [&str; 9] = [
    "id",
    "action",
    "keyNumber",
    "at",
    "userName",
    "comment",
    "person",
    "personCode",
    "dueBackAt",
];

const SELECT: &str =
    "SELECT l.id, l.action, k.number, l.at, l.actor, l.comment, p.full_name, p.code, l.due_back_at
    FROM key_log l JOIN keys k ON k.id = l.key_id LEFT JOIN persons p ON p.id = l.person_id";

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct KeylogExportReport {
    pub file: PathBuf,
    pub format: Format,
    pub rows: u64,
    pub size: u64,
}

/// Writes key-log rows with `start <= at < end` (Unix seconds) to `out`, as CSV or XLSX
/// by its extension (anyone signed in may: viewers read the log too). Audited.
pub fn export_keylog(
    store: &mut Store,
    actor: &Actor,
    start: i64,
    end: i64,
    out: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<KeylogExportReport> {
    let f = LogFilter {
        start: Some(start),
        end: Some(end),
        ..LogFilter::default()
    };
    export_keylog_filtered(store, actor, &f, out, progress, cancel)
}

/// Writes the key-log rows the Logs screen's filters match (time range, key, person,
/// user, action; every row, oldest first) to `out`, as CSV or XLSX by its extension.
/// Audited, with the filters.
pub fn export_keylog_filtered(
    store: &mut Store,
    actor: &Actor,
    f: &LogFilter,
    out: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<KeylogExportReport> {
    actor.require(Role::Viewer, "export the key log")?;
    if let (Some(start), Some(end)) = (f.start, f.end) {
        if end <= start {
            return Err(Error::invalid_rule(
                "end",
                "range_backwards",
                serde_json::Value::Null,
                "must be after the start",
            ));
        }
    }
    let format = Format::from_path(out)?;
    let file = PartialFile::new(out);
    let (filter, args) = f.where_sql();
    let rows = {
        let tx = store.conn().unchecked_transaction()?;
        let total: u64 = tx.query_row(
            &format!("SELECT count(*) FROM key_log l{filter}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get::<_, i64>(0),
        )? as u64;
        let mut stmt = tx.prepare(&format!("{SELECT}{filter} ORDER BY l.at, l.id"))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        let mut tick = |n: u64| -> Result<()> {
            progress(Progress::new("export", n, total));
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            Ok(())
        };
        match format {
            Format::Csv => write_csv(&mut rows, &file, &mut tick)?,
            Format::Xlsx => write_xlsx(&mut rows, &file, &mut tick)?,
        }
    };
    file.commit()?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    audit_export(
        store,
        actor,
        Role::Viewer,
        "keylog",
        serde_json::json!({"file": out, "format": format,
            "start": f.start.map(crate::time::iso_utc), "end": f.end.map(crate::time::iso_utc),
            "key_id": f.key_id, "person_id": f.person_id, "user": f.actor, "action": f.action,
            "rows": rows}),
    )?;
    Ok(KeylogExportReport {
        file: out.to_path_buf(),
        format,
        rows,
        size,
    })
}

fn write_csv(
    rows: &mut rusqlite::Rows,
    file: &PartialFile,
    tick: &mut dyn FnMut(u64) -> Result<()>,
) -> Result<u64> {
    use std::fmt::Write as _;
    let path = &file.partial;
    let fh = file.create()?;
    // Speed (SPEC §6: at least as fast as `sqlite3 -csv`): one big buffer, one reused
    // record, cells borrowed from SQLite's row (no String per cell), no hashing.
    let mut buf = std::io::BufWriter::with_capacity(1 << 20, fh);
    buf.write_all(BOM)
        .map_err(|e| Error::io("write", path, e))?;
    let mut w = csv_writer(buf);
    w.write_record(HEADER).map_err(|e| csv_err(path, e))?;
    let mut id = String::with_capacity(20);
    let mut at = String::with_capacity(20);
    let mut due = String::with_capacity(20);
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        id.clear();
        let _ = write!(id, "{}", r.get::<_, i64>(0)?);
        at.clear();
        iso_utc_into(r.get(3)?, &mut at);
        due.clear();
        if let Some(d) = r.get::<_, Option<i64>>(8)? {
            iso_utc_into(d, &mut due);
        }
        // A text cell borrowed from the row; NULL is empty.
        let text = |i: usize| -> Result<&str> {
            match r.get_ref(i)? {
                ValueRef::Text(b) => Ok(std::str::from_utf8(b).map_err(rusqlite::Error::from)?),
                _ => Ok(""),
            }
        };
        let cells: [&str; 9] = [
            &id,
            action_label(text(1)?),
            &neutralise(text(2)?),
            &at,
            &neutralise(text(4)?),
            &neutralise(text(5)?),
            &neutralise(text(6)?),
            &neutralise(text(7)?),
            &due,
        ];
        w.write_record(cells).map_err(|e| csv_err(path, e))?;
        n += 1;
        if n.is_multiple_of(50_000) {
            tick(n)?;
        }
    }
    tick(n)?;
    let fh = w
        .into_inner()
        .map_err(|e| Error::io("write", path, e.into_error()))?
        .into_inner()
        .map_err(|e| Error::io("write", path, e.into_error()))?;
    fh.sync_all().map_err(|e| Error::io("flush", path, e))?;
    Ok(n)
}

fn xlsx_err(path: &Path, e: XlsxError) -> Error {
    Error::io("write", path, std::io::Error::other(e.to_string()))
}

/// Column widths in characters, in [`HEADER`] order.
const WIDTHS: [f64; 9] = [10.0, 12.0, 11.0, 20.0, 18.0, 36.0, 28.0, 14.0, 20.0];

fn write_xlsx(
    rows: &mut rusqlite::Rows,
    file: &PartialFile,
    tick: &mut dyn FnMut(u64) -> Result<()>,
) -> Result<u64> {
    let path = &file.partial;
    let e = |x| xlsx_err(path, x);
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let date = XFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let mut n = 0u64;
    let mut sheet_no = 1usize;
    let zone = crate::time::local_zone_name();
    add_sheet(&mut wb, sheet_no, &bold, &zone).map_err(e)?;
    let mut row = 0u32;
    while let Some(r) = rows.next()? {
        if u64::from(row) >= EXCEL_MAX_DATA_ROWS {
            sheet_no += 1;
            let zone = crate::time::local_zone_name();
            add_sheet(&mut wb, sheet_no, &bold, &zone).map_err(e)?;
            row = 0;
        }
        row += 1;
        let ws = wb.worksheet_from_index(sheet_no - 1).map_err(e)?;
        ws.write_number(row, 0, r.get::<_, i64>(0)? as f64)
            .map_err(e)?;
        let action: String = r.get(1)?;
        ws.write_string(row, 1, action_label(&action)).map_err(e)?;
        ws.write_string(row, 2, r.get::<_, String>(2)?).map_err(e)?;
        let at: i64 = r.get(3)?;
        // The desktop's local time, as the window shows it; the header names the zone.
        let local = |t: i64| ExcelDateTime::from_timestamp(crate::time::local_wall_clock(t));
        ws.write_datetime_with_format(row, 3, local(at).map_err(e)?, &date)
            .map_err(e)?;
        ws.write_string(row, 4, r.get::<_, String>(4)?).map_err(e)?;
        for idx in 5..=7usize {
            if let Some(s) = r.get::<_, Option<String>>(idx)? {
                // Written as strings: XLSX cells are typed, so "=..." is never a formula.
                ws.write_string(row, idx as u16, s).map_err(e)?;
            }
        }
        if let Some(d) = r.get::<_, Option<i64>>(8)? {
            ws.write_datetime_with_format(row, 8, local(d).map_err(e)?, &date)
                .map_err(e)?;
        }
        n += 1;
        if n.is_multiple_of(50_000) {
            tick(n)?;
        }
    }
    tick(n)?;
    wb.save(path).map_err(e)?;
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|x| Error::io("flush", path, x))?;
    Ok(n)
}

/// A constant-memory sheet (rows go to a temporary file as they are written: a million
/// rows never sit in memory) with the header row, widths and a frozen header. The two
/// time columns name the zone their local times are in: `at (Europe/Riga)`.
fn add_sheet(
    wb: &mut Workbook,
    no: usize,
    bold: &XFormat,
    zone: &str,
) -> std::result::Result<(), XlsxError> {
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(if no == 1 {
        "Key log".to_string()
    } else {
        format!("Key log {no}")
    })?;
    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for (c, h) in HEADER.iter().enumerate() {
        let h = if matches!(*h, "at" | "dueBackAt") {
            format!("{h} ({zone})")
        } else {
            h.to_string()
        };
        ws.write_string_with_format(0, c as u16, h, bold)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}
