//! The one error type of the core. Every variant is something a user can act on; the
//! message says what happened, where, and how to fix it. Front ends show `message()`
//! (or translate by `code()`), never a debug dump.

use std::path::PathBuf;

/// Result alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed an operation we did not expect to fail.
    #[error("The database reported an error: {0}. Nothing was changed.")]
    Database(#[from] rusqlite::Error),

    /// A file or folder could not be read or written.
    #[error("Could not {action} {path}: {source}.")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `config.json` is not valid: bad JSON, a wrong type, or a value out of range.
    #[error("The configuration file {path} is not valid at line {line}, column {column}{}: {reason}. Fix the file (it was not changed) and start again.", key.as_deref().map(|k| format!(" (key \"{k}\")")).unwrap_or_default())]
    Config {
        path: PathBuf,
        line: usize,
        column: usize,
        key: Option<String>,
        reason: String,
    },

    /// The database was written by a newer Atslegas than this one. Nothing was changed.
    #[error("The database has schema version {found}, written by a newer Atslegas; this is Atslegas {app_version}, which reads schema versions up to {supported}. Nothing was changed: install the newer Atslegas that wrote it (or a later one).")]
    NewerSchema {
        found: i64,
        supported: i64,
        app_version: String,
    },

    /// The register's database file is so damaged that SQLite cannot open it. Nothing
    /// reads it any more: only restoring a backup over it mends it, and that restore keeps
    /// the damaged file aside as it is.
    #[error("The register {path} is damaged and cannot be opened ({reason}). Restore a backup over it: \"Restore a backup\" on the window's start screen, or `atslegas-cli backup restore BACKUP.zip --force`. The damaged file is kept aside as it is, and nothing else is deleted.")]
    RegisterDamaged { path: PathBuf, reason: String },

    /// No root user yet: first-run setup has not been done.
    #[error("Atslegas is not set up yet: create the root user first (first-run setup, or `atslegas-cli init`).")]
    NotSetUp,

    /// First-run setup was attempted a second time.
    #[error("Atslegas is already set up: the root user exists. Sign in instead.")]
    AlreadySetUp,

    /// A new password is too weak.
    #[error("The password is too weak: {reason}.")]
    WeakPassword { reason: String },

    /// A sign-in failed: no such user, a wrong password, a locked or deactivated account,
    /// or a user without a password. One answer for all of them, so the caller learns
    /// nothing about an account it cannot sign in to; the `login_failed` audit row keeps
    /// the real reason for the admins.
    #[error("The user name or password is wrong, or the account is locked or disabled. Ask an admin if this keeps happening.")]
    InvalidCredentials,

    /// Changing one's own password: the current password given is wrong, or the account is
    /// locked by too many wrong passwords (then even the right one is refused, so the
    /// answer never confirms a guess). Nothing was changed.
    #[error("The current password is wrong, or too many wrong passwords have locked the account for a few minutes. Nothing was changed.")]
    CurrentPasswordWrong,

    /// The session ended because nobody used it for longer than the timeout.
    #[error(
        "The session timed out after {timeout_seconds} seconds without activity. Sign in again."
    )]
    SessionExpired { timeout_seconds: u64 },

    /// The session data is missing, malformed or has been tampered with.
    #[error("The session is not valid ({reason}). Sign in again.")]
    SessionInvalid { reason: String },

    /// The actor's role may not do this.
    #[error("A user with the role \"{role}\" may not {action}. Ask an admin.")]
    NotAllowed { role: String, action: String },

    /// A record named by the user does not exist (or is deleted).
    #[error("No {what} \"{id}\" was found. Check the spelling, or add it first.")]
    NotFound { what: &'static str, id: String },

    /// A field has a bad value. `rule` (with `vars`) names the broken rule so a front
    /// end can say it in the user's language; `reason` is the English text.
    #[error("{field}: {reason}.")]
    Invalid {
        field: String,
        reason: String,
        rule: &'static str,
        vars: serde_json::Value,
    },

    /// A unique value is taken already.
    #[error("{field} \"{value}\" is already used by another {what}. Choose another {field}.")]
    Duplicate {
        what: &'static str,
        field: &'static str,
        value: String,
    },

    /// Issue refused: the key is out.
    #[error("Key {key} is already issued to {holder}. Return it first.")]
    KeyAlreadyIssued { key: String, holder: String },

    /// Return refused: the key is not out.
    #[error("Key {key} is not issued (it is {status}), so it cannot be returned.")]
    KeyNotIssued { key: String, status: String },

    /// Issue refused: the key is lost, retired or deleted.
    #[error("Key {key} cannot be issued: it is {status}.")]
    KeyNotAvailable { key: String, status: String },

    /// Issue refused: the person is deactivated or deleted.
    #[error("{person} is not an active person and cannot receive keys. Restore or activate the person first.")]
    PersonNotActive { person: String },

    /// Issue refused: none of the person's groups allows this key.
    #[error("{person} has no right to key {key}: none of their groups allows it. Add the key to one of their groups, or have an admin issue it with an override reason.")]
    NoRights { person: String, key: String },

    /// A handover refused: the register requires the person's signature for it
    /// (`handover.require_signature`).
    #[error("This register requires the person's signature for every {kind}: have them sign on the pad (or give --signature FILE.svg), then try again. Nothing was {done}.")]
    SignatureRequired {
        kind: &'static str,
        done: &'static str,
    },

    /// A lost report refused: only a key on its hook or out can be lost.
    #[error(
        "Key {key} cannot be reported lost: it is {status}. Only a key on its hook or out can be."
    )]
    KeyNotLosable { key: String, status: String },

    /// A found report refused: the key is not lost.
    #[error("Key {key} is not lost (it is {status}), so it cannot be reported found.")]
    KeyNotLost { key: String, status: String },

    /// Delete refused: the key is out.
    #[error("Key {key} is issued to {holder}; return it before deleting it.")]
    KeyIsOut { key: String, holder: String },

    /// Delete refused: the person holds keys.
    #[error("{person} still holds {count} key(s); take them back (or report them lost) first.")]
    PersonHoldsKeys { person: String, count: i64 },

    /// The backup passphrase does not open the archive (the file itself may be fine).
    #[error("The passphrase is wrong: it does not open this backup. Check it (letters, case, dashes) and try again; the backup file was not changed.")]
    WrongPassphrase,

    /// The backup is encrypted and no passphrase was given.
    #[error("This backup is encrypted: give its passphrase (the recovery passphrase shown when it was made).")]
    PassphraseRequired,

    /// A backup archive is damaged, truncated, or not an Atslegas backup.
    #[error("The backup {file} is damaged or not an Atslegas backup ({entry}: {reason}). Nothing was changed; use another backup.")]
    CorruptArchive {
        file: String,
        entry: String,
        reason: String,
    },

    /// A backup (or an "Export all" file) made by a newer Atslegas: its schema is newer
    /// than this one knows. Nothing was restored or imported.
    #[error("The backup {file} was made by a newer Atslegas ({made_by}, schema version {found}); this is Atslegas {app_version}, which reads schema versions up to {supported}. Nothing was changed: install Atslegas {made_by} or later to restore it.")]
    NewerBackup {
        file: String,
        found: i64,
        supported: i64,
        made_by: String,
        app_version: String,
    },

    /// Not enough room on the destination.
    #[error("Not enough free space on {path}: the backup needs about {needed} bytes, {available} are free. Free some space or choose another drive.")]
    NoSpace {
        path: PathBuf,
        needed: u64,
        available: u64,
    },

    /// The file would be larger than the destination file system allows (FAT32: 4 GiB).
    #[error("The backup would be {size} bytes, larger than the 4 GiB a FAT32 drive can hold in one file. Use a drive formatted as exFAT or NTFS.")]
    TooLargeForFat32 { size: u64 },

    /// A backup or restore step failed; nothing that existed before was harmed.
    #[error("The {step} step failed: {reason}. Earlier backups and the live data are untouched.")]
    BackupFailed { step: String, reason: String },

    /// The user cancelled long work; nothing was changed.
    #[error("Cancelled. Nothing was changed.")]
    Cancelled,

    /// Restore refused: the record is not deleted.
    #[error("{what} \"{id}\" is not deleted, so there is nothing to restore.")]
    NotDeleted { what: &'static str, id: String },
}

