//! Tauri commands: glue only. Each takes the state, makes one core call as the signed-in
//! actor, and returns its result or its error. Roles are enforced by the core, not here.
//! Argument structs that the page sends are the shell's own (`*Args`), converted by hand
//! into core types.

use atslegas_core::audit::{self, AuditEntry, AuditFilter};
use atslegas_core::config::{self, SettingsChange};
use atslegas_core::desk::{self, Match};
use atslegas_core::groups::{self, Group};
use atslegas_core::keylog::{self, LogCursor, LogEntry, LogFilter, Summary};
use atslegas_core::keys::{self, Key, KeyInput, KeyQuery};
use atslegas_core::persons::{self, Person, PersonInput, PersonQuery};
use atslegas_core::users::{self, User};
use atslegas_core::{db, Role};
use serde::{Deserialize, Serialize};
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
    let config = opened.config();
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
        language: config.ui.language,
        site_name: config.site_name,
        timeout_seconds: config.client_sessions.timeout_seconds,
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
    state
        .opened()?
        .act(|s, _| keylog::summary(s.conn(), s.now()))
}

// ---------------------------------------------------------------- dashboard

#[tauri::command]
pub fn dashboard(
    state: State<'_, AppState>,
    today: Option<String>,
) -> CmdResult<atslegas_core::dashboard::Dashboard> {
    let opened = state.opened()?;
    let remind_after_days = opened.config().backup.remind_after_days;
    opened.act(|s, actor| {
        let today = match today {
            Some(t) => chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map_err(|_| atslegas_core::Error::invalid("today", "is not a date"))?,
            None => chrono::Local::now().date_naive(),
        };
        atslegas_core::dashboard::load(s, actor, today, remind_after_days)
    })
}

/// One page of a day's movements, oldest first (the dashboard's day panel).
#[tauri::command]
pub fn day_actions(
    state: State<'_, AppState>,
    start: i64,
    end: i64,
    limit: Option<u32>,
    offset: Option<u32>,
) -> CmdResult<Vec<LogEntry>> {
    let limit = limit
        .unwrap_or(keylog::DAY_PAGE_MAX)
        .min(keylog::DAY_PAGE_MAX);
    state
        .opened()?
        .act(|s, _| keylog::list_range(s.conn(), start, end, limit, offset.unwrap_or(0)))
}

// ---------------------------------------------------------------- desk

#[tauri::command]
pub fn desk_lookup(
    state: State<'_, AppState>,
    text: String,
    person_chosen: bool,
) -> CmdResult<Match> {
    state
        .opened()?
        .act(|s, _| desk::lookup(s.conn(), &text, person_chosen))
}

// ---------------------------------------------------------------- keys

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListArgs {
    search: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    include_deleted: Option<bool>,
    holder_person_id: Option<i64>,
    limit: Option<u32>,
    offset: Option<u32>,
}

#[tauri::command]
pub fn list_keys(state: State<'_, AppState>, args: Option<ListArgs>) -> CmdResult<Vec<Key>> {
    let a = args.unwrap_or_default();
    state.opened()?.act(|s, _| {
        let q = KeyQuery {
            status: a.status.filter(|v| !v.is_empty()),
            search: a.search,
            holder_person_id: a.holder_person_id,
            overdue_at: None,
            include_deleted: a.include_deleted.unwrap_or(false),
            limit: a.limit,
            offset: a.offset,
        };
        keys::list_sorted(s.conn(), &q, a.sort.as_deref().unwrap_or("number"))
    })
}

#[tauri::command]
pub fn key_save(state: State<'_, AppState>, id: Option<i64>, input: KeyInput) -> CmdResult<Key> {
    state.opened()?.act(|s, a| match id {
        Some(id) => keys::update(s, a, id, &input),
        None => keys::create(s, a, &input),
    })
}

#[tauri::command]
pub fn key_delete(state: State<'_, AppState>, id: i64) -> CmdResult<Key> {
    state.opened()?.act(|s, a| keys::delete(s, a, id))
}

