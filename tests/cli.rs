//! The real `atslegas-cli` binary on a real data directory: setup, persons, keys, groups,
//! issue and return, the key log and calendar in the reference's JSON, roles with `--as`,
//! error lines and exit codes, and `audit verify` against a tampered file.
//!
//! Build the binary first: `cargo build -p atslegas-cli`.

use std::process::Output;

use atslegas_core::session::Sessions;
use atslegas_core::store::Security;
use atslegas_core::Store;
use atslegas_tests::{
    assert_fails, assert_only_audited, assert_success, column, count, parse_json, snapshot, stderr,
    stdout, value, Cli, ROOT_PASSWORD,
};
use chrono::TimeZone;
use serde_json::{json, Value};

/// A set-up data directory with Jānis (code E-1, badge B-1) and Ļena (E-3, badge B-3),
/// keys 101 "Room 204" and 102, and the group "Staff" that lets Jānis receive both.
fn site() -> Cli {
    let cli = Cli::initialised();
    cli.json(&[
        "person",
        "add",
        "--name",
        "Jānis Bērziņš",
        "--code",
        "E-1",
        "--badge",
        "B-1",
    ]);
    cli.json(&[
        "person",
        "add",
        "--name",
        "Ļena Šņore",
        "--code",
        "E-3",
        "--badge",
        "B-3",
    ]);
    cli.json(&[
        "key",
        "add",
        "101",
        "--name",
        "Room 204",
        "--location",
        "Cabinet A, hook 3",
    ]);
    cli.json(&["key", "add", "102"]);
    cli.json(&["group", "add", "Staff", "--description", "front desk"]);
    cli.json(&["group", "allow", "Staff", "101", "102"]);
    cli.json(&["group", "member", "Staff", "E-1"]);
    cli
}

fn key_json(cli: &Cli, number: &str) -> Value {
    let keys = cli.json(&["key", "list", "--include-deleted"]);
    keys.as_array()
        .unwrap()
        .iter()
        .find(|k| k["number"] == number)
        .unwrap_or_else(|| panic!("key {number} not listed: {keys}"))
        .clone()
}

/// The password the tests give the users they add.
const USER_PASSWORD: &str = "Zila-Jura-77";

/// The one line every refused `--as` sign-in prints, whatever the reason.
const SIGN_IN_REFUSED: &str = "atslegas-cli: The user name or password is wrong, or the account is locked or disabled. Ask an admin if this keeps happening.";

/// The id of the newest audit row.
fn last_audit_id(cli: &Cli) -> i64 {
    value(&cli.db(), "SELECT max(id) FROM audit_log")
}

