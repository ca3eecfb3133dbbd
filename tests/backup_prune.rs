//! Retention and known drives on real files (SPEC §5, issue 4): backups made at chosen
//! times through the core's clock seam, pruned by the core and by the real
//! `atslegas-cli backup prune`; damaged and unverified archives, pinned backups and the
//! newest verified one never deleted; `--dry-run` deleting nothing; deletions in the
//! audit log and the operations journal; and a backup drive found again by its marker
//! after it moved to another path (a folder moved, and a real loop-mounted volume
//! mounted elsewhere, root only).
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use atslegas_core::backup::drives;
use atslegas_core::backup::retention::{self, Reason, Rules};
use atslegas_core::backup::Kind;
use atslegas_core::config::BackupConfig;
use atslegas_core::Actor;
use atslegas_tests::{admin, assert_fails, column, last_audit, value, viewer, Cli};
use backup_common::timed::*;
use backup_common::{flipped_copy, journal, s, sidecar};

fn rules(last: u32, daily: u32, weekly: u32, monthly: u32) -> Rules {
    Rules::new(last, daily, weekly, monthly)
}

fn set(files: &[&PathBuf]) -> BTreeSet<String> {
    files.iter().map(|f| name(f)).collect()
}

/// The archives left in `dir`, asserting each still has its `.sha256` (and no sidecar is
/// left without its archive).
fn archives_left(dir: &Path) -> BTreeSet<String> {
    let names = names_in(dir);
    let zips: BTreeSet<String> = names
        .iter()
        .filter(|n| n.ends_with(".zip"))
        .cloned()
        .collect();
    for n in names.iter().filter(|n| n.ends_with(".sha256")) {
        assert!(
            zips.contains(n.trim_end_matches(".sha256")),
            "{n} was left without its archive"
        );
    }
    zips
}

fn prune_rows(cli: &Cli) -> i64 {
    value(
        &cli.db(),
        "SELECT count(*) FROM audit_log WHERE operation = 'prune'",
    )
}

fn journal_prunes(cli: &Cli) -> Vec<serde_json::Value> {
    journal(cli.data_dir())
        .into_iter()
        .filter(|l| l["operation"] == "prune")
        .collect()
}

/// A set-up register, an empty backup folder, and the core on the register with a clock
/// the test sets.
fn timed_register() -> (Cli, tempfile::TempDir, TimedStore) {
    let cli = Cli::initialised();
    let ts = TimedStore::open(&cli);
    (cli, tempfile::tempdir().unwrap(), ts)
}

/// One verified backup into `dest` at noon on each of `days` (days after Monday 5 January).
fn daily(ts: &mut TimedStore, dest: &Path, days: std::ops::Range<i64>) -> Vec<PathBuf> {
    days.map(|d| ts.backup_at(&admin(), dest, MONDAY_NOON + d * DAY, false))
        .collect()
}

/// Prunes `dest` by `rules` as `actor`, for real (not a dry run).
fn prune_as(
    ts: &mut TimedStore,
    actor: &Actor,
    dest: &Path,
    rules: Rules,
) -> atslegas_core::Result<retention::PruneReport> {
    retention::prune(&mut ts.store, actor, &ts.loc, dest, rules, false, None)
}

