//! Backup and restore through the real `atslegas-cli` on real data folders (SPEC §5, §9):
//! a backup taken while another connection writes, backup → restore reproducing every
//! table, restore bringing old data back with its safety backup and history, damaged and
//! hostile archives refused without changing anything, the `.sha256` file and 7-Zip as
//! the user's way out, and full or read-only destinations (tmpfs mounts, root only).
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use atslegas_core::keylog::{self, IssueRequest, PersonRef};
use atslegas_core::keys::{self, KeyInput};
use atslegas_core::persons::{self, PersonInput};
use atslegas_core::store::Security;
use atslegas_core::Store;
use atslegas_tests::{
    admin, assert_fails, assert_success, audit_operations, column, last_audit, open_raw, stderr,
    stdout, value, Cli, PASSPHRASE_ENV, ROOT_PASSWORD,
};
use backup_common::*;
use serde_json::json;

/// A small register (a few hundred rows, so each CLI run is quick), a backup of it, and a
/// change made after the backup, so a restore that wrongly went through would show.
fn small_site_with_backup() -> (Cli, tempfile::TempDir, PathBuf) {
    let cli = Cli::demo(200, 60, 1500);
    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create(&cli, dest.path(), &[]);
    cli.run_ok(&[
        "person",
        "add",
        "--name",
        "Pēc Dublējuma",
        "--code",
        "AFTER-1",
    ]);
    (cli, dest, archive)
}

/// Asserts the run failed with some exit code other than 0 and one clear line on stderr
/// (never "intact"); returns (code, line).
fn assert_refused(out: &Output, what: &str) -> (i32, String) {
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{what}: killed by a signal"));
    assert_ne!(
        code,
        0,
        "{what}: accepted a damaged archive\nstdout:\n{}",
        stdout(out)
    );
    assert!(!stdout(out).contains("intact"), "{what}: {}", stdout(out));
    (code, assert_fails(out, code))
}

/// A copy of `archive` under `dir` with the same file name, so a `.sha256` copied beside
/// it names it.
fn same_name_in(dir: &Path, archive: &Path) -> PathBuf {
    dir.join(archive.file_name().unwrap())
}

fn with_sidecar(original: &Path, copy: &Path) {
    std::fs::copy(sidecar(original), sidecar(copy)).unwrap();
}

fn last_backup_row(cli: &Cli) -> (String, Option<String>) {
    cli.db()
        .query_row(
            "SELECT status, error FROM backups ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a backups row")
}

fn count_rows(conn: &rusqlite::Connection, table: &str) -> i64 {
    atslegas_tests::count(conn, table)
}

// ---------------------------------------------------------------------------------------
// 1. A backup while another connection writes

#[test]
fn a_backup_taken_while_another_connection_writes_is_a_consistent_state_and_verifies() {
    // A few MB, so the snapshot and the archive take a while.
    let cli = Cli::demo(1500, 400, 20_000);
    let dest = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));

    // The writer: its own Store on the same file, through the core's write path, for the
    // whole backup. Each round adds a person, issues one of four keys to them (override:
    // no group allows it) and takes it back, so snapshots can land between any two.
    let writer = {
        let (stop, rounds, db) = (stop.clone(), rounds.clone(), cli.db_path());
        std::thread::spawn(move || {
            let mut store = Store::open(&db, Security::default()).expect("open the live db");
            let actor = admin();
            for k in 0..4 {
                keys::create(&mut store, &actor, &KeyInput::numbered(&format!("W-{k}")))
                    .expect("add a writer key");
            }
            let mut i = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let p = persons::create(
                    &mut store,
                    &actor,
                    &PersonInput {
                        code: Some(format!("WR-{i}")),
                        ..PersonInput::named(&format!("Rakstītājs {i}"))
                    },
                )
                .expect("add a person while the backup runs");
                let key = format!("W-{}", i % 4);
                let req = IssueRequest {
                    override_reason: Some("writer during backup".into()),
                    ..Default::default()
                };
                keylog::issue(&mut store, &actor, &key, &PersonRef::Id(p.id), &req)
                    .expect("issue while the backup runs");
                keylog::return_key(&mut store, &actor, &key, None)
                    .expect("return while the backup runs");
                i += 1;
                rounds.store(i, Ordering::SeqCst);
            }
            i
        })
    };
    while rounds.load(Ordering::SeqCst) < 3 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let at_start = rounds.load(Ordering::SeqCst);
    let archive = backup_create(&cli, dest.path(), &[]);
    let at_end = rounds.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    let total = writer.join().expect("the writer thread did not panic");
    assert!(
        at_end >= at_start + 3,
        "the writer must have kept writing during the backup ({at_start} -> {at_end} rounds)"
    );

    assert_verifies(&cli, &archive);
    let work = tempfile::tempdir().unwrap();
    let (_, snap) = archive_db(&archive, None, work.path());
    assert_consistent(&snap, "the database in the backup");

    // One moment's state: the writer's persons WR-0..WR-(m-1), none missing in between,
    // at least those written before the backup began and at most one more than finished.
    let mut codes: Vec<u64> = snap
        .prepare("SELECT code FROM persons WHERE code LIKE 'WR-%'")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|c| c.unwrap()[3..].parse().unwrap())
        .collect();
    codes.sort_unstable();
    let m = codes.len() as u64;
    assert_eq!(
        codes,
        (0..m).collect::<Vec<_>>(),
        "a gap in the writer's persons"
    );
    assert!(
        (at_start..=at_end + 1).contains(&m),
        "the backup holds {m} writer persons, not between {at_start} and {}",
        at_end + 1
    );
    // The manifest's counts are the database's.
    let man = manifest(&archive);
    assert_eq!(
        man["counts"]["persons"],
        json!(count_rows(&snap, "persons"))
    );
    assert_eq!(
        man["counts"]["key_log"],
        json!(count_rows(&snap, "key_log"))
    );

    // And the live database got everything the writer did, intact.
    let live = cli.db();
    assert_consistent(&live, "the live database");
    let live_writer: i64 = value(&live, "SELECT count(*) FROM persons WHERE code LIKE 'WR-%'");
    assert_eq!(live_writer as u64, total);
}

/// Another program holds the register's write lock for longer than a write waits: the
/// backup is made and verified (a snapshot only reads), and the error says the file is
/// there and usable rather than "nothing was changed".
#[test]
fn a_verified_backup_that_cannot_be_recorded_says_the_file_is_there_and_usable() {
    let cli = Cli::demo(20, 10, 50);
    let dest = tempfile::tempdir().unwrap();
    let holder = open_raw(&cli.db_path());
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = cli.run(&["backup", "create", "--to", s(dest.path()), "--json"]);
    holder.execute_batch("ROLLBACK").unwrap();
    let err = assert_fails(&out, 1);
    let archives = final_archives(dest.path());
    assert_eq!(archives.len(), 1, "one archive on the drive: {archives:?}");
    let name = archives[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        err.contains("could not be listed in the backup history")
            && err.contains(&name)
            && err.contains("written and verified")
            && err.contains("database is locked")
            && !err.contains("Nothing was changed"),
        "{err}"
    );
    assert_verifies(&cli, &archives[0]);
    // And once the lock is gone, the next backup is recorded as usual.
    backup_create(&cli, dest.path(), &[]);
}

// ---------------------------------------------------------------------------------------
// 2. Into an empty data folder

