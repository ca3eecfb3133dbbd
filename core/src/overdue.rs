//! Keys overdue or due today, with the holder's contact details (SPEC §11): the
//! dashboard's list, the desktop reminders, and `overdue --json` for a mail merge.
//! One range in `keys_due` (issued keys by due time), whatever the size of the register.

use chrono::{Local, TimeZone};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::columns::from_columns;
use crate::error::Result;

/// A key out past (or up to the end of) its due day, and who has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueKey {
    pub key_id: i64,
    pub key_number: String,
    pub key_name: Option<String>,
    pub person_id: i64,
    pub person_name: String,
    pub person_code: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub issued_at: Option<i64>,
    pub due_back_at: i64,
    /// True when the due time has passed; false when it is later today.
    pub overdue: bool,
}

/// The end of the desktop's local day containing `now` (Unix seconds).
pub fn end_of_local_day(now: i64) -> i64 {
    let Some(t) = Local.timestamp_opt(now, 0).single() else {
        return now;
    };
    let next = t
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0));
    next.and_then(|d| Local.from_local_datetime(&d).earliest())
        .map_or(now + 86_400, |d| d.timestamp())
}

/// The SQL of [`list`]: `?1` now, `?2` until (the query-plan test reads it). It names
/// no `deleted_at`: an issued key is never deleted (`keys::delete` refuses), and naming it
/// would lead the planner to `keys_status`, every issued key, sorted.
pub const LIST_SQL: &str =
    "SELECT k.id, k.number, k.name, p.id, p.full_name, p.code, p.department, p.phone,
        p.email, k.issued_at, k.due_back_at, k.due_back_at < ?1
   FROM keys k JOIN persons p ON p.id = k.holder_person_id
  WHERE k.status = 'issued' AND k.due_back_at < ?2
  ORDER BY k.due_back_at, k.id";

/// Keys out and due back before `until` (see [`end_of_local_day`]), most overdue first;
/// `overdue` is against `now`.
pub fn list(conn: &Connection, now: i64, until: i64) -> Result<Vec<DueKey>> {
    let mut stmt = conn.prepare_cached(LIST_SQL)?;
    let rows = stmt.query_map(params![now, until], |r| {
        Ok(from_columns!(r => DueKey {
            key_id, key_number, key_name, person_id, person_name, person_code, department,
            phone, email, issued_at, due_back_at, overdue
        }))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
