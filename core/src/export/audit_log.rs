//! The audit trail for auditors, with the reference's filters (component, record id,
//! actor, operation, since, until, limit, offset), as CSV or JSON. It runs the audit
//! list's own SQL ([`crate::audit::list_sql`]) so the export shows what the screen shows,
//! except that without a `limit` every matching row is written (streamed).

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::params_from_iter;
use serde::Serialize;

use super::{audit_export, csv_err, csv_writer, iso_utc_into, neutralise, PartialFile, BOM};
use crate::audit::AuditFilter;
use crate::error::{Error, Result};
use crate::store::{Actor, Role, Store};
use crate::work::{Cancel, Progress};

/// CSV or JSON, by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    Csv,
    Json,
}

impl AuditFormat {
    pub fn from_path(p: &Path) -> Result<AuditFormat> {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(AuditFormat::Csv),
            Some("json") => Ok(AuditFormat::Json),
            _ => Err(Error::invalid(
                "out",
                format!("{} must end in .csv or .json", p.display()),
            )),
        }
    }
}

pub const HEADER: [&str; 10] = [
    "id",
    "at",
    "actor",
    "component",
    "recordId",
    "operation",
    "before",
    "after",
    "prevHash",
    "hash",
];

#[derive(Debug, Clone, Serialize)]
pub struct AuditExportReport {
    pub file: PathBuf,
    pub format: AuditFormat,
    pub rows: u64,
}

/// Writes the audit rows matching `f` (newest first, like the list) to `out` (admins).
/// `f.limit = None` means all rows. Audited itself, after the rows it wrote.
pub fn export_audit(
    store: &mut Store,
    actor: &Actor,
    f: &AuditFilter,
    out: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<AuditExportReport> {
    actor.require(Role::Admin, "export the audit trail")?;
    let format = AuditFormat::from_path(out)?;
    let (mut sql, mut args) = crate::audit::list_sql(f);
    // list_sql pages with "LIMIT ? OFFSET ?" (its last two arguments); without a limit
    // the export takes every row: LIMIT -1 is SQLite's "no limit".
    // The list caps a page at 1000 rows; an export takes the limit as given.
    let n = args.len();
    args[n - 2] = f.limit.map(i64::from).unwrap_or(-1).into();
    sql = sql.replacen(
        "SELECT id, at, actor, component, record_id, operation, before, after, hash",
        "SELECT id, at, actor, component, record_id, operation, before, after, hash, prev_hash",
        1,
    );
    let file = PartialFile::new(out);
    let rows = {
        let tx = store.conn().unchecked_transaction()?;
        let mut stmt = tx.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let fh = file.create()?;
        let path = &file.partial;
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, fh);
        let mut n = 0u64;
        let io = |e| Error::io("write", path, e);
        match format {
            AuditFormat::Csv => {
                buf.write_all(BOM).map_err(io)?;
                let mut w = csv_writer(&mut buf);
                w.write_record(HEADER).map_err(|e| csv_err(path, e))?;
                let mut at = String::new();
                while let Some(r) = rows.next()? {
                    at.clear();
                    iso_utc_into(r.get(1)?, &mut at);
                    let text = |i: usize| -> rusqlite::Result<String> {
                        Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
                    };
                    let id = r.get::<_, i64>(0)?.to_string();
                    let cells = [
                        id,
                        at.clone(),
                        neutralise(&text(2)?).into_owned(),
                        neutralise(&text(3)?).into_owned(),
                        neutralise(&text(4)?).into_owned(),
                        neutralise(&text(5)?).into_owned(),
                        neutralise(&text(6)?).into_owned(),
                        neutralise(&text(7)?).into_owned(),
                        text(9)?,
                        text(8)?,
                    ];
                    w.write_record(&cells).map_err(|e| csv_err(path, e))?;
                    n += 1;
                    if n.is_multiple_of(10_000) {
                        progress(Progress::new("export", n, 0));
                        if cancel.is_cancelled() {
                            return Err(Error::Cancelled);
                        }
                    }
                }
                w.flush().map_err(io)?;
            }
            AuditFormat::Json => {
                // A JSON array written row by row (before/after stay JSON, not strings).
                buf.write_all(b"[").map_err(io)?;
                while let Some(r) = rows.next()? {
                    let parse = |s: Option<String>| -> serde_json::Value {
                        s.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
                            .unwrap_or(serde_json::Value::Null)
                    };
                    let at: i64 = r.get(1)?;
                    let v = serde_json::json!({
                        "id": r.get::<_, i64>(0)?,
                        "at": crate::time::iso_utc(at),
                        "actor": r.get::<_, String>(2)?,
                        "component": r.get::<_, String>(3)?,
                        "recordId": r.get::<_, Option<String>>(4)?,
                        "operation": r.get::<_, String>(5)?,
                        "before": parse(r.get(6)?),
                        "after": parse(r.get(7)?),
                        "prevHash": r.get::<_, String>(9)?,
                        "hash": r.get::<_, String>(8)?,
                    });
                    if n > 0 {
                        buf.write_all(b",").map_err(io)?;
                    }
                    buf.write_all(b"\n").map_err(io)?;
                    serde_json::to_writer(&mut buf, &v)
                        .map_err(|e| Error::io("write", path, e.into()))?;
                    n += 1;
                    if n.is_multiple_of(10_000) {
                        progress(Progress::new("export", n, 0));
                        if cancel.is_cancelled() {
                            return Err(Error::Cancelled);
                        }
                    }
                }
                buf.write_all(b"\n]\n").map_err(io)?;
            }
        }
        let fh = buf
            .into_inner()
            .map_err(|e| Error::io("write", path, e.into_error()))?;
        fh.sync_all().map_err(|e| Error::io("flush", path, e))?;
        n
    };
    file.commit()?;
    audit_export(
        store,
        actor,
        Role::Admin,
        "audit",
        serde_json::json!({"file": out, "format": format, "rows": rows,
            "filter": {"component": f.component, "record_id": f.record_id, "actor": f.actor,
                "operation": f.operation, "since": f.since, "until": f.until,
                "limit": f.limit, "offset": f.offset}}),
    )?;
    Ok(AuditExportReport {
        file: out.to_path_buf(),
        format,
        rows,
    })
}
