//! Restoring a backup: verify it completely (its schema must be exactly ours at its
//! version), build a new database from this build's own schema and copy the backup's
//! rows into it (migrating an older one forward there; a newer one is refused) while a
//! pinned safety backup of the live database is taken on the other core, write the restore's audit
//! row into the new database and its line into the journal, then copy the new database
//! into the live one with SQLite's backup API. That copy is one write transaction on the
//! live file: a crash at any instant leaves the old register or the new, each with a
//! trail that tells its own story, and the live file is never renamed (renaming over an
//! open database is not atomic on Windows).

use std::path::{Path, PathBuf};

use rusqlite::backup::Backup;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::json;

use super::{archive, journal, BackupRequest, Kind, Manifest};
use crate::audit::{self, Change};
use crate::db::suffixed;
use crate::error::{Error, Result};
use crate::store::{Actor, Role, Store};
use crate::work::{work_dir, Cancel, Locations, Progress, WorkDir};

/// Which parts to restore (the reference's component selection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Components {
    pub database: bool,
    pub config: bool,
}

impl Default for Components {
    fn default() -> Self {
        Components {
            database: true,
            config: true,
        }
    }
}

/// What to restore and how: the user's choices.
#[derive(Debug, Clone, Copy)]
pub struct Choice<'a> {
    /// The backup archive.
    pub file: &'a Path,
    /// Its passphrase, when it is encrypted.
    pub passphrase: Option<&'a str>,
    pub components: Components,
    /// Go on past the preview's warnings (the user saw them and confirmed).
    pub force: bool,
}

/// What a restore would do or did.
#[derive(Debug, Clone, Serialize)]
pub struct RestorePreview {
    pub file: PathBuf,
    pub manifest: Manifest,
    /// Rows per table now, and in the backup.
    pub counts_now: std::collections::BTreeMap<String, i64>,
    pub counts_backup: std::collections::BTreeMap<String, i64>,
    /// Things worth a second look that are not damage (older schema, fewer movements),
    /// in English.
    pub warnings: Vec<String>,
    /// The same, as a code and its values, for a front end to say in its language
    /// (`restore_warning.<code>` in the window's catalogues).
    pub warning_codes: Vec<PreviewWarning>,
    pub safety_backup: Option<PathBuf>,
    /// Set when the register that was replaced failed SQLite's own checks (what they
    /// found): `safety_backup` is then a copy of it as it was (`…-damaged.sqlite`), not
    /// a verified backup.
    pub safety_backup_damaged: Option<String>,
    pub applied: bool,
}

/// One warning of a restore preview: `older_schema` (`from`, `to`) or `fewer_movements`
/// (`backup`, `now`).
#[derive(Debug, Clone, Serialize)]
pub struct PreviewWarning {
    pub code: &'static str,
    pub vars: serde_json::Value,
}

