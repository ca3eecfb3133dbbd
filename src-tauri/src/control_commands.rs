//! Key control for the window (SPEC §11): lost and found, areas and the impact of a lost
//! key, the Keys and Persons screens as of a past moment, offboarding with its
//! clearance, the stocktake, and the overdue list with contact details. Glue only: one
//! core call each as the signed-in actor; every rule and role check is the core's.

use atslegas_core::areas::{self, Area};
use atslegas_core::as_of::{self, Holding};
use atslegas_core::keylog::{LogEntry, PersonRef};
use atslegas_core::lost::{self, Impact};
use atslegas_core::offboard::{self, Clearance, Offboarding};
use atslegas_core::overdue::{self, DueKey};
use atslegas_core::stocktake::{self, CountedKey, Scan, Stocktake};
use atslegas_core::{persons, time};
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_notification::NotificationExt;

use crate::error::CmdResult;
use crate::state::AppState;

#[tauri::command]
pub fn key_lost(state: State<'_, AppState>, number: String, reason: String) -> CmdResult<LogEntry> {
    state
        .opened()?
        .act(|s, a| lost::report_lost(s, a, &number, &reason))
}

#[tauri::command]
pub fn key_found(
    state: State<'_, AppState>,
    number: String,
    comment: Option<String>,
) -> CmdResult<LogEntry> {
    state
        .opened()?
        .act(|s, a| lost::report_found(s, a, &number, comment.as_deref()))
}

#[tauri::command]
pub fn key_impact(state: State<'_, AppState>, number: String) -> CmdResult<Impact> {
    state.opened()?.act(|s, _| lost::impact(s.conn(), &number))
}

#[tauri::command]
pub fn list_areas(
    state: State<'_, AppState>,
    include_deleted: Option<bool>,
) -> CmdResult<Vec<Area>> {
    state
        .opened()?
        .act(|s, _| areas::list(s.conn(), include_deleted.unwrap_or(false)))
}

/// Creates an area, or changes the one `original` names.
#[tauri::command]
pub fn area_save(
    state: State<'_, AppState>,
    original: Option<String>,
    name: String,
    description: Option<String>,
) -> CmdResult<Area> {
    state.opened()?.act(|s, a| match original {
        Some(o) => areas::update(s, a, &o, &name, description.as_deref()),
        None => areas::create(s, a, &name, description.as_deref()),
    })
}

#[tauri::command]
pub fn area_delete(state: State<'_, AppState>, area: String) -> CmdResult<Area> {
    state.opened()?.act(|s, a| areas::delete(s, a, &area))
}

/// The areas key `number` opens.
#[tauri::command]
pub fn key_areas_get(state: State<'_, AppState>, number: String) -> CmdResult<Vec<Area>> {
    state.opened()?.act(|s, _| {
        let key = atslegas_core::keys::find(s.conn(), &number)?;
        areas::of_key(s.conn(), key.id)
    })
}

/// Sets exactly the areas key `number` opens (by name).
#[tauri::command]
pub fn key_areas_set(
    state: State<'_, AppState>,
    number: String,
    areas: Vec<String>,
) -> CmdResult<Vec<Area>> {
    let names: Vec<&str> = areas.iter().map(String::as_str).collect();
    state
        .opened()?
        .act(|s, a| areas::set_key_areas(s, a, &number, &names))
}

/// A page of the register as it was at a moment: the moment read back (so the page
/// shows exactly which one), and its rows.
#[derive(Serialize)]
pub struct AsOfPage {
    at: i64,
    rows: Vec<Holding>,
}

/// The keys as they were at `at` (the app's date field: "24.11.2026 17:00"), paged.
#[tauri::command]
pub fn keys_as_of(
    state: State<'_, AppState>,
    at: String,
    limit: Option<u32>,
    offset: Option<u32>,
) -> CmdResult<AsOfPage> {
    state.opened()?.act(|s, _| {
        let at = time::parse_local("at", &at)?;
        let rows = as_of::keys_at(
            s.conn(),
            at,
            None,
            limit.unwrap_or(100).clamp(1, 1000),
            offset.unwrap_or(0),
        )?;
        Ok(AsOfPage { at, rows })
    })
}

