//! Backups that never lose data: an online snapshot, a `.zip` written as `.partial`,
//! flushed, renamed, the folder flushed, then read back from the drive and verified
//! before it counts as done; a detached `.sha256`; history in the database and in an
//! operations journal beside it (which survives a restore); restore through the backup
//! API into the live database, after a pinned safety backup.
//!
//! Never: copy the live database file, call a backup done before its read-back check,
//! rename anything over the live database, or write a passphrase anywhere.

pub mod archive;
pub mod auto;
pub mod by_hand;
pub mod drives;
mod found;
pub mod history;
mod journal;
mod naming;
mod pdeflate;
pub mod restore;
pub mod retention;
mod snapshot;
mod zipwrite;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::store::{Actor, Role, Store};
use crate::work::{work_dir, Cancel, Locations, Progress};
pub use archive::Manifest;
pub(crate) use found::found_in;
pub use found::{list, verify, Found};
pub use journal::read_journal;
pub(crate) use journal::{journal, journal_anchored};
pub use naming::file_name;
pub(crate) use naming::{free_name, name_parts, split_sequence};
pub use zip::AesMode;

/// What a backup holds (the reference's types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Database and configuration.
    Full,
    Database,
    Config,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind> {
        match s {
            "full" => Ok(Kind::Full),
            "database" => Ok(Kind::Database),
            "config" => Ok(Kind::Config),
            other => Err(Error::invalid(
                "type",
                format!("\"{other}\" is not a backup type; use full, database or config"),
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Database => "database",
            Kind::Config => "config",
        }
    }
}

/// A backup to make.
#[derive(Debug, Clone)]
pub struct BackupRequest {
    pub kind: Kind,
    pub destination: PathBuf,
    pub site: String,
    pub reason: Option<String>,
    /// Encrypt with this passphrase (WinZip AES inside the zip).
    pub passphrase: Option<String>,
    pub aes: AesMode,
    /// Say what would be written and how large, write nothing.
    pub dry_run: bool,
    /// Pinned backups are never pruned (safety backups before a restore).
    pub pinned: bool,
    /// Deflate the entries (the default). Safety backups, which stay on the same disk
    /// in the data folder, are stored uncompressed: several times quicker, and the
    /// user is waiting for the import or restore they protect.
    pub compress: bool,
}

/// What a backup did.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub file: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub encrypted: bool,
    pub verified: bool,
    pub dry_run: bool,
    pub manifest: Manifest,
    /// Estimated size when `dry_run`.
    pub estimated_size: u64,
}

/// The strength rule for a passphrase a person chooses: long, because WinZip AES derives
/// its key with few PBKDF2 rounds.
pub fn check_passphrase(p: &str) -> Result<()> {
    let n = p.chars().count();
    if n < 16 {
        return Err(Error::WeakPassword {
            reason: "a backup passphrase needs at least 16 characters (or use the generated recovery passphrase)".into(),
        });
    }
    crate::users::check_password_strength(p)
}

/// A recovery passphrase: 6 groups of 5 letters and digits without look-alikes (about
/// 150 bits), easy to read aloud and to type from a printout.
pub fn generate_passphrase() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 30];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// FAT32 cannot hold a file of 4 GiB or more.
const FAT32_LIMIT: u64 = 4 * 1024 * 1024 * 1024 - 1;

