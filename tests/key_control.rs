//! Key control (issue 14, SPEC §11) on a real database file: lost and found with a
//! reason, areas and the impact of a lost key, the past as it was, stocktake,
//! offboarding with its clearance, and the overdue list with contact details. Each rule
//! is checked through the core, and the schema's part of it with raw SQL.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use atslegas_core::keylog::{self, IssueRequest, PersonRef};
use atslegas_core::keys::{self, KeyInput};
use atslegas_core::persons::{self, PersonInput};
use atslegas_core::sets::{self, SetInput};
use atslegas_core::store::{Security, Store};
use atslegas_core::{areas, as_of, lost, offboard, overdue, stocktake};
use atslegas_tests::{
    add_keys_and_group, add_person, admin, assert_refused_unchanged, count, last_audit, operator,
    snapshot, value, viewer, CoreDb,
};
use serde_json::json;

/// Jānis (E-1) and Ģirts (E-2) may receive 101-105. Key 101 is out to Jānis.
fn site() -> CoreDb {
    let mut db = CoreDb::new();
    let s = &mut db.store;
    add_person(s, "E-1", "Jānis Bērziņš", "B-1");
    add_person(s, "E-2", "Ģirts Ķēniņš", "B-2");
    add_keys_and_group(
        s,
        &["101", "102", "103", "104", "105"],
        "Staff",
        None,
        &["E-1", "E-2"],
    );
    issue(&mut db.store, "101", "E-1");
    db
}

fn issue(s: &mut Store, key: &str, who: &str) {
    keylog::issue(
        s,
        &operator(),
        key,
        &PersonRef::Code(who.into()),
        &IssueRequest::default(),
    )
    .unwrap_or_else(|e| panic!("issue {key}: {}", e.message()));
}

fn give_back(s: &mut Store, key: &str) {
    keylog::return_key(s, &operator(), key, None)
        .unwrap_or_else(|e| panic!("return {key}: {}", e.message()));
}

// ---------------------------------------------------------------------------------------
// Lost and found

#[test]
fn a_key_out_reported_lost_records_who_had_it_and_why_and_is_no_longer_theirs() {
    let mut db = site();
    let e = lost::report_lost(&mut db.store, &operator(), "101", "Lost in town on Friday").unwrap();
    assert_eq!(e.action, "lost");
    assert_eq!(
        e.person_name.as_deref(),
        Some("Jānis Bērziņš"),
        "who lost it"
    );
    assert_eq!(e.comment.as_deref(), Some("Lost in town on Friday"));
    let k = keys::find(db.store.conn(), "101").unwrap();
    assert_eq!((k.status.as_str(), k.holder_person_id), ("lost", None));
    let a = last_audit(db.store.conn());
    assert_eq!(
        (a.component.as_str(), a.operation.as_str()),
        ("keys", "lost")
    );
    assert_eq!(a.after.unwrap()["reason"], json!("Lost in town on Friday"));
}

#[test]
fn a_key_on_its_hook_can_be_lost_and_found_again() {
    let mut db = site();
    lost::report_lost(
        &mut db.store,
        &operator(),
        "102",
        "Not on its hook since Monday",
    )
    .unwrap();
    let e = lost::report_found(
        &mut db.store,
        &operator(),
        "102",
        Some("Behind the cabinet"),
    )
    .unwrap();
    assert_eq!(
        (e.action.as_str(), e.comment.as_deref()),
        ("found", Some("Behind the cabinet"))
    );
    assert_eq!(
        keys::find(db.store.conn(), "102").unwrap().status,
        "available"
    );
    assert_eq!(last_audit(db.store.conn()).operation, "found");
    // And it can be issued again.
    issue(&mut db.store, "102", "E-2");
}