#[tauri::command]
pub fn key_restore(state: State<'_, AppState>, id: i64) -> CmdResult<Key> {
    state.opened()?.act(|s, a| keys::restore(s, a, id))
}

#[tauri::command]
pub fn key_set_retired(state: State<'_, AppState>, id: i64, retired: bool) -> CmdResult<Key> {
    state
        .opened()?
        .act(|s, a| keys::set_retired(s, a, id, retired))
}

/// Whether some group allows any key yet (the Keys screen's first-run card).
#[tauri::command]
pub fn keys_group_coverage(state: State<'_, AppState>) -> CmdResult<keys::GroupCoverage> {
    state.opened()?.act(|s, _| keys::group_coverage(s.conn()))
}

#[tauri::command]
pub fn key_history(
    state: State<'_, AppState>,
    id: i64,
    offset: Option<u32>,
) -> CmdResult<Vec<LogEntry>> {
    state
        .opened()?
        .act(|s, _| keylog::key_history(s.conn(), id, 51, offset.unwrap_or(0)))
}

// ---------------------------------------------------------------- persons

#[tauri::command]
pub fn list_persons(state: State<'_, AppState>, args: Option<ListArgs>) -> CmdResult<Vec<Person>> {
    let a = args.unwrap_or_default();
    state.opened()?.act(|s, _| {
        let q = PersonQuery {
            search: a.search,
            include_deleted: a.include_deleted.unwrap_or(false),
            limit: a.limit,
            offset: a.offset,
        };
        persons::list_sorted(s.conn(), &q, a.sort.as_deref().unwrap_or("name"))
    })
}

#[tauri::command]
pub fn person_save(
    state: State<'_, AppState>,
    id: Option<i64>,
    input: PersonInput,
) -> CmdResult<Person> {
    state.opened()?.act(|s, a| match id {
        Some(id) => persons::update(s, a, id, &input),
        None => persons::create(s, a, &input),
    })
}

#[tauri::command]
pub fn person_delete(state: State<'_, AppState>, id: i64) -> CmdResult<Person> {
    state.opened()?.act(|s, a| persons::delete(s, a, id))
}

#[tauri::command]
pub fn person_restore(state: State<'_, AppState>, id: i64) -> CmdResult<Person> {
    state.opened()?.act(|s, a| persons::restore(s, a, id))
}

#[derive(Serialize)]
pub struct PersonDetail {
    person: Person,
    keys: Vec<Key>,
    groups: Vec<Group>,
    history: Vec<LogEntry>,
}

#[tauri::command]
pub fn person_detail(state: State<'_, AppState>, id: i64) -> CmdResult<PersonDetail> {
    state.opened()?.act(|s, _| {
        let held = KeyQuery {
            holder_person_id: Some(id),
            limit: Some(1000),
            ..Default::default()
        };
        let f = LogFilter {
            person_id: Some(id),
            limit: Some(50),
            ..Default::default()
        };
        Ok(PersonDetail {
            person: persons::get(s.conn(), id)?,
            keys: keys::list(s.conn(), &held)?,
            groups: groups::of_person(s.conn(), id)?,
            history: keylog::search(s.conn(), &f)?,
        })
    })
}

// ---------------------------------------------------------------- groups

#[tauri::command]
pub fn list_groups(state: State<'_, AppState>) -> CmdResult<Vec<Group>> {
    state.opened()?.act(|s, _| groups::list(s.conn()))
}

/// Members and keys shown at once for a group; the counts say how many there are in all.
const GROUP_PAGE: u32 = 200;

#[derive(Serialize)]
pub struct GroupDetail {
    members: Vec<Person>,
    keys: Vec<Key>,
}

#[tauri::command]
pub fn group_detail(state: State<'_, AppState>, id: i64) -> CmdResult<GroupDetail> {
    state.opened()?.act(|s, _| {
        let (members, keys) = groups::detail_page(s.conn(), id, GROUP_PAGE)?;
        Ok(GroupDetail { members, keys })
    })
}

