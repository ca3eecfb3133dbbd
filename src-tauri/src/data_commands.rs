//! Export and import commands: the key log and the audit trail from the Logs screen,
//! "Export all" and bulk import from the Data screen. Each runs the core on a blocking
//! thread, reports progress through a `Channel`, and can be stopped with `work_cancel`
//! (the core decides where stopping is safe: an export leaves no file, an import stops
//! before its commit). Roles are checked by the core.
//!
//! Dialogs: the native save and open dialogs (rfd). A debug build started with
//! `ATSLEGAS_E2E_DIALOG_DIR=DIR` answers a save dialog with `DIR/<suggested name>`
//! without showing it, because WebDriver cannot click native dialogs (the end-to-end
//! tests use it). Release builds ignore the variable.
//!
//! Save paths: what the save dialog (or its stand-in) answered is granted for one
//! export; any other path from the page may only name a new file in an existing folder
//! (`save_paths`).

use std::path::{Path, PathBuf};

use atslegas_core::audit::AuditFilter;
use atslegas_core::export::all;
use atslegas_core::export::audit_log::{self, AuditExportReport};
use atslegas_core::export::keylog::{self, KeylogExportReport};
use atslegas_core::import::{self, Entity, ImportReport, OnExisting, RowError};
use atslegas_core::work::{Locations, Progress};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};

use crate::commands::{AuditArgs, KeyLogArgs};
use crate::error::CmdResult;
use crate::save_paths::SaveGrants;
use crate::state::AppState;
use crate::work::{self, blocking, send};

/// The save dialog, proposing `suggested` (a file name with its extension); `None` when
/// the user closes it. The answer is granted for one export (the user may have agreed
/// to replace an existing file there).
#[tauri::command]
pub async fn pick_save_file(app: AppHandle, suggested: String) -> Option<String> {
    let chosen = save_dialog(&suggested).await?;
    app.state::<SaveGrants>().grant(&chosen);
    Some(chosen.display().to_string())
}

