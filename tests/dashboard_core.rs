//! The core functions behind the dashboard's screens, on a real database file: the Desk's
//! lookup and scan rules, key-log search filters and paging, group members and rights,
//! overdue keys, the settings an admin changes from the window, and database health.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use atslegas_core::audit::AuditEntry;
use atslegas_core::config::{self, Config, SettingsChange};
use atslegas_core::desk::{self, Match, Outcome};
use atslegas_core::keylog::{self, IssueRequest, LogFilter, PersonRef};
use atslegas_core::keys::{self, KeyQuery};
use atslegas_core::persons;
use atslegas_core::store::Security;
use atslegas_core::work::Cancel;
use atslegas_core::{dashboard, db, groups, Actor, Error, Store};
use atslegas_tests::{
    add_keys_and_group, add_person, admin, assert_refused_unchanged, count, last_audit, operator,
    snapshot, viewer, CoreDb, Snapshot,
};

const T0: i64 = 1_780_000_000;

/// Persons: Jānis Bērziņš (E-1, badge B-1), Ģirts Ķēniņš (E-2), Ļena Šņore (E-3, in no
/// group), Anna Bērziņa (E-4), Pēteris Ozols (code "777", the same text as a key number).
/// Keys 101, 102, 103, 777. Group "Staff": everyone but Ļena, all four keys.
struct Site {
    db: CoreDb,
    clock: Arc<AtomicI64>,
    janis: i64,
    girts: i64,
    lena: i64,
    anna: i64,
    peteris: i64,
}

fn site() -> Site {
    let mut db = CoreDb::new();
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    db.store = Store::open(&db.path, Security::default())
        .unwrap()
        .with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
    let s = &mut db.store;
    let janis = add_person(s, "E-1", "Jānis Bērziņš", "B-1");
    let girts = add_person(s, "E-2", "Ģirts Ķēniņš", "B-2");
    let lena = add_person(s, "E-3", "Ļena Šņore", "B-3");
    let anna = add_person(s, "E-4", "Anna Bērziņa", "B-4");
    let peteris = add_person(s, "777", "Pēteris Ozols", "B-5");
    let (keys, members) = (["101", "102", "103", "777"], ["E-1", "E-2", "E-4", "777"]);
    add_keys_and_group(s, &keys, "Staff", None, &members);
    Site {
        db,
        clock,
        janis,
        girts,
        lena,
        anna,
        peteris,
    }
}

impl Site {
    fn at(&self, t: i64) {
        self.clock.store(t, Ordering::SeqCst);
    }
    fn state(&self) -> Snapshot {
        snapshot(self.db.store.conn())
    }
    fn key(&self, number: &str) -> keys::Key {
        keys::find(self.db.store.conn(), number).unwrap()
    }
    fn issue(&mut self, who: &Actor, key: &str, to: i64, due: Option<i64>) {
        let req = IssueRequest {
            due_back_at: due,
            ..Default::default()
        };
        keylog::issue(&mut self.db.store, who, key, &PersonRef::Id(to), &req).unwrap();
    }
    /// Asserts that an operator issuing `key` to `to` is refused for want of group rights,
    /// and that nothing changed.
    #[track_caller]
    fn assert_no_rights(&mut self, key: &str, to: i64) {
        let snap = self.state();
        let (to, request) = (PersonRef::Id(to), IssueRequest::default());
        let r = keylog::issue(&mut self.db.store, &operator(), key, &to, &request);
        refused(self, &snap, r, "no_rights");
    }
    /// Asserts that one audit row was written since the trail had `before` rows; returns it.
    #[track_caller]
    fn one_audit_row_since(&self, before: i64) -> AuditEntry {
        assert_eq!(self.audit_rows(), before + 1, "one audit row since");
        last_audit(&self.db.raw())
    }
    /// The desk's scan of `key` by an operator, with `person` chosen (or none), no extras.
    fn scan(&mut self, key: &str, person: Option<i64>) -> Result<Outcome, Error> {
        let request = IssueRequest::default();
        desk::hand_over(&mut self.db.store, &operator(), key, person, &request, &[])
    }
    fn give_back(&mut self, who: &Actor, key: &str) {
        keylog::return_key(&mut self.db.store, who, key, None).unwrap();
    }
    fn audit_rows(&self) -> i64 {
        count(self.db.store.conn(), "audit_log")
    }
}

