//! The handover record (issue 13, SPEC §10) on a real database file: receipts numbered by
//! the schema, key sets handed over all or nothing, signatures required or refused, and
//! what each of them leaves in the audit trail.

use atslegas_core::config::{self, Config, SettingsChange};
use atslegas_core::keylog::{self, Handover, IssueRequest, PersonRef, ReturnRequest};
use atslegas_core::keys::{self, KeyInput};
use atslegas_core::receipts;
use atslegas_core::sets::{self, SetInput};
use atslegas_core::signature::{self, Signature};
use atslegas_core::store::SignatureRule;
use atslegas_core::{audit, Error};
use atslegas_tests::{
    add_keys_and_group, add_person, admin, assert_refused_unchanged, count, last_audit, operator,
    snapshot, value, CoreDb,
};
use serde_json::json;

const PAD: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 200"><path d="M20 150 L80 40 L140 150 Q200 20 260 120"/></svg>"#;

/// Jānis (E-1) and Ģirts (E-2) may receive 101-104 (group "Staff"); key 105 is in no
/// group. Set "Ring A" (tag R-1) holds 101, 102, 103.
fn site() -> CoreDb {
    let mut db = CoreDb::new();
    let s = &mut db.store;
    add_person(s, "E-1", "Jānis Bērziņš", "B-1");
    add_person(s, "E-2", "Ģirts Ķēniņš", "B-2");
    add_keys_and_group(
        s,
        &["101", "102", "103", "104"],
        "Staff",
        None,
        &["E-1", "E-2"],
    );
    keys::create(s, &admin(), &KeyInput::numbered("105")).unwrap();
    s.handover.site_name = "Rīgas Ģimnāzija".into();
    s.handover.terms_lv = "Atslēgu nedrīkst nodot citam.".into();
    sets::create(
        s,
        &admin(),
        &ring("Ring A", Some("R-1"), &["101", "102", "103"]),
    )
    .unwrap();
    db
}

