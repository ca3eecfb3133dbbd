//! The admin dashboard's data, read at once: what the window paints first after sign-in
//! (the counts, the 37-day calendar, the keys out now, the keys due, the backup
//! reminder). One call, so the window asks once and the benchmark times exactly what
//! the user waits for.

use chrono::NaiveDate;
use serde::Serialize;

use crate::backup::history::{self, Reminder};
use crate::error::Result;
use crate::keylog::{self, CalendarDay, LogEntry, Summary};
use crate::keys::{self, Key, KeyQuery};
use crate::overdue::{self, DueKey};
use crate::store::{Actor, Store};

/// How many keys out now the dashboard lists (the soonest due first).
pub const KEYS_OUT_SHOWN: u32 = 50;
/// Movements on one page of the day panel; the dashboard sends today's first page with
/// one row more, which says whether there is a next page.
pub const DAY_PAGE: u32 = 25;

#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub summary: Summary,
    pub calendar: Vec<CalendarDay>,
    /// Keys out now, the soonest due first (overdue ones on top).
    pub keys_out: Vec<Key>,
    pub last_verified_backup: Option<i64>,
    pub remind_after_days: u32,
    /// The backup reminder for this user: never / overdue / recent, and whether they can
    /// make a backup (else they are told to ask an admin).
    pub backup: Reminder,
    /// Keys overdue or due today, with the holders' phone and e-mail.
    pub due: Vec<DueKey>,
    /// Today's first movements, oldest first: up to [`DAY_PAGE`] + 1 rows, so the day
    /// panel paints with the rest of the dashboard.
    pub today: Vec<LogEntry>,
    /// [`DAY_PAGE`]: the window pages every day's movements by it.
    pub day_page: u32,
    pub now: i64,
}

/// The dashboard as `actor` sees it on `today` (the desktop's local date). Every role
/// may read it; the reminder says whether this user can make the backup.
pub fn load(
    store: &Store,
    actor: &Actor,
    today: NaiveDate,
    remind_after_days: u32,
) -> Result<Dashboard> {
    let conn = store.conn();
    let now = store.now();
    let out_now = KeyQuery {
        status: Some("issued".into()),
        limit: Some(KEYS_OUT_SHOWN),
        ..Default::default()
    };
    let calendar = keylog::calendar(conn, today, &chrono::Local)?;
    let day = &calendar[keylog::DAYS_BEFORE as usize];
    let today = keylog::list_range(conn, day.start, day.end, DAY_PAGE + 1, 0)?;
    Ok(Dashboard {
        summary: keylog::summary(conn, now)?,
        calendar,
        keys_out: keys::list_sorted(conn, &out_now, "due")?,
        last_verified_backup: history::last_verified(conn)?,
        remind_after_days,
        backup: history::reminder(conn, actor, now, remind_after_days)?,
        due: overdue::list(conn, now, overdue::end_of_local_day(now))?,
        today,
        day_page: DAY_PAGE,
        now,
    })
}