/// Asserts `result` failed with `code` and the database is as `before`.
#[track_caller]
fn refused<T: std::fmt::Debug>(
    site: &Site,
    before: &Snapshot,
    result: Result<T, Error>,
    code: &str,
) -> Error {
    assert_refused_unchanged(site.db.store.conn(), before, result, code)
}

fn names(persons: &[persons::Person]) -> Vec<String> {
    let mut v: Vec<String> = persons.iter().map(|p| p.full_name.clone()).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------
// Desk: lookup

#[test]
fn a_person_code_or_badge_names_the_person_whatever_the_case() {
    let site = site();
    let conn = site.db.store.conn();
    for (text, id) in [
        ("E-1", site.janis),
        ("e-2", site.girts),
        ("b-3", site.lena),
        (" B-4 ", site.anna),
    ] {
        for chosen in [false, true] {
            match desk::lookup(conn, text, chosen).unwrap() {
                Match::Person { person } => assert_eq!(person.id, id, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_typed_name_gives_candidates_without_diacritics() {
    let site = site();
    let conn = site.db.store.conn();
    match desk::lookup(conn, "berzins", false).unwrap() {
        Match::Candidates { persons } => assert_eq!(names(&persons), ["Jānis Bērziņš"]),
        other => panic!("{other:?}"),
    }
    match desk::lookup(conn, "berz", false).unwrap() {
        Match::Candidates { persons } => {
            assert_eq!(names(&persons), ["Anna Bērziņa", "Jānis Bērziņš"])
        }
        other => panic!("{other:?}"),
    }
    match desk::lookup(conn, "kenins", true).unwrap() {
        Match::Candidates { persons } => assert_eq!(persons[0].id, site.girts),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        desk::lookup(conn, "nobody here", false).unwrap(),
        Match::Nothing
    );
    assert_eq!(desk::lookup(conn, "   ", false).unwrap(), Match::Nothing);
}

#[test]
fn a_key_number_names_the_key_and_a_key_that_is_out_wins_over_a_person_code() {
    let mut site = site();
    let key_of = |m: Match| match m {
        Match::Key { key } => key.number,
        other => panic!("expected a key, got {other:?}"),
    };
    let conn = site.db.store.conn();
    // Only a key has this number.
    assert_eq!(key_of(desk::lookup(conn, "101", false).unwrap()), "101");
    // "777" is key 777 and Pēteris' code: with no person chosen yet, an available key
    // loses to the person; once a person is chosen, the next scans are keys.
    match desk::lookup(conn, "777", false).unwrap() {
        Match::Person { person } => assert_eq!(person.id, site.peteris),
        other => panic!("{other:?}"),
    }
    assert_eq!(key_of(desk::lookup(conn, "777", true).unwrap()), "777");
    // A key that is out wins even with no person chosen (scan a key: returned).
    site.issue(&admin(), "777", site.janis, None);
    let conn = site.db.store.conn();
    assert_eq!(key_of(desk::lookup(conn, "777", false).unwrap()), "777");
    // A deleted key is not offered.
    let id = site.key("103").id;
    keys::delete(&mut site.db.store, &admin(), id).unwrap();
    let m = desk::lookup(site.db.store.conn(), "103", true).unwrap();
    assert!(!matches!(m, Match::Key { .. }), "{m:?}");
}

// ---------------------------------------------------------------------------------------
// Desk: scanning a key

#[test]
fn scanning_a_key_that_is_out_with_no_person_chosen_returns_it() {
    let mut site = site();
    site.issue(&operator(), "101", site.janis, None);
    let before = site.state();
    site.at(T0 + 60);
    let out = site.scan("101", None).unwrap();
    match out {
        Outcome::Returned { entry, .. } => {
            assert_eq!(entry.action, "returned");
            assert_eq!(entry.person_id, Some(site.janis));
            assert_eq!(entry.at, T0 + 60);
        }
        other => panic!("{other:?}"),
    }
    let k = site.key("101");
    assert_eq!((k.status.as_str(), k.holder_person_id), ("available", None));
    let after = site.state();
    assert_eq!(after.key_log_rows, before.key_log_rows + 1);
    assert_eq!(after.audit_rows, before.audit_rows + 1);
}

#[test]
fn scanning_a_key_that_is_out_with_its_holder_chosen_returns_it() {
    let mut site = site();
    site.issue(&operator(), "101", site.janis, None);
    // Later than a scanner's double read (see the next test).
    site.at(T0 + desk::REPEAT_SECONDS);
    let out = site.scan("101", Some(site.janis)).unwrap();
    assert!(matches!(out, Outcome::Returned { .. }), "{out:?}");
    assert_eq!(site.key("101").status, "available");
}

#[test]
fn a_second_read_of_a_key_just_issued_to_the_chosen_person_is_ignored_not_returned() {
    let mut site = site();
    let issued = site.scan("101", Some(site.janis)).unwrap();
    assert!(matches!(issued, Outcome::Issued { .. }), "{issued:?}");
    let before = site.state();
    site.at(T0 + desk::REPEAT_SECONDS - 1);
    match site.scan("101", Some(site.janis)).unwrap() {
        Outcome::Repeat { key, person_name } => {
            assert_eq!(
                (key.as_str(), person_name.as_str()),
                ("101", "Jānis Bērziņš")
            );
        }
        other => panic!("a double read changed something: {other:?}"),
    }
    assert_eq!(site.state(), before, "nothing written");
    assert_eq!(site.key("101").status, "issued");
    // With no person chosen, or once the moment has passed, the key comes back.
    let out = site.scan("101", None).unwrap();
    assert!(matches!(out, Outcome::Returned { .. }), "{out:?}");
}

#[test]
fn the_desk_plans_a_handover_before_the_signature_and_writes_nothing() {
    let mut site = site();
    let before = site.state();
    let conn_plan = |site: &Site, text: &str, person: Option<i64>| {
        desk::plan(
            &site.db.store,
            &operator(),
            text,
            person,
            &IssueRequest::default(),
            &[],
        )
    };
    match conn_plan(&site, "101", Some(site.janis)).unwrap() {
        desk::Plan::Issue {
            keys,
            person_name,
            signature_required,
            ..
        } => {
            assert_eq!(keys, vec!["101"]);
            assert_eq!(person_name, "Jānis Bērziņš");
            assert!(!signature_required);
        }
        other => panic!("{other:?}"),
    }
    // Refusals come from the plan, before anyone signs: no rights, no person.
    assert_eq!(
        conn_plan(&site, "103", Some(site.lena)).unwrap_err().code(),
        "no_rights"
    );
    assert!(conn_plan(&site, "101", None)
        .unwrap_err()
        .message()
        .contains("scan or type the person"));
    assert_eq!(site.state(), before, "a plan writes nothing");
    site.issue(&operator(), "101", site.janis, None);
    site.at(T0 + 60);
    site.db.store.handover.require_signature = atslegas_core::store::SignatureRule::IssueAndReturn;
    match conn_plan(&site, "101", None).unwrap() {
        desk::Plan::Return {
            keys,
            person_name,
            signature_required,
            ..
        } => {
            assert_eq!(keys, vec!["101"]);
            assert_eq!(person_name.as_deref(), Some("Jānis Bērziņš"));
            assert!(signature_required);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn scanning_an_available_key_with_a_person_chosen_issues_it_to_them() {
    let mut site = site();
    let before = site.state();
    let req = IssueRequest {
        due_back_at: Some(T0 + 3_600),
        comment: Some("for the meeting".into()),
        ..Default::default()
    };
    let out = desk::hand_over(
        &mut site.db.store,
        &operator(),
        "102",
        Some(site.girts),
        &req,
        &[],
    )
    .unwrap();
    match out {
        Outcome::Issued { entry, .. } => {
            assert_eq!(entry.person_id, Some(site.girts));
            assert_eq!(entry.due_back_at, Some(T0 + 3_600));
            assert_eq!(entry.comment.as_deref(), Some("for the meeting"));
        }
        other => panic!("{other:?}"),
    }
    let k = site.key("102");
    assert_eq!(
        (k.status.as_str(), k.holder_person_id),
        ("issued", Some(site.girts))
    );
    assert_eq!(site.state().audit_rows, before.audit_rows + 1);
}

#[test]
fn scanning_a_key_out_with_someone_else_is_refused_and_changes_nothing() {
    let mut site = site();
    site.issue(&operator(), "101", site.janis, None);
    let before = site.state();
    let r = site.scan("101", Some(site.girts));
    let e = refused(&site, &before, r, "key_already_issued");
    assert_eq!(e.details()["holder"], "Jānis Bērziņš");
    assert_eq!(site.key("101").holder_person_id, Some(site.janis));
}

#[test]
fn scanning_an_available_key_with_no_person_asks_for_the_person() {
    let mut site = site();
    let before = site.state();
    let r = site.scan("102", None);
    let e = refused(&site, &before, r, "invalid_input");
    assert_eq!(e.details()["field"], "person");
    assert!(e.message().contains("102"), "{}", e.message());
}

#[test]
fn scanning_a_retired_or_lost_key_says_it_cannot_be_handed_out() {
    let mut site = site();
    let id = site.key("103").id;
    keys::set_retired(&mut site.db.store, &admin(), id, true).unwrap();
    atslegas_core::lost::report_lost(&mut site.db.store, &operator(), "102", "Not on its hook")
        .unwrap();
    let before = site.state();
    for (key, status) in [("103", "retired"), ("102", "lost")] {
        for who in [None, Some(site.janis)] {
            let r = site.scan(key, who);
            let e = refused(&site, &before, r, "key_not_available");
            assert_eq!(e.details()["status"], status, "{key} {who:?}");
        }
    }
    let r = site.scan("999", None);
    refused(&site, &before, r, "not_found");
}

// ---------------------------------------------------------------------------------------
// Key-log search

/// Six movements, ten seconds apart, oldest first:
/// 10 issue 101 -> Jānis (admin)     20 issue 102 -> Ģirts (operator)
/// 30 return 101 (operator)          40 issue 101 -> Ģirts (admin)
/// 50 return 102 (admin)             60 issue 103 -> Jānis (operator)
fn history() -> Site {
    let mut s = site();
    let (a, o) = (admin(), operator());
    s.at(T0 + 10);
    s.issue(&a, "101", s.janis, None);
    s.at(T0 + 20);
    s.issue(&o, "102", s.girts, None);
    s.at(T0 + 30);
    s.give_back(&o, "101");
    s.at(T0 + 40);
    s.issue(&a, "101", s.girts, Some(T0 + 1_000));
    s.at(T0 + 50);
    s.give_back(&a, "102");
    s.at(T0 + 60);
    s.issue(&o, "103", s.janis, None);
    s
}

/// The times (seconds after T0) of the rows `f` finds, in the order returned.
fn found(site: &Site, f: LogFilter) -> Vec<i64> {
    keylog::search(site.db.store.conn(), &f)
        .unwrap()
        .iter()
        .map(|e| e.at - T0)
        .collect()
}

#[test]
fn the_key_log_lists_everything_newest_first_with_names_joined() {
    let site = history();
    assert_eq!(found(&site, LogFilter::default()), [60, 50, 40, 30, 20, 10]);
    let first = &keylog::search(site.db.store.conn(), &LogFilter::default()).unwrap()[0];
    assert_eq!(first.key_number, "103");
    assert_eq!(first.person_name.as_deref(), Some("Jānis Bērziņš"));
    assert_eq!(first.user_name, "operator-tester");
}

#[test]
fn each_key_log_filter_narrows_to_its_rows() {
    let site = history();
    let key = |n: &str| Some(site.key(n).id);
    let f = LogFilter::default;
    // start inclusive, end exclusive
    assert_eq!(
        found(
            &site,
            LogFilter {
                start: Some(T0 + 20),
                end: Some(T0 + 50),
                ..f()
            }
        ),
        [40, 30, 20]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                start: Some(T0 + 41),
                ..f()
            }
        ),
        [60, 50]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                end: Some(T0 + 20),
                ..f()
            }
        ),
        [10]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                key_id: key("101"),
                ..f()
            }
        ),
        [40, 30, 10]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                person_id: Some(site.girts),
                ..f()
            }
        ),
        [50, 40, 20]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                person_id: Some(site.lena),
                ..f()
            }
        ),
        Vec::<i64>::new()
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                actor: Some("operator-tester".into()),
                ..f()
            }
        ),
        [60, 30, 20]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                action: Some("returned".into()),
                ..f()
            }
        ),
        [50, 30]
    );
    // Filters combine.
    assert_eq!(
        found(
            &site,
            LogFilter {
                key_id: key("101"),
                action: Some("issued".into()),
                ..f()
            }
        ),
        [40, 10]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                key_id: key("101"),
                person_id: Some(site.janis),
                ..f()
            }
        ),
        [30, 10]
    );
    assert_eq!(
        found(
            &site,
            LogFilter {
                actor: Some("admin-tester".into()),
                start: Some(T0 + 15),
                end: Some(T0 + 45),
                ..f()
            }
        ),
        [40]
    );
}

