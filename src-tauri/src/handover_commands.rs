//! The Desk's handover and its receipt: what a scan would do (checked, nothing written),
//! the handover itself with the signature drawn on the pad, and the receipt read,
//! counted as printed, and saved as PDF. Glue only: every rule is the core's (`desk`,
//! `receipts`, `receipt_pdf`), every role check too.
//!
//! Printing: the page lays the receipt out for paper (`ui/receipt.js`) and asks
//! `print_page`, which opens the system print dialog through the webview (WebKitGTK's
//! print operation on Linux; `window.print()` in the page shows nothing there). A debug
//! build started with `ATSLEGAS_E2E_NO_PRINT=1` skips the dialog, because WebDriver
//! cannot click it (the end-to-end tests look at the page as it would print instead).

use atslegas_core::desk::{self, Outcome, Plan};
use atslegas_core::keylog::IssueRequest;
use atslegas_core::receipt_pdf::{self, Lang, Layout};
use atslegas_core::receipts::{self, Receipt};
use atslegas_core::time;
use serde::Deserialize;
use tauri::{AppHandle, Manager, State, WebviewWindow};

use crate::data_commands::save_dialog;
use crate::error::CmdResult;
use crate::state::AppState;

/// A scan at the Desk as the page sends it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandoverArgs {
    /// A key number, or a set's tag or name.
    text: String,
    person_id: Option<i64>,
    /// As typed: "2026-11-24T17:00" (local) or empty.
    due: Option<String>,
    comment: Option<String>,
    override_reason: Option<String>,
    /// The pad's drawing (an SVG of paths), or none.
    signature: Option<String>,
    /// Keys of a returned set that did not come back (the pad's checklist, unticked).
    #[serde(default)]
    missing: Vec<String>,
}

impl HandoverArgs {
    fn request(self) -> atslegas_core::Result<(String, Option<i64>, IssueRequest, Vec<String>)> {
        let due_back_at = match self.due.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(time::parse_local("due_back_at", d)?),
            None => None,
        };
        let req = IssueRequest {
            due_back_at,
            comment: self.comment,
            override_reason: self.override_reason,
            signature: self.signature.filter(|s| !s.trim().is_empty()),
        };
        Ok((self.text, self.person_id, req, self.missing))
    }
}

/// What handing over the scanned key or set would do (issue, return, or a double read
/// to ignore), checked without writing: the pad opens only when it can go, and checks
/// its checklist (the keys of a set that did not come back) the same way before closing.
#[tauri::command]
pub fn desk_plan(state: State<'_, AppState>, args: HandoverArgs) -> CmdResult<Plan> {
    state.opened()?.act(|s, a| {
        let (text, person, req, missing) = args.request()?;
        desk::plan(s, a, &text, person, &req, &missing)
    })
}

/// The handover, with one receipt (`handover.receipt`).
#[tauri::command]
pub fn desk_hand_over(state: State<'_, AppState>, args: HandoverArgs) -> CmdResult<Outcome> {
    state.opened()?.act(|s, a| {
        let (text, person, req, missing) = args.request()?;
        desk::hand_over(s, a, &text, person, &req, &missing)
    })
}

#[tauri::command]
pub fn receipt_get(state: State<'_, AppState>, number: i64) -> CmdResult<Receipt> {
    state.opened()?.act(|s, _| receipts::get(s.conn(), number))
}

/// Counts a print (audited) and returns the receipt as it was before: its `printed`
/// count above zero makes the page print "copy".
#[tauri::command]
pub fn receipt_printed(state: State<'_, AppState>, number: i64, how: String) -> CmdResult<Receipt> {
    state
        .opened()?
        .act(|s, a| receipts::mark_printed(s, a, number, &how))
}

/// Saves a receipt as PDF where the save dialog says (None when it was closed); the save
/// counts as a print, so a later one says "copy".
#[tauri::command]
pub async fn receipt_save_pdf(
    app: AppHandle,
    number: i64,
    layout: Layout,
    lang: Lang,
) -> CmdResult<Option<String>> {
    let word = match lang {
        Lang::Lv => "kvits",
        Lang::En => "receipt",
    };
    // Both layouts can be saved side by side: the roll's file says so.
    let roll = match layout {
        Layout::A4TwoCopies => "",
        Layout::Thermal80 => "-80mm",
    };
    let Some(out) = save_dialog(&format!("{word}-{number}{roll}.pdf")).await else {
        return Ok(None);
    };
    let state = app.state::<AppState>();
    state
        .opened()?
        .act(|s, a| receipt_pdf::save(s, a, number, &out, lang, layout))?;
    Ok(Some(out.display().to_string()))
}

/// Opens the system print dialog for the page as it prints (the receipt laid out by the
/// page). Returns false when the end-to-end stand-in skipped the dialog.
#[tauri::command]
pub fn print_page(window: WebviewWindow) -> CmdResult<bool> {
    let skip = cfg!(debug_assertions)
        && std::env::var_os("ATSLEGAS_E2E_NO_PRINT").is_some_and(|v| !v.is_empty());
    if skip {
        return Ok(false);
    }
    window.print().map_err(|e| {
        atslegas_core::Error::invalid_rule(
            "print",
            "print_failed",
            serde_json::json!({ "reason": e.to_string() }),
            format!("the print dialog could not be opened ({e})"),
        )
    })?;
    Ok(true)
}
