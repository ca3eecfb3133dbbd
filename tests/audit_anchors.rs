//! The audit trail anchored off the machine (issue 11, finding 3): `audit verify` checks
//! the live trail against the tips written into the journal, backups and exports, and the
//! key log against the hashes in its audit rows. Tampering is done as someone editing the
//! file would: raw SQL after dropping the schema's triggers, hashes recomputed with the
//! app's own function. Real data folders, the real CLI.
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::path::Path;
use std::process::Output;

use atslegas_core::audit;
use atslegas_tests::{count, parse_json, row, stdout, value, Cli};
use backup_common::{backup_create, s};
use rusqlite::{params, Connection};
use serde_json::Value;

/// Jānis (E-1) and key 101, which he may receive, on a set-up register.
fn register() -> Cli {
    let cli = Cli::initialised();
    cli.json(&["person", "add", "--name", "Jānis Bērziņš", "--code", "E-1"]);
    cli.json(&["key", "add", "101"]);
    cli.json(&["key", "add", "102"]);
    cli.json(&["group", "add", "Staff"]);
    cli.json(&["group", "allow", "Staff", "101", "102"]);
    cli.json(&["group", "member", "Staff", "E-1"]);
    cli
}

fn movements(cli: &Cli) {
    cli.json(&["issue", "101", "--to", "E-1"]);
    cli.json(&["return", "101"]);
    cli.json(&["issue", "102", "--to", "E-1"]);
}

/// `audit verify [args] --json`: the exit code and the report.
fn verify(cli: &Cli, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    all.push("--json");
    let out: Output = cli.run(&all);
    (out.status.code().unwrap_or(-1), parse_json(&out))
}

fn last_id(db: &Connection) -> i64 {
    value(db, "SELECT max(id) FROM audit_log")
}

