//! Known backup drives: a small marker file (`.atslegas-drive.json`: an id and a label)
//! written in a destination folder the first time a backup goes there, the drive
//! remembered in the settings (id, label, folder within the volume, last path), and
//! finding remembered drives among the volumes mounted now, wherever they are mounted:
//! a drive is known by its marker, never by its drive letter or mount path, which change.
//!
//! Never: trust a marker's content beyond its id and label, or write anywhere but the
//! destination folder the user chose. The OS's "removable" flag is not used at all (it
//! is wrong for USB hard disks on Windows).
//!
//! Mounted volumes come from `sysinfo`'s `Disks` (only its `disk` feature): one
//! maintained crate that lists mount points on Linux (`/proc/mounts`), macOS and
//! Windows (drive letters and mounted folders), instead of three hand-written
//! platform calls.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{BackupConfig, KnownDrive};
use crate::error::{Error, Result};
use crate::store::{Actor, Role};

/// The marker's file name in a destination folder.
pub const MARKER_FILE: &str = ".atslegas-drive.json";
/// At most this many drives are remembered (the oldest is forgotten first).
const MAX_KNOWN: usize = 10;

/// The marker's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub format: u32,
    /// Random, 32 hex digits; what the drive is recognised by.
    pub id: String,
    /// For people: the volume or folder name when it was first chosen.
    pub label: String,
    pub created_at: i64,
}

/// A remembered drive found plugged in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresentDrive {
    pub id: String,
    pub label: String,
    /// Where its backup folder is now.
    pub path: PathBuf,
    /// True when that differs from the path used last time (mounted elsewhere now).
    pub moved: bool,
}

/// Reads the marker in `folder`, if there is a valid one.
pub fn read_marker(folder: &Path) -> Option<Marker> {
    let text = std::fs::read(folder.join(MARKER_FILE)).ok()?;
    if text.len() > 4096 {
        return None;
    }
    let m: Marker = serde_json::from_slice(&text).ok()?;
    let id_ok = m.id.len() == 32 && m.id.bytes().all(|b| b.is_ascii_hexdigit());
    (id_ok && m.label.chars().count() <= 200).then_some(m)
}

/// The label for a destination: the volume's name where its mount point has one
/// (`/media/USER/KINGSTON`, `/Volumes/KINGSTON`) followed by the folder within it, else
/// the folder's own name (a drive letter's root is shown as its path, `E:\`).
fn label_for(folder: &Path, volume: Option<&PathBuf>) -> String {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
    };
    match volume.and_then(|v| Some((v, name(v)?))) {
        Some((v, vname)) if v.as_path() == folder => vname,
        Some((v, vname)) => match folder.strip_prefix(v) {
            Ok(within) => format!("{vname}/{}", within.to_string_lossy()),
            Err(_) => vname,
        },
        None => name(folder).unwrap_or_else(|| folder.display().to_string()),
    }
}

/// The mount points of the volumes mounted now.
pub fn mounted_volumes() -> Vec<PathBuf> {
    sysinfo::Disks::new_with_refreshed_list()
        .list()
        .iter()
        .map(|d| d.mount_point().to_path_buf())
        .collect()
}

/// The mount point `folder` lies on (the longest one that contains it), if any.
fn volume_of<'a>(folder: &Path, mounts: &'a [PathBuf]) -> Option<&'a PathBuf> {
    mounts
        .iter()
        .filter(|m| folder.starts_with(m))
        .max_by_key(|m| m.components().count())
}

/// After a backup to `folder`: writes the marker there unless it has one, and remembers
/// the drive in `config` (first in the list; updated when it is known). The caller saves
/// the configuration.
pub fn remember(config: &mut BackupConfig, folder: &Path, now: i64) -> Result<KnownDrive> {
    remember_on(config, folder, now, &mounted_volumes())
}