#[test]
fn restoring_into_an_empty_data_directory_reproduces_every_table_exactly() {
    let original = Cli::demo(300, 80, 3000);
    // A site name of its own, so the restored configuration is visibly the backup's.
    let mut cfg = original.config();
    cfg["site_name"] = json!("Rīgas Skola");
    original.write_config(&cfg);
    // Rows in the smaller tables too: a user, a group with a member and a key, a key out,
    // a deleted person, and one earlier backup (so the backups table is not empty).
    let out = original.run_stdin(
        &[
            "user",
            "add",
            "ilze",
            "--role",
            "operator",
            "--password-stdin",
        ],
        "Mežs-Jūra-Saule-7\n",
    );
    assert_success(&out, "user add");
    for args in [
        &["person", "add", "--name", "Ģirts Ķēniņš", "--code", "G-1"][..],
        &["person", "add", "--name", "Dzēšamais", "--code", "D-1"],
        &["person", "delete", "D-1"],
        &["key", "add", "R-1", "--name", "Room 1"],
        &["group", "add", "Apkope"],
        &["group", "allow", "Apkope", "R-1"],
        &["group", "member", "Apkope", "G-1"],
        &["issue", "R-1", "--to", "G-1"],
    ] {
        assert_success(&original.run(args), &args.join(" "));
    }
    let earlier = tempfile::tempdir().unwrap();
    backup_create(&original, earlier.path(), &[]);
    // That backup remembered its folder in config.json: the configuration the next backup
    // captures is the one now.
    let cfg = original.config();
    assert_eq!(cfg["backup"]["destinations"][0], s(earlier.path()));

    // The state the backup captures: nothing writes between this dump and the snapshot.
    let expected = dump(&original.db());
    let expected_version: i64 = value(&original.db(), "PRAGMA user_version");
    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create(&original, dest.path(), &[]);
    assert!(
        archive
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("atslegas-rigas-skola-"),
        "the file is named after the site: {}",
        archive.display()
    );

    let fresh = Cli::initialised();
    fresh.run_ok(&["backup", "restore", s(&archive), "--force"]);
    let restored_conn = fresh.db();
    let restored = dump(&restored_conn);

    // Exactly what differs, and why:
    // - The backup's own `backups` row and its `backup` audit row are written after the
    //   snapshot (a backup is recorded only once it has been verified), so they are in
    //   the original now but not in the archive: `expected` was dumped before them.
    // - The fresh folder's own rows (its root user, its init audit row, the safety
    //   backup's row) are replaced wholesale: the restore copies the whole database.
    // - The restore adds exactly one audit row, `restore_backup`, chained after the
    //   backup's last row.
    // - The search indexes' own tables (`*_fts_*`) are rebuilt from the restored rows,
    //   never copied (a backup's database is data; issue 11): their bytes differ, so
    //   they are checked by FTS5's own integrity check and by searching instead.
    // Nothing else differs, table by table, row by row.
    assert_eq!(
        restored.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, rows) in &expected {
        let got = &restored[table];
        if table.starts_with("persons_fts_") || table.starts_with("keys_fts_") {
            continue;
        }
        if table == "audit_log" {
            assert_eq!(
                got.len(),
                rows.len() + 1,
                "one audit row more: the restore's"
            );
            assert_same_rows(table, rows, &got[..rows.len()]);
        } else {
            assert_same_rows(table, rows, got);
        }
    }
    let last = last_audit(&restored_conn);
    assert_eq!(last.operation, "restore_backup");
    assert_eq!(last.id as usize, expected["audit_log"].len() + 1);
    assert_consistent(&restored_conn, "the restored database");
    for fts in ["persons_fts", "keys_fts"] {
        restored_conn
            .execute(
                &format!("INSERT INTO {fts} ({fts}) VALUES ('integrity-check')"),
                [],
            )
            .unwrap_or_else(|e| panic!("{fts} does not match its table: {e}"));
    }
    let search = |conn: &rusqlite::Connection, fts: &str, term: &str| -> Vec<i64> {
        conn.prepare(&format!(
            "SELECT rowid FROM {fts} WHERE {fts} MATCH ?1 ORDER BY rowid"
        ))
        .unwrap()
        .query_map([term], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    };
    let original_conn = original.db();
    for (fts, term) in [
        ("persons_fts", "girts"),
        ("persons_fts", "G-1"),
        ("keys_fts", "room"),
        ("keys_fts", "R-1"),
    ] {
        let want = search(&original_conn, fts, &format!("\"{term}\""));
        assert!(!want.is_empty(), "{term} finds something in the original");
        assert_eq!(
            search(&restored_conn, fts, &format!("\"{term}\"")),
            want,
            "searching {fts} for {term}"
        );
    }
    let version: i64 = value(&restored_conn, "PRAGMA user_version");
    assert_eq!(version, expected_version);
    for t in [
        "persons",
        "key_log",
        "users",
        "groups",
        "group_members",
        "group_keys",
        "backups",
    ] {
        assert!(!expected[t].is_empty(), "the comparison covers rows of {t}");
    }

    // The configuration came back too.
    let restored_cfg = fresh.config();
    assert_eq!(restored_cfg, cfg);
}

// ---------------------------------------------------------------------------------------
// 3. Old data back, with a safety backup and the history

#[test]
fn restoring_a_backup_brings_the_old_data_back_with_a_pinned_safety_backup_and_history() {
    let cli = Cli::demo(300, 80, 3000);
    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create(&cli, dest.path(), &[]);
    let archive_name = archive.file_name().unwrap().to_string_lossy().into_owned();
    let at_backup = fingerprint(&cli.db());
    assert_verifies(&cli, &archive);

    for args in [
        &[
            "person",
            "add",
            "--name",
            "Jaunā Persona",
            "--code",
            "NEW-1",
        ][..],
        &["key", "add", "NEW-K"],
        &[
            "issue",
            "NEW-K",
            "--to",
            "NEW-1",
            "--override-reason",
            "test",
        ],
    ] {
        assert_success(&cli.run(args), &args.join(" "));
    }
    let changed = fingerprint(&cli.db());
    assert_ne!(changed, at_backup);

    let out = cli.run_ok(&["backup", "restore", s(&archive), "--force"]);
    assert!(stdout(&out).contains("Restored"), "{}", stdout(&out));
    // The operations journal as the restore left it (verifying below adds lines).
    let lines = journal(cli.data_dir());
    let live = cli.db();
    assert_eq!(fingerprint(&live), at_backup, "the backup's data is back");
    let new_person: i64 = value(&live, "SELECT count(*) FROM persons WHERE code = 'NEW-1'");
    assert_eq!(new_person, 0);

    // The pinned safety backup holds the data as it was just before the restore.
    let safety_dir = cli.data_dir().join("safety-backups");
    let safety = final_archives(&safety_dir);
    assert_eq!(safety.len(), 1, "one safety backup: {safety:?}");
    let safety = &safety[0];
    assert!(safety
        .file_name()
        .unwrap()
        .to_string_lossy()
        .contains("-pinned"));
    assert!(
        sidecar(safety).is_file(),
        "the safety backup was verified (.sha256 beside it)"
    );
    assert_verifies(&cli, safety);
    let work = tempfile::tempdir().unwrap();
    let (_, safety_db) = archive_db(safety, None, work.path());
    assert_eq!(fingerprint(&safety_db), changed);
    let list = cli.run(&["backup", "list", s(&safety_dir)]);
    assert_success(&list, "backup list");
    assert!(
        stdout(&list).contains("pinned") && stdout(&list).contains("verified"),
        "{}",
        stdout(&list)
    );

    // The restore is in the audit trail, which still verifies.
    let last = last_audit(&live);
    assert_eq!(last.operation, "restore_backup");
    assert_eq!(last.component, "backup");
    let after = last.after.expect("the restore row says what was restored");
    assert_eq!(after["file"], json!(archive));
    assert_eq!(after["safety_backup"], json!(safety));
    drop(live);
    let out = cli.run_ok(&["audit", "verify"]);
    assert!(stdout(&out).contains("intact"), "{}", stdout(&out));

    // The operations journal, which the restore cannot roll back, has the backup, its
    // verification, the safety backup and the restore, in that order.
    let find = |from: usize, pred: &dyn Fn(&serde_json::Value) -> bool, what: &str| -> usize {
        from + lines[from..]
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("no journal line for {what} after line {from}: {lines:#?}"))
    };
    let b = find(
        0,
        &|l| l["operation"] == "backup" && l["detail"]["file"] == json!(archive_name),
        "the backup",
    );
    assert_eq!(lines[b]["detail"]["status"], "verified");
    let v = find(
        b + 1,
        &|l| l["operation"] == "verify" && l["detail"]["file"] == json!(archive),
        "its verification",
    );
    assert_eq!(lines[v]["detail"]["ok"], true);
    let sb = find(
        v + 1,
        &|l| l["operation"] == "backup" && l["detail"]["pinned"] == true,
        "the safety backup",
    );
    let r = find(
        sb + 1,
        &|l| l["operation"] == "restore_backup",
        "the restore",
    );
    assert_eq!(lines[r]["detail"]["file"], json!(archive));
    assert_eq!(r, lines.len() - 1, "the restore is the last line");
}

#[test]
fn restoring_an_older_backup_without_force_is_refused_and_changes_nothing() {
    let (cli, _dest, archive) = small_site_with_backup();
    // Fewer key movements in the backup than now: the restore would lose some.
    for args in [
        &["key", "add", "AFTER-K"][..],
        &[
            "issue",
            "AFTER-K",
            "--to",
            "AFTER-1",
            "--override-reason",
            "test",
        ],
    ] {
        assert_success(&cli.run(args), &args.join(" "));
    }
    let untouched = Untouched::capture(&cli);
    let out = cli.run(&["backup", "restore", s(&archive)]);
    let line = assert_fails(&out, 3);
    assert!(line.contains("--force"), "{line}");
    assert!(line.contains("movements"), "{line}");
    untouched.assert_unchanged(&cli, "restore without --force");
    assert!(!cli.data_dir().join("safety-backups").exists());
}

// ---------------------------------------------------------------------------------------
// 4. Damaged and hostile archives

/// ~35 places to flip a bit: the database entry's local header, its compressed data in
/// ten places, the configuration's and the manifest's data, the central directory, the
/// end record, and evenly through the whole file. (offset, label)
fn damage_spots(layout: &Layout) -> Vec<(u64, String)> {
    let (db_h, db_d, db_c, db_cd) = layout.entry(DB_ENTRY);
    let (_, cfg_d, cfg_c, _) = layout.entry(CONFIG_ENTRY);
    let (_, man_d, man_c, man_cd) = layout.entry(MANIFEST_ENTRY);
    let eocd = layout.len - 22;
    let mut v: Vec<(u64, String)> = vec![
        (db_h, "database.db local header signature".into()),
        (db_h + 10, "database.db local header time".into()),
        (db_h + 26, "database.db local header name length".into()),
        (db_h + 30, "database.db local header name".into()),
    ];
    for k in 0..10 {
        v.push((db_d + db_c * k / 10, format!("database.db data at {k}/10")));
    }
    v.push((cfg_d + cfg_c / 2, "config.json data".into()));
    v.push((man_d + 1, "manifest.json data start".into()));
    v.push((man_d + man_c / 2, "manifest.json data middle".into()));
    v.push((man_d + man_c - 2, "manifest.json data end".into()));
    for (off, what) in [
        (0, "signature"),
        (16, "CRC"),
        (20, "compressed size"),
        (24, "size"),
        (28, "name length"),
        (42, "local header offset"),
        (46, "name"),
    ] {
        v.push((
            db_cd + off,
            format!("central directory: database.db {what}"),
        ));
    }
    v.push((man_cd + 46, "central directory: manifest.json name".into()));
    for (off, what) in [
        (0, "signature"),
        (10, "entry count"),
        (12, "directory size"),
        (16, "directory offset"),
    ] {
        v.push((eocd + off, format!("end of central directory: {what}")));
    }
    for k in 1..8 {
        let off = layout.len * k / 8;
        let region = layout.in_data(off).unwrap_or("headers");
        v.push((off, format!("{k}/8 through the file ({region})")));
    }
    assert_eq!(
        layout.central_directory, db_cd,
        "database.db is the first entry"
    );
    v
}

#[test]
fn a_flipped_bit_anywhere_in_the_archive_is_refused_and_changes_nothing() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let layout = Layout::read(&archive);
    let spots = damage_spots(&layout);
    assert!(spots.len() >= 30, "{} spots", spots.len());
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = same_name_in(bad_dir.path(), &archive);
    let mut content_spots = 0;
    let mut harmless = 0;
    for (i, (offset, label)) in spots.iter().enumerate() {
        let bit = (i % 8) as u8;
        let what = format!("bit {bit} of byte {offset} ({label})");
        flipped_copy(&archive, &bad, *offset, bit);
        // As found on the drive: with its .sha256 beside it. Any changed bit is damage.
        with_sidecar(&archive, &bad);
        let out = cli.run(&["backup", "verify", s(&bad)]);
        let line = assert_fails(&out, 3);
        assert!(line.contains("damaged"), "{what}: {line}");

        // Damaged data must be refused by the archive's own checks too (CRC, per-entry
        // SHA-256 and size, SQLite), without the .sha256: by verify and by restore, which
        // must change nothing. (Header fields such as a time stamp carry no data: with
        // the .sha256 gone they may legitimately pass, so only data spots are tried.)
        if layout.in_data(*offset).is_some() {
            content_spots += 1;
            std::fs::remove_file(sidecar(&bad)).unwrap();
            let out = cli.run(&["backup", "verify", s(&bad)]);
            if out.status.success() && layout.in_data(*offset) == Some(DB_ENTRY) {
                // Deflate ignores a few bits (the padding after a stored block's
                // header): a flip there changes no byte of the content, which is then
                // truly intact. Prove that, and allow it only rarely.
                for entry in [DB_ENTRY, CONFIG_ENTRY, MANIFEST_ENTRY] {
                    assert!(
                        read_entry(&bad, entry, None) == read_entry(&archive, entry, None),
                        "verify, {what}: accepted changed content of {entry}"
                    );
                }
                harmless += 1;
                continue;
            }
            assert_refused(&out, &format!("verify, {what}"));
            let out = cli.run(&["backup", "restore", s(&bad), "--force"]);
            assert_refused(&out, &format!("restore, {what}"));
            untouched.assert_unchanged(&cli, &format!("restore of {what}"));
            assert!(!cli.data_dir().join("safety-backups").exists());
        }
    }
    assert!(content_spots >= 14, "{content_spots} spots in entry data");
    assert!(
        harmless <= 2,
        "{harmless} flips changed nothing: the spots miss the data"
    );
    untouched.assert_unchanged(&cli, "bit flips");
    assert_verifies(&cli, &archive);
}