/// Verifies `file` and says what restoring it would change, without changing anything;
/// reports `verify` progress as it reads the backup (seconds for a large one), and stops
/// when cancelled. Only an admin may look inside a backup: it holds every record and the
/// audit trail.
pub fn preview(
    store: &Store,
    actor: &Actor,
    loc: &Locations,
    file: &Path,
    passphrase: Option<&str>,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<RestorePreview> {
    actor.require(Role::Admin, "restore backups")?;
    let counts_now = archive::table_counts(store.conn());
    let (now, backup) = (store.now(), (file, passphrase));
    Ok(check_beside(counts_now, loc, now, backup, progress, cancel)?.2)
}

/// The backup `file` checked whole in a work folder of its own (`verify` progress as it
/// is read), and its preview beside what the register holds now (`counts_now`).
fn check_beside(
    counts_now: Result<std::collections::BTreeMap<String, i64>>,
    loc: &Locations,
    now: i64,
    (file, passphrase): (&Path, Option<&str>),
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<(WorkDir, archive::Checked, RestorePreview)> {
    let work = work_dir(loc, now)?;
    archive::check_sidecar(file)?;
    let checked = archive::check_reporting(file, passphrase, &work.0, cancel, progress)?;
    let preview = build_preview(counts_now, file, &checked)?;
    Ok((work, checked, preview))
}

/// The preview of `checked`, beside what the register holds now (`counts_now`: its rows
/// per table, or why they cannot be counted).
fn build_preview(
    counts_now: Result<std::collections::BTreeMap<String, i64>>,
    file: &Path,
    checked: &archive::Checked,
) -> Result<RestorePreview> {
    // What is said of the archive comes from what the check found, not its manifest.
    let m = &Manifest {
        encrypted: checked.encrypted,
        ..checked.manifest.clone()
    };
    let (mut warnings, mut warning_codes) = (Vec::new(), Vec::new());
    if m.schema_version < crate::db::SCHEMA_VERSION {
        warnings.push(format!(
            "the backup has schema {}; it will be brought up to {} while restoring",
            m.schema_version,
            crate::db::SCHEMA_VERSION
        ));
        warning_codes.push(PreviewWarning {
            code: "older_schema",
            vars: json!({"from": m.schema_version, "to": crate::db::SCHEMA_VERSION}),
        });
    }
    // A register too damaged to count is what a restore is for: said, never a refusal.
    let damage = match counts_now {
        Ok(counts) => Ok(counts),
        Err(Error::Database(e)) if crate::db::is_damage(&e) => Err(e.to_string()),
        Err(Error::RegisterDamaged { reason, .. }) => Err(reason),
        Err(e) => return Err(e),
    };
    let counts_now = damage.unwrap_or_else(|reason| {
        warnings.push(format!(
            "the register now cannot be read whole ({reason}): restoring replaces it, and it is kept aside as it is"
        ));
        warning_codes.push(PreviewWarning {
            code: "damaged_register",
            vars: json!({ "reason": reason }),
        });
        Default::default()
    });
    let (in_backup, now) = (
        m.counts.get("key_log").copied().unwrap_or(0),
        counts_now.get("key_log").copied().unwrap_or(0),
    );
    if in_backup < now {
        warnings.push("the backup has fewer key movements than the database now: newer movements will be lost".into());
        warning_codes.push(PreviewWarning {
            code: "fewer_movements",
            vars: json!({"backup": in_backup, "now": now}),
        });
    }
    Ok(RestorePreview {
        file: file.to_path_buf(),
        manifest: m.clone(),
        counts_now,
        counts_backup: m.counts.clone(),
        warnings,
        warning_codes,
        safety_backup: None,
        safety_backup_damaged: None,
        applied: false,
    })
}

/// Restores `file`. Refused without `force` when the preview has warnings. On success
/// the live database holds the backup's data plus one `restore_backup` audit row and the
/// operations journal's history since the backup was made.
pub fn restore(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    choice: Choice<'_>,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<RestorePreview> {
    actor.require(Role::Admin, "restore backups")?;
    let counts_now = archive::table_counts(store.conn());
    let Ready {
        work,
        checked,
        mut preview,
        config,
    } = ready(counts_now, loc, store.now(), choice, progress, cancel)?;
    let Choice {
        file, components, ..
    } = choice;

    // Two pieces of work at once, one per core, neither touching the live register: the
    // database to restore is built anew from this build's own schema, the backup's rows
    // copied into its tables (`db::rebuild_from`), so nothing the file defines
    // (a trigger, a view, a default) ever runs or reaches the live register, and an
    // older schema is brought up to this version on that copy; meanwhile the pinned
    // safety backup of what is live now is written and verified. The safety backup is
    // recorded only once both are done: if the rebuild fails, it is removed again and
    // nothing was changed.
    std::fs::create_dir_all(loc.safety_dir())
        .map_err(|e| Error::io("create the folder", loc.safety_dir(), e))?;
    let safety_req = BackupRequest {
        kind: Kind::Full,
        destination: loc.safety_dir(),
        site: "safety".into(),
        reason: Some(format!("before restoring {}", file.display())),
        passphrase: None,
        aes: zip::AesMode::Aes256,
        dry_run: false,
        pinned: true,
        compress: false,
    };
    let safety_at = store.now();
    let (rebuilt, (safety, safety_path)) = std::thread::scope(|s| {
        let safety =
            s.spawn(|| super::make_archive(loc, &safety_req, safety_at, &mut |_| {}, cancel));
        let rebuilt = match (&checked.database, components.database) {
            (Some(db), true) => crate::db::rebuild_from(
                db,
                checked.manifest.schema_version,
                &work.0.join("restored.sqlite"),
                &checked.manifest.counts,
                progress,
            )
            .map(Some),
            _ => Ok(None),
        };
        // What is left of the safety backup, if anything, after the rebuild.
        progress(Progress::new("safety backup", 0, 1));
        let safety = safety.join().expect("the safety backup does not panic");
        progress(Progress::new("safety backup", 1, 1));
        (rebuilt, safety)
    });
    let mut rebuilt = match rebuilt {
        Ok(r) => r,
        Err(e) => {
            // Nothing recorded it: deleted as prune deletes a backup, `.sha256` and all.
            if let Ok(made) = &safety {
                let _ = super::retention::delete_pair(&made.file);
            }
            // Made for this restore and empty again: gone, as if nothing was tried.
            let _ = std::fs::remove_dir(loc.safety_dir());
            return Err(rebuild_refusal(file, e));
        }
    };
    // A live register that fails SQLite's own checks is the very case a restore is for:
    // its safety copy cannot be a verified backup, so it is kept aside as it is and the
    // restore goes on. Any other failure of the safety backup stops the restore, with
    // nothing changed.
    let safety_file = match safety {
        Err(Error::BackupFailed { step, reason }) if step == "check" => {
            let kept = keep_damaged(loc, safety_at)?;
            preview.safety_backup_damaged = Some(reason);
            kept
        }
        safety => {
            super::record_outcome(
                store,
                actor,
                loc,
                &safety_req,
                safety_at,
                safety,
                safety_path,
            )?
            .file
        }
    };
    preview.safety_backup = Some(safety_file);
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }

    // Past this point the work is not cancelled. The restore's audit row goes into the
    // new database and its journal line onto the disk *before* the new database replaces
    // the live one in one write transaction: killed at any instant, the register is the
    // old one (its trail untouched) or the new one (its trail saying it was restored).
    // The journal line names the new trail's tip, so whether it took effect can be told.
    progress(Progress::new("apply", 0, 1));
    let now = store.now();
    let detail = restore_detail(loc, &checked, file, components, &preview);
    match rebuilt.as_mut() {
        Some(new_db) => {
            let change = restore_change(actor, &preview, &detail);
            record_in(new_db, loc, now, change, detail)?;
            copy_into_live(new_db, store.conn_mut(), progress)?;
        }
        None => {
            // Configuration only: the trail says so first, then the file is replaced.
            journal(loc, now, &actor.name, "restore_backup", detail.clone());
            store.write(actor, Role::Admin, "restore backups", |tx, now| {
                audit::record(tx, now, restore_change(actor, &preview, &detail))?;
                Ok(())
            })?;
        }
    }
    if let Some(config) = &config {
        config.save(&loc.config_file)?;
    }
    progress(Progress::new("apply", 1, 1));
    preview.applied = true;
    Ok(preview)
}

/// Why the register at `loc` cannot be opened, when it is damaged: the very open of the
/// window and the command-line tool ([`Store::open`], which says
/// [`Error::RegisterDamaged`]). One that opens is refused here: it is restored like any
/// other, by an admin who signed in.
fn damage_of(loc: &Locations) -> Result<String> {
    match Store::open(&loc.database, crate::store::Security::default()) {
        Err(Error::RegisterDamaged { reason, .. }) => Ok(reason),
        Err(e) => Err(e),
        Ok(_) => Err(Error::invalid(
            "database",
            "the register opens, so it is not restored from here: sign in as an admin and restore from Backup & restore (or use `atslegas-cli backup restore`)",
        )),
    }
}

/// [`preview`] for a register that cannot be opened ([`Error::RegisterDamaged`]): the
/// backup checked whole, its counts beside none now, and the `damaged_register` warning.
/// Changes nothing.
pub fn preview_over_damaged(
    loc: &Locations,
    actor: &Actor,
    now: i64,
    file: &Path,
    passphrase: Option<&str>,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<RestorePreview> {
    actor.require(Role::Admin, "restore backups")?;
    let reason = damage_of(loc)?;
    let counts_now = Err(damaged(loc, reason));
    Ok(check_beside(counts_now, loc, now, (file, passphrase), progress, cancel)?.2)
}

fn damaged(loc: &Locations, reason: String) -> Error {
    Error::RegisterDamaged {
        path: loc.database.clone(),
        reason,
    }
}

/// Restores `file` over a register so damaged that it cannot be opened at all
/// ([`Error::RegisterDamaged`]), where nobody can sign in (its users are in the damaged
/// file): the window offers it on its start screen, the command-line tool when
/// `backup restore` finds the register so. A register that opens is refused here.
///
/// The steps are a restore's, but nothing can be copied *into* a file SQLite cannot
/// open: the backup's rows are rebuilt into a new database beside the register; the
/// damaged files (the database and its `-wal`) are copied aside byte for byte, untouched
/// by SQLite (`safety-backups/…-pinned-damaged.sqlite`); the restore's audit row goes
/// into the new database and its journal line onto the disk; then the damaged `-wal` and
/// `-shm` are removed (they would otherwise be replayed into the new file), the new file
/// is renamed into the register's place, and the folder flushed. Killed before the
/// rename, the next start finds the damaged register (and this can be done again; killed
/// in the instant between removing its `-wal` and the rename, without that `-wal`, which
/// the copy holds); after it, the restored one. The only other way would be to delete
/// the register first, which a kill could leave as an empty one.
pub fn restore_over_damaged(
    loc: &Locations,
    actor: &Actor,
    now: i64,
    choice: Choice<'_>,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<RestorePreview> {
    actor.require(Role::Admin, "restore backups")?;
    let reason = damage_of(loc)?;
    let Choice {
        file, components, ..
    } = choice;
    if !components.database {
        return Err(Error::invalid(
            "components",
            "the register cannot be opened, and only restoring its database mends it: restore the database too",
        ));
    }
    let counts_now = Err(damaged(loc, reason.clone()));
    let Ready {
        work: _work,
        checked,
        mut preview,
        config,
    } = ready(counts_now, loc, now, choice, progress, cancel)?;
    let backup_db = (checked.database.as_deref())
        .expect("`ready` refuses a backup without a database when the database is restored");
    let mut restoring = Restoring::beside(&loc.database)?;
    let new_db = crate::db::rebuild_from(
        backup_db,
        checked.manifest.schema_version,
        &restoring.path,
        &checked.manifest.counts,
        progress,
    )
    .map_err(|e| rebuild_refusal(file, e))?;
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    preview.safety_backup_damaged = Some(reason);
    // Past this point the work is not cancelled.
    replace_damaged(
        loc,
        now,
        &mut restoring,
        new_db,
        progress,
        |new_db, kept| {
            preview.safety_backup = Some(kept.to_path_buf());
            let detail = restore_detail(loc, &checked, file, components, &preview);
            let change = restore_change(actor, &preview, &detail);
            record_in(new_db, loc, now, change, detail)
        },
    )?;
    if let Some(config) = &config {
        config.save(&loc.config_file)?;
    }
    progress(Progress::new("apply", 1, 1));
    preview.applied = true;
    Ok(preview)
}

/// Puts `new_db` (built at `restoring`, beside the register) in the place of a register
/// too damaged to open: the damaged files are copied aside byte for byte (`safety
/// backup`), `record` writes the audit row into the new database and the journal line
/// (given where the damaged files are kept), then the new file, flushed and with nothing
/// in a `-wal` of its own, is renamed into place once the damaged `-wal` and `-shm` are
/// gone (they would be replayed into it), and the folder flushed (`apply`). Returns where
/// the damaged files are kept.
fn replace_damaged(
    loc: &Locations,
    now: i64,
    restoring: &mut Restoring,
    mut new_db: Connection,
    progress: &mut dyn FnMut(Progress),
    record: impl FnOnce(&mut Connection, &Path) -> Result<()>,
) -> Result<PathBuf> {
    progress(Progress::new("safety backup", 0, 1));
    let kept = keep_files(loc, now)?;
    progress(Progress::new("safety backup", 1, 1));
    progress(Progress::new("apply", 0, 1));
    record(&mut new_db, &kept)?;
    new_db.pragma_update(None, "journal_mode", "DELETE")?;
    new_db.close().map_err(|(_, e)| e)?;
    std::fs::File::open(&restoring.path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("flush", &restoring.path, e))?;
    remove_if_there(&crate::db::wal_file(&loc.database))?;
    remove_if_there(&suffixed(&loc.database, "-shm"))?;
    std::fs::rename(&restoring.path, &loc.database)
        .map_err(|e| Error::io("put the new register in place of", &loc.database, e))?;
    restoring.placed = true;
    if let Some(dir) = loc.database.parent() {
        super::fsync_dir(dir);
    }
    crate::private::tighten_database(&loc.database);
    Ok(kept)
}

/// For someone with no backup to restore: a new, empty register takes the place of one
/// too damaged to open, which is kept aside byte for byte as a restore over it keeps it
/// (`safety-backups/…-pinned-damaged.sqlite`; someone with SQLite's tools may recover
/// records from it). The new register's trail begins with a `start_over` row naming the
/// kept file, and the journal's line names that row, so `audit verify` takes it as where
/// this trail begins (as it takes a restore). The next start asks for first-run setup.
/// Killed at any instant, the register is the damaged one or the new one. A register
/// that opens is refused.
pub fn start_over_damaged(loc: &Locations, actor: &Actor, now: i64) -> Result<PathBuf> {
    actor.require(Role::Admin, "start a new register")?;
    let reason = damage_of(loc)?;
    let mut restoring = Restoring::beside(&loc.database)?;
    let new_db = crate::db::open(&restoring.path)?;
    crate::private::tighten_database(&restoring.path);
    replace_damaged(
        loc,
        now,
        &mut restoring,
        new_db,
        &mut |_| {},
        |new_db, kept| {
            let detail = json!({ "safety_backup": kept, "safety_backup_damaged": reason });
            let change = Change::new(&actor.name, "database", "start_over").after(detail.clone());
            record_in(new_db, loc, now, change, detail)
        },
    )
}

/// The new register built beside a damaged one: removed, with what SQLite keeps beside
/// it, when the restore stops before it is put in place (a refusal, a cancel, a full
/// disk). Declared before the connection to it, so that closes first.
struct Restoring {
    path: PathBuf,
    placed: bool,
}

impl Restoring {
    /// `database.db.restoring`: beside the register, so the rename into its place stays
    /// on one file system. A killed attempt's leftover goes first.
    fn beside(database: &Path) -> Result<Restoring> {
        let path = suffixed(database, ".restoring");
        remove_database_files(&path)?;
        Ok(Restoring {
            path,
            placed: false,
        })
    }
}

impl Drop for Restoring {
    fn drop(&mut self) {
        if !self.placed {
            let _ = remove_database_files(&self.path);
        }
    }
}

/// Removes the database file `db` and whatever SQLite keeps beside it.
fn remove_database_files(db: &Path) -> Result<()> {
    remove_if_there(db)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        remove_if_there(&suffixed(db, suffix))?;
    }
    Ok(())
}

/// Removes the file `f`; one that is not there is no failure.
fn remove_if_there(f: &Path) -> Result<()> {
    match std::fs::remove_file(f) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", f, e)),
        _ => Ok(()),
    }
}