#[test]
fn retention_keeps_exactly_the_backups_its_rules_name_and_deletes_the_rest_with_their_sha256() {
    let (cli, dest, mut ts) = timed_register();
    let a = admin();
    // A backup every day at noon for 40 days from Monday 5 January, and one more early on
    // the last day (13 February, a Friday).
    let mut by_day: Vec<PathBuf> = daily(&mut ts, dest.path(), 0..40);
    let early_last_day = ts.backup_at(&a, dest.path(), MONDAY_NOON + 39 * DAY - 6 * 3600, false);
    assert_eq!(archives_left(dest.path()).len(), 41);

    let r = prune_as(&mut ts, &a, dest.path(), rules(2, 3, 2, 2)).unwrap();

    // last 2: the two of 13 February; daily 3: 13, 12, 11 February; weekly 2: ISO week 7's
    // newest (13 February) and week 6's (Sunday 8 February, day 34); monthly 2: February's
    // newest and January's (31 January, day 26).
    let expected = set(&[
        &by_day[39],
        &early_last_day,
        &by_day[38],
        &by_day[37],
        &by_day[34],
        &by_day[26],
    ]);
    assert_eq!(archives_left(dest.path()), expected);
    assert_eq!(r.deleted.len(), 35);
    assert!(r.failed.is_empty());
    let reasons = |f: &PathBuf| {
        r.plan
            .keep
            .iter()
            .find(|d| d.backup.file == *f)
            .map(|d| d.kept_because.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        reasons(&by_day[39]),
        [Reason::Last, Reason::Daily, Reason::Weekly, Reason::Monthly]
    );
    assert_eq!(reasons(&early_last_day), [Reason::Last]);
    assert_eq!(reasons(&by_day[34]), [Reason::Weekly]);
    assert_eq!(reasons(&by_day[26]), [Reason::Monthly]);
    for f in by_day.drain(..26) {
        assert!(
            !f.exists() && !sidecar(&f).exists(),
            "{} is gone with its .sha256",
            f.display()
        );
    }

    // One audit row, in the same database, naming every deleted file; and the journal.
    let row = last_audit(&cli.db());
    assert_eq!(row.operation, "prune");
    assert_eq!(row.component, "backup");
    assert_eq!(row.actor, "admin-tester");
    let deleted = row.after.unwrap()["deleted"].as_array().unwrap().len();
    assert_eq!(deleted, 35);
    let j = journal_prunes(&cli);
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["detail"]["deleted"].as_array().unwrap().len(), 35);
    assert_eq!(j[0]["detail"]["audited"], true);

    // The history keeps every row, and the deleted ones say they were deleted.
    let pruned: BTreeSet<String> = column(
        &cli.db(),
        "SELECT file_name FROM backups WHERE pruned_at IS NOT NULL",
    );
    let deleted_names: BTreeSet<String> = r.deleted.iter().map(|f| name(f)).collect();
    assert_eq!(pruned, deleted_names);
    let history = atslegas_core::backup::history::list(&cli.db(), &a, 100, 0).unwrap();
    assert_eq!(history.len(), 41);
    assert_eq!(history.iter().filter(|h| h.pruned_at.is_some()).count(), 35);

    // Applying the same rules again changes nothing and records nothing.
    let again = prune_as(&mut ts, &a, dest.path(), rules(2, 3, 2, 2)).unwrap();
    assert!(again.deleted.is_empty());
    assert_eq!(archives_left(dest.path()), expected);
    assert_eq!(prune_rows(&cli), 1);
}

#[test]
fn pinned_backups_are_always_kept_and_never_push_out_a_regular_one() {
    let (_cli, dest, mut ts) = timed_register();
    let a = admin();
    let old_pinned = ts.backup_at(&a, dest.path(), MONDAY_NOON - 30 * DAY, true);
    let regular: Vec<PathBuf> = daily(&mut ts, dest.path(), 0..3);
    let new_pinned = ts.backup_at(&a, dest.path(), MONDAY_NOON + 5 * DAY, true);
    assert!(name(&new_pinned).contains("-pinned"));

    prune_as(&mut ts, &a, dest.path(), rules(1, 0, 0, 0)).unwrap();
    // keep_last 1 keeps the newest regular backup, not the newer pinned one.
    assert_eq!(
        archives_left(dest.path()),
        set(&[&old_pinned, &regular[2], &new_pinned])
    );
}

#[test]
fn damaged_and_unverified_archives_are_left_alone_and_never_counted_as_kept() {
    let (_cli, dest, mut ts) = timed_register();
    let a = admin();
    let good: Vec<PathBuf> = daily(&mut ts, dest.path(), 0..3);
    // Day 3: a backup whose bytes rotted after it was verified (its .sha256 no longer
    // matches). Day 4: a backup killed before its check ended (no .sha256). Day 5: a
    // truncated archive without a readable manifest.
    let rotted = ts.backup_at(&a, dest.path(), MONDAY_NOON + 3 * DAY, false);
    let len = std::fs::metadata(&rotted).unwrap().len();
    let tmp = rotted.with_extension("tmp");
    flipped_copy(&rotted, &tmp, len / 3, 2);
    std::fs::rename(&tmp, &rotted).unwrap();
    let unchecked = ts.backup_at(&a, dest.path(), MONDAY_NOON + 4 * DAY, false);
    std::fs::remove_file(sidecar(&unchecked)).unwrap();
    let truncated = ts.backup_at(&a, dest.path(), MONDAY_NOON + 5 * DAY, false);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(sidecar(&truncated)).unwrap();

    let r = prune_as(&mut ts, &a, dest.path(), rules(1, 0, 0, 0)).unwrap();
    // The newest *verified* backup is day 2's: it is the one kept. Counting the newer
    // broken ones would have kept a broken one and deleted every good backup.
    assert_eq!(
        archives_left(dest.path()),
        set(&[&good[2], &rotted, &unchecked, &truncated])
    );
    assert_eq!(r.plan.keep.len(), 1);
    assert_eq!(r.plan.keep[0].backup.file, good[2]);
    let problems: Vec<String> = r
        .plan
        .left_alone
        .iter()
        .map(|d| d.backup.problem.clone().unwrap())
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains(".sha256 checksum")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("no .sha256")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("damaged")),
        "{problems:?}"
    );
    assert_eq!(
        set(&r.deleted.iter().collect::<Vec<_>>()),
        set(&[&good[0], &good[1]])
    );
}

