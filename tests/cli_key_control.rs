//! The key-control commands of `atslegas-cli` (issue 14): the contract scripts and
//! auditors call. `key lost/found/impact/opens`, `area add/list`, `person offboard`,
//! `stocktake start/scan/finish`, `keylog as-of` and `overdue`, with their `--json`
//! fields and exit codes, on a real data directory.

use atslegas_tests::{stderr, Cli};
use serde_json::{json, Value};

/// Jānis (E-1, with phone and e-mail) may receive 101-103; 101 is out to him, due back
/// in five minutes. Areas: 101 opens "Room 204" and "Server room", 102 opens "Room 204".
fn site() -> Cli {
    let cli = Cli::initialised();
    cli.run_ok(&[
        "person",
        "add",
        "--name",
        "Jānis Bērziņš",
        "--code",
        "E-1",
        "--phone",
        "+371 2000 0000",
        "--email",
        "janis@example.lv",
    ]);
    cli.run_ok(&["person", "add", "--name", "Ģirts Ķēniņš", "--code", "E-2"]);
    for k in ["101", "102", "103"] {
        cli.run_ok(&["key", "add", k, "--name", &format!("Room {k}")]);
    }
    cli.run_ok(&["group", "add", "Staff"]);
    cli.run_ok(&["group", "allow", "Staff", "101", "102", "103"]);
    cli.run_ok(&["group", "member", "Staff", "E-1", "E-2"]);
    cli.run_ok(&["area", "add", "Room 204"]);
    cli.run_ok(&["area", "add", "Server room", "--description", "Basement"]);
    cli.run_ok(&["key", "opens", "101", "Room 204", "server room"]);
    cli.run_ok(&["key", "opens", "102", "Room 204"]);
    cli.run_ok(&["issue", "101", "--to", "E-1", "--due", &in_five_minutes()]);
    cli
}

/// A due time a few minutes ahead: due today, unless the day ends first ([`due_today`]).
fn in_five_minutes() -> String {
    due().format("%d.%m.%Y %H:%M").to_string()
}

fn due() -> chrono::DateTime<chrono::Local> {
    chrono::Local::now() + chrono::Duration::minutes(5)
}

/// Whether [`in_five_minutes`] falls on today (not when the test runs in the day's last minutes).
fn due_today() -> bool {
    due().date_naive() == chrono::Local::now().date_naive()
}

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[test]
fn a_lost_key_shows_its_impact_as_the_contract_says_and_can_be_found_again() {
    let cli = site();
    cli.run_ok(&["issue", "102", "--to", "E-2"]);
    let lost = cli.json(&["key", "lost", "101", "--reason", "Left on the bus"]);
    assert_eq!(
        (lost["action"].clone(), lost["comment"].clone()),
        (json!("lost"), json!("Left on the bus"))
    );
    assert_eq!(lost["person_name"], json!("Jānis Bērziņš"));

    let i = cli.json(&["key", "impact", "101"]);
    assert_eq!(i["areas"], json!(["Room 204", "Server room"]));
    assert_eq!(i["other_keys"].as_array().unwrap().len(), 1);
    assert_eq!(i["other_keys"][0]["number"], json!("102"));
    assert_eq!(i["other_keys"][0]["holder"], json!("Ģirts Ķēniņš"));
    assert_eq!(i["recommend_rekey"], json!(true));
    let text = String::from_utf8(cli.run_ok(&["key", "impact", "101"]).stdout).unwrap();
    assert!(
        text.contains("Re-key:    recommended") && text.contains("Ģirts Ķēniņš"),
        "{text}"
    );

    // Lost twice, or found when not lost: refused by a rule (5).
    let again = cli.run(&["key", "lost", "101", "--reason", "again"]);
    assert_eq!(code(&again), 5, "{}", stderr(&again));
    let not_lost = cli.run(&["key", "found", "103"]);
    assert_eq!(code(&not_lost), 5);
    assert!(
        stderr(&not_lost).contains("103 is not lost"),
        "{}",
        stderr(&not_lost)
    );
    // A reason is required: clap says so (2), and an empty one is bad input (3).
    assert_eq!(code(&cli.run(&["key", "lost", "103"])), 2);
    assert_eq!(code(&cli.run(&["key", "lost", "103", "--reason", " "])), 3);

    let found = cli.json(&["key", "found", "101", "--comment", "Bus depot"]);
    assert_eq!(found["action"], json!("found"));
    let keys = cli.json(&["key", "list", "--status", "available"]);
    assert!(keys
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["number"] == json!("101")));
}

#[test]
fn areas_are_listed_with_their_keys_and_only_admins_change_them() {
    let cli = site();
    let areas = cli.json(&["area", "list"]);
    let rows: Vec<(Value, Value)> = areas
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].clone(), a["keys"].clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (json!("Room 204"), json!(2)),
            (json!("Server room"), json!(1))
        ]
    );
    let dup = cli.run(&["area", "add", "ROOM 204"]);
    assert_eq!(code(&dup), 3, "{}", stderr(&dup));
    let unknown = cli.run(&["key", "opens", "103", "Attic"]);
    assert_eq!(code(&unknown), 3);
    assert!(stderr(&unknown).contains("Attic"), "{}", stderr(&unknown));

    cli.add_user("olga", "operator", "Operator-Passw0rd!");
    let refused = cli.run_as("olga", "Operator-Passw0rd!", &["area", "add", "Garage"]);
    assert_eq!(code(&refused), 4, "{}", stderr(&refused));
    let cleared = cli.json(&["key", "opens", "102"]);
    assert_eq!(cleared, json!([]));
}