/// What a restore's audit row and journal line say of it: the backup, the parts restored,
/// where the register it replaced is kept, and the journal's history since the backup
/// was made (which the restored trail would otherwise lack).
fn restore_detail(
    loc: &Locations,
    checked: &archive::Checked,
    file: &Path,
    components: Components,
    preview: &RestorePreview,
) -> serde_json::Value {
    let since: Vec<serde_json::Value> = super::read_journal(loc)
        .into_iter()
        .filter(|l| l["at"].as_i64().unwrap_or(0) >= checked.manifest.created_at)
        .map(without_nested_history)
        .collect();
    json!({
        "file": file, "backup_created_at": checked.manifest.created_at_iso,
        "components": components, "safety_backup": preview.safety_backup,
        "safety_backup_damaged": preview.safety_backup_damaged, "journal_since_backup": since,
    })
}

/// The restore's audit row: the counts it replaced, and its `detail`.
fn restore_change<'a>(
    actor: &'a Actor,
    preview: &RestorePreview,
    detail: &serde_json::Value,
) -> Change<'a> {
    Change::new(&actor.name, "backup", "restore_backup")
        .before(json!({"counts": preview.counts_now}))
        .after(detail.clone())
}

/// Writes `change` (the row a new trail begins with: a restore's, a new register's) into
/// the new database, then its journal line carrying `detail` and naming the new trail's
/// tip (so whether it took effect can be told) onto the disk: both before the new
/// database takes the live one's place.
fn record_in(
    new_db: &mut Connection,
    loc: &Locations,
    now: i64,
    change: Change<'_>,
    mut detail: serde_json::Value,
) -> Result<()> {
    let (actor, operation) = (change.actor, change.operation);
    let tx = new_db.transaction()?;
    audit::record(&tx, now, change)?;
    tx.commit()?;
    detail["audit_tip"] = json!(audit::tip(new_db)?);
    journal(loc, now, actor, operation, detail);
    Ok(())
}

