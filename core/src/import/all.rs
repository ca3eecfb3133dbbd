//! Importing an "Export all" ZIP into an EMPTY database: the register comes back exactly,
//! history as history.
//!
//! - Empty means no users, persons, keys, groups, key-log, audit or backup rows: a new
//!   data folder on which `init` has NOT been run. (`init` would write the first audit
//!   row, and the imported hash chain must start at row 1.) The users come from the
//!   archive, the root user included, with the same ids; an export holds no password
//!   hashes, so every imported user has none and the root's must be set next
//!   (`atslegas-cli user passwd root --password-stdin`). Sign-in is refused until then.
//! - Every id is kept, so references between tables stay as they were.
//! - The key log is inserted in id order through the schema's triggers, which replay each
//!   key's states; keys and persons are inserted in a neutral state for that (available,
//!   active) and given their exported state afterwards, which the triggers check against
//!   the replayed log.
//! - Audit rows are copied with their hashes, the chain is verified inside the
//!   transaction (a broken chain refuses the import), and the import appends its own row
//!   after the imported chain.
//! - No safety backup: the target is empty, so there is nothing to lose.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Transaction};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit;
use crate::error::{Error, Result};
use crate::export::all::{ExportManifest, FORMAT, FORMAT_VERSION};
use crate::export::{parse_iso_utc, unescape_roundtrip, Col, Table, TABLES};
use crate::store::{Actor, Role, Store};
use crate::work::{Cancel, Progress};

/// What `import all` did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportAllReport {
    pub file: PathBuf,
    pub exported_at: String,
    /// Rows per table.
    pub counts: Vec<(String, u64)>,
    pub audit_rows_verified: u64,
    /// The root user's name: it has no password yet.
    pub root_username: Option<String>,
}

/// Largest manifest we read (a real one is a few kB).
const MANIFEST_MAX: u64 = 1 << 20;

fn corrupt(file: &Path, entry: &str, reason: impl Into<String>) -> Error {
    Error::CorruptArchive {
        file: file.display().to_string(),
        entry: entry.into(),
        reason: reason.into(),
    }
}

/// Reads the archive's manifest and checks that this Atslegas can import it.
pub fn read_manifest<R: Read + Seek>(
    file: &Path,
    zip: &mut zip::ZipArchive<R>,
) -> Result<ExportManifest> {
    let mut entry = zip.by_name("manifest.json").map_err(|_| {
        corrupt(
            file,
            "manifest.json",
            "missing: this is not an Atslegas \"Export all\" archive",
        )
    })?;
    let mut text = String::new();
    (&mut entry)
        .take(MANIFEST_MAX)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(file, "manifest.json", e.to_string()))?;
    let m: ExportManifest =
        serde_json::from_str(&text).map_err(|e| corrupt(file, "manifest.json", e.to_string()))?;
    if m.format != FORMAT || m.format_version > FORMAT_VERSION {
        return Err(corrupt(
            file,
            "manifest.json",
            format!(
                "format {} version {} is not one this Atslegas reads (version {FORMAT_VERSION})",
                m.format, m.format_version
            ),
        ));
    }
    if m.schema_version > crate::db::SCHEMA_VERSION {
        return Err(Error::NewerBackup {
            file: file.display().to_string(),
            found: m.schema_version,
            supported: crate::db::SCHEMA_VERSION,
            made_by: m.app_version.clone(),
            app_version: crate::db::APP_VERSION.into(),
        });
    }
    Ok(m)
}

/// Refuses a database that holds anything.
fn ensure_empty(conn: &rusqlite::Connection) -> Result<()> {
    let mut found = Vec::new();
    for t in TABLES {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", t.name), [], |r| {
            r.get(0)
        })?;
        if n > 0 {
            found.push(format!("{n} {}", t.name));
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_rule(
            "database",
            "import_all_not_empty",
            json!({ "tables": found.join(", ") }),
            format!(
                "import all needs an empty database, and this one holds {}; use a new data folder (--data-dir) and do not run init in it first",
                found.join(", ")
            ),
        ))
    }
}