#[tauri::command]
pub fn group_save(
    state: State<'_, AppState>,
    original: Option<String>,
    name: String,
    description: Option<String>,
) -> CmdResult<Group> {
    state.opened()?.act(|s, a| match original {
        Some(o) => groups::update(s, a, &o, &name, description.as_deref()),
        None => groups::create(s, a, &name, description.as_deref()),
    })
}

#[tauri::command]
pub fn group_delete(state: State<'_, AppState>, name: String) -> CmdResult<()> {
    state.opened()?.act(|s, a| groups::delete(s, a, &name))
}

#[tauri::command]
pub fn group_allow(
    state: State<'_, AppState>,
    name: String,
    keys: Vec<String>,
    allow: bool,
) -> CmdResult<Group> {
    state.opened()?.act(|s, a| {
        if allow {
            groups::allow_keys(s, a, &name, &keys)
        } else {
            groups::disallow_keys(s, a, &name, &keys)
        }
    })
}

#[tauri::command]
pub fn group_members(
    state: State<'_, AppState>,
    name: String,
    person_ids: Vec<i64>,
    add: bool,
) -> CmdResult<Group> {
    state.opened()?.act(|s, a| {
        if add {
            groups::add_member_ids(s, a, &name, &person_ids)
        } else {
            groups::remove_members(s, a, &name, &person_ids)
        }
    })
}

// ---------------------------------------------------------------- users

#[tauri::command]
pub fn list_users(state: State<'_, AppState>) -> CmdResult<Vec<User>> {
    state.opened()?.act(|s, a| users::list(s.conn(), a))
}

#[tauri::command]
pub fn user_create(
    state: State<'_, AppState>,
    username: String,
    role: String,
    password: String,
) -> CmdResult<User> {
    state.opened()?.act(|s, a| {
        let role = Role::parse(&role)?;
        users::add(s, a, &username, role, Some(&password))
    })
}

#[tauri::command]
pub fn user_update(
    state: State<'_, AppState>,
    username: String,
    role: Option<String>,
    active: Option<bool>,
) -> CmdResult<User> {
    state.opened()?.act(|s, a| {
        let role = role.as_deref().map(Role::parse).transpose()?;
        users::update(s, a, &username, role, active)
    })
}

/// An admin sets another user's password; that user's sessions end.
#[tauri::command]
pub fn user_set_password(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> CmdResult<()> {
    let opened = state.opened()?;
    opened.act(|s, a| users::set_password(s, &opened.sessions, a, &username, &password))
}

/// The signed-in user changes their own password, giving the current one; their other
/// sessions end, this window's stays.
#[tauri::command]
pub fn user_change_own_password(
    state: State<'_, AppState>,
    current: String,
    password: String,
) -> CmdResult<()> {
    let opened = state.opened()?;
    opened.act(|s, a| {
        let token = opened.token().clone();
        users::change_own_password(
            s,
            &opened.sessions,
            a,
            token.as_deref(),
            &current,
            &password,
        )
    })
}

// ---------------------------------------------------------------- logs

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct KeyLogArgs {
    start: Option<i64>,
    end: Option<i64>,
    key_number: Option<String>,
    person_id: Option<i64>,
    actor: Option<String>,
    action: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
    /// The last row of the page before (keyset paging), when the page has one.
    before: Option<LogCursor>,
}

/// A text filter as the core takes it: trimmed, and absent when empty.
pub(crate) fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl KeyLogArgs {
    /// The Logs screen's key-log filters as the core takes them (the key by its number).
    pub(crate) fn filter(
        self,
        conn: &atslegas_core::db::Connection,
    ) -> atslegas_core::Result<LogFilter> {
        let key_id = match nonempty(self.key_number) {
            Some(n) => Some(keys::find(conn, &n)?.id),
            None => None,
        };
        Ok(LogFilter {
            start: self.start,
            end: self.end,
            key_id,
            person_id: self.person_id,
            actor: nonempty(self.actor),
            action: nonempty(self.action),
            limit: self.limit,
            offset: self.offset,
            before: self.before,
        })
    }
}

#[tauri::command]
pub fn keylog_search(state: State<'_, AppState>, args: KeyLogArgs) -> CmdResult<Vec<LogEntry>> {
    state
        .opened()?
        .act(|s, _| keylog::search(s.conn(), &args.filter(s.conn())?))
}

/// The Logs screen's audit filters and page, for the list and (without the page) its
/// export.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuditArgs {
    component: Option<String>,
    record_id: Option<String>,
    actor: Option<String>,
    operation: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<u32>,
    offset: Option<u32>,
}

