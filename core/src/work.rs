//! Long work (backup, restore, export, import, upgrade): the progress it reports, the
//! flag that stops it, where it reads and writes ([`Locations`]) and the scratch folder
//! it works in. Front ends hand these in; this module never knows how a front end shows
//! progress (no Tauri channel, no terminal).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};

/// Progress of long work: a step name and how far it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub step: &'static str,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    pub fn new(step: &'static str, done: u64, total: u64) -> Progress {
        Progress { step, done, total }
    }
}

/// A flag the caller sets to stop long work where that is safe.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The operations journal's file name, in the data folder.
pub const JOURNAL_FILE: &str = "operations-journal.jsonl";
/// The configuration file's name, in the data folder (or the folder the user chose for
/// it: `config::Paths`). Named here with the other files long work finds, so knowing
/// where things are needs nothing of what the configuration says.
pub const CONFIG_FILE: &str = "config.json";

/// Where things are for a backup, restore, export or import.
#[derive(Debug, Clone)]
pub struct Locations {
    pub database: PathBuf,
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    /// The session folder (`Config::session_dir`): an import that sets a user's password
    /// ends that user's sessions there, as setting it on the Users screen does.
    pub sessions: PathBuf,
}

impl Locations {
    /// The database's own folder: the configuration, its safety backups and the
    /// operations journal beside it.
    pub(crate) fn beside(database: &std::path::Path) -> Locations {
        let dir = database
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        Locations {
            database: database.to_path_buf(),
            config_file: dir.join(CONFIG_FILE),
            sessions: dir.join("sessions"),
            data_dir: dir,
        }
    }

    /// The operations journal beside the database: one JSON line per backup, verify or
    /// restore, appended and flushed, so it survives restoring an older database.
    pub fn journal(&self) -> PathBuf {
        self.data_dir.join(JOURNAL_FILE)
    }
    /// Pinned safety backups taken before each restore.
    pub fn safety_dir(&self) -> PathBuf {
        self.data_dir.join("safety-backups")
    }
    /// The passphrase of automatic backups, on this computer only (`backup::auto`).
    pub fn auto_key_file(&self) -> PathBuf {
        self.data_dir.join("automatic-backup.key")
    }
    fn work_dir(&self) -> PathBuf {
        self.data_dir.join(".backup-work")
    }
}

/// A scratch folder of one piece of long work, removed with everything in it when
/// dropped.
pub(crate) struct WorkDir(pub(crate) PathBuf);
impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn work_dir(loc: &Locations, now: i64) -> Result<WorkDir> {
    // A killed backup leaves its work folder behind: clear those older than a day (a
    // running backup's folder is younger).
    if let Ok(entries) = std::fs::read_dir(loc.work_dir()) {
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 86_400);
            if old {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = loc
        .work_dir()
        .join(format!("{now}-{}", crate::random::hex(4)));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create the folder", &dir, e))?;
    Ok(WorkDir(dir))
}