#[test]
fn the_key_log_pages_without_gaps_or_repeats() {
    let site = history();
    let page = |limit, offset| {
        found(
            &site,
            LogFilter {
                limit: Some(limit),
                offset: Some(offset),
                ..Default::default()
            },
        )
    };
    assert_eq!(page(2, 0), [60, 50]);
    assert_eq!(page(2, 2), [40, 30]);
    assert_eq!(page(2, 4), [20, 10]);
    assert_eq!(page(2, 6), Vec::<i64>::new());
    // A limit of 0 is one row, not everything.
    assert_eq!(page(0, 0), [60]);
}

// ---------------------------------------------------------------------------------------
// Groups

#[test]
fn a_group_lists_its_members_and_keys_and_a_person_their_groups() {
    let mut site = site();
    let conn = site.db.store.conn();
    let staff = groups::find(conn, "Staff").unwrap();
    assert_eq!(
        names(&groups::members(conn, staff.id).unwrap()),
        [
            "Anna Bērziņa",
            "Jānis Bērziņš",
            "Pēteris Ozols",
            "Ģirts Ķēniņš"
        ]
    );
    let numbers: Vec<String> = groups::allowed_keys(conn, staff.id)
        .unwrap()
        .into_iter()
        .map(|k| k.number)
        .collect();
    assert_eq!(numbers, ["101", "102", "103", "777"]);
    assert!(groups::of_person(conn, site.lena).unwrap().is_empty());

    groups::create(&mut site.db.store, &admin(), "Night", None).unwrap();
    groups::add_members(
        &mut site.db.store,
        &admin(),
        "Night",
        &["E-1".into(), "E-3".into()],
    )
    .unwrap();
    let conn = site.db.store.conn();
    let of = |id| -> Vec<String> {
        groups::of_person(conn, id)
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect()
    };
    assert_eq!(of(site.janis), ["Night", "Staff"]);
    assert_eq!(of(site.lena), ["Night"]);
    let night = groups::find(conn, "Night").unwrap();
    assert_eq!(night.member_count, 2);
    assert!(groups::allowed_keys(conn, night.id).unwrap().is_empty());
}