/// A backup checked whole and ready to restore.
struct Ready {
    /// The scratch folder holding the extracted database (removed when dropped).
    work: WorkDir,
    checked: archive::Checked,
    preview: RestorePreview,
    /// The backup's configuration, when it is restored: checked as any on disk is.
    config: Option<crate::config::Config>,
}

/// The `verify` step every restore begins with: the archive checked whole, the preview
/// beside `counts_now`, and the choices checked against what the backup holds. Changes
/// nothing.
fn ready(
    counts_now: Result<std::collections::BTreeMap<String, i64>>,
    loc: &Locations,
    now: i64,
    choice: Choice<'_>,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<Ready> {
    let Choice {
        file,
        passphrase,
        components,
        force,
    } = choice;
    progress(Progress::new("verify", 0, 1));
    let backup = (file, passphrase);
    let (work, checked, preview) = check_beside(counts_now, loc, now, backup, progress, cancel)?;
    if !preview.warnings.is_empty() && !force {
        return Err(Error::invalid(
            "force",
            format!(
                "{}; restore anyway with --force",
                preview.warnings.join("; ")
            ),
        ));
    }
    if components.database && checked.database.is_none() {
        return Err(Error::invalid(
            "components",
            "this backup holds no database (it is a config-only backup)",
        ));
    }
    if components.config && checked.config.is_none() && !components.database {
        return Err(Error::invalid(
            "components",
            "this backup holds no configuration",
        ));
    }
    // The archive's config.json is data like the rest: it must pass every rule a
    // config.json on disk must (paths inside the data folder, security values within
    // their ranges) before anything is replaced, or nothing is.
    let config = match (&checked.config, components.config) {
        (Some(cfg), true) => {
            let mut restored = crate::config::Config::parse(
                &file.join(archive::CONFIG_ENTRY),
                &String::from_utf8_lossy(cfg),
            )?;
            // Where this folder keeps its database and sessions is this computer's
            // layout, not the backup's: the database restored here is the one the next
            // start must open, and the sessions live where this app looks for them.
            let here = crate::config::Config::load_or_create(&loc.config_file)?;
            restored.db.db_file = here.db.db_file;
            restored.client_sessions.session_storage_dir = here.client_sessions.session_storage_dir;
            Some(restored)
        }
        _ => None,
    };
    progress(Progress::new("verify", 1, 1));
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(Ready {
        work,
        checked,
        preview,
        config,
    })
}

