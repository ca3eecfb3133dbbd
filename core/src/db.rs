//! Opening the SQLite file and bringing its schema up to date. Owns the pragmas and the
//! migration list; must never hold domain rules (those live in the schema's triggers and
//! in the concept modules).

use std::path::Path;

pub use rusqlite::Connection;

use crate::error::{Error, Result};

/// The schema applied to an empty database; embedded so the binary carries it.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");

/// Numbered migrations after the base schema: `(version it produces, SQL)`. Append only.
/// The base schema produces version 1.
const MIGRATIONS: &[(i64, &str)] = &[
    (2, MIGRATION_2_FILTER_INDEXES),
    (3, MIGRATION_3_PRUNED_BACKUPS),
];

/// Version 2: indexes for the log screens' filters, found with `atslegas-cli bench` and
/// `EXPLAIN QUERY PLAN` on the reference data set (docs/BENCHMARK.md; tests/query_plans.rs
/// keeps them in use). Without them, filtering the key log by a user with few rows read
/// the whole log (350 ms at 1M rows), and the audit list (newest first, by time) sorted
/// every row of a component before showing one page. One record's audit history keeps
/// its own index, now ending in the time so it is read in order too.
const MIGRATION_2_FILTER_INDEXES: &str = "
CREATE INDEX key_log_actor          ON key_log (actor, at);
CREATE INDEX audit_component_at     ON audit_log (component, at);
DROP INDEX audit_component;
CREATE INDEX audit_component_record ON audit_log (component, record_id, at);
";

/// Version 3: when retention deleted a backup's archive, its history row says so
/// (`backup::retention::prune`), so the history never lists a deleted file as if it
/// could still be restored.
const MIGRATION_3_PRUNED_BACKUPS: &str = "
ALTER TABLE backups ADD COLUMN pruned_at INTEGER;
";

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = 1 + MIGRATIONS.len() as i64;

/// Opens (creating if needed) the database file, sets the pragmas every connection
/// needs, and migrates it to [`SCHEMA_VERSION`]. For copies (a restore's temporary
/// file); a user's register is opened by [`crate::upgrade::open`], which keeps a safety
/// backup of an older database before migrating it.
pub fn open(path: &Path) -> Result<Connection> {
    let mut conn = open_unmigrated(path)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens (creating if needed) the database file with the pragmas every connection needs,
/// and refuses one written by a newer Atslegas. Changes nothing in the file.
pub(crate) fn open_unmigrated(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            crate::private::create_dir_all(parent)?;
        }
    }
    let conn = Connection::open(path)?;
    // Before the pragmas: switching to WAL rewrites the file's header, and a newer
    // Atslegas's file must be left exactly as it is.
    refuse_newer(schema_version(&conn)?)?;
    configure(&conn)?;
    // It holds the password hashes and the session secret; SQLite gives a new `-wal` and
    // `-shm` the database's own permissions.
    crate::private::tighten_database(path);
    Ok(conn)
}

/// A schema newer than this build's is never touched: the error names both versions.
fn refuse_newer(found: i64) -> Result<()> {
    if found > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
            app_version: APP_VERSION.into(),
        });
    }
    Ok(())
}

/// This build's version: the workspace's `[workspace.package] version`, the one version
/// that `--version`, About, backup manifests, exports and the installers all show.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// An in-memory database with the full schema, for tests.
pub fn open_in_memory() -> Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<()> {
    // WAL lets the backup's reader and the UI read while a write happens; FULL sync makes a
    // committed handover survive a power cut (a few ms per write is nothing at a desk).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// The schema version recorded in the file.
pub fn schema_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Applies the base schema to an empty database and then every migration it lacks, each
/// in its own transaction together with the new `user_version`.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let mut version = schema_version(conn)?;
    refuse_newer(version)?;
    if version == 0 {
        let tx = conn.transaction()?;
        tx.execute_batch(SCHEMA_SQL)?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
        version = 1;
    }
    for (target, sql) in MIGRATIONS {
        if *target > version {
            let tx = conn.transaction()?;
            apply_migration(&tx, *target, sql)?;
            tx.commit()?;
            version = *target;
        }
    }
    Ok(())
}

/// Brings a database of schema `from` (at least 1) up to [`SCHEMA_VERSION`] inside the
/// caller's transaction, so the upgrade and its audit row commit together or not at all.
pub(crate) fn migrate_in_tx(tx: &rusqlite::Transaction, from: i64) -> Result<()> {
    for (target, sql) in MIGRATIONS {
        if *target > from {
            apply_migration(tx, *target, sql)?;
        }
    }
    Ok(())
}

fn apply_migration(tx: &rusqlite::Transaction, target: i64, sql: &str) -> Result<()> {
    tx.execute_batch(sql)?;
    tx.pragma_update(None, "user_version", target)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_the_current_schema_version() {
        let conn = open_in_memory().unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let conn = open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = open(&path).unwrap_err();
        assert_eq!(err.code(), "newer_schema");
    }

    #[test]
    fn a_version_1_database_gets_the_filter_indexes_of_version_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_SQL).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let conn = open(&path).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let index = |name: &str| -> bool {
            conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
                == 1
        };
        assert!(index("key_log_actor"));
        assert!(index("audit_component_at"));
        assert!(index("audit_component_record"));
        assert!(!index("audit_component"));
    }

    #[test]
    fn opening_twice_does_not_reapply_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        drop(open(&path).unwrap());
        let conn = open(&path).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}

/// What the About screen shows about the database.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    /// "ok", or the first problems `PRAGMA integrity_check` found.
    pub integrity: String,
    pub ok: bool,
    pub size_bytes: u64,
    pub wal_bytes: u64,
    pub schema_version: i64,
    pub sqlite_version: String,
}

/// Runs `PRAGMA integrity_check` and reads the file sizes. Takes a moment on a large
/// database; call it when the user opens About, not on every paint.
pub fn health(conn: &Connection, path: &Path) -> Result<Health> {
    let problems: Vec<String> = {
        let mut stmt = conn.prepare("PRAGMA integrity_check(20)")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let integrity = problems.join("; ");
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Ok(Health {
        ok: integrity == "ok",
        integrity,
        size_bytes: size(path),
        wal_bytes: size(Path::new(&wal)),
        schema_version: schema_version(conn)?,
        sqlite_version: rusqlite::version().to_string(),
    })
}