#[test]
fn removing_members_writes_one_audit_row_and_takes_their_rights_away() {
    let mut site = site();
    let before = site.audit_rows();
    let g = groups::remove_members(
        &mut site.db.store,
        &admin(),
        "Staff",
        &[site.girts, site.lena],
    )
    .unwrap();
    assert_eq!(g.member_count, 3);
    let a = site.one_audit_row_since(before);
    assert_eq!(
        (a.component.as_str(), a.operation.as_str()),
        ("groups", "update")
    );
    assert_eq!(a.record_id, Some(g.id.to_string()));
    // Only the member that was there is reported as removed.
    assert_eq!(
        a.after.unwrap()["members_removed"],
        serde_json::json!([site.girts])
    );
    let conn = site.db.store.conn();
    assert!(!names(&groups::members(conn, g.id).unwrap()).contains(&"Ģirts Ķēniņš".to_string()));
    site.assert_no_rights("101", site.girts);
}

#[test]
fn renaming_a_group_writes_one_audit_row_and_a_taken_name_is_refused() {
    let mut site = site();
    let before = site.audit_rows();
    let g = groups::update(
        &mut site.db.store,
        &admin(),
        "Staff",
        "Personāls",
        Some("Visi darbinieki"),
    )
    .unwrap();
    assert_eq!(
        (g.name.as_str(), g.description.as_deref()),
        ("Personāls", Some("Visi darbinieki"))
    );
    assert_eq!(g.member_count, 4);
    let a = site.one_audit_row_since(before);
    assert_eq!(a.before.unwrap()["name"], "Staff");
    assert_eq!(a.after.unwrap()["name"], "Personāls");
    assert_eq!(
        groups::find(site.db.store.conn(), "Staff")
            .unwrap_err()
            .code(),
        "not_found"
    );
    // Rights follow the group, not its name.
    site.issue(&operator(), "101", site.janis, None);

    groups::create(&mut site.db.store, &admin(), "Night", None).unwrap();
    let snap = site.state();
    let r = groups::update(&mut site.db.store, &admin(), "Night", "personāls", None);
    refused(&site, &snap, r, "duplicate");
    let r = groups::update(&mut site.db.store, &admin(), "Night", "  ", None);
    refused(&site, &snap, r, "invalid_input");
}