#[test]
fn the_newest_verified_backup_survives_however_many_newer_backups_are_broken() {
    let (cli, dest, mut ts) = timed_register();
    let a = admin();
    let only_good = ts.backup_at(&a, dest.path(), MONDAY_NOON, false);
    let mut broken = Vec::new();
    for d in 1..5 {
        let f = ts.backup_at(&a, dest.path(), MONDAY_NOON + d * DAY, false);
        std::fs::remove_file(sidecar(&f)).unwrap();
        broken.push(f);
    }
    for r in [
        rules(1, 0, 0, 0),
        rules(0, 1, 0, 0),
        rules(0, 0, 1, 0),
        rules(0, 0, 0, 1),
    ] {
        let report = prune_as(&mut ts, &a, dest.path(), r).unwrap();
        assert!(
            report.deleted.is_empty(),
            "{r:?} deleted {:?}",
            report.deleted
        );
        assert!(only_good.exists() && sidecar(&only_good).exists());
        assert!(broken.iter().all(|f| f.exists()));
    }
    assert_eq!(prune_rows(&cli), 0, "nothing deleted, nothing audited");
}

#[test]
fn each_kind_of_backup_is_pruned_on_its_own() {
    let (_cli, dest, mut ts) = timed_register();
    let a = admin();
    let full_old = ts.backup_at(&a, dest.path(), MONDAY_NOON, false);
    let full_new = ts.backup_at(&a, dest.path(), MONDAY_NOON + DAY, false);
    let config_only =
        ts.backup_kind_at(&a, dest.path(), MONDAY_NOON + 2 * DAY, false, Kind::Config);
    prune_as(&mut ts, &a, dest.path(), rules(1, 0, 0, 0)).unwrap();
    // A config-only backup does not push out the last full one.
    assert_eq!(archives_left(dest.path()), set(&[&full_new, &config_only]));
    assert!(!full_old.exists());
}

#[test]
fn only_an_admin_may_prune_and_a_refusal_deletes_nothing() {
    let (_cli, dest, mut ts) = timed_register();
    let a = admin();
    for d in 0..3 {
        ts.backup_at(&a, dest.path(), MONDAY_NOON + d * DAY, false);
    }
    let before = names_in(dest.path());
    let e = prune_as(&mut ts, &viewer(), dest.path(), rules(1, 0, 0, 0)).unwrap_err();
    assert_eq!(e.code(), "not_allowed");
    assert_eq!(names_in(dest.path()), before);
}

// ---------------------------------------------------------------------------------------
// The command line

/// Sets the retention rules of `config.json`, which `backup create` and `backup prune`
/// apply when no rule is given.
fn keep_in_config(cli: &Cli, last: u32, daily: u32, weekly: u32, monthly: u32) {
    let mut cfg = cli.config();
    for (key, n) in [
        ("keep_last", last),
        ("keep_daily", daily),
        ("keep_weekly", weekly),
        ("keep_monthly", monthly),
    ] {
        cfg["backup"][key] = n.into();
    }
    cli.write_config(&cfg);
}

/// `backup prune DEST --keep-last N` and `extra` (`--dry-run`, `--json`).
fn prune_keeping_last<'a>(dest: &'a Path, n: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["backup", "prune", s(dest), "--keep-last", n];
    args.extend_from_slice(extra);
    args
}

/// A CLI data folder with five daily backups in a folder of their own; returns the folder
/// and the backups, oldest first.
fn cli_with_backups() -> (Cli, tempfile::TempDir, Vec<PathBuf>) {
    let cli = Cli::initialised();
    let dest = tempfile::tempdir().unwrap();
    let files = daily(&mut TimedStore::open(&cli), dest.path(), 0..5);
    (cli, dest, files)
}

