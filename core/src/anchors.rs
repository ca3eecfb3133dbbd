//! Anchors of the audit trail outside the database: the tip (newest row's id and hash)
//! that journal lines, backup manifests and export manifests carry. [`verify`] checks
//! that the live trail still reaches each anchor of its own history, so a trail cut short,
//! or rewritten and re-hashed up to an anchor, is found. It reads files and the database
//! only; it never writes either (a sealed archive is extracted into a work folder).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use crate::audit::{self, Tip, VerifyReport};
use crate::backup::archive;
use crate::config::BackupConfig;
use crate::error::{Error, Result};
use crate::export::all::ExportManifest;
use crate::store::{Actor, Role};
use crate::work::{Cancel, Locations};

/// One anchor: where it was written and the row it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anchor {
    /// `journal`, `backup` or `export`.
    pub source: &'static str,
    /// The archive, or the journal file.
    pub file: PathBuf,
    /// The journal line's operation (`backup`, `restore_backup`, `prune`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub id: i64,
    pub hash: String,
    /// When the anchor was written, Unix seconds UTC.
    pub at: i64,
    pub at_iso: String,
}

impl Anchor {
    /// "backup atslegas-….zip of 2025-…Z", for people.
    pub fn describe(&self) -> String {
        let name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match self.source {
            "journal" => format!(
                "the journal line ({}) of {}",
                self.operation.as_deref().unwrap_or("?"),
                self.at_iso
            ),
            source => format!("{source} {name} of {}", self.at_iso),
        }
    }
}

/// An anchor the live trail does not reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorProblem {
    /// `rows_removed` (the trail ends before the anchor's row) or `row_differs` (the
    /// anchor's row has another hash: it or a row before it was rewritten and the later
    /// hashes recomputed).
    pub kind: &'static str,
    /// The first row that disagrees: the first one missing, the first one whose hash
    /// differs from the backup's own copy, or else the anchor's row.
    pub id: i64,
    /// When the exact row is not known: the lowest row that may be the first changed one
    /// (the row after the last one an anchor confirms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_id: Option<i64>,
    pub anchor: Anchor,
    pub detail: String,
}

/// An archive that gave no anchor, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    pub file: PathBuf,
    /// `encrypted` (sealed manifest, no passphrase given), `no_anchor` (made before
    /// anchors were written, or a configuration-only backup), `before_restore` (made
    /// before the restore the live trail comes from: another trail), `unreadable`.
    pub reason: &'static str,
    pub detail: String,
}

/// [`audit::verify`]'s report and what the anchors said. `ok` is false when either the
/// chain or an anchor disagrees.
#[derive(Debug, Clone, Serialize)]
pub struct AnchoredReport {
    #[serde(flatten)]
    pub chain: VerifyReport,
    /// The anchor with the highest row that the live trail reaches: "verified up to".
    pub anchor: Option<Anchor>,
    pub anchors_checked: u64,
    pub anchor_problems: Vec<AnchorProblem>,
    pub not_checked: Vec<NotChecked>,
    /// Things a reader should know that are not tampering (an interrupted restore), in
    /// English.
    pub notes: Vec<String>,
    /// The same notes by code, for the window to say in the user's language
    /// (`verify.note.<code>` in `ui/i18n.js`).
    pub note_codes: Vec<Note>,
}

/// A note of [`AnchoredReport::notes`] by its code: `restore_interrupted` or
/// `start_over_interrupted`, with when that was (Unix seconds).
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub code: &'static str,
    pub at: i64,
}

/// The archives at `path`: the file itself, or every `atslegas-*.zip` in the folder.
/// Admins only, like every read of backups (checked before the path is looked at).
pub fn archives_at(actor: &Actor, path: &Path) -> Result<Vec<PathBuf>> {
    actor.require(Role::Admin, "check the audit trail against backups")?;
    files_at(path)
}

fn files_at(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::io("read the folder", path, e))?;
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.starts_with("atslegas-") && name.ends_with(".zip")
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The archives in the folders of the remembered drives plugged in now. Admins only
/// (it lists backups; checked in [`crate::backup::drives::find_known`]).
pub fn archives_on_known_drives(actor: &Actor, config: &BackupConfig) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in crate::backup::drives::find_known(actor, config)? {
        out.extend(files_at(&d.path).unwrap_or_default());
    }
    Ok(out)
}

/// The anchor of a journal line: `audit_tip`, or (restore lines of an older version) the
/// detail's.
fn journal_tip(line: &Value) -> Option<Tip> {
    let t = line
        .get("audit_tip")
        .or_else(|| line.get("detail").and_then(|d| d.get("audit_tip")))?;
    serde_json::from_value(t.clone()).ok()
}

