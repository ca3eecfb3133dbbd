//! "Export all": one CSV per table (split into parts above Excel's row limit) and a
//! `manifest.json` with the row count and SHA-256 of each file, in one ZIP. Everything is
//! read inside one read transaction, so the files agree with each other; rows stream
//! from the query straight into the compressed entry.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;

use super::{
    audit_export, csv_err, csv_writer, escape_roundtrip, iso_utc_into, Col, HashingWriter,
    PartialFile, Table, BOM, EXCEL_MAX_DATA_ROWS, TABLES,
};
use crate::error::{Error, Result};
use crate::store::{Actor, Role, Store};
use crate::work::{Cancel, Progress};

/// The `format` of our manifest.
pub const FORMAT: &str = "atslegas-export";
/// Bumped when a reader of an older version could no longer read it.
pub const FORMAT_VERSION: u32 = 1;

/// One CSV file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub table: String,
    /// 1 for the first part.
    pub part: u32,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// One table of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestTable {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<String>,
}

/// `manifest.json`: what the archive holds and how its cells are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    pub format: String,
    pub format_version: u32,
    pub app_version: String,
    pub schema_version: i64,
    pub created_at: String,
    pub created_at_unix: i64,
    pub encoding: String,
    pub times: String,
    /// True: text cells starting with = + - @ tab CR or ' carry one extra leading ', and
    /// an empty text is a lone '. An empty cell is NULL. Importers remove exactly one '.
    pub neutralised: bool,
    pub neutralised_rule: String,
    pub tables: Vec<ManifestTable>,
    pub files: Vec<ManifestFile>,
    /// The newest audit row exported (its id and hash): an anchor of the trail off the
    /// machine, checked by `audit verify --against` (`crate::anchors`). Absent in exports
    /// made before it was written.
    #[serde(default)]
    pub audit_tip: Option<crate::audit::Tip>,
}

/// What "Export all" wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportAllReport {
    pub file: PathBuf,
    pub size: u64,
    pub manifest: ExportManifest,
}

/// Entry names: `users.csv`, or `key_log.part1.csv`, `key_log.part2.csv`, ... when a
/// table has more rows than one Excel sheet holds.
pub(crate) fn part_name(table: &str, part: u32, parts: u32) -> String {
    if parts <= 1 {
        format!("{table}.csv")
    } else {
        format!("{table}.part{part}.csv")
    }
}

/// Writes the whole register to `out` (admins: it holds users and the audit trail).
/// Audited once it is complete (component `export`, operation `export`).
pub fn export_all(
    store: &mut Store,
    actor: &Actor,
    out: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ExportAllReport> {
    actor.require(Role::Admin, "export everything")?;
    let now = store.now();
    let file = PartialFile::new(out);
    let manifest = {
        // A deferred transaction: the first SELECT fixes one version of the database
        // (WAL), which every later SELECT here reads too.
        let tx = store.conn().unchecked_transaction()?;
        write_archive(&tx, &file, now, progress, cancel)?
    };
    let size = std::fs::metadata(&file.partial)
        .map(|m| m.len())
        .unwrap_or(0);
    file.commit()?;
    let counts: serde_json::Map<String, serde_json::Value> = manifest
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.rows.into()))
        .collect();
    audit_export(
        store,
        actor,
        Role::Admin,
        "all",
        serde_json::json!({"file": out, "size": size, "counts": counts}),
    )?;
    Ok(ExportAllReport {
        file: out.to_path_buf(),
        size,
        manifest,
    })
}