#[test]
fn a_lost_report_without_a_reason_or_of_a_retired_key_is_refused_and_changes_nothing() {
    let mut db = site();
    let id = keys::find(db.store.conn(), "105").unwrap().id;
    keys::set_retired(&mut db.store, &admin(), id, true).unwrap();
    let before = snapshot(db.store.conn());
    let r = lost::report_lost(&mut db.store, &operator(), "101", "   ");
    let e = assert_refused_unchanged(db.store.conn(), &before, r, "invalid_input");
    assert!(e.message().contains("reason"), "{}", e.message());
    let r = lost::report_lost(&mut db.store, &operator(), "105", "Gone");
    let e = assert_refused_unchanged(db.store.conn(), &before, r, "key_not_losable");
    assert!(e.message().contains("retired"), "{}", e.message());
    let r = lost::report_found(&mut db.store, &operator(), "102", None);
    assert_refused_unchanged(db.store.conn(), &before, r, "key_not_lost");
    let r = lost::report_lost(&mut db.store, &viewer(), "102", "Gone");
    assert_refused_unchanged(db.store.conn(), &before, r, "not_allowed");
}

#[test]
fn the_schema_refuses_a_lost_row_without_its_reason_whoever_writes_it() {
    let db = site();
    let raw = db.raw();
    let key: i64 = value(&raw, "SELECT id FROM keys WHERE number = '102'");
    for comment in [None, Some("  ")] {
        let e = raw
            .execute(
                "INSERT INTO key_log (action, key_id, actor, at, comment) VALUES ('lost', ?1, 'x', 1, ?2)",
                rusqlite::params![key, comment],
            )
            .unwrap_err();
        assert!(e.to_string().contains("lost_reason_required"), "{e}");
    }
}

// ---------------------------------------------------------------------------------------
// Areas and impact

/// Areas: 101 opens "Room 204"; master key 105 opens "Room 204" and "Server room";
/// 103 opens "Server room". 105 is out to Ģirts.
fn with_areas() -> CoreDb {
    let mut db = site();
    let a = admin();
    for name in ["Room 204", "Server room", "Archive"] {
        areas::create(&mut db.store, &a, name, None).unwrap();
    }
    areas::set_key_areas(&mut db.store, &a, "101", &["Room 204"]).unwrap();
    areas::set_key_areas(&mut db.store, &a, "105", &["room 204", "Server room"]).unwrap();
    areas::set_key_areas(&mut db.store, &a, "103", &["Server room"]).unwrap();
    issue(&mut db.store, "105", "E-2");
    db
}

#[test]
fn the_impact_of_a_lost_key_names_its_areas_the_other_keys_and_their_holders_and_advises_rekeying()
{
    let mut db = with_areas();
    lost::report_lost(&mut db.store, &operator(), "101", "Left on the bus").unwrap();
    let i = lost::impact(db.store.conn(), "101").unwrap();
    assert_eq!(i.areas, vec!["Room 204"]);
    assert_eq!(i.other_keys.len(), 1);
    let other = &i.other_keys[0];
    assert_eq!(other.number, "105");
    assert_eq!(other.holder.as_deref(), Some("Ģirts Ķēniņš"));
    assert_eq!(other.areas, vec!["Room 204"]);
    assert!(i.recommend_rekey);
    let report = i.lost.expect("the lost report");
    assert_eq!(report.reason.as_deref(), Some("Left on the bus"));
    assert_eq!(report.person.as_deref(), Some("Jānis Bērziņš"));

    // The master key: two areas, two other keys, each with the areas it shares.
    let m = lost::impact(db.store.conn(), "105").unwrap();
    assert_eq!(m.areas, vec!["Room 204", "Server room"]);
    let others: Vec<(&str, Vec<String>, Option<&str>)> = m
        .other_keys
        .iter()
        .map(|k| (k.number.as_str(), k.areas.clone(), k.holder.as_deref()))
        .collect();
    assert_eq!(
        others,
        vec![
            ("101", vec!["Room 204".to_string()], None),
            ("103", vec!["Server room".to_string()], None)
        ]
    );
}