/// (actor, operation, after.reason) of the audit rows after `id`, oldest first.
fn audit_after(cli: &Cli, id: i64) -> Vec<(String, String, Option<String>)> {
    let db = cli.db();
    let mut stmt = db
        .prepare(
            "SELECT actor, operation, json_extract(after, '$.reason') FROM audit_log
              WHERE id > ?1 ORDER BY id",
        )
        .unwrap();
    let rows = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

/// (failed_logins, locked_until) of a user.
fn lock_state(cli: &Cli, name: &str) -> (i64, Option<i64>) {
    cli.db()
        .query_row(
            "SELECT failed_logins, locked_until FROM users WHERE username = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

fn is_iso_utc(s: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok()
}

// ---------------------------------------------------------------------------------------
// Setup

#[test]
fn init_reads_the_root_password_from_stdin() {
    let cli = Cli::new();
    let out = cli.run_stdin(
        &["init", "--root-password-stdin", "--json"],
        &format!("{ROOT_PASSWORD}\n"),
    );
    assert_success(&out, "init");
    let root = parse_json(&out);
    assert_eq!(root["username"], "root");
    assert_eq!(root["role"], "admin");
    assert_eq!(root["is_root"], true);
    assert_eq!(root["has_password"], true);
    assert!(!stdout(&out).contains(ROOT_PASSWORD));

    let status = cli.json(&["status"]);
    assert_eq!(status["set_up"], true);
    let db = cli.db();
    let hash: String = value(&db, "SELECT password_hash FROM users WHERE is_root = 1");
    assert!(hash.starts_with("$argon2id$"));
    assert!(!hash.contains(ROOT_PASSWORD));
    let users = cli.json(&["user", "list"]);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["username"], "root");
}

#[test]
fn init_without_the_stdin_flag_fails_with_one_line_and_sets_up_nothing() {
    let cli = Cli::new();
    let out = cli.run(&["init"]);
    let msg = assert_fails(&out, 2);
    assert!(msg.contains("--root-password-stdin"), "{msg}");
    assert_eq!(cli.json(&["status"])["set_up"], false);
    assert_eq!(count(&cli.db(), "users"), 0);
}

#[test]
fn init_with_a_weak_password_fails_and_sets_up_nothing() {
    let cli = Cli::new();
    let out = cli.run_stdin(&["init", "--root-password-stdin"], "short\n");
    let msg = assert_fails(&out, 3);
    assert!(msg.contains("too weak"), "{msg}");
    assert_eq!(count(&cli.db(), "users"), 0);
}

#[test]
fn a_second_init_fails_and_keeps_the_first_root() {
    let cli = Cli::initialised();
    let db = cli.db();
    let before: String = value(&db, "SELECT password_hash FROM users");
    let audit_before = count(&db, "audit_log");
    let out = cli.run_stdin(&["init", "--root-password-stdin"], "Another-Pass-99\n");
    let msg = assert_fails(&out, 3);
    assert!(msg.contains("already set up"), "{msg}");
    let after: String = value(&db, "SELECT password_hash FROM users");
    assert_eq!(after, before);
    assert_eq!(count(&db, "users"), 1);
    assert_eq!(count(&db, "audit_log"), audit_before);
}

// ---------------------------------------------------------------------------------------
// Persons, keys, groups

#[test]
fn person_add_and_list_give_the_person_field_by_field() {
    let cli = Cli::initialised();
    let p = cli.json(&[
        "person",
        "add",
        "--name",
        "Ģirts Ķēniņš",
        "--code",
        "E-2",
        "--department",
        "Saimniecības daļa",
        "--phone",
        "+371 20000000",
        "--email",
        "girts@example.lv",
        "--badge",
        "B-2",
        "--notes",
        "nakts maiņa",
    ]);
    assert!(p["id"].is_i64());
    assert_eq!(p["full_name"], "Ģirts Ķēniņš");
    assert_eq!(p["code"], "E-2");
    assert_eq!(p["department"], "Saimniecības daļa");
    assert_eq!(p["phone"], "+371 20000000");
    assert_eq!(p["email"], "girts@example.lv");
    assert_eq!(p["badge"], "B-2");
    assert_eq!(p["notes"], "nakts maiņa");
    assert_eq!(p["active"], true);
    assert_eq!(p["deleted_at"], Value::Null);
    assert!(p["created_at"].is_i64());

    let found = cli.json(&["person", "list", "--search", "kenins"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0], p);
    let name: String = value(&cli.db(), "SELECT full_name FROM persons");
    assert_eq!(name.as_bytes(), "Ģirts Ķēniņš".as_bytes());
}

#[test]
fn key_add_and_group_setup_are_listed_with_their_counts() {
    let cli = site();
    let k = key_json(&cli, "101");
    assert_eq!(k["name"], "Room 204");
    assert_eq!(k["location"], "Cabinet A, hook 3");
    assert_eq!(k["status"], "available");
    assert_eq!(k["holder_person_id"], Value::Null);
    assert_eq!(k["deleted_at"], Value::Null);

    let groups = cli.json(&["group", "list"]);
    assert_eq!(groups.as_array().unwrap().len(), 1);
    let g = &groups[0];
    assert_eq!(g["name"], "Staff");
    assert_eq!(g["description"], "front desk");
    assert_eq!(g["member_count"], 1);
    assert_eq!(g["key_count"], 2);

    let g = cli.json(&["group", "disallow", "Staff", "102"]);
    assert_eq!(g["key_count"], 1);
}

#[test]
fn a_duplicate_key_number_is_refused_and_changes_nothing() {
    let cli = site();
    let before = snapshot(&cli.db());
    let msg = assert_fails(&cli.run(&["key", "add", "101"]), 3);
    assert!(msg.contains("101"), "{msg}");
    assert_eq!(snapshot(&cli.db()), before);
}

// ---------------------------------------------------------------------------------------
// Issue, return, key log, calendar

#[test]
fn issue_and_return_change_the_key_and_are_logged() {
    let cli = site();
    let e = cli.json(&[
        "issue",
        "101",
        "--to",
        "E-1",
        "--comment",
        "for the weekend",
    ]);
    assert_eq!(e["action"], "issued");
    assert_eq!(e["key_number"], "101");
    assert_eq!(e["person_name"], "Jānis Bērziņš");
    assert_eq!(e["user_name"], "cli:tester");
    assert_eq!(e["comment"], "for the weekend");
    let k = key_json(&cli, "101");
    assert_eq!(k["status"], "issued");
    assert_eq!(k["holder_name"], "Jānis Bērziņš");
    assert_eq!(k["holder_person_id"], e["person_id"]);

    let r = cli.json(&["return", "101", "--comment", "all good"]);
    assert_eq!(r["action"], "returned");
    assert_eq!(r["person_name"], "Jānis Bērziņš");
    assert_eq!(r["comment"], "all good");
    let k = key_json(&cli, "101");
    assert_eq!(k["status"], "available");
    assert_eq!(k["holder_person_id"], Value::Null);

    let history = cli.json(&["key", "history", "101"]);
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["returned", "issued"]);
    assert_eq!(count(&cli.db(), "key_log"), 2);
}

#[test]
fn an_issue_with_a_due_time_stores_it() {
    let cli = site();
    let e = cli.json(&[
        "issue",
        "101",
        "--to",
        "E-1",
        "--due",
        "2099-01-02T03:04:05Z",
    ]);
    let due = chrono::Utc
        .with_ymd_and_hms(2099, 1, 2, 3, 4, 5)
        .unwrap()
        .timestamp();
    assert_eq!(e["due_back_at"], due);
    assert_eq!(key_json(&cli, "101")["due_back_at"], due);
}

#[test]
fn the_keylog_json_has_the_reference_shape() {
    let cli = site();
    let issued = cli.json(&[
        "issue",
        "101",
        "--to",
        "B-1",
        "--comment",
        "Atslēga uz katlu telpu",
    ]);
    cli.json(&["return", "101"]);
    let at = issued["at"].as_i64().unwrap();
    let log = cli.json(&[
        "keylog",
        "--start",
        &(at - 60).to_string(),
        "--end",
        &(at + 3600).to_string(),
    ]);
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{log}");
    let (i, r) = (&rows[0], &rows[1]);

    assert_eq!(i["id"], json!(issued["id"].as_i64().unwrap().to_string()));
    assert!(i["id"].is_string());
    assert_eq!(i["action"], "Izsniegts");
    assert_eq!(i["keyNumber"], "101");
    assert_eq!(i["userName"], "cli:tester");
    assert_eq!(i["comment"], "Atslēga uz katlu telpu");
    assert_eq!(i["personName"], "Jānis Bērziņš");
    let i_at = i["at"].as_str().unwrap();
    assert!(i_at.ends_with('Z') && is_iso_utc(i_at), "{i_at}");
    assert_eq!(
        chrono::NaiveDateTime::parse_from_str(i_at, "%Y-%m-%dT%H:%M:%SZ")
            .unwrap()
            .and_utc()
            .timestamp(),
        at
    );

    assert!(r["id"].is_string());
    assert_ne!(r["id"], i["id"]);
    assert_eq!(r["action"], "Atgriezti");
    assert_eq!(r["keyNumber"], "101");
    assert_eq!(r["userName"], "cli:tester");
    assert_eq!(r["comment"], Value::Null);
    assert!(is_iso_utc(r["at"].as_str().unwrap()));

    // Outside the range: nothing.
    let none = cli.json(&["keylog", "--start", "0", "--end", "1000"]);
    assert_eq!(none, json!([]));
}

#[test]
fn the_calendar_json_shows_todays_issue_and_return() {
    let cli = site();
    let e = cli.json(&["issue", "101", "--to", "E-1"]);
    cli.json(&["return", "101"]);
    cli.json(&["issue", "102", "--to", "E-1"]);
    // The CLI counts local days; take "today" from the issue itself so the test
    // cannot straddle midnight.
    let at = e["at"].as_i64().unwrap();
    let today = chrono::Local.timestamp_opt(at, 0).unwrap().date_naive();
    let today_s = today.format("%Y-%m-%d").to_string();
    let days = cli.json(&["calendar", "--today", &today_s]);
    let days = days.as_array().unwrap();
    // (The strip's length is checked by the_calendar_json_has_37_days.)
    let first = (today - chrono::Days::new(7))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(days[0]["date"], first);
    let d = days
        .iter()
        .find(|d| d["date"] == today_s)
        .expect("today is in the strip");
    assert_eq!(d["issued"], 2);
    assert_eq!(d["returned"], 1);
    assert!(d["start"].as_i64().unwrap() <= at && at < d["end"].as_i64().unwrap());
    for other in days.iter().filter(|d| d["date"] != today_s) {
        assert_eq!(other["issued"], 0, "{other}");
        assert_eq!(other["returned"], 0, "{other}");
    }
    // Consecutive days, each starting where the one before ended.
    for w in days.windows(2) {
        assert_eq!(w[0]["end"], w[1]["start"]);
    }
}

#[test]
fn the_calendar_json_has_37_days() {
    let cli = site();
    let days = cli.json(&["calendar", "--today", "2026-03-15"]);
    assert_eq!(days.as_array().unwrap().len(), 37);
    assert_eq!(days[0]["date"], "2026-03-08");
}

#[test]
fn the_person_argument_accepts_the_person_code_or_the_badge() {
    let cli = site();
    let by_badge = cli.json(&["issue", "101", "--to", "B-1"]);
    cli.json(&["return", "101"]);
    let by_code = cli.json(&["issue", "101", "--to", "e-1"]);
    assert_eq!(by_badge["person_id"], by_code["person_id"]);
    assert_eq!(by_code["person_name"], "Jānis Bērziņš");
    cli.json(&["return", "101"]);

    // Delete by badge, restore by code.
    let p = cli.json(&["person", "delete", "B-3"]);
    assert_eq!(p["full_name"], "Ļena Šņore");
    assert!(p["deleted_at"].is_i64());
    let p = cli.json(&["person", "restore", "E-3"]);
    assert_eq!(p["deleted_at"], Value::Null);

    let msg = assert_fails(&cli.run(&["issue", "101", "--to", "NOBODY"]), 3);
    assert!(msg.contains("NOBODY"), "{msg}");
}

#[test]
fn without_as_the_actor_is_the_os_account() {
    let cli = site();
    cli.json(&["issue", "101", "--to", "E-1"]);
    let rows = cli.json(&["audit", "list", "--limit", "1000"]);
    let rows = rows.as_array().unwrap();
    // Everything after setup was done as cli:tester.
    for r in rows.iter().filter(|r| r["actor"] != "setup") {
        assert_eq!(r["actor"], "cli:tester", "{r}");
    }
    assert_eq!(rows[0]["operation"], "issue");
    assert_eq!(rows[0]["component"], "keys");
    let actor: String = value(&cli.db(), "SELECT actor FROM key_log");
    assert_eq!(actor, "cli:tester");
}

#[test]
fn with_as_a_viewer_issuing_is_refused_with_exit_4_and_changes_nothing() {
    let cli = site();
    let out = cli.run_stdin(
        &[
            "user",
            "add",
            "v",
            "--role",
            "viewer",
            "--password-stdin",
            "--json",
        ],
        "Zila-Jura-77\n",
    );
    assert_success(&out, "user add v");
    assert_eq!(parse_json(&out)["role"], "viewer");

    let before = snapshot(&cli.db());
    let before_id = last_audit_id(&cli);
    let refused: [&[&str]; 6] = [
        &["issue", "101", "--to", "E-1"],
        &["key", "add", "103"],
        &["person", "add", "--name", "Anna Liepa"],
        &["person", "delete", "E-3"],
        &["group", "add", "Night"],
        &["user", "list"],
    ];
    for args in refused {
        let msg = assert_fails(&cli.run_as("v", USER_PASSWORD, args), 4);
        assert!(msg.contains("viewer"), "{args:?}: {msg}");
    }
    // Each run signed v in (its `login` row); the refused actions added nothing else.
    assert_only_audited(&cli.db(), &before, 6);
    assert_eq!(
        audit_after(&cli, before_id),
        vec![("v".to_string(), "login".to_string(), None); 6]
    );
    assert_eq!(key_json(&cli, "101")["status"], "available");
    // A viewer may read.
    assert_eq!(keys_listed_as(&cli, "v", USER_PASSWORD), 2);
}

/// Issue "[2 of 6] Trust", finding 7: reading the audit trail is checked in the core, so
/// the CLI refuses it to a viewer and an operator as the window does; an admin reads it.
#[test]
fn with_as_a_viewer_or_an_operator_the_audit_trail_is_refused_with_exit_4() {
    let cli = site();
    for (name, role) in [("v", "viewer"), ("ops", "operator")] {
        cli.add_user(name, role, USER_PASSWORD);
        let msg = assert_fails(&cli.run_as(name, USER_PASSWORD, &["audit", "list"]), 4);
        assert!(
            msg.contains(role) && msg.contains("read the audit trail"),
            "{name}: {msg}"
        );
    }
    let rows = cli.json_as("root", ROOT_PASSWORD, &["audit", "list", "--limit", "5"]);
    assert_eq!(rows.as_array().unwrap().len(), 5);
}

#[test]
fn with_as_an_operator_the_user_is_recorded_and_admin_work_is_refused() {
    let cli = site();
    let out = cli.run_stdin(
        &[
            "user",
            "add",
            "ops",
            "--role",
            "operator",
            "--password-stdin",
        ],
        "Zila-Jura-77\n",
    );
    assert_success(&out, "user add ops");
    let e = cli.json_as("ops", USER_PASSWORD, &["issue", "101", "--to", "E-1"]);
    assert_eq!(e["user_name"], "ops");
    let (actor, user_id): (String, Option<i64>) = cli
        .db()
        .query_row("SELECT actor, user_id FROM key_log", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(actor, "ops");
    assert!(user_id.is_some());
    let last = &cli.json(&["audit", "list", "--limit", "1"])[0];
    assert_eq!(last["actor"], "ops");

    let before = snapshot(&cli.db());
    let before_id = last_audit_id(&cli);
    assert_fails(&cli.run_as("ops", USER_PASSWORD, &["key", "add", "103"]), 4);
    // Ļena has no rights to 102, and an operator may not override.
    assert_fails(
        &cli.run_as(
            "ops",
            USER_PASSWORD,
            &["issue", "102", "--to", "E-3", "--override-reason", "x"],
        ),
        4,
    );
    // Only the two sign-ins were recorded.
    assert_only_audited(&cli.db(), &before, 2);
    assert_eq!(
        audit_after(&cli, before_id),
        vec![("ops".to_string(), "login".to_string(), None); 2]
    );
}

// ---------------------------------------------------------------------------------------
// `--as USER` signs USER in (issue 11, finding 10)

/// [`site`] with the operator "ops", whose password is [`USER_PASSWORD`].
fn site_with_ops() -> Cli {
    let cli = site();
    cli.add_user("ops", "operator", USER_PASSWORD);
    cli
}

/// How many keys `key list --as USER` shows (the run must succeed).
fn keys_listed_as(cli: &Cli, user: &str, password: &str) -> usize {
    let keys = cli.json_as(user, password, &["key", "list"]);
    keys.as_array().unwrap().len()
}

#[test]
fn as_with_a_wrong_password_exits_4_is_audited_and_counts_toward_lock_out() {
    let cli = site_with_ops();
    let before = snapshot(&cli.db());
    let start = last_audit_id(&cli);
    // config.json's default: 5 failures in a row lock the account.
    for n in 1..=5 {
        let out = cli.run_as("ops", "Zila-Jura-78", &["issue", "101", "--to", "E-1"]);
        assert_eq!(assert_fails(&out, 4), SIGN_IN_REFUSED, "attempt {n}");
        assert_eq!(lock_state(&cli, "ops").0, n);
    }
    assert!(
        lock_state(&cli, "ops").1.is_some(),
        "5 failures did not lock"
    );
    // Locked: even the right password is refused, with the same line.
    let out = cli.run_as("ops", USER_PASSWORD, &["issue", "101", "--to", "E-1"]);
    assert_eq!(assert_fails(&out, 4), SIGN_IN_REFUSED);

    let failed = |reason: &str| {
        (
            "ops".to_string(),
            "login_failed".to_string(),
            Some(reason.to_string()),
        )
    };
    let mut expected = vec![failed("wrong password"); 5];
    expected.push(failed("account locked"));
    assert_eq!(audit_after(&cli, start), expected);
    // Nothing else happened: the key is not out.
    assert_only_audited(&cli.db(), &before, 6);
}

#[test]
fn as_with_the_right_password_from_the_environment_or_stdin_signs_in_and_acts() {
    let cli = site_with_ops();
    let start = last_audit_id(&cli);
    // From ATSLEGAS_PASSWORD.
    let e = cli.json_as("ops", USER_PASSWORD, &["issue", "101", "--to", "E-1"]);
    assert_eq!(e["user_name"], "ops");
    // From one line on standard input (the rest of it is not read).
    let out = cli.run_stdin(
        &["--as", "ops", "return", "101", "--json"],
        &format!("{USER_PASSWORD}\nnot a password\n"),
    );
    assert_success(&out, "--as ops return 101");
    assert_eq!(parse_json(&out)["user_name"], "ops");
    let actors: Vec<String> = column(&cli.db(), "SELECT actor FROM key_log ORDER BY id");
    assert_eq!(actors, ["ops", "ops"]);
    let ops: Vec<String> = audit_after(&cli, start)
        .into_iter()
        .map(|(actor, op, _)| format!("{actor} {op}"))
        .collect();
    assert_eq!(ops, ["ops login", "ops issue", "ops login", "ops return"]);
    assert_eq!(lock_state(&cli, "ops"), (0, None));
}

#[test]
fn as_answers_an_unknown_or_deactivated_user_as_it_answers_a_wrong_password() {
    let cli = site_with_ops();
    cli.add_user("gone", "operator", USER_PASSWORD);
    cli.run_ok(&["user", "set", "gone", "--deactivate"]);
    let before = snapshot(&cli.db());
    let start = last_audit_id(&cli);
    let cases = [
        ("nobody", USER_PASSWORD, "unknown user"),
        ("ops", "Zila-Jura-78", "wrong password"),
        ("gone", USER_PASSWORD, "account deactivated"),
    ];
    for (user, password, _) in cases {
        let out = cli.run_as(user, password, &["key", "add", "103"]);
        assert_eq!(assert_fails(&out, 4), SIGN_IN_REFUSED, "{user}");
        assert!(stdout(&out).is_empty());
    }
    let reasons: Vec<_> = audit_after(&cli, start)
        .into_iter()
        .map(|(actor, op, reason)| (actor, op, reason.unwrap_or_default()))
        .collect();
    let expected: Vec<_> = cases
        .iter()
        .map(|(u, _, r)| (u.to_string(), "login_failed".to_string(), r.to_string()))
        .collect();
    assert_eq!(reasons, expected);
    assert_only_audited(&cli.db(), &before, 3);
}

#[test]
fn as_with_a_command_that_reads_stdin_needs_the_password_in_the_environment() {
    let cli = site();
    let before = snapshot(&cli.db());
    let out = cli.run_stdin(
        &[
            "--as",
            "root",
            "user",
            "add",
            "x",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        &format!("{USER_PASSWORD}\n"),
    );
    let msg = assert_fails(&out, 2);
    assert!(
        msg.contains("ATSLEGAS_PASSWORD") && msg.contains("--password-stdin"),
        "{msg}"
    );
    // No attempt was made: nothing audited, nothing counted.
    assert_eq!(snapshot(&cli.db()), before);
    assert_eq!(lock_state(&cli, "root"), (0, None));

    let out = cli.run_env(
        &[
            "--as",
            "root",
            "user",
            "add",
            "x",
            "--role",
            "viewer",
            "--password-stdin",
            "--json",
        ],
        &[("ATSLEGAS_PASSWORD", ROOT_PASSWORD)],
        Some(&format!("{USER_PASSWORD}\n")),
    );
    assert_success(&out, "--as root user add x");
    assert_eq!(parse_json(&out)["role"], "viewer");
    let created_by: String = value(
        &cli.db(),
        "SELECT actor FROM audit_log WHERE component = 'users' AND operation = 'create'
              ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(created_by, "root");
    // x signs in with the password read from standard input.
    assert_eq!(keys_listed_as(&cli, "x", USER_PASSWORD), 2);
}

#[test]
fn as_without_a_password_is_a_usage_error_and_no_attempt() {
    let cli = site_with_ops();
    let before = snapshot(&cli.db());
    let msg = assert_fails(&cli.run(&["--as", "ops", "key", "list"]), 2);
    assert!(msg.contains("ATSLEGAS_PASSWORD"), "{msg}");
    assert_eq!(snapshot(&cli.db()), before);
    assert_eq!(lock_state(&cli, "ops"), (0, None));
}

/// The sessions folder of the CLI's data directory, and a store on its database, to sign
/// users in as the window does.
fn window(cli: &Cli) -> (Store, Sessions) {
    let store = Store::open(&cli.db_path(), Security::default()).unwrap();
    (store, Sessions::new(cli.data_dir().join("sessions")))
}

/// `--as ops user passwd NAME`, the new password on standard input.
fn passwd_as_ops(cli: &Cli, name: &str) -> Output {
    cli.run_env(
        &["--as", "ops", "user", "passwd", name, "--password-stdin"],
        &[("ATSLEGAS_PASSWORD", USER_PASSWORD)],
        Some("Jauna-Parole-88\n"),
    )
}

/// The newest `set_password` row of the audit trail, as `audit list` gives it.
fn newest_set_password(cli: &Cli) -> Value {
    let rows = cli.json(&[
        "audit",
        "list",
        "--operation",
        "set_password",
        "--limit",
        "1",
    ]);
    rows[0].clone()
}

#[test]
fn passwd_of_oneself_with_as_takes_the_as_password_as_the_current_one() {
    let cli = site_with_ops();
    let (mut store, sessions) = window(&cli);
    let (in_window, _) = sessions.sign_in(&mut store, "ops", USER_PASSWORD).unwrap();

    // An operator may not set another user's password.
    let hash = |name: &str| -> String {
        cli.db()
            .query_row(
                "SELECT password_hash FROM users WHERE username = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    };
    let root_hash = hash("root");
    let out = passwd_as_ops(&cli, "root");
    assert_fails(&out, 4);
    assert_eq!(hash("root"), root_hash);

    let out = passwd_as_ops(&cli, "ops");
    assert_success(&out, "--as ops user passwd ops");
    let row = newest_set_password(&cli);
    assert_eq!(row["actor"], "ops");
    assert_eq!(row["after"], json!({"own": true, "sessions_ended": 1}));
    // The CLI has no session of its own: the window's ended.
    assert_eq!(
        sessions
            .validate(&mut store, &in_window)
            .unwrap_err()
            .code(),
        "session_invalid"
    );
    assert_eq!(
        assert_fails(&cli.run_as("ops", USER_PASSWORD, &["key", "list"]), 4),
        SIGN_IN_REFUSED
    );
    assert_eq!(keys_listed_as(&cli, "ops", "Jauna-Parole-88"), 2);
}

#[test]
fn an_admin_setting_a_users_password_ends_all_of_that_users_sessions() {
    let cli = site_with_ops();
    let (mut store, sessions) = window(&cli);
    let (a, _) = sessions.sign_in(&mut store, "ops", USER_PASSWORD).unwrap();
    let (b, _) = sessions.sign_in(&mut store, "ops", USER_PASSWORD).unwrap();
    let (root, _) = sessions.sign_in(&mut store, "root", ROOT_PASSWORD).unwrap();
    let out = cli.run_stdin(
        &["user", "passwd", "ops", "--password-stdin"],
        "Jauna-Parole-88\n",
    );
    assert_success(&out, "user passwd ops");
    for t in [&a, &b] {
        assert_eq!(
            sessions.validate(&mut store, t).unwrap_err().code(),
            "session_invalid"
        );
    }
    assert_eq!(sessions.validate(&mut store, &root).unwrap().name, "root");
    let row = newest_set_password(&cli);
    assert_eq!(row["actor"], "cli:tester");
    assert_eq!(row["after"], json!({"own": false, "sessions_ended": 2}));
}

#[test]
fn an_admin_override_needs_a_reason_and_records_it() {
    let cli = site();
    let before = snapshot(&cli.db());
    let msg = assert_fails(&cli.run(&["issue", "102", "--to", "E-3"]), 5);
    assert!(msg.contains("no right"), "{msg}");
    assert_eq!(snapshot(&cli.db()), before);

    let e = cli.json(&[
        "issue",
        "102",
        "--to",
        "E-3",
        "--override-reason",
        "locksmith visit",
    ]);
    assert_eq!(e["override_reason"], "locksmith visit");
    let log = cli.json(&["keylog", "--start", "0", "--end", "99999999999"]);
    assert_eq!(log[0]["overrideReason"], "locksmith visit");
}

#[test]
fn every_error_exits_non_zero_with_one_line_on_stderr() {
    let cli = site();
    cli.json(&["issue", "101", "--to", "E-1"]);
    let before = snapshot(&cli.db());
    // (arguments, exit code, a word the message must contain)
    let cases: &[(&[&str], i32, &str)] = &[
        (&["issue", "101", "--to", "E-1"], 5, "already issued"),
        (&["return", "102"], 5, "not issued"),
        (&["issue", "999", "--to", "E-1"], 3, "999"),
        (&["issue", "102", "--to", "E-404"], 3, "E-404"),
        (&["issue", "102", "--to", "E-3"], 5, "no right"),
        (
            &["issue", "102", "--to", "E-1", "--due", "tomorrow"],
            3,
            "due",
        ),
        (
            &[
                "issue",
                "102",
                "--to",
                "E-1",
                "--due",
                "2001-01-01T00:00:00Z",
            ],
            3,
            "past",
        ),
        (&["person", "delete", "E-1"], 5, "holds"),
        (&["key", "delete", "101"], 5, "issued"),
        (&["key", "add", "102"], 3, "102"),
        (&["person", "restore", "E-3"], 3, "not deleted"),
        (&["person", "add", "--name", "   "], 3, "full_name"),
        (&["person", "add", "--name", "X", "--code", "E-1"], 3, "E-1"),
        (&["group", "allow", "Nope", "101"], 3, "Nope"),
        (&["calendar", "--today", "15.03.2026"], 3, "--today"),
        (&["keylog", "--start", "100", "--end", "50"], 3, "--end"),
        (&["key", "list", "--status", "gone"], 3, "gone"),
        (&["user", "add", "x", "--role", "boss"], 3, "boss"),
        (
            &["user", "add", "x", "--role", "viewer"],
            2,
            "--password-stdin",
        ),
    ];
    for (args, code, word) in cases {
        let out = cli.run(args);
        let msg = assert_fails(&out, *code);
        assert!(
            msg.to_lowercase().contains(&word.to_lowercase()),
            "{args:?}: {msg}"
        );
        assert!(
            stdout(&out).is_empty(),
            "{args:?} printed: {}",
            stdout(&out)
        );
    }
    assert_eq!(snapshot(&cli.db()), before);
}

#[test]
fn the_same_errors_are_one_line_with_json_too() {
    let cli = site();
    let out = cli.run(&["return", "101", "--json"]);
    assert_fails(&out, 5);
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_usage_error_is_one_line_on_stderr() {
    let cli = site();
    assert_fails(&cli.run(&["issue", "101"]), 2);
    assert_fails(&cli.run(&["frobnicate"]), 2);
}

// ---------------------------------------------------------------------------------------
// Soft delete through the CLI

#[test]
fn a_deleted_key_cannot_be_issued_until_restored() {
    let cli = site();
    let k = cli.json(&["key", "delete", "102"]);
    assert!(k["deleted_at"].is_i64());
    let listed = cli.json(&["key", "list"]);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["number"] != "102"));
    let before = snapshot(&cli.db());
    assert_fails(&cli.run(&["issue", "102", "--to", "E-1"]), 5);
    assert_eq!(snapshot(&cli.db()), before);
    cli.json(&["key", "restore", "102"]);
    let e = cli.json(&["issue", "102", "--to", "E-1"]);
    assert_eq!(e["action"], "issued");
}

// ---------------------------------------------------------------------------------------
// The audit trail

#[test]
fn audit_list_filters_by_component_and_operation() {
    let cli = site();
    cli.json(&["issue", "101", "--to", "E-1"]);
    cli.json(&["return", "101"]);
    let rows = cli.json(&[
        "audit",
        "list",
        "--component",
        "keys",
        "--operation",
        "issue",
    ]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["actor"], "cli:tester");
    assert_eq!(rows[0]["before"]["status"], "available");
    assert_eq!(rows[0]["after"]["key"]["status"], "issued");
    assert!(rows[0]["hash"].as_str().unwrap().len() == 64);
    let persons = cli.json(&["audit", "list", "--component", "persons"]);
    assert_eq!(persons.as_array().unwrap().len(), 2);
    assert!(persons
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["operation"] == "create"));
}

#[test]
fn audit_verify_passes_on_an_intact_database() {
    let cli = site();
    cli.json(&["issue", "101", "--to", "E-1"]);
    let out = cli.run_ok(&["audit", "verify"]);
    assert!(stdout(&out).contains("intact"), "{}", stdout(&out));
    let r = cli.json(&["audit", "verify"]);
    assert_eq!(r["ok"], true);
    assert_eq!(r["problems"], json!([]));
    assert_eq!(r["rows_checked"], count(&cli.db(), "audit_log"));
}

#[test]
fn audit_verify_exits_7_after_an_audit_row_is_edited_with_plain_sql() {
    let cli = site();
    cli.json(&["issue", "101", "--to", "E-1"]);
    {
        let db = cli.db();
        // The schema refuses the edit until its trigger is dropped.
        assert!(db
            .execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 3", [])
            .is_err());
        db.execute_batch("DROP TRIGGER audit_log_no_update")
            .unwrap();
        let changed = db
            .execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 3", [])
            .unwrap();
        assert_eq!(changed, 1);
    }
    let out = cli.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(7), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains("row 3"), "{}", stdout(&out));

    let out = cli.run(&["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(7));
    let r = parse_json(&out);
    assert_eq!(r["ok"], false);
    let problems = r["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["id"] == 3 && p["kind"] == "edited"),
        "{r}"
    );
}

#[test]
fn audit_verify_exits_7_after_an_audit_row_is_deleted_with_plain_sql() {
    let cli = site();
    cli.json(&["issue", "101", "--to", "E-1"]);
    cli.json(&["return", "101"]);
    {
        let db = cli.db();
        assert!(db
            .execute("DELETE FROM audit_log WHERE id = 4", [])
            .is_err());
        db.execute_batch("DROP TRIGGER audit_log_no_delete")
            .unwrap();
        assert_eq!(
            db.execute("DELETE FROM audit_log WHERE id = 4", [])
                .unwrap(),
            1
        );
    }
    let out = cli.run(&["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(7), "stderr: {}", stderr(&out));
    let r = parse_json(&out);
    assert_eq!(r["ok"], false);
    assert!(
        r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == 5 && p["kind"] == "chain_broken"),
        "{r}"
    );
}

/// A long listing, as text and as JSON: well over a pipe's 64 KiB.
const LONG_LISTS: [&[&str]; 2] = [
    &["audit", "list", "--limit", "3000"],
    &["audit", "list", "--limit", "3000", "--json"],
];

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    // `atslegas-cli audit list | head -1`: the reader closes the pipe after one line.
    use std::io::{BufRead, BufReader};
    let cli = Cli::demo(200, 100, 2000);
    for args in LONG_LISTS {
        let mut child = cli.command(args).spawn().expect("start atslegas-cli");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .expect("read the first line");
        assert!(!first.is_empty(), "{args:?} printed nothing");
        // The reader is dropped here: the pipe is closed with most of the output unread.
        let out = child.wait_with_output().expect("atslegas-cli ends");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stderr(&out), "", "{args:?} said something on the way out");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_is_a_failure_that_says_why() {
    // `> /dev/full`: every write fails with "no space left on device".
    let cli = Cli::demo(200, 100, 2000);
    for args in LONG_LISTS {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let out = cli
            .command(args)
            .stdout(full)
            .output()
            .expect("run atslegas-cli");
        let err = assert_fails(&out, 1);
        assert!(
            err.contains("could not write the output: No space left on device"),
            "{args:?}: {err}"
        );
    }
}
