//! The history of backups (the `backups` table). The backup and restore work itself
//! arrives with the backup feature; the dashboard already reads the last verified one.

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

/// When the last verified backup finished (Unix seconds), if there is one.
pub fn last_verified(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT max(finished_at) FROM backups WHERE status = 'verified'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten())
}