/// Keeps the live register aside as it is, before a restore replaces a damaged one:
/// `safety-backups/atslegas-safety-…-pinned-damaged.sqlite`, owner-only. SQLite's
/// backup API copies pages without reading them as rows, so damage inside them does not
/// stop it; when even that fails, the files are copied as they are ([`keep_files`]).
/// Retention never touches it (it deletes only archives).
fn keep_damaged(loc: &Locations, at: i64) -> Result<PathBuf> {
    let target = damaged_copy_name(loc, at);
    let copied = super::snapshot::snapshot(&loc.database, &target, &mut |_| {}, &Cancel::new());
    if copied.is_err() {
        let _ = std::fs::remove_file(&target);
        let _ = std::fs::remove_file(target.with_extension("sqlite-journal"));
        return keep_files(loc, at);
    }
    crate::private::tighten_database(&target);
    Ok(target)
}

/// Where a damaged register is kept: a free name in `safety-backups/`.
fn damaged_copy_name(loc: &Locations, at: i64) -> PathBuf {
    let dir = loc.safety_dir();
    let zip_name = super::naming::free_name(&dir, &super::naming::file_name("safety", at, true));
    dir.join(format!(
        "{}-damaged.sqlite",
        zip_name.trim_end_matches(".zip")
    ))
}

