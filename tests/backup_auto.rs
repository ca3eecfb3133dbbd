//! Automatic backups on real files (SPEC §5 "Reminders", issue 4): through the real
//! `atslegas-cli backup auto-set` / `backup auto`, and through the core with its clock
//! seam for the daily rule. They go to the remembered drive or folder only when it is
//! present, only when something changed, are pruned by the rules afterwards, and when
//! encrypted, use a passphrase kept in a private key file beside the database: never in
//! `config.json`, the archive, the audit trail or the journal.
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::path::Path;

use atslegas_core::backup::auto::{self, Outcome, SkipReason, Trigger};
use atslegas_core::backup::drives;
use atslegas_core::config::{AutoMode, Config};
use atslegas_core::work::Cancel;
use atslegas_core::Error;
use atslegas_tests::{admin, assert_success, last_audit, parse_json, stderr, viewer, Cli};
use backup_common::timed::*;
use backup_common::{final_archives, journal, read_entry, s, PASSPHRASE};

/// Automatic backups at exit, encrypted with the passphrase on standard input.
const SET_WITH_PASSPHRASE: &[&str] = &[
    "backup",
    "auto-set",
    "--mode",
    "at_exit",
    "--passphrase-stdin",
];

/// Remembers `dest` as the backup drive, as the window does after a backup there.
fn remember(cli: &Cli, dest: &Path) {
    let mut config = Config::load_or_create(&cli.config_path()).expect("read config.json");
    drives::remember(&mut config.backup, dest, 1).expect("write the drive marker");
    config.save(&cli.config_path()).expect("save config.json");
}

fn auto_json(cli: &Cli, trigger: &str) -> serde_json::Value {
    let out = cli.run_ok(&["backup", "auto", "--trigger", trigger, "--json"]);
    parse_json(&out)
}

fn add_person(cli: &Cli, code: &str) {
    cli.run_ok(&["person", "add", "--name", "Jānis Bērziņš", "--code", code]);
}

#[test]
fn automatic_backups_are_off_until_set_and_then_run_at_exit_only_when_data_changed() {
    let cli = Cli::initialised();
    let dest = tempfile::tempdir().unwrap();
    remember(&cli, dest.path());
    assert_eq!(auto_json(&cli, "exit")["reason"], "not_this_time");

    let set = cli.run(&[
        "backup",
        "auto-set",
        "--mode",
        "at_exit",
        "--no-encrypt",
        "--json",
    ]);
    assert_success(&set, "backup auto-set");
    let set = parse_json(&set);
    assert_eq!(set["mode"], "at_exit");
    assert_eq!(set["encrypt"], false);
    assert_eq!(
        set["destination"],
        s(&std::fs::canonicalize(dest.path()).unwrap())
    );
    // The daily check does nothing in "at exit" mode.
    assert_eq!(auto_json(&cli, "daily")["reason"], "not_this_time");

    let first = auto_json(&cli, "exit");
    assert_eq!(first["outcome"], "done", "{first}");
    assert_eq!(first["report"]["verified"], true);
    assert_eq!(final_archives(dest.path()).len(), 1);
    let audit = last_audit(&cli.db());
    assert_eq!(audit.actor, "app:automatic-backup");
    assert_eq!(
        audit.after.as_ref().map(|a| a["reason"].clone()),
        Some(serde_json::json!("automatic, at exit"))
    );

    // Signing in and out, or the backup itself, is no change: no second archive.
    assert_eq!(auto_json(&cli, "exit")["reason"], "unchanged");
    add_person(&cli, "P-1");
    assert_eq!(auto_json(&cli, "exit")["outcome"], "done");
    assert_eq!(final_archives(dest.path()).len(), 2);
}

