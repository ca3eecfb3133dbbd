//! Checking the audit trail from the window: the chain, the journal, and the backups on
//! the remembered drives plugged in now, on a blocking thread. Every decision (who may,
//! what counts as tampering) is the core's (`anchors`).

use atslegas_core::anchors::{self, AnchoredReport};
use serde::Serialize;
use tauri::AppHandle;

use crate::error::CmdResult;
use crate::work::{blocking, locations};

#[derive(Serialize)]
pub struct TrailCheck {
    #[serde(flatten)]
    report: AnchoredReport,
    /// How many backups were found on the remembered drives plugged in.
    backups_found: usize,
}

/// Verifies the trail as the signed-in admin (listing the drives' backups is refused to
/// anyone else in the core, before anything is read), with the passphrase of encrypted
/// backups when given.
#[tauri::command]
pub async fn audit_verify(app: AppHandle, passphrase: Option<String>) -> CmdResult<TrailCheck> {
    blocking(app, move |state, _| {
        let opened = state.opened()?;
        let (loc, config) = (locations(state, opened), opened.config());
        let pass = passphrase.as_deref().filter(|p| !p.is_empty());
        opened.act(|s, a| {
            let archives = anchors::archives_on_known_drives(a, &config.backup)?;
            let report = anchors::verify(s.conn(), &loc, &archives, pass, s.now())?;
            Ok(TrailCheck {
                report,
                backups_found: archives.len(),
            })
        })
    })
    .await
}
