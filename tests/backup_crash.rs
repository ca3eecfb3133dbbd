//! Crash tests (SPEC §5 "never a half backup", §9): the real `atslegas-cli` making a
//! backup or restoring one is killed with SIGKILL after seeded random delays. Afterwards
//! the live database opens, passes `integrity_check` and holds either the old data or the
//! backup's, every file with a final backup name verifies, and earlier backups still do.
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use atslegas_core::audit;
use atslegas_core::keylog::{self, IssueRequest, PersonRef};
use atslegas_core::keys::{self, KeyInput};
use atslegas_core::persons::{self, PersonInput};
use atslegas_core::store::Security;
use atslegas_core::Store;
use atslegas_tests::{admin, assert_success, last_audit, stderr, Cli};
use backup_common::*;

/// Kills per test: enough to land in every step of a run of about a second.
const ROUNDS: u64 = 15;

/// Starts the CLI with `args`, SIGKILLs it after `delay`; true when the kill stopped it
/// (false when it had already finished).
fn kill_after(cli: &Cli, args: &[&str], delay: Duration) -> bool {
    let mut child = cli
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start atslegas-cli");
    std::thread::sleep(delay);
    let _ = child.kill();
    let status = child.wait().expect("wait for atslegas-cli");
    status.signal() == Some(9)
}

/// A delay in `0..=typical`, from the seeded source.
fn delay(rng: &mut Rng, typical: Duration) -> Duration {
    typical.mul_f64(rng.below(1001) as f64 / 1000.0)
}

/// The live database opens, passes the full integrity check, its keys follow their log
/// and its audit chain verifies; returns its fingerprint.
fn check_live(cli: &Cli, what: &str) -> Fingerprint {
    let conn = cli.db();
    assert_integrity_ok(&conn, what);
    assert_consistent(&conn, what);
    fingerprint(&conn)
}

/// Every file with a final backup name in `dir` verifies (each checked once).
fn assert_final_files_verify(cli: &Cli, dir: &Path, checked: &mut BTreeSet<PathBuf>) {
    if !dir.exists() {
        return;
    }
    for f in final_archives(dir) {
        if checked.insert(f.clone()) {
            assert_verifies(cli, &f);
        }
    }
}

fn partials(dir: &Path) -> usize {
    files_under(dir)
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .count()
}

/// A demo register of a few MB, and one backup of it (in the folder returned with it).
fn register_with_a_backup() -> (Cli, tempfile::TempDir, PathBuf) {
    let cli = Cli::demo(1500, 400, 20_000);
    let dir = tempfile::tempdir().unwrap();
    let backup = backup_create(&cli, dir.path(), &[]);
    (cli, dir, backup)
}

#[test]
fn killing_a_backup_at_any_moment_leaves_the_live_database_intact_and_no_unverifiable_backup() {
    // A backup takes most of a second here, so the kills land in every step (snapshot,
    // writing the .partial, rename, read-back, .sha256, history row).
    let (cli, _earlier_dir, earlier) = register_with_a_backup();
    let scratch = tempfile::tempdir().unwrap();
    let started = Instant::now();
    backup_create(&cli, scratch.path(), &[]);
    let typical = started.elapsed();
    let before = check_live(&cli, "the live database before");

    let dest = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(0x0A75_1E6A_5BAC_0001);
    let mut checked = BTreeSet::new();
    let mut killed = 0;
    for round in 0..ROUNDS {
        let d = delay(&mut rng, typical);
        killed += kill_after(&cli, &["backup", "create", "--to", s(dest.path())], d) as u64;
        let what = format!("round {round}, killed after {d:?}");
        assert_eq!(
            check_live(&cli, &what),
            before,
            "{what}: the live data changed"
        );
        // A .partial may stay behind; a file with a final name must be a whole backup.
        assert_final_files_verify(&cli, dest.path(), &mut checked);
    }
    eprintln!(
        "backup kills: {killed} of {ROUNDS} stopped a running backup (typical run {typical:?}); \
         {} final files verified, {} .partial left",
        checked.len(),
        partials(dest.path())
    );
    assert!(
        killed >= ROUNDS / 3,
        "only {killed} of {ROUNDS} kills hit a running backup: the test proves little"
    );
    assert_verifies(&cli, &earlier);
    cli.run_ok(&["status"]);
}