pub(crate) async fn save_dialog(suggested: &str) -> Option<PathBuf> {
    let name = Path::new(suggested)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(dir) = e2e_dialog_dir() {
        return Some(dir.join(&name));
    }
    let ext = Path::new(&name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut dialog = rfd::AsyncFileDialog::new().set_file_name(&name);
    if !ext.is_empty() {
        dialog = dialog.add_filter(ext.to_uppercase(), &[ext.as_str()]);
    }
    dialog.save_file().await.map(|h| h.path().to_path_buf())
}

/// The path an export may write: see `save_paths`.
fn writable(app: &AppHandle, out: &str) -> CmdResult<PathBuf> {
    app.state::<SaveGrants>().writable(out)
}

/// The open dialog for a file to import (CSV or JSON).
#[tauri::command]
pub async fn pick_import_file() -> Option<String> {
    rfd::AsyncFileDialog::new()
        .add_filter("CSV, JSON", &["csv", "json", "txt"])
        .pick_file()
        .await
        .map(|h| h.path().display().to_string())
}

/// The end-to-end tests' stand-in for the save dialog (debug builds only).
fn e2e_dialog_dir() -> Option<PathBuf> {
    if cfg!(debug_assertions) {
        std::env::var_os("ATSLEGAS_E2E_DIALOG_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    } else {
        None
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeylogExportArgs {
    /// The Logs screen's filters, as for `keylog_search` (paging does not apply: the
    /// export holds every matching row).
    #[serde(flatten)]
    filter: KeyLogArgs,
    out: String,
}

/// The key-log rows the Logs screen's filters match, as CSV or XLSX by the file's
/// extension.
#[tauri::command]
pub async fn export_keylog(
    app: AppHandle,
    args: KeylogExportArgs,
    on_progress: Channel<Progress>,
) -> CmdResult<KeylogExportReport> {
    let out = writable(&app, &args.out)?;
    blocking(app, move |state, cancel| {
        state.opened()?.act(|s, a| {
            let f = args.filter.filter(s.conn())?;
            keylog::export_keylog_filtered(s, a, &f, &out, &mut send(&on_progress), cancel)
        })
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditExportArgs {
    /// The Logs screen's filters, as for `audit_search` (paging does not apply: the
    /// export holds every matching row).
    #[serde(flatten)]
    filter: AuditArgs,
    out: String,
}

/// The audit trail with the Logs screen's filters (every matching row), as CSV or JSON.
#[tauri::command]
pub async fn export_audit(
    app: AppHandle,
    args: AuditExportArgs,
    on_progress: Channel<Progress>,
) -> CmdResult<AuditExportReport> {
    let f = AuditFilter {
        limit: None,
        offset: None,
        ..args.filter.filter()
    };
    let out = writable(&app, &args.out)?;
    blocking(app, move |state, cancel| {
        state
            .opened()?
            .act(|s, a| audit_log::export_audit(s, a, &f, &out, &mut send(&on_progress), cancel))
    })
    .await
}

/// What "Export all" wrote, as the Data screen shows it.
#[derive(Serialize)]
pub struct ExportAllDone {
    file: PathBuf,
    size: u64,
    rows: u64,
    tables: Vec<(String, u64)>,
}

/// Everything in one ZIP (one CSV per table and a manifest).
#[tauri::command]
pub async fn export_all(
    app: AppHandle,
    out: String,
    on_progress: Channel<Progress>,
) -> CmdResult<ExportAllDone> {
    let out = writable(&app, &out)?;
    blocking(app, move |state, cancel| {
        let r = state
            .opened()?
            .act(|s, a| all::export_all(s, a, &out, &mut send(&on_progress), cancel))?;
        let tables: Vec<(String, u64)> = r
            .manifest
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect();
        Ok(ExportAllDone {
            file: r.file,
            size: r.size,
            rows: tables.iter().map(|(_, n)| n).sum(),
            tables,
        })
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportArgs {
    /// persons, keys, groups or users.
    what: String,
    file: String,
    /// skip or update.
    on_existing: String,
}

/// The rows of the preview the page lists one by one (the counts cover every row).
const PLANNED_SHOWN: usize = 500;

/// A preview or an import, as the Data screen shows it: every bad row, the counts, and
/// the first planned rows.
#[derive(Serialize)]
pub struct ImportView {
    what: Entity,
    file: PathBuf,
    rows: u64,
    created: u64,
    updated: u64,
    skipped: u64,
    errors: Vec<RowError>,
    planned: Vec<import::bulk::Planned>,
    planned_total: usize,
    applied: bool,
    safety_backup: Option<PathBuf>,
}

impl From<ImportReport> for ImportView {
    fn from(mut r: ImportReport) -> Self {
        let planned_total = r.planned.len();
        r.planned.truncate(PLANNED_SHOWN);
        ImportView {
            what: r.entity,
            file: r.file,
            rows: r.rows,
            created: r.created,
            updated: r.updated,
            skipped: r.skipped,
            errors: r.errors,
            planned: r.planned,
            planned_total,
            applied: r.applied,
            safety_backup: r.safety_backup,
        }
    }
}

fn locations(state: &AppState) -> CmdResult<Locations> {
    Ok(work::locations(state, state.opened()?))
}

/// Checks every row of the file and says what importing it would do; writes nothing.
/// The same core run as the import, rolled back.
#[tauri::command]
pub async fn import_preview(
    app: AppHandle,
    args: ImportArgs,
    on_progress: Channel<Progress>,
) -> CmdResult<ImportView> {
    import(app, args, on_progress, false).await
}

/// Imports the file: a pinned safety backup, then every row in one transaction, or
/// nothing when any row is bad (the view then lists them and `applied` is false).
#[tauri::command]
pub async fn import_run(
    app: AppHandle,
    args: ImportArgs,
    on_progress: Channel<Progress>,
) -> CmdResult<ImportView> {
    import(app, args, on_progress, true).await
}

/// The core's import of `args`: applied, or only previewed.
async fn import(
    app: AppHandle,
    args: ImportArgs,
    on_progress: Channel<Progress>,
    apply: bool,
) -> CmdResult<ImportView> {
    blocking(app, move |state, cancel| {
        let what = Entity::parse(&args.what)?;
        let on_existing = OnExisting::parse(&args.on_existing)?;
        let file = Path::new(&args.file);
        let progress = &mut send(&on_progress);
        let applying_at = if apply { Some(locations(state)?) } else { None };
        let r = state.opened()?.act(|s, a| match &applying_at {
            Some(loc) => import::apply(s, a, loc, what, file, on_existing, progress, cancel),
            None => import::preview(s, a, what, file, on_existing, progress, cancel),
        })?;
        Ok(r.into())
    })
    .await
}
