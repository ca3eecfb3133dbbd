//! Automatic backups (SPEC §5 "Reminders"): at exit or daily, to the most recently used
//! backup drive or folder when it is present, only when something changed since the last
//! verified backup, followed by the destination's retention rules, like a backup made
//! by hand.
//!
//! Encryption: nobody is there to read a generated passphrase when an automatic backup
//! runs, so the admin sets one passphrase when turning automatic backups on (chosen or
//! generated, shown once). It is kept on this computer only, in a key file beside the
//! database ([`Locations::auto_key_file`], readable by its owner only). It is never in
//! `config.json`, so never inside a backup, never in a log, the audit trail or the
//! journal. What encryption protects is the archive on a drive that leaves the office;
//! the key file sits next to the database it protects, which is readable on this
//! computer anyway.
//!
//! Invariants: an automatic backup is never made to a drive or folder that is not the
//! remembered one (found by its marker, `drives`); a missing destination is a skip, not
//! an error; the actor is the app itself (`app:automatic-backup`), acting on what an
//! admin configured.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::retention::{PruneReport, Rules};
use super::{
    check_passphrase, create, drives, generate_passphrase, AesMode, BackupReport, BackupRequest,
    Kind,
};
use crate::config::{AutoMode, Config};
use crate::error::{Error, Result};
use crate::store::{Actor, Role, Store};
use crate::work::{Cancel, Locations, Progress};

/// What asks for an automatic backup: closing the window, or the daily check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Exit,
    Daily,
}

/// A day, for the daily mode: a backup younger than this is recent enough.
pub const DAY_SECONDS: i64 = 86_400;

/// Whether an audit row came after the last verified backup's own row, other than rows
/// that are not changes of the data a backup holds (backups, sessions, exports).
const CHANGED_SQL: &str = "SELECT EXISTS (SELECT 1 FROM audit_log
     WHERE id > coalesce((SELECT max(a.id) FROM audit_log a
                            JOIN backups b ON a.record_id = CAST(b.id AS TEXT)
                           WHERE a.component = 'backup' AND a.operation = 'backup'
                             AND b.status = 'verified'), -1)
       AND component NOT IN ('backup', 'session', 'export'))";

/// The automatic-backup settings as the window shows them.
#[derive(Debug, Clone, Serialize)]
pub struct AutoSettings {
    pub mode: AutoMode,
    pub encrypt: bool,
    /// Encryption is on but this computer has no passphrase for it (for example after
    /// the settings were restored on another computer): automatic backups fail until an
    /// admin sets it again.
    pub passphrase_missing: bool,
    /// Where the next automatic backup would go now, if it is present.
    pub destination: Option<PathBuf>,
    /// The label of the remembered drive or folder, present or not.
    pub destination_label: Option<String>,
}

/// What an automatic backup did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing to do, and why (`reason` is a stable code the window translates).
    Skipped { reason: SkipReason },
    /// A verified backup, and what retention did after it.
    Done {
        report: Box<BackupReport>,
        pruned: Option<PruneReport>,
        prune_error: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Automatic backups are off, or set for the other trigger.
    NotThisTime,
    /// The last verified backup is recent enough (daily mode).
    Recent,
    /// Nothing changed since the last verified backup.
    Unchanged,
    /// No backup has gone to a drive or folder yet, so there is nowhere to go.
    NoDestination,
    /// The remembered drive or folder is not present now.
    DestinationAbsent,
}

/// The app itself, doing what an admin configured.
pub fn actor() -> Actor {
    Actor {
        user_id: None,
        name: "app:automatic-backup".into(),
        role: Role::Admin,
    }
}

/// The current settings, and where a backup would go now. Admins only: they name the
/// backup drive (the role is checked here, in the core, for every front end).
pub fn settings(actor: &Actor, config: &Config, loc: &Locations) -> Result<AutoSettings> {
    actor.require(Role::Admin, "see backups")?;
    Ok(AutoSettings {
        mode: config.backup.auto_backup,
        encrypt: config.backup.auto_backup_encrypt,
        passphrase_missing: config.backup.auto_backup_encrypt && read_key(loc).is_none(),
        destination: destination(config),
        destination_label: config.backup.known_drives.first().map(|k| k.label.clone()),
    })
}

/// The most recently used backup drive or folder, if it is present now (found by its
/// marker wherever it is mounted). Never anywhere else: a mount point left empty by an
/// unplugged stick must not receive the backup.
pub fn destination(config: &Config) -> Option<PathBuf> {
    let newest = config.backup.known_drives.first()?;
    drives::find_known_on(std::slice::from_ref(newest), &drives::mounted_volumes())
        .into_iter()
        .next()
        .map(|d| d.path)
}

/// Whether the data changed since the last verified backup (or there is none): any
/// audit row after that backup's own, other than backups, sessions and exports. By the
/// audit row's id, not its time, so a clock set back cannot hide a change.
pub fn changed_since_last_backup(store: &Store) -> Result<bool> {
    Ok(store
        .conn()
        .prepare_cached(CHANGED_SQL)?
        .query_row([], |r| r.get(0))?)
}

/// Whether an automatic backup is due for `trigger` now, and if not, why not. The
/// destination is not looked at here (see [`run`]).
pub fn due(store: &Store, config: &Config, trigger: Trigger) -> Result<Option<SkipReason>> {
    let mode = config.backup.auto_backup;
    let wanted = matches!(
        (mode, trigger),
        (AutoMode::AtExit, Trigger::Exit) | (AutoMode::Daily, Trigger::Daily)
    );
    if !wanted {
        return Ok(Some(SkipReason::NotThisTime));
    }
    if trigger == Trigger::Daily {
        if let Some(last) = super::history::last_verified(store.conn())? {
            if store.now() - last < DAY_SECONDS {
                return Ok(Some(SkipReason::Recent));
            }
        }
    }
    if !changed_since_last_backup(store)? {
        return Ok(Some(SkipReason::Unchanged));
    }
    Ok(None)
}