#[test]
fn an_automatic_backup_never_goes_anywhere_but_the_remembered_drive() {
    let cli = Cli::initialised();
    cli.run_ok(&["backup", "auto-set", "--mode", "at_exit", "--no-encrypt"]);
    // Nothing remembered yet: nowhere to go.
    assert_eq!(auto_json(&cli, "exit")["reason"], "no_destination");

    let parent = tempfile::tempdir().unwrap();
    let stick = parent.path().join("STICK");
    std::fs::create_dir(&stick).unwrap();
    remember(&cli, &stick);
    // The stick is "unplugged": its folder is gone, and an empty folder at the same
    // path (a mount point left behind) has no marker.
    let away = parent.path().join("elsewhere");
    std::fs::rename(&stick, &away).unwrap();
    std::fs::create_dir(&stick).unwrap();
    assert_eq!(auto_json(&cli, "exit")["reason"], "destination_absent");
    assert!(
        final_archives(&stick).is_empty(),
        "nothing was written to the empty mount point"
    );
    std::fs::remove_dir(&stick).unwrap();

    // Plugged in again.
    std::fs::rename(&away, &stick).unwrap();
    let done = auto_json(&cli, "exit");
    assert_eq!(done["outcome"], "done", "{done}");
    assert_eq!(final_archives(&stick).len(), 1);
}

#[test]
fn an_encrypted_automatic_backup_opens_with_the_passphrase_shown_once_which_is_kept_nowhere_else() {
    let cli = Cli::initialised();
    let dest = tempfile::tempdir().unwrap();
    remember(&cli, dest.path());
    let set = cli.run(&["backup", "auto-set", "--mode", "at_exit", "--json"]);
    assert_success(&set, "auto-set");
    let set = parse_json(&set);
    let pass = set["recovery_passphrase"]
        .as_str()
        .expect("a generated passphrase is shown once")
        .to_string();
    assert_eq!(set["encrypt"], true);

    let key = cli.data_dir().join("automatic-backup.key");
    assert_eq!(std::fs::read_to_string(&key).unwrap().trim(), pass);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o077,
            0
        );
    }
    // Changing the mode keeps the passphrase and shows nothing again.
    let again = parse_json(&cli.run(&["backup", "auto-set", "--mode", "daily", "--json"]));
    assert!(again.get("recovery_passphrase").is_none(), "{again}");
    cli.run_ok(&["backup", "auto-set", "--mode", "at_exit"]);

    let done = auto_json(&cli, "exit");
    assert_eq!(done["report"]["encrypted"], true, "{done}");
    let file = done["report"]["file"].as_str().unwrap().to_string();
    let verify = cli.run_stdin(
        &["backup", "verify", &file, "--passphrase-stdin"],
        &format!("{pass}\n"),
    );
    assert_success(&verify, "backup verify with the shown passphrase");

    // Nowhere else: not in config.json (nor the archive's copy of it), the audit trail,
    // the journal.
    let config_text = std::fs::read_to_string(cli.config_path()).unwrap();
    assert!(!config_text.contains(&pass));
    let archived_config = read_entry(Path::new(&file), "config.json", Some(&pass));
    assert!(!String::from_utf8_lossy(&archived_config).contains(&pass));
    let leaked: i64 = cli
        .db()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE instr(coalesce(before,'') || coalesce(after,''), ?1) > 0",
            [&pass],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0);
    assert!(!serde_json::to_string(&journal(cli.data_dir()))
        .unwrap()
        .contains(&pass));

    // A chosen passphrase replaces it; a weak one is refused and changes nothing.
    let weak = cli.run_stdin(SET_WITH_PASSPHRASE, "short\n");
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("16 characters"), "{}", stderr(&weak));
    assert_eq!(std::fs::read_to_string(&key).unwrap().trim(), pass);
    assert_success(
        &cli.run_stdin(SET_WITH_PASSPHRASE, &format!("{PASSPHRASE}\n")),
        "auto-set with a chosen passphrase",
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap().trim(), PASSPHRASE);

    // Turning encryption off deletes the key file.
    cli.run_ok(&["backup", "auto-set", "--mode", "at_exit", "--no-encrypt"]);
    assert!(!key.exists());
}

