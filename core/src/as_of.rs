//! The past as it was (SPEC §11): who held each key, or what a person held, at any
//! moment. Read from the key log alone (it is append-only, so the past cannot change):
//! a key's state at a moment is what its latest row at or before that moment says.
//!
//! Each key is one seek in `key_log_key (key_id, at)`; a person's keys are the range of
//! `key_log_person (person_id, at)` before the moment, then one seek per key. No query
//! reads the whole log (tests/query_plans.rs holds the plans).
//!
//! Retiring a key is not a movement, so the key log does not say it; the audit trail
//! does (append-only too, and chained): a key whose latest `keys` audit row at or before
//! the moment says `retired` was retired then. One more seek per key, in
//! `audit_component_record (component, record_id, at)`.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::columns::from_columns;
use crate::error::Result;
use crate::persons::Person;

/// One key at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holding {
    pub key_id: i64,
    pub key_number: String,
    pub key_name: Option<String>,
    pub location: Option<String>,
    /// `issued`, `lost`, `retired` (out of use then: no longer handed out), or
    /// `available` (on its hook, or never moved by then).
    pub status: String,
    /// Who held it (for `issued`), or who had it when it was lost (for `lost`).
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub person_code: Option<String>,
    /// When that state began (its key-log row's time), if the key had moved by then.
    pub since: Option<i64>,
    /// When an issued key was due back.
    pub due_back_at: Option<i64>,
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Holding> {
    Ok(from_columns!(r => Holding {
        key_id, key_number, key_name, location, status, person_id, person_name, person_code,
        since, due_back_at
    }))
}

// The latest row of key k.id at or before ?1, as a correlated seek.
const LATEST: &str = "(SELECT id FROM key_log WHERE key_id = k.id AND at <= ?1
                        ORDER BY at DESC, id DESC LIMIT 1)";

/// A key's state at ?1 from its latest log row `l` (a person's keys: a held key is never
/// retired).
const STATE: &str =
    "CASE l.action WHEN 'issued' THEN 'issued' WHEN 'lost' THEN 'lost' ELSE 'available' END";

/// Whether key `k` was retired at ?1: what its latest `keys` audit row by then says.
const RETIRED: &str = "(SELECT json_extract(a.after, '$.status') FROM audit_log a
                         WHERE a.component = 'keys' AND a.record_id = CAST(k.id AS TEXT)
                           AND a.at <= ?1
                         ORDER BY a.at DESC, a.id DESC LIMIT 1) = 'retired'";

/// What a [`Holding`] reads after its state, from the key's latest row `l` and that row's
/// person `p`; the SQL is `k.id, k.number, k.name, k.location, STATE, COLUMNS`.
const COLUMNS: &str = "
     CASE WHEN l.action IN ('issued', 'lost') THEN l.person_id END,
     CASE WHEN l.action IN ('issued', 'lost') THEN p.full_name END,
     CASE WHEN l.action IN ('issued', 'lost') THEN p.code END,
     l.at,
     CASE WHEN l.action = 'issued' THEN l.due_back_at END";

/// Every key that existed at `at` (Unix seconds; created by then, not yet deleted),
/// with its state then, by number; `key` narrows it to one key number. Paged.
pub fn keys_at(
    conn: &Connection,
    at: i64,
    key: Option<&str>,
    limit: u32,
    offset: u32,
) -> Result<Vec<Holding>> {
    let mut stmt = conn.prepare_cached(&keys_at_sql(key.is_some()))?;
    let rows = match key {
        Some(k) => stmt.query_map(
            params![at, i64::from(limit), i64::from(offset), k.trim()],
            from_row,
        )?,
        None => stmt.query_map(params![at, i64::from(limit), i64::from(offset)], from_row)?,
    };
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The SQL of [`keys_at`]: `?1` the moment, `?2`/`?3` limit and offset, `?4` the key
/// number when `one_key` (the query-plan test reads it). The page of keys is chosen
/// first, so only its keys are looked up in the log (not every key before the sort).
pub fn keys_at_sql(one_key: bool) -> String {
    format!(
        "SELECT k.id, k.number, k.name, k.location,
                CASE WHEN {RETIRED} THEN 'retired' ELSE {STATE} END, {COLUMNS} FROM
           (SELECT id, number, name, location FROM keys
             WHERE created_at <= ?1 AND (deleted_at IS NULL OR deleted_at > ?1){one}
             ORDER BY length(number), number LIMIT ?2 OFFSET ?3) k
           LEFT JOIN key_log l ON l.id = {LATEST}
           LEFT JOIN persons p ON p.id = l.person_id
          ORDER BY length(k.number), k.number",
        one = if one_key { " AND number = ?4" } else { "" }
    )
}

/// The SQL of [`person_at`] (the query-plan test reads it).
pub fn person_at_sql() -> String {
    format!(
        "SELECT k.id, k.number, k.name, k.location, {STATE}, {COLUMNS} FROM key_log l
           JOIN keys k ON k.id = l.key_id
           LEFT JOIN persons p ON p.id = l.person_id
          WHERE l.id IN (SELECT (SELECT id FROM key_log x WHERE x.key_id = mine.key_id AND x.at <= ?1
                                  ORDER BY x.at DESC, x.id DESC LIMIT 1)
                           FROM (SELECT DISTINCT key_id FROM key_log
                                  WHERE person_id = ?2 AND at <= ?1 AND action = 'issued') mine)
            AND l.action = 'issued' AND l.person_id = ?2
          ORDER BY length(k.number), k.number"
    )
}

/// The keys a person held at `at`, by number.
pub fn person_at(conn: &Connection, at: i64, person: &Person) -> Result<Vec<Holding>> {
    let mut stmt = conn.prepare_cached(&person_at_sql())?;
    let rows = stmt.query_map(params![at, person.id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
