//! Upgrades keep every record: the data folders that the released schema versions left
//! behind (tests/fixtures/schema-N, made by those versions and never regenerated) open in
//! this build with every row kept, a pinned safety backup of the old database first,
//! an audit chain that verifies, the search that finds "Bērziņš" by "berzins", and
//! backups (theirs, and the safety backup) that verify and restore.
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::path::{Path, PathBuf};

use atslegas_core::db::SCHEMA_VERSION;
use atslegas_tests::{
    assert_success, column, open_raw, parse_json, stderr, value, Cli, PASSPHRASE_ENV,
};
use backup_common::*;
use rusqlite::Connection;
use serde_json::Value;

/// Every released schema version: each later schema change adds its fixture here.
const RELEASED: [i64; 5] = [1, 2, 3, 4, 5];

#[test]
fn a_fixture_exists_for_every_schema_version_this_build_knows() {
    assert_eq!(*RELEASED.last().unwrap(), SCHEMA_VERSION);
    for n in 1..=SCHEMA_VERSION {
        assert!(
            fixture(n).join("data").join("database.db").is_file(),
            "schema {n} has no fixture: add tests/fixtures/schema-{n} (tests/fixtures/README.md)"
        );
    }
}

fn fixture(n: i64) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("schema-{n}"))
}

fn expected(n: i64) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(n).join("expected.json")).unwrap())
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The fixture's data folder, copied into a new CLI data folder (opening writes to it).
fn cli_on_fixture(n: i64) -> Cli {
    let cli = Cli::new();
    copy_dir(&fixture(n).join("data"), cli.data_dir());
    cli
}

/// The fixture's database as it is, in a copy of its own (read with plain rusqlite).
fn pristine(n: i64) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("database.db");
    std::fs::copy(fixture(n).join("data").join("database.db"), &db).unwrap();
    (dir, open_raw(&db))
}

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    column(
        conn,
        &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
    )
}

/// The rows of `table` in the columns given (a migration may add columns), ordered by
/// each of them in turn, so by id where the id comes first.
fn rows(conn: &Connection, table: &str, cols: &[String]) -> Rows {
    let list: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
    let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {} FROM \"{table}\" ORDER BY {}",
            list.join(", "),
            order.join(", ")
        ))
        .unwrap();
    let rows = stmt
        .query_map([], |r| (0..cols.len()).map(|i| r.get(i)).collect())
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

/// Every row of every table of `old` is in `new`, unchanged; only the audit trail and the
/// backup history have rows added after them (the upgrade's own records).
fn assert_every_row_kept(old: &Connection, new: &Connection, what: &str) {
    for table in tables(old) {
        let cols = columns(old, &table);
        let before = rows(old, &table, &cols);
        let after = rows(new, &table, &cols);
        if table == "audit_log" || table == "backups" {
            assert!(after.len() >= before.len(), "{what}: {table} lost rows");
            assert_eq!(
                &after[..before.len()],
                &before[..],
                "{what}: {table} changed"
            );
        } else {
            assert_eq!(after, before, "{what}: {table} changed");
        }
    }
}

fn search_names(cli: &Cli, text: &str) -> Vec<String> {
    let v = cli.json(&["person", "list", "--search", text]);
    let list = v.as_array().or_else(|| v["items"].as_array()).cloned();
    list.unwrap_or_else(|| panic!("person list --json: {v}"))
        .iter()
        .map(|p| p["full_name"].as_str().unwrap().to_string())
        .collect()
}

fn safety_archives(cli: &Cli) -> Vec<PathBuf> {
    let dir = cli.data_dir().join("safety-backups");
    if dir.is_dir() {
        final_archives(&dir)
    } else {
        Vec::new()
    }
}