#[test]
fn deleting_a_group_keeps_its_persons_and_keys_and_records_what_it_held() {
    let mut site = site();
    let staff = groups::find(site.db.store.conn(), "Staff").unwrap();
    let before = site.state();
    groups::delete(&mut site.db.store, &admin(), "Staff").unwrap();
    let after = site.state();
    assert_eq!(after.audit_rows, before.audit_rows + 1);
    assert_eq!(
        (after.persons, after.keys),
        (before.persons.clone(), before.keys.clone())
    );
    assert_eq!(
        (after.groups, after.group_members, after.group_keys),
        (0, 0, 0)
    );
    let a = last_audit(&site.db.raw());
    assert_eq!(
        (a.component.as_str(), a.operation.as_str()),
        ("groups", "delete")
    );
    assert_eq!(a.record_id, Some(staff.id.to_string()));
    let held = a.before.unwrap();
    assert_eq!(held["name"], "Staff");
    assert_eq!(held["member_ids"].as_array().unwrap().len(), 4);
    assert_eq!(held["key_ids"].as_array().unwrap().len(), 4);
    assert!(a.after.is_none());
    // Nobody has rights now.
    site.assert_no_rights("101", site.janis);
    let snap = site.state();
    let r = groups::delete(&mut site.db.store, &admin(), "Staff");
    refused(&site, &snap, r, "not_found");
}

