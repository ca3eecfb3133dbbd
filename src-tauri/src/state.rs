//! The state the window keeps: the open store (behind a mutex, never held across an
//! await), the session folder, and the current session token. If the configuration or
//! the database cannot be opened, the state keeps the error so the window can show it
//! instead of crashing.

use std::sync::{Mutex, MutexGuard, OnceLock, RwLock};

use atslegas_core::config::{Config, Paths};
use atslegas_core::session::Sessions;
use atslegas_core::store::Security;
use atslegas_core::{Actor, Store};

use crate::error::{CmdResult, CommandError};

pub struct Opened {
    pub config: RwLock<Config>,
    pub store: Mutex<Store>,
    pub sessions: Sessions,
    /// The signed-in session; the page never sees the token.
    pub token: Mutex<Option<String>>,
}

pub struct AppState {
    pub paths: Paths,
    /// The open register; empty until it opens.
    opened: OnceLock<Opened>,
    /// Why the register could not be opened, until it is.
    failed: Mutex<Option<CommandError>>,
}

impl AppState {
    pub fn open(paths: Paths) -> AppState {
        let state = AppState {
            paths,
            opened: OnceLock::new(),
            failed: Mutex::new(None),
        };
        let _ = state.try_open();
        state
    }

    /// Opens the register unless it is open already: at start, and again once a restore
    /// over a register too damaged to open has put a sound one in its place.
    pub fn try_open(&self) -> CmdResult<&Opened> {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(o) = self.opened.get() {
            return Ok(o);
        }
        match open_register(&self.paths) {
            Ok(o) => {
                *failed = None;
                Ok(self.opened.get_or_init(|| o))
            }
            Err(e) => {
                let e = CommandError::from(e);
                *failed = Some(e.clone());
                Err(e)
            }
        }
    }

    /// The configured log level (1, errors, when the configuration could not be read).
    pub fn log_level(&self) -> u8 {
        self.opened.get().map(|o| o.config().log_level).unwrap_or(1)
    }

    pub fn opened(&self) -> CmdResult<&Opened> {
        if let Some(o) = self.opened.get() {
            return Ok(o);
        }
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        Err(failed.clone().unwrap_or_else(CommandError::not_signed_in))
    }

    /// Whether the register could not be opened because it is damaged: the one case in
    /// which the window restores a backup without a sign-in (nobody can sign in to it).
    pub fn damaged(&self) -> bool {
        // Cleared once the register opens.
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .as_ref()
            .is_some_and(|e| e.code == "register_damaged")
    }
}

/// The register, its configuration and its sessions, opened as the window needs them.
fn open_register(paths: &Paths) -> atslegas_core::Result<Opened> {
    paths.prepare()?;
    let config = Config::load_or_create(&paths.config_file)?;
    let mut store = Store::open(&config.db_path(paths), Security::from(&config))?;
    store.configure(&config);
    // The window stays open: checkpoints wait for an idle second, off the Desk's
    // commits.
    store.start_checkpointer(atslegas_core::checkpoint::Timing::default())?;
    let sessions = Sessions::new(config.session_dir(paths));
    // Sessions left idle past the timeout while the app was closed end now, with
    // their audit row.
    sessions.sweep_expired(&mut store)?;
    Ok(Opened {
        config: RwLock::new(config),
        store: Mutex::new(store),
        sessions,
        token: Mutex::new(None),
    })
}

impl Opened {
    /// A copy of the current configuration.
    pub fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads `config.json` again (after a restore replaced it), so the window never
    /// keeps, nor later writes back, the configuration it replaced; the security values
    /// the store enforces follow it.
    pub fn reload_config(&self, paths: &Paths, store: &mut Store) -> atslegas_core::Result<()> {
        let fresh = Config::load_or_create(&paths.config_file)?;
        store.configure(&fresh);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the store usable: every write is a
        // transaction that was rolled back.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The store if nobody holds it now (long work holds it for its whole run).
    pub fn try_store(&self) -> Option<MutexGuard<'_, Store>> {
        match self.store.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    pub fn token(&self) -> MutexGuard<'_, Option<String>> {
        self.token.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The signed-in actor, checking (and refreshing) the session. An expired or invalid
    /// session is forgotten, so the UI returns to sign-in.
    pub fn actor(&self, store: &mut Store) -> CmdResult<Actor> {
        let mut token = self.token();
        let Some(t) = token.as_deref() else {
            return Err(CommandError::not_signed_in());
        };
        match self.sessions.validate(store, t) {
            Ok(a) => Ok(a),
            Err(e) => {
                *token = None;
                Err(e.into())
            }
        }
    }

    /// Runs `f` as the signed-in actor: the glue of almost every command.
    pub fn act<T>(
        &self,
        f: impl FnOnce(&mut Store, &Actor) -> atslegas_core::Result<T>,
    ) -> CmdResult<T> {
        let mut store = self.store();
        let actor = self.actor(&mut store)?;
        Ok(f(&mut store, &actor)?)
    }
}