/// Copies the register's database file and its `-wal` aside byte for byte, without
/// SQLite reading them (`safety-backups/…-pinned-damaged.sqlite` and its `-wal`),
/// flushed. The database's copy gets its name only once it is whole (a
/// [`PartialFile`](crate::export::PartialFile) first), so a copy by that name is never
/// half a file.
fn keep_files(loc: &Locations, at: i64) -> Result<PathBuf> {
    std::fs::create_dir_all(loc.safety_dir())
        .map_err(|e| Error::io("create the folder", loc.safety_dir(), e))?;
    let target = damaged_copy_name(loc, at);
    let copy = |from: &Path, to: &Path| {
        std::fs::copy(from, to)
            .and_then(|_| std::fs::File::open(to)?.sync_all())
            .map_err(|e| Error::io("copy", from, e))
    };
    let wal = crate::db::wal_file(&loc.database);
    if wal.exists() {
        copy(&wal, &crate::db::wal_file(&target))?;
    }
    let file = crate::export::PartialFile::new(&target);
    copy(&loc.database, &file.partial)?;
    crate::private::tighten_database(&file.partial);
    file.commit()?;
    super::fsync_dir(&loc.safety_dir());
    crate::private::tighten_database(&target);
    Ok(target)
}

/// A journal line as a restore's history carries it: an earlier restore's line without
/// the lines it carried in turn. Those are in the journal on their own (it is only ever
/// appended to), and each is in this history already or older than the backup being
/// restored; copied again, every restore of the same backup would double the journal
/// and the audit row (twenty restores made a 1 GB journal).
fn without_nested_history(mut line: serde_json::Value) -> serde_json::Value {
    if let Some(detail) = line.get_mut("detail").and_then(|d| d.as_object_mut()) {
        detail.remove("journal_since_backup");
    }
    line
}

