//! Atslegas core: everything a user can do with the keys of a building, as plain functions
//! over one SQLite file. It knows nothing of Tauri, windows or JSON transport; the desktop
//! shell and the command-line tool are thin callers of this crate.
//!
//! Crate choices (and why):
//! - `rusqlite` with bundled SQLite: every platform runs the same SQLite (FTS5, trigram,
//!   the backup API), no system library to match. Its `hooks` feature gives the commit
//!   hook that tells the background checkpointer of each write (see [`checkpoint`]).
//! - `argon2`: argon2id password hashes with OWASP's parameters (see [`users`]).
//! - `sha2` + `hmac`: the audit hash chain and the signature on session files.
//! - `chrono`: UTC storage and local-day arithmetic for the calendar.
//! - `serde_path_to_error`: a malformed `config.json` is reported with the key's path.
//! - `thiserror`: one error enum whose variants a user can act on ([`Error`]).
//! - `dirs`: the OS configuration and data folders on Windows, macOS and Linux.
//! - `getrandom`: session tokens and secrets straight from the OS.
//! - `zip` (8.x, deflate via zlib-rs, WinZip AES): backup archives 7-Zip can open.
//! - `fs4`: free space on a backup destination, on every OS without unsafe code.
//! - `rustix` (Linux, macOS): `posix_fadvise(DONTNEED)` / `F_NOCACHE` before reading a
//!   backup back (Windows reads it back unbuffered through std's `custom_flags`).
//! - `gethostname`: the source machine shown in a backup's manifest.
//! - `sysinfo` (only its `disk` feature): the mounted volumes on Linux, macOS and Windows,
//!   where known backup drives are looked for (see [`backup::drives`]).
//! - `tracing-subscriber` (only `fmt`): diagnostics to standard error, one way for the
//!   window and the CLI (see [`logging`]).
//! - `krilla` (typst's PDF writer, without its raster-image decoders) + `notosans` (Noto
//!   Sans Regular and Bold as bytes, every Latvian letter; SIL OFL 1.1) + `rustybuzz`
//!   (krilla's shaper, to measure text for wrapping): receipts as PDF with the font subset
//!   embedded, so the text is selectable and searchable and no font file is kept here or
//!   looked for on the machine (see [`receipt_pdf`]).

pub mod anchors;
pub mod areas;
pub mod as_of;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod checkpoint;
mod columns;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod desk;
pub mod error;
pub mod export;
pub mod groups;
pub mod import;
pub mod keylog;
pub mod keys;
pub mod logging;
pub mod lost;
pub mod offboard;
pub mod overdue;
pub mod persons;
mod private;
mod random;
pub mod receipt_pdf;
pub mod receipts;
mod search;
pub mod session;
pub mod sets;
pub mod signature;
mod soft_delete;
pub mod stocktake;
pub mod store;
pub mod time;
pub mod upgrade;
pub mod users;
mod validate;
pub mod work;

pub use error::{Error, Result};
pub use store::{Actor, Clock, Role, Store};
