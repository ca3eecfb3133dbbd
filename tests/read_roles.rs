//! Issue 11, finding 7: reads are checked in the core, not only in a front end. Each read
//! a front end offers only to admins (the backup history, the backups in a folder, the
//! known drives, the automatic-backup settings, an import preview) refuses an operator
//! and a viewer in the core itself; the key log's list of names shows them only the
//! names the key log holds. The CLI's `--as` goes through the same checks (exit 4).
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

use std::path::Path;

use atslegas_core::backup::{self, auto, drives, history};
use atslegas_core::config::{AutoMode, BackupConfig, Config};
use atslegas_core::import::{self, Entity, OnExisting};
use atslegas_core::keylog::{self, IssueRequest, PersonRef};
use atslegas_core::keys::{self, KeyInput};
use atslegas_core::persons::{self, PersonInput};
use atslegas_core::work::{Cancel, Locations};
use atslegas_core::{anchors, groups, users, Actor, Error, Role};
use atslegas_tests::{
    admin, assert_fails, locations_in, operator, viewer, Cli, CoreDb, ROOT_PASSWORD,
};

/// A password that passes the core's strength rule.
const PASSWORD: &str = "Zila-Jura-77";

/// Asserts that `r` is the core's role refusal for `role` doing `action`.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(r: atslegas_core::Result<T>, role: Role, action: &str) {
    match r {
        Err(Error::NotAllowed { role: r, action: a }) => {
            assert_eq!((r.as_str(), a.as_str()), (role.as_str(), action));
        }
        other => panic!("expected NotAllowed for {role:?} to {action}, got {other:?}"),
    }
}

fn not_admins() -> [Actor; 2] {
    [viewer(), operator()]
}

/// A data folder set up through the CLI with one verified backup in `dest`.
fn site_with_a_backup(dest: &Path) -> Cli {
    let cli = Cli::initialised();
    cli.run_ok(&["backup", "create", "--to", &dest.display().to_string()]);
    cli
}

#[test]
fn the_backup_history_is_refused_to_a_viewer_and_an_operator_in_the_core() {
    let dest = tempfile::tempdir().unwrap();
    let cli = site_with_a_backup(dest.path());
    for a in not_admins() {
        assert_refused(history::list(&cli.db(), &a, 50, 0), a.role, "see backups");
    }
    let rows = history::list(&cli.db(), &admin(), 50, 0).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, "verified");
}

#[test]
fn the_backups_in_a_folder_are_refused_to_a_viewer_and_an_operator_in_the_core() {
    let dest = tempfile::tempdir().unwrap();
    let _cli = site_with_a_backup(dest.path());
    for a in not_admins() {
        assert_refused(backup::list(&a, dest.path()), a.role, "see backups");
        // Refused before the folder is read: a folder that does not exist says the same.
        assert_refused(
            backup::list(&a, &dest.path().join("missing")),
            a.role,
            "see backups",
        );
    }
    let found = backup::list(&admin(), dest.path()).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].verified_sidecar);
}

#[test]
fn the_known_drives_are_refused_to_a_viewer_and_an_operator_in_the_core() {
    let folder = tempfile::tempdir().unwrap();
    let mut config = BackupConfig::default();
    let known = drives::remember_on(&mut config, folder.path(), 1, &[]).unwrap();
    for a in not_admins() {
        assert_refused(drives::find_known(&a, &config), a.role, "see backups");
        // The window's check of the audit trail lists the drives' backups through it.
        assert_refused(
            anchors::archives_on_known_drives(&a, &config),
            a.role,
            "see backups",
        );
    }
    let present = drives::find_known(&admin(), &config).unwrap();
    assert_eq!(present.len(), 1, "{present:?}");
    assert_eq!(present[0].id, known.id);
}

#[test]
fn the_automatic_backup_settings_are_refused_to_a_viewer_and_an_operator_in_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let loc = locations_in(dir.path());
    let mut config = Config::default();
    config.backup.auto_backup = AutoMode::Daily;
    for a in not_admins() {
        assert_refused(auto::settings(&a, &config, &loc), a.role, "see backups");
    }
    let s = auto::settings(&admin(), &config, &loc).unwrap();
    assert_eq!(s.mode, AutoMode::Daily);
}

/// The key log's filter list: an admin gets every user; an operator or a viewer only the
/// names the key log shows them anyway (a user who never issued or returned a key, the
/// root here, is not listed to them).
#[test]
fn the_key_log_names_list_every_user_only_to_an_admin() {
    let mut db = CoreDb::new();
    let s = &mut db.store;
    let a = admin();
    users::init_root(s, ROOT_PASSWORD).unwrap();
    let ops = users::add(s, &a, "ops", Role::Operator, Some(PASSWORD)).unwrap();
    users::add(s, &a, "idle", Role::Viewer, Some(PASSWORD)).unwrap();
    let ops = Actor {
        user_id: Some(ops.id),
        name: ops.username,
        role: Role::Operator,
    };
    persons::create(
        s,
        &a,
        &PersonInput {
            code: Some("E-1".into()),
            ..PersonInput::named("Jānis Bērziņš")
        },
    )
    .unwrap();
    for n in ["101", "102"] {
        keys::create(s, &a, &KeyInput::numbered(n)).unwrap();
    }
    groups::create(s, &a, "Staff", None).unwrap();
    groups::allow_keys(s, &a, "Staff", &["101".into(), "102".into()]).unwrap();
    groups::add_members(s, &a, "Staff", &["E-1".into()]).unwrap();
    let to = PersonRef::Code("E-1".into());
    keylog::issue(s, &ops, "101", &to, &IssueRequest::default()).unwrap();
    keylog::issue(s, &a, "102", &to, &IssueRequest::default()).unwrap();

    let everyone = keylog::actors(s.conn(), &a).unwrap();
    assert_eq!(everyone, ["admin-tester", "idle", "ops", "root"]);
    for who in not_admins() {
        let seen = keylog::actors(s.conn(), &who).unwrap();
        assert_eq!(seen, ["admin-tester", "ops"], "{:?}", who.role);
    }
}