#[test]
fn offboarding_lists_what_is_held_refuses_to_finish_with_exit_5_and_then_clears() {
    let cli = site();
    let o = cli.json(&["person", "offboard", "E-1"]);
    assert_eq!(o["clear"], json!(false));
    assert_eq!(o["keys"][0]["number"], json!("101"));
    assert!(o["keys"][0]["due_back_at"].is_i64());

    let refused = cli.run(&["person", "offboard", "E-1", "--finish"]);
    assert_eq!(code(&refused), 5, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("still holds 1 key"),
        "{}",
        stderr(&refused)
    );

    cli.add_user("olga", "operator", "Operator-Passw0rd!");
    let not_admin = cli.run_as(
        "olga",
        "Operator-Passw0rd!",
        &[
            "person",
            "offboard",
            "E-1",
            "--finish",
            "--override-reason",
            "Gone",
        ],
    );
    assert_eq!(code(&not_admin), 4, "{}", stderr(&not_admin));

    cli.run_ok(&["return", "101"]);
    let c = cli.json(&["person", "offboard", "E-1", "--finish"]);
    assert_eq!(
        (c["number"].clone(), c["still_held"].clone()),
        (json!(1), json!([]))
    );
    let after = cli.json(&["person", "offboard", "E-1"]);
    assert_eq!(
        (
            after["person"]["active"].clone(),
            after["clearances"].clone()
        ),
        (json!(false), json!([1]))
    );

    // An admin may finish with keys held, for a reason; the clearance lists them.
    cli.run_ok(&["issue", "103", "--to", "E-2"]);
    let c = cli.json(&[
        "person",
        "offboard",
        "E-2",
        "--finish",
        "--override-reason",
        "Left without notice",
    ]);
    assert_eq!(
        (c["number"].clone(), c["still_held"].clone()),
        (json!(2), json!(["103"]))
    );
    assert_eq!(c["override_reason"], json!("Left without notice"));
}

#[test]
fn a_stocktake_typed_on_the_command_line_reports_missing_unexpected_and_the_count() {
    let cli = site();
    assert_eq!(
        code(&cli.run(&["stocktake", "scan", "102"])),
        3,
        "no stocktake open"
    );
    cli.run_ok(&["stocktake", "start"]);
    assert_eq!(code(&cli.run(&["stocktake", "start"])), 3, "one at a time");
    let scans = cli.json(&["stocktake", "scan", "102", "101", "XYZ", "102"]);
    let outcomes: Vec<Value> = scans
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        vec![
            json!("expected"),
            json!("unexpected"),
            json!("unknown"),
            json!("repeat")
        ]
    );
    let r = cli.json(&["stocktake", "finish"]);
    let numbers = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|k| k["number"].clone())
            .collect()
    };
    assert_eq!(numbers(&r["missing"]), vec![json!("103")]);
    assert_eq!(numbers(&r["unexpected"]), vec![json!("101")]);
    assert_eq!(r["unexpected"][0]["holder"], json!("Jānis Bērziņš"));
    assert_eq!(
        (r["counted"].clone(), r["expected"].clone()),
        (json!(2), json!(2))
    );
    // Saved: shown again later, the same.
    let shown = cli.json(&["stocktake", "show", &r["id"].to_string()]);
    assert_eq!(shown, r);
    let text = String::from_utf8(cli.run_ok(&["stocktake", "show"]).stdout).unwrap();
    assert!(
        text.contains("Missing (should be on a hook, not scanned): 1"),
        "{text}"
    );
}

#[test]
fn keylog_as_of_and_overdue_answer_for_scripts() {
    let cli = site();
    let later = (chrono::Local::now() + chrono::Duration::minutes(2))
        .format("%d.%m.%Y %H:%M")
        .to_string();
    let all = cli.json(&["keylog", "as-of", "--at", &later]);
    let rows: Vec<(Value, Value, Value)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["key_number"].clone(),
                h["status"].clone(),
                h["person_code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (json!("101"), json!("issued"), json!("E-1")),
            (json!("102"), json!("available"), Value::Null),
            (json!("103"), json!("available"), Value::Null)
        ]
    );
    let one = cli.json(&["keylog", "as-of", "--at", &later, "--key", "102"]);
    assert_eq!(one.as_array().unwrap().len(), 1);
    let held = cli.json(&["keylog", "as-of", "--at", &later, "--person", "E-1"]);
    assert_eq!(held[0]["key_number"], json!("101"));
    let long_ago = cli.json(&["keylog", "as-of", "--at", "01.01.2020 12:00"]);
    assert_eq!(long_ago, json!([]), "no key existed then");
    let bad = cli.run(&["keylog", "as-of", "--at", "yesterday-ish"]);
    assert_eq!(code(&bad), 3, "{}", stderr(&bad));
    assert_eq!(
        code(&cli.run(&["keylog", "as-of", "--at", &later, "--key", "999"])),
        3
    );
    assert_eq!(code(&cli.run(&["keylog"])), 2, "a range or as-of is needed");
    // The old form still works.
    cli.run_ok(&["keylog", "--start", "0", "--end", "4000000000"]);

    let due = cli.json(&["overdue"]);
    if !due_today() {
        assert_eq!(
            due,
            json!([]),
            "due tomorrow: neither overdue nor due today"
        );
        return;
    }
    assert_eq!(due[0]["key_number"], json!("101"));
    assert_eq!(due[0]["phone"], json!("+371 2000 0000"));
    assert_eq!(due[0]["email"], json!("janis@example.lv"));
    assert_eq!(
        due[0]["overdue"],
        json!(false),
        "due in five minutes: due today, not overdue"
    );
}