/// The live row's hash.
fn live_hash(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT hash FROM audit_log WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

fn agrees(conn: &Connection, tip: &Tip) -> Result<bool> {
    Ok(live_hash(conn, tip.id)?.as_deref() == Some(tip.hash.as_str()))
}

/// What an archive's manifest says: where it came from, its tip, when it was made.
fn read_archive(
    path: &Path,
    passphrase: Option<&str>,
    work: &Path,
) -> std::result::Result<(&'static str, Option<Tip>, i64), NotChecked> {
    let not = |reason, detail: String| NotChecked {
        file: path.to_path_buf(),
        reason,
        detail,
    };
    let text = match manifest_bytes(path) {
        Ok(Some(t)) => t,
        Ok(None) => match passphrase {
            None => {
                return Err(not(
                    "encrypted",
                    "the manifest is encrypted; give the passphrase to check it".into(),
                ))
            }
            Some(p) => {
                let m = archive::check(path, Some(p), work, &Cancel::new())
                    .map_err(|e| not("unreadable", e.message()))?
                    .manifest;
                return Ok(("backup", m.audit_tip, m.created_at));
            }
        },
        Err(e) => return Err(not("unreadable", e)),
    };
    if let Ok(m) = archive::parse_manifest(&text) {
        return Ok(("backup", m.audit_tip, m.created_at));
    }
    match serde_json::from_slice::<ExportManifest>(&text) {
        Ok(m) if m.format == crate::export::all::FORMAT => {
            Ok(("export", m.audit_tip, m.created_at_unix))
        }
        _ => Err(not(
            "unreadable",
            "not an Atslegas backup or export (its manifest.json is not ours)".into(),
        )),
    }
}

/// The plain bytes of `manifest.json`, `None` when it is encrypted.
fn manifest_bytes(path: &Path) -> std::result::Result<Option<Vec<u8>>, String> {
    use std::io::Read;
    use zip::result::ZipError;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| e.to_string())?;
    let entry = match zip.by_name(archive::MANIFEST_ENTRY) {
        Ok(e) => e,
        Err(ZipError::UnsupportedArchive(m)) if m == ZipError::PASSWORD_REQUIRED => {
            return Ok(None)
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut text = Vec::new();
    // A manifest is a few kilobytes; an entry claiming more is not read whole.
    entry
        .take(1 << 20)
        .read_to_end(&mut text)
        .map_err(|e| e.to_string())?;
    Ok(Some(text))
}

/// Checks the chain ([`audit::verify`]) and then every anchor of the live trail's own
/// history: the journal's lines since the restore (or the new register in place of a
/// damaged one, `start_over`) the live trail comes from, and the
/// `archives` (made after it). A journal restore line whose tip the live trail does not
/// hold was interrupted before the swap (the old register stayed): it is noted, not
/// counted as tampering, and the lines before it are the anchors.
pub fn verify(
    conn: &Connection,
    loc: &Locations,
    archives: &[PathBuf],
    passphrase: Option<&str>,
    now: i64,
) -> Result<AnchoredReport> {
    let chain = audit::verify(conn)?;
    let mut report = AnchoredReport {
        chain,
        anchor: None,
        anchors_checked: 0,
        anchor_problems: Vec::new(),
        not_checked: Vec::new(),
        notes: Vec::new(),
        note_codes: Vec::new(),
    };
    let journal_file = loc.journal();
    let mut anchors: Vec<Anchor> = Vec::new();
    // The journal, newest line first, down to the restore that took effect.
    let mut restored_at: Option<i64> = None;
    for line in crate::backup::read_journal(loc).iter().rev() {
        let Some(tip) = journal_tip(line) else {
            continue;
        };
        let at = line["at"].as_i64().unwrap_or(0);
        let operation = line["operation"].as_str().unwrap_or("").to_string();
        // Where a trail begins: a restore, or a new register in place of a damaged one.
        let begins = operation == "restore_backup" || operation == "start_over";
        if begins && !agrees(conn, &tip)? {
            let (what, code) = if operation == "start_over" {
                ("the new register started at", "start_over_interrupted")
            } else {
                ("the restore of", "restore_interrupted")
            };
            report.notes.push(format!(
                "{what} {} did not take effect (interrupted before it replaced the register): its journal line is not an anchor",
                crate::time::iso_utc(at)
            ));
            report.note_codes.push(Note { code, at });
            continue;
        }
        anchors.push(Anchor {
            source: "journal",
            file: journal_file.clone(),
            operation: Some(operation.clone()),
            id: tip.id,
            hash: tip.hash,
            at,
            at_iso: crate::time::iso_utc(at),
        });
        if begins {
            restored_at = Some(at);
            break;
        }
    }
    let work = crate::work::work_dir(loc, now)?;
    for path in archives {
        match read_archive(path, passphrase, &work.0) {
            Err(n) => report.not_checked.push(n),
            Ok((_, None, _)) => report.not_checked.push(NotChecked {
                file: path.clone(),
                reason: "no_anchor",
                detail: "made before anchors were written, or without the database".into(),
            }),
            // An archive of the restore's own second (its safety backup is one) may be of
            // either trail: it counts only when this trail holds its tip.
            Ok((_, Some(tip), at))
                if restored_at.is_some_and(|r| {
                    at < r || (at == r && !agrees(conn, &tip).unwrap_or(false))
                }) =>
            {
                report.not_checked.push(NotChecked {
                    file: path.clone(),
                    reason: "before_restore",
                    detail: "made before the restore the register comes from: another trail".into(),
                })
            }
            Ok((source, Some(tip), at)) => anchors.push(Anchor {
                source,
                file: path.clone(),
                operation: None,
                id: tip.id,
                hash: tip.hash,
                at,
                at_iso: crate::time::iso_utc(at),
            }),
        }
    }
    check_anchors(conn, &mut report, anchors, passphrase, &work.0)?;
    report.chain.ok = report.chain.problems.is_empty() && report.anchor_problems.is_empty();
    Ok(report)
}

/// Compares each anchor with the live trail; names the highest one reached.
fn check_anchors(
    conn: &Connection,
    report: &mut AnchoredReport,
    mut anchors: Vec<Anchor>,
    passphrase: Option<&str>,
    work: &Path,
) -> Result<()> {
    let last = audit::tip(conn)?.map_or(0, |t| t.id);
    // Highest row first; among anchors of one row a backup or an export (a copy that
    // can leave the machine: the proof) before a journal line (a tripwire on it), then
    // the newest: the first one reached is "verified up to". A backup and its own journal
    // line name the same row, and people should be told of the backup.
    anchors.sort_by_key(|a| std::cmp::Reverse((a.id, a.source != "journal", a.at)));
    let mut bad: Vec<Anchor> = Vec::new();
    for a in anchors {
        report.anchors_checked += 1;
        let ok = a.id <= last && live_hash(conn, a.id)?.as_deref() == Some(a.hash.as_str());
        if ok {
            report.anchor.get_or_insert(a);
        } else {
            bad.push(a);
        }
    }
    for a in bad {
        // The highest row an anchor confirms below this one: the change came after it.
        let confirmed = report
            .anchor
            .as_ref()
            .filter(|g| g.id < a.id)
            .map_or(0, |g| g.id);
        let problem = if a.id > last {
            AnchorProblem {
                kind: "rows_removed",
                id: last + 1,
                from_id: None,
                detail: format!(
                    "rows after {last} were removed: {} names row {}",
                    a.describe(),
                    a.id
                ),
                anchor: a,
            }
        } else {
            let exact = if a.source == "backup" {
                first_difference(conn, &a.file, passphrase, work)
            } else {
                None
            };
            AnchorProblem {
                kind: "row_differs",
                id: exact.unwrap_or(a.id),
                from_id: exact.is_none().then_some(confirmed + 1),
                detail: match exact {
                    Some(id) => format!(
                        "row {id} differs from {}: it was changed and the later hashes recomputed",
                        a.describe()
                    ),
                    None => format!(
                        "row {} has another hash than {} says: a row from {} to {} was changed and the later hashes recomputed",
                        a.id,
                        a.describe(),
                        confirmed + 1,
                        a.id
                    ),
                },
                anchor: a,
            }
        };
        report.anchor_problems.push(problem);
    }
    report.anchor_problems.sort_by_key(|p| p.id);
    Ok(())
}

/// The first audit row whose hash differs between the live trail and the backup's own
/// copy of it (both streamed in id order), when the backup can be read.
fn first_difference(
    conn: &Connection,
    file: &Path,
    passphrase: Option<&str>,
    work: &Path,
) -> Option<i64> {
    let checked = archive::check(file, passphrase, work, &Cancel::new()).ok()?;
    let db = checked.database?;
    let theirs =
        Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    theirs.pragma_update(None, "trusted_schema", false).ok()?;
    let sql = "SELECT id, hash FROM audit_log ORDER BY id";
    let mut a = conn.prepare(sql).ok()?;
    let mut b = theirs.prepare(sql).ok()?;
    let mut ours = a.query([]).ok()?;
    let mut backup = b.query([]).ok()?;
    let row =
        |r: &rusqlite::Row| -> Option<(i64, String)> { Some((r.get(0).ok()?, r.get(1).ok()?)) };
    let found = loop {
        match (ours.next().ok()?, backup.next().ok()?) {
            (_, None) => break None,
            (None, Some(r)) => break row(r).map(|(id, _)| id),
            (Some(x), Some(y)) => {
                let (x, y) = (row(x)?, row(y)?);
                if x != y {
                    break Some(x.0.min(y.0));
                }
            }
        }
    };
    let _ = std::fs::remove_file(&db);
    found
}
