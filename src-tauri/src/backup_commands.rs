//! Backup and restore commands: long work runs on a blocking thread and reports its
//! progress through a `Channel` (not global events); the folder picker is the native
//! dialog (rfd). Every decision is the core's.

use std::path::{Path, PathBuf};

use atslegas_core::backup::by_hand::{self, Wanted};
use atslegas_core::backup::drives::{self, PresentDrive};
use atslegas_core::backup::history::{self, HistoryRow};
use atslegas_core::backup::restore::{self, Choice, Components, RestorePreview};
use atslegas_core::backup::retention::{self, PruneReport, Rules};
use atslegas_core::backup::{self, AesMode, BackupReport, Found, Kind};
use atslegas_core::config::{Config, KnownDrive};
use atslegas_core::store::{os_user, system_clock};
use atslegas_core::work::{Locations, Progress};
use atslegas_core::Actor;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::error::{CmdResult, CommandError};
use crate::state::AppState;
use crate::work::{blocking, blocking_on_files, locations, send};

#[derive(Serialize)]
pub struct BackupOverview {
    destinations: Vec<String>,
    encrypt: bool,
    remind_after_days: u32,
    retention: Rules,
    known_drives: Vec<KnownDrive>,
    history: Vec<HistoryRow>,
    journal_file: String,
}

#[tauri::command]
pub fn backup_overview(state: State<'_, AppState>) -> CmdResult<BackupOverview> {
    let opened = state.opened()?;
    let config = opened.config();
    // First: the core's role check of the history answers for the whole overview.
    let history = opened.act(|s, a| history::list(s.conn(), a, 50, 0))?;
    Ok(BackupOverview {
        destinations: config.backup.destinations.clone(),
        encrypt: config.backup.encrypt,
        remind_after_days: config.backup.remind_after_days,
        retention: Rules::from_config(&config.backup),
        known_drives: config.backup.known_drives.clone(),
        history,
        journal_file: locations(&state, opened).journal().display().to_string(),
    })
}

/// The native folder picker, titled with what it is for; `None` when the user closes it.
#[tauri::command]
pub async fn pick_folder(title: String) -> Option<String> {
    rfd::AsyncFileDialog::new()
        .set_title(title)
        .pick_folder()
        .await
        .map(|h| h.path().display().to_string())
}