/// The keys person `id` held at `at`.
#[tauri::command]
pub fn person_as_of(state: State<'_, AppState>, id: i64, at: String) -> CmdResult<AsOfPage> {
    state.opened()?.act(|s, _| {
        let at = time::parse_local("at", &at)?;
        let person = persons::get(s.conn(), id)?;
        Ok(AsOfPage {
            at,
            rows: as_of::person_at(s.conn(), at, &person)?,
        })
    })
}

#[tauri::command]
pub fn offboard_status(state: State<'_, AppState>, id: i64) -> CmdResult<Offboarding> {
    state
        .opened()?
        .act(|s, _| offboard::status(s.conn(), &PersonRef::Id(id)))
}

#[tauri::command]
pub fn offboard_finish(
    state: State<'_, AppState>,
    id: i64,
    override_reason: Option<String>,
) -> CmdResult<Clearance> {
    state.opened()?.act(|s, a| {
        let reason = override_reason.as_deref().filter(|r| !r.trim().is_empty());
        offboard::finish(s, a, &PersonRef::Id(id), reason)
    })
}

#[tauri::command]
pub fn clearance_get(state: State<'_, AppState>, number: i64) -> CmdResult<Clearance> {
    state
        .opened()?
        .act(|s, _| offboard::clearance(s.conn(), number))
}

/// The open count and its latest scans (for the Stocktake screen), if one is open.
#[derive(Serialize)]
pub struct OpenCount {
    stocktake: Stocktake,
    recent: Vec<CountedKey>,
}

#[tauri::command]
pub fn stocktake_current(state: State<'_, AppState>) -> CmdResult<Option<OpenCount>> {
    state.opened()?.act(|s, _| {
        let Some(stocktake) = stocktake::current(s.conn())? else {
            return Ok(None);
        };
        let recent = stocktake::scanned(s.conn(), stocktake.id, 50)?;
        Ok(Some(OpenCount { stocktake, recent }))
    })
}

#[tauri::command]
pub fn stocktake_start(state: State<'_, AppState>) -> CmdResult<Stocktake> {
    state.opened()?.act(stocktake::start)
}

/// One scan (or typed key number) into the open count.
#[tauri::command]
pub fn stocktake_scan(state: State<'_, AppState>, text: String) -> CmdResult<Option<Scan>> {
    state
        .opened()?
        .act(|s, a| Ok(stocktake::scan(s, a, &[text.as_str()])?.pop()))
}

#[tauri::command]
pub fn stocktake_finish(state: State<'_, AppState>) -> CmdResult<Stocktake> {
    state.opened()?.act(stocktake::finish)
}

#[tauri::command]
pub fn stocktake_get(state: State<'_, AppState>, id: i64) -> CmdResult<Stocktake> {
    state.opened()?.act(|s, _| stocktake::get(s.conn(), id))
}

#[tauri::command]
pub fn stocktake_list(state: State<'_, AppState>) -> CmdResult<Vec<Stocktake>> {
    state.opened()?.act(|s, _| stocktake::list(s.conn(), 50))
}

/// Keys overdue or due today, with the holders' phone and e-mail.
#[tauri::command]
pub fn overdue_list(state: State<'_, AppState>) -> CmdResult<Vec<DueKey>> {
    state.opened()?.act(|s, _| {
        let now = s.now();
        overdue::list(s.conn(), now, overdue::end_of_local_day(now))
    })
}

/// Shows a desktop notification (the overdue reminder the page words in the user's
/// language). Returns false when it could not be shown (no notification service, as on
/// a bare Linux session); the page shows its reminder on the dashboard either way.
///
/// A debug build started with `ATSLEGAS_E2E_NOTIFY_LOG=FILE` appends each notification
/// to FILE as a JSON line instead, so the end-to-end tests can read what a user would see.
#[tauri::command]
pub fn notify(app: AppHandle, title: String, body: String) -> bool {
    if cfg!(debug_assertions) {
        if let Some(log) = std::env::var_os("ATSLEGAS_E2E_NOTIFY_LOG").filter(|v| !v.is_empty()) {
            use std::io::Write;
            let line = serde_json::json!({ "title": title, "body": body }).to_string();
            return std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .and_then(|mut f| writeln!(f, "{line}"))
                .is_ok();
        }
    }
    match app
        .notification()
        .builder()
        .title(&title)
        .body(&body)
        .show()
    {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("the overdue reminder could not be shown: {e}");
            false
        }
    }
}