/// Whether an automatic backup would run for `trigger` now: due, and the destination
/// present. Cheap enough to ask when the window is being closed.
pub fn would_run(store: &Store, config: &Config, trigger: Trigger) -> Result<bool> {
    Ok(due(store, config, trigger)?.is_none() && destination(config).is_some())
}

/// Makes the automatic backup if it is due and its destination is present; then applies
/// the destination's retention rules, as after a backup made by hand.
pub fn run(
    store: &mut Store,
    loc: &Locations,
    config: &Config,
    trigger: Trigger,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<Outcome> {
    if let Some(reason) = due(store, config, trigger)? {
        return Ok(Outcome::Skipped { reason });
    }
    let Some(dest) = destination(config) else {
        let reason = if config.backup.known_drives.is_empty() {
            SkipReason::NoDestination
        } else {
            SkipReason::DestinationAbsent
        };
        return Ok(Outcome::Skipped { reason });
    };
    let passphrase = if config.backup.auto_backup_encrypt {
        Some(read_key(loc).ok_or_else(|| Error::invalid_rule(
            "passphrase",
            "auto_passphrase_missing",
            serde_json::Value::Null,
            "automatic backups are to be encrypted, but this computer has no passphrase for them: set it again under Backup → Automatic backups",
        ))?)
    } else {
        None
    };
    let actor = actor();
    let req = BackupRequest {
        kind: Kind::Full,
        destination: dest.clone(),
        site: config.site_name.clone(),
        reason: Some(
            match trigger {
                Trigger::Exit => "automatic, at exit",
                Trigger::Daily => "automatic, daily",
            }
            .into(),
        ),
        passphrase,
        aes: AesMode::Aes256,
        dry_run: false,
        pinned: false,
        compress: true,
    };
    let report = create(store, &actor, loc, &req, progress, cancel)?;
    let (pruned, prune_error) = super::by_hand::prune_after(
        store,
        &actor,
        loc,
        &report,
        Rules::from_config(&config.backup),
    );
    let prune_error = prune_error.map(|e| e.to_string());
    Ok(Outcome::Done {
        report: Box::new(report),
        pruned,
        prune_error,
    })
}

/// Turns automatic backups on or off. With encryption, the passphrase is the one given
/// (checked for strength) or a generated one, which is returned to be shown once; it is
/// written to the key file, never to `config.json`. Without encryption the key file is
/// removed. Audited like every settings change (the passphrase never is).
pub fn configure(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    config: &Config,
    mode: AutoMode,
    encrypt: bool,
    passphrase: Option<&str>,
) -> Result<(Config, Option<String>)> {
    actor.require(Role::Admin, "change the backup settings")?;
    let chosen = passphrase.filter(|p| !p.is_empty());
    if let Some(p) = chosen {
        check_passphrase(p)?;
    }
    let mut next = config.clone();
    next.backup.auto_backup = mode;
    next.backup.auto_backup_encrypt = encrypt;
    // A new passphrase when one is given, or when encryption is wanted and there is none
    // yet; otherwise the one on this computer stays (changing the mode keeps it).
    let new_key = if encrypt && mode != AutoMode::Off {
        match chosen {
            Some(p) => Some((p.to_string(), false)),
            None if read_key(loc).is_none() => Some((generate_passphrase(), true)),
            None => None,
        }
    } else {
        None
    };
    let before =
        json!({ "mode": config.backup.auto_backup, "encrypt": config.backup.auto_backup_encrypt });
    let after = json!({ "mode": mode, "encrypt": encrypt, "new_passphrase": new_key.is_some() });
    // The key before the file: a config that says "encrypted" never points at a
    // missing key because of this call.
    crate::config::save_audited(
        store,
        actor,
        "change the backup settings",
        &loc.config_file,
        &next,
        json!({ "automatic_backup": before }),
        json!({ "automatic_backup": after }),
        || match &new_key {
            Some((p, _)) => write_key(loc, p),
            None if !encrypt => remove_key(loc),
            None => Ok(()),
        },
    )?;
    let shown = new_key.and_then(|(p, generated)| generated.then_some(p));
    Ok((next, shown))
}

/// The passphrase on this computer, if there is one.
pub fn read_key(loc: &Locations) -> Option<String> {
    let text = std::fs::read_to_string(loc.auto_key_file()).ok()?;
    let p = text.trim_end_matches(['\r', '\n']).to_string();
    (!p.is_empty()).then_some(p)
}

fn write_key(loc: &Locations, passphrase: &str) -> Result<()> {
    let path = loc.auto_key_file();
    let tmp = path.with_extension("key.partial");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(&tmp)
        .and_then(|mut f| {
            f.write_all(passphrase.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        })
        .map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("replace", &path, e))?;
    if let Some(dir) = path.parent() {
        super::fsync_dir(dir);
    }
    Ok(())
}

fn remove_key(loc: &Locations) -> Result<()> {
    let path = loc.auto_key_file();
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("delete", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Locations::beside(&dir.path().join("database.db"));
        assert!(read_key(&loc).is_none());
        write_key(&loc, "abcde-fghij").unwrap();
        assert_eq!(read_key(&loc).as_deref(), Some("abcde-fghij"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(loc.auto_key_file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read it: {mode:o}");
        }
        remove_key(&loc).unwrap();
        remove_key(&loc).unwrap();
        assert!(read_key(&loc).is_none());
    }
}