#[test]
fn damaged_compressed_data_is_reported_as_damage_not_as_a_wrong_passphrase() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let (_, d, c, _) = Layout::read(&archive).entry(DB_ENTRY);
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = same_name_in(bad_dir.path(), &archive);
    let mut wrong = Vec::new();
    let mut harmless = 0;
    for k in 0..20u64 {
        let offset = d + c * k / 20;
        flipped_copy(&archive, &bad, offset, (k % 8) as u8);
        // A deflate stream has bits nobody reads (the padding of a stored block up to the
        // next byte). Flipping one of those leaves every extracted byte as it was, which
        // the SHA-256 of each entry proves when the check passes: that copy is intact,
        // not damaged. (Without the .sha256 beside it, nothing else can tell.)
        let probe = cli.run(&["backup", "verify", s(&bad)]);
        if probe.status.code() == Some(0) {
            harmless += 1;
            continue;
        }
        for args in [
            &["backup", "verify", s(&bad)][..],
            &["backup", "restore", s(&bad), "--force"],
        ] {
            let out = cli.run(args);
            let (code, line) = assert_refused(&out, &format!("{} at {offset}", args[1]));
            if code != 3 || !line.contains("damaged") || line.contains("passphrase") {
                wrong.push(format!("{} at byte {offset}: exit {code}: {line}", args[1]));
            }
        }
    }
    assert!(
        harmless <= 2,
        "{harmless} of 20 flips in the compressed data went unnoticed"
    );
    untouched.assert_unchanged(&cli, "damaged data");
    assert!(
        wrong.is_empty(),
        "damaged data must be reported as damage (exit 3), never as a passphrase problem:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn restore_refuses_an_archive_that_no_longer_matches_its_sha256_file() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let (db_h, ..) = Layout::read(&archive).entry(DB_ENTRY);
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = same_name_in(bad_dir.path(), &archive);
    // Changes that leave every entry readable: a local header's time stamp, and bytes
    // added after the end. The .sha256 beside the file says it is not what was written.
    let cases: [(&str, &dyn Fn()); 2] = [
        ("a flipped bit in a header's time stamp", &|| {
            flipped_copy(&archive, &bad, db_h + 10, 0)
        }),
        ("garbage appended", &|| {
            let mut b = std::fs::read(&archive).unwrap();
            b.extend((0..4096u32).map(|i| (i * 7 + 13) as u8));
            std::fs::write(&bad, b).unwrap();
        }),
    ];
    for (what, make) in cases {
        make();
        with_sidecar(&archive, &bad);
        let line = assert_fails(&cli.run(&["backup", "verify", s(&bad)]), 3);
        assert!(line.contains(".sha256"), "verify, {what}: {line}");
        let out = cli.run(&["backup", "restore", s(&bad), "--force"]);
        let line = assert_fails(&out, 3);
        assert!(line.contains("damaged"), "restore, {what}: {line}");
        untouched.assert_unchanged(&cli, what);
    }
}

#[test]
fn a_truncated_archive_is_refused_as_damaged_and_changes_nothing() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let bytes = std::fs::read(&archive).unwrap();
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = same_name_in(bad_dir.path(), &archive);
    for keep in [
        0,
        100,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 10,
        bytes.len() - 1,
    ] {
        std::fs::write(&bad, &bytes[..keep]).unwrap();
        for sidecar_too in [true, false] {
            let _ = std::fs::remove_file(sidecar(&bad));
            if sidecar_too {
                with_sidecar(&archive, &bad);
            }
            let what = format!(
                "{keep} of {} bytes (.sha256 beside: {sidecar_too})",
                bytes.len()
            );
            let line = assert_fails(&cli.run(&["backup", "verify", s(&bad)]), 3);
            assert!(line.contains("damaged"), "verify, {what}: {line}");
            let out = cli.run(&["backup", "restore", s(&bad), "--force"]);
            let line = assert_fails(&out, 3);
            assert!(line.contains("damaged"), "restore, {what}: {line}");
            untouched.assert_unchanged(&cli, &what);
        }
    }
}

#[test]
fn garbage_appended_to_an_archive_is_refused_by_verify() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = same_name_in(bad_dir.path(), &archive);
    let mut b = std::fs::read(&archive).unwrap();
    b.extend((0..4096u32).map(|i| (i * 31 + 7) as u8));
    std::fs::write(&bad, b).unwrap();
    with_sidecar(&archive, &bad);
    let line = assert_fails(&cli.run(&["backup", "verify", s(&bad)]), 3);
    assert!(
        line.contains("damaged") && line.contains(".sha256"),
        "{line}"
    );
    untouched.assert_unchanged(&cli, "verify of an archive with garbage appended");
}

#[test]
fn a_wrong_passphrase_and_a_damaged_encrypted_archive_get_distinct_errors() {
    let cli = Cli::demo(200, 60, 1500);
    let dest = tempfile::tempdir().unwrap();
    let enc = backup_create_encrypted(&cli, dest.path());
    let sealed: serde_json::Value =
        serde_json::from_slice(&read_entry(&enc, MANIFEST_ENTRY, Some(PASSPHRASE))).unwrap();
    assert_eq!(sealed["encrypted"], true);
    assert_eq!(sealed["format_version"], 2);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&enc).unwrap()).unwrap();
    let encrypted: Vec<(String, bool)> = (0..z.len())
        .map(|i| {
            let e = z.by_index_raw(i).unwrap();
            (e.name().to_string(), e.encrypted())
        })
        .collect();
    for (name, expected) in [
        (DB_ENTRY, true),
        (CONFIG_ENTRY, true),
        // Format 2: the manifest is encrypted (and so authenticated) with the rest.
        (MANIFEST_ENTRY, true),
    ] {
        assert!(
            encrypted.contains(&(name.to_string(), expected)),
            "{name} encrypted: {expected}? {encrypted:?}"
        );
    }
    cli.run_ok(&["person", "add", "--name", "Vēlāk"]);
    let untouched = Untouched::capture(&cli);

    // Wrong passphrase: exit 6, says passphrase, for verify and restore, on stdin or in
    // the environment.
    let wrong = "Nepareiza-Parole-2026-Kaza";
    for args in [
        &["backup", "verify", s(&enc), "--passphrase-stdin"][..],
        &[
            "backup",
            "restore",
            s(&enc),
            "--force",
            "--passphrase-stdin",
        ],
    ] {
        let line = assert_fails(&cli.run_stdin(args, &format!("{wrong}\n")), 6);
        assert!(line.contains("passphrase is wrong"), "{}: {line}", args[1]);
        assert!(!line.contains("damaged"), "{line}");
    }
    let out = cli.run_env(
        &["backup", "verify", s(&enc)],
        &[(PASSPHRASE_ENV, wrong)],
        None,
    );
    assert!(assert_fails(&out, 6).contains("passphrase is wrong"));
    // No passphrase at all: exit 6 too, and it says the backup is encrypted.
    let line = assert_fails(&cli.run(&["backup", "verify", s(&enc)]), 6);
    assert!(
        line.contains("encrypted") && line.contains("passphrase"),
        "{line}"
    );
    untouched.assert_unchanged(&cli, "wrong passphrases");

    // The right one opens it, from stdin or the environment.
    let out = cli.run_stdin(
        &["backup", "verify", s(&enc), "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert_success(&out, "verify with the passphrase on stdin");
    let out = cli.run_env(
        &["backup", "verify", s(&enc)],
        &[(PASSPHRASE_ENV, PASSPHRASE)],
        None,
    );
    assert_success(&out, "verify with the passphrase in the environment");

    // Damaged, with the right passphrase: exit 3, says damaged, not passphrase.
    let (_, d, c, _) = Layout::read(&enc).entry(DB_ENTRY);
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = same_name_in(bad_dir.path(), &enc);
    flipped_copy(&enc, &bad, d + c / 2, 3);
    with_sidecar(&enc, &bad);
    let out = cli.run_env(
        &["backup", "verify", s(&bad)],
        &[(PASSPHRASE_ENV, PASSPHRASE)],
        None,
    );
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("damaged") && !line.contains("passphrase"),
        "{line}"
    );
    let untouched = Untouched::capture(&cli);
    let out = cli.run_env(
        &["backup", "restore", s(&bad), "--force"],
        &[(PASSPHRASE_ENV, PASSPHRASE)],
        None,
    );
    assert_refused(&out, "restore of a damaged encrypted archive");
    untouched.assert_unchanged(&cli, "restore of a damaged encrypted archive");
}