impl AuditArgs {
    /// The core's filter: an empty field filters nothing.
    pub(crate) fn filter(self) -> AuditFilter {
        AuditFilter {
            component: nonempty(self.component),
            record_id: nonempty(self.record_id),
            actor: nonempty(self.actor),
            operation: nonempty(self.operation),
            since: self.since,
            until: self.until,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

#[tauri::command]
pub fn audit_search(state: State<'_, AppState>, args: AuditArgs) -> CmdResult<Vec<AuditEntry>> {
    let f = args.filter();
    state.opened()?.act(|s, a| audit::list(s.conn(), a, &f))
}

#[tauri::command]
pub fn log_actors(state: State<'_, AppState>) -> CmdResult<Vec<String>> {
    state.opened()?.act(|s, a| keylog::actors(s.conn(), a))
}

// ---------------------------------------------------------------- settings, about

#[derive(Serialize)]
pub struct Settings {
    site_name: String,
    language: String,
    timeout_seconds: u64,
    remind_after_days: u32,
    /// `never`, `issue` or `issue_and_return`.
    require_signature: atslegas_core::store::SignatureRule,
    terms_lv: String,
    terms_en: String,
    /// The longest terms text the core takes, in characters.
    terms_max: usize,
}

#[tauri::command]
pub fn settings_get(state: State<'_, AppState>) -> CmdResult<Settings> {
    let opened = state.opened()?;
    opened.act(|_, _| Ok(()))?;
    let c = opened.config();
    Ok(Settings {
        site_name: c.site_name,
        language: c.ui.language,
        timeout_seconds: c.client_sessions.timeout_seconds,
        remind_after_days: c.backup.remind_after_days,
        require_signature: c.handover.require_signature,
        terms_lv: c.handover.terms_lv,
        terms_en: c.handover.terms_en,
        terms_max: config::MAX_TERMS_CHARS,
    })
}

#[tauri::command]
pub fn settings_update(state: State<'_, AppState>, change: SettingsChange) -> CmdResult<()> {
    let opened = state.opened()?;
    let current = opened.config();
    let path = state.paths.config_file.clone();
    let next = opened.act(|s, a| config::update_settings(s, a, &path, &current, &change))?;
    *opened.config.write().unwrap_or_else(|p| p.into_inner()) = next;
    Ok(())
}

#[derive(Serialize)]
pub struct About {
    version: &'static str,
    data_dir: String,
    config_file: String,
    database: String,
    portable: bool,
    health: db::Health,
}

#[tauri::command]
pub fn about(state: State<'_, AppState>) -> CmdResult<About> {
    let opened = state.opened()?;
    let db_path = opened.config().db_path(&state.paths);
    let health = opened.act(|s, _| db::health(s.conn(), &db_path))?;
    Ok(About {
        version: db::APP_VERSION,
        data_dir: state.paths.data_dir.display().to_string(),
        config_file: state.paths.config_file.display().to_string(),
        database: db_path.display().to_string(),
        portable: state.paths.portable,
        health,
    })
}

/// Settings → About's "Check now": SQLite's integrity check on a connection of its own,
/// on a blocking thread, so the Desk goes on working while a large register is read.
#[tauri::command]
pub async fn db_check(app: tauri::AppHandle) -> CmdResult<db::Integrity> {
    crate::work::blocking(app, |state, cancel| {
        let opened = state.opened()?;
        let db_path = opened.config().db_path(&state.paths);
        // Signed in (any role), then the store is let go before the long read.
        opened.act(|_, _| Ok(()))?;
        Ok(db::check_integrity(&db_path, cancel)?)
    })
    .await
}