fn ring(name: &str, tag: Option<&str>, keys: &[&str]) -> SetInput {
    SetInput {
        name: name.into(),
        tag: tag.map(str::to_string),
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

fn to(code: &str) -> PersonRef {
    PersonRef::Code(code.into())
}

fn issue(db: &mut CoreDb, what: &str, who: &str) -> Result<Handover, Error> {
    keylog::issue_keys(
        &mut db.store,
        &operator(),
        &[what],
        &to(who),
        &IssueRequest::default(),
    )
}

fn give_back(db: &mut CoreDb, what: &str, req: ReturnRequest) -> Result<Handover, Error> {
    keylog::return_keys(&mut db.store, &operator(), &[what], &req)
}

fn numbers(h: &Handover) -> Vec<&str> {
    h.entries.iter().map(|e| e.key_number.as_str()).collect()
}

fn status(db: &CoreDb, key: &str) -> String {
    keys::find(db.store.conn(), key).unwrap().status
}

#[test]
fn every_issue_and_return_gets_the_next_receipt_number_and_the_key_log_names_it() {
    let mut db = site();
    let first = issue(&mut db, "104", "E-1").unwrap();
    let back = give_back(&mut db, "104", ReturnRequest::default()).unwrap();
    let again = issue(&mut db, "104", "E-2").unwrap();
    assert_eq!((first.receipt, back.receipt, again.receipt), (1, 2, 3));
    let conn = db.raw();
    let named: Vec<Option<i64>> =
        atslegas_tests::column(&conn, "SELECT receipt_number FROM key_log ORDER BY id");
    assert_eq!(named, vec![Some(1), Some(2), Some(3)]);

    let r = receipts::get(db.store.conn(), 1).unwrap();
    assert_eq!(r.kind, "issue");
    assert_eq!(r.person.as_ref().unwrap().full_name, "Jānis Bērziņš");
    assert_eq!(r.person.as_ref().unwrap().code.as_deref(), Some("E-1"));
    assert_eq!(r.keys.len(), 1);
    assert_eq!(r.keys[0].number, "104");
    assert_eq!(r.user, "operator-tester");
    assert_eq!(r.site_name, "Rīgas Ģimnāzija");
    assert_eq!(r.terms_lv.as_deref(), Some("Atslēgu nedrīkst nodot citam."));
    assert_eq!(r.terms_en, None, "empty terms are kept as none");
    assert!(!r.signed);
    // The receipt prints the chain hash of its key-log row's audit row.
    let audit_hash: String = value(
        &conn,
        "SELECT hash FROM audit_log WHERE component = 'keys' AND json_extract(after, '$.receipt') = 1",
    );
    assert_eq!(r.audit_hash, audit_hash);
    assert_eq!(receipts::get(db.store.conn(), 2).unwrap().kind, "return");
    assert_eq!(
        receipts::get(db.store.conn(), 4).unwrap_err().code(),
        "not_found"
    );
}

#[test]
fn a_receipt_keeps_what_it_said_when_the_settings_change_later() {
    let mut db = site();
    issue(&mut db, "104", "E-1").unwrap();
    db.store.handover.site_name = "Cits nosaukums".into();
    db.store.handover.terms_lv = "Citi noteikumi".into();
    let r = receipts::get(db.store.conn(), 1).unwrap();
    assert_eq!(r.site_name, "Rīgas Ģimnāzija");
    assert_eq!(r.terms_lv.as_deref(), Some("Atslēgu nedrīkst nodot citam."));
}

#[test]
fn the_schema_refuses_a_skipped_a_reused_or_a_changed_receipt_number() {
    let mut db = site();
    issue(&mut db, "104", "E-1").unwrap();
    let conn = db.raw();
    let insert = |n: i64| {
        conn.execute(
            "INSERT INTO receipts (number, kind, at, actor, site_name) VALUES (?1, 'issue', 1, 'x', 's')",
            [n],
        )
    };
    for n in [1, 3, 0] {
        let e = insert(n).unwrap_err().to_string();
        assert!(e.contains("receipt_not_next"), "number {n}: {e}");
    }
    for sql in [
        "UPDATE receipts SET number = 7 WHERE number = 1",
        "UPDATE receipts SET person_id = NULL WHERE number = 1",
        "UPDATE receipts SET signature = '<svg/>' WHERE number = 1",
        "UPDATE receipts SET printed = -1 WHERE number = 1",
        "DELETE FROM receipts WHERE number = 1",
    ] {
        let e = conn.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("append_only"), "{sql}: {e}");
    }
    // Counting prints is the one change a receipt takes.
    conn.execute(
        "UPDATE receipts SET printed = printed + 1 WHERE number = 1",
        [],
    )
    .unwrap();
    // A key-log row cannot name a receipt of another kind or person.
    let e = conn
        .execute(
            "INSERT INTO key_log (action, key_id, person_id, actor, at, receipt_number)
             SELECT 'returned', id, holder_person_id, 'x', 2, 1 FROM keys WHERE number = '104'",
            [],
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("receipt_mismatch"), "{e}");
    insert(2).unwrap();
}

#[test]
fn a_set_is_issued_whole_on_one_receipt_by_its_tag_or_its_name() {
    let mut db = site();
    let h = issue(&mut db, "R-1", "E-1").unwrap();
    assert_eq!(h.set.as_deref(), Some("Ring A"));
    assert_eq!(numbers(&h), vec!["101", "102", "103"]);
    assert!(h
        .entries
        .iter()
        .all(|e| e.person_name.as_deref() == Some("Jānis Bērziņš")));
    let r = receipts::get(db.store.conn(), h.receipt).unwrap();
    assert_eq!(r.set_name.as_deref(), Some("Ring A"));
    let on_receipt: Vec<&str> = r.keys.iter().map(|k| k.number.as_str()).collect();
    assert_eq!(on_receipt, vec!["101", "102", "103"]);
    // One audit row per key, each naming the receipt.
    let conn = db.raw();
    let n: i64 = value(
        &conn,
        "SELECT count(*) FROM audit_log WHERE component = 'keys' AND json_extract(after, '$.receipt') = 1",
    );
    assert_eq!(n, 3);
    // By name, the set comes back whole.
    let back = give_back(&mut db, "ring a", ReturnRequest::default()).unwrap();
    assert_eq!(numbers(&back), vec!["101", "102", "103"]);
    assert_eq!(back.receipt, 2);
    assert!(["101", "102", "103"]
        .iter()
        .all(|k| status(&db, k) == "available"));
}

#[test]
fn a_set_with_one_key_out_is_not_issued_at_all_and_the_message_names_that_key() {
    let mut db = site();
    issue(&mut db, "102", "E-2").unwrap();
    let before = snapshot(&db.raw());
    let receipts_before = count(&db.raw(), "receipts");
    let e = assert_refused_unchanged(
        &db.raw(),
        &before,
        issue(&mut db, "R-1", "E-1"),
        "key_already_issued",
    );
    assert!(e.message().contains("102"), "{}", e.message());
    assert!(e.message().contains("Ģirts Ķēniņš"), "{}", e.message());
    assert_eq!(
        count(&db.raw(), "receipts"),
        receipts_before,
        "no receipt number used"
    );
    // The next handover takes the next number: none was skipped.
    assert_eq!(issue(&mut db, "104", "E-1").unwrap().receipt, 2);
}

#[test]
fn a_set_with_a_retired_key_or_a_key_outside_the_rights_is_refused_naming_it() {
    let mut db = site();
    sets::create(
        &mut db.store,
        &admin(),
        &ring("Ring B", None, &["104", "105"]),
    )
    .unwrap();
    let before = snapshot(&db.raw());
    let e = assert_refused_unchanged(
        &db.raw(),
        &before,
        issue(&mut db, "Ring B", "E-1"),
        "no_rights",
    );
    assert!(e.message().contains("105"), "{}", e.message());
    // An admin's override with a reason issues the whole set, the reason on each row.
    let req = IssueRequest {
        override_reason: Some("the caretaker is away".into()),
        ..IssueRequest::default()
    };
    let h = keylog::issue_keys(&mut db.store, &admin(), &["Ring B"], &to("E-1"), &req).unwrap();
    assert_eq!(numbers(&h), vec!["104", "105"]);
    assert_eq!(h.entries[0].override_reason, None, "104 was allowed");
    assert_eq!(
        h.entries[1].override_reason.as_deref(),
        Some("the caretaker is away")
    );
    give_back(&mut db, "Ring B", ReturnRequest::default()).unwrap();
    // A retired key stops the set too.
    let id = keys::find(db.store.conn(), "105").unwrap().id;
    keys::set_retired(&mut db.store, &admin(), id, true).unwrap();
    let before = snapshot(&db.raw());
    let e = assert_refused_unchanged(
        &db.raw(),
        &before,
        issue(&mut db, "Ring B", "E-1"),
        "key_not_available",
    );
    assert!(
        e.message().contains("105") && e.message().contains("retired"),
        "{}",
        e.message()
    );
}

#[test]
fn keys_missing_from_a_returned_ring_stay_out_and_are_named() {
    let mut db = site();
    issue(&mut db, "R-1", "E-1").unwrap();
    let back = give_back(
        &mut db,
        "R-1",
        ReturnRequest {
            missing: vec!["103".into()],
            ..ReturnRequest::default()
        },
    )
    .unwrap();
    assert_eq!(numbers(&back), vec!["101", "102"]);
    assert_eq!(back.missing, vec!["103"]);
    assert_eq!(status(&db, "103"), "issued");
    let r = receipts::get(db.store.conn(), back.receipt).unwrap();
    assert_eq!(r.keys.len(), 2, "the receipt lists what came back");
    // The ring again, later: only 103 is out, so returning the set now is refused
    // naming a key that is not out; 103 alone comes back.
    let e = give_back(&mut db, "R-1", ReturnRequest::default()).unwrap_err();
    assert_eq!(e.code(), "key_not_issued");
    assert!(e.message().contains("101"), "{}", e.message());
    give_back(&mut db, "103", ReturnRequest::default()).unwrap();
    // A key that is not in the set cannot be named missing.
    issue(&mut db, "R-1", "E-1").unwrap();
    let e = give_back(
        &mut db,
        "R-1",
        ReturnRequest {
            missing: vec!["104".into()],
            ..ReturnRequest::default()
        },
    )
    .unwrap_err();
    assert!(
        e.message().contains("104 is not in this set"),
        "{}",
        e.message()
    );
}

#[test]
fn a_set_whose_keys_went_to_different_persons_is_returned_key_by_key() {
    let mut db = site();
    issue(&mut db, "101", "E-1").unwrap();
    issue(&mut db, "102", "E-2").unwrap();
    issue(&mut db, "103", "E-1").unwrap();
    let before = snapshot(&db.raw());
    let e = assert_refused_unchanged(
        &db.raw(),
        &before,
        give_back(&mut db, "R-1", ReturnRequest::default()),
        "invalid_input",
    );
    assert!(e.message().contains("different persons"), "{}", e.message());
}

#[test]
fn a_required_signature_is_enforced_by_the_core_for_issues_then_returns() {
    let mut db = site();
    db.store.handover.require_signature = SignatureRule::Issue;
    let before = snapshot(&db.raw());
    let e = assert_refused_unchanged(
        &db.raw(),
        &before,
        issue(&mut db, "104", "E-1"),
        "signature_required",
    );
    assert!(e.message().contains("signature"), "{}", e.message());
    assert_eq!(count(&db.raw(), "receipts"), 0);
    let signed = IssueRequest {
        signature: Some(PAD.into()),
        ..IssueRequest::default()
    };
    let h = keylog::issue_keys(&mut db.store, &operator(), &["104"], &to("E-1"), &signed).unwrap();
    // A return needs none under "issue"...
    give_back(&mut db, "104", ReturnRequest::default()).unwrap();
    // ...and one under "issue_and_return".
    keylog::issue_keys(&mut db.store, &operator(), &["104"], &to("E-1"), &signed).unwrap();
    db.store.handover.require_signature = SignatureRule::IssueAndReturn;
    let e = give_back(&mut db, "104", ReturnRequest::default()).unwrap_err();
    assert_eq!(e.code(), "signature_required");
    assert_eq!(status(&db, "104"), "issued");
    give_back(
        &mut db,
        "104",
        ReturnRequest {
            signature: Some(PAD.into()),
            ..ReturnRequest::default()
        },
    )
    .unwrap();

    // The stored signature is the rewritten SVG, and its hash is in the audit chain.
    let r = receipts::get(db.store.conn(), h.receipt).unwrap();
    assert!(r.signed);
    let stored = r.signature.unwrap();
    assert_eq!(stored, Signature::parse(PAD).unwrap().to_svg());
    let conn = db.raw();
    let in_audit: String = value(
        &conn,
        "SELECT json_extract(after, '$.signature_sha256') FROM audit_log
          WHERE component = 'keys' AND json_extract(after, '$.receipt') = 1",
    );
    assert_eq!(in_audit, signature::sha256(&stored));
    assert!(audit::verify(&conn).unwrap().ok);
}

#[test]
fn a_signature_that_is_not_an_svg_of_paths_issues_nothing() {
    let mut db = site();
    let before = snapshot(&db.raw());
    for bad in [
        "<svg><script>alert(1)</script></svg>",
        "not xml at all",
        &format!("<svg><path d='M0 0 {}'/></svg>", "L1 1 ".repeat(60_000)),
    ] {
        let req = IssueRequest {
            signature: Some(bad.to_string()),
            ..IssueRequest::default()
        };
        let e = assert_refused_unchanged(
            &db.raw(),
            &before,
            keylog::issue_keys(&mut db.store, &operator(), &["104"], &to("E-1"), &req),
            "invalid_input",
        );
        assert!(e.message().contains("not a signature"), "{}", e.message());
    }
    assert_eq!(count(&db.raw(), "receipts"), 0);
}

#[test]
fn sets_are_named_so_the_desk_can_tell_them_from_keys_and_persons() {
    let mut db = site();
    let a = admin();
    let refused = |db: &mut CoreDb, input: SetInput, says: &str| {
        let e = sets::create(&mut db.store, &a, &input).unwrap_err();
        assert!(e.message().contains(says), "{says}: {}", e.message());
    };
    refused(&mut db, ring("104", None, &["104"]), "key number 104");
    refused(
        &mut db,
        ring("Ring C", Some("B-1"), &["104"]),
        "Jānis Bērziņš",
    );
    refused(
        &mut db,
        ring("Ring C", Some("E-2"), &["104"]),
        "Ģirts Ķēniņš",
    );
    refused(&mut db, ring("ring a", None, &["104"]), "Ring A");
    refused(&mut db, ring("Ring C", Some("Ring A"), &["104"]), "Ring A");
    refused(&mut db, ring("Ring C", Some("r-1"), &["104"]), "Ring A");
    refused(&mut db, ring("Ring C", None, &[]), "at least one key");
    refused(&mut db, ring("Ring C", None, &["999"]), "999");
    refused(&mut db, ring("  ", None, &["104"]), "name");
    // Only admins manage sets.
    let e = sets::create(&mut db.store, &operator(), &ring("Ring C", None, &["104"])).unwrap_err();
    assert_eq!(e.code(), "not_allowed");
    assert_eq!(sets::list(db.store.conn(), false).unwrap().len(), 1);
}

#[test]
fn a_set_is_edited_and_deleted_softly_with_an_audit_row_each() {
    let mut db = site();
    let a = admin();
    let s = sets::update(
        &mut db.store,
        &a,
        "R-1",
        &ring("Ring A", Some("R-9"), &["101", "104", "101"]),
    )
    .unwrap();
    assert_eq!(s.tag.as_deref(), Some("R-9"));
    assert_eq!(s.numbers(), vec!["101", "104"]);
    let row = last_audit(&db.raw());
    assert_eq!(
        (row.component.as_str(), row.operation.as_str()),
        ("key_sets", "update")
    );
    assert_eq!(row.before.unwrap()["keys"], json!(["101", "102", "103"]));
    assert_eq!(row.after.unwrap()["keys"], json!(["101", "104"]));
    assert!(
        sets::find(db.store.conn(), "R-1").unwrap().is_none(),
        "the old tag is free"
    );

    issue(&mut db, "R-9", "E-1").unwrap();
    let deleted = sets::delete(&mut db.store, &a, "Ring A").unwrap();
    assert!(deleted.deleted_at.is_some());
    assert_eq!(last_audit(&db.raw()).operation, "delete");
    assert!(sets::find(db.store.conn(), "R-9").unwrap().is_none());
    assert!(sets::list(db.store.conn(), false).unwrap().is_empty());
    assert_eq!(sets::list(db.store.conn(), true).unwrap().len(), 1);
    // Its keys stay out, its receipt still names it, and its name is free again.
    assert_eq!(status(&db, "104"), "issued");
    assert_eq!(
        receipts::get(db.store.conn(), 1)
            .unwrap()
            .set_name
            .as_deref(),
        Some("Ring A")
    );
    sets::create(&mut db.store, &a, &ring("Ring A", Some("R-9"), &["102"])).unwrap();
}

#[test]
fn printing_a_receipt_is_counted_and_audited_so_a_reprint_says_copy() {
    let mut db = site();
    issue(&mut db, "104", "E-1").unwrap();
    let first = receipts::mark_printed(&mut db.store, &operator(), 1, "a4").unwrap();
    assert_eq!(first.printed, 0, "the first print is the original");
    let row = last_audit(&db.raw());
    assert_eq!(
        (row.component.as_str(), row.operation.as_str()),
        ("receipts", "print")
    );
    assert_eq!(row.after.unwrap()["copy"], json!(false));
    let second = receipts::mark_printed(&mut db.store, &operator(), 1, "pdf").unwrap();
    assert_eq!(second.printed, 1);
    assert_eq!(last_audit(&db.raw()).after.unwrap()["copy"], json!(true));
    assert!(audit::verify(&db.raw()).unwrap().ok);
}

#[test]
fn the_handover_settings_are_validated_saved_audited_and_applied() {
    let mut db = site();
    let path = db.dir.path().join("config.json");
    let config = Config::default();
    config.save(&path).unwrap();
    let change = SettingsChange {
        require_signature: Some("issue_and_return".into()),
        terms_lv: Some("  Nodot tikai sev.  ".into()),
        terms_en: Some("For your own use only.".into()),
        ..SettingsChange::default()
    };
    let next = config::update_settings(&mut db.store, &admin(), &path, &config, &change).unwrap();
    assert_eq!(
        next.handover.require_signature,
        SignatureRule::IssueAndReturn
    );
    assert_eq!(next.handover.terms_lv, "Nodot tikai sev.");
    assert_eq!(
        db.store.handover.require_signature,
        SignatureRule::IssueAndReturn
    );
    assert_eq!(db.store.handover.terms_en, "For your own use only.");
    let saved = Config::load_or_create(&path).unwrap();
    assert_eq!(saved.handover, next.handover);
    let row = last_audit(&db.raw());
    assert_eq!(
        row.after.unwrap()["require_signature"],
        json!("issue_and_return")
    );
    assert_eq!(row.before.unwrap()["require_signature"], json!("never"));

    for (bad, says) in [
        (
            SettingsChange {
                require_signature: Some("always".into()),
                ..SettingsChange::default()
            },
            "never, issue or issue_and_return",
        ),
        (
            SettingsChange {
                terms_en: Some("x".repeat(config::MAX_TERMS_CHARS + 1)),
                ..SettingsChange::default()
            },
            "at most 2000",
        ),
    ] {
        let e = config::update_settings(&mut db.store, &admin(), &path, &next, &bad).unwrap_err();
        assert!(e.message().contains(says), "{}", e.message());
    }
    // A hand-edited file is checked on reading too.
    std::fs::write(&path, r#"{"handover": {"require_signature": "sometimes"}}"#).unwrap();
    let e = Config::load_or_create(&path).unwrap_err();
    assert_eq!(e.code(), "config_invalid");
    let long = format!(r#"{{"handover": {{"terms_lv": "{}"}}}}"#, "ā".repeat(2001));
    std::fs::write(&path, long).unwrap();
    let e = Config::load_or_create(&path).unwrap_err();
    assert!(e.message().contains("handover.terms_lv"), "{}", e.message());
}

#[test]
fn the_desk_finds_a_set_by_its_tag_and_hands_it_over_whole() {
    use atslegas_core::desk::{self, Match, Outcome, Plan};
    let mut db = site();
    let janis = atslegas_core::persons::find_by_code(db.store.conn(), "E-1")
        .unwrap()
        .id;
    match desk::lookup(db.store.conn(), "r-1", true).unwrap() {
        Match::Set { set } => assert_eq!(set.numbers(), vec!["101", "102", "103"]),
        other => panic!("{other:?}"),
    }
    match desk::plan(
        &db.store,
        &operator(),
        "R-1",
        Some(janis),
        &IssueRequest::default(),
        &[],
    )
    .unwrap()
    {
        Plan::Issue { keys, set, .. } => {
            assert_eq!(keys, vec!["101", "102", "103"]);
            assert_eq!(set.as_deref(), Some("Ring A"));
        }
        other => panic!("{other:?}"),
    }
    match desk::hand_over(
        &mut db.store,
        &operator(),
        "R-1",
        Some(janis),
        &IssueRequest::default(),
        &[],
    )
    .unwrap()
    {
        Outcome::Issued { handover, .. } => {
            assert_eq!(numbers(&handover), vec!["101", "102", "103"])
        }
        other => panic!("{other:?}"),
    }
    // Scanned again with no person chosen: the ring comes back whole.
    match desk::plan(
        &db.store,
        &operator(),
        "R-1",
        None,
        &IssueRequest::default(),
        &[],
    )
    .unwrap()
    {
        Plan::Return {
            keys, person_name, ..
        } => {
            assert_eq!(keys.len(), 3);
            assert_eq!(person_name.as_deref(), Some("Jānis Bērziņš"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_desk_returns_a_ring_without_the_keys_unticked_and_names_them() {
    use atslegas_core::desk::{self, Outcome, Plan};
    let mut db = site();
    let janis = atslegas_core::persons::find_by_code(db.store.conn(), "E-1")
        .unwrap()
        .id;
    let req = IssueRequest::default();
    desk::hand_over(&mut db.store, &operator(), "R-1", Some(janis), &req, &[]).unwrap();
    let missing = vec!["103".to_string()];

    // Planned with 103 unticked: 101 and 102 come back, nothing is written yet.
    let before = snapshot(&db.raw());
    match desk::plan(&db.store, &operator(), "R-1", None, &req, &missing).unwrap() {
        Plan::Return { keys, set, .. } => {
            assert_eq!(keys, vec!["101", "102"]);
            assert_eq!(set.as_deref(), Some("Ring A"));
        }
        other => panic!("{other:?}"),
    }
    // Every key unticked: nothing would come back, refused by the plan and the handover.
    let all: Vec<String> = ["101", "102", "103"].map(String::from).to_vec();
    let e = desk::plan(&db.store, &operator(), "R-1", None, &req, &all).unwrap_err();
    assert_eq!(e.details()["rule"], "nothing_returned", "{}", e.message());
    let r = desk::hand_over(&mut db.store, &operator(), "R-1", None, &req, &all);
    let e = assert_refused_unchanged(&db.raw(), &before, r, "invalid_input");
    assert_eq!(e.details()["rule"], "nothing_returned");
    // A key of another ring cannot be named missing.
    let r = desk::hand_over(
        &mut db.store,
        &operator(),
        "R-1",
        None,
        &req,
        &["104".to_string()],
    );
    let e = assert_refused_unchanged(&db.raw(), &before, r, "invalid_input");
    assert_eq!(e.details()["rule"], "not_in_set");
    assert_eq!(snapshot(&db.raw()), before, "a plan writes nothing");

    // Handed over with 103 unticked: one receipt for 101 and 102; 103 stays out, named.
    let signed = IssueRequest {
        signature: Some(PAD.into()),
        ..IssueRequest::default()
    };
    match desk::hand_over(&mut db.store, &operator(), "R-1", None, &signed, &missing).unwrap() {
        Outcome::Returned { entry, handover } => {
            assert_eq!(numbers(&handover), vec!["101", "102"]);
            assert_eq!(handover.missing, vec!["103"]);
            assert_eq!(handover.set.as_deref(), Some("Ring A"));
            assert_eq!(entry.person_name.as_deref(), Some("Jānis Bērziņš"));
            let r = receipts::get(db.store.conn(), handover.receipt).unwrap();
            assert_eq!(r.kind, "return");
            assert!(r.signed);
            let on_receipt: Vec<&str> = r.keys.iter().map(|k| k.number.as_str()).collect();
            assert_eq!(on_receipt, vec!["101", "102"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status(&db, "101"), "available");
    assert_eq!(status(&db, "102"), "available");
    assert_eq!(status(&db, "103"), "issued");
    let k = keys::find(db.store.conn(), "103").unwrap();
    assert_eq!(k.holder_person_id, Some(janis), "103 is still out to Jānis");

    // Keys named missing only make sense for a return: an issue with one is refused.
    let e = desk::plan(
        &db.store,
        &operator(),
        "104",
        Some(janis),
        &req,
        &["104".to_string()],
    )
    .unwrap_err();
    assert_eq!(e.details()["rule"], "missing_on_issue", "{}", e.message());
    assert_eq!(status(&db, "104"), "available");
}

// ---------------------------------------------------------------------------------------
// The same through atslegas-cli, whose commands and --json fields are the contract.

mod cli {
    use atslegas_tests::{assert_fails, stdout, Cli};
    use serde_json::json;

    const PAD: &str = super::PAD;

    /// Jānis (E-1) may receive 101-103; set "Ring A" (tag R-1) holds 101 and 102.
    fn site() -> Cli {
        let cli = Cli::initialised();
        for args in [
            &["person", "add", "--name", "Jānis Bērziņš", "--code", "E-1"][..],
            &["key", "add", "101"],
            &["key", "add", "102"],
            &["key", "add", "103"],
            &["group", "add", "Staff"],
            &["group", "allow", "Staff", "101", "102", "103"],
            &["group", "member", "Staff", "E-1"],
            &["set", "add", "Ring A", "--keys", "101,102", "--tag", "R-1"],
        ] {
            cli.run_ok(args);
        }
        cli
    }

    fn require_signature(cli: &Cli, rule: &str) {
        let mut c = cli.config();
        c["handover"] = json!({ "require_signature": rule });
        cli.write_config(&c);
    }

    #[test]
    fn a_set_is_issued_and_returned_with_receipt_numbers_in_json_and_text() {
        let cli = site();
        let sets = cli.json(&["set", "list"]);
        assert_eq!(sets[0]["name"], "Ring A");
        assert_eq!(sets[0]["tag"], "R-1");
        assert_eq!(sets[0]["keys"][1]["number"], "102");

        let h = cli.json(&["issue", "R-1", "--to", "E-1"]);
        assert_eq!(h["receipt"], 1);
        assert_eq!(h["set"], "Ring A");
        assert_eq!(h["keys"], json!(["101", "102"]));
        assert_eq!(h["action"], "issued");
        assert_eq!(h["person_name"], "Jānis Bērziņš");
        assert_eq!(h["entries"].as_array().unwrap().len(), 2);

        let text = stdout(&cli.run_ok(&["issue", "103", "--to", "E-1"]));
        assert!(
            text.contains("Key 103 issued to Jānis Bērziņš") && text.contains("Receipt 2."),
            "{text}"
        );

        let back = cli.json(&["return", "Ring A", "--missing", "102"]);
        assert_eq!(back["receipt"], 3);
        assert_eq!(back["keys"], json!(["101"]));
        assert_eq!(back["missing"], json!(["102"]));
        let text = stdout(&cli.run_ok(&["return", "102"]));
        assert!(text.contains("Receipt 4."), "{text}");

        let r = cli.json(&["receipt", "show", "1"]);
        assert_eq!(r["number"], 1);
        assert_eq!(r["kind"], "issue");
        assert_eq!(r["signed"], false);
        assert_eq!(r["set_name"], "Ring A");
        assert_eq!(r["person"]["full_name"], "Jānis Bērziņš");
        assert_eq!(r["keys"][0]["number"], "101");
        assert_eq!(r["audit_hash"].as_str().unwrap().len(), 64);
        let text = stdout(&cli.run_ok(&["receipt", "show", "3"]));
        assert!(
            text.contains("receipt 3 (Return)") && text.contains("Signed:    no"),
            "{text}"
        );
        let e = assert_fails(&cli.run(&["receipt", "show", "9"]), 3);
        assert!(e.contains("receipt") && e.contains('9'), "{e}");
    }

    #[test]
    fn a_set_with_a_key_out_is_refused_with_exit_5_naming_the_key() {
        let cli = site();
        cli.run_ok(&["issue", "102", "--to", "E-1"]);
        let e = assert_fails(&cli.run(&["issue", "R-1", "--to", "E-1"]), 5);
        assert!(e.contains("102"), "{e}");
        let issued: i64 = atslegas_tests::value(&cli.db(), "SELECT count(*) FROM key_log");
        assert_eq!(issued, 1, "nothing of the set was issued");
    }

    #[test]
    fn a_required_signature_exits_5_without_one_and_is_kept_with_one() {
        let cli = site();
        require_signature(&cli, "issue");
        let e = assert_fails(&cli.run(&["issue", "103", "--to", "E-1"]), 5);
        assert!(e.contains("signature"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("sig.svg");
        std::fs::write(&svg, PAD).unwrap();
        let h = cli.json(&[
            "issue",
            "103",
            "--to",
            "E-1",
            "--signature",
            svg.to_str().unwrap(),
        ]);
        let r = cli.json(&["receipt", "show", &h["receipt"].to_string()]);
        assert_eq!(r["signed"], true);
        assert!(r["signature"].as_str().unwrap().starts_with("<svg"));
        // Returns need none under "issue".
        cli.run_ok(&["return", "103"]);

        // A file that is no SVG of paths, or too large, issues nothing (exit 3).
        let bad = dir.path().join("bad.svg");
        for (text, says) in [
            ("<svg><image href='x.png'/></svg>".to_string(), "<image>"),
            (
                format!("<svg><path d='M0 0{}'/></svg>", " L1 1".repeat(60_000)),
                "256 KB",
            ),
        ] {
            std::fs::write(&bad, text).unwrap();
            let e = assert_fails(
                &cli.run(&[
                    "issue",
                    "103",
                    "--to",
                    "E-1",
                    "--signature",
                    bad.to_str().unwrap(),
                ]),
                3,
            );
            assert!(e.contains(says), "{e}");
        }
        let e = assert_fails(
            &cli.run(&["issue", "103", "--to", "E-1", "--signature", "/no/such.svg"]),
            1,
        );
        assert!(e.contains("signature file"), "{e}");
        assert_eq!(
            atslegas_tests::value::<String>(
                &cli.db(),
                "SELECT status FROM keys WHERE number = '103'"
            ),
            "available"
        );
    }

    #[test]
    fn sets_are_edited_and_deleted_from_the_command_line() {
        let cli = site();
        let s = cli.json(&[
            "set", "edit", "R-1", "--keys", "101,103", "--name", "Ring B",
        ]);
        assert_eq!(s["name"], "Ring B");
        assert_eq!(s["tag"], "R-1");
        assert_eq!(s["keys"].as_array().unwrap().len(), 2);
        let s = cli.json(&["set", "edit", "Ring B", "--no-tag"]);
        assert_eq!(s["tag"], serde_json::Value::Null);
        let e = assert_fails(&cli.run(&["set", "add", "103", "--keys", "101"]), 3);
        assert!(e.contains("key number 103"), "{e}");
        cli.run_ok(&["set", "delete", "Ring B"]);
        assert_eq!(cli.json(&["set", "list"]), json!([]));
        assert_eq!(
            cli.json(&["set", "list", "--deleted"])
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let e = assert_fails(&cli.run(&["issue", "Ring B", "--to", "E-1"]), 3);
        assert!(e.contains("Ring B"), "{e}");
    }

    #[test]
    fn a_receipt_saved_as_pdf_reads_back_with_its_names_keys_and_number_and_a_reprint_says_copy() {
        let cli = site();
        cli.run_ok(&["issue", "R-1", "--to", "E-1"]);
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("receipt.pdf");
        let saved = cli.json(&[
            "receipt",
            "pdf",
            "1",
            "--out",
            pdf.to_str().unwrap(),
            "--lang",
            "lv",
        ]);
        assert_eq!(saved["copy"], false);
        let text = pdftotext(&pdf);
        for want in ["Jānis Bērziņš", "101", "102", "Nr. 1", "Ring A"] {
            assert!(text.contains(want), "{want} is not in the PDF:\n{text}");
        }
        assert!(!text.to_lowercase().contains("kopija"), "{text}");
        assert!(!dir.path().join("receipt.pdf.partial").exists());
        // The second print is a copy, on the 80 mm roll in English.
        let again = dir.path().join("again.pdf");
        let saved = cli.json(&[
            "receipt",
            "pdf",
            "1",
            "--out",
            again.to_str().unwrap(),
            "--layout",
            "80mm",
            "--lang",
            "en",
        ]);
        assert_eq!(saved["copy"], true);
        let text = pdftotext(&again);
        assert!(text.contains("COPY") && text.contains("No. 1"), "{text}");
        let prints: i64 = atslegas_tests::value(
            &cli.db(),
            "SELECT count(*) FROM audit_log WHERE component = 'receipts' AND operation = 'print'",
        );
        assert_eq!(prints, 2);
        // An unknown receipt writes no file.
        let none = dir.path().join("none.pdf");
        assert_fails(
            &cli.run(&["receipt", "pdf", "7", "--out", none.to_str().unwrap()]),
            3,
        );
        assert!(!none.exists());
    }

    /// The text of a PDF as an independent reader (poppler's pdftotext) reads it.
    fn pdftotext(pdf: &std::path::Path) -> String {
        let out = std::process::Command::new("pdftotext")
            .args(["-layout"])
            .arg(pdf)
            .arg("-")
            .output()
            .expect("pdftotext runs: install poppler-utils (bash scripts/test.sh does)");
        assert!(
            out.status.success(),
            "pdftotext failed on {}",
            pdf.display()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn export_all_and_import_all_carry_receipts_and_sets() {
        let src = site();
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("sig.svg");
        std::fs::write(&svg, PAD).unwrap();
        src.run_ok(&[
            "issue",
            "R-1",
            "--to",
            "E-1",
            "--signature",
            svg.to_str().unwrap(),
        ]);
        src.run_ok(&["return", "R-1", "--missing", "102"]);
        let zip = dir.path().join("all.zip");
        src.run_ok(&["export", "all", "--out", zip.to_str().unwrap()]);
        let dst = Cli::new();
        dst.run_ok(&["import", "all", zip.to_str().unwrap()]);
        let dump = |cli: &Cli, sql: &str| -> Vec<String> { atslegas_tests::column(&cli.db(), sql) };
        for sql in [
            "SELECT json_array(number, kind, at, person_id, user_id, actor, due_back_at, set_id, site_name, terms_lv, terms_en, signature, printed) FROM receipts ORDER BY number",
            "SELECT json_array(id, name, tag, created_at, updated_at, deleted_at) FROM key_sets ORDER BY id",
            "SELECT json_array(set_id, key_id) FROM key_set_keys ORDER BY 1",
            "SELECT json_array(id, receipt_number) FROM key_log ORDER BY id",
        ] {
            let (a, b) = (dump(&src, sql), dump(&dst, sql));
            assert!(!a.is_empty(), "{sql}: nothing to compare");
            assert_eq!(a, b, "{sql}");
        }
        // The imported receipt reads as the original did, signature and audit hash too.
        assert_eq!(
            dst.json(&["receipt", "show", "1"]),
            src.json(&["receipt", "show", "1"])
        );
        dst.run_ok(&["audit", "verify"]);
        // Numbering goes on from there.
        let next = dst.json(&["return", "102"]);
        assert_eq!(next["receipt"], 3);
    }
}