/// Imports `file` (an "Export all" ZIP) into the empty database of `store`, in one
/// transaction.
pub fn import_all(
    store: &mut Store,
    actor: &Actor,
    file: &Path,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ImportAllReport> {
    actor.require(Role::Admin, "import everything")?;
    ensure_empty(store.conn())?;
    let fh = std::fs::File::open(file).map_err(|e| Error::io("open", file, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(fh))
        .map_err(|e| corrupt(file, "zip", e.to_string()))?;
    let manifest = read_manifest(file, &mut zip)?;
    let total: u64 = manifest.files.iter().map(|f| f.rows).sum();
    // One transaction inserts every row into tables with several indexes each: with
    // SQLite's default 2 MB page cache it spills pages to the WAL over and over. A larger
    // cache for this connection while importing, put back afterwards.
    let cache: i64 = store
        .conn()
        .pragma_query_value(None, "cache_size", |r| r.get(0))?;
    store.conn().pragma_update(None, "cache_size", -262_144)?;
    let result = import_in_tx(
        store, actor, file, &mut zip, &manifest, total, progress, cancel,
    );
    store.conn().pragma_update(None, "cache_size", cache)?;
    result
}

#[allow(clippy::too_many_arguments)] // reason: the archive's state, passed through
fn import_in_tx<R: Read + Seek>(
    store: &mut Store,
    actor: &Actor,
    file: &Path,
    zip: &mut zip::ZipArchive<R>,
    manifest: &ExportManifest,
    total: u64,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ImportAllReport> {
    store.write(actor, Role::Admin, "import everything", |tx, now| {
        ensure_empty(tx)?;
        let mut done = 0u64;
        let mut counts = Vec::new();
        let mut staged = Staged::default();
        for t in TABLES {
            let mut rows = 0u64;
            for f in manifest.files.iter().filter(|f| f.table == t.name) {
                rows += import_file(tx, file, zip, manifest, f, t, &mut staged, &mut |n| {
                    done += n;
                    progress(Progress::new("import", done, total));
                    if cancel.is_cancelled() {
                        Err(Error::Cancelled)
                    } else {
                        Ok(())
                    }
                })?;
            }
            let expected = manifest.tables.iter().find(|m| m.name == t.name).map(|m| m.rows);
            if expected.is_some_and(|e| e != rows) {
                return Err(corrupt(file, t.name, format!("{rows} rows, the manifest says {}", expected.unwrap_or(0))));
            }
            if t.name == "key_log" {
                staged.restore(tx, file)?;
            }
            counts.push((t.name.to_string(), rows));
        }
        progress(Progress::new("verify", 0, 1));
        let report = audit::verify(tx)?;
        if !report.ok {
            let p = &report.problems[0];
            return Err(corrupt(file, "audit_log.csv", format!("the audit hash chain does not verify (row {}: {}); nothing was imported", p.id, p.detail)));
        }
        progress(Progress::new("verify", 1, 1));
        // A new database has no secret to sign sessions with until `init`, which an
        // imported one never runs.
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('session_secret', ?1)",
            [crate::random::hex(32)],
        )?;
        let root: Option<String> = tx
            .query_row("SELECT username FROM users WHERE is_root = 1", [], |r| r.get(0))
            .ok();
        super::audit_import(
            tx,
            now,
            actor,
            json!({"file": file, "what": "all", "exported_at": manifest.created_at,
                "counts": counts.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>()}),
        )?;
        Ok(ImportAllReport {
            file: file.to_path_buf(),
            exported_at: manifest.created_at.clone(),
            counts,
            audit_rows_verified: report.rows_checked,
            root_username: root,
        })
    })
}

/// The exported state of persons and keys, set after the key log has been replayed.
#[derive(Default)]
struct Staged {
    /// id -> (active, updated_at, deleted_at), for persons not plainly active.
    persons: Vec<(i64, Value, Value, Value)>,
    /// id -> the exported status, holder, issued_at, due_back_at, updated_at, deleted_at.
    keys: Vec<(i64, [Value; 6])>,
}

impl Staged {
    fn restore(&mut self, tx: &Transaction, file: &Path) -> Result<()> {
        let mut p = tx.prepare(
            "UPDATE persons SET active = ?2, updated_at = ?3, deleted_at = ?4 WHERE id = ?1",
        )?;
        for (id, a, u, d) in self.persons.drain(..) {
            p.execute(rusqlite::params![id, a, u, d])?;
        }
        let mut k = tx.prepare(
            "UPDATE keys SET status = ?2, holder_person_id = ?3, issued_at = ?4, due_back_at = ?5, updated_at = ?6, deleted_at = ?7 WHERE id = ?1",
        )?;
        for (id, v) in self.keys.drain(..) {
            let [s, h, i, d, u, del] = v;
            k.execute(rusqlite::params![id, s, h, i, d, u, del])
                .map_err(|e| {
                    corrupt(
                        file,
                        "keys.csv",
                        format!("key id {id}: its status does not match its key log ({e})"),
                    )
                })?;
        }
        Ok(())
    }
}

/// Reads one CSV entry, checks its SHA-256 and row count against the manifest, and
/// inserts its rows. Returns the rows inserted.
#[allow(clippy::too_many_arguments)] // reason: the archive's state shared across files
fn import_file<R: Read + Seek>(
    tx: &Transaction,
    file: &Path,
    zip: &mut zip::ZipArchive<R>,
    manifest: &ExportManifest,
    f: &crate::export::all::ManifestFile,
    t: &Table,
    staged: &mut Staged,
    tick: &mut dyn FnMut(u64) -> Result<()>,
) -> Result<u64> {
    let entry = zip
        .by_name(&f.name)
        .map_err(|_| corrupt(file, &f.name, "listed in the manifest but missing"))?;
    // The manifest's size bounds what we read: a "zip bomb" stops there and fails the hash.
    let mut hashed = HashingReader {
        inner: entry.take(f.bytes.saturating_add(1)),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let rows = {
        let mut rdr = csv::ReaderBuilder::new().from_reader(&mut hashed);
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| corrupt(file, &f.name, e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        // Columns by the file's header, checked against the table's constant names, so
        // only our own column names ever reach the SQL text.
        let mut cols: Vec<(usize, &'static str, Col)> = Vec::new();
        for (i, h) in header.iter().enumerate() {
            let (name, kind) = t
                .columns
                .iter()
                .find(|(c, _)| c == h)
                .ok_or_else(|| corrupt(file, &f.name, format!("unknown column \"{h}\"")))?;
            cols.push((i, name, *kind));
        }
        let names: Vec<&str> = cols.iter().map(|c| c.1).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            t.name,
            names.join(", "),
            vec!["?"; names.len()].join(", ")
        );
        let mut stmt = tx.prepare(&sql)?;
        let pos = |n: &str| names.iter().position(|c| *c == n);
        let mut rec = csv::StringRecord::new();
        let mut vals: Vec<Value> = Vec::with_capacity(cols.len());
        let mut n = 0u64;
        while rdr
            .read_record(&mut rec)
            .map_err(|e| corrupt(file, &f.name, e.to_string()))?
        {
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            vals.clear();
            for (i, name, kind) in &cols {
                let cell = rec.get(*i).unwrap_or("");
                let v = if cell.is_empty() {
                    Value::Null
                } else {
                    match kind {
                        Col::Text if manifest.neutralised => {
                            Value::Text(unescape_roundtrip(cell).to_string())
                        }
                        Col::Text => Value::Text(cell.to_string()),
                        Col::Int => Value::Integer(cell.parse().map_err(|_| {
                            corrupt(
                                file,
                                &f.name,
                                format!(
                                    "line {line}, column {name}: \"{cell}\" is not a whole number"
                                ),
                            )
                        })?),
                        Col::Time => Value::Integer(parse_iso_utc(cell).ok_or_else(|| {
                            corrupt(
                                file,
                                &f.name,
                                format!("line {line}, column {name}: \"{cell}\" is not a time"),
                            )
                        })?),
                    }
                };
                vals.push(v);
            }
            stage(t.name, &pos, &mut vals, staged);
            stmt.execute(params_from_iter(vals.iter())).map_err(|e| {
                corrupt(
                    file,
                    &f.name,
                    format!("line {line} could not be inserted: {e}"),
                )
            })?;
            n += 1;
            if n.is_multiple_of(10_000) {
                tick(10_000)?;
            }
        }
        tick(n % 10_000)?;
        n
    };
    // Read to the end so the hash covers the whole entry.
    std::io::copy(&mut hashed, &mut std::io::sink())
        .map_err(|e| corrupt(file, &f.name, e.to_string()))?;
    let sha = hex::encode(hashed.hasher.finalize());
    if sha != f.sha256 || hashed.bytes != f.bytes {
        return Err(corrupt(
            file,
            &f.name,
            "its SHA-256 does not match the manifest: the file was changed or damaged",
        ));
    }
    if rows != f.rows {
        return Err(corrupt(
            file,
            &f.name,
            format!("{rows} rows, the manifest says {}", f.rows),
        ));
    }
    Ok(rows)
}

/// Persons go in active and keys available (the key log's triggers then replay every
/// movement); their exported state is remembered and set after the log.
fn stage(
    table: &str,
    pos: &dyn Fn(&str) -> Option<usize>,
    vals: &mut [Value],
    staged: &mut Staged,
) {
    let id = match pos("id").map(|i| &vals[i]) {
        Some(Value::Integer(id)) => *id,
        _ => return,
    };
    let updated = pos("updated_at")
        .map(|i| vals[i].clone())
        .unwrap_or(Value::Null);
    let mut take = |name: &str, neutral: Value| -> Value {
        match pos(name) {
            Some(i) => std::mem::replace(&mut vals[i], neutral),
            None => Value::Null,
        }
    };
    match table {
        "persons" => {
            let active = take("active", Value::Integer(1));
            let deleted = take("deleted_at", Value::Null);
            if active != Value::Integer(1) || deleted != Value::Null {
                staged.persons.push((id, active, updated, deleted));
            } else {
                // Nothing to restore: the neutral values are the exported ones.
            }
        }
        "keys" => {
            let status = take("status", Value::Text("available".into()));
            let holder = take("holder_person_id", Value::Null);
            let issued = take("issued_at", Value::Null);
            let due = take("due_back_at", Value::Null);
            let deleted = take("deleted_at", Value::Null);
            staged
                .keys
                .push((id, [status, holder, issued, due, updated, deleted]));
        }
        _ => {}
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Row counts of every exported table (tests compare a round trip with it).
pub fn table_counts(conn: &rusqlite::Connection) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for t in TABLES {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", t.name), [], |r| {
            r.get(0)
        })?;
        out.insert(t.name.to_string(), n);
    }
    Ok(out)
}