#[test]
fn only_an_admin_may_change_groups() {
    let mut site = site();
    let before = site.state();
    for who in [operator(), viewer()] {
        let s = &mut site.db.store;
        let results = [
            groups::remove_members(s, &who, "Staff", &[site.janis]).map(|_| ()),
            groups::update(s, &who, "Staff", "Other", None).map(|_| ()),
            groups::delete(s, &who, "Staff"),
        ];
        for r in results {
            assert_eq!(r.unwrap_err().code(), "not_allowed");
        }
        assert_eq!(site.state(), before);
    }
}

// ---------------------------------------------------------------------------------------
// Overdue keys

#[test]
fn the_overdue_list_holds_keys_out_past_their_due_time_only() {
    let mut site = site();
    site.issue(&operator(), "101", site.janis, Some(T0 + 100));
    site.issue(&operator(), "102", site.girts, Some(T0 + 200));
    site.issue(&operator(), "103", site.janis, None);
    let overdue = |site: &Site, at: i64, holder: Option<i64>| -> Vec<String> {
        let q = KeyQuery {
            overdue_at: Some(at),
            holder_person_id: holder,
            ..Default::default()
        };
        keys::list(site.db.store.conn(), &q)
            .unwrap()
            .into_iter()
            .map(|k| k.number)
            .collect()
    };
    assert!(overdue(&site, T0 + 50, None).is_empty());
    // Due at T0+100: not overdue at that very second, overdue after it.
    assert!(overdue(&site, T0 + 100, None).is_empty());
    assert_eq!(overdue(&site, T0 + 150, None), ["101"]);
    assert_eq!(overdue(&site, T0 + 10_000, None), ["101", "102"]);
    assert_eq!(overdue(&site, T0 + 10_000, Some(site.girts)), ["102"]);
    // A key that came back is no longer overdue.
    site.at(T0 + 300);
    site.give_back(&operator(), "101");
    assert_eq!(overdue(&site, T0 + 10_000, None), ["102"]);
    assert_eq!(
        overdue(&site, T0 + 10_000, Some(site.janis)),
        Vec::<String>::new()
    );
}

// ---------------------------------------------------------------------------------------
// Settings

fn settings(site: &Site) -> (std::path::PathBuf, Config) {
    let path = site.db.dir.path().join("config.json");
    let c = Config::load_or_create(&path).unwrap();
    (path, c)
}

