//! Long work (backup, restore, export, import) off the window's thread: one place that
//! runs it on a blocking thread with a cancel flag `work_cancel` can set, and the file
//! locations the core's backup code needs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use atslegas_core::work::{Cancel, Locations, Progress};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::error::{CmdResult, CommandError};
use crate::state::{AppState, Opened};

/// The cancel flags of the long work running now. Usually one piece (the store is behind
/// one lock), but an automatic backup runs on its own connection beside a backup by hand
/// or an import, and closing the window must know about every one of them.
#[derive(Default)]
pub struct Running(Mutex<Vec<(u64, Cancel)>>, AtomicU64);

impl Running {
    fn start(&self) -> (u64, Cancel) {
        let id = self.1.fetch_add(1, Ordering::SeqCst);
        let c = Cancel::new();
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, c.clone()));
        (id, c)
    }
    /// Cancels all running work.
    pub fn cancel(&self) {
        for (_, c) in self.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            c.cancel();
        }
    }
    /// Whether long work is running now.
    pub fn is_running(&self) -> bool {
        !self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }
    fn finish(&self, id: u64) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(i, _)| *i != id);
    }
}

/// Runs `f` on a blocking thread with the app's state and a fresh cancel flag that
/// `work_cancel` can set meanwhile (backups and imports take seconds on a large
/// database; the window stays responsive).
pub async fn blocking<T: Send + 'static>(
    app: AppHandle,
    f: impl FnOnce(&AppState, &Cancel) -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(move || {
        let running = app.state::<Running>();
        let (id, cancel) = running.start();
        let result = f(&app.state::<AppState>(), &cancel);
        running.finish(id);
        result
    })
    .await
    .map_err(|e| CommandError {
        code: "unexpected",
        message: format!("The background work stopped unexpectedly: {e}"),
        details: serde_json::Value::Null,
    })?
}

/// `blocking`, for work on the register's files (backup, restore): `f` also gets the
/// opened register and where its files are.
pub async fn blocking_on_files<T: Send + 'static>(
    app: AppHandle,
    f: impl FnOnce(&AppState, &Opened, &Locations, &Cancel) -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    blocking(app, move |state, cancel| {
        let opened = state.opened()?;
        f(state, opened, &locations(state, opened), cancel)
    })
    .await
}

/// The core's progress reports, sent on to the page (a page that stopped listening does
/// not stop the work).
pub fn send(channel: &Channel<Progress>) -> impl FnMut(Progress) + '_ {
    move |p| {
        let _ = channel.send(p);
    }
}

/// Stops the running work where the core says it is safe: a backup leaves no archive,
/// an export no file, an import and a restore write nothing.
#[tauri::command]
pub fn work_cancel(running: State<'_, Running>) {
    running.cancel();
}

/// Where the database, the configuration and the data folder are.
pub fn locations(state: &AppState, opened: &Opened) -> Locations {
    opened.config().locations(&state.paths)
}