impl Error {
    /// Stable machine-readable code: the UI translates messages by it.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Database(_) => "database",
            Error::Io { .. } => "io",
            Error::Config { .. } => "config_invalid",
            Error::NewerSchema { .. } => "newer_schema",
            Error::RegisterDamaged { .. } => "register_damaged",
            Error::NotSetUp => "not_set_up",
            Error::AlreadySetUp => "already_set_up",
            Error::WeakPassword { .. } => "weak_password",
            Error::InvalidCredentials => "invalid_credentials",
            Error::CurrentPasswordWrong => "current_password_wrong",
            Error::SessionExpired { .. } => "session_expired",
            Error::SessionInvalid { .. } => "session_invalid",
            Error::NotAllowed { .. } => "not_allowed",
            Error::NotFound { .. } => "not_found",
            Error::Invalid { .. } => "invalid_input",
            Error::Duplicate { .. } => "duplicate",
            Error::KeyAlreadyIssued { .. } => "key_already_issued",
            Error::KeyNotIssued { .. } => "key_not_issued",
            Error::KeyNotAvailable { .. } => "key_not_available",
            Error::PersonNotActive { .. } => "person_not_active",
            Error::NoRights { .. } => "no_rights",
            Error::SignatureRequired { .. } => "signature_required",
            Error::KeyIsOut { .. } => "key_is_out",
            Error::KeyNotLosable { .. } => "key_not_losable",
            Error::KeyNotLost { .. } => "key_not_lost",
            Error::PersonHoldsKeys { .. } => "person_holds_keys",
            Error::NotDeleted { .. } => "not_deleted",
            Error::WrongPassphrase => "wrong_passphrase",
            Error::PassphraseRequired => "passphrase_required",
            Error::CorruptArchive { .. } => "corrupt_archive",
            Error::NewerBackup { .. } => "newer_backup",
            Error::NoSpace { .. } => "no_space",
            Error::TooLargeForFat32 { .. } => "too_large_for_fat32",
            Error::BackupFailed { .. } => "backup_failed",
            Error::Cancelled => "cancelled",
        }
    }

    /// The user-facing message (English; the UI may translate by `code`).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// Structured details for the UI (field names, values), without secrets.
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Error::NewerSchema {
                found,
                supported,
                app_version,
            } => json!({"found": found, "supported": supported, "app_version": app_version}),
            Error::RegisterDamaged { path, reason } => {
                json!({"path": path.display().to_string(), "reason": reason})
            }
            Error::Config {
                path,
                line,
                column,
                key,
                reason,
            } => {
                json!({"path": path, "line": line, "column": column, "key": key, "reason": reason})
            }
            Error::Invalid {
                field,
                reason,
                rule,
                vars,
            } => json!({ "field": field, "reason": reason, "rule": rule, "vars": vars }),
            Error::PersonNotActive { person } => json!({ "person": person }),
            Error::KeyIsOut { key, holder } => json!({"key": key, "holder": holder}),
            Error::PersonHoldsKeys { person, count } => json!({"person": person, "count": count}),
            Error::NotDeleted { what, id } => json!({"what": what, "id": id}),
            Error::SessionExpired { timeout_seconds } => {
                json!({ "timeout_seconds": timeout_seconds })
            }
            Error::WeakPassword { reason } => json!({ "reason": reason }),
            Error::CorruptArchive {
                file,
                entry,
                reason,
            } => {
                json!({"file": file, "entry": entry, "reason": reason})
            }
            Error::NewerBackup {
                file,
                found,
                supported,
                made_by,
                app_version,
            } => {
                json!({"file": file, "found": found, "supported": supported,
                       "made_by": made_by, "app_version": app_version})
            }
            Error::NoSpace {
                path,
                needed,
                available,
            } => {
                json!({"path": path, "needed": needed, "available": available})
            }
            Error::BackupFailed { step, reason } => json!({"step": step, "reason": reason}),
            Error::Duplicate { field, value, .. } => json!({"field": field, "value": value}),
            Error::KeyAlreadyIssued { key, holder } => json!({"key": key, "holder": holder}),
            Error::KeyNotIssued { key, status }
            | Error::KeyNotAvailable { key, status }
            | Error::KeyNotLosable { key, status }
            | Error::KeyNotLost { key, status } => {
                json!({"key": key, "status": status})
            }
            Error::NoRights { person, key } => json!({"person": person, "key": key}),
            Error::SignatureRequired { kind, .. } => json!({ "kind": kind }),
            Error::NotFound { what, id } => json!({"what": what, "id": id}),
            // The form shows it next to its "current password" field.
            Error::CurrentPasswordWrong => json!({ "field": "current" }),
            Error::NotAllowed { role, action } => json!({"role": role, "action": action}),
            _ => serde_json::Value::Null,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
            rule: "",
            vars: serde_json::Value::Null,
        }
    }

    /// A bad value with a named rule (`rule.<name>` in the UI's catalogues) and the
    /// values its message needs.
    pub fn invalid_rule(
        field: impl Into<String>,
        rule: &'static str,
        vars: serde_json::Value,
        reason: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
            rule,
            vars,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The message of a `RAISE(ABORT, 'atslegas:...')` in a schema trigger, if this is one.
pub(crate) fn trigger_code(err: &rusqlite::Error) -> Option<&str> {
    match err {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.strip_prefix("atslegas:"),
        _ => None,
    }
}

/// `err` as [`Error::Duplicate`] of `what`'s `field` with `value` when it broke a UNIQUE
/// constraint; any other error as it is.
pub(crate) fn duplicate_if_unique(
    err: rusqlite::Error,
    what: &'static str,
    field: &'static str,
    value: &str,
) -> Error {
    if is_unique_violation(&err) {
        Error::Duplicate {
            what,
            field,
            value: value.to_string(),
        }
    } else {
        err.into()
    }
}

/// True when `err` is a UNIQUE constraint violation.
fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _)
        if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}