#[test]
fn cli_prune_dry_run_shows_the_plan_and_deletes_nothing() {
    let (cli, dest, files) = cli_with_backups();
    let before = names_in(dest.path());
    let v = cli.json(&prune_keeping_last(dest.path(), "2", &["--dry-run"]));
    assert_eq!(v["dry_run"], true);
    let planned: BTreeSet<String> = v["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| name(Path::new(d["file"].as_str().unwrap())))
        .collect();
    assert_eq!(planned, set(&[&files[0], &files[1], &files[2]]));
    assert_eq!(v["deleted"].as_array().unwrap().len(), 0);
    assert_eq!(names_in(dest.path()), before, "a dry run deleted files");
    assert_eq!(prune_rows(&cli), 0);
    assert!(journal_prunes(&cli).is_empty());

    // The text form lists the plan for a person.
    let out = cli.run_ok(&prune_keeping_last(dest.path(), "2", &["--dry-run"]));
    let text = atslegas_tests::stdout(&out);
    assert!(text.starts_with("Would prune"), "{text}");
    assert_eq!(text.matches("  delete  ").count(), 3, "{text}");
    assert_eq!(names_in(dest.path()), before);
}

#[test]
fn cli_prune_deletes_by_the_rules_given_and_records_it() {
    let (cli, dest, files) = cli_with_backups();
    let v = cli.json(&prune_keeping_last(dest.path(), "2", &[]));
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["rules"]["keep_last"], 2);
    assert_eq!(v["rules"]["keep_daily"], 0, "rules not given are 0");
    assert_eq!(v["deleted"].as_array().unwrap().len(), 3);
    assert_eq!(archives_left(dest.path()), set(&[&files[3], &files[4]]));
    let row = last_audit(&cli.db());
    assert_eq!(
        (row.operation.as_str(), row.actor.as_str()),
        ("prune", "cli:tester")
    );
    assert_eq!(journal_prunes(&cli).len(), 1);
}

#[test]
fn cli_prune_without_rules_applies_the_ones_in_the_settings() {
    let (cli, dest, files) = cli_with_backups();
    keep_in_config(&cli, 1, 2, 0, 0);
    cli.run_ok(&["backup", "prune", s(dest.path()), "--json"]);
    assert_eq!(archives_left(dest.path()), set(&[&files[3], &files[4]]));
}

#[test]
fn cli_prune_refuses_rules_that_keep_nothing_and_deletes_nothing() {
    let (cli, dest, _) = cli_with_backups();
    let before = names_in(dest.path());
    let out = cli.run(&prune_keeping_last(dest.path(), "0", &["--json"]));
    let line = assert_fails(&out, 3);
    assert!(line.contains("keep no backup"), "{line}");
    assert!(
        line.contains("keep last"),
        "the message says how to fix it: {line}"
    );
    assert_eq!(names_in(dest.path()), before);
    assert_eq!(prune_rows(&cli), 0);
}

#[test]
fn cli_prune_of_a_missing_folder_names_it() {
    let cli = Cli::initialised();
    let gone = tempfile::tempdir().unwrap().path().join("not-plugged-in");
    let out = cli.run(&["backup", "prune", s(&gone), "--keep-last", "1"]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("not-plugged-in"), "{line}");
}

// ---------------------------------------------------------------------------------------
// Known drives

#[test]
fn a_known_drive_is_found_by_its_marker_after_its_folder_moved_to_another_path() {
    let root = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(root.path()).unwrap();
    // A "volume" at root/STICK with the backups in STICK/atslegas.
    let volume = root.join("STICK");
    let dest = volume.join("atslegas");
    std::fs::create_dir_all(&dest).unwrap();
    let mut settings = BackupConfig::default();
    let known = drives::remember_on(
        &mut settings,
        &dest,
        MONDAY_NOON,
        std::slice::from_ref(&volume),
    )
    .unwrap();
    assert_eq!(known.folder, "atslegas");
    let marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join(drives::MARKER_FILE)).unwrap()).unwrap();
    assert_eq!(marker["id"], known.id.as_str());
    assert_eq!(
        marker["label"], "STICK/atslegas",
        "the volume's name and the folder"
    );

    // The same volume now appears somewhere else.
    let moved_volume = root.join("elsewhere").join("MOUNTED-AGAIN");
    std::fs::create_dir_all(moved_volume.parent().unwrap()).unwrap();
    std::fs::rename(&volume, &moved_volume).unwrap();
    assert!(
        drives::find_known_on(&settings.known_drives, &[]).is_empty(),
        "not at its last path any more"
    );
    let found = drives::find_known_on(
        &settings.known_drives,
        &[root.join("unrelated"), moved_volume.clone()],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, known.id);
    assert_eq!(found[0].path, moved_volume.join("atslegas"));
    assert!(found[0].moved);

    // A different drive with a marker of its own is not taken for this one.
    let other = root.join("OTHER");
    std::fs::create_dir_all(&other).unwrap();
    let mut other_settings = BackupConfig::default();
    drives::remember_on(&mut other_settings, &other, 1, &[]).unwrap();
    std::fs::remove_dir_all(&moved_volume).unwrap();
    assert!(drives::find_known_on(&settings.known_drives, &[other]).is_empty());
}

