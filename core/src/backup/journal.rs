//! The operations journal: one JSON line per backup, restore, verify and export, appended
//! and flushed beside the database. It survives a restore (which replaces the history in
//! the database) and carries the audit trail's tip, an anchor outside the database.

use serde_json::json;

use crate::audit;
use crate::work::Locations;

/// Appends one line to the operations journal and flushes it.
///
/// A line carries the audit trail's tip as `audit_tip` when its writer knows it (see
/// [`journal_anchored`]); a restore's line names the restored trail's tip in its detail,
/// which is lifted up here, so every anchor sits in the same place.
pub(crate) fn journal(loc: &Locations, at: i64, actor: &str, op: &str, detail: serde_json::Value) {
    let tip = detail
        .get("audit_tip")
        .and_then(|t| serde_json::from_value::<audit::Tip>(t.clone()).ok());
    journal_anchored(loc, at, actor, op, tip.as_ref(), detail);
}

/// [`journal`] with the audit trail's tip at the time (its newest row's id and hash): an
/// anchor of the trail outside the database, checked by `audit verify` (`crate::anchors`).
pub(crate) fn journal_anchored(
    loc: &Locations,
    at: i64,
    actor: &str,
    op: &str,
    tip: Option<&audit::Tip>,
    detail: serde_json::Value,
) {
    use std::io::Write;
    let mut line = json!({"at": at, "at_iso": crate::time::iso_utc(at), "actor": actor, "operation": op, "detail": detail});
    if let Some(tip) = tip {
        line["audit_tip"] = json!(tip);
    }
    let path = loc.journal();
    crate::private::tighten(&path);
    let res =
        crate::private::new_file_options(std::fs::OpenOptions::new().create(true).append(true))
            .open(&path)
            .and_then(|mut f| {
                writeln!(f, "{line}")?;
                f.sync_all()
            });
    if let Err(e) = res {
        tracing::error!(path = %path.display(), error = %e, "could not write the operations journal");
    }
}

/// The journal's lines (for re-adding history after a restore and for the UI).
pub fn read_journal(loc: &Locations) -> Vec<serde_json::Value> {
    std::fs::read_to_string(loc.journal())
        .map(|t| {
            t.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}