#[test]
fn encryption_without_its_passphrase_on_this_computer_is_a_clear_error_not_a_plain_backup() {
    let cli = Cli::initialised();
    let dest = tempfile::tempdir().unwrap();
    remember(&cli, dest.path());
    cli.run_ok(&["backup", "auto-set", "--mode", "at_exit"]);
    // As after restoring the settings on another computer.
    std::fs::remove_file(cli.data_dir().join("automatic-backup.key")).unwrap();
    let out = cli.run(&["backup", "auto", "--trigger", "exit"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no passphrase") && err.contains("Automatic backups"),
        "{err}"
    );
    assert!(final_archives(dest.path()).is_empty());
}

#[test]
fn the_daily_backup_runs_once_a_day_when_something_changed_and_prunes_by_the_rules() {
    let cli = Cli::initialised();
    let dest = tempfile::tempdir().unwrap();
    remember(&cli, dest.path());
    let mut ts = TimedStore::open(&cli);
    let config = Config::load_or_create(&cli.config_path()).unwrap();
    let (mut config, shown) = auto::configure(
        &mut ts.store,
        &admin(),
        &ts.loc,
        &config,
        AutoMode::Daily,
        false,
        None,
    )
    .unwrap();
    assert!(shown.is_none(), "nothing to show without encryption");
    config.backup.keep_last = 2;
    config.backup.keep_daily = 0;
    config.backup.keep_weekly = 0;
    config.backup.keep_monthly = 0;

    let daily = |ts: &mut TimedStore, at: i64| {
        ts.set_now(at);
        auto::run(
            &mut ts.store,
            &ts.loc,
            &config,
            Trigger::Daily,
            &mut |_| {},
            &Cancel::new(),
        )
        .unwrap()
    };
    let change = |ts: &mut TimedStore, n: i64| {
        let input = atslegas_core::persons::PersonInput {
            full_name: format!("Persona {n}"),
            code: Some(format!("D-{n}")),
            department: None,
            phone: None,
            email: None,
            badge: None,
            notes: None,
            active: true,
        };
        atslegas_core::persons::create(&mut ts.store, &admin(), &input).unwrap();
    };
    assert!(matches!(daily(&mut ts, MONDAY_NOON), Outcome::Done { .. }));
    change(&mut ts, 1);
    // Twelve hours later: changed, but a backup less than a day old is recent enough.
    assert!(matches!(
        daily(&mut ts, MONDAY_NOON + DAY / 2),
        Outcome::Skipped {
            reason: SkipReason::Recent
        }
    ));
    assert!(matches!(
        daily(&mut ts, MONDAY_NOON + DAY + 60),
        Outcome::Done { .. }
    ));
    // A day on without a change: nothing to back up.
    assert!(matches!(
        daily(&mut ts, MONDAY_NOON + 2 * DAY + 120),
        Outcome::Skipped {
            reason: SkipReason::Unchanged
        }
    ));
    change(&mut ts, 2);
    let Outcome::Done { pruned, .. } = daily(&mut ts, MONDAY_NOON + 3 * DAY) else {
        panic!("the third day's backup was not made");
    };
    assert_eq!(pruned.expect("pruned after the backup").deleted.len(), 1);
    assert_eq!(final_archives(dest.path()).len(), 2, "keep_last 2");
}

#[test]
fn only_an_admin_sets_automatic_backups_and_a_bad_mode_is_named() {
    let cli = Cli::initialised();
    let mut ts = TimedStore::open(&cli);
    let config = Config::load_or_create(&cli.config_path()).unwrap();
    let e = auto::configure(
        &mut ts.store,
        &viewer(),
        &ts.loc,
        &config,
        AutoMode::Daily,
        false,
        None,
    )
    .unwrap_err();
    assert!(matches!(e, Error::NotAllowed { .. }), "{e}");
    let out = cli.run(&["backup", "auto-set", "--mode", "hourly"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("\"hourly\" is not a mode"),
        "{}",
        stderr(&out)
    );
    let unchanged = Config::load_or_create(&cli.config_path()).unwrap();
    assert_eq!(unchanged.backup.auto_backup, AutoMode::Off);
}
