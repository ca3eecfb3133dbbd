//! The error every command returns: the core's error turned into `{ code, message,
//! details }`. The UI translates by `code` and falls back to `message`; nothing here is
//! ever a debug dump.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
    pub details: serde_json::Value,
}

impl From<atslegas_core::Error> for CommandError {
    fn from(e: atslegas_core::Error) -> Self {
        if matches!(
            e,
            atslegas_core::Error::Database(_) | atslegas_core::Error::Io { .. }
        ) {
            tracing::error!(error = %e, "command failed");
        }
        CommandError {
            code: e.code(),
            message: e.message(),
            details: e.details(),
        }
    }
}

impl CommandError {
    pub fn not_signed_in() -> Self {
        CommandError {
            code: "not_signed_in",
            message: "You are not signed in. Sign in first.".into(),
            details: serde_json::Value::Null,
        }
    }
}

pub type CmdResult<T> = Result<T, CommandError>;
