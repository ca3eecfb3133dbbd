//! The first run is clear (issue 13): a new key can be issued to nobody until a group
//! allows it, and the lists say so before the Desk refuses. There is no default group
//! that allows everything (ARCHITECTURE.md, groups): instead every key and person in the
//! lists carries how many groups allow it (`Key.groups`) or hold them (`Person.groups`),
//! and `keys::group_coverage` tells whether any key is allowed at all.

use atslegas_core::keys::{self, GroupCoverage, KeyInput, KeyQuery};
use atslegas_core::persons::{self, PersonQuery};
use atslegas_core::{groups, Store};
use atslegas_tests::{add_person, admin, last_audit, Cli, CoreDb};
use rusqlite::Connection;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn key_groups(conn: &Connection, number: &str) -> i64 {
    keys::find(conn, number).unwrap().groups
}

fn listed_key_groups(conn: &Connection) -> Vec<(String, i64)> {
    keys::list(conn, &KeyQuery::default())
        .unwrap()
        .into_iter()
        .map(|k| (k.number, k.groups))
        .collect()
}

fn listed_person_groups(conn: &Connection) -> Vec<(String, i64)> {
    persons::list(conn, &PersonQuery::default())
        .unwrap()
        .into_iter()
        .map(|p| (p.full_name, p.groups))
        .collect()
}

/// Two keys and two persons, no group: what a new admin has after the first minutes.
fn fresh() -> (CoreDb, i64, i64) {
    let mut db = CoreDb::new();
    for n in ["101", "102"] {
        keys::create(&mut db.store, &admin(), &KeyInput::numbered(n)).unwrap();
    }
    let janis = add_person(&mut db.store, "E-1", "Jānis Bērziņš", "B-1");
    let liga = add_person(&mut db.store, "E-2", "Līga Ozola", "B-2");
    (db, janis, liga)
}

fn group(store: &mut Store, name: &str, keys: &[&str], members: &[i64]) {
    groups::create(store, &admin(), name, None).unwrap();
    if !keys.is_empty() {
        groups::allow_keys(store, &admin(), name, &strings(keys)).unwrap();
    }
    if !members.is_empty() {
        groups::add_member_ids(store, &admin(), name, members).unwrap();
    }
}

#[test]
fn on_a_fresh_register_no_key_and_no_person_is_in_a_group_and_the_lists_say_so() {
    let (db, _, _) = fresh();
    let conn = db.store.conn();
    assert_eq!(
        listed_key_groups(conn),
        vec![("101".into(), 0), ("102".into(), 0)]
    );
    assert_eq!(
        listed_person_groups(conn),
        vec![("Jānis Bērziņš".into(), 0), ("Līga Ozola".into(), 0)]
    );
    assert_eq!(
        keys::group_coverage(conn).unwrap(),
        GroupCoverage {
            keys: 2,
            allowed: 0
        }
    );
    // Nothing was made behind the admin's back: no group allows everything.
    assert!(groups::list(conn).unwrap().is_empty());
}

#[test]
fn an_empty_register_has_no_keys_to_allow() {
    let db = CoreDb::new();
    assert_eq!(
        keys::group_coverage(db.store.conn()).unwrap(),
        GroupCoverage {
            keys: 0,
            allowed: 0
        }
    );
}

#[test]
fn a_group_that_allows_a_key_counts_for_that_key_and_its_members_only() {
    let (mut db, janis, liga) = fresh();
    group(&mut db.store, "Staff", &["101"], &[janis]);
    let conn = db.store.conn();
    assert_eq!(
        listed_key_groups(conn),
        vec![("101".into(), 1), ("102".into(), 0)]
    );
    assert_eq!(
        listed_person_groups(conn),
        vec![("Jānis Bērziņš".into(), 1), ("Līga Ozola".into(), 0)]
    );
    assert_eq!(key_groups(conn, "101"), 1);
    assert_eq!(persons::get(conn, janis).unwrap().groups, 1);
    assert_eq!(persons::get(conn, liga).unwrap().groups, 0);
    assert_eq!(
        keys::group_coverage(conn).unwrap(),
        GroupCoverage {
            keys: 2,
            allowed: 1
        }
    );
}

