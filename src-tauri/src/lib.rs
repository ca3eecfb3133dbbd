//! The Atslegas window: Tauri setup, the managed state, and the command list. Commands
//! live in `commands.rs` and are a few lines each; everything they do is a core call.
//!
//! Invariant: no SQL and no business rule here. The shell owns the window, the current
//! session token (never handed to the page), and the translation of core errors into
//! `{ code, message, details }` for the UI.

mod audit_commands;
mod auto_backup;
mod backup_commands;
mod commands;
mod control_commands;
mod data_commands;
mod error;
mod handover_commands;
mod save_paths;
mod set_commands;
mod state;
mod work;

use std::path::PathBuf;

use atslegas_core::config::Paths;
use tauri::Manager;

/// The data directory given as `--data-dir DIR` (or `--data-dir=DIR`) on the command line.
fn data_dir_arg() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        let s = a.to_string_lossy();
        if s == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// The variable with which WebKitGTK paints a page without accelerated compositing.
#[cfg(any(target_os = "linux", test))]
const NO_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// What [`NO_COMPOSITING`] should be set to, when it is `current` now: "1", unless
/// someone set it already (a driver problem, an administrator's choice), which stands.
#[cfg(any(target_os = "linux", test))]
fn compositing_setting(current: Option<std::ffi::OsString>) -> Option<&'static str> {
    current.is_none().then_some("1")
}

/// Linux: WebKitGTK's accelerated compositing keeps a painted copy of each layer in the
/// web process. With it, the window took 377 MB (PSS, every process) after a visit to
/// every screen of the reference register; without it 253 MB, under SPEC §8's 300 MB
/// (docs/BENCHMARK.md, "The window"), and sign-in was no slower. The screens are forms
/// and tables, which WebKit paints as quickly without layers. Set in the environment,
/// before the first thread, so the web process WebKit starts inherits it.
#[cfg(target_os = "linux")]
fn paint_without_compositing_layers() {
    if let Some(value) = compositing_setting(std::env::var_os(NO_COMPOSITING)) {
        std::env::set_var(NO_COMPOSITING, value);
    }
}

/// One window per register: a second start on the same data folder hands over to the
/// running window, which comes to the front, and exits (tauri-plugin-single-instance;
/// registered before anything else so the second start opens nothing). On Linux the
/// lock is a D-Bus name made from the register's id, so a second register (another
/// data folder) still opens its own window; on Windows and macOS the plugin keys on the
/// app's identifier, so there a second start always goes to the running window.
fn single_instance(paths: &Paths) -> tauri::plugin::TauriPlugin<tauri::Wry> {
    let builder = tauri_plugin_single_instance::Builder::new().callback(|app, _args, _cwd| {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    });
    #[cfg(target_os = "linux")]
    let builder = builder.dbus_id(format!("lv.atslegas.desktop.{}", paths.register_id()));
    #[cfg(not(target_os = "linux"))]
    let _ = paths;
    builder.build()
}

pub fn run() {
    #[cfg(target_os = "linux")]
    paint_without_compositing_layers();
    let paths = Paths::resolve(data_dir_arg(), std::env::current_exe().ok());
    tauri::Builder::default()
        .plugin(single_instance(&paths))
        .plugin(tauri_plugin_notification::init())
        // The register is opened in setup, after the single-instance check: a second start
        // on the same register exits before it touches the database.
        .setup(move |app| {
            let app_state = state::AppState::open(paths);
            atslegas_core::logging::init(app_state.log_level(), true);
            app.manage(app_state);
            Ok(())
        })
        .manage(work::Running::default())
        .manage(save_paths::SaveGrants::default())
        .manage(auto_backup::Exit::default())
        .on_window_event(auto_backup::on_window_event)
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::setup_root,
            commands::sign_in,
            commands::sign_out,
            commands::home_summary,
            commands::dashboard,
            commands::day_actions,
            commands::desk_lookup,
            handover_commands::desk_plan,
            handover_commands::desk_hand_over,
            handover_commands::receipt_get,
            handover_commands::receipt_printed,
            handover_commands::receipt_save_pdf,
            handover_commands::print_page,
            commands::list_keys,
            commands::key_save,
            commands::key_delete,
            commands::key_restore,
            commands::key_set_retired,
            commands::key_history,
            commands::keys_group_coverage,
            set_commands::list_sets,
            set_commands::set_save,
            set_commands::set_delete,
            control_commands::key_lost,
            control_commands::key_found,
            control_commands::key_impact,
            control_commands::list_areas,
            control_commands::area_save,
            control_commands::area_delete,
            control_commands::key_areas_get,
            control_commands::key_areas_set,
            control_commands::keys_as_of,
            control_commands::person_as_of,
            control_commands::offboard_status,
            control_commands::offboard_finish,
            control_commands::clearance_get,
            control_commands::stocktake_current,
            control_commands::stocktake_start,
            control_commands::stocktake_scan,
            control_commands::stocktake_finish,
            control_commands::stocktake_get,
            control_commands::stocktake_list,
            control_commands::overdue_list,
            control_commands::notify,
            commands::list_persons,
            commands::person_save,
            commands::person_delete,
            commands::person_restore,
            commands::person_detail,
            commands::list_groups,
            commands::group_detail,
            commands::group_save,
            commands::group_delete,
            commands::group_allow,
            commands::group_members,
            commands::list_users,
            commands::user_create,
            commands::user_update,
            commands::user_set_password,
            commands::user_change_own_password,
            commands::keylog_search,
            commands::audit_search,
            commands::log_actors,
            audit_commands::audit_verify,
            commands::settings_get,
            commands::settings_update,
            commands::about,
            commands::db_check,
            backup_commands::backup_overview,
            backup_commands::pick_folder,
            backup_commands::pick_backup_file,
            backup_commands::backup_run,
            backup_commands::backup_list,
            backup_commands::restore_preview,
            backup_commands::restore_run,
            backup_commands::rescue_list,
            backup_commands::rescue_preview,
            backup_commands::rescue_run,
            backup_commands::rescue_start_over,
            backup_commands::backup_retention_save,
            backup_commands::known_drives_present,
            auto_backup::auto_backup_get,
            auto_backup::auto_backup_set,
            auto_backup::auto_backup_run,
            auto_backup::app_quit,
            auto_backup::app_quit_cancelled,
            work::work_cancel,
            data_commands::pick_save_file,
            data_commands::pick_import_file,
            data_commands::export_keylog,
            data_commands::export_audit,
            data_commands::export_all,
            data_commands::import_preview,
            data_commands::import_run,
        ])
        .run(tauri::generate_context!())
        .expect("error while running the Atslegas window");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_is_turned_off_unless_someone_chose_already() {
        assert_eq!(compositing_setting(None), Some("1"));
        assert_eq!(compositing_setting(Some("0".into())), None);
        assert_eq!(compositing_setting(Some("1".into())), None);
    }
}