/// The trail tips that the journal's restore lines name (written before each swap).
fn restore_tips_in_journal(cli: &Cli) -> Vec<audit::Tip> {
    std::fs::read_to_string(cli.data_dir().join("operations-journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["operation"] == "restore_backup")
        .filter_map(|l| serde_json::from_value(l["detail"]["audit_tip"].clone()).ok())
        .collect()
}

#[test]
fn killing_a_restore_at_any_moment_leaves_the_old_or_the_new_database_intact() {
    let (cli, _dir_a, a) = register_with_a_backup();
    let fp_a = fingerprint(&cli.db());

    // State B: more persons and key movements, through the core.
    {
        let mut store = Store::open(&cli.db_path(), Security::default()).unwrap();
        let actor = admin();
        keys::create(&mut store, &actor, &KeyInput::numbered("CRASH-K")).unwrap();
        for i in 0..40 {
            let p = persons::create(
                &mut store,
                &actor,
                &PersonInput::named(&format!("Avārija {i}")),
            )
            .unwrap();
            let req = IssueRequest {
                override_reason: Some("crash test".into()),
                ..Default::default()
            };
            keylog::issue(&mut store, &actor, "CRASH-K", &PersonRef::Id(p.id), &req).unwrap();
            keylog::return_key(&mut store, &actor, "CRASH-K", None).unwrap();
        }
    }
    let fp_b = fingerprint(&cli.db());
    assert_ne!(fp_a, fp_b);
    let dir_b = tempfile::tempdir().unwrap();
    let b = backup_create(&cli, dir_b.path(), &[]);

    // One complete restore (B → A), timed: the kills spread over that long.
    let started = Instant::now();
    let out = cli.run(&["backup", "restore", s(&a), "--force"]);
    let typical = started.elapsed();
    assert_success(&out, "backup restore --force");
    assert_eq!(fingerprint(&cli.db()), fp_a);

    let safety_dir = cli.data_dir().join("safety-backups");
    let mut rng = Rng::new(0x0A75_1E6A_5BAC_0002);
    let mut checked = BTreeSet::new();
    let (mut killed, mut stayed_old, mut became_new) = (0, 0, 0);
    for round in 0..ROUNDS {
        let old = fingerprint(&cli.db());
        // Always restore the other state, so every round is a real change.
        let (target, new) = if old == fp_a {
            (&b, fp_b)
        } else {
            assert_eq!(old, fp_b, "round {round}: the live data is neither A nor B");
            (&a, fp_a)
        };
        let tip_before = audit::tip(&cli.db()).unwrap().expect("a trail");
        // Up to a quarter past the typical run, so some rounds finish and both outcomes
        // (and the moment of the swap, near the end) are reached.
        let d = delay(&mut rng, typical.mul_f64(1.25));
        killed += kill_after(&cli, &["backup", "restore", s(target), "--force"], d) as u64;
        let what = format!("round {round}, restore killed after {d:?}");
        let now = check_live(&cli, &what);
        // Each register has a trail that tells its own story: the new one says it was
        // restored, and the journal line written before the swap names that very row;
        // the old one has no restore row (only, perhaps, its safety backup's row).
        let conn = cli.db();
        let tip = audit::tip(&conn).unwrap().expect("a trail");
        let newest_ops: Vec<String> = conn
            .prepare("SELECT operation FROM audit_log WHERE id > ?1 ORDER BY id")
            .unwrap()
            .query_map([tip_before.id], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        if now == old {
            stayed_old += 1;
            assert!(
                !newest_ops.iter().any(|o| o == "restore_backup"),
                "{what}: the old data, yet its trail has a restore row: {newest_ops:?}"
            );
        } else if now == new {
            became_new += 1;
            assert_eq!(
                last_audit(&conn).operation,
                "restore_backup",
                "{what}: the backup's data without the restore's audit row"
            );
            assert!(
                restore_tips_in_journal(&cli).contains(&tip),
                "{what}: no journal line names the restored trail's tip {tip:?}"
            );
        } else {
            panic!("{what}: the live data is neither the old nor the backup's: {now:?}");
        }
        // The next start opens it (and the configuration) normally.
        cli.run_ok(&["status"]);
        assert_final_files_verify(&cli, &safety_dir, &mut checked);
    }
    eprintln!(
        "restore kills: {killed} of {ROUNDS} stopped a running restore (typical run \
         {typical:?}); {stayed_old} left the old data, {became_new} the backup's; {} safety \
         backups verified",
        checked.len()
    );
    assert!(
        killed >= ROUNDS / 3,
        "only {killed} of {ROUNDS} kills hit a running restore: the test proves little"
    );
    assert_verifies(&cli, &a);
    assert_verifies(&cli, &b);
}

#[test]
fn killing_a_restore_over_a_register_that_cannot_be_opened_leaves_it_as_it_was_or_restored() {
    let (cli, _dir, a) = register_with_a_backup();
    let fp_a = fingerprint(&cli.db());
    // Every damaged register the rounds make, as its bytes: each kept copy is one of them.
    let mut damaged = vec![damage_schema(&cli)];
    let restore = ["backup", "restore", s(&a), "--force"];

    // One complete restore, timed: the kills spread over that long.
    let started = Instant::now();
    let out = cli.run(&restore);
    let typical = started.elapsed();
    assert_success(&out, "backup restore --force over the damaged register");
    assert_eq!(check_live(&cli, "the first restore"), fp_a);

    let safety_dir = cli.data_dir().join("safety-backups");
    let mut rng = Rng::new(0x0A75_1E6A_5BAC_0003);
    let (mut killed, mut stayed_damaged, mut restored) = (0, 0, 0);
    for round in 0..ROUNDS {
        // A register that was restored is damaged again; one a kill left damaged stays so.
        let opens = cli.run(&["status"]).status.success();
        if opens {
            damaged.push(damage_schema(&cli));
        }
        let d = delay(&mut rng, typical.mul_f64(1.25));
        killed += kill_after(&cli, &restore, d) as u64;
        let what = format!("round {round}, restore over the damaged register killed after {d:?}");
        let now = std::fs::read(cli.db_path()).unwrap();
        if &now == damaged.last().unwrap() {
            stayed_damaged += 1;
            let out = cli.run(&["status"]);
            assert!(
                stderr(&out).contains("is damaged and cannot be opened"),
                "{what}: {}",
                stderr(&out)
            );
        } else {
            restored += 1;
            assert_eq!(check_live(&cli, &what), fp_a, "{what}");
            let conn = cli.db();
            assert_eq!(
                last_audit(&conn).operation,
                "restore_backup",
                "{what}: the backup's data without the restore's audit row"
            );
            let tip = audit::tip(&conn).unwrap().expect("a trail");
            assert!(
                restore_tips_in_journal(&cli).contains(&tip),
                "{what}: no journal line names the restored trail's tip {tip:?}"
            );
            cli.run_ok(&["status"]);
        }
        // Every copy kept by its final name is a damaged register whole, byte for byte.
        for kept in files_under(&safety_dir) {
            if kept.to_string_lossy().ends_with("-damaged.sqlite") {
                let bytes = std::fs::read(safety_dir.join(&kept)).unwrap();
                assert!(
                    damaged.contains(&bytes),
                    "{what}: {} is not whole",
                    kept.display()
                );
            }
        }
    }
    eprintln!(
        "restore-over-damaged kills: {killed} of {ROUNDS} stopped a running restore (typical \
         run {typical:?}); {stayed_damaged} left the damaged register, {restored} the backup's"
    );
    assert!(
        killed >= ROUNDS / 3,
        "only {killed} of {ROUNDS} kills hit a running restore: the test proves little"
    );
    // Whatever a kill left, one more restore mends it and leaves nothing half-made behind.
    if !cli.run(&["status"]).status.success() {
        assert_success(&cli.run(&restore), "the last restore");
    }
    assert_eq!(check_live(&cli, "after the rounds"), fp_a);
    let halves: Vec<_> = files_under(cli.data_dir())
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(".restoring"))
        .collect();
    assert!(halves.is_empty(), "{halves:?}");
}

/// Writes `contents` in `dir` as `atslegas-TIME.zip{suffix}` for this second and each of
/// the next four: the names the next backup would take, with `suffix` after them.
fn at_the_next_backup_names(dir: &Path, suffix: &str, contents: &[u8]) -> Vec<PathBuf> {
    let now = chrono::Utc::now().timestamp();
    (0..5)
        .map(|ahead| {
            let at = chrono::DateTime::from_timestamp(now + ahead, 0).unwrap();
            let name = format!("atslegas-{}.zip{suffix}", at.format("%Y%m%d-%H%M%SZ"));
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap();
            path
        })
        .collect()
}

#[test]
fn a_partial_file_left_by_a_killed_backup_does_not_block_the_next_backup() {
    let cli = Cli::demo(50, 20, 200);
    let dest = tempfile::tempdir().unwrap();
    // What a backup killed while writing leaves: NAME.zip.partial, NAME from the second it
    // started. One for each of the next few seconds, as if it had been killed just now.
    at_the_next_backup_names(dest.path(), ".partial", b"half a backup");
    let archive = backup_create(&cli, dest.path(), &[]);
    assert_verifies(&cli, &archive);
}

#[test]
fn a_checksum_file_already_at_the_next_backups_name_is_left_alone() {
    // A `.sha256` without its archive (a copy made by hand, another tool's file) under the
    // name the next backup would take: the backup takes another name, never replaces it.
    let cli = Cli::demo(50, 20, 200);
    let dest = tempfile::tempdir().unwrap();
    let strays = at_the_next_backup_names(dest.path(), ".sha256", b"not Atslegas's\n");
    let archive = backup_create(&cli, dest.path(), &[]);
    assert_verifies(&cli, &archive);
    for p in strays {
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"not Atslegas's\n",
            "{}",
            p.display()
        );
    }
}