#[test]
fn the_counts_follow_a_second_group_a_removed_key_and_a_deleted_group() {
    let (mut db, janis, _) = fresh();
    group(&mut db.store, "Staff", &["101", "102"], &[janis]);
    group(&mut db.store, "Night", &["101"], &[janis]);
    assert_eq!(key_groups(db.store.conn(), "101"), 2);
    assert_eq!(persons::get(db.store.conn(), janis).unwrap().groups, 2);

    groups::disallow_keys(&mut db.store, &admin(), "Staff", &strings(&["102"])).unwrap();
    assert_eq!(key_groups(db.store.conn(), "102"), 0);

    groups::delete(&mut db.store, &admin(), "Night").unwrap();
    assert_eq!(key_groups(db.store.conn(), "101"), 1);
    assert_eq!(persons::get(db.store.conn(), janis).unwrap().groups, 1);
    assert_eq!(
        keys::group_coverage(db.store.conn()).unwrap(),
        GroupCoverage {
            keys: 2,
            allowed: 1
        }
    );
}

#[test]
fn retired_and_deleted_keys_are_not_counted_as_waiting_for_a_group() {
    let (mut db, _, _) = fresh();
    let k101 = keys::find(db.store.conn(), "101").unwrap().id;
    let k102 = keys::find(db.store.conn(), "102").unwrap().id;
    keys::set_retired(&mut db.store, &admin(), k101, true).unwrap();
    keys::delete(&mut db.store, &admin(), k102).unwrap();
    assert_eq!(
        keys::group_coverage(db.store.conn()).unwrap(),
        GroupCoverage {
            keys: 0,
            allowed: 0
        }
    );
}

#[test]
fn the_group_count_is_derived_and_never_written_into_a_key_or_person_audit_row() {
    let (mut db, janis, _) = fresh();
    group(&mut db.store, "Staff", &["101"], &[janis]);
    let k = keys::find(db.store.conn(), "101").unwrap();
    let input = KeyInput {
        name: Some("Server room".into()),
        ..KeyInput::numbered("101")
    };
    keys::update(&mut db.store, &admin(), k.id, &input).unwrap();
    let row = last_audit(db.store.conn());
    assert_eq!(row.component, "keys");
    assert_eq!(row.after.as_ref().unwrap()["name"], "Server room");
    assert!(row.after.as_ref().unwrap().get("groups").is_none());
    assert!(row.before.as_ref().unwrap().get("groups").is_none());

    let p = persons::get(db.store.conn(), janis).unwrap();
    let input = persons::PersonInput {
        department: Some("IT".into()),
        code: p.code.clone(),
        badge: p.badge.clone(),
        ..persons::PersonInput::named(&p.full_name)
    };
    persons::update(&mut db.store, &admin(), janis, &input).unwrap();
    let row = last_audit(db.store.conn());
    assert_eq!(row.component, "persons");
    assert!(row.after.as_ref().unwrap().get("groups").is_none());
}

/// The plan's lines for `sql`.
fn plan(conn: &Connection, sql: &str, args: &[rusqlite::types::Value]) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .unwrap();
    rows.collect::<rusqlite::Result<_>>().unwrap()
}

#[test]
fn the_group_counts_of_a_page_seek_their_indexes() {
    let (db, _, _) = fresh();
    let conn = db.store.conn();
    let (sql, args) = keys::list_sql(&KeyQuery::default(), "number").unwrap();
    let p = plan(conn, &sql, &args);
    assert!(
        p.iter()
            .any(|l| l.contains("group_keys") && l.contains("USING") && l.contains("key_id=?")),
        "the key's group count seeks group_keys by key: {p:#?}"
    );
    let (sql, args) = persons::list_sql(&PersonQuery::default(), "name").unwrap();
    let p = plan(conn, &sql, &args);
    assert!(
        p.iter()
            .any(|l| l.contains("group_members_person") && l.contains("person_id=?")),
        "the person's group count seeks group_members_person: {p:#?}"
    );
}

#[test]
fn the_cli_lists_show_the_group_counts_too() {
    let cli = Cli::initialised();
    cli.run_ok(&["key", "add", "101"]);
    cli.run_ok(&["person", "add", "--name", "Jānis Bērziņš", "--code", "E-1"]);
    let keys = cli.json(&["key", "list"]);
    assert_eq!(keys[0]["groups"], 0, "{keys}");
    cli.run_ok(&["group", "add", "Staff"]);
    cli.run_ok(&["group", "allow", "Staff", "101"]);
    cli.run_ok(&["group", "member", "Staff", "E-1"]);
    let keys = cli.json(&["key", "list"]);
    assert_eq!(keys[0]["groups"], 1, "{keys}");
    let persons = cli.json(&["person", "list"]);
    assert_eq!(persons[0]["groups"], 1, "{persons}");
}