#[test]
fn an_admin_changes_settings_the_file_and_one_audit_row_follow() {
    let mut site = site();
    let (path, c) = settings(&site);
    let before = site.audit_rows();
    let change = SettingsChange {
        site_name: Some(" Rīgas skola ".into()),
        language: Some("en".into()),
        timeout_seconds: Some(900),
        remind_after_days: Some(14),
        ..Default::default()
    };
    let next = config::update_settings(&mut site.db.store, &admin(), &path, &c, &change).unwrap();
    assert_eq!(next.site_name, "Rīgas skola");
    assert_eq!(next.ui.language, "en");
    assert_eq!(next.client_sessions.timeout_seconds, 900);
    assert_eq!(next.backup.remind_after_days, 14);
    // Everything else is as it was, and the file says the same.
    assert_eq!(next.db, c.db);
    assert_eq!(Config::load_or_create(&path).unwrap(), next);
    assert_eq!(site.db.store.security.session_timeout_seconds, 900);
    let a = site.one_audit_row_since(before);
    assert_eq!(
        (a.component.as_str(), a.operation.as_str()),
        ("config", "update")
    );
    assert_eq!(a.actor, "admin-tester");
    assert_eq!(a.before.unwrap()["site_name"], "Atslegas");
    let after = a.after.unwrap();
    assert_eq!(after["site_name"], "Rīgas skola");
    assert_eq!(after["timeout_seconds"], 900);
}