#[test]
fn a_key_that_opens_no_area_needs_no_rekeying_and_a_deleted_area_no_longer_counts() {
    let mut db = with_areas();
    let i = lost::impact(db.store.conn(), "102").unwrap();
    assert!(i.areas.is_empty() && i.other_keys.is_empty() && !i.recommend_rekey);
    areas::delete(&mut db.store, &admin(), "Room 204").unwrap();
    let i = lost::impact(db.store.conn(), "101").unwrap();
    assert!(i.areas.is_empty() && !i.recommend_rekey, "{i:?}");
    let listed: Vec<String> = areas::list(db.store.conn(), false)
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(listed, vec!["Archive", "Server room"]);
}

#[test]
fn areas_are_an_admins_business_named_once_and_what_a_key_opens_is_audited() {
    let mut db = with_areas();
    let before = snapshot(db.store.conn());
    let r = areas::create(&mut db.store, &admin(), "server ROOM", None);
    assert_refused_unchanged(db.store.conn(), &before, r, "duplicate");
    let r = areas::create(&mut db.store, &operator(), "Garage", None);
    assert_refused_unchanged(db.store.conn(), &before, r, "not_allowed");
    let r = areas::set_key_areas(&mut db.store, &admin(), "102", &["Nowhere"]);
    let e = assert_refused_unchanged(db.store.conn(), &before, r, "not_found");
    assert!(e.message().contains("Nowhere"), "{}", e.message());

    areas::set_key_areas(&mut db.store, &admin(), "101", &["Archive"]).unwrap();
    let a = last_audit(db.store.conn());
    assert_eq!(
        (a.component.as_str(), a.operation.as_str()),
        ("keys", "areas")
    );
    assert_eq!(a.before.unwrap()["areas"], json!(["Room 204"]));
    assert_eq!(a.after.unwrap()["areas"], json!(["Archive"]));
    let room = areas::find(db.store.conn(), "room 204").unwrap();
    assert_eq!(room.keys, 1, "only the master key opens it now");
}

// ---------------------------------------------------------------------------------------
// The past as it was

fn clocked() -> (CoreDb, Arc<AtomicI64>) {
    let db = CoreDb::new();
    let t = Arc::new(AtomicI64::new(1_800_000_000));
    let c = t.clone();
    let store = Store::open(&db.path, Security::default())
        .unwrap()
        .with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
    let mut db = db;
    db.store = store;
    (db, t)
}

