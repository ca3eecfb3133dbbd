//! Tauri commands: glue only. Each takes the state, makes one core call, returns its
//! result or its error. Roles are enforced by the core, not here.

use atslegas_core::keylog::{self, Summary};
use atslegas_core::keys::{self, Key, KeyQuery};
use atslegas_core::persons::{self, Person, PersonQuery};
use atslegas_core::users::{self, User};
use serde::Serialize;
use tauri::State;

use crate::error::{CmdResult, CommandError};
use crate::state::AppState;

/// What the page needs to decide which screen to show.
#[derive(Serialize)]
pub struct AppStatus {
    /// Set when the configuration or database could not be opened.
    startup_error: Option<CommandError>,
    set_up: bool,
    user: Option<User>,
    language: String,
    site_name: String,
    timeout_seconds: u64,
    data_dir: String,
}

#[tauri::command]
pub fn app_status(state: State<'_, AppState>) -> AppStatus {
    let data_dir = state.paths.data_dir.display().to_string();
    let opened = match state.opened() {
        Ok(o) => o,
        Err(e) => {
            return AppStatus {
                startup_error: Some(e),
                set_up: false,
                user: None,
                language: "lv".into(),
                site_name: "Atslegas".into(),
                timeout_seconds: 0,
                data_dir,
            }
        }
    };
    let mut store = opened.store();
    let set_up = users::is_set_up(store.conn()).unwrap_or(false);
    let user = opened
        .actor(&mut store)
        .ok()
        .and_then(|a| a.user_id)
        .and_then(|id| users::get(store.conn(), id).ok().flatten());
    AppStatus {
        startup_error: None,
        set_up,
        user,
        language: opened.config.ui.language.clone(),
        site_name: opened.config.site_name.clone(),
        timeout_seconds: opened.config.client_sessions.timeout_seconds,
        data_dir,
    }
}

#[tauri::command]
pub fn setup_root(state: State<'_, AppState>, password: String) -> CmdResult<User> {
    let opened = state.opened()?;
    let mut store = opened.store();
    users::init_root(&mut store, &password)?;
    let (token, user) = opened
        .sessions
        .sign_in(&mut store, users::ROOT_USERNAME, &password)?;
    *opened.token() = Some(token);
    Ok(user)
}

#[tauri::command]
pub fn sign_in(state: State<'_, AppState>, username: String, password: String) -> CmdResult<User> {
    let opened = state.opened()?;
    let mut store = opened.store();
    let (token, user) = opened.sessions.sign_in(&mut store, &username, &password)?;
    *opened.token() = Some(token);
    Ok(user)
}

#[tauri::command]
pub fn sign_out(state: State<'_, AppState>) -> CmdResult<()> {
    let opened = state.opened()?;
    let mut store = opened.store();
    let token = opened.token().take();
    match token {
        Some(t) => Ok(opened.sessions.sign_out(&mut store, &t)?),
        None => Ok(()),
    }
}

#[tauri::command]
pub fn home_summary(state: State<'_, AppState>) -> CmdResult<Summary> {
    let opened = state.opened()?;
    let mut store = opened.store();
    opened.actor(&mut store)?;
    Ok(keylog::summary(store.conn(), store.now())?)
}

#[tauri::command]
pub fn list_keys(
    state: State<'_, AppState>,
    search: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
) -> CmdResult<Vec<Key>> {
    let opened = state.opened()?;
    let mut store = opened.store();
    opened.actor(&mut store)?;
    let q = KeyQuery {
        status,
        search,
        limit,
        offset,
        ..Default::default()
    };
    Ok(keys::list(store.conn(), &q)?)
}

#[tauri::command]
pub fn list_persons(
    state: State<'_, AppState>,
    search: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
) -> CmdResult<Vec<Person>> {
    let opened = state.opened()?;
    let mut store = opened.store();
    opened.actor(&mut store)?;
    let q = PersonQuery {
        search,
        limit,
        offset,
        ..Default::default()
    };
    Ok(persons::list(store.conn(), &q)?)
}

#[tauri::command]
pub fn list_users(state: State<'_, AppState>) -> CmdResult<Vec<User>> {
    let opened = state.opened()?;
    let mut store = opened.store();
    let actor = opened.actor(&mut store)?;
    Ok(users::list(store.conn(), &actor)?)
}