#[test]
fn every_released_data_folder_opens_upgraded_with_every_row_kept_and_a_safety_backup_first() {
    for n in RELEASED {
        let what = format!("schema-{n}");
        let exp = expected(n);
        assert_eq!(exp["schema_version"], n, "{what}: expected.json");
        let (_keep, old) = pristine(n);
        let cli = cli_on_fixture(n);

        let status = cli.json(&["status"]);
        assert_eq!(status["schema_version"], SCHEMA_VERSION, "{what}: {status}");
        assert_eq!(status["set_up"], true, "{what}: {status}");

        let new = open_raw(&cli.db_path());
        assert_every_row_kept(&old, &new, &what);
        for (table, count) in exp["counts"].as_object().unwrap() {
            let now: i64 = new
                .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })
                .unwrap();
            let then = count.as_i64().unwrap();
            if table == "audit_log" || table == "backups" {
                assert!(now >= then, "{what}: {table} {now} < {then}");
            } else if !table.contains("_fts") {
                assert_eq!(now, then, "{what}: rows of {table}");
            }
        }

        // An older database is kept as it was, in a pinned safety backup beside it,
        // recorded in the audit trail; the current schema needs none.
        let safety = safety_archives(&cli);
        let upgrades: Vec<(String, String)> = atslegas_tests::rows(
            &new,
            "SELECT before, after FROM audit_log WHERE operation = 'upgrade'",
        );
        if n < SCHEMA_VERSION {
            assert_eq!(safety.len(), 1, "{what}: {safety:?}");
            assert_eq!(manifest(&safety[0])["schema_version"], n, "{what}");
            assert_eq!(upgrades.len(), 1, "{what}: {upgrades:?}");
            let name = safety[0]
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(upgrades[0].1.contains(&name), "{what}: {upgrades:?}");
            let pinned: i64 = new
                .query_row(
                    "SELECT pinned FROM backups WHERE file_name = ?1",
                    [&name],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(pinned, 1, "{what}: the safety backup is pinned");
            assert_verifies(&cli, &safety[0]);
        } else {
            assert!(safety.is_empty(), "{what}: {safety:?}");
            assert!(upgrades.is_empty(), "{what}: {upgrades:?}");
        }

        let verify = cli.run(&["audit", "verify"]);
        assert_success(&verify, &format!("{what}: audit verify"));

        assert_eq!(
            search_names(&cli, "berzins"),
            vec!["Jānis Bērziņš"],
            "{what}"
        );
        assert_eq!(search_names(&cli, "kenins"), vec!["Ģirts Ķēniņš"], "{what}");
    }
}

