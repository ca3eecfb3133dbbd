//! Stocktake: counting the key cabinet with a scanner (SPEC §11). Owns `stocktakes` and
//! `stocktake_scans`.
//!
//! One count is open at a time ([`start`]); each key on the hooks is scanned or typed
//! ([`scan`]), and [`finish`] writes the report once: the keys that should be on a hook
//! and were not scanned (`missing`), and the keys scanned that the register says are
//! out, lost or retired (`unexpected`). The schema keeps a finished count as it was.
//! Each step is audited. The differences are resolved with the usual movements (return,
//! report lost, report found), from the report's screen or the CLI.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::Change;
use crate::error::{Error, Result};
use crate::keys;
use crate::store::{Actor, Role, Store};

/// A key as a stocktake report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedKey {
    pub number: String,
    pub name: Option<String>,
    pub location: Option<String>,
    /// What the register said when the count finished: `available`, `issued`, `lost`,
    /// `retired`.
    pub status: String,
    /// Who holds it, for an issued key.
    pub holder: Option<String>,
}

/// The saved result of a finished count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Keys that should have been on their hooks (available) when the count finished.
    pub expected: i64,
    /// Keys scanned.
    pub counted: i64,
    /// Should be on a hook and were not scanned.
    pub missing: Vec<CountedKey>,
    /// Scanned, but recorded as issued, lost or retired.
    pub unexpected: Vec<CountedKey>,
}

/// One count, open or finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stocktake {
    pub id: i64,
    pub started_at: i64,
    pub started_by: String,
    pub finished_at: Option<i64>,
    pub finished_by: Option<String>,
    /// Keys scanned so far.
    pub counted: i64,
    /// The report, once finished.
    pub report: Option<Report>,
}

/// What one scan found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scan {
    /// What was scanned or typed, trimmed.
    pub text: String,
    /// `expected` (should be on its hook: counted), `unexpected` (counted, but the
    /// register says it is out, lost or retired), `unknown` (no such key: nothing
    /// counted), `repeat` (already counted in this stocktake).
    pub outcome: &'static str,
    pub key: Option<CountedKey>,
    /// Keys counted so far, after this scan.
    pub counted: i64,
}

const SELECT: &str = "SELECT s.id, s.started_at, s.started_by, s.finished_at, s.finished_by,
    (SELECT count(*) FROM stocktake_scans c WHERE c.stocktake_id = s.id), s.report
    FROM stocktakes s";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<(Stocktake, Option<String>)> {
    Ok((
        Stocktake {
            id: r.get(0)?,
            started_at: r.get(1)?,
            started_by: r.get(2)?,
            finished_at: r.get(3)?,
            finished_by: r.get(4)?,
            counted: r.get(5)?,
            report: None,
        },
        r.get(6)?,
    ))
}

fn read(conn: &Connection, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Stocktake>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE {filter}"))?;
    let rows = stmt.query_map(args, from_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut s, report) = row?;
        s.report = report
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(|e| {
                Error::invalid(
                    "report",
                    format!("stocktake {} has an unreadable report: {e}", s.id),
                )
            })?;
        out.push(s);
    }
    Ok(out)
}

/// The open count, if any.
pub fn current(conn: &Connection) -> Result<Option<Stocktake>> {
    Ok(read(conn, "s.finished_at IS NULL", &[])?.pop())
}

/// A count by id (open or finished).
pub fn get(conn: &Connection, id: i64) -> Result<Stocktake> {
    read(conn, "s.id = ?1", &[&id])?
        .pop()
        .ok_or_else(|| Error::NotFound {
            what: "stocktake",
            id: id.to_string(),
        })
}

/// Counts, newest first (reports included), at most `limit`.
pub fn list(conn: &Connection, limit: u32) -> Result<Vec<Stocktake>> {
    read(
        conn,
        "1 = 1 ORDER BY s.id DESC LIMIT ?1",
        &[&i64::from(limit)],
    )
}

fn open_required(conn: &Connection) -> Result<Stocktake> {
    current(conn)?.ok_or_else(|| {
        Error::invalid_rule(
            "stocktake",
            "no_open_stocktake",
            serde_json::Value::Null,
            "no stocktake is open; start one first (stocktake start)",
        )
    })
}

/// Opens a count (operators and admins). Refused while another is open.
pub fn start(store: &mut Store, actor: &Actor) -> Result<Stocktake> {
    store.write(actor, Role::Operator, "count keys", |tx, now| {
        if let Some(open) = current(tx)? {
            return Err(Error::invalid_rule(
                "stocktake",
                "stocktake_open",
                json!({ "id": open.id, "by": open.started_by }),
                format!(
                    "stocktake {} (started by {}) is still open; finish it before starting another",
                    open.id, open.started_by
                ),
            ));
        }
        tx.prepare_cached("INSERT INTO stocktakes (started_at, started_by) VALUES (?1, ?2)")?
            .execute(params![now, actor.name])?;
        let s = get(tx, tx.last_insert_rowid())?;
        Change::new(&actor.name, "stocktakes", "start")
            .on(s.id)
            .after(json!({ "id": s.id }))
            .record(tx, now)?;
        Ok(s)
    })
}

