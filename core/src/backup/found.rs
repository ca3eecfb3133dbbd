//! Backups found in a folder (a drive, the backup folder): listed by what their files
//! say without opening them, and checked completely on request.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use super::archive::{self, Manifest};
use super::journal::journal;
use super::naming::name_parts;
use crate::error::{Error, Result};
use crate::store::{Actor, Role};
use crate::work::{work_dir, Cancel, Locations};

/// One backup found on a medium.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub file: PathBuf,
    pub size: u64,
    /// The manifest of a plain backup; `None` for an encrypted one (its manifest is
    /// encrypted with the rest) or when it could not be read (`problem` says why).
    /// Unverified: only checking the backup says whether any of it is true.
    pub manifest: Option<Manifest>,
    pub problem: Option<String>,
    /// Whether its entries are encrypted (the zip's structure, unverified).
    pub encrypted: bool,
    /// `full`, `database` or `config` (the manifest's, else from its entries).
    pub kind: Option<String>,
    /// When it was made: the manifest's time, else the time in its file name (Unix
    /// seconds UTC, 0 when neither says).
    pub created_at: i64,
    /// A `.sha256` beside it (written only after verification).
    pub verified_sidecar: bool,
    pub pinned: bool,
}

/// Every Atslegas backup in a folder, whichever machine made it, newest first. Admins
/// only, checked before the folder is read.
pub fn list(actor: &Actor, dir: &Path) -> Result<Vec<Found>> {
    actor.require(Role::Admin, "see backups")?;
    found_in(dir)
}

/// [`list`] without the role check: for the core's own steps that checked it (retention).
pub(crate) fn found_in(dir: &Path) -> Result<Vec<Found>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read the folder", dir, e))?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("atslegas-") || !name.ends_with(".zip") {
            continue;
        }
        let size = e.metadata().map(|m| m.len()).unwrap_or(0);
        let (manifest, problem, encrypted, kind) = match archive::outline(&path) {
            Ok(o) => (o.manifest, None, o.encrypted, Some(o.kind)),
            Err(err) => (None, Some(err.message()), false, None),
        };
        let created_at = manifest
            .as_ref()
            .map(|m| m.created_at)
            .or_else(|| name_parts(&name).map(|(_, at)| at))
            .unwrap_or(0);
        out.push(Found {
            encrypted,
            kind,
            created_at,
            verified_sidecar: super::naming::sidecar(&path).is_file(),
            pinned: name.contains("-pinned"),
            file: path,
            size,
            manifest,
            problem,
        });
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.created_at));
    Ok(out)
}

/// Checks a backup file completely (the same checks as after writing it), including the
/// `.sha256` beside it when there is one. Writes a journal line. Admins only, like every
/// look inside a backup (it holds every record and the audit trail), checked before the
/// file is opened.
pub fn verify(
    loc: &Locations,
    file: &Path,
    passphrase: Option<&str>,
    now: i64,
    actor: &Actor,
) -> Result<Manifest> {
    actor.require(Role::Admin, "check backups")?;
    let actor = actor.name.as_str();
    let work = work_dir(loc, now)?;
    let result = (|| {
        archive::check_sidecar(file)?;
        // What is said of the archive comes from what the check found.
        archive::check(file, passphrase, &work.0, &Cancel::new()).map(|c| Manifest {
            encrypted: c.encrypted,
            ..c.manifest
        })
    })();
    journal(
        loc,
        now,
        actor,
        "verify",
        json!({"file": file, "ok": result.is_ok(), "error": result.as_ref().err().map(|e| e.message())}),
    );
    result
}
