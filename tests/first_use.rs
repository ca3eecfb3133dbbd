//! What a new user tripped over (issue 13), where the core and the CLI decide it: the
//! times inside backup and export archives, and the key-log spreadsheet's times in the
//! desktop's zone with the zone named.
//!
//! The CLI runs with `TZ=JST-9` (a POSIX zone string: nine hours east of UTC, no summer
//! time, no zone file needed), so local and UTC times differ whatever the machine's zone.

use std::path::Path;
use std::process::Command;

use atslegas_tests::{assert_success, stderr, Cli};
use chrono::{Datelike, TimeZone, Timelike};

const ZONE: (&str, &str) = ("TZ", "JST-9");
const OFFSET: i64 = 9 * 3600;

fn site() -> Cli {
    let cli = Cli::initialised();
    for args in [
        &["person", "add", "--name", "Jānis Bērziņš", "--code", "E-1"][..],
        &["key", "add", "101"],
        &["group", "add", "Staff"],
        &["group", "allow", "Staff", "101"],
        &["group", "member", "Staff", "E-1"],
        &["issue", "101", "--to", "E-1"],
    ] {
        cli.run_ok(args);
    }
    cli
}

/// A ZIP entry's time: (year, month, day, hour, minute, second).
type EntryTime = (u16, u8, u8, u8, u8, u8);

/// Every entry's time in the ZIP at `path`, by the entry's name.
fn entry_times(path: &Path) -> Vec<(String, EntryTime)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let f = zip.by_index_raw(i).unwrap();
            let t = f.last_modified().expect("the entry has a time");
            (
                f.name().to_string(),
                (
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                ),
            )
        })
        .collect()
}

/// `at` (Unix seconds) as the desktop nine hours east of UTC reads it; ZIP keeps even
/// seconds only.
fn local_parts(at: i64) -> (u16, u8, u8, u8, u8, u8) {
    let t = chrono::Utc.timestamp_opt(at + OFFSET, 0).unwrap();
    (
        t.year() as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        (t.second() as u8) & !1,
    )
}

#[test]
fn backup_entries_carry_the_time_of_the_backup_not_1980() {
    let cli = site();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().to_str().unwrap();
    let out = cli.run_env(&["--json", "backup", "create", "--to", dest], &[ZONE], None);
    assert_success(&out, "backup create");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = dir
        .path()
        .join(report["file"].as_str().expect("the report names the file"));
    let at = report["manifest"]["created_at"]
        .as_i64()
        .or_else(|| report["created_at"].as_i64())
        .expect("the report has the backup's time");
    let times = entry_times(&file);
    assert!(!times.is_empty());
    for (name, t) in times {
        assert_ne!(t.0, 1980, "{name} is dated 1980");
        assert_eq!(t, local_parts(at), "{name}");
    }
}

#[test]
fn export_all_entries_carry_the_time_of_the_export() {
    let cli = site();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.zip");
    let before = chrono::Utc::now().timestamp();
    let out = cli.run_env(
        &["export", "all", "--out", file.to_str().unwrap()],
        &[ZONE],
        None,
    );
    assert_success(&out, "export all");
    let after = chrono::Utc::now().timestamp();
    for (name, t) in entry_times(&file) {
        assert_ne!(t.0, 1980, "{name} is dated 1980");
        assert!(
            (before..=after + 1).any(|at| local_parts(at) == t),
            "{name}: {t:?} is not the export's local time"
        );
    }
}

#[test]
fn the_key_log_spreadsheet_shows_local_times_and_names_the_zone_while_csv_keeps_utc() {
    let cli = site();
    let dir = tempfile::tempdir().unwrap();
    let (csv, xlsx) = (dir.path().join("log.csv"), dir.path().join("log.xlsx"));
    for f in [&csv, &xlsx] {
        let args = [
            "export",
            "keylog",
            "--start",
            "0",
            "--end",
            "99999999999",
            "--out",
            f.to_str().unwrap(),
        ];
        assert_success(&cli.run_env(&args, &[ZONE], None), "export keylog");
    }
    let at: i64 = atslegas_tests::value(&cli.db(), "SELECT at FROM key_log");
    let script = r#"
import csv, json, sys
import openpyxl
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
ws = openpyxl.load_workbook(sys.argv[2], read_only=True).worksheets[0]
x = [list(r) for r in ws.iter_rows(values_only=True)]
print(json.dumps({"csv_header": rows[0], "csv_at": rows[1][3], "header": x[0], "at": x[1][3].strftime('%Y-%m-%d %H:%M:%S')}, ensure_ascii=False))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&csv)
        .arg(&xlsx)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 with openpyxl failed (bash scripts/test.sh installs it): {}",
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = chrono::Utc.timestamp_opt(at + OFFSET, 0).unwrap();
    assert_eq!(
        v["at"],
        local.format("%Y-%m-%d %H:%M:%S").to_string(),
        "the local wall-clock time"
    );
    assert_eq!(v["header"][3], "at (JST-9)");
    assert_eq!(v["header"][8], "dueBackAt (JST-9)");
    // CSV keeps ISO 8601 in UTC, with its Z, and the reference's header.
    assert_eq!(v["csv_at"], atslegas_core::time::iso_utc(at));
    assert_eq!(v["csv_header"][3], "at");
}

/// The dashboard's backup reminder (`backup::history::reminder`): a register never backed
/// up says so (not "older than 7 days"), and only an admin, who alone can make a backup,
/// is offered to make one; a viewer and an operator are told to ask an admin.
#[test]
fn the_backup_reminder_says_never_and_fits_the_users_role() {
    use atslegas_core::backup::history::{reminder, BackupAge};
    use atslegas_tests::{admin, operator, viewer};

    let cli = Cli::initialised();
    let now = chrono::Utc::now().timestamp();
    let fresh = reminder(&cli.db(), &admin(), now, 7).unwrap();
    assert_eq!(
        (fresh.age, fresh.last_verified, fresh.can_back_up),
        (BackupAge::Never, None, true)
    );
    for a in [viewer(), operator()] {
        let r = reminder(&cli.db(), &a, now, 7).unwrap();
        assert_eq!((r.age, r.can_back_up), (BackupAge::Never, false), "{a:?}");
    }

    let dest = tempfile::tempdir().unwrap();
    cli.run_ok(&[
        "backup",
        "create",
        "--to",
        &dest.path().display().to_string(),
    ]);
    let now = chrono::Utc::now().timestamp();
    let recent = reminder(&cli.db(), &viewer(), now, 7).unwrap();
    let at = recent.last_verified.expect("the backup is verified");
    assert_eq!((recent.age, recent.can_back_up), (BackupAge::Recent, false));
    // Exactly seven days later it is still recent; a second later it is overdue.
    let week = 7 * 86_400;
    assert_eq!(
        reminder(&cli.db(), &admin(), at + week, 7).unwrap().age,
        BackupAge::Recent
    );
    let late = reminder(&cli.db(), &admin(), at + week + 1, 7).unwrap();
    assert_eq!((late.age, late.remind_after_days), (BackupAge::Overdue, 7));
}