#[test]
fn the_backups_of_every_released_version_verify_and_restore_in_this_build() {
    for n in RELEASED {
        let what = format!("schema-{n}");
        let exp = expected(n);
        let (_keep, old) = pristine(n);
        let cli = cli_on_fixture(n);
        let passphrase = exp["backup_passphrase"].as_str().unwrap_or("");
        let env = [(PASSPHRASE_ENV, passphrase)];

        // Their own backups (schema 2 on; schema 1 had no backups), else the safety backup
        // this build made of the old database when it opened it (its schema is still 1).
        // Each with whether it is the encrypted one (from format 2 on, its manifest is
        // encrypted too, so only expected.json says which it is before it is opened).
        let mut archives: Vec<(PathBuf, bool)> = ["unencrypted", "encrypted"]
            .iter()
            .filter_map(|k| {
                exp["backups"][k]
                    .as_str()
                    .map(|rel| (rel, *k == "encrypted"))
            })
            .map(|(rel, encrypted)| {
                let dest = tempfile::tempdir().unwrap().keep();
                let from = fixture(n).join(rel);
                let to = dest.join(from.file_name().unwrap());
                std::fs::copy(&from, &to).unwrap();
                std::fs::copy(sidecar(&from), sidecar(&to)).unwrap();
                (to, encrypted)
            })
            .collect();
        if archives.is_empty() {
            cli.run_ok(&["status"]);
            archives = safety_archives(&cli)
                .into_iter()
                .map(|a| (a, false))
                .collect();
        }
        assert!(!archives.is_empty(), "{what}: nothing to restore");

        for (archive, encrypted) in &archives {
            let name = archive.display();
            let key = encrypted.then_some(passphrase);
            let m: Value =
                serde_json::from_slice(&read_entry(archive, MANIFEST_ENTRY, key)).unwrap();
            assert_eq!(m["schema_version"], n, "{what}: {name}");
            assert_eq!(m["encrypted"] == true, *encrypted, "{what}: {name}");
            // The passphrase goes with the encrypted backup only: a plain backup opened
            // with one is refused (issue 11, finding 2).
            let env: &[(&str, &str)] = if *encrypted { &env } else { &[] };
            let out = cli.run_env(&["backup", "verify", s(archive)], env, None);
            assert_success(&out, &format!("{what}: backup verify {name}"));

            // Something done after the backup, which the restore takes away.
            cli.run_ok(&["key", "add", "AFTER-1"]);
            let out = cli.run_env(
                &["backup", "restore", s(archive), "--force", "--json"],
                env,
                None,
            );
            assert_success(&out, &format!("{what}: backup restore {name}"));
            let report = parse_json(&out);
            assert!(report.is_object(), "{what}: {report}");
            // An older schema is said as a code the window translates, with its values.
            let older = report["warning_codes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["code"] == "older_schema");
            if n < atslegas_core::db::SCHEMA_VERSION {
                let older = older.unwrap_or_else(|| panic!("{what}: no warning: {report}"));
                assert_eq!(older["vars"]["from"], n, "{what}");
                assert_eq!(older["vars"]["to"], atslegas_core::db::SCHEMA_VERSION);
            } else {
                assert!(older.is_none(), "{what}: {report}");
            }

            let now = open_raw(&cli.db_path());
            let version: i64 = now
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(version, SCHEMA_VERSION, "{what}: restored {name}");
            let after: i64 = value(&now, "SELECT count(*) FROM keys WHERE number = 'AFTER-1'");
            assert_eq!(after, 0, "{what}: {name} restored the state before AFTER-1");
            // The persons, keys and movements are the fixture's.
            for table in ["persons", "keys", "key_log", "groups", "users"] {
                let cols = columns(&old, table);
                let want = rows(&old, table, &cols);
                let got = rows(&now, table, &cols);
                if table == "users" {
                    // Sign-ins after the backup may have moved last_login_at; the
                    // accounts themselves are the same.
                    assert_eq!(got.len(), want.len(), "{what}: users in {name}");
                } else {
                    assert_eq!(got, want, "{what}: {table} from {name}");
                }
            }
            assert_integrity_ok(&now, &what);
            drop(now);
            cli.run_ok(&["audit", "verify"]);
            assert_eq!(
                search_names(&cli, "berzins"),
                vec!["Jānis Bērziņš"],
                "{what}"
            );
        }
    }
}

/// Damages `table` of the database at `path` where SQLite reads it only when it reads the
/// table's rows: its root page's cell pointers. The file still opens; the rows cannot be
/// read. Returns the damaged file's bytes.
fn damage_rows_of(path: &Path, table: &str) -> Vec<u8> {
    let conn = open_raw(path);
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let page_size: i64 = value(&conn, "PRAGMA page_size");
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    let mut db = std::fs::read(path).unwrap();
    let at = usize::try_from((root - 1) * page_size).unwrap();
    let cells = usize::from(u16::from_be_bytes([db[at + 3], db[at + 4]]));
    let header = if matches!(db[at], 0x02 | 0x05) { 12 } else { 8 };
    assert!(cells > 0, "{table} has rows on its root page");
    for b in &mut db[at + header..at + header + 2 * cells] {
        *b = 0xff;
    }
    std::fs::write(path, &db).unwrap();
    db
}

#[test]
fn an_older_register_that_is_damaged_says_so_and_is_restored_over_from_its_backup() {
    // The safety backup before the upgrade fails its checks; the register is not
    // upgraded. It used to say "the check step failed … run Settings > Database health",
    // in a window that cannot start: it is the register that is damaged, and the start
    // screen and `backup restore` mend that.
    let n = SCHEMA_VERSION - 1;
    let cli = cli_on_fixture(n);
    let damaged = damage_rows_of(&cli.db_path(), "persons");

    let out = cli.run(&["status"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("is damaged") && err.contains("backup restore"),
        "says what is wrong and how to mend it: {err}"
    );
    assert_eq!(
        std::fs::read(cli.db_path()).unwrap(),
        damaged,
        "left as it was"
    );
    let db: i64 = value(&open_raw(&cli.db_path()), "PRAGMA user_version");
    assert_eq!(db, n, "not upgraded");
    assert!(
        safety_archives(&cli).is_empty(),
        "no failed safety backup left"
    );

    // Its own backup restores over it; the damaged file is kept aside byte for byte.
    let exp = expected(n);
    let from = fixture(n).join(exp["backups"]["unencrypted"].as_str().unwrap());
    let dest = tempfile::tempdir().unwrap();
    let archive = dest.path().join(from.file_name().unwrap());
    std::fs::copy(&from, &archive).unwrap();
    std::fs::copy(sidecar(&from), sidecar(&archive)).unwrap();
    cli.run_ok(&["backup", "restore", s(&archive), "--force"]);
    let kept: Vec<PathBuf> = std::fs::read_dir(cli.data_dir().join("safety-backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), damaged, "kept as it was");
    let conn = open_raw(&cli.db_path());
    let ok: String = value(&conn, "PRAGMA integrity_check");
    assert_eq!(ok, "ok");
    let now: i64 = value(&conn, "PRAGMA user_version");
    assert_eq!(now, SCHEMA_VERSION);
    cli.run_ok(&["status"]);
    cli.run_ok(&["audit", "verify"]);
}