/// A backup whose rows break a rule of the register (two users of one name, say) passed
/// SQLite's quick check, which does not compare a table with its indexes, and the
/// rebuild refused it: that is a changed file, said as one, not a database failure.
fn rebuild_refusal(file: &Path, e: Error) -> Error {
    match e {
        Error::Database(rusqlite::Error::SqliteFailure(f, msg))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::CorruptArchive {
                file: file.display().to_string(),
                entry: archive::DB_ENTRY.into(),
                reason: format!(
                    "its rows break a rule of the register ({}): the file was changed outside Atslegas, and is not restored",
                    msg.unwrap_or_else(|| f.to_string())
                ),
            }
        }
        other => other,
    }
}

/// Pages the apply copies between two progress reports (16 MiB at the default page size).
const APPLY_STEP_PAGES: std::ffi::c_int = 4096;

/// Copies `src` over the live database with SQLite's backup API, reporting `apply`
/// progress every [`APPLY_STEP_PAGES`]. It is one write transaction on the live file
/// however many steps it takes: SQLite opens it at the first step and commits it only
/// when the last page is copied, so a crash leaves the old contents or the new. (The
/// source is this restore's own new file, which nothing else writes, so the copy never
/// restarts.)
fn copy_into_live(
    src: &Connection,
    live: &mut Connection,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let backup = Backup::new(src, live)?;
    let mut retries = 0;
    let report = |progress: &mut dyn FnMut(Progress), backup: &Backup| {
        let p = backup.progress();
        let total = p.pagecount.max(1) as u64;
        progress(Progress::new(
            "apply",
            total - (p.remaining as u64).min(total),
            total,
        ));
    };
    loop {
        match backup.step(APPLY_STEP_PAGES)? {
            rusqlite::backup::StepResult::Done => {
                report(progress, &backup);
                return Ok(());
            }
            rusqlite::backup::StepResult::More => report(progress, &backup),
            rusqlite::backup::StepResult::Busy | rusqlite::backup::StepResult::Locked
                if retries < 200 =>
            {
                retries += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            _ => {
                return Err(Error::BackupFailed {
                    step: "apply".into(),
                    reason: "the database stayed locked by another program; close it and try again"
                        .into(),
                })
            }
        }
    }
}