fn write_archive(
    conn: &rusqlite::Connection,
    file: &PartialFile,
    now: i64,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ExportManifest> {
    let mut counts = Vec::new();
    for t in TABLES {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", t.name), [], |r| {
            r.get(0)
        })?;
        counts.push(n as u64);
    }
    let total: u64 = counts.iter().sum();
    let fh = file.create()?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::with_capacity(1 << 20, fh));
    let mut manifest = ExportManifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        app_version: crate::db::APP_VERSION.into(),
        schema_version: crate::db::schema_version(conn)?,
        created_at: crate::time::iso_utc(now),
        created_at_unix: now,
        encoding: "UTF-8 with BOM, RFC 4180, CRLF".into(),
        times: "ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ)".into(),
        neutralised: true,
        neutralised_rule: "a text cell starting with = + - @ tab CR or ' has one ' added in front; an empty text is a lone '; an empty cell is NULL".into(),
        tables: Vec::new(),
        files: Vec::new(),
        // Read in the same read transaction as the rows, so it is the exported trail's.
        audit_tip: crate::audit::tip(conn)?,
    };
    let mut done = 0u64;
    for (t, &rows) in TABLES.iter().zip(&counts) {
        let parts = rows.div_ceil(EXCEL_MAX_DATA_ROWS).max(1) as u32;
        let written = write_table(
            conn,
            t,
            parts,
            now,
            &mut zip,
            &mut manifest.files,
            &mut |n| {
                done += n;
                progress(Progress::new("export", done, total));
            },
            cancel,
            &file.partial,
        )?;
        manifest.tables.push(ManifestTable {
            name: t.name.into(),
            rows: written,
            columns: t.columns.iter().map(|(c, _)| (*c).to_string()).collect(),
        });
    }
    zip.start_file("manifest.json", options(now))
        .map_err(|e| zip_err(&file.partial, e))?;
    let text = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    zip.write_all(&text)
        .map_err(|e| Error::io("write", &file.partial, e))?;
    let buf = zip.finish().map_err(|e| zip_err(&file.partial, e))?;
    let fh = buf
        .into_inner()
        .map_err(|e| Error::io("write", &file.partial, e.into_error()))?;
    fh.sync_all()
        .map_err(|e| Error::io("flush", &file.partial, e))?;
    Ok(manifest)
}

/// Every entry's options: deflate, and the export's time as the entry's time.
fn options(at: i64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .last_modified_time(crate::time::zip_time(at))
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
}

fn zip_err(path: &Path, e: zip::result::ZipError) -> Error {
    Error::io("write", path, std::io::Error::other(e.to_string()))
}

#[allow(clippy::too_many_arguments)] // reason: the archive's state shared across tables
fn write_table<W: Write + std::io::Seek>(
    conn: &rusqlite::Connection,
    t: &Table,
    parts: u32,
    at: i64,
    zip: &mut zip::ZipWriter<W>,
    files: &mut Vec<ManifestFile>,
    tick: &mut dyn FnMut(u64),
    cancel: &Cancel,
    path: &Path,
) -> Result<u64> {
    let cols: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        cols.join(", "),
        t.name,
        t.order_by
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut total = 0u64;
    let mut record: Vec<String> = vec![String::new(); cols.len()];
    for part in 1..=parts {
        let name = part_name(t.name, part, parts);
        zip.start_file(name.as_str(), options(at))
            .map_err(|e| zip_err(path, e))?;
        let mut hw = HashingWriter::new(&mut *zip);
        hw.write_all(BOM).map_err(|e| Error::io("write", path, e))?;
        let mut w = csv_writer(hw);
        w.write_record(&cols).map_err(|e| csv_err(path, e))?;
        let mut n = 0u64;
        while n < EXCEL_MAX_DATA_ROWS {
            let Some(r) = rows.next()? else { break };
            for (i, (_, kind)) in t.columns.iter().enumerate() {
                let v = r.get_ref(i)?;
                let out = &mut record[i];
                out.clear();
                match (v, kind) {
                    (ValueRef::Null, _) => {}
                    (ValueRef::Integer(x), Col::Time) => iso_utc_into(x, out),
                    (ValueRef::Integer(x), _) => {
                        use std::fmt::Write as _;
                        let _ = write!(out, "{x}");
                    }
                    (ValueRef::Real(x), _) => {
                        use std::fmt::Write as _;
                        let _ = write!(out, "{x}");
                    }
                    (ValueRef::Text(b), _) => {
                        let s = String::from_utf8_lossy(b);
                        out.push_str(&escape_roundtrip(&s));
                    }
                    (ValueRef::Blob(b), _) => out.push_str(&hex::encode(b)),
                }
            }
            w.write_record(&record).map_err(|e| csv_err(path, e))?;
            n += 1;
            if n.is_multiple_of(10_000) {
                tick(10_000);
                if cancel.is_cancelled() {
                    return Err(Error::Cancelled);
                }
            }
        }
        tick(n % 10_000);
        let hw = w
            .into_inner()
            .map_err(|e| Error::io("write", path, e.into_error()))?;
        let (_, sha256, bytes) = hw.finish();
        files.push(ManifestFile {
            name,
            table: t.name.into(),
            part,
            rows: n,
            bytes,
            sha256,
        });
        total += n;
    }
    Ok(total)
}