/// A [`CountedKey`] from a row's first five columns: number, name, location, status,
/// the holder's name.
fn counted_key_row(r: &rusqlite::Row) -> rusqlite::Result<CountedKey> {
    Ok(CountedKey {
        number: r.get(0)?,
        name: r.get(1)?,
        location: r.get(2)?,
        status: r.get(3)?,
        holder: r.get(4)?,
    })
}

fn counted_key(k: &keys::Key) -> CountedKey {
    CountedKey {
        number: k.number.clone(),
        name: k.name.clone(),
        location: k.location.clone(),
        status: k.status.clone(),
        holder: k.holder_name.clone(),
    }
}

/// Counts scanned or typed keys into the open count (operators and admins), each text a
/// key number, in one transaction with one audit row. Says for each what it found.
pub fn scan(store: &mut Store, actor: &Actor, texts: &[&str]) -> Result<Vec<Scan>> {
    store.write(actor, Role::Operator, "count keys", |tx, now| {
        let open = open_required(tx)?;
        let mut counted = open.counted;
        let mut out = Vec::with_capacity(texts.len());
        let mut written = Vec::new();
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO stocktake_scans (stocktake_id, key_id, at, actor) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for text in texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let key = match keys::find(tx, text) {
                Ok(k) if k.deleted_at.is_none() => k,
                Ok(_) | Err(Error::NotFound { .. }) => {
                    out.push(Scan { text: text.to_string(), outcome: "unknown", key: None, counted });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let outcome = if insert.execute(params![open.id, key.id, now, actor.name])? == 0 {
                "repeat"
            } else {
                counted += 1;
                written.push(key.number.clone());
                if key.status == "available" {
                    "expected"
                } else {
                    "unexpected"
                }
            };
            out.push(Scan { text: text.to_string(), outcome, key: Some(counted_key(&key)), counted });
        }
        if !written.is_empty() {
            Change::new(&actor.name, "stocktakes", "scan")
                .on(open.id)
                .after(json!({ "keys": written, "counted": counted }))
                .record(tx, now)?;
        }
        Ok(out)
    })
}

/// Finishes the open count (operators and admins): compares the scans with the
/// register, saves the report, audits it. Returns the finished count.
pub fn finish(store: &mut Store, actor: &Actor) -> Result<Stocktake> {
    store.write(actor, Role::Operator, "count keys", |tx, now| {
        let open = open_required(tx)?;
        let report = compare(tx, open.id)?;
        tx.prepare_cached(
            "UPDATE stocktakes SET finished_at = ?2, finished_by = ?3, report = ?4 WHERE id = ?1",
        )?
        .execute(params![
            open.id,
            now,
            actor.name,
            serde_json::to_string(&report).expect("report serialises")
        ])?;
        let numbers =
            |keys: &[CountedKey]| keys.iter().map(|k| k.number.clone()).collect::<Vec<_>>();
        Change::new(&actor.name, "stocktakes", "finish")
            .on(open.id)
            .after(json!({
                "expected": report.expected, "counted": report.counted,
                "missing": numbers(&report.missing), "unexpected": numbers(&report.unexpected)
            }))
            .record(tx, now)?;
        get(tx, open.id)
    })
}

/// The report of count `id` against the register as it is now: one pass over the keys
/// (a seek in the scans' primary key each), whatever was scanned.
fn compare(conn: &Connection, id: i64) -> Result<Report> {
    let mut stmt = conn.prepare_cached(
        "SELECT k.number, k.name, k.location, k.status, p.full_name,
                EXISTS (SELECT 1 FROM stocktake_scans s WHERE s.stocktake_id = ?1 AND s.key_id = k.id)
           FROM keys k LEFT JOIN persons p ON p.id = k.holder_person_id
          WHERE k.deleted_at IS NULL
          ORDER BY length(k.number), k.number",
    )?;
    let rows = stmt.query_map([id], |r| Ok((counted_key_row(r)?, r.get::<_, bool>(5)?)))?;
    let mut report = Report {
        expected: 0,
        counted: 0,
        missing: Vec::new(),
        unexpected: Vec::new(),
    };
    for row in rows {
        let (key, scanned) = row?;
        let on_hook = key.status == "available";
        report.expected += i64::from(on_hook);
        report.counted += i64::from(scanned);
        match (on_hook, scanned) {
            (true, false) => report.missing.push(key),
            (false, true) => report.unexpected.push(key),
            _ => {}
        }
    }
    Ok(report)
}

/// The open count's scans so far, newest first (the Stocktake screen's list).
pub fn scanned(conn: &Connection, id: i64, limit: u32) -> Result<Vec<CountedKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT k.number, k.name, k.location, k.status, p.full_name
           FROM stocktake_scans s JOIN keys k ON k.id = s.key_id
           LEFT JOIN persons p ON p.id = k.holder_person_id
          WHERE s.stocktake_id = ?1 ORDER BY s.at DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![id, i64::from(limit)], counted_key_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