#[test]
fn settings_out_of_range_are_refused_and_the_file_is_unchanged() {
    let mut site = site();
    let (path, c) = settings(&site);
    let bytes = std::fs::read(&path).unwrap();
    let before = site.audit_rows();
    let none = SettingsChange::default;
    let bad = [
        (
            SettingsChange {
                timeout_seconds: Some(59),
                ..none()
            },
            "timeout_seconds",
        ),
        (
            SettingsChange {
                timeout_seconds: Some(86_401),
                ..none()
            },
            "timeout_seconds",
        ),
        (
            SettingsChange {
                remind_after_days: Some(0),
                ..none()
            },
            "remind_after_days",
        ),
        (
            SettingsChange {
                remind_after_days: Some(366),
                ..none()
            },
            "remind_after_days",
        ),
        (
            SettingsChange {
                language: Some("de".into()),
                ..none()
            },
            "language",
        ),
        (
            SettingsChange {
                site_name: Some("   ".into()),
                ..none()
            },
            "site_name",
        ),
    ];
    for (change, field) in bad {
        let e =
            config::update_settings(&mut site.db.store, &admin(), &path, &c, &change).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{field}");
        assert_eq!(e.details()["field"], field);
    }
    // The edges are allowed.
    let edge = SettingsChange {
        timeout_seconds: Some(60),
        remind_after_days: Some(365),
        ..none()
    };
    let c = Config::load_or_create(&path).unwrap();
    config::update_settings(&mut site.db.store, &admin(), &path, &c, &edge).unwrap();
    assert_eq!(site.audit_rows(), before + 1);
    assert_ne!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_viewer_or_operator_cannot_change_settings_and_the_file_is_unchanged() {
    let mut site = site();
    let (path, c) = settings(&site);
    let bytes = std::fs::read(&path).unwrap();
    let before = site.audit_rows();
    let change = SettingsChange {
        site_name: Some("Cits".into()),
        ..Default::default()
    };
    for who in [viewer(), operator()] {
        let e = config::update_settings(&mut site.db.store, &who, &path, &c, &change).unwrap_err();
        assert_eq!(e.code(), "not_allowed");
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(site.audit_rows(), before);
    assert_eq!(
        site.db.store.security.session_timeout_seconds,
        c.client_sessions.timeout_seconds
    );
}

/// What the window paints first after sign-in comes from one core call: the counts, the
/// 37-day strip around today, the keys out (overdue first), the keys due and the backup
/// reminder as this user may act on it.
#[test]
fn the_dashboard_is_read_in_one_call_as_the_signed_in_user_sees_it() {
    let mut site = site();
    site.at(T0 - 3 * 86_400);
    site.issue(&operator(), "101", site.janis, Some(T0 - 86_400));
    site.issue(&operator(), "102", site.girts, Some(T0 + 10 * 86_400));
    site.at(T0);
    let today = chrono::DateTime::from_timestamp(T0, 0)
        .unwrap()
        .with_timezone(&chrono::Local)
        .date_naive();
    let d = dashboard::load(&site.db.store, &viewer(), today, 7).unwrap();
    assert_eq!(d.now, T0);
    assert_eq!((d.summary.keys_out, d.summary.keys_overdue), (2, 1));
    assert_eq!(d.calendar.len(), 37);
    assert_eq!(d.calendar[keylog::DAYS_BEFORE as usize].date, today);
    let out: Vec<&str> = d.keys_out.iter().map(|k| k.number.as_str()).collect();
    assert_eq!(out, ["101", "102"], "the overdue key first");
    assert_eq!(d.due.len(), 1);
    assert_eq!(d.due[0].key_number, "101");
    // Nothing moved today (both keys went out three days ago): today's page is empty.
    assert!(d.today.is_empty(), "{:?}", d.today);
    assert_eq!(d.day_page, dashboard::DAY_PAGE);
    site.issue(&operator(), "103", site.anna, None);
    let d = dashboard::load(&site.db.store, &viewer(), today, 7).unwrap();
    let moved: Vec<&str> = d.today.iter().map(|e| e.key_number.as_str()).collect();
    assert_eq!(
        moved,
        ["103"],
        "today's first page comes with the dashboard"
    );
    assert_eq!(d.last_verified_backup, None);
    assert_eq!(d.remind_after_days, 7);
    assert!(!d.backup.can_back_up, "a viewer is told to ask an admin");
    assert!(
        dashboard::load(&site.db.store, &admin(), today, 7)
            .unwrap()
            .backup
            .can_back_up
    );
    let _ = (site.peteris, site.lena);
}

// ---------------------------------------------------------------------------------------
// Health

#[test]
fn about_reads_the_sizes_and_versions_without_reading_a_table() {
    let mut site = site();
    site.issue(&operator(), "101", site.janis, None);
    let h = db::health(site.db.store.conn(), &site.db.path).unwrap();
    assert_eq!(h.schema_version, db::SCHEMA_VERSION);
    assert!(h.size_bytes > 0);
    assert!(h.wal_bytes > 0, "the issue is still in the WAL: {h:?}");
    assert!(h.sqlite_version.starts_with("3."), "{}", h.sqlite_version);
    let _ = (site.anna, site.peteris, site.girts, site.lena);
}

#[test]
fn an_intact_database_passes_the_integrity_check() {
    let mut site = site();
    site.issue(&operator(), "101", site.janis, None);
    let found = db::check_integrity(&site.db.path, &Cancel::new()).unwrap();
    assert!(found.ok, "{found:?}");
    assert!(found.problems.is_empty());
}

/// The check runs on a connection of its own: the Desk's store may be in the middle of a
/// write meanwhile, and the check sees the last committed register.
#[test]
fn the_integrity_check_does_not_wait_for_the_store() {
    let site = site();
    site.db
        .store
        .conn()
        .execute_batch("BEGIN IMMEDIATE; UPDATE persons SET full_name = full_name;")
        .unwrap();
    let found = db::check_integrity(&site.db.path, &Cancel::new()).unwrap();
    assert!(found.ok, "{found:?}");
    site.db.store.conn().execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_damaged_index_is_named_by_the_integrity_check() {
    let site = site();
    let conn = site.db.store.conn();
    // Everything into the main file, then one index's root page overwritten with zeros,
    // as a failing disk would leave it.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let (index, root): (String, i64) = conn
        .query_row(
            "SELECT name, rootpage FROM sqlite_schema
             WHERE type = 'index' AND tbl_name = 'persons' AND rootpage > 1 LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&site.db.path)
            .unwrap();
        f.seek(SeekFrom::Start(((root - 1) * page_size) as u64))
            .unwrap();
        f.write_all(&vec![0u8; page_size as usize]).unwrap();
    }
    let found = db::check_integrity(&site.db.path, &Cancel::new()).unwrap();
    assert!(!found.ok);
    assert!(!found.problems.is_empty());
    assert!(
        found.problems.len() <= db::INTEGRITY_PROBLEMS_SHOWN as usize,
        "{found:?}"
    );
    assert!(
        found
            .problems
            .iter()
            .any(|p| p.contains(&format!("page {root}"))
                || p.contains(&index)
                || p.contains("malformed")),
        "the damage to page {root} ({index}) is said: {found:?}"
    );
}

#[test]
fn a_cancelled_integrity_check_says_so() {
    let site = site();
    let cancel = Cancel::new();
    cancel.cancel();
    let e = db::check_integrity(&site.db.path, &cancel).unwrap_err();
    assert_eq!(e.code(), "cancelled");
}