/// [`remember`] with the mount points given (tests, and callers that listed them).
pub fn remember_on(
    config: &mut BackupConfig,
    folder: &Path,
    now: i64,
    mounts: &[PathBuf],
) -> Result<KnownDrive> {
    let folder = resolved(folder)?;
    let volume = volume_of(&folder, mounts);
    let marker = match read_marker(&folder) {
        Some(m) => m,
        None => {
            let m = Marker {
                format: 1,
                id: crate::random::hex(16),
                label: label_for(&folder, volume),
                created_at: now,
            };
            write_marker(&folder, &m)?;
            m
        }
    };
    // Where the folder lies within its volume, so it is found again when the volume is
    // mounted somewhere else.
    let within = volume
        .and_then(|m| folder.strip_prefix(m).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let known = KnownDrive {
        id: marker.id.clone(),
        label: marker.label.clone(),
        folder: within,
        last_path: folder.display().to_string(),
    };
    config.known_drives.retain(|k| k.id != known.id);
    config.known_drives.insert(0, known.clone());
    config.known_drives.truncate(MAX_KNOWN);
    Ok(known)
}

/// The folder as an absolute path comparable with mount points. Windows' canonical form
/// (`\\?\E:\...`) would never start with the mount point `E:\`, so it is only made
/// absolute there; elsewhere symbolic links are resolved.
fn resolved(folder: &Path) -> Result<PathBuf> {
    #[cfg(windows)]
    let p = std::path::absolute(folder);
    #[cfg(not(windows))]
    let p = std::fs::canonicalize(folder);
    let p = p.map_err(|e| Error::io("open", folder, e))?;
    if !p.is_dir() {
        return Err(Error::io(
            "open",
            folder,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
        ));
    }
    Ok(p)
}

fn write_marker(folder: &Path, m: &Marker) -> Result<()> {
    use std::io::Write;
    let path = folder.join(MARKER_FILE);
    let tmp = folder.join(format!("{MARKER_FILE}.partial"));
    let _ = std::fs::remove_file(&tmp);
    let mut text = serde_json::to_vec_pretty(m).expect("marker serialises");
    text.push(b'\n');
    std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&text).and_then(|_| f.sync_all()))
        .map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &tmp, e))?;
    super::fsync_dir(folder);
    Ok(())
}

/// The remembered drives plugged in now, wherever they are mounted, for a front end to
/// offer. Admins only (the role is checked here, in the core, for every front end).
pub fn find_known(actor: &Actor, config: &BackupConfig) -> Result<Vec<PresentDrive>> {
    actor.require(Role::Admin, "see backups")?;
    if config.known_drives.is_empty() {
        return Ok(Vec::new());
    }
    Ok(find_known_on(&config.known_drives, &mounted_volumes()))
}

/// [`find_known`] over the given mount points: for each remembered drive, its last path,
/// then its folder within each mounted volume, then each volume's root; the first place
/// whose marker has the drive's id wins. No role check: the core's own step (automatic
/// backups) and tests; a front end asks [`find_known`].
pub fn find_known_on(known: &[KnownDrive], mounts: &[PathBuf]) -> Vec<PresentDrive> {
    let mut out = Vec::new();
    for k in known {
        let last = PathBuf::from(&k.last_path);
        let mut places = vec![last.clone()];
        for m in mounts {
            if !k.folder.is_empty() {
                places.push(m.join(&k.folder));
            }
            places.push(m.clone());
        }
        let found = places
            .into_iter()
            .find(|p| read_marker(p).is_some_and(|m| m.id == k.id));
        if let Some(path) = found {
            out.push(PresentDrive {
                id: k.id.clone(),
                label: k.label.clone(),
                moved: path != last,
                path,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_remembered_with_its_place_on_the_volume_and_found_there_again() {
        let dir = tempfile::tempdir().unwrap();
        let vol = std::fs::canonicalize(dir.path()).unwrap().join("STICK");
        let dest = vol.join("backups");
        std::fs::create_dir_all(&dest).unwrap();
        let mut c = BackupConfig::default();
        let k = remember_on(&mut c, &dest, 1, std::slice::from_ref(&vol)).unwrap();
        assert_eq!(k.folder, "backups");
        assert_eq!(k.label, "STICK/backups");
        assert_eq!(read_marker(&dest).unwrap().id, k.id);
        // Remembering again keeps the same id and one entry.
        let again = remember_on(&mut c, &dest, 2, std::slice::from_ref(&vol)).unwrap();
        assert_eq!(again.id, k.id);
        assert_eq!(c.known_drives.len(), 1);
        let found = find_known_on(&c.known_drives, &[]);
        assert_eq!(found.len(), 1);
        assert!(!found[0].moved);
    }

    #[test]
    fn a_marker_with_another_id_or_garbage_is_not_a_known_drive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER_FILE), b"{not json").unwrap();
        assert!(read_marker(dir.path()).is_none());
        let k = KnownDrive {
            id: "0".repeat(32),
            label: "x".into(),
            folder: String::new(),
            last_path: dir.path().display().to_string(),
        };
        assert!(find_known_on(&[k], &[dir.path().to_path_buf()]).is_empty());
    }
}