pub(crate) fn fsync_dir(dir: &Path) {
    // Makes the rename durable. Windows has no directory handles to flush.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Makes a backup: snapshot, archive, `.partial` → flush → rename → flush the folder,
/// read back from the drive and verify, then the `.sha256` beside it, the history row
/// and its audit row. Only then is it reported done. On any failure no file with the
/// final name is left behind.
pub fn create(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    req: &BackupRequest,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<BackupReport> {
    actor.require(Role::Admin, "make backups")?;
    if let Some(p) = &req.passphrase {
        check_passphrase(p)?;
    }
    let now = store.now();
    let (result, final_path) = make_archive(loc, req, now, progress, cancel);
    record_outcome(store, actor, loc, req, now, result, final_path)
}

/// Records what [`make_archive`] did at `now`: a verified backup's history and audit
/// rows, or a failed or cancelled one's (a refusal of the role is not recorded: nothing
/// was tried).
pub(crate) fn record_outcome(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    req: &BackupRequest,
    now: i64,
    result: Result<BackupReport>,
    final_path: PathBuf,
) -> Result<BackupReport> {
    match result {
        Ok(report) => {
            if !req.dry_run {
                // The archive is on the drive and verified: say so, whatever failed here
                // (another program holding the register's write lock past the wait).
                record(store, actor, loc, req, &report, "verified", None).map_err(|e| {
                    // The database's own words: the error's "nothing was changed" is not
                    // true of the drive.
                    let why = match &e {
                        Error::Database(d) => d.to_string(),
                        other => other.message(),
                    };
                    Error::BackupFailed {
                        step: "history".into(),
                        reason: format!(
                            "the backup {} was written and verified and can be restored, \
                             but it could not be listed in the backup history ({why}); \
                             back up again to have it listed",
                            report.file.display(),
                        ),
                    }
                })?;
            }
            Ok(report)
        }
        Err(e) => {
            let failed = BackupReport {
                file: final_path,
                size: 0,
                sha256: String::new(),
                encrypted: req.passphrase.is_some(),
                verified: false,
                dry_run: req.dry_run,
                manifest: empty_manifest(req, now),
                estimated_size: 0,
            };
            if !req.dry_run && !matches!(e, Error::NotAllowed { .. }) {
                let status = if matches!(e, Error::Cancelled) {
                    "cancelled"
                } else {
                    "failed"
                };
                let _ = record(store, actor, loc, req, &failed, status, Some(&e.message()));
            }
            Err(e)
        }
    }
}

/// A pinned safety backup of the database as it was last committed, made while `tx` (a
/// write transaction of the caller's, for example an import, still uncommitted) is
/// open: the snapshot reads through its own connection, so it sees the state before the
/// caller's changes. Its history row and audit row go into `tx`, so they commit (or
/// roll back) with the change they protect. Unencrypted: it stays in the data folder.
pub(crate) fn safety_backup_in_tx(
    tx: &rusqlite::Transaction,
    now: i64,
    actor: &Actor,
    loc: &Locations,
    reason: String,
    cancel: &Cancel,
) -> Result<BackupReport> {
    actor.require(Role::Admin, "make backups")?;
    std::fs::create_dir_all(loc.safety_dir())
        .map_err(|e| Error::io("create the folder", loc.safety_dir(), e))?;
    let req = BackupRequest {
        kind: Kind::Database,
        destination: loc.safety_dir(),
        site: "safety".into(),
        reason: Some(reason),
        passphrase: None,
        aes: AesMode::Aes256,
        dry_run: false,
        pinned: true,
        compress: false,
    };
    let report = make_archive(loc, &req, now, &mut |_| {}, cancel).0?;
    let detail = record_detail(&req, &report, "verified", None);
    // The snapshot's tip, not `tx`'s: the caller's uncommitted rows may yet roll back.
    let tip = report.manifest.audit_tip.clone();
    journal_anchored(
        loc,
        now,
        &actor.name,
        "backup",
        tip.as_ref(),
        detail.clone(),
    );
    record_tx(tx, now, actor, &req, &report, "verified", None, detail)?;
    Ok(report)
}

/// Names the archive (never over an existing file or a `.partial` left by someone
/// else), writes and verifies it; a file that did not verify is removed. Returns the
/// outcome and the archive's path. Records nothing.
pub(crate) fn make_archive(
    loc: &Locations,
    req: &BackupRequest,
    now: i64,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> (Result<BackupReport>, PathBuf) {
    let name = free_name(&req.destination, &file_name(&req.site, now, req.pinned));
    let final_path = req.destination.join(&name);
    let partial = req.destination.join(format!("{name}.partial"));
    let mut renamed = false;
    let result = create_inner(
        loc,
        req,
        &final_path,
        &partial,
        &mut renamed,
        now,
        progress,
        cancel,
    );
    // The .partial is ours (the name was free and it is created with create_new) unless
    // creating it is what failed.
    if !matches!(&result, Err(Error::Io { action: "create", path, .. }) if *path == partial) {
        let _ = std::fs::remove_file(&partial);
    }
    // A file that did not verify must not look like a backup.
    if result.is_err() && renamed {
        let _ = std::fs::remove_file(&final_path);
    }
    (result, final_path)
}

fn empty_manifest(req: &BackupRequest, now: i64) -> Manifest {
    Manifest {
        format_version: archive::FORMAT_VERSION,
        app_version: crate::db::APP_VERSION.into(),
        schema_version: crate::db::SCHEMA_VERSION,
        created_at: now,
        created_at_iso: crate::time::iso_utc(now),
        site: req.site.clone(),
        source_machine: gethostname::gethostname().to_string_lossy().into_owned(),
        kind: req.kind.as_str().into(),
        reason: req.reason.clone(),
        encrypted: req.passphrase.is_some(),
        entries: Vec::new(),
        counts: Default::default(),
        audit_tip: None,
    }
}

/// Refuses, as the failed `step`, a backup folder that is not there (a drive unplugged).
pub(crate) fn ensure_folder(folder: &Path, step: &str) -> Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    Err(Error::BackupFailed {
        step: step.into(),
        reason: format!(
            "{} is not a folder that exists (is the drive plugged in?)",
            folder.display()
        ),
    })
}

#[allow(clippy::too_many_arguments)] // reason: the steps share these; a struct would only rename them
fn create_inner(
    loc: &Locations,
    req: &BackupRequest,
    final_path: &Path,
    partial: &Path,
    renamed: &mut bool,
    now: i64,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<BackupReport> {
    let dest = &req.destination;
    ensure_folder(dest, "destination")?;
    let with_db = req.kind != Kind::Config;
    let with_config = req.kind != Kind::Database;
    let db_size = std::fs::metadata(&loc.database)
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(crate::db::wal_file(&loc.database))
            .map(|m| m.len())
            .unwrap_or(0);
    let estimate = if with_db { db_size } else { 0 } + 64 * 1024;
    let available =
        fs4::available_space(dest).map_err(|e| Error::io("check the free space of", dest, e))?;
    // Room for the archive (at most the database's size: deflate never grows it much).
    if available < estimate + estimate / 50 {
        return Err(Error::NoSpace {
            path: dest.clone(),
            needed: estimate,
            available,
        });
    }
    if estimate > FAT32_LIMIT && is_fat(dest) {
        return Err(Error::TooLargeForFat32 { size: estimate });
    }
    let manifest = empty_manifest(req, now);
    if req.dry_run {
        return Ok(BackupReport {
            file: final_path.to_path_buf(),
            size: 0,
            sha256: String::new(),
            encrypted: req.passphrase.is_some(),
            verified: false,
            dry_run: true,
            manifest,
            estimated_size: estimate,
        });
    }
    if final_path.exists() {
        return Err(Error::BackupFailed {
            step: "destination".into(),
            reason: format!("{} already exists", final_path.display()),
        });
    }
    let work = work_dir(loc, now)?;
    let snap = work.0.join("snapshot.db");
    // The snapshot's own checks (quick_check, foreign keys, counts) run on the second
    // core while the first compresses it; the manifest waits for their result.
    let mut snap_conn = None;
    if with_db {
        snapshot::snapshot(&loc.database, &snap, progress, cancel)?;
        snap_conn = Some(rusqlite::Connection::open_with_flags(
            &snap,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?);
    }
    let config_bytes = if with_config {
        Some(std::fs::read(&loc.config_file).map_err(|e| Error::io("read", &loc.config_file, e))?)
    } else {
        None
    };
    let contents = archive::Contents {
        database: with_db.then_some(snap.as_path()),
        config: config_bytes.as_deref(),
        manifest,
    };
    let pass = req.passphrase.as_deref().map(|p| (p, req.aes));
    std::thread::scope(|s| {
        let interrupt = snap_conn.as_ref().map(|c| c.get_interrupt_handle());
        // The tip is read from the snapshot, so it names the last row the archive holds.
        let mut checks = snap_conn.map(|c| {
            s.spawn(move || {
                let tip = audit::tip(&c).map_err(|e| e.message())?;
                archive::sqlite_checks(&c).map(|sound| (sound, tip))
            })
        });
        let mut complete = |m: &mut archive::Manifest| -> Result<()> {
            if let Some(h) = checks.take() {
                let ((version, counts), tip) = h
                    .join()
                    .expect("the snapshot check does not panic")
                    .map_err(|reason| Error::BackupFailed {
                        step: "check".into(),
                        reason: format!(
                            "the copy of the database failed SQLite's checks ({reason}); \
                             run Settings > Database health"
                        ),
                    })?;
                m.schema_version = version;
                m.counts = counts;
                m.audit_tip = tip;
            }
            Ok(())
        };
        let written = archive::write(
            partial,
            contents,
            pass,
            req.compress,
            progress,
            &mut complete,
            cancel,
        );
        if written.is_err() {
            // Stop the checks at once instead of waiting for them to finish.
            if let Some(i) = &interrupt {
                i.interrupt();
            }
        }
        written
    })
    .map_err(|e| map_write_error(e, dest, estimate))?;
    std::fs::rename(partial, final_path).map_err(|e| Error::io("rename", partial, e))?;
    *renamed = true;
    fsync_dir(dest);

    // Read back from the drive, not from memory, and check everything.
    progress(Progress::new("verify", 0, 1));
    // The file's SHA-256 and the check of its entries read it at the same time. The
    // read-back compares the entries with the manifest's hashes, never with the snapshot,
    // which goes meanwhile (removing a gigabyte file takes about half a second).
    let (hashed, checked) = std::thread::scope(|s| {
        if with_db {
            s.spawn(|| std::fs::remove_file(&snap));
        }
        let h = s.spawn(|| archive::file_sha256(final_path));
        let c = archive::check_archive(
            final_path,
            req.passphrase.as_deref(),
            &work.0,
            cancel,
            false,
            progress,
        );
        (h.join().expect("hashing does not panic"), c)
    });
    let (sha256, size) = hashed?;
    let checked = checked?;
    write_sidecar(final_path, &sha256)?;
    progress(Progress::new("verify", 1, 1));
    Ok(BackupReport {
        file: final_path.to_path_buf(),
        size,
        sha256,
        encrypted: req.passphrase.is_some(),
        verified: true,
        dry_run: false,
        manifest: checked.manifest,
        estimated_size: estimate,
    })
}

/// A full drive or a read-only one answers writes with these; say so plainly.
fn map_write_error(e: Error, dest: &Path, estimate: u64) -> Error {
    match e {
        Error::Io { source, .. }
            if source.raw_os_error() == Some(28)
                || source.kind() == std::io::ErrorKind::StorageFull =>
        {
            Error::NoSpace {
                path: dest.to_path_buf(),
                needed: estimate,
                available: fs4::available_space(dest).unwrap_or(0),
            }
        }
        other => other,
    }
}

/// `NAME.zip.sha256` in the format `sha256sum -c` reads.
fn write_sidecar(archive_path: &Path, sha256: &str) -> Result<()> {
    use std::io::Write;
    let name = archive_path
        .file_name()
        .expect("archive has a name")
        .to_string_lossy();
    let side = naming::sidecar(archive_path);
    let tmp = archive_path.with_file_name(format!("{name}.sha256.partial"));
    let _ = std::fs::remove_file(&tmp);
    {
        let mut f = archive::create_private(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        writeln!(f, "{sha256}  {name}")
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io("write", &tmp, e))?;
    }
    std::fs::rename(&tmp, &side).map_err(|e| Error::io("rename", &tmp, e))?;
    if let Some(dir) = archive_path.parent() {
        fsync_dir(dir);
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn is_fat(dir: &Path) -> bool {
    // MSDOS_SUPER_MAGIC; fuse-mounted FAT reports the fuse type and is caught by the
    // write failing instead.
    #[allow(clippy::useless_conversion)] // reason: f_type is i64 on x86_64 but u32 or i32 elsewhere
    rustix::fs::statfs(dir)
        .map(|s| i64::from(s.f_type) == 0x4d44)
        .unwrap_or(false)
}

#[cfg(not(target_os = "linux"))]
fn is_fat(_dir: &Path) -> bool {
    false
}

/// The history row and its audit row, in one transaction; and the journal line.
fn record(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    req: &BackupRequest,
    r: &BackupReport,
    status: &str,
    error: Option<&str>,
) -> Result<()> {
    let detail = record_detail(req, r, status, error);
    let tip = audit::tip(store.conn())?;
    journal_anchored(
        loc,
        store.now(),
        &actor.name,
        "backup",
        tip.as_ref(),
        detail.clone(),
    );
    store.write(actor, Role::Admin, "make backups", |tx, now| {
        record_tx(tx, now, actor, req, r, status, error, detail)
    })
}

/// What the journal and the audit row say of a backup.
fn record_detail(
    req: &BackupRequest,
    r: &BackupReport,
    status: &str,
    error: Option<&str>,
) -> serde_json::Value {
    let file_name = r.file.file_name().map(|n| n.to_string_lossy().into_owned());
    json!({
        "file": file_name, "destination": req.destination, "size": r.size, "sha256": r.sha256,
        "encrypted": r.encrypted, "status": status, "error": error, "kind": req.kind.as_str(),
        "pinned": req.pinned, "reason": req.reason,
    })
}

/// The history row of a backup and its audit row, in `tx`.
#[allow(clippy::too_many_arguments)] // reason: one history row's fields
fn record_tx(
    tx: &rusqlite::Transaction,
    now: i64,
    actor: &Actor,
    req: &BackupRequest,
    r: &BackupReport,
    status: &str,
    error: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    let id = history::insert_tx(tx, now, req, r, status, error)?;
    Change::new(&actor.name, "backup", "backup")
        .on(id)
        .after(detail)
        .record(tx, now)?;
    Ok(())
}
