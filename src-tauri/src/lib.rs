//! The Atslegas window: Tauri setup, the managed state, and the command list. Commands
//! live in `commands.rs` and are a few lines each; everything they do is a core call.
//!
//! Invariant: no SQL and no business rule here. The shell owns the window, the current
//! session token (never handed to the page), and the translation of core errors into
//! `{ code, message, details }` for the UI.

mod commands;
mod error;
mod state;

use std::path::PathBuf;

use atslegas_core::config::{Config, Paths};

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

fn init_logging(config: Option<&Config>) {
    let level = match config.map(|c| c.log_level).unwrap_or(1) {
        0 => return,
        1 => tracing::Level::ERROR,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run() {
    let paths = Paths::resolve(data_dir_arg(), std::env::current_exe().ok());
    let app_state = state::AppState::open(paths);
    init_logging(app_state.config());

    tauri::Builder::default()
        .manage(app_state)
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::setup_root,
            commands::sign_in,
            commands::sign_out,
            commands::home_summary,
            commands::list_keys,
            commands::list_persons,
            commands::list_users,
        ])
        .run(tauri::generate_context!())
        .expect("error while running the Atslegas window");
}