#[test]
fn as_of_a_moment_each_key_shows_who_held_it_then_and_a_person_what_they_held() {
    let (mut db, t) = clocked();
    let s = &mut db.store;
    add_person(s, "E-1", "Jānis Bērziņš", "B-1");
    add_person(s, "E-2", "Ģirts Ķēniņš", "B-2");
    add_keys_and_group(s, &["101", "102"], "Staff", None, &["E-1", "E-2"]);
    let t0 = t.load(Ordering::SeqCst);
    t.store(t0 + 100, Ordering::SeqCst);
    issue(s, "101", "E-1");
    t.store(t0 + 200, Ordering::SeqCst);
    issue(s, "102", "E-1");
    t.store(t0 + 300, Ordering::SeqCst);
    give_back(s, "101");
    t.store(t0 + 400, Ordering::SeqCst);
    issue(s, "101", "E-2");
    t.store(t0 + 500, Ordering::SeqCst);
    lost::report_lost(s, &operator(), "102", "Dropped it").unwrap();
    t.store(t0 + 600, Ordering::SeqCst);
    let k103 = keys::create(s, &admin(), &KeyInput::numbered("103")).unwrap();
    // Retired and brought back: not movements, so only the audit trail says when.
    t.store(t0 + 800, Ordering::SeqCst);
    keys::set_retired(s, &admin(), k103.id, true).unwrap();
    t.store(t0 + 900, Ordering::SeqCst);
    keys::set_retired(s, &admin(), k103.id, false).unwrap();

    let conn = s.conn();
    let state = |at: i64| -> Vec<(String, String, Option<String>)> {
        as_of::keys_at(conn, at, None, 100, 0)
            .unwrap()
            .into_iter()
            .map(|h| (h.key_number, h.status, h.person_code))
            .collect()
    };
    let e =
        |k: &str, s: &str, p: Option<&str>| (k.to_string(), s.to_string(), p.map(str::to_string));
    assert_eq!(
        state(t0 + 50),
        vec![e("101", "available", None), e("102", "available", None)]
    );
    assert_eq!(
        state(t0 + 250),
        vec![
            e("101", "issued", Some("E-1")),
            e("102", "issued", Some("E-1"))
        ]
    );
    assert_eq!(
        state(t0 + 300),
        vec![e("101", "available", None), e("102", "issued", Some("E-1"))],
        "a moment includes its own rows"
    );
    assert_eq!(
        state(t0 + 450),
        vec![
            e("101", "issued", Some("E-2")),
            e("102", "issued", Some("E-1"))
        ]
    );
    assert_eq!(
        state(t0 + 700),
        vec![
            e("101", "issued", Some("E-2")),
            e("102", "lost", Some("E-1")),
            e("103", "available", None)
        ],
        "key 103 exists from its creation on"
    );
    let k103_at = |at: i64| state(at).pop().unwrap();
    assert_eq!(k103_at(t0 + 799), e("103", "available", None));
    assert_eq!(k103_at(t0 + 800), e("103", "retired", None), "retired then");
    assert_eq!(k103_at(t0 + 899), e("103", "retired", None));
    assert_eq!(
        k103_at(t0 + 900),
        e("103", "available", None),
        "back in use"
    );
    let one = as_of::keys_at(conn, t0 + 250, Some("102"), 100, 0).unwrap();
    assert_eq!((one.len(), one[0].since), (1, Some(t0 + 200)));

    let janis = persons::find_by_code(conn, "E-1").unwrap();
    let held = |at: i64| -> Vec<String> {
        as_of::person_at(conn, at, &janis)
            .unwrap()
            .into_iter()
            .map(|h| h.key_number)
            .collect()
    };
    assert_eq!(held(t0 + 150), vec!["101"]);
    assert_eq!(held(t0 + 250), vec!["101", "102"]);
    assert_eq!(held(t0 + 350), vec!["102"]);
    assert!(held(t0 + 550).is_empty(), "a lost key is no longer held");
    assert!(held(t0).is_empty());
}

// ---------------------------------------------------------------------------------------
// Stocktake

#[test]
fn a_stocktake_names_the_missing_and_the_unexpected_keys_and_keeps_its_report() {
    let mut db = site();
    lost::report_lost(&mut db.store, &operator(), "104", "Gone").unwrap();
    let s = stocktake::start(&mut db.store, &operator()).unwrap();
    let scans = stocktake::scan(
        &mut db.store,
        &operator(),
        &["102", " 101 ", "999", "102", "104"],
    )
    .unwrap();
    let outcomes: Vec<(&str, &str, i64)> = scans
        .iter()
        .map(|s| (s.text.as_str(), s.outcome, s.counted))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("102", "expected", 1),
            ("101", "unexpected", 2),
            ("999", "unknown", 2),
            ("102", "repeat", 2),
            ("104", "unexpected", 3)
        ]
    );
    assert_eq!(
        scans[1].key.as_ref().unwrap().holder.as_deref(),
        Some("Jānis Bērziņš")
    );
    assert_eq!(
        stocktake::current(db.store.conn())
            .unwrap()
            .unwrap()
            .counted,
        3
    );

    let done = stocktake::finish(&mut db.store, &operator()).unwrap();
    assert_eq!(done.id, s.id);
    let r = done.report.expect("a finished count has its report");
    assert_eq!((r.expected, r.counted), (3, 3));
    let numbers =
        |v: &[stocktake::CountedKey]| v.iter().map(|k| k.number.clone()).collect::<Vec<_>>();
    assert_eq!(numbers(&r.missing), vec!["103", "105"]);
    assert_eq!(numbers(&r.unexpected), vec!["101", "104"]);
    assert_eq!(r.unexpected[1].status, "lost");
    assert!(stocktake::current(db.store.conn()).unwrap().is_none());
    assert_eq!(
        stocktake::get(db.store.conn(), s.id).unwrap().report,
        Some(r)
    );
    let ops: Vec<String> = atslegas_tests::audit_operations(db.store.conn());
    assert!(
        ops.ends_with(&["start".into(), "scan".into(), "finish".into()]),
        "one audit row per step: {ops:?}"
    );
}

