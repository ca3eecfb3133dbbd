//! Reading times people type and writing times for files. Storage is Unix seconds UTC
//! (see `schema.sql`); this is the only place that turns text into those seconds.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::error::{Error, Result};

/// Parses a time a person typed: Unix seconds, RFC 3339 (`2026-11-24T17:00:00Z`,
/// `...+02:00`), a local date-time (`2026-11-24T17:00`, `2026-11-24 17:00`, or as the
/// window writes it, `24.11.2026 17:00`), or a local date (`2026-11-24`, `24.11.2026`,
/// meaning the end of that day). `field` names it in errors.
pub fn parse_user_time<Tz: TimeZone>(field: &str, text: &str, tz: &Tz) -> Result<i64> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().map_err(|_| {
            Error::invalid(field, format!("\"{t}\" is too large a number of seconds"))
        });
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        // The window's own form (its date inputs follow the app, not the system locale).
        "%d.%m.%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
    ] {
        if fmt.starts_with("%d") && !four_digit_year(t) {
            continue;
        }
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return local(field, t, tz, naive);
        }
    }
    for fmt in ["%Y-%m-%d", "%d.%m.%Y"] {
        if fmt.starts_with("%d") && !four_digit_year(t) {
            continue;
        }
        if let Ok(date) = NaiveDate::parse_from_str(t, fmt) {
            let end = date.and_hms_opt(23, 59, 59).expect("valid time");
            return local(field, t, tz, end);
        }
    }
    Err(Error::invalid_rule(
        field,
        "time_format",
        serde_json::json!({ "value": t }),
        format!("\"{t}\" is not a time; write it like 24.11.2026 17:00 or 2026-11-24T17:00 (local), 2026-11-24T15:00:00Z, or 24.11.2026"),
    ))
}

/// Whether a day-first date ("24.11.2026 17:00") spells its year in four digits: chrono
/// would read "24.11.26" as the year 26, a due date nobody means.
fn four_digit_year(t: &str) -> bool {
    let date = t.split_whitespace().next().unwrap_or("");
    date.rsplit('.').next().is_some_and(|y| y.len() == 4)
}

fn local<Tz: TimeZone>(field: &str, text: &str, tz: &Tz, naive: NaiveDateTime) -> Result<i64> {
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp())
        .ok_or_else(|| {
            Error::invalid_rule(
                field,
                "time_gap",
                serde_json::json!({ "value": text }),
                format!("{text} does not exist in the local time zone (a clock change skips it)"),
            )
        })
}

/// Parses a time in the desktop's local zone.
pub fn parse_local(field: &str, text: &str) -> Result<i64> {
    parse_user_time(field, text, &Local)
}

/// ISO 8601 in UTC with a `Z`, as in exports and the reference's JSON.
pub fn iso_utc(ts: i64) -> String {
    Utc.timestamp_opt(ts, 0)
        .single()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// A local date-time for people reading a terminal.
pub fn local_display(ts: i64) -> String {
    Local
        .timestamp_opt(ts, 0)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// The desktop's time zone as people know it ("Europe/Riga"): `TZ` when it names a zone
/// (it is what the clock follows), else the system's (`iana-time-zone`, which chrono
/// itself uses), else the offset now ("UTC+02:00").
pub fn local_zone_name() -> String {
    std::env::var("TZ")
        .ok()
        .map(|t| t.trim_start_matches(':').to_string())
        .filter(|t| !t.is_empty() && !t.starts_with('/'))
        .or_else(|| iana_time_zone::get_timezone().ok())
        .unwrap_or_else(|| format!("UTC{}", Local::now().format("%:z")))
}

/// `ts` moved by the desktop's UTC offset at that instant (summer time included): the
/// number a spreadsheet shows as the local wall-clock time.
pub fn local_wall_clock(ts: i64) -> i64 {
    use chrono::Offset;
    Local
        .timestamp_opt(ts, 0)
        .single()
        .map_or(ts, |t| ts + i64::from(t.offset().fix().local_minus_utc()))
}

/// `ts` as a ZIP entry's modification time: the desktop's local time, as file managers
/// and `unzip -l` show it (ZIP stores no zone; without this an entry reads 1980-01-01).
/// A time outside ZIP's years (1980-2107) keeps ZIP's default.
pub fn zip_time(ts: i64) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    Local
        .timestamp_opt(ts, 0)
        .single()
        .and_then(|t| {
            let year = u16::try_from(t.year()).ok()?;
            zip::DateTime::from_date_and_time(
                year,
                t.month() as u8,
                t.day() as u8,
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
            )
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn the_accepted_forms_all_parse() {
        let riga = FixedOffset::east_opt(2 * 3600).unwrap();
        assert_eq!(
            parse_user_time("t", "1700000000", &riga).unwrap(),
            1_700_000_000
        );
        assert_eq!(
            parse_user_time("t", "2026-01-01T00:00:00Z", &riga).unwrap(),
            1_767_225_600
        );
        assert_eq!(
            parse_user_time("t", "2026-01-01T02:00", &riga).unwrap(),
            1_767_225_600
        );
        assert_eq!(
            parse_user_time("t", "2026-01-01 02:00", &riga).unwrap(),
            1_767_225_600
        );
        assert_eq!(
            parse_user_time("t", "2025-12-31", &riga).unwrap(),
            1_767_225_600 - 7200 - 1
        );
    }

    #[test]
    fn the_windows_day_month_year_form_parses_as_local_time() {
        let riga = FixedOffset::east_opt(2 * 3600).unwrap();
        // "01.01.2026 02:00" in Riga is 2026-01-01T00:00:00Z: day first, never month first.
        assert_eq!(
            parse_user_time("t", "01.01.2026 02:00", &riga).unwrap(),
            1_767_225_600
        );
        assert_eq!(
            parse_user_time("t", " 1.1.2026 2:00 ", &riga).unwrap(),
            1_767_225_600
        );
        assert_eq!(
            parse_user_time("t", "01.01.2026 02:00:30", &riga).unwrap(),
            1_767_225_630
        );
        // 03.02 is the 3rd of February (a US reading would be the 2nd of March).
        assert_eq!(
            parse_user_time("t", "03.02.2026 12:00", &Utc).unwrap(),
            parse_user_time("t", "2026-02-03T12:00", &Utc).unwrap()
        );
        // A date alone is the end of that day, as with 2025-12-31.
        assert_eq!(
            parse_user_time("t", "31.12.2025", &riga).unwrap(),
            1_767_225_600 - 7200 - 1
        );
        for bad in [
            "31.02.2026",
            "24.11.2026 25:00",
            "13.13.2026",
            "24.11.26 17:00",
        ] {
            let e = parse_user_time("due", bad, &riga).unwrap_err();
            assert!(
                e.message().contains("24.11.2026 17:00"),
                "{bad}: {}",
                e.message()
            );
        }
    }

    #[test]
    fn nonsense_names_the_field_and_the_forms() {
        let e = parse_user_time("due", "tomorrow", &Utc).unwrap_err();
        assert!(e.message().starts_with("due:"));
        assert!(e.message().contains("2026-11-24T17:00"));
        assert_eq!(iso_utc(1_767_225_600), "2026-01-01T00:00:00Z");
    }
}
