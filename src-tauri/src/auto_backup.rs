//! Automatic backups in the window: the settings (admins), the daily check the page asks
//! for after sign-in and every half hour, and the backup at exit: closing the window,
//! when a backup is due and its drive present, asks the page to show the backup with its
//! progress and a Skip button, then quit. Every decision is the core's
//! (`backup::auto`).
//!
//! Automatic backups run on a second connection to the database, so the desk stays
//! usable meanwhile (SQLite's WAL lets the snapshot read while the window writes).
//!
//! Closing the window while long work runs (a backup, a restore, an import or an export)
//! asks first whether to stop it.
//!
//! Invariant: the window can always be closed. A second close while no backup is running
//! closes it (a page that did not answer the first cannot keep the app open), and Skip
//! cancels a running backup where it is safe (no archive is left).

use std::sync::atomic::{AtomicBool, Ordering};

use atslegas_core::backup::auto::{self, AutoSettings, Outcome, Trigger};
use atslegas_core::config::AutoMode;
use atslegas_core::store::Security;
use atslegas_core::work::Progress;
use atslegas_core::Store;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Manager, State, Window, WindowEvent};

use crate::error::{CmdResult, CommandError};
use crate::state::AppState;
use crate::work::{blocking, locations, Running};

/// The event the page gets when the window is closed and an exit backup is due.
pub const EXIT_EVENT: &str = "atslegas://exit-backup";
/// The event the page gets when the window is closed while long work runs (a backup,
/// a restore, an import or an export): it asks whether to stop it and close.
pub const BUSY_EVENT: &str = "atslegas://close-while-busy";

/// Where closing the window stands.
#[derive(Default)]
pub struct Exit {
    /// The page was asked to make the exit backup.
    asked: AtomicBool,
    /// The page said to quit (after the backup, or skipping it).
    quitting: AtomicBool,
    /// The page was asked whether to stop the running work and close.
    asked_busy: AtomicBool,
}

/// Handles a request to close the main window (see the module's invariant).
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    let exit = app.state::<Exit>();
    if exit.quitting.load(Ordering::SeqCst) {
        return;
    }
    let running = app.state::<Running>().is_running();
    if exit.asked.load(Ordering::SeqCst) {
        if running {
            // The page shows the running backup and its Skip button.
            api.prevent_close();
        }
        return;
    }
    if running {
        // Asked once; a second close while the question is open closes (the invariant).
        if !exit.asked_busy.swap(true, Ordering::SeqCst) {
            api.prevent_close();
            if window.emit(BUSY_EVENT, ()).is_err() {
                exit.quitting.store(true, Ordering::SeqCst);
                app.exit(0);
            }
        }
        return;
    }
    if exit_backup_due(&app.state::<AppState>()) {
        exit.asked.store(true, Ordering::SeqCst);
        api.prevent_close();
        if window.emit(EXIT_EVENT, ()).is_err() {
            // Nobody to show it: close as asked.
            exit.quitting.store(true, Ordering::SeqCst);
            app.exit(0);
        }
    }
}

/// Whether closing now should make a backup first (quick: a query and a look for the
/// drive's marker).
fn exit_backup_due(state: &AppState) -> bool {
    let Ok(opened) = state.opened() else {
        return false;
    };
    let config = opened.config();
    if config.backup.auto_backup != AutoMode::AtExit {
        return false;
    }
    // Never wait for the store on the window's thread: while long work holds it (a
    // backup by hand, an import) the window closes as it did before automatic backups.
    let Some(store) = opened.try_store() else {
        return false;
    };
    auto::would_run(&store, &config, Trigger::Exit).unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not check whether an exit backup is due");
        false
    })
}

/// Quits the app (after the exit backup, or when the user skipped it). With
/// `stop_work`, long work that is running is cancelled first and given a few seconds to
/// stop where it is safe (a cancelled backup removes its `.partial` file); the process
/// ending is safe anyway, this only tidies up.
#[tauri::command]
pub async fn app_quit(app: AppHandle, stop_work: Option<bool>) {
    if stop_work.unwrap_or(false) {
        let handle = app.clone();
        let _ = tauri::async_runtime::spawn_blocking(move || {
            let running = handle.state::<Running>();
            running.cancel();
            for _ in 0..100 {
                if !running.is_running() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
        .await;
    }
    app.state::<Exit>().quitting.store(true, Ordering::SeqCst);
    app.exit(0);
}

/// The page changed its mind about quitting (the backup failed, or work is running, and
/// the user went back).
#[tauri::command]
pub fn app_quit_cancelled(exit: State<'_, Exit>) {
    exit.asked.store(false, Ordering::SeqCst);
    exit.asked_busy.store(false, Ordering::SeqCst);
}

#[tauri::command]
pub fn auto_backup_get(state: State<'_, AppState>) -> CmdResult<AutoSettings> {
    let opened = state.opened()?;
    let loc = locations(&state, opened);
    let config = opened.config();
    opened.act(|_, a| auto::settings(a, &config, &loc))
}

#[derive(Deserialize)]
pub struct AutoArgs {
    mode: String,
    encrypt: bool,
    /// A passphrase the admin chose; empty or absent keeps the one on this computer, or
    /// generates one if there is none.
    passphrase: Option<String>,
}

#[derive(Serialize)]
pub struct AutoSaved {
    settings: AutoSettings,
    /// Shown once, when the app generated it.
    recovery_passphrase: Option<String>,
}

#[tauri::command]
pub fn auto_backup_set(state: State<'_, AppState>, args: AutoArgs) -> CmdResult<AutoSaved> {
    let opened = state.opened()?;
    let loc = locations(&state, opened);
    let current = opened.config();
    let (next, generated, settings) = opened.act(|s, a| {
        let mode = AutoMode::parse(&args.mode)?;
        let (next, generated) = auto::configure(
            s,
            a,
            &loc,
            &current,
            mode,
            args.encrypt,
            args.passphrase.as_deref(),
        )?;
        let settings = auto::settings(a, &next, &loc)?;
        Ok((next, generated, settings))
    })?;
    *opened.config.write().unwrap_or_else(|p| p.into_inner()) = next;
    Ok(AutoSaved {
        settings,
        recovery_passphrase: generated,
    })
}

/// Makes the automatic backup for `trigger` ("exit" or "daily") if the core says it is
/// due. Needs no session: it does only what an admin configured, as the app itself.
#[tauri::command]
pub async fn auto_backup_run(
    app: AppHandle,
    trigger: String,
    on_progress: Channel<Progress>,
) -> CmdResult<Outcome> {
    let trigger = match trigger.as_str() {
        "exit" => Trigger::Exit,
        "daily" => Trigger::Daily,
        other => {
            return Err(CommandError::from(atslegas_core::Error::invalid(
                "trigger",
                format!("\"{other}\" is not a trigger of automatic backups"),
            )))
        }
    };
    blocking(app, move |state, cancel| {
        let opened = state.opened()?;
        let loc = locations(state, opened);
        let config = opened.config();
        // Its own connection: the window's stays free for the desk meanwhile.
        let mut store = Store::open(&loc.database, Security::from(&config))?;
        store.configure(&config);
        Ok(auto::run(
            &mut store,
            &loc,
            &config,
            trigger,
            &mut |p| {
                let _ = on_progress.send(p);
            },
            cancel,
        )?)
    })
    .await
}
