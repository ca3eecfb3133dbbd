//! The history of backups (the `backups` table), and all of its SQL: the row a backup
//! adds, the mark retention puts on the rows of archives it deleted, the last verified
//! backup for the dashboard and the paged history for admins. Rows are never deleted:
//! a pruned backup stays, as history.

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde_json::json;

use super::{BackupReport, BackupRequest};
use crate::error::Result;
use crate::store::{Actor, Role};

/// Adds the history row of a backup in `tx` (with its steps all `ok` when `status` is
/// `verified`, else all `status`); returns its id, which its audit row names.
pub(crate) fn insert_tx(
    tx: &Transaction,
    now: i64,
    req: &BackupRequest,
    r: &BackupReport,
    status: &str,
    error: Option<&str>,
) -> Result<i64> {
    let file_name = r.file.file_name().map(|n| n.to_string_lossy().into_owned());
    tx.execute(
        "INSERT INTO backups (kind, started_at, finished_at, destination, file_name, size_bytes, sha256, encrypted, pinned, status, steps, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        rusqlite::params![
            req.kind.as_str(),
            r.manifest.created_at,
            now,
            req.destination.display().to_string(),
            file_name,
            r.size as i64,
            r.sha256,
            r.encrypted,
            req.pinned,
            status,
            json!([{"name": "snapshot", "status": if status == "verified" { "ok" } else { status }},
                   {"name": "write", "status": if status == "verified" { "ok" } else { status }},
                   {"name": "verify", "status": if status == "verified" { "ok" } else { status }}]).to_string(),
            error,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Says in `tx` that retention deleted the archive `file_name` at `now`. By file name: it
/// holds the site and the second the backup started, and the folder may be reached by
/// another path now than when the backup was made.
pub(crate) fn mark_pruned_tx(tx: &Transaction, file_name: &str, now: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE backups SET pruned_at = ?2 WHERE file_name = ?1 AND pruned_at IS NULL AND status = 'verified'",
    )?
    .execute(rusqlite::params![file_name, now])?;
    Ok(())
}

/// When the last verified backup finished (Unix seconds), if there is one.
pub fn last_verified(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT max(finished_at) FROM backups WHERE status = 'verified'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten())
}

/// How old the register's newest verified backup is, as the dashboard tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupAge {
    /// No verified backup was ever made of this register.
    Never,
    /// The newest verified one is older than `remind_after_days`.
    Overdue,
    /// A verified backup is recent enough.
    Recent,
}

/// The dashboard's backup reminder: how old the last verified backup is, and whether
/// the signed-in user can make one. Backups are admin work (`backup_now` and every
/// backup read require Admin), so anyone else is told to ask an admin, never to press a
/// button they cannot use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reminder {
    pub last_verified: Option<i64>,
    pub age: BackupAge,
    pub remind_after_days: u32,
    /// Whether this user may make a backup (the same check `backup_now` makes).
    pub can_back_up: bool,
}

/// The reminder for `actor` at `now`: `Never` without any verified backup, `Overdue`
/// when the newest is older than `remind_after_days` days.
pub fn reminder(
    conn: &Connection,
    actor: &Actor,
    now: i64,
    remind_after_days: u32,
) -> Result<Reminder> {
    let last_verified = last_verified(conn)?;
    let age = match last_verified {
        None => BackupAge::Never,
        Some(t) if now - t > i64::from(remind_after_days) * 86_400 => BackupAge::Overdue,
        Some(_) => BackupAge::Recent,
    };
    Ok(Reminder {
        last_verified,
        age,
        remind_after_days,
        can_back_up: actor.require(Role::Admin, "make backups").is_ok(),
    })
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
pub fn list(conn: &Connection, actor: &Actor, limit: u32, offset: u32) -> Result<Vec<HistoryRow>> {
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