/// A real volume (an ext2 image on a loop device) mounted, remembered through the
/// mounted-volume list of the OS, unmounted, and mounted again at another path: the
/// core finds it there.
#[test]
#[ignore = "needs root and mkfs.ext2: mounts a loop volume"]
fn a_known_drive_mounted_at_another_path_is_found_among_the_mounted_volumes() {
    let work = tempfile::tempdir().unwrap();
    let work = std::fs::canonicalize(work.path()).unwrap();
    let image = work.join("stick.img");
    let (m1, m2) = (work.join("media-a"), work.join("media-b"));
    std::fs::create_dir_all(&m1).unwrap();
    std::fs::create_dir_all(&m2).unwrap();
    let ok = |c: &mut Command| c.output().map(|o| o.status.success()).unwrap_or(false);
    let made = ok(Command::new("truncate").args(["-s", "4M"]).arg(&image))
        && ok(Command::new("mkfs.ext2").args(["-q", "-F"]).arg(&image));
    if !made
        || !ok(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&m1))
    {
        panic!(
            "needs root and mkfs.ext2 to mount a loop volume on {}",
            m1.display()
        );
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let dest = m1.join("backups");
    let mut settings = BackupConfig::default();
    let known = {
        let _mounted = Unmount(m1.clone());
        std::fs::create_dir_all(&dest).unwrap();
        assert!(
            drives::mounted_volumes().contains(&m1),
            "the OS lists the mounted volume: {:?}",
            drives::mounted_volumes()
        );
        let k = drives::remember(&mut settings, &dest, MONDAY_NOON).unwrap();
        assert_eq!(
            k.folder, "backups",
            "the folder is remembered within its volume"
        );
        k
    };
    assert!(
        drives::find_known(&admin(), &settings).unwrap().is_empty(),
        "unplugged: not offered"
    );
    assert!(ok(Command::new("mount")
        .args(["-o", "loop"])
        .arg(&image)
        .arg(&m2)));
    let _mounted = Unmount(m2.clone());
    let found = drives::find_known(&admin(), &settings).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, known.id);
    assert_eq!(found[0].path, m2.join("backups"));
    assert!(found[0].moved);
}

/// Issue "[3 of 6] The house", item 2: `atslegas-cli backup create` is the same backup as
/// the window's: it remembers the destination (with one audit row, a backup's own) and
/// applies the retention rules after the verified backup.
#[test]
fn cli_backup_create_remembers_the_destination_and_applies_the_rules_like_the_window() {
    let dest = tempfile::tempdir().unwrap();
    let cli = Cli::initialised();
    keep_in_config(&cli, 1, 0, 0, 0);

    let mut made = Vec::new();
    for i in 0..3 {
        let v = cli.json(&["backup", "create", "--to", s(dest.path())]);
        made.push(PathBuf::from(v["file"].as_str().unwrap()));
        let deleted = v["pruned"]
            .as_array()
            .expect("the rules were applied")
            .len();
        assert_eq!(deleted, usize::from(i > 0), "backup {i}: {v}");
    }
    assert_eq!(archives_left(dest.path()), set(&[&made[2]]));

    let cfg = cli.config();
    let folder = dest.path().canonicalize().unwrap();
    assert_eq!(cfg["backup"]["destinations"][0], s(dest.path()));
    assert_eq!(
        cfg["backup"]["known_drives"].as_array().unwrap().len(),
        1,
        "{cfg}"
    );
    assert_eq!(
        cfg["backup"]["known_drives"][0]["last_path"]
            .as_str()
            .map(PathBuf::from),
        Some(folder)
    );
    // Remembered once, audited once (the later backups changed nothing to remember).
    let remembered: i64 = value(&cli.db(), "SELECT count(*) FROM audit_log WHERE component = 'backup' AND operation = 'remember_destination'");
    assert_eq!(remembered, 1);

    // A dry run remembers and deletes nothing.
    let before = std::fs::read(cli.config_path()).unwrap();
    let other = tempfile::tempdir().unwrap();
    cli.run_ok(&[
        "backup",
        "create",
        "--to",
        s(other.path()),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(std::fs::read(cli.config_path()).unwrap(), before);
}