#[test]
fn one_stocktake_is_open_at_a_time_scans_need_one_and_a_finished_one_never_changes() {
    let mut db = site();
    let before = snapshot(db.store.conn());
    let r = stocktake::scan(&mut db.store, &operator(), &["101"]);
    assert_refused_unchanged(db.store.conn(), &before, r, "invalid_input");
    let r = stocktake::start(&mut db.store, &viewer());
    assert_refused_unchanged(db.store.conn(), &before, r, "not_allowed");
    stocktake::start(&mut db.store, &operator()).unwrap();
    let e = stocktake::start(&mut db.store, &admin()).unwrap_err();
    assert!(e.message().contains("still open"), "{}", e.message());
    stocktake::scan(&mut db.store, &operator(), &["102"]).unwrap();
    let done = stocktake::finish(&mut db.store, &operator()).unwrap();

    let raw = db.raw();
    let e = raw
        .execute(
            "UPDATE stocktakes SET report = '{}' WHERE id = ?1",
            [done.id],
        )
        .unwrap_err();
    assert!(e.to_string().contains("append_only"), "{e}");
    let e = raw.execute("DELETE FROM stocktake_scans", []).unwrap_err();
    assert!(e.to_string().contains("append_only"), "{e}");
    let key: i64 = value(&raw, "SELECT id FROM keys WHERE number = '103'");
    let e = raw
        .execute(
            "INSERT INTO stocktake_scans (stocktake_id, key_id, at, actor) VALUES (?1, ?2, ?3, 'x')",
            rusqlite::params![done.id, key, done.finished_at.unwrap() + 10],
        )
        .unwrap_err();
    assert!(e.to_string().contains("stocktake_finished"), "{e}");
    let e = raw
        .execute(
            "INSERT INTO stocktakes (started_at, started_by) VALUES (1, 'a'), (2, 'b')",
            [],
        )
        .unwrap_err();
    assert!(e.to_string().contains("UNIQUE"), "two open counts: {e}");
}

// ---------------------------------------------------------------------------------------
// Offboarding

#[test]
fn offboarding_lists_what_is_held_and_refuses_to_finish_until_it_is_back() {
    let mut db = site();
    sets::create(
        &mut db.store,
        &admin(),
        &SetInput {
            name: "Ring A".into(),
            tag: Some("R-1".into()),
            keys: vec!["102".into(), "103".into()],
        },
    )
    .unwrap();
    issue(&mut db.store, "102", "E-1");
    let o = offboard::status(db.store.conn(), &PersonRef::Code("E-1".into())).unwrap();
    let keys: Vec<(&str, Vec<String>)> = o
        .keys
        .iter()
        .map(|k| (k.number.as_str(), k.sets.clone()))
        .collect();
    assert_eq!(
        keys,
        vec![("101", vec![]), ("102", vec!["Ring A".to_string()])]
    );
    assert_eq!(o.sets.len(), 1);
    assert_eq!(
        (o.sets[0].keys.clone(), o.sets[0].whole),
        (vec!["102".to_string()], false)
    );
    assert!(!o.clear);

    let before = snapshot(db.store.conn());
    let r = offboard::finish(
        &mut db.store,
        &operator(),
        &PersonRef::Code("E-1".into()),
        None,
    );
    let e = assert_refused_unchanged(db.store.conn(), &before, r, "person_holds_keys");
    assert!(e.message().contains("2 key"), "{}", e.message());
    let r = offboard::finish(
        &mut db.store,
        &operator(),
        &PersonRef::Code("E-1".into()),
        Some("Left the country"),
    );
    assert_refused_unchanged(db.store.conn(), &before, r, "not_allowed");
    assert_eq!(count(&db.raw(), "clearances"), 0);

    give_back(&mut db.store, "101");
    lost::report_lost(&mut db.store, &operator(), "102", "Lost with the badge").unwrap();
    let c = offboard::finish(
        &mut db.store,
        &operator(),
        &PersonRef::Code("E-1".into()),
        None,
    )
    .unwrap();
    assert_eq!(
        (
            c.number,
            c.person_code.as_deref(),
            c.override_reason.as_deref()
        ),
        (1, Some("E-1"), None)
    );
    assert!(c.still_held.is_empty());
    assert!(
        !persons::find_by_code(db.store.conn(), "E-1")
            .unwrap()
            .active
    );
    let a = last_audit(db.store.conn());
    assert_eq!(
        (a.component.as_str(), a.operation.as_str()),
        ("persons", "offboard")
    );
    assert_eq!(a.after.unwrap()["clearance"], json!(1));
    assert_eq!(
        offboard::status(db.store.conn(), &PersonRef::Code("E-1".into()))
            .unwrap()
            .clearances,
        vec![1]
    );
}