/// An audit row's hashed columns but its prev_hash, as stored.
type AuditRowText = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// Changes audit row `id`'s actor and recomputes its hash and every later one with the
/// app's own hash function, as a forger would: the chain verifies again by itself.
fn rewrite_and_rehash(db: &Connection, id: i64) {
    db.execute_batch("DROP TRIGGER IF EXISTS audit_log_no_update")
        .unwrap();
    db.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = ?1", [id])
        .unwrap();
    let mut prev: String = db
        .query_row("SELECT prev_hash FROM audit_log WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    let rows: Vec<AuditRowText> = db
        .prepare("SELECT id, at, actor, component, record_id, operation, before, after FROM audit_log WHERE id >= ?1 ORDER BY id")
        .unwrap()
        .query_map([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (rid, at, actor, component, record_id, operation, before, after) in rows {
        let hash = audit::row_hash(
            rid,
            at,
            &actor,
            &component,
            record_id.as_deref(),
            &operation,
            before.as_deref(),
            after.as_deref(),
            &prev,
        );
        db.execute(
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            params![rid, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
}

/// `audit verify --against DRIVE` as a user reads it.
fn verify_text(cli: &Cli, drive: &Path) -> String {
    stdout(&cli.run(&["audit", "verify", "--against", s(drive)]))
}

/// A register with key movements, backed up to a drive (a folder); returns the drive and
/// the id of the newest audit row the backup holds (its manifest's tip).
fn backed_up() -> (Cli, tempfile::TempDir, i64) {
    let cli = register();
    let dest = tempfile::tempdir().unwrap();
    movements(&cli);
    let archive = backup_create(&cli, dest.path(), &[]);
    let tip = backup_common::manifest(&archive)["audit_tip"]["id"]
        .as_i64()
        .expect("the manifest has the tip");
    (cli, dest, tip)
}

fn journal(cli: &Cli) -> std::path::PathBuf {
    cli.data_dir().join("operations-journal.jsonl")
}

#[test]
fn the_trail_after_backups_a_restore_and_an_export_verifies_up_to_the_newest_anchor() {
    let cli = register();
    let dest = tempfile::tempdir().unwrap();
    movements(&cli);
    let first = backup_create(&cli, dest.path(), &[]);
    cli.json(&["return", "102"]);
    backup_create(&cli, dest.path(), &[]);
    let export = dest.path().join("atslegas-export-all.zip");
    cli.json(&["export", "all", "--out", s(&export)]);
    // Back to the first backup: the rows after it leave the live trail, and the anchors
    // written before the restore describe another trail.
    cli.run_ok(&["backup", "restore", s(&first), "--force"]);
    cli.json(&["issue", "101", "--to", "E-1"]);
    let newest = backup_create(&cli, dest.path(), &[]);

    let (code, r) = verify(&cli, &["--against", s(dest.path())]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["ok"], true);
    assert_eq!(r["anchor_problems"], serde_json::json!([]));
    // The newest backup names the tip of its snapshot (before the backup's own row, and
    // the row remembering its folder again, which the restore had taken back).
    let db = cli.db();
    let anchor = &r["anchor"];
    assert_eq!(
        anchor["id"],
        backup_common::manifest(&newest)["audit_tip"]["id"],
        "{r:#}"
    );
    let hash: String = db
        .query_row(
            "SELECT hash FROM audit_log WHERE id = ?1",
            [anchor["id"].as_i64().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(anchor["hash"], hash.as_str());
    // The backups and the export made before the restore are another trail's.
    let before: Vec<&Value> = r["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["reason"] == "before_restore")
        .collect();
    assert!(before.len() >= 2, "{r:#}");
    // Every key-log row is vouched for by its audit row.
    assert_eq!(
        r["key_log"]["covered"].as_i64(),
        Some(count(&db, "key_log")),
        "{r:#}"
    );
    assert_eq!(r["key_log"]["not_covered"], 0);
    let text = verify_text(&cli, dest.path());
    assert!(text.contains("Verified up to row"), "{text}");
}

#[test]
fn a_backup_and_its_journal_line_name_the_same_row_and_the_trail_is_verified_up_to_the_backup() {
    let (cli, dest, tip) = backed_up();
    let (code, r) = verify(&cli, &["--against", s(dest.path())]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(
        r["anchors_checked"], 2,
        "the journal line and the backup: {r:#}"
    );
    // The backup, which can leave the machine, is named rather than its journal line.
    assert_eq!(r["anchor"]["source"], "backup", "{r:#}");
    assert_eq!(r["anchor"]["id"].as_i64(), Some(tip), "{r:#}");
    let text = verify_text(&cli, dest.path());
    assert!(
        text.contains(&format!("Verified up to row {tip} of backup atslegas-")),
        "{text}"
    );
    // With the drive unplugged, the journal line of the same row is the anchor.
    let away = unplug(dest.path());
    let (_, r) = verify(&cli, &[]);
    plug_back(&away, dest.path());
    assert_eq!(r["anchor"]["source"], "journal", "{r:#}");
    assert_eq!(r["anchor"]["id"].as_i64(), Some(tip), "{r:#}");
}

#[test]
fn an_export_carries_the_tip_of_what_it_exported_and_is_an_anchor() {
    let cli = register();
    movements(&cli);
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("everything.zip");
    cli.json(&["export", "all", "--out", s(&export)]);
    let manifest = backup_common::read_entry(&export, "manifest.json", None);
    let m: Value = serde_json::from_slice(&manifest).unwrap();
    // The export's own audit row comes after it.
    assert_eq!(m["audit_tip"]["id"].as_i64(), Some(last_id(&cli.db()) - 1));
    std::fs::remove_file(journal(&cli)).ok();
    let (code, r) = verify(&cli, &["--against", s(&export)]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["anchor"]["source"], "export");
}

#[test]
fn deleting_the_newest_audit_rows_exits_7_naming_the_anchor_they_were_cut_from() {
    let (cli, dest, tip) = backed_up();
    cli.json(&["return", "102"]);
    let db = cli.db();
    let keep = tip - 3;
    db.execute_batch("DROP TRIGGER audit_log_no_delete")
        .unwrap();
    db.execute("DELETE FROM audit_log WHERE id > ?1", [keep])
        .unwrap();
    drop(db);
    // The chain that is left verifies by itself; the journal says it was longer (the
    // backup drive, which says so too, unplugged).
    let away = unplug(dest.path());
    let (code, r) = verify(&cli, &[]);
    plug_back(&away, dest.path());
    assert_eq!(code, 7, "{r:#}");
    assert_eq!(r["problems"], serde_json::json!([]));
    let p = &r["anchor_problems"][0];
    assert_eq!(p["kind"], "rows_removed");
    assert_eq!(p["id"].as_i64(), Some(keep + 1));
    assert_eq!(p["anchor"]["source"], "journal");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("rows after {keep} were removed")),
        "{p}"
    );
    // With the journal gone too, the backup still knows.
    std::fs::remove_file(journal(&cli)).unwrap();
    let (code, r) = verify(&cli, &["--against", s(dest.path())]);
    assert_eq!(code, 7, "{r:#}");
    let p = &r["anchor_problems"][0];
    assert_eq!(p["anchor"]["source"], "backup");
    assert_eq!(p["anchor"]["id"].as_i64(), Some(tip));
    let text = verify_text(&cli, dest.path());
    assert!(text.contains("backup atslegas-"), "{text}");
}

#[test]
fn a_row_edited_and_every_later_hash_recomputed_exits_7_naming_that_row() {
    let (cli, dest, _) = backed_up();
    cli.json(&["return", "102"]);
    let edited = 4;
    rewrite_and_rehash(&cli.db(), edited);
    // The forged chain verifies by itself, and the forger removed the journal too.
    assert!(audit::verify(&cli.db()).unwrap().problems.is_empty());
    std::fs::remove_file(journal(&cli)).unwrap();
    let away = unplug(dest.path());
    let (code, r) = verify(&cli, &[]);
    assert_eq!(code, 0, "no anchor left on the machine: {r:#}");
    plug_back(&away, dest.path());
    // Plugged in, the remembered drive's backup finds it without being named.
    let (code, r) = verify(&cli, &[]);
    assert_eq!(code, 7, "the remembered drive: {r:#}");
    assert_eq!(
        r["anchor_problems"][0]["id"].as_i64(),
        Some(edited),
        "{r:#}"
    );

    let (code, r) = verify(&cli, &["--against", s(dest.path())]);
    assert_eq!(code, 7, "{r:#}");
    assert_eq!(r["ok"], false);
    let p = &r["anchor_problems"][0];
    assert_eq!(p["kind"], "row_differs");
    // The backup's own copy of the trail names the very row.
    assert_eq!(p["id"].as_i64(), Some(edited), "{p}");
    assert_eq!(p["anchor"]["source"], "backup");
}

#[test]
fn a_key_log_row_given_another_holder_exits_7_key_log_edited() {
    let cli = register();
    cli.json(&["person", "add", "--name", "Ļena Šņore", "--code", "E-3"]);
    movements(&cli);
    let db = cli.db();
    let (kl_id, audit_id): (i64, i64) = row(&db, "SELECT json_extract(after, '$.key_log_id'), id FROM audit_log WHERE operation = 'issue' ORDER BY id LIMIT 1");
    db.execute_batch("DROP TRIGGER key_log_no_update").unwrap();
    let other: i64 = value(&db, "SELECT id FROM persons WHERE code = 'E-3'");
    db.execute(
        "UPDATE key_log SET person_id = ?1 WHERE id = ?2",
        [other, kl_id],
    )
    .unwrap();
    drop(db);
    let (code, r) = verify(&cli, &[]);
    assert_eq!(code, 7, "{r:#}");
    let p = &r["problems"][0];
    assert_eq!(p["kind"], "key_log_edited");
    assert_eq!(p["key_log_id"].as_i64(), Some(kl_id));
    assert_eq!(p["id"].as_i64(), Some(audit_id));
    let text = stdout(&cli.run(&["audit", "verify"]));
    assert!(
        text.contains(&format!("key-log row {kl_id}")),
        "the text names the key-log row: {text}"
    );
}

#[test]
fn a_key_log_row_added_or_removed_without_its_audit_row_is_found() {
    let cli = register();
    movements(&cli);
    let db = cli.db();
    let returned: i64 = value(&db, "SELECT max(id) FROM key_log");
    // A return slipped in with plain SQL: the key log says key 102 came back.
    db.execute(
        "INSERT INTO key_log (action, key_id, actor, at) SELECT 'returned', id, 'nobody', unixepoch() + 60 FROM keys WHERE number = '102'",
        [],
    )
    .unwrap();
    let (code, r) = verify(&cli, &[]);
    assert_eq!(code, 7, "{r:#}");
    assert_eq!(r["problems"][0]["kind"], "key_log_unaudited");
    assert_eq!(r["problems"][0]["key_log_id"].as_i64(), Some(returned + 1));
    db.execute_batch("DROP TRIGGER key_log_no_delete").unwrap();
    db.execute("DELETE FROM key_log WHERE id >= ?1", [returned])
        .unwrap();
    let (code, r) = verify(&cli, &[]);
    assert_eq!(code, 7, "{r:#}");
    assert_eq!(r["problems"][0]["kind"], "key_log_missing");
    assert_eq!(r["problems"][0]["key_log_id"].as_i64(), Some(returned));
}

#[test]
fn key_log_rows_without_a_hash_in_their_audit_row_are_counted_not_covered_not_tampering() {
    // A register kept by an older version: its first movements have no audit row naming
    // them (written here with plain SQL); what comes after is covered.
    let cli = register();
    cli.db()
        .execute_batch(
            "INSERT INTO key_log (action, key_id, person_id, actor, at)
               SELECT 'issued', k.id, p.id, 'old-version', 1700000000
                 FROM keys k, persons p WHERE k.number = '101' AND p.code = 'E-1';
             INSERT INTO key_log (action, key_id, person_id, actor, at)
               SELECT 'returned', k.id, p.id, 'old-version', 1700000060
                 FROM keys k, persons p WHERE k.number = '101' AND p.code = 'E-1';",
        )
        .unwrap();
    movements(&cli);
    let (code, r) = verify(&cli, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["key_log"]["not_covered"], 2, "{r:#}");
    assert_eq!(r["key_log"]["covered"], 3, "{r:#}");
}

#[test]
fn an_interrupted_restores_journal_line_is_not_a_false_alarm() {
    let cli = register();
    let dest = tempfile::tempdir().unwrap();
    movements(&cli);
    backup_create(&cli, dest.path(), &[]);
    let db = cli.db();
    let last = last_id(&db);
    // What a restore killed after its journal line and before the swap leaves: a line
    // naming the new trail's tip, which this register never got.
    let line = serde_json::json!({
        "at": 4_000_000_000i64, "at_iso": "2096-10-02T07:06:40Z", "actor": "tester",
        "operation": "restore_backup",
        "detail": {"audit_tip": {"id": last + 1, "hash": "ab".repeat(32)}},
        "audit_tip": {"id": last + 1, "hash": "ab".repeat(32)},
    });
    append(&journal(&cli), &line);
    let away = unplug(dest.path());
    let (code, r) = verify(&cli, &[]);
    plug_back(&away, dest.path());
    assert_eq!(code, 0, "{r:#}");
    assert!(
        r["notes"][0]
            .as_str()
            .unwrap()
            .contains("did not take effect"),
        "{r:#}"
    );
    // The same by code, for the window's languages.
    assert_eq!(
        r["note_codes"],
        serde_json::json!([{"code": "restore_interrupted", "at": 4_000_000_000i64}]),
        "{r:#}"
    );
    // A line before the restore's: the backup's, or the retention check after it.
    assert_eq!(r["anchor"]["source"], "journal", "{r:#}");
    assert_ne!(r["anchor"]["operation"], "restore_backup", "{r:#}");
    // The register goes on: the line before the restore's is still its anchor.
    cli.json(&["return", "102"]);
    let (code, r) = verify(&cli, &["--against", s(dest.path())]);
    assert_eq!(code, 0, "{r:#}");
}

/// A backup drive taken out: its folder moved away (a remembered drive is found only
/// where its marker is).
fn unplug(dir: &Path) -> std::path::PathBuf {
    let away = dir.with_extension("unplugged");
    std::fs::rename(dir, &away).unwrap();
    away
}

fn plug_back(away: &Path, dir: &Path) {
    std::fs::rename(away, dir).unwrap();
}

fn append(path: &Path, line: &Value) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    writeln!(f, "{line}").unwrap();
}

#[test]
fn an_encrypted_backup_is_an_anchor_with_its_passphrase_and_listed_as_not_checked_without() {
    let cli = register();
    let dest = tempfile::tempdir().unwrap();
    movements(&cli);
    let archive = backup_common::backup_create_encrypted(&cli, dest.path());
    std::fs::remove_file(journal(&cli)).unwrap();
    let (code, r) = verify(&cli, &["--against", s(&archive)]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["not_checked"][0]["reason"], "encrypted", "{r:#}");
    assert_eq!(r["anchor"], Value::Null);
    let out = cli.run_stdin(
        &[
            "audit",
            "verify",
            "--against",
            s(&archive),
            "--passphrase-stdin",
            "--json",
        ],
        &format!("{}\n", backup_common::PASSPHRASE),
    );
    let r = parse_json(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert_eq!(r["anchor"]["source"], "backup", "{r:#}");
    assert_eq!(r["not_checked"], serde_json::json!([]));
}
