//! Opening the SQLite file and bringing its schema up to date. Owns the pragmas and the
//! migration list; must never hold domain rules (those live in the schema's triggers and
//! in the concept modules).

use std::path::Path;

pub use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::work::{Cancel, Progress};

/// The schema applied to an empty database; embedded so the binary carries it.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");

/// Numbered migrations after the base schema: `(version it produces, SQL)`. Append only:
/// neither `schema.sql` nor a migration may change once released, because a backup's
/// schema is checked object by object against them ([`foreign_schema`]).
/// The base schema produces version 1.
const MIGRATIONS: &[(i64, &str)] = &[
    (2, MIGRATION_2_FILTER_INDEXES),
    (3, MIGRATION_3_PRUNED_BACKUPS),
    (4, MIGRATION_4_HANDOVER_RECORD),
    (5, MIGRATION_5_KEY_CONTROL),
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

/// Version 4: the handover record (SPEC §10).
/// - `receipts`: one per handover (one person, one moment, one or more keys), numbered
///   1, 2, 3, … per register. The schema enforces it: a new number must be the next one,
///   and no receipt is ever changed or deleted, so none is skipped or reused. A receipt
///   keeps what it showed when it was made (site, terms, signature as SVG path data), so a
///   reprint years later says the same.
/// - `key_log.receipt_number`: the receipt of each movement (NULL for rows written before
///   receipts existed, and for `lost`/`found`); its kind and person must match the row.
/// - `key_sets` and `key_set_keys`: rings of keys handed over as one, found by name or by
///   the tag (barcode) on the ring.
const MIGRATION_4_HANDOVER_RECORD: &str = "
CREATE TABLE key_sets (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (length(trim(name)) > 0),
    tag         TEXT    CHECK (tag IS NULL OR length(trim(tag)) > 0),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE UNIQUE INDEX key_sets_name ON key_sets (name COLLATE NOCASE) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX key_sets_tag  ON key_sets (tag COLLATE NOCASE) WHERE deleted_at IS NULL;
CREATE TABLE key_set_keys (
    set_id  INTEGER NOT NULL REFERENCES key_sets (id),
    key_id  INTEGER NOT NULL REFERENCES keys (id),
    PRIMARY KEY (set_id, key_id)
) WITHOUT ROWID;
CREATE INDEX key_set_keys_key ON key_set_keys (key_id);

CREATE TABLE receipts (
    number       INTEGER PRIMARY KEY CHECK (number >= 1),
    kind         TEXT    NOT NULL CHECK (kind IN ('issue', 'return')),
    at           INTEGER NOT NULL,
    person_id    INTEGER REFERENCES persons (id),
    user_id      INTEGER REFERENCES users (id),
    actor        TEXT    NOT NULL,
    due_back_at  INTEGER,
    set_id       INTEGER REFERENCES key_sets (id),
    site_name    TEXT    NOT NULL,
    terms_lv     TEXT,
    terms_en     TEXT,
    signature    TEXT,
    printed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX receipts_person ON receipts (person_id, at);
CREATE TRIGGER receipts_next_number BEFORE INSERT ON receipts
 WHEN NEW.number IS NOT (SELECT coalesce(max(number), 0) + 1 FROM receipts)
BEGIN
    SELECT RAISE(ABORT, 'atslegas:receipt_not_next');
END;
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
 WHEN NEW.number IS NOT OLD.number OR NEW.kind IS NOT OLD.kind OR NEW.at IS NOT OLD.at
   OR NEW.person_id IS NOT OLD.person_id OR NEW.user_id IS NOT OLD.user_id
   OR NEW.actor IS NOT OLD.actor OR NEW.due_back_at IS NOT OLD.due_back_at
   OR NEW.set_id IS NOT OLD.set_id OR NEW.site_name IS NOT OLD.site_name
   OR NEW.terms_lv IS NOT OLD.terms_lv OR NEW.terms_en IS NOT OLD.terms_en
   OR NEW.signature IS NOT OLD.signature OR NEW.printed < OLD.printed
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;

ALTER TABLE key_log ADD COLUMN receipt_number INTEGER REFERENCES receipts (number);
CREATE INDEX key_log_receipt ON key_log (receipt_number) WHERE receipt_number IS NOT NULL;
CREATE TRIGGER key_log_check_receipt BEFORE INSERT ON key_log WHEN NEW.receipt_number IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'atslegas:receipt_mismatch')
     WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.number = NEW.receipt_number
                          AND r.kind = CASE NEW.action WHEN 'issued' THEN 'issue' WHEN 'returned' THEN 'return' END
                          AND r.person_id IS NEW.person_id);
END;
";

/// Version 5: key control (SPEC §11).
/// - `areas` (doors, rooms) and `key_areas`: which areas each key opens (a master key
///   opens many). Soft-deleted like keys, so an old impact report still names them.
/// - A `lost` key-log row must carry its reason (in `comment`): who lost it, how, when.
/// - `stocktakes` and `stocktake_scans`: a count of the key cabinet. At most one is open;
///   its scans are written while it is open (none dated after its finish: an import
///   writes a finished count's scans after it), and its report once, when it is
///   finished; after that neither changes nor goes away.
/// - `clearances`: the numbered clearance receipt of an offboarding (the person held
///   nothing, or an admin overrode with a reason and what was still held is listed),
///   numbered 1, 2, 3, … as receipts are, never changed or deleted.
///
/// The as-of view needs no new index: `key_log_key` and `key_log_person` (by time) serve
/// it (tests/query_plans.rs).
const MIGRATION_5_KEY_CONTROL: &str = "
CREATE TABLE areas (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (length(trim(name)) > 0),
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE UNIQUE INDEX areas_name ON areas (name COLLATE NOCASE) WHERE deleted_at IS NULL;
CREATE TABLE key_areas (
    key_id   INTEGER NOT NULL REFERENCES keys (id),
    area_id  INTEGER NOT NULL REFERENCES areas (id),
    PRIMARY KEY (key_id, area_id)
) WITHOUT ROWID;
CREATE INDEX key_areas_area ON key_areas (area_id, key_id);

CREATE TRIGGER key_log_lost_reason BEFORE INSERT ON key_log WHEN NEW.action = 'lost'
BEGIN
    SELECT RAISE(ABORT, 'atslegas:lost_reason_required')
     WHERE length(trim(coalesce(NEW.comment, ''))) = 0;
END;

CREATE TABLE stocktakes (
    id           INTEGER PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    started_by   TEXT    NOT NULL,
    finished_at  INTEGER,
    finished_by  TEXT,
    report       TEXT,
    CHECK ((finished_at IS NULL) = (report IS NULL))
);
CREATE UNIQUE INDEX stocktakes_one_open ON stocktakes (finished_at IS NULL) WHERE finished_at IS NULL;
CREATE TRIGGER stocktakes_no_update BEFORE UPDATE ON stocktakes
 WHEN OLD.finished_at IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.started_at IS NOT OLD.started_at
   OR NEW.started_by IS NOT OLD.started_by
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
CREATE TRIGGER stocktakes_no_delete BEFORE DELETE ON stocktakes
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
CREATE TABLE stocktake_scans (
    stocktake_id  INTEGER NOT NULL REFERENCES stocktakes (id),
    key_id        INTEGER NOT NULL REFERENCES keys (id),
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    PRIMARY KEY (stocktake_id, key_id)
) WITHOUT ROWID;
CREATE TRIGGER stocktake_scans_open BEFORE INSERT ON stocktake_scans
BEGIN
    SELECT RAISE(ABORT, 'atslegas:stocktake_finished')
     WHERE NEW.at > (SELECT finished_at FROM stocktakes WHERE id = NEW.stocktake_id);
END;
CREATE TRIGGER stocktake_scans_no_update BEFORE UPDATE ON stocktake_scans
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
CREATE TRIGGER stocktake_scans_no_delete BEFORE DELETE ON stocktake_scans
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;

CREATE TABLE clearances (
    number           INTEGER PRIMARY KEY CHECK (number >= 1),
    person_id        INTEGER NOT NULL REFERENCES persons (id),
    at               INTEGER NOT NULL,
    user_id          INTEGER REFERENCES users (id),
    actor            TEXT    NOT NULL,
    site_name        TEXT    NOT NULL,
    override_reason  TEXT,
    still_held       TEXT    NOT NULL DEFAULT '[]',
    printed          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX clearances_person ON clearances (person_id, at);
CREATE TRIGGER clearances_next_number BEFORE INSERT ON clearances
 WHEN NEW.number IS NOT (SELECT coalesce(max(number), 0) + 1 FROM clearances)
BEGIN
    SELECT RAISE(ABORT, 'atslegas:receipt_not_next');
END;
CREATE TRIGGER clearances_no_update BEFORE UPDATE ON clearances
 WHEN NEW.number IS NOT OLD.number OR NEW.person_id IS NOT OLD.person_id OR NEW.at IS NOT OLD.at
   OR NEW.user_id IS NOT OLD.user_id OR NEW.actor IS NOT OLD.actor
   OR NEW.site_name IS NOT OLD.site_name OR NEW.override_reason IS NOT OLD.override_reason
   OR NEW.still_held IS NOT OLD.still_held OR NEW.printed < OLD.printed
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
CREATE TRIGGER clearances_no_delete BEFORE DELETE ON clearances
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
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
    let mut conn = Connection::open(path)?;
    // Before the pragmas: switching to WAL rewrites the file's header, and a newer
    // Atslegas's file must be left exactly as it is.
    refuse_newer(schema_version(&conn)?)?;
    configure(&mut conn)?;
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
    configure(&mut conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn configure(conn: &mut Connection) -> Result<()> {
    // WAL lets the backup's reader and the UI read while a write happens; FULL sync makes a
    // committed handover survive a power cut (a few ms per write is nothing at a desk).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Checkpoints run off the commit path (crate::checkpoint); this is the backstop.
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        crate::checkpoint::WAL_BACKSTOP_PAGES,
    )?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    wait_for_locks(conn, LOCK_WAIT)?;
    Ok(())
}

/// How long a connection waits for another program's lock (a write by the window while
/// the CLI backs up, an import while a script reads) before "database is locked".
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How often a connection waiting for a lock tries again.
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(1);

/// Makes `conn` wait up to `limit` for a lock another connection holds, trying again
/// every millisecond.
///
/// SQLite's own `busy_timeout` sleeps longer and longer between tries (up to 100 ms). A
/// writer that commits back to back (an import, a script, the Desk during a queue) frees
/// the lock for only microseconds between its transactions, so those sleeps can miss
/// every gap until the timeout: a backup that was made and verified could then not be
/// recorded ("database is locked"). Trying every millisecond finds a gap within a few
/// of the other writer's transactions. A try is a lock attempt on shared memory, so a
/// thousand a second cost nothing to speak of.
pub(crate) fn wait_for_locks(conn: &mut Connection, limit: std::time::Duration) -> Result<()> {
    let mut since = std::time::Instant::now();
    conn.busy_handler(Some(move |tries: i32| {
        if tries == 0 {
            since = std::time::Instant::now();
        }
        if since.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(LOCK_RETRY);
        true
    }))?;
    Ok(())
}

/// One schema object as SQLite keeps it: (type, name, its CREATE statement).
type SchemaObject = (String, String, Option<String>);

/// Every schema object of `conn` but SQLite's own, in the order they were made.
fn schema_objects(conn: &Connection) -> Result<Vec<SchemaObject>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master
          WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The objects this build's own schema has at `version` (the base schema and the
/// migrations up to it, built in memory), and which tables its virtual tables make.
struct Reference {
    objects: Vec<SchemaObject>,
    virtual_tables: Vec<String>,
    /// Each object's table (an index's or a trigger's; a table's own name).
    table_of: std::collections::BTreeMap<String, String>,
}

impl Reference {
    fn at(version: i64) -> Result<Reference> {
        Reference::of(&reference_conn(version)?)
    }

    /// The objects of `conn`, a database of our own making ([`reference_conn`]).
    fn of(conn: &Connection) -> Result<Reference> {
        let objects = schema_objects(conn)?;
        let virtual_tables = objects
            .iter()
            .filter(|(_, _, sql)| {
                sql.as_deref()
                    .is_some_and(|s| s.starts_with("CREATE VIRTUAL TABLE"))
            })
            .map(|(_, name, _)| name.clone())
            .collect();
        let table_of = conn
            .prepare("SELECT name, tbl_name FROM sqlite_master")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Reference {
            objects,
            virtual_tables,
            table_of,
        })
    }

    /// Our tables, without their indexes and triggers (a virtual table makes its own
    /// shadow tables).
    fn create_tables(&self, conn: &Connection) -> Result<()> {
        for (kind, name, sql) in &self.objects {
            if let (true, false, Some(sql)) = (kind == "table", self.is_shadow(name), sql) {
                conn.execute_batch(sql)?;
            }
        }
        Ok(())
    }

    /// Our tables that hold rows of their own: not a virtual table (its content is
    /// rebuilt from the others) nor one of its shadow tables.
    fn row_tables(&self) -> impl Iterator<Item = &str> {
        self.objects
            .iter()
            .filter(|(kind, name, _)| {
                kind == "table" && !self.is_shadow(name) && !self.virtual_tables.contains(name)
            })
            .map(|(_, name, _)| name.as_str())
    }

    /// A table SQLite's FTS5 module makes for one of our virtual tables
    /// (`persons_fts_data`, ...): its text is the module's, not ours.
    fn is_shadow(&self, name: &str) -> bool {
        self.virtual_tables.iter().any(|v| {
            name.strip_prefix(v.as_str())
                .is_some_and(|rest| rest.starts_with('_'))
        })
    }
}

/// (type, name) -> CREATE statement, for comparing two schemas object by object.
fn by_name(
    objects: &[SchemaObject],
) -> std::collections::BTreeMap<(String, String), Option<String>> {
    objects
        .iter()
        .map(|(kind, name, sql)| ((kind.clone(), name.clone()), sql.clone()))
        .collect()
}

/// Compares the schema of a database from outside (a backup's) with the one this build
/// makes at the same `version`: every table, index, trigger and view must be ours, with
/// our definition, and none may be missing. `Ok(Some(reason))` names the first object
/// that differs. A backup is data, never code: an extra trigger would run with the
/// restore's own writes, a dropped one would lift the append-only rule (SPEC §13).
pub(crate) fn foreign_schema(conn: &Connection, version: i64) -> Result<Option<String>> {
    let reference = Reference::at(version)?;
    let ours = by_name(&reference.objects);
    let theirs = by_name(&schema_objects(conn)?);
    let squash = |sql: &Option<String>| {
        sql.as_deref()
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    // The search index's own tables are made by SQLite's FTS5 module, whose wording may
    // change with SQLite: their names are compared, not their text.
    for ((kind, name), sql) in &theirs {
        match ours.get(&(kind.clone(), name.clone())) {
            None => {
                return Ok(Some(format!(
                    "it has a {kind} \"{name}\" that Atslegas never makes"
                )))
            }
            Some(our_sql) if !reference.is_shadow(name) && squash(our_sql) != squash(sql) => {
                return Ok(Some(format!(
                    "its {kind} \"{name}\" is not defined as Atslegas defines it"
                )))
            }
            Some(_) => {}
        }
    }
    if let Some((kind, name)) = ours.keys().find(|k| !theirs.contains_key(*k)) {
        return Ok(Some(format!("its {kind} \"{name}\" is missing")));
    }
    Ok(None)
}

/// Whether the rows of a database from outside (a backup's, already found to have our
/// schema at `version` by [`foreign_schema`]) keep every UNIQUE rule of the register:
/// `Ok(Some(reason))` names the first rule broken.
///
/// `quick_check` reads each table but never compares it with its indexes, so a file
/// whose table holds one user name twice, its index edited to show two names, passes it.
/// A restore builds those indexes from the rows and refuses such a file; this tells the
/// same before anything is built, so `backup verify` and a restore's preview say what
/// the restore would. SQLite's full integrity check of each table that has a UNIQUE
/// index of ours compares every row with every index entry and refuses a UNIQUE index
/// holding a key twice. Those tables are the small ones (users, keys, persons, groups
/// and their links, areas, sets, stocktakes); the key log, the audit trail and the
/// receipts have none, so on the reference register this costs milliseconds.
pub(crate) fn unique_rules_broken(conn: &Connection, version: i64) -> Result<Option<String>> {
    let ours = reference_conn(version)?;
    let reference = Reference::of(&ours)?;
    let unique = ours.prepare(
        "SELECT il.name, il.partial,
                (SELECT group_concat(ii.name, ', ') FROM pragma_index_info(il.name) ii)
           FROM pragma_index_list(?1) il WHERE il.[unique] ORDER BY il.seq",
    );
    let mut unique = unique?;
    for table in reference.row_tables() {
        let rules: Vec<(String, bool, Option<String>)> = unique
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if rules.is_empty() {
            continue;
        }
        let problems: Vec<String> = conn
            .prepare(&format!("PRAGMA integrity_check(\"{table}\")"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if problems.len() == 1 && problems[0] == "ok" {
            continue;
        }
        // The rule the problem names (SQLite names the index), worded as SQLite words a
        // broken one (`UNIQUE users.username`). A table that disagrees with one of its
        // other indexes was changed outside SQLite as surely, and is refused as well.
        let said: Vec<String> = rules
            .iter()
            .filter(|(index, ..)| problems.iter().any(|p| p.contains(index.as_str())))
            .map(|(index, partial, columns)| {
                let columns = columns
                    .as_deref()
                    .unwrap_or(index.as_str())
                    .split(", ")
                    .map(|c| format!("{table}.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let scope = if *partial {
                    " where the rule applies"
                } else {
                    ""
                };
                format!("UNIQUE {columns}{scope}")
            })
            .collect();
        return Ok(Some(if said.is_empty() {
            format!(
                "its table \"{table}\" does not agree with its indexes ({})",
                problems[0]
            )
        } else {
            format!(
                "its rows break a rule of the register ({}: {})",
                said.join("; "),
                problems[0]
            )
        }));
    }
    Ok(None)
}

/// The statement that copies table `name`'s rows from the attached backup `src` into
/// `main` (see [`rebuild_from`]). When both tables have the same columns in the same
/// order (always, for a backup that passed [`foreign_schema`]) and the new table has no
/// index yet, it is the plain `INSERT … SELECT *` that SQLite runs as a transfer: each
/// row's record is copied as it is, without decoding it, several times quicker on a
/// large register. That copies nothing but rows: the new table and its constraints are
/// ours, its indexes and triggers come after, and `quick_check` has already checked
/// every row of the backup against the constraints (NOT NULL, CHECK), which are ours
/// word for word. A table with an index already (a UNIQUE constraint's, in `users`,
/// `keys`, `groups`) would have that index copied too, and the backup's index is not
/// what `quick_check` reads: those few small tables get their rows one by one, by named
/// columns, so SQLite builds the index from the rows and enforces the constraint.
fn copy_rows_sql(conn: &Connection, name: &str) -> Result<String> {
    let columns = |schema: &str| -> Result<Vec<String>> {
        Ok(conn
            .prepare("SELECT name FROM pragma_table_info(?1, ?2)")?
            .query_map([name, schema], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    };
    let ours = columns("main")?;
    let indexed: bool = conn
        .prepare("SELECT count(*) > 0 FROM pragma_index_list(?1, 'main')")?
        .query_row([name], |r| r.get(0))?;
    if !indexed && ours == columns("src")? {
        return Ok(format!(
            "INSERT INTO main.\"{name}\" SELECT * FROM src.\"{name}\""
        ));
    }
    let list = ours
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!(
        "INSERT INTO main.\"{name}\" ({list}) SELECT {list} FROM src.\"{name}\""
    ))
}

/// A database of this build's own making at `version`, in memory: the base schema and
/// the migrations up to it.
fn reference_conn(version: i64) -> Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA_SQL)?;
    for (target, sql) in MIGRATIONS {
        if *target <= version {
            tx.execute_batch(sql)?;
        }
    }
    tx.commit()?;
    Ok(conn)
}

/// Builds a new database at `dest` from this build's own schema at `version` and copies
/// into it the rows of `src` (a backup's database, already found to have exactly our
/// schema at that version by [`foreign_schema`]), table by table ([`copy_rows_sql`]);
/// then migrates it to [`SCHEMA_VERSION`].
///
/// So nothing the backup's file defines ever runs or survives: its tables are read with
/// `trusted_schema=OFF` and plain `SELECT`s from its tables; the new file's tables,
/// indexes, triggers and views are made from our own text, the triggers and indexes
/// only after the rows are in (the key-log triggers would otherwise re-check history
/// that was checked when it was written), and the search indexes are rebuilt from the
/// copied rows, never copied. Fails when `dest` exists.
///
/// Reports `rebuild` progress after each table's rows and each index: a step weighs the
/// rows it reads (`rows`: the backup's row counts per table, as its checked manifest
/// says), so on a large register the bar moves with the time the work takes.
pub(crate) fn rebuild_from(
    src: &Path,
    version: i64,
    dest: &Path,
    rows: &std::collections::BTreeMap<String, i64>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Connection> {
    refuse_newer(version)?;
    if version < 1 {
        return Err(Error::invalid(
            "database",
            "the backup's database has no Atslegas schema",
        ));
    }
    if dest.exists() {
        return Err(Error::invalid(
            "database",
            format!("{} exists already; nothing was changed", dest.display()),
        ));
    }
    // Our schema, in the order SQLite made it.
    let reference = Reference::at(version)?;
    let (objects, virtual_tables) = (&reference.objects, &reference.virtual_tables);
    let src_text = src.to_str().ok_or_else(|| {
        Error::invalid(
            "database",
            format!(
                "the work folder's path {} is not valid Unicode; move the data folder",
                src.display()
            ),
        )
    })?;

    let mut conn = Connection::open(dest)?;
    crate::private::tighten_database(dest);
    conn.pragma_update(None, "trusted_schema", false)?;
    conn.pragma_update(None, "foreign_keys", false)?;
    conn.execute("ATTACH DATABASE ?1 AS src", [src_text])?;
    // What each step reads: a table's rows, once to copy them and once per index.
    let weight = |object: &str| -> u64 {
        let table = reference
            .table_of
            .get(object)
            .map_or(object, String::as_str);
        1 + rows.get(table).copied().unwrap_or(0).max(0) as u64
    };
    let indexes = objects.iter().filter(|(kind, ..)| kind == "index");
    let total = reference.row_tables().map(weight).sum::<u64>()
        + indexes.map(|(_, name, _)| weight(name)).sum::<u64>()
        + objects.len() as u64;
    let mut done = 0;
    let mut step = |w: u64, progress: &mut dyn FnMut(Progress)| {
        done += w;
        progress(Progress::new("rebuild", done.min(total), total));
    };
    progress(Progress::new("rebuild", 0, total));
    let tx = conn.transaction()?;
    reference.create_tables(&tx)?;
    // Rows, table by table (`copy_rows_sql` says how).
    for name in reference.row_tables() {
        tx.execute(&copy_rows_sql(&tx, name)?, [])?;
        step(weight(name), progress);
    }
    for name in virtual_tables {
        tx.execute(
            &format!("INSERT INTO main.\"{name}\" (\"{name}\") VALUES ('rebuild')"),
            [],
        )?;
    }
    // Then indexes, triggers and views, from our text.
    for (kind, name, sql) in objects {
        if let (false, Some(sql)) = (kind == "table", sql) {
            tx.execute_batch(sql)?;
            step(if kind == "index" { weight(name) } else { 1 }, progress);
        }
    }
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()?;
    conn.execute("DETACH DATABASE src", [])?;
    configure(&mut conn)?;
    migrate(&mut conn)?;
    progress(Progress::new("rebuild", total, total));
    Ok(conn)
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

    /// [`rebuild_from`] without row counts (each step weighs one) and without progress.
    fn rebuild(src: &Path, version: i64, dest: &Path) -> Result<Connection> {
        rebuild_from(src, version, dest, &Default::default(), &mut |_| {})
    }

    /// A restore copies every table of a backup that has no UNIQUE constraint with
    /// SQLite's transfer (records copied as they are, `RowCell` or `RowData`), at every
    /// schema version a backup can have: a table that loses it (a generated column, a
    /// mismatch) makes a large restore several times slower, and this says which. The
    /// tables with such a constraint (or a composite key) get their rows decoded and
    /// inserted one by one (`Column`), so the index is built from them, not copied.
    #[test]
    fn a_restore_copies_rows_as_records_except_into_a_unique_index() {
        let dir = tempfile::tempdir().unwrap();
        for version in 1..=SCHEMA_VERSION {
            let src = dir.path().join(format!("backup-{version}.sqlite"));
            reference_conn(version)
                .unwrap()
                .backup(
                    rusqlite::MAIN_DB,
                    &src,
                    None::<fn(rusqlite::backup::Progress)>,
                )
                .unwrap();
            let reference = Reference::at(version).unwrap();
            // As `rebuild_from` makes it: the tables, their indexes and triggers later.
            let conn = Connection::open_in_memory().unwrap();
            reference.create_tables(&conn).unwrap();
            conn.pragma_update(None, "foreign_keys", false).unwrap();
            conn.execute("ATTACH DATABASE ?1 AS src", [src.to_str().unwrap()])
                .unwrap();
            let (mut transferred, mut one_by_one) = (Vec::new(), Vec::new());
            for name in reference.row_tables() {
                let sql = copy_rows_sql(&conn, name).unwrap();
                let ops: Vec<String> = conn
                    .prepare(&format!("EXPLAIN {sql}"))
                    .unwrap()
                    .query_map([], |r| r.get(1))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                if ops.iter().any(|o| o == "RowCell" || o == "RowData") {
                    transferred.push(name);
                } else {
                    assert!(ops.iter().any(|o| o == "Column"), "{name}: {ops:?}");
                    one_by_one.push(name.to_string());
                }
            }
            let with_index: Vec<String> = conn
                .prepare(
                    "SELECT DISTINCT l.name FROM pragma_table_list l, pragma_index_list(l.name) i
                      WHERE l.schema = 'main' ORDER BY l.name",
                )
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<Vec<String>>>()
                .unwrap()
                .into_iter()
                .filter(|t| !reference.is_shadow(t))
                .collect();
            one_by_one.sort();
            assert_eq!(
                one_by_one, with_index,
                "version {version}: exactly the tables with a key or UNIQUE index go row by row"
            );
            assert!(one_by_one.contains(&"users".to_string()));
            for big in ["key_log", "audit_log", "persons"] {
                assert!(transferred.contains(&big), "version {version}: {big}");
            }
            let tables = transferred.len() + one_by_one.len();
            assert!(tables >= 8, "version {version}: {tables} tables");
        }
    }

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

    /// A database whose persons table was edited in its page, as a crafted backup would
    /// be: `from` replaced by `to` (same length) in the table's root page only.
    fn edited_persons(dir: &Path, rows: &str, from: &[u8], to: &[u8]) -> Connection {
        let path = dir.join("edited.sqlite");
        let conn = open(&path).unwrap();
        conn.execute_batch(rows).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        let (root, page_size): (i64, i64) = conn
            .query_row(
                "SELECT rootpage, (SELECT page_size FROM pragma_page_size())
                   FROM sqlite_schema WHERE name = 'persons'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        drop(conn);
        let mut bytes = std::fs::read(&path).unwrap();
        let page = ((root - 1) * page_size) as usize..(root * page_size) as usize;
        let at = bytes[page.clone()]
            .windows(from.len())
            .position(|w| w == from)
            .expect("the row is in the table's root page");
        bytes[page.start + at..page.start + at + to.len()].copy_from_slice(to);
        std::fs::write(&path, bytes).unwrap();
        Connection::open(&path).unwrap()
    }

    #[test]
    fn rows_that_break_a_unique_rule_or_disagree_with_an_index_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let sound = open(&dir.path().join("sound.sqlite")).unwrap();
        assert_eq!(unique_rules_broken(&sound, SCHEMA_VERSION).unwrap(), None);

        let cases = [
            // Two codes made one: the partial UNIQUE index on persons.code is named.
            (
                "INSERT INTO persons (full_name, code, created_at, updated_at)
                     VALUES ('Anna', 'CODE-1', 0, 0), ('Berta', 'CODE-2', 0, 0);",
                "CODE-2",
                "CODE-1",
                "its rows break a rule of the register (UNIQUE persons.code where the rule applies: ",
                "persons_code",
            ),
            // A name changed in the table only: its index (not a UNIQUE one) disagrees.
            (
                "INSERT INTO persons (full_name, created_at, updated_at) VALUES ('Zed-Bee', 0, 0);",
                "Zed-Bee",
                "Zed-Bex",
                "its table \"persons\" does not agree with its indexes (",
                "persons_name",
            ),
        ];
        for (rows, from, to, starts, index) in cases {
            let case = tempfile::tempdir().unwrap();
            let edited = edited_persons(case.path(), rows, from.as_bytes(), to.as_bytes());
            let said = unique_rules_broken(&edited, SCHEMA_VERSION)
                .unwrap()
                .unwrap();
            assert!(said.starts_with(starts) && said.contains(index), "{said}");
        }
    }

    #[test]
    fn a_rebuilt_database_has_every_row_and_only_our_schema_with_its_rules_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let src_path = dir.path().join("backup.sqlite");
        let src = open(&src_path).unwrap();
        src.execute_batch(
            "INSERT INTO users (id, username, password_hash, role, is_root, created_at, updated_at)
                 VALUES (1, 'root', 'x', 'admin', 1, 0, 0), (2, 'vera', 'y', 'viewer', 0, 0, 0);
             INSERT INTO persons (id, full_name, code, created_at, updated_at)
                 VALUES (1, 'Jānis Bērziņš', 'P1', 0, 0);
             INSERT INTO keys (id, number, name, created_at, updated_at)
                 VALUES (1, 'K-1', 'Room 204', 0, 0), (2, 'K-2', NULL, 0, 0);
             INSERT INTO key_log (action, key_id, person_id, user_id, actor, at)
                 VALUES ('issued', 1, 1, 1, 'root', 10), ('issued', 2, 1, 1, 'root', 11),
                        ('returned', 2, 1, 1, 'root', 12);",
        )
        .unwrap();
        drop(src);

        let dest_path = dir.path().join("rebuilt.sqlite");
        let dest = rebuild(&src_path, SCHEMA_VERSION, &dest_path).unwrap();
        assert_eq!(foreign_schema(&dest, SCHEMA_VERSION).unwrap(), None);
        assert_eq!(schema_version(&dest).unwrap(), SCHEMA_VERSION);
        let src = Connection::open(&src_path).unwrap();
        assert_eq!(
            crate::backup::archive::table_counts(&dest).unwrap(),
            crate::backup::archive::table_counts(&src).unwrap()
        );
        let status: (String, Option<i64>) = dest
            .query_row(
                "SELECT status, holder_person_id FROM keys WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(status, ("issued".into(), Some(1)));
        // The search index was rebuilt from the copied rows.
        let found: i64 = dest
            .query_row(
                "SELECT count(*) FROM persons_fts WHERE persons_fts MATCH 'berzins'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 1);
        // Our rules are in force on the copy.
        assert!(dest
            .execute("UPDATE key_log SET actor = 'someone' WHERE id = 1", [])
            .is_err());
        assert!(dest
            .execute(
                "INSERT INTO key_log (action, key_id, person_id, actor, at) VALUES ('issued', 1, 1, 'x', 20)",
                []
            )
            .is_err());
        // Never over an existing file.
        let again = rebuild(&src_path, SCHEMA_VERSION, &dest_path).unwrap_err();
        assert!(again.to_string().contains("exists already"), "{again}");
    }

    #[test]
    fn an_older_backup_is_rebuilt_at_its_own_version_and_then_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let src_path = dir.path().join("v1.sqlite");
        {
            let conn = Connection::open(&src_path).unwrap();
            conn.execute_batch(SCHEMA_SQL).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO backups (kind, started_at, file_name, status)
                 VALUES ('full', 5, 'a.zip', 'verified')",
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let dest = rebuild(&src_path, 1, &dir.path().join("new.sqlite")).unwrap();
        assert_eq!(schema_version(&dest).unwrap(), SCHEMA_VERSION);
        assert_eq!(foreign_schema(&dest, SCHEMA_VERSION).unwrap(), None);
        let n: i64 = dest
            .query_row(
                "SELECT count(*) FROM backups WHERE pruned_at IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_schema_of_our_own_at_each_version_is_ours_and_any_change_is_named() {
        for version in 1..=SCHEMA_VERSION {
            let mut conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(SCHEMA_SQL).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            for (target, sql) in MIGRATIONS {
                if *target <= version {
                    let tx = conn.transaction().unwrap();
                    apply_migration(&tx, *target, sql).unwrap();
                    tx.commit().unwrap();
                }
            }
            assert_eq!(foreign_schema(&conn, version).unwrap(), None, "v{version}");
        }
        let fresh = || open_in_memory().unwrap();

        let conn = fresh();
        conn.execute_batch(
            "CREATE TRIGGER promote AFTER INSERT ON audit_log
             BEGIN UPDATE users SET role = 'admin'; END;",
        )
        .unwrap();
        let why = foreign_schema(&conn, SCHEMA_VERSION).unwrap().unwrap();
        assert!(why.contains("trigger \"promote\""), "{why}");

        let conn = fresh();
        let guard: String = conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log' LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch(&format!("DROP TRIGGER \"{guard}\""))
            .unwrap();
        let why = foreign_schema(&conn, SCHEMA_VERSION).unwrap().unwrap();
        assert!(why.contains(&format!("\"{guard}\" is missing")), "{why}");

        let conn = fresh();
        conn.execute_batch("CREATE VIEW everyone AS SELECT * FROM users")
            .unwrap();
        assert!(foreign_schema(&conn, SCHEMA_VERSION)
            .unwrap()
            .unwrap()
            .contains("view \"everyone\""));
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

/// What the About screen shows about the database: cheap facts, read in a moment however
/// large the register is. The integrity check is [`check_integrity`], run on demand.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub size_bytes: u64,
    pub wal_bytes: u64,
    pub schema_version: i64,
    pub sqlite_version: String,
}

/// The file named as `path` with `suffix` after it (`database.db` → `database.db-wal`):
/// what SQLite and our own work keep beside a database. Not `with_extension`, which would
/// replace `.db`, nor a `format!` of `display()`, which mangles a path that is not valid
/// Unicode.
pub(crate) fn suffixed(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// The write-ahead log SQLite keeps beside the database `db` (`database.db-wal`).
pub(crate) fn wal_file(db: &Path) -> std::path::PathBuf {
    suffixed(db, "-wal")
}

/// Whether SQLite's error says the file is damaged (not locked, not full, not missing).
pub(crate) fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// The file sizes and versions, for About. Reads no table.
pub fn health(conn: &Connection, path: &Path) -> Result<Health> {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    Ok(Health {
        size_bytes: size(path),
        wal_bytes: size(&wal_file(path)),
        schema_version: schema_version(conn)?,
        sqlite_version: rusqlite::version().to_string(),
    })
}

/// What `PRAGMA integrity_check` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Integrity {
    pub ok: bool,
    /// At most [`INTEGRITY_PROBLEMS_SHOWN`] of SQLite's own descriptions; empty when ok.
    pub problems: Vec<String>,
}

/// How many problems an integrity check reports; one is enough to act on (restore a
/// backup), and a badly damaged file can have millions.
pub const INTEGRITY_PROBLEMS_SHOWN: u32 = 20;

/// Runs SQLite's full integrity check of the register at `path` on a read-only connection
/// of its own, so the Desk (which holds the store) goes on working meanwhile: on a 1 GB
/// register the check reads every page and takes many seconds. Every role may run it (it
/// changes nothing); `cancel` stops it between pages ([`Error::Cancelled`]).
pub fn check_integrity(path: &Path, cancel: &Cancel) -> Result<Integrity> {
    let mut conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    wait_for_locks(&mut conn, LOCK_WAIT)?;
    let stop = cancel.clone();
    conn.progress_handler(10_000, Some(move || stop.is_cancelled()))?;
    let found: rusqlite::Result<Vec<String>> = (|| {
        let mut stmt = conn.prepare(&format!(
            "PRAGMA integrity_check({INTEGRITY_PROBLEMS_SHOWN})"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    })();
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let found = match found {
        // Damage bad enough that SQLite stops reading is a finding, not a failure of
        // the check: it is what the user must hear (SQLite's message, else its code's).
        Err(e) if is_damage(&e) => vec![e.to_string()],
        other => other?,
    };
    let ok = found.len() == 1 && found[0] == "ok";
    Ok(Integrity {
        ok,
        problems: if ok { Vec::new() } else { found },
    })
}