#[test]
fn an_admin_may_finish_an_offboarding_with_keys_held_giving_a_reason_the_clearance_lists_them() {
    let mut db = site();
    let c = offboard::finish(
        &mut db.store,
        &admin(),
        &PersonRef::Code("E-1".into()),
        Some("Left without notice"),
    )
    .unwrap();
    assert_eq!(c.override_reason.as_deref(), Some("Left without notice"));
    assert_eq!(c.still_held, vec!["101"]);
    let k = keys::find(db.store.conn(), "101").unwrap();
    assert_eq!(
        k.status, "issued",
        "the register never pretends the key came back"
    );
    let c2 = offboard::finish(
        &mut db.store,
        &admin(),
        &PersonRef::Code("E-2".into()),
        Some("ignored: nothing held"),
    )
    .unwrap();
    assert_eq!((c2.number, c2.override_reason), (2, None));

    let raw = db.raw();
    let e = raw
        .execute(
            "UPDATE clearances SET still_held = '[]' WHERE number = 1",
            [],
        )
        .unwrap_err();
    assert!(e.to_string().contains("append_only"), "{e}");
    let e = raw
        .execute(
            "INSERT INTO clearances (number, person_id, at, actor, site_name) VALUES (5, 1, 1, 'x', 's')",
            [],
        )
        .unwrap_err();
    assert!(e.to_string().contains("receipt_not_next"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Overdue

#[test]
fn the_overdue_list_has_the_holders_contact_details_and_says_what_is_only_due_today() {
    let (mut db, t) = clocked();
    let s = &mut db.store;
    let now = t.load(Ordering::SeqCst);
    persons::create(
        s,
        &admin(),
        &PersonInput {
            phone: Some("+371 2000 0000".into()),
            email: Some("janis@example.lv".into()),
            department: Some("Ķīmija".into()),
            ..atslegas_tests::person("E-1", "Jānis Bērziņš", "B-1")
        },
    )
    .unwrap();
    add_keys_and_group(s, &["101", "102", "103"], "Staff", None, &["E-1"]);
    let out = |s: &mut Store, key: &str, due: i64| {
        keylog::issue(
            s,
            &operator(),
            key,
            &PersonRef::Code("E-1".into()),
            &IssueRequest {
                due_back_at: Some(due),
                ..Default::default()
            },
        )
        .unwrap();
    };
    out(s, "101", now + 3600);
    out(s, "102", now + 10 * 86_400);
    out(s, "103", now + 60);
    t.store(now + 120, Ordering::SeqCst);
    let later = now + 120;
    let list = overdue::list(s.conn(), later, later + 7200).unwrap();
    let got: Vec<(&str, bool)> = list
        .iter()
        .map(|d| (d.key_number.as_str(), d.overdue))
        .collect();
    assert_eq!(got, vec![("103", true), ("101", false)]);
    assert_eq!(list[0].phone.as_deref(), Some("+371 2000 0000"));
    assert_eq!(list[0].email.as_deref(), Some("janis@example.lv"));
    assert_eq!(list[0].department.as_deref(), Some("Ķīmija"));
    let end = overdue::end_of_local_day(later);
    assert!(
        end > later && end <= later + 86_400 + 3600,
        "{end} vs {later}"
    );
}
