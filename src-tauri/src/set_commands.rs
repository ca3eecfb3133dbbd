//! Key sets (rings) for the Sets screen: list, create, edit, delete. Glue only, as in
//! `commands.rs`: one core call as the signed-in actor; the core checks the role (admins
//! change sets, everyone signed in reads them) and every rule.

use atslegas_core::sets::{self, KeySet, SetInput};
use tauri::State;

use crate::error::CmdResult;
use crate::state::AppState;

#[tauri::command]
pub fn list_sets(
    state: State<'_, AppState>,
    include_deleted: Option<bool>,
) -> CmdResult<Vec<KeySet>> {
    state
        .opened()?
        .act(|s, _| sets::list(s.conn(), include_deleted.unwrap_or(false)))
}

/// Creates a set, or changes the one `original` names (its name or tag).
#[tauri::command]
pub fn set_save(
    state: State<'_, AppState>,
    original: Option<String>,
    input: SetInput,
) -> CmdResult<KeySet> {
    state.opened()?.act(|s, a| match original {
        Some(o) => sets::update(s, a, &o, &input),
        None => sets::create(s, a, &input),
    })
}

/// Deletes the set `set` names (soft: receipts keep naming it).
#[tauri::command]
pub fn set_delete(state: State<'_, AppState>, set: String) -> CmdResult<KeySet> {
    state.opened()?.act(|s, a| sets::delete(s, a, &set))
}
