//! The history of backups (the `backups` table). The backup and restore work itself
//! arrives with the backup feature; the dashboard already reads the last verified one.

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;
use crate::store::{Actor, Role};

/// When the last verified backup finished (Unix seconds), if there is one.
pub fn last_verified(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT max(finished_at) FROM backups WHERE status = 'verified'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten())
}

/// One row of the backup history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub kind: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub destination: Option<String>,
    pub file_name: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub encrypted: bool,
    pub pinned: bool,
    pub status: String,
    /// `[{name, status}]` as stored.
    pub steps: serde_json::Value,
    pub error: Option<String>,
    /// When retention deleted the archive (the row stays, as history).
    pub pruned_at: Option<i64>,
}

/// The backup history, newest first, paged. Admins only: it names every destination
/// (the role is checked here, in the core, for every front end).
pub fn history(
    conn: &Connection,
    actor: &Actor,
    limit: u32,
    offset: u32,
) -> Result<Vec<HistoryRow>> {
    actor.require(Role::Admin, "see backups")?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, started_at, finished_at, destination, file_name, size_bytes, sha256, encrypted, pinned,
                status, steps, error, pruned_at
           FROM backups ORDER BY started_at DESC, id DESC LIMIT ?1 OFFSET ?2",
    )?;
    let rows = stmt.query_map([i64::from(limit), i64::from(offset)], |r| {
        let steps: String = r.get(11)?;
        Ok(HistoryRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            started_at: r.get(2)?,
            finished_at: r.get(3)?,
            destination: r.get(4)?,
            file_name: r.get(5)?,
            size_bytes: r.get(6)?,
            sha256: r.get(7)?,
            encrypted: r.get(8)?,
            pinned: r.get(9)?,
            status: r.get(10)?,
            steps: serde_json::from_str(&steps).unwrap_or(serde_json::Value::Null),
            error: r.get(12)?,
            pruned_at: r.get(13)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