#[test]
fn a_damaged_encrypted_archive_with_the_right_passphrase_is_reported_as_damaged() {
    let cli = Cli::demo(200, 60, 1500);
    let dest = tempfile::tempdir().unwrap();
    let enc = backup_create_encrypted(&cli, dest.path());
    let untouched = Untouched::capture(&cli);
    let (_, d, c, _) = Layout::read(&enc).entry(DB_ENTRY);
    // WinZip AES data: 16 bytes of salt and 2 of password check (damage there cannot be
    // told from a wrong passphrase), the encrypted data, 10 bytes of authentication code.
    let (start, len) = (d + 18, c - 18 - 10);
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = same_name_in(bad_dir.path(), &enc);
    let mut wrong = Vec::new();
    for k in 0..12u64 {
        let offset = start + len * k / 12;
        flipped_copy(&enc, &bad, offset, (k % 8) as u8);
        // No .sha256 beside it: the archive's own checks must tell damage from a wrong
        // passphrase (the passphrase is right).
        for args in [
            &["backup", "verify", s(&bad)][..],
            &["backup", "restore", s(&bad), "--force"],
        ] {
            let out = cli.run_env(args, &[(PASSPHRASE_ENV, PASSPHRASE)], None);
            let (code, line) = assert_refused(&out, &format!("{} at {offset}", args[1]));
            if code != 3 || line.contains("passphrase") {
                wrong.push(format!("{} at byte {offset}: exit {code}: {line}", args[1]));
            }
        }
    }
    untouched.assert_unchanged(&cli, "damaged encrypted archives");
    assert!(
        wrong.is_empty(),
        "damage reported as a passphrase problem:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn an_archive_with_parent_or_absolute_entry_names_is_refused_and_writes_nothing() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let db = read_entry(&archive, DB_ENTRY, None);
    let cfg = read_entry(&archive, CONFIG_ENTRY, None);
    let man = read_entry(&archive, MANIFEST_ENTRY, None);
    let outside = tempfile::tempdir().unwrap();
    let absolute = outside.path().join("abs-evil");
    let bad_dir = tempfile::tempdir().unwrap();
    // Where a naive extractor would put "../evil": beside the work folder, the archive's
    // folder or the process's working folder.
    let relative_targets = [
        cli.data_dir().join("evil"),
        cli.data_dir().parent().unwrap().join("evil"),
        bad_dir.path().parent().unwrap().join("evil"),
        std::env::current_dir()
            .unwrap()
            .parent()
            .unwrap()
            .join("evil"),
    ];
    for t in &relative_targets {
        assert!(!t.exists(), "{} exists before the test", t.display());
    }
    for (label, name) in [
        ("parent", "../evil".to_string()),
        ("deep-parent", "../../../../../../../../evil".to_string()),
        ("absolute", absolute.to_string_lossy().into_owned()),
    ] {
        let bad = bad_dir.path().join(format!("atslegas-{label}.zip"));
        // A genuine backup's three entries plus the hostile one.
        write_zip(
            &bad,
            &[
                (DB_ENTRY, &db),
                (CONFIG_ENTRY, &cfg),
                (&name, b"evil"),
                (MANIFEST_ENTRY, &man),
            ],
        );
        assert!(
            zip::ZipArchive::new(std::fs::File::open(&bad).unwrap())
                .unwrap()
                .file_names()
                .any(|n| n == name),
            "the crafted archive holds the entry {name}"
        );
        for args in [
            &["backup", "verify", s(&bad)][..],
            &["backup", "restore", s(&bad), "--force"],
        ] {
            let line = assert_fails(&cli.run(args), 3);
            assert!(
                line.contains("damaged") && line.contains("unexpected entry"),
                "{} of {label}: {line}",
                args[1]
            );
        }
        untouched.assert_unchanged(&cli, label);
        assert!(!absolute.exists(), "{} was written", absolute.display());
        for t in &relative_targets {
            assert!(!t.exists(), "{} was written", t.display());
        }
    }
}

/// Issue "[2 of 6] Trust", finding 5: sizes are bounded by limits of our own, not by the
/// manifest's word. A configuration entry of 20 MB of zeros (small on disk) whose
/// manifest tells the truth is refused before it is read into memory, and so is a
/// manifest that claims a database far larger than its compressed entry could expand to.
#[test]
fn a_huge_configuration_or_a_size_the_entry_cannot_hold_is_refused_by_our_own_limits() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let db = read_entry(&archive, DB_ENTRY, None);
    let bad_dir = tempfile::tempdir().unwrap();

    let zeros = vec![b' '; 20 << 20];
    let man = manifest_matching(&archive, CONFIG_ENTRY, &zeros);
    let huge_config = bad_dir.path().join("atslegas-huge-config.zip");
    write_zip(
        &huge_config,
        &[
            (DB_ENTRY, &db),
            (CONFIG_ENTRY, &zeros),
            (MANIFEST_ENTRY, &serde_json::to_vec(&man).unwrap()),
        ],
    );
    assert!(std::fs::metadata(&huge_config).unwrap().len() < 1 << 20);

    let mut man = manifest(&archive);
    for e in man["entries"].as_array_mut().unwrap() {
        if e["name"] == DB_ENTRY {
            e["size"] = json!(1u64 << 40);
        }
    }
    let tall_tale = bad_dir.path().join("atslegas-tall-tale.zip");
    write_zip(
        &tall_tale,
        &[
            (DB_ENTRY, &db),
            (CONFIG_ENTRY, &read_entry(&archive, CONFIG_ENTRY, None)),
            (MANIFEST_ENTRY, &serde_json::to_vec(&man).unwrap()),
        ],
    );

    for (bad, says) in [
        (&huge_config, "larger than the 1 MiB a configuration may be"),
        (&tall_tale, "claims far more data than the entry can hold"),
    ] {
        for args in [
            &["backup", "verify", s(bad)][..],
            &["backup", "restore", s(bad), "--force"],
        ] {
            let line = assert_fails(&cli.run(args), 3);
            assert!(line.contains(says), "{}: {line}", args[1]);
            untouched.assert_unchanged(&cli, args[1]);
        }
    }
}

#[test]
fn an_entry_far_larger_than_its_manifest_says_is_refused_without_extracting_it() {
    let (cli, _dest, archive) = small_site_with_backup();
    let mut man = manifest(&archive);
    man["kind"] = json!("database");
    man["entries"] = json!([{"name": DB_ENTRY, "size": 100, "sha256": "0".repeat(64)}]);
    let zeros = vec![0u8; 10 << 20];
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = bad_dir.path().join("atslegas-bomb.zip");
    write_zip(
        &bad,
        &[
            (DB_ENTRY, &zeros),
            (MANIFEST_ENTRY, &serde_json::to_vec(&man).unwrap()),
        ],
    );
    assert!(
        std::fs::metadata(&bad).unwrap().len() < 1 << 20,
        "small on disk"
    );

    // With root: a 1 MiB tmpfs on the work folder the archive is extracted into. Writing
    // the 10 MB entry out there would fail with "no space"; the refusal below, about the
    // size, shows the reader stopped at the manifest's limit.
    let work = cli.data_dir().join(".backup-work");
    std::fs::create_dir_all(&work).unwrap();
    let untouched = Untouched::capture(&cli);
    let _mount = Tmpfs::mount_if_root(
        &work,
        "size=1M",
        "an_entry_far_larger_than_its_manifest_says (the size message is still checked)",
    );
    for args in [
        &["backup", "verify", s(&bad)][..],
        &["backup", "restore", s(&bad), "--force"],
    ] {
        let line = assert_fails(&cli.run(args), 3);
        assert!(
            line.contains("damaged") && line.contains("larger than its manifest says"),
            "{}: {line}",
            args[1]
        );
        untouched.assert_unchanged(&cli, args[1]);
    }
}

#[test]
fn a_backup_from_a_newer_schema_is_refused_as_newer_and_changes_nothing() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let mut man = manifest(&archive);
    man["schema_version"] = json!(999);
    man["app_version"] = json!("9.9.9");
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = bad_dir.path().join("atslegas-from-the-future.zip");
    write_zip(
        &bad,
        &[
            (DB_ENTRY, &read_entry(&archive, DB_ENTRY, None)),
            (CONFIG_ENTRY, &read_entry(&archive, CONFIG_ENTRY, None)),
            (MANIFEST_ENTRY, &serde_json::to_vec_pretty(&man).unwrap()),
        ],
    );
    for args in [
        &["backup", "verify", s(&bad)][..],
        &["backup", "restore", s(&bad), "--force"],
    ] {
        let line = assert_fails(&cli.run(args), 3);
        assert!(
            line.contains("newer Atslegas") && line.contains("999"),
            "{}: {line}",
            args[1]
        );
        // Both versions are named: the one that made the backup, and this one.
        let this = format!("this is Atslegas {}", env!("CARGO_PKG_VERSION"));
        assert!(
            line.contains("(9.9.9,") && line.contains(&this),
            "{}: {line}",
            args[1]
        );
        untouched.assert_unchanged(&cli, args[1]);
    }
}

