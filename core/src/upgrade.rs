//! Opening a user's register, and bringing one made by an older Atslegas up to this
//! version without risk: a pinned safety backup of the database as it was, then every
//! migration, the backup's history row and an audit row, all in one transaction.
//! Must never touch a database made by a newer Atslegas (refused, nothing changed).

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};
use serde_json::json;

use crate::backup::safety_backup_in_tx;
use crate::db::{self, SCHEMA_VERSION};
use crate::error::{Error, Result};
use crate::store::{Actor, Role, Security, Store};
use crate::work::{Cancel, Locations};

/// Who upgrades: the app itself, on opening a register an older version left behind.
pub fn actor() -> Actor {
    Actor {
        user_id: None,
        name: "app:upgrade".into(),
        role: Role::Admin,
    }
}

impl Store {
    /// Opens the database file; one made by an older Atslegas is upgraded after a pinned
    /// safety backup beside it ([`open`]), one by a newer is refused. It lives here, not in
    /// `store`, so the store (which everything uses) does not reach up to backups.
    ///
    /// A file too damaged for SQLite to open is [`Error::RegisterDamaged`]: nothing but a
    /// restore over it ([`crate::backup::restore::restore_over_damaged`]) can mend it.
    pub fn open(path: &Path, security: Security) -> Result<Store> {
        let now = crate::store::system_clock()();
        let conn = open(path, now).map_err(|e| match e {
            Error::Database(d) if db::is_damage(&d) => Error::RegisterDamaged {
                path: path.to_path_buf(),
                reason: d.to_string(),
            },
            other => other,
        })?;
        Ok(Store::from_connection(conn, security))
    }
}

/// Opens the register's database file (creating an empty one if needed). A database of
/// an older schema is first copied into a pinned safety backup in `safety-backups/`
/// beside it, then migrated; the migration, the backup's history row and the audit row
/// ("database", "upgrade") commit together, so a crash leaves the old database as it was
/// (and a safety backup too many, which is harmless). A newer schema is refused.
pub fn open(path: &Path, now: i64) -> Result<Connection> {
    let mut conn = db::open_unmigrated(path)?;
    let found = db::schema_version(&conn)?;
    if found == 0 || found == SCHEMA_VERSION {
        // An empty file gets the whole schema; nothing to keep a copy of.
        db::migrate(&mut conn)?;
        return Ok(conn);
    }
    let loc = Locations::beside(path);
    let actor = actor();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    db::migrate_in_tx(&tx, found)?;
    // The snapshot reads through its own connection, so it copies the database as last
    // committed: the old schema, before the migration above.
    let backup = match safety_backup_in_tx(
        &tx,
        now,
        &actor,
        &loc,
        format!("before upgrading the database from schema version {found} to {SCHEMA_VERSION}"),
        &Cancel::new(),
    ) {
        Ok(backup) => backup,
        Err(failed) => {
            drop(tx);
            return Err(damage_found(path).unwrap_or(failed));
        }
    };
    crate::audit::Change::new(&actor.name, "database", "upgrade")
        .before(json!({ "schema_version": found }))
        .after(json!({
            "schema_version": SCHEMA_VERSION,
            "app_version": db::APP_VERSION,
            "safety_backup": backup.file,
            "safety_backup_sha256": backup.sha256,
        }))
        .record(&tx, now)?;
    tx.commit()?;
    Ok(conn)
}

/// When an older register's safety backup fails, whether the register itself is damaged
/// (SQLite's integrity check of the file, on a connection of its own). A damaged register
/// cannot be upgraded: it says [`Error::RegisterDamaged`], as one that cannot be opened
/// does, so the window's start screen and `backup restore` offer to restore over it.
/// Without this the user was sent to Settings, in a window that cannot start.
fn damage_found(path: &Path) -> Option<Error> {
    let found = db::check_integrity(path, &Cancel::new()).ok()?;
    if found.ok {
        return None;
    }
    // SQLite's rows start with "*** in database main ***"; the first finding follows.
    let reason = found
        .problems
        .iter()
        .flat_map(|p| p.lines())
        .find(|l| !l.starts_with("***"))
        .unwrap_or("SQLite's integrity check failed");
    Some(Error::RegisterDamaged {
        path: path.to_path_buf(),
        reason: format!("SQLite's integrity check: {reason}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    /// A database as schema version 1 left it (the base schema, nothing migrated).
    fn version_1_database(path: &Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(db::SCHEMA_SQL).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO persons (full_name, code, active, created_at, updated_at)
             VALUES ('Jānis Bērziņš', 'E-1001', 1, 1, 1)",
            [],
        )
        .unwrap();
    }

    fn safety_archives(dir: &Path) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.join("safety-backups"))
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "zip"))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn an_older_database_is_kept_in_a_pinned_safety_backup_then_upgraded_with_an_audit_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("database.db");
        version_1_database(&path);

        let conn = open(&path, NOW).unwrap();
        assert_eq!(db::schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let name: String = conn
            .query_row("SELECT full_name FROM persons", [], |r| r.get(0))
            .unwrap();
        assert_eq!(name, "Jānis Bērziņš");

        // The safety backup holds the database as it was: schema 1, the one person.
        let archives = safety_archives(dir.path());
        assert_eq!(archives.len(), 1, "{archives:?}");
        let work = tempfile::tempdir().unwrap();
        let checked =
            crate::backup::archive::check(&archives[0], None, work.path(), &Cancel::new()).unwrap();
        assert_eq!(checked.manifest.schema_version, 1);
        assert_eq!(checked.manifest.counts.get("persons"), Some(&1));

        // Recorded: a pinned, verified history row and the upgrade's own audit row, in a
        // chain that verifies.
        let (pinned, status): (i64, String) = conn
            .query_row("SELECT pinned, status FROM backups", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((pinned, status.as_str()), (1, "verified"));
        let (actor, before, after): (String, String, String) = conn
            .query_row(
                "SELECT actor, before, after FROM audit_log WHERE operation = 'upgrade'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(actor, "app:upgrade");
        assert!(before.contains("\"schema_version\":1"), "{before}");
        let file_name = archives[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(after.contains(&file_name), "{after}");
        assert!(crate::audit::verify(&conn).unwrap().ok);

        // Opened again: nothing more to do, no second safety backup.
        drop(conn);
        drop(open(&path, NOW + 60).unwrap());
        assert_eq!(safety_archives(dir.path()).len(), 1);
    }

    #[test]
    fn a_new_or_current_database_gets_no_safety_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("database.db");
        drop(open(&path, NOW).unwrap());
        drop(open(&path, NOW).unwrap());
        assert!(safety_archives(dir.path()).is_empty());
        let conn = open(&path, NOW).unwrap();
        let upgrades: i64 = conn
            .query_row(
                "SELECT count(*) FROM audit_log WHERE operation = 'upgrade'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(upgrades, 0);
    }

    #[test]
    fn a_newer_database_is_refused_naming_both_versions_and_is_left_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("database.db");
        {
            let conn = open(&path, NOW).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
            conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        let err = open(&path, NOW).unwrap_err();
        assert_eq!(err.code(), "newer_schema");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("schema version {}", SCHEMA_VERSION + 1))
                && msg.contains(&format!("this is Atslegas {}", db::APP_VERSION))
                && msg.contains(&format!("up to {SCHEMA_VERSION}")),
            "{msg}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert!(safety_archives(dir.path()).is_empty());
    }
}