/// An import preview (and an import) checks the role before it opens the file: a viewer
/// or an operator gets the role error, never a parse error quoting the file's contents,
/// and a path that does not exist says the same (the file is not even opened).
#[test]
fn an_import_preview_refuses_a_viewer_before_the_file_is_read() {
    let mut db = CoreDb::new();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.json");
    std::fs::write(&secret, "{\"password\": \"hunter2-SECRET\",").unwrap();
    let missing = dir.path().join("missing.csv");
    let loc = Locations {
        database: db.path.clone(),
        ..locations_in(dir.path())
    };
    let cancel = Cancel::new();
    for a in not_admins() {
        for file in [&secret, &missing] {
            let r = import::preview(
                &mut db.store,
                &a,
                Entity::Persons,
                file,
                OnExisting::Skip,
                &mut |_| {},
                &cancel,
            );
            let message = r
                .as_ref()
                .map(|_| String::new())
                .unwrap_or_else(|e| e.message());
            assert_refused(r, a.role, "import");
            assert!(!message.contains("SECRET"), "{message}");
            let r = import::apply(
                &mut db.store,
                &a,
                &loc,
                Entity::Persons,
                file,
                OnExisting::Skip,
                &mut |_| {},
                &cancel,
            );
            assert_refused(r, a.role, "import");
        }
    }
    // An admin gets past the role check to the file itself.
    let e = import::preview(
        &mut db.store,
        &admin(),
        Entity::Persons,
        &missing,
        OnExisting::Skip,
        &mut |_| {},
        &cancel,
    )
    .unwrap_err();
    assert_eq!(e.code(), "io", "{e}");
}

// ---------------------------------------------------------------------------------------
// The CLI: `--as` a viewer or an operator

fn add_users(cli: &Cli) {
    for (name, role) in [("v", "viewer"), ("ops", "operator")] {
        cli.add_user(name, role, PASSWORD);
    }
}

#[test]
fn with_as_a_viewer_or_an_operator_listing_backups_is_refused_with_exit_4() {
    let dest = tempfile::tempdir().unwrap();
    let cli = site_with_a_backup(dest.path());
    add_users(&cli);
    let dir = dest.path().display().to_string();
    for (name, role) in [("v", "viewer"), ("ops", "operator")] {
        let msg = assert_fails(&cli.run_as(name, PASSWORD, &["backup", "list", &dir]), 4);
        assert!(
            msg.contains(role) && msg.contains("see backups"),
            "{name}: {msg}"
        );
    }
    let found = cli.json(&["backup", "list", &dir]);
    assert_eq!(found.as_array().unwrap().len(), 1);
}

#[test]
fn with_as_a_viewer_or_an_operator_checking_a_backup_is_refused_with_exit_4_before_it_is_read() {
    let dest = tempfile::tempdir().unwrap();
    let cli = site_with_a_backup(dest.path());
    add_users(&cli);
    let archive = std::fs::read_dir(dest.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .expect("the backup");
    let file = archive.display().to_string();
    let missing = dest
        .path()
        .join("atslegas-missing.zip")
        .display()
        .to_string();
    for (name, role) in [("v", "viewer"), ("ops", "operator")] {
        for f in [&file, &missing] {
            let msg = assert_fails(&cli.run_as(name, PASSWORD, &["backup", "verify", f]), 4);
            assert!(
                msg.contains(role) && msg.contains("check backups"),
                "{name}: {msg}"
            );
        }
    }
    cli.run_ok(&["backup", "verify", &file]);
}

#[test]
fn with_as_a_viewer_an_import_preview_is_refused_with_exit_4_before_the_file_is_read() {
    let cli = Cli::initialised();
    add_users(&cli);
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("persons.csv");
    std::fs::write(&secret, "full_name,code\n\"SECRET-ROW\n").unwrap();
    let missing = dir.path().join("missing.csv");
    for file in [&secret, &missing] {
        let file = file.display().to_string();
        for (name, role) in [("v", "viewer"), ("ops", "operator")] {
            let out = cli.run_as(
                name,
                PASSWORD,
                &["import", "persons", &file, "--dry-run", "--json"],
            );
            let msg = assert_fails(&out, 4);
            assert!(msg.contains(role) && msg.contains("import"), "{msg}");
            assert!(!msg.contains("SECRET") && !msg.contains(&file), "{msg}");
        }
    }
}