/// Issue "[2 of 6] Trust", finding 1: a backup whose database got a trigger of someone
/// else's (promote every user to admin whenever an audit row is written) and lost the
/// append-only triggers, with the manifest's hashes recomputed and a new `.sha256`
/// written, passes no check: `backup verify` and restore name the foreign object, and
/// nothing changes (the viewer stays a viewer).
#[test]
fn a_backup_with_a_trigger_of_its_own_or_without_the_append_only_triggers_is_refused_and_changes_nothing(
) {
    let (cli, _dest, archive) = small_site_with_backup();
    let out = cli.run_stdin(
        &[
            "user",
            "add",
            "skatitajs",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "Skatitaja-Parole-77\n",
    );
    assert_success(&out, "user add");
    let untouched = Untouched::capture(&cli);
    let work = tempfile::tempdir().unwrap();
    let crafts: [(&str, &str); 3] = [
        (
            "CREATE TRIGGER promote AFTER INSERT ON audit_log BEGIN UPDATE users SET role = 'admin'; END;",
            "trigger \"promote\"",
        ),
        (
            "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_no_update;",
            "is missing",
        ),
        (
            "DROP TRIGGER key_log_no_update; CREATE TRIGGER key_log_no_update BEFORE UPDATE ON key_log BEGIN SELECT 1; END;",
            "trigger \"key_log_no_update\" is not defined as Atslegas defines it",
        ),
    ];
    for (i, (sql, says)) in crafts.into_iter().enumerate() {
        let (db_path, conn) = archive_db(&archive, None, work.path());
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        drop(conn);
        let db = std::fs::read(&db_path).unwrap();
        std::fs::remove_file(&db_path).unwrap();
        let bad_dir = tempfile::tempdir().unwrap();
        let bad = bad_dir.path().join(format!("atslegas-crafted-{i}.zip"));
        write_crafted(&bad, &archive, &db);
        for args in [
            &["backup", "verify", s(&bad)][..],
            &["backup", "restore", s(&bad), "--force"],
        ] {
            let (_, line) = assert_refused(&cli.run(args), args[1]);
            assert!(line.contains(says), "{}: {line}", args[1]);
            untouched.assert_unchanged(&cli, args[1]);
        }
    }
    let role: String = value(
        &cli.db(),
        "SELECT role FROM users WHERE username = 'skatitajs'",
    );
    assert_eq!(role, "viewer");
}

/// A restore's progress, as the window's bar and the CLI show it: its steps come in
/// order (the backup checked, the register built anew, the safety backup waited for, the
/// copy over the live file), each only moves forward and ends complete, and building
/// the register reports after each table and index, weighed by the rows it reads, so a
/// long restore does not sit on one figure.
#[test]
fn a_restore_reports_its_steps_in_order_each_moving_only_forward() {
    use atslegas_core::backup::restore::{self, Components};
    use atslegas_core::work::{Cancel, Progress};
    let (cli, _dest, archive) = small_site_with_backup();
    let mut store = Store::open(&cli.db_path(), Security::default()).unwrap();
    let loc = cli.locations();
    // The preview reads the whole backup too: it says how far it is.
    let mut checking: Vec<Progress> = Vec::new();
    let cancel = Cancel::new();
    restore::preview(
        &store,
        &admin(),
        &loc,
        &archive,
        None,
        &mut |p| checking.push(p),
        &cancel,
    )
    .unwrap();
    assert_reads_forward(&checking);

    let mut seen: Vec<Progress> = Vec::new();
    let choice = restore::Choice {
        file: &archive,
        passphrase: None,
        components: Components::default(),
        force: true,
    };
    let done = restore::restore(
        &mut store,
        &admin(),
        &loc,
        choice,
        &mut |p| seen.push(p),
        &Cancel::new(),
    )
    .unwrap();
    assert!(done.applied);
    drop(store);

    let mut steps: Vec<&str> = seen.iter().map(|p| p.step).collect();
    steps.dedup();
    assert_eq!(
        steps,
        ["verify", "rebuild", "safety backup", "apply"],
        "{seen:?}"
    );
    for step in steps {
        let fractions: Vec<f64> = seen
            .iter()
            .filter(|p| p.step == step)
            .map(|p| {
                assert!(p.done <= p.total, "{p:?}");
                p.done as f64 / p.total.max(1) as f64
            })
            .collect();
        assert!(
            fractions.windows(2).all(|w| w[0] <= w[1]),
            "{step} went back: {fractions:?}"
        );
        assert_eq!(fractions.last(), Some(&1.0), "{step} ends complete");
    }
    let verify: Vec<Progress> = seen
        .iter()
        .filter(|p| p.step == "verify")
        .cloned()
        .collect();
    assert_reads_forward(&verify);
    let rebuild: Vec<&Progress> = seen.iter().filter(|p| p.step == "rebuild").collect();
    assert!(
        rebuild.len() > 20,
        "a report a table and an index: {rebuild:?}"
    );
    // Weighed by rows: the key log (1,500 movements) is a large share of the work, so
    // the report after its rows moves the bar by more than a small table's does.
    let total = rebuild[0].total;
    assert!(total > 1500 * 2, "the rows weigh in: {total}");
    let biggest_jump = rebuild
        .windows(2)
        .map(|w| w[1].done - w[0].done)
        .max()
        .unwrap();
    assert!(biggest_jump >= 1500, "{rebuild:?}");
}

/// A check of a backup reports only `verify`, moving forward to complete, with a figure
/// between (the database's bytes as they are read), not only "not begun" and "done".
fn assert_reads_forward(seen: &[atslegas_core::work::Progress]) {
    assert!(seen.iter().all(|p| p.step == "verify"), "{seen:?}");
    let fractions: Vec<f64> = seen
        .iter()
        .map(|p| p.done as f64 / p.total.max(1) as f64)
        .collect();
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
    assert_eq!(fractions.last(), Some(&1.0), "{fractions:?}");
    assert!(
        fractions.iter().any(|f| *f > 0.0 && *f < 1.0),
        "a figure while it reads: {seen:?}"
    );
}

/// Restoring the same backup again and again keeps the history linear: each restore's
/// journal line (and its audit row) lists the lines since the backup, the earlier
/// restores' lines among them, but not the lines those carried in turn, which would
/// double the journal with every restore.
#[test]
fn restoring_one_backup_again_and_again_grows_the_journal_by_a_line_each_time_not_twofold() {
    let (cli, _dest, archive) = small_site_with_backup();
    let journal = cli.data_dir().join(atslegas_core::work::JOURNAL_FILE);
    let mut sizes = Vec::new();
    for _ in 0..4 {
        cli.run_ok(&["backup", "restore", s(&archive), "--force"]);
        sizes.push(std::fs::metadata(&journal).unwrap().len());
    }
    let growth: Vec<u64> = sizes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        growth.windows(2).all(|g| g[1] < g[0] * 3 / 2),
        "each restore should add about one line, not double it: {sizes:?}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["operation"], "restore_backup");
    let since = last["detail"]["journal_since_backup"].as_array().unwrap();
    let earlier: Vec<&serde_json::Value> = since
        .iter()
        .filter(|l| l["operation"] == "restore_backup")
        .collect();
    assert_eq!(earlier.len(), 3, "the three restores before it: {since:?}");
    for line in earlier {
        assert!(line["detail"]["file"].is_string(), "{line}");
        assert!(
            line["detail"].get("journal_since_backup").is_none(),
            "{line}"
        );
    }
    // The audit row of the last restore carries the same history.
    let after: String = value(
        &cli.db(),
        "SELECT after FROM audit_log WHERE operation = 'restore_backup' ORDER BY id DESC LIMIT 1",
    );
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(
        after["journal_since_backup"],
        last["detail"]["journal_since_backup"]
    );
}

/// Damages the live register's key log in place: one leaf page's cell pointers (SQLite's
/// checks fail, its rows still count), and with `roots_too` the page type of its root
/// and of each of its indexes' roots (nothing can count its rows).
fn damage_key_log(cli: &Cli, roots_too: bool) {
    let conn = cli.db();
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let root: i64 = value(
        &conn,
        "SELECT rootpage FROM sqlite_schema WHERE name = 'key_log'",
    );
    let page_size: i64 = value(&conn, "PRAGMA page_size");
    let roots: Vec<i64> = column(
        &conn,
        "SELECT rootpage FROM sqlite_schema WHERE tbl_name = 'key_log' AND rootpage > 0",
    );
    drop(conn);
    let path = cli.db_path();
    let mut db = std::fs::read(&path).unwrap();
    let page = |n: i64| ((n - 1) * page_size) as usize;
    let at = page(root);
    assert_eq!(db[at], 0x05, "the key log's root is an interior page");
    // Its right-most child, a leaf.
    let leaf = i64::from(u32::from_be_bytes(db[at + 8..at + 12].try_into().unwrap()));
    let at = page(leaf);
    assert_eq!(db[at], 0x0d, "a leaf of the key log");
    let cells = usize::from(u16::from_be_bytes([db[at + 3], db[at + 4]]));
    for b in &mut db[at + 8..at + 8 + 2 * cells] {
        *b = 0xff;
    }
    if roots_too {
        for root in roots {
            db[page(root)] = 0x00;
        }
    }
    std::fs::write(&path, db).unwrap();
    let quick: String = value(&open_raw(&path), "PRAGMA quick_check");
    assert_ne!(quick, "ok", "the register is damaged");
}

/// A register that fails SQLite's own checks is the very case a restore is for (the
/// Database health check says to restore the newest backup): the restore goes on,
/// keeps the damaged register aside as it was (it cannot be a verified backup), says
/// so, and the register is the backup's again. When the damage stops even counting the
/// rows, the preview says so instead of refusing.
#[test]
fn a_damaged_register_is_restored_over_and_kept_aside_as_it_was() {
    for page_type_too in [false, true] {
        let (cli, _dest, archive) = small_site_with_backup();
        let before = value::<i64>(&cli.db(), "SELECT count(*) FROM persons");
        damage_key_log(&cli, page_type_too);
        let what = format!("restore over a damaged register (page type too: {page_type_too})");
        let out = cli.run(&["backup", "restore", s(&archive), "--force"]);
        assert_success(&out, &what);
        let said = stdout(&out);
        assert!(said.contains("failed SQLite's checks"), "{what}: {said}");
        if page_type_too {
            assert!(said.contains("cannot be read whole"), "{what}: {said}");
        }

        // The register is the backup's again, and sound.
        let conn = cli.db();
        let quick: String = value(&conn, "PRAGMA quick_check");
        assert_eq!(quick, "ok", "{what}");
        let persons: i64 = value(&conn, "SELECT count(*) FROM persons");
        assert_eq!(
            persons,
            before - 1,
            "{what}: the person added after the backup is gone"
        );
        let after: String = value(
            &conn,
            "SELECT after FROM audit_log WHERE operation = 'restore_backup' ORDER BY id DESC LIMIT 1",
        );
        let after: serde_json::Value = serde_json::from_str(&after).unwrap();
        assert!(
            after["safety_backup_damaged"].is_string(),
            "{what}: {after}"
        );
        drop(conn);

        // The damaged register, kept as it was: no archive, and still damaged.
        let kept: Vec<PathBuf> = std::fs::read_dir(cli.data_dir().join("safety-backups"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(kept.len(), 1, "{what}: {kept:?}");
        let name = kept[0].file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with("-damaged.sqlite"), "{what}: {name}");
        assert_eq!(after["safety_backup"], kept[0].to_str().unwrap(), "{what}");
        assert!(said.contains(name), "{what}: {said}");
        let quick: String = value(&open_raw(&kept[0]), "PRAGMA quick_check");
        assert_ne!(quick, "ok", "{what}: the kept copy is the damaged register");
        let persons: i64 = value(&open_raw(&kept[0]), "SELECT count(*) FROM persons");
        assert_eq!(
            persons, before,
            "{what}: the kept copy has the newer person"
        );
    }
}

/// A register so damaged that SQLite cannot open it: every command says so and how to
/// mend it; `backup restore` (after a preview, with --force, without --as) keeps the
/// damaged file aside byte for byte and puts the backup's database in its place, with the
/// restore on record; then the register works again.
#[test]
fn a_register_that_cannot_be_opened_is_restored_over_and_kept_aside_byte_for_byte() {
    let (cli, _dest, archive) = small_site_with_backup();
    let before = value::<i64>(&cli.db(), "SELECT count(*) FROM persons");
    let damaged = damage_schema(&cli);
    // What a restore builds beside the register, left behind.
    let leftovers = || -> Vec<String> {
        std::fs::read_dir(cli.db_path().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("restoring"))
            .collect()
    };
    let unchanged = |what: &str| {
        assert!(
            std::fs::read(cli.db_path()).unwrap() == damaged,
            "{what}: the damaged register was left as it was"
        );
        assert!(
            !cli.data_dir().join("safety-backups").exists(),
            "{what}: nothing was kept aside yet"
        );
    };

    // Every command says what is wrong and how to mend it.
    let out = cli.run(&["key", "list"]);
    let line = assert_fails(&out, 1);
    assert!(
        line.contains("is damaged and cannot be opened")
            && line.contains("backup restore")
            && line.contains(cli.db_path().to_str().unwrap()),
        "{line}"
    );
    unchanged("a command on the damaged register");

    // The preview: the backup's counts, and the warning that asks for --force.
    let out = cli.run(&["--json", "backup", "restore", s(&archive), "--dry-run"]);
    assert_success(&out, "a dry run over the damaged register");
    let preview: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(preview["applied"], false);
    assert_eq!(
        preview["warning_codes"][0]["code"], "damaged_register",
        "{preview}"
    );
    assert_eq!(preview["counts_backup"]["persons"], before - 1, "{preview}");
    unchanged("the dry run");
    let out = cli.run(&["backup", "restore", s(&archive)]);
    let line = assert_fails(&out, 3);
    assert!(line.contains("--force"), "{line}");
    unchanged("a restore without --force");
    let out = cli.run(&["--as", "root", "backup", "restore", s(&archive), "--force"]);
    let line = assert_fails(&out, 3);
    assert!(line.contains("without --as"), "{line}");
    unchanged("a restore with --as");
    // Where the damaged file would be kept is not a folder: refused once the backup's
    // register is built, which goes again; the damaged register is as it was.
    let blocker = cli.data_dir().join("safety-backups");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let out = cli.run(&["backup", "restore", s(&archive), "--force"]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("safety-backups"), "{line}");
    assert!(
        std::fs::read(cli.db_path()).unwrap() == damaged,
        "a failed restore left the damaged register as it was"
    );
    assert_eq!(leftovers(), Vec::<String>::new());
    std::fs::remove_file(&blocker).unwrap();

    let out = cli.run(&["backup", "restore", s(&archive), "--force"]);
    assert_success(&out, "the restore over the damaged register");
    let said = stdout(&out);

    // The damaged register, kept aside byte for byte.
    let kept: Vec<PathBuf> = std::fs::read_dir(cli.data_dir().join("safety-backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let name = kept[0].file_name().unwrap().to_str().unwrap();
    assert!(name.ends_with("-pinned-damaged.sqlite"), "{name}");
    assert!(said.contains(name), "{said}");
    assert!(
        std::fs::read(&kept[0]).unwrap() == damaged,
        "the kept copy is the damaged file as it was"
    );
    assert_eq!(leftovers(), Vec::<String>::new());

    // The register is the backup's, sound, with the restore on record.
    let conn = cli.db();
    assert_eq!(value::<String>(&conn, "PRAGMA integrity_check"), "ok");
    assert_eq!(
        value::<i64>(&conn, "SELECT count(*) FROM persons"),
        before - 1,
        "the person added after the backup is gone with the damage"
    );
    let (actor, after): (String, String) = conn
        .query_row(
            "SELECT actor, after FROM audit_log WHERE operation = 'restore_backup' ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(actor.starts_with("cli:"), "{actor}");
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(after["safety_backup"], kept[0].to_str().unwrap(), "{after}");
    assert!(
        after["safety_backup_damaged"]
            .as_str()
            .is_some_and(|r| r.contains("malformed")),
        "{after}"
    );
    drop(conn);
    let journal = std::fs::read_to_string(cli.data_dir().join("operations-journal.jsonl")).unwrap();
    assert!(
        journal
            .lines()
            .last()
            .is_some_and(|l| l.contains("restore_backup") && l.contains(name)),
        "{journal}"
    );
    // And it works again: the trail verifies, and a command runs.
    assert_success(
        &cli.run(&["audit", "verify"]),
        "audit verify after the restore",
    );
    cli.run_ok(&["key", "list"]);
}

/// With no backup to restore, a register too damaged to open can be started anew: the
/// damaged file is kept aside byte for byte, the new register is empty (first-run setup
/// again) and its trail begins with a `start_over` row that the journal names, so
/// `audit verify` takes it as where this trail begins instead of calling the older
/// journal lines (the old trail's) tampering. A register that opens is refused.
#[test]
fn a_register_that_cannot_be_opened_can_be_started_anew_and_its_trail_verifies() {
    use atslegas_core::backup::restore;
    let healthy = Cli::demo(10, 5, 20);
    let before = fingerprint_file(&healthy.db_path());
    let refused = restore::start_over_damaged(&healthy.locations(), &admin(), 1_800_000_000)
        .expect_err("a register that opens is not replaced");
    assert!(refused.message().contains("opens"), "{refused}");
    assert_eq!(fingerprint_file(&healthy.db_path()), before);
    assert!(!healthy.data_dir().join("safety-backups").exists());

    let (cli, _dest, _archive) = small_site_with_backup();
    let damaged = damage_schema(&cli);
    let kept = restore::start_over_damaged(&cli.locations(), &admin(), 1_800_000_000).unwrap();
    assert!(
        std::fs::read(&kept).unwrap() == damaged,
        "the kept copy is the damaged file as it was"
    );
    assert!(!cli.db_path().with_extension("db.restoring").exists());
    let conn = cli.db();
    assert_eq!(value::<String>(&conn, "PRAGMA integrity_check"), "ok");
    assert_eq!(audit_operations(&conn), ["start_over"]);
    let after: serde_json::Value =
        serde_json::from_str(&value::<String>(&conn, "SELECT after FROM audit_log")).unwrap();
    assert_eq!(after["safety_backup"], kept.to_str().unwrap(), "{after}");
    drop(conn);
    let lines = journal(cli.data_dir());
    let last = lines.last().unwrap();
    assert_eq!(last["operation"], "start_over", "{last}");
    assert!(last["detail"]["audit_tip"].is_object(), "{last}");

    // First-run setup again, then the trail verifies from where it began.
    let status = stdout(&cli.run_ok(&["status"]));
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Set up:") && l.contains("no: run")),
        "{status}"
    );
    cli.run_stdin(
        &["init", "--root-password-stdin"],
        &format!("{ROOT_PASSWORD}\n"),
    );
    let out = cli.run(&["audit", "verify"]);
    assert_success(&out, "audit verify of the new register");
}

/// A copy of `archive` at `bad` whose users table holds one name twice, as a crafted
/// file would: two users are renamed `twin-user-A` and `twin-user-B`, then in the
/// table's page only the one name is overwritten with the other. With `index_too`, the
/// same byte is changed in the users' UNIQUE index as well, so the index agrees with the
/// table and holds the name twice. Either way the file passes SQLite's quick check.
fn twin_users_archive(archive: &Path, work: &Path, bad: &Path, index_too: bool) {
    let (db_path, conn) = archive_db(archive, None, work);
    let ids: Vec<i64> = column(&conn, "SELECT id FROM users ORDER BY id LIMIT 2");
    assert_eq!(ids.len(), 2, "the demo has two users");
    for (id, name) in ids.iter().zip(["twin-user-A", "twin-user-B"]) {
        conn.execute("UPDATE users SET username = ?1 WHERE id = ?2", (name, id))
            .unwrap();
    }
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    let root_of = |name: &str| -> i64 {
        value(
            &conn,
            &format!("SELECT rootpage FROM sqlite_schema WHERE name = '{name}'"),
        )
    };
    let mut roots = vec![root_of("users")];
    if index_too {
        roots.push(root_of("sqlite_autoindex_users_1"));
    }
    let page_size: i64 = value(&conn, "PRAGMA page_size");
    drop(conn);
    let mut db = std::fs::read(&db_path).unwrap();
    std::fs::remove_file(&db_path).unwrap();
    for root in roots {
        let page = ((root - 1) * page_size) as usize..(root * page_size) as usize;
        let at = db[page.clone()]
            .windows(11)
            .position(|w| w == b"twin-user-B")
            .expect("the users table and its index hold their rows in their root pages");
        db[page.start + at + 10] = b'A';
    }
    let check = work.join("check.db");
    std::fs::write(&check, &db).unwrap();
    let quick: String = value(&open_raw(&check), "PRAGMA quick_check");
    assert_eq!(quick, "ok", "the doctored file passes the quick check");
    write_crafted(bad, archive, &db);
}

/// A restore copies most tables record by record (SQLite's transfer), but the UNIQUE
/// rules are checked on the rows, never taken from the backup's indexes, which
/// `quick_check` does not compare with their tables. A backup whose users table holds one
/// name twice, its index edited to look right, is refused by the restore as a changed
/// file; the safety backup made meanwhile is removed and nothing changes.
#[test]
fn a_backup_with_a_name_twice_behind_a_doctored_index_is_refused_and_changes_nothing() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let work = tempfile::tempdir().unwrap();
    let bad = work.path().join("atslegas-twin-users.zip");
    twin_users_archive(&archive, work.path(), &bad, false);
    let (code, line) = assert_refused(
        &cli.run(&["backup", "restore", s(&bad), "--force"]),
        "restore",
    );
    assert_eq!(code, 3, "{line}");
    assert!(
        line.contains("UNIQUE") && line.contains("users.username"),
        "{line}"
    );
    assert!(line.contains("changed outside Atslegas"), "{line}");
    untouched.assert_unchanged(&cli, "restore of twin users");
    assert!(!cli.data_dir().join("safety-backups").exists());
}

/// `backup verify` (and the window's restore preview, which runs the same check) says
/// what a restore would: a backup whose rows break a UNIQUE rule is not called intact,
/// whether its index was left as it was (it then disagrees with the table) or edited to
/// hold the name twice. Both are refused naming the rule, before anything is built.
#[test]
fn verify_refuses_a_backup_whose_rows_break_a_unique_rule_as_the_restore_would() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    for index_too in [false, true] {
        let work = tempfile::tempdir().unwrap();
        let bad = work.path().join("atslegas-twin-users.zip");
        twin_users_archive(&archive, work.path(), &bad, index_too);
        for args in [
            &["backup", "verify", s(&bad)][..],
            &["backup", "restore", s(&bad), "--force"],
        ] {
            let what = format!("{} (index edited too: {index_too})", args[1]);
            let (code, line) = assert_refused(&cli.run(args), &what);
            assert_eq!(code, 3, "{what}: {line}");
            assert!(
                line.contains("UNIQUE users.username") && line.contains("changed outside Atslegas"),
                "{what}: {line}"
            );
            untouched.assert_unchanged(&cli, &what);
        }
    }
    assert!(!cli.data_dir().join("safety-backups").exists());
    // The backup as it was made still verifies.
    assert_success(
        &cli.run(&["backup", "verify", s(&archive)]),
        "backup verify",
    );
}

/// Issue "[2 of 6] Trust", finding 4: a backup's config.json is data. One that moves the
/// session folder outside the data folder (whose `*.json` files a start would sweep),
/// turns the lock-out off, or allows a million failed sign-ins, with the manifest's
/// hashes made to match, is refused before anything is replaced.
#[test]
fn a_backup_whose_config_leaves_the_data_folder_or_disables_the_lockout_is_refused_and_changes_nothing(
) {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let config_before = std::fs::read(cli.config_path()).unwrap();
    let db = read_entry(&archive, DB_ENTRY, None);
    let original: serde_json::Value =
        serde_json::from_slice(&read_entry(&archive, CONFIG_ENTRY, None)).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let cases = [
        (
            "client_sessions.session_storage_dir",
            "client_sessions",
            "session_storage_dir",
            json!(outside.path().to_str().unwrap()),
        ),
        (
            "security.lockout_seconds",
            "security",
            "lockout_seconds",
            json!(0),
        ),
        (
            "security.max_failed_logins",
            "security",
            "max_failed_logins",
            json!(1_000_000),
        ),
        ("db.db_file", "db", "db_file", json!("../elsewhere.db")),
    ];
    for (key, section, field, value) in cases {
        let mut cfg = original.clone();
        cfg[section][field] = value;
        let cfg_bytes = serde_json::to_vec_pretty(&cfg).unwrap();
        let man = manifest_matching(&archive, CONFIG_ENTRY, &cfg_bytes);
        let bad_dir = tempfile::tempdir().unwrap();
        let bad = bad_dir.path().join("atslegas-crafted-config.zip");
        write_zip(
            &bad,
            &[
                (DB_ENTRY, &db),
                (CONFIG_ENTRY, &cfg_bytes),
                (MANIFEST_ENTRY, &serde_json::to_vec_pretty(&man).unwrap()),
            ],
        );
        let line = assert_fails(&cli.run(&["backup", "restore", s(&bad), "--force"]), 3);
        assert!(line.contains(key), "{key}: {line}");
        untouched.assert_unchanged(&cli, key);
        assert_eq!(
            std::fs::read(cli.config_path()).unwrap(),
            config_before,
            "{key}: config.json changed"
        );
        assert!(
            std::fs::read_dir(outside.path()).unwrap().next().is_none(),
            "{key}: something was written outside the data folder"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 5. Standard tools: sha256sum and 7-Zip

#[test]
fn the_sha256_file_beside_a_backup_passes_sha256sum_and_catches_a_changed_bit() {
    let cli = Cli::demo(50, 20, 200);
    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create(&cli, dest.path(), &[]);
    let name = archive.file_name().unwrap().to_string_lossy().into_owned();
    let check = || {
        Command::new("sha256sum")
            .arg("-c")
            .arg(format!("{name}.sha256"))
            .current_dir(dest.path())
            .output()
            .expect("run sha256sum (coreutils)")
    };
    let out = check();
    assert!(
        out.status.success(),
        "sha256sum -c: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out).trim(), format!("{name}: OK"));

    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&archive, bytes).unwrap();
    let out = check();
    assert!(
        !out.status.success(),
        "sha256sum -c accepted a changed file"
    );
    assert!(stdout(&out).contains("FAILED"), "{}", stdout(&out));
}

/// `7zz` (Debian 12's `7zip` package) or `7z`, from PATH.
fn seven_zip() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["7zz", "7z"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

#[test]
fn an_encrypted_backup_opens_with_7zip_with_the_right_password_only() {
    let seven = seven_zip().unwrap_or_else(|| {
        panic!(
            "neither 7zz nor 7z is installed: install the Debian package `7zip` \
             (apt-get install 7zip; it is in TEST_PKGS of scripts/deps.sh)"
        )
    });
    let cli = Cli::demo(200, 60, 1500);
    let dest = tempfile::tempdir().unwrap();
    let enc = backup_create_encrypted(&cli, dest.path());
    let extract = |password: &str, into: &Path| -> Output {
        Command::new(&seven)
            .arg("x")
            .arg(format!("-p{password}"))
            .arg(format!("-o{}", into.display()))
            .arg("-y")
            .arg(&enc)
            .stdin(Stdio::null())
            .output()
            .expect("run 7-Zip")
    };

    let out_dir = tempfile::tempdir().unwrap();
    let out = extract(PASSPHRASE, out_dir.path());
    assert!(
        out.status.success(),
        "7-Zip could not open the backup ({:?}):\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    let db = out_dir.path().join(DB_ENTRY);
    let conn = open_raw(&db);
    assert_integrity_ok(&conn, "the database 7-Zip extracted");
    assert_eq!(
        fingerprint(&conn),
        fingerprint(&cli.db()),
        "the same data as live"
    );
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.path().join(CONFIG_ENTRY)).unwrap())
            .expect("config.json from 7-Zip is JSON");
    assert_eq!(cfg["site_name"], "Atslegas");
    assert!(out_dir.path().join(MANIFEST_ENTRY).is_file());

    let wrong_dir = tempfile::tempdir().unwrap();
    let out = extract("Nepareiza-Parole-2026-Kaza", wrong_dir.path());
    assert!(
        !out.status.success(),
        "7-Zip opened the backup with a wrong password:\n{}",
        stdout(&out)
    );
}

// ---------------------------------------------------------------------------------------
// 6. Destination problems (tmpfs mounts: root only)

/// The data a failed backup must not touch: the desk's tables and the other tables'
/// sizes (the failure itself adds a `failed` row to `backups`, and its audit row).
fn data_state(cli: &Cli) -> (Fingerprint, Vec<i64>) {
    let conn = cli.db();
    let counts = ["users", "groups", "group_members", "group_keys"]
        .iter()
        .map(|t| count_rows(&conn, t))
        .collect();
    (fingerprint(&conn), counts)
}

#[test]
#[ignore = "needs root: mounts a 1 MiB tmpfs as the backup drive"]
fn a_destination_too_small_for_the_database_is_refused_and_leaves_no_backup_behind() {
    let cli = Cli::demo(1500, 400, 20_000);
    assert!(
        std::fs::metadata(cli.db_path()).unwrap().len() > 1 << 20,
        "the database is bigger than the 1 MiB drive"
    );
    let other = tempfile::tempdir().unwrap();
    let earlier = backup_create(&cli, other.path(), &[]);
    let mounts = tempfile::tempdir().unwrap();
    let usb = mounts.path().join("usb");
    let _mount = Tmpfs::mount(&usb, "size=1M");
    let before = data_state(&cli);

    let out = cli.run(&["backup", "create", "--to", s(&usb)]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("Not enough free space"), "{line}");
    assert!(
        files_under(&usb).is_empty(),
        "left on the drive: {:?}",
        files_under(&usb)
    );
    assert_eq!(data_state(&cli), before, "the live data changed");
    assert_consistent(&cli.db(), "the live database");
    let (status, error) = last_backup_row(&cli);
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("free space"));
    assert_verifies(&cli, &earlier);
}

#[test]
#[ignore = "needs root: mounts a 1 MiB tmpfs as the backup drive"]
fn a_destination_that_cannot_take_another_file_is_refused_as_no_space() {
    let cli = Cli::demo(50, 20, 200);
    let other = tempfile::tempdir().unwrap();
    let earlier = backup_create(&cli, other.path(), &[]);
    let mounts = tempfile::tempdir().unwrap();
    let usb = mounts.path().join("usb");
    // Free blocks but no free inode: the free-space check passes and the write itself
    // fails with ENOSPC, which must still read as "no space".
    let _mount = Tmpfs::mount(&usb, "size=1M,nr_inodes=1");
    let before = data_state(&cli);
    let out = cli.run(&["backup", "create", "--to", s(&usb)]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("Not enough free space"), "{line}");
    assert!(files_under(&usb).is_empty());
    assert_eq!(data_state(&cli), before);
    assert_consistent(&cli.db(), "the live database");
    assert_eq!(last_backup_row(&cli).0, "failed");
    assert_verifies(&cli, &earlier);
}

#[test]
#[ignore = "needs root: mounts a 1 MiB tmpfs as the backup drive"]
fn a_drive_that_runs_out_of_room_while_writing_says_how_much_room_is_needed() {
    let cli = Cli::demo(50, 20, 200);
    let mounts = tempfile::tempdir().unwrap();
    let usb = mounts.path().join("usb");
    let _mount = Tmpfs::mount(&usb, "size=1M,nr_inodes=1");
    let line = assert_fails(&cli.run(&["backup", "create", "--to", s(&usb)]), 1);
    assert!(!line.contains("needs about 0 bytes"), "{line}");
}

#[test]
#[ignore = "needs root: mounts a 1 MiB tmpfs as the backup drive"]
fn a_read_only_destination_is_refused_with_a_clear_error() {
    let cli = Cli::demo(50, 20, 200);
    let mounts = tempfile::tempdir().unwrap();
    let usb = mounts.path().join("usb");
    let _mount = Tmpfs::mount(&usb, "size=1M,ro");
    let before = data_state(&cli);
    let out = cli.run(&["backup", "create", "--to", s(&usb)]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("Read-only file system"), "{line}");
    assert!(
        line.contains(s(&usb)),
        "the message names the place: {line}"
    );
    assert!(files_under(&usb).is_empty());
    assert_eq!(data_state(&cli), before);
    assert_consistent(&cli.db(), "the live database");
    let (status, error) = last_backup_row(&cli);
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("Read-only"));
}

#[test]
fn a_live_database_that_fails_sqlites_checks_is_not_backed_up_and_says_why() {
    let cli = Cli::demo(20, 10, 0);
    // A membership of a person who does not exist, written past the foreign keys the way
    // a damaged file or another program could.
    let conn = open_raw(&cli.db_path());
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO group_members (group_id, person_id)
             VALUES ((SELECT min(id) FROM groups), 999999);",
    )
    .unwrap();
    drop(conn);
    let dest = tempfile::tempdir().unwrap();
    let out = cli.run(&["backup", "create", "--to", s(dest.path())]);
    let (_, line) = assert_refused(&out, "backup of a database with a broken reference");
    assert!(
        line.contains("failed SQLite's checks") && line.contains("broken references"),
        "{line}"
    );
    assert!(final_archives(dest.path()).is_empty());
    let left: Vec<_> = std::fs::read_dir(dest.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}

/// A full, plain, compressed backup by hand to `dest`.
fn plain_backup_to(dest: &Path) -> atslegas_core::backup::BackupRequest {
    atslegas_core::backup::BackupRequest {
        kind: atslegas_core::backup::Kind::Full,
        destination: dest.to_path_buf(),
        site: "Atslegas".into(),
        reason: None,
        passphrase: None,
        aes: zip::AesMode::Aes256,
        dry_run: false,
        pinned: false,
        compress: true,
    }
}

/// The read-back of a backup (its `verify` step, the last 15% of the bar) says how far it
/// has read, rather than sitting on one figure while it reads a large archive.
#[test]
fn a_backups_read_back_reports_how_far_it_has_read() {
    let cli = Cli::demo(300, 80, 3000);
    let dest = tempfile::tempdir().unwrap();
    let mut ts = backup_common::timed::TimedStore::open(&cli);
    let loc = ts.loc.clone();
    let mut seen = Vec::new();
    let cancel = atslegas_core::work::Cancel::new();
    let req = plain_backup_to(dest.path());
    atslegas_core::backup::create(
        &mut ts.store,
        &admin(),
        &loc,
        &req,
        &mut |p| seen.push(p),
        &cancel,
    )
    .unwrap();
    let verify: Vec<f64> = seen
        .iter()
        .filter(|p| p.step == "verify")
        .map(|p| p.done as f64 / p.total.max(1) as f64)
        .collect();
    assert!(verify.windows(2).all(|w| w[0] <= w[1]), "{verify:?}");
    assert_eq!(verify.last(), Some(&1.0), "{verify:?}");
    assert!(verify.iter().any(|f| *f > 0.0 && *f < 1.0), "{seen:?}");
}

#[test]
fn a_backup_cancelled_at_each_step_leaves_no_file_and_the_next_one_works() {
    let cli = Cli::demo(300, 80, 3000);
    let before = fingerprint_file(&cli.db_path());
    let dest = tempfile::tempdir().unwrap();
    let admin = admin();
    for step in ["snapshot", "write"] {
        let mut ts = backup_common::timed::TimedStore::open(&cli);
        let cancel = atslegas_core::work::Cancel::new();
        let req = plain_backup_to(dest.path());
        let loc = ts.loc.clone();
        // The user presses Cancel while the bar shows this step.
        let err = atslegas_core::backup::create(
            &mut ts.store,
            &admin,
            &loc,
            &req,
            &mut |p| {
                if p.step == step {
                    cancel.cancel();
                }
            },
            &cancel,
        )
        .expect_err("a cancelled backup is not done");
        assert_eq!(
            err.code(),
            "cancelled",
            "cancel during {step}: {}",
            err.message()
        );
        let left: Vec<_> = std::fs::read_dir(dest.path()).unwrap().collect();
        assert!(left.is_empty(), "cancel during {step} left {left:?}");
    }
    // The data is as it was; the history says what happened to each attempt.
    let after = fingerprint_file(&cli.db_path());
    assert_eq!(after, before, "cancelled backups changed no data");
    let statuses: Vec<String> = column(&cli.db(), "SELECT status FROM backups ORDER BY id");
    assert_eq!(statuses, ["cancelled", "cancelled"]);
    backup_create(&cli, dest.path(), &[]);
    assert_eq!(final_archives(dest.path()).len(), 1);
}

#[test]
fn a_restored_configuration_keeps_where_this_folder_keeps_its_database_and_sessions() {
    // The backup's configuration names another database file and session folder (both
    // valid, inside the data folder): restoring it here must not make the next start
    // open an empty database beside the restored one.
    let original = Cli::demo(30, 10, 50);
    let mut cfg = original.config();
    cfg["site_name"] = json!("Cita vieta");
    original.write_config(&cfg);
    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create(&original, dest.path(), &[]);
    // The backup's own config.json says the database and sessions are elsewhere (with
    // the manifest's hashes made to match, as a copy from another layout would be).
    let mut cfg_in_backup: serde_json::Value =
        serde_json::from_slice(&read_entry(&archive, CONFIG_ENTRY, None)).unwrap();
    cfg_in_backup["db"]["db_file"] = json!("elsewhere.sqlite");
    cfg_in_backup["client_sessions"]["session_storage_dir"] = json!("other-sessions");
    let cfg_bytes = serde_json::to_vec_pretty(&cfg_in_backup).unwrap();
    let man = manifest_matching(&archive, CONFIG_ENTRY, &cfg_bytes);
    let crafted = dest.path().join("atslegas-other-layout.zip");
    write_zip(
        &crafted,
        &[
            (DB_ENTRY, &read_entry(&archive, DB_ENTRY, None)),
            (CONFIG_ENTRY, &cfg_bytes),
            (MANIFEST_ENTRY, &serde_json::to_vec_pretty(&man).unwrap()),
        ],
    );

    let here = Cli::initialised();
    let before = here.config();
    here.run_ok(&["backup", "restore", s(&crafted), "--force"]);
    let after = here.config();
    assert_eq!(after["site_name"], "Cita vieta", "the rest came back");
    assert_eq!(after["db"], before["db"]);
    assert_eq!(
        after["client_sessions"]["session_storage_dir"],
        before["client_sessions"]["session_storage_dir"]
    );
    assert!(!here.data_dir().join("elsewhere.sqlite").exists());
    // The next start opens the restored register.
    assert_eq!(
        atslegas_tests::count(&here.db(), "persons"),
        atslegas_tests::count(&original.db(), "persons")
    );
}

/// Issue "[2 of 6] Trust", finding 2: archives are authenticated. An unencrypted archive
/// whose manifest claims encryption, an encrypted backup with a plain entry put into it,
/// a plain backup opened with a passphrase: each is refused, with nothing changed; and
/// what the screen and `--json` say of an archive comes from what was checked.
#[test]
fn a_plain_archive_posing_as_encrypted_or_a_plain_entry_in_an_encrypted_one_is_refused() {
    let cli = Cli::demo(60, 20, 200);
    let dest = tempfile::tempdir().unwrap();
    let enc = backup_create_encrypted(&cli, dest.path());
    let plain = backup_create(&cli, dest.path(), &[]);
    let untouched = Untouched::capture(&cli);
    let db = read_entry(&enc, DB_ENTRY, Some(PASSPHRASE));
    let cfg = read_entry(&enc, CONFIG_ENTRY, Some(PASSPHRASE));
    let man: serde_json::Value =
        serde_json::from_slice(&read_entry(&enc, MANIFEST_ENTRY, Some(PASSPHRASE))).unwrap();
    let man_bytes = serde_json::to_vec_pretty(&man).unwrap();
    let crafted_dir = tempfile::tempdir().unwrap();

    // 1. Everything decrypted and written back plain, the manifest still saying
    //    "encrypted": true (the tester's file). Any passphrase used to open it.
    let posing = crafted_dir.path().join("atslegas-posing.zip");
    write_zip(
        &posing,
        &[
            (DB_ENTRY, &db),
            (CONFIG_ENTRY, &cfg),
            (MANIFEST_ENTRY, &man_bytes),
        ],
    );
    for args in [
        &["backup", "verify", s(&posing)][..],
        &["backup", "restore", s(&posing), "--force"],
    ] {
        let out = cli.run_env(args, &[(PASSPHRASE_ENV, "any passphrase at all 1")], None);
        let line = assert_fails(&out, 3);
        assert!(
            line.contains("manifest.json") && line.contains("altered"),
            "{}: {line}",
            args[1]
        );
        let out = cli.run(args);
        let line = assert_fails(&out, 3);
        assert!(
            line.contains("altered"),
            "{} without passphrase: {line}",
            args[1]
        );
    }
    untouched.assert_unchanged(&cli, "a plain archive posing as encrypted");

    // 2. The encrypted backup with its database swapped for a plain one (the manifest
    //    and config still encrypted, the hashes made to match).
    let mut swapped_man = man.clone();
    for e in swapped_man["entries"].as_array_mut().unwrap() {
        if e["name"] == DB_ENTRY {
            use sha2::{Digest, Sha256};
            e["sha256"] = json!(hex::encode(Sha256::digest(&db)));
        }
    }
    let swapped = crafted_dir.path().join("atslegas-swapped.zip");
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::fs::File::create(&swapped).unwrap());
        let plain_opts = zip::write::SimpleFileOptions::default();
        let sealed_opts = plain_opts.with_aes_encryption(zip::AesMode::Aes256, PASSPHRASE);
        w.start_file(DB_ENTRY, plain_opts).unwrap();
        w.write_all(&db).unwrap();
        w.start_file(CONFIG_ENTRY, sealed_opts).unwrap();
        w.write_all(&cfg).unwrap();
        w.start_file(MANIFEST_ENTRY, sealed_opts).unwrap();
        w.write_all(&serde_json::to_vec_pretty(&swapped_man).unwrap())
            .unwrap();
        w.finish().unwrap();
    }
    for args in [
        &["backup", "verify", s(&swapped)][..],
        &["backup", "restore", s(&swapped), "--force"],
    ] {
        let out = cli.run_env(args, &[(PASSPHRASE_ENV, PASSPHRASE)], None);
        let line = assert_fails(&out, 3);
        assert!(
            line.contains("database.db") && line.contains("not encrypted"),
            "{}: {line}",
            args[1]
        );
    }
    untouched.assert_unchanged(&cli, "a plain entry in an encrypted backup");

    // 3. A plain backup opened with a passphrase: refused, naming the passphrase; and
    //    without one it verifies (it is a good backup, just not an encrypted one).
    let out = cli.run_env(
        &["backup", "restore", s(&plain), "--force"],
        &[(PASSPHRASE_ENV, PASSPHRASE)],
        None,
    );
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("not encrypted") && line.contains("passphrase"),
        "{line}"
    );
    untouched.assert_unchanged(&cli, "a plain backup with a passphrase");
    assert_verifies(&cli, &plain);

    // 4. What is reported comes from the check: the encrypted one is encrypted, the
    //    plain one is not; a listing of the drive cannot read the encrypted one's
    //    manifest at all (it is sealed), and says so rather than guess.
    let out = cli.run_env(
        &["--json", "backup", "verify", s(&enc)],
        &[(PASSPHRASE_ENV, PASSPHRASE)],
        None,
    );
    assert_success(&out, "verify the encrypted backup");
    assert_eq!(
        atslegas_tests::parse_json(&out)["encrypted"],
        true,
        "{}",
        stdout(&out)
    );
    let out = cli.run_ok(&["--json", "backup", "verify", s(&plain)]);
    assert_eq!(
        atslegas_tests::parse_json(&out)["encrypted"],
        false,
        "{}",
        stdout(&out)
    );
    let listed =
        atslegas_tests::parse_json(&cli.run(&["--json", "backup", "list", s(dest.path())]));
    let by_name = |p: &Path| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"].as_str() == Some(s(p)))
            .cloned()
            .unwrap_or_else(|| panic!("{} not listed: {listed}", p.display()))
    };
    let e = by_name(&enc);
    assert_eq!(e["manifest"], serde_json::Value::Null, "{e}");
    assert_eq!(
        (e["encrypted"].clone(), e["kind"].clone()),
        (json!(true), json!("full")),
        "{e}"
    );
    assert!(e["created_at"].as_i64().unwrap() > 0, "{e}");
    let p = by_name(&plain);
    assert_eq!(p["encrypted"], false, "{p}");
    assert_eq!(p["manifest"]["encrypted"], false, "{p}");
}