/// The native file picker for a backup archive.
#[tauri::command]
pub async fn pick_backup_file() -> Option<String> {
    rfd::AsyncFileDialog::new()
        .add_filter("Atslegas backup", &["zip"])
        .pick_file()
        .await
        .map(|h| h.path().display().to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupArgs {
    destination: String,
    kind: Option<String>,
    encrypt: bool,
    /// A passphrase the user chose; empty or absent means "generate a recovery one".
    passphrase: Option<String>,
    aes128: Option<bool>,
    reason: Option<String>,
}

#[derive(Serialize)]
pub struct BackupDone {
    report: BackupReport,
    /// Shown once, when the app generated it.
    recovery_passphrase: Option<String>,
    /// The retention rules applied to the destination after the verified backup.
    pruned: Option<PruneReport>,
    /// Why pruning failed (the backup itself is done and verified).
    prune_error: Option<CommandError>,
}

#[tauri::command]
pub async fn backup_run(
    app: AppHandle,
    args: BackupArgs,
    on_progress: Channel<Progress>,
) -> CmdResult<BackupDone> {
    blocking_on_files(app, move |_, opened, loc, cancel| {
        let config = opened.config();
        let wanted = Wanted {
            destination: PathBuf::from(&args.destination),
            kind: Kind::parse(args.kind.as_deref().unwrap_or("full"))?,
            reason: args.reason,
            encrypt: args.encrypt,
            passphrase: args.passphrase.filter(|p| !p.is_empty()),
            aes: if args.aes128.unwrap_or(false) {
                AesMode::Aes128
            } else {
                AesMode::Aes256
            },
            dry_run: false,
        };
        let done = opened.act(|s, a| {
            by_hand::backup_now(s, a, loc, &config, wanted, &mut send(&on_progress), cancel)
        })?;
        if let Some(next) = done.config {
            *opened.config.write().unwrap_or_else(|p| p.into_inner()) = next;
        }
        Ok(BackupDone {
            report: done.report,
            recovery_passphrase: done.recovery_passphrase,
            pruned: done.pruned,
            prune_error: done.prune_error.map(CommandError::from),
        })
    })
    .await
}

#[tauri::command]
pub fn backup_list(state: State<'_, AppState>, dir: String) -> CmdResult<Vec<Found>> {
    state.opened()?.act(|_, a| backup::list(a, Path::new(&dir)))
}

#[tauri::command]
pub async fn restore_preview(
    app: AppHandle,
    file: String,
    passphrase: Option<String>,
    on_progress: Channel<Progress>,
) -> CmdResult<RestorePreview> {
    let passphrase = passphrase.filter(|p| !p.is_empty());
    blocking_on_files(app, move |_, opened, loc, cancel| {
        opened.act(|s, a| {
            let (file, progress) = (Path::new(&file), &mut send(&on_progress));
            restore::preview(s, a, loc, file, passphrase.as_deref(), progress, cancel)
        })
    })
    .await
}

#[tauri::command]
pub async fn restore_run(
    app: AppHandle,
    file: String,
    passphrase: Option<String>,
    database: bool,
    config: bool,
    on_progress: Channel<Progress>,
) -> CmdResult<RestorePreview> {
    blocking_on_files(app, move |state, opened, loc, cancel| {
        let result = opened.act(|s, a| {
            let choice = Choice {
                file: Path::new(&file),
                passphrase: passphrase.as_deref().filter(|p| !p.is_empty()),
                components: Components { database, config },
                force: true,
            };
            restore::restore(s, a, loc, choice, &mut send(&on_progress), cancel)
        })?;
        // The restored data is another database: everyone signs in again.
        *opened.token() = None;
        opened.reload_config(&state.paths, &mut opened.store())?;
        Ok(result)
    })
    .await
}

/// Who restores over a register too damaged to open: this computer's account, since
/// nobody can sign in to it. Refused whenever the register opened (or failed for
/// another reason): then a restore is an admin's, signed in, on the Backup screen.
fn rescuer(state: &AppState) -> CmdResult<(Actor, Locations)> {
    if !state.damaged() {
        return Err(CommandError {
            code: "not_allowed",
            message: "Only a register too damaged to open is restored without signing in: sign in as an admin and restore from Backup & restore.".into(),
            details: serde_json::Value::Null,
        });
    }
    let config = Config::load_or_create(&state.paths.config_file)?;
    Ok((Actor::window(&os_user()), config.locations(&state.paths)))
}

/// The backups in a folder, on the start screen of a register too damaged to open.
#[tauri::command]
pub fn rescue_list(state: State<'_, AppState>, dir: String) -> CmdResult<Vec<Found>> {
    let (actor, _) = rescuer(&state)?;
    Ok(backup::list(&actor, Path::new(&dir))?)
}

/// What restoring `file` over a register too damaged to open would put in its place.
#[tauri::command]
pub async fn rescue_preview(
    app: AppHandle,
    file: String,
    passphrase: Option<String>,
    on_progress: Channel<Progress>,
) -> CmdResult<RestorePreview> {
    blocking(app, move |state, cancel| {
        let (actor, loc) = rescuer(state)?;
        let passphrase = passphrase.as_deref().filter(|p| !p.is_empty());
        let (file, progress) = (Path::new(&file), &mut send(&on_progress));
        let now = system_clock()();
        Ok(restore::preview_over_damaged(
            &loc, &actor, now, file, passphrase, progress, cancel,
        )?)
    })
    .await
}

/// Restores `file` over a register too damaged to open (the damaged files are kept
/// aside), then opens the restored register: the page goes on to sign-in.
#[tauri::command]
pub async fn rescue_run(
    app: AppHandle,
    file: String,
    passphrase: Option<String>,
    on_progress: Channel<Progress>,
) -> CmdResult<RestorePreview> {
    blocking(app, move |state, cancel| {
        let (actor, loc) = rescuer(state)?;
        let choice = Choice {
            file: Path::new(&file),
            passphrase: passphrase.as_deref().filter(|p| !p.is_empty()),
            components: Components::default(),
            force: true,
        };
        let (now, progress) = (system_clock()(), &mut send(&on_progress));
        let done = restore::restore_over_damaged(&loc, &actor, now, choice, progress, cancel)?;
        state.try_open()?;
        Ok(done)
    })
    .await
}

/// For someone with no backup: a new, empty register in the place of one too damaged to
/// open (kept aside as it is), then opened: the page goes on to first-run setup. Returns
/// where the damaged register is kept.
#[tauri::command]
pub async fn rescue_start_over(app: AppHandle) -> CmdResult<String> {
    blocking(app, move |state, _| {
        let (actor, loc) = rescuer(state)?;
        let kept = restore::start_over_damaged(&loc, &actor, system_clock()())?;
        state.try_open()?;
        Ok(kept.display().to_string())
    })
    .await
}

/// Saves the retention rules with the other backup settings (audited in the core).
#[tauri::command]
pub fn backup_retention_save(state: State<'_, AppState>, rules: RulesArgs) -> CmdResult<Rules> {
    let opened = state.opened()?;
    let current = opened.config();
    let path = state.paths.config_file.clone();
    let rules = Rules {
        keep_last: rules.keep_last,
        keep_daily: rules.keep_daily,
        keep_weekly: rules.keep_weekly,
        keep_monthly: rules.keep_monthly,
    };
    let next = opened.act(|s, a| retention::save_rules(s, a, &path, &current, rules))?;
    *opened.config.write().unwrap_or_else(|p| p.into_inner()) = next;
    Ok(rules)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RulesArgs {
    keep_last: u32,
    keep_daily: u32,
    keep_weekly: u32,
    keep_monthly: u32,
}

/// The remembered backup drives plugged in now, wherever they are mounted.
#[tauri::command]
pub async fn known_drives_present(app: AppHandle) -> CmdResult<Vec<PresentDrive>> {
    blocking(app, |state, _| {
        let opened = state.opened()?;
        let config = opened.config();
        opened.act(|_, a| drives::find_known(a, &config.backup))
    })
    .await
}