/// Issue "[2 of 6] Trust", finding 3: a backup's manifest names the tip of the trail it
/// holds (an anchor for `audit verify --against`). A manifest naming another row, or
/// none, is refused: the anchor and the trail inside must agree.
#[test]
fn a_manifest_whose_audit_tip_is_not_the_trail_inside_is_refused() {
    let (cli, _dest, archive) = small_site_with_backup();
    let untouched = Untouched::capture(&cli);
    let db = read_entry(&archive, DB_ENTRY, None);
    let cfg = read_entry(&archive, CONFIG_ENTRY, None);
    let original = manifest(&archive);
    assert!(
        original["audit_tip"]["id"].as_i64().unwrap() > 0,
        "{original}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut other_row = original.clone();
    other_row["audit_tip"]["id"] = json!(original["audit_tip"]["id"].as_i64().unwrap() - 1);
    let mut other_hash = original.clone();
    other_hash["audit_tip"]["hash"] = json!("0".repeat(64));
    let mut none = original.clone();
    none.as_object_mut().unwrap().remove("audit_tip");
    for (what, man) in [
        ("another row", other_row),
        ("another hash", other_hash),
        ("no tip", none),
    ] {
        let bad = dir
            .path()
            .join(format!("atslegas-{}.zip", what.replace(' ', "-")));
        write_zip(
            &bad,
            &[
                (DB_ENTRY, &db),
                (CONFIG_ENTRY, &cfg),
                (MANIFEST_ENTRY, &serde_json::to_vec_pretty(&man).unwrap()),
            ],
        );
        for args in [
            &["backup", "verify", s(&bad)][..],
            &["backup", "restore", s(&bad), "--force"],
        ] {
            let line = assert_fails(&cli.run(args), 3);
            assert!(line.contains("audit trail"), "{what}, {}: {line}", args[1]);
        }
        untouched.assert_unchanged(&cli, what);
    }
}
