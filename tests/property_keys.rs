//! Property test of the key state machine on a real database file: random sequences of
//! issue, return, delete and restore over three keys and three persons (one group allows
//! every key to everyone). After every step, each key's status and holder agree with its
//! latest key-log row and with a simple model, a successful step added exactly one audit
//! row and a refused one none; at the end the audit chain verifies.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use atslegas_core::keylog::{self, IssueRequest, PersonRef};
use atslegas_core::keys::{self, KeyInput};
use atslegas_core::persons::{self, PersonInput};
use atslegas_core::store::Security;
use atslegas_core::{audit, groups, Actor, Error, Role, Store};
use atslegas_tests::count;
use proptest::prelude::*;
use rusqlite::OptionalExtension;

const KEYS: usize = 3;
const PERSONS: usize = 3;

#[derive(Debug, Clone, Copy)]
enum Op {
    Issue { key: usize, person: usize },
    Return { key: usize },
    DeleteKey { key: usize },
    RestoreKey { key: usize },
    DeletePerson { person: usize },
    RestorePerson { person: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..KEYS, 0..PERSONS).prop_map(|(key, person)| Op::Issue { key, person }),
        3 => (0..KEYS).prop_map(|key| Op::Return { key }),
        1 => (0..KEYS).prop_map(|key| Op::DeleteKey { key }),
        1 => (0..KEYS).prop_map(|key| Op::RestoreKey { key }),
        1 => (0..PERSONS).prop_map(|person| Op::DeletePerson { person }),
        1 => (0..PERSONS).prop_map(|person| Op::RestorePerson { person }),
    ]
}

fn key_number(k: usize) -> String {
    format!("{}", 101 + k)
}

fn person_code(p: usize) -> String {
    format!("P-{p}")
}

/// The outcome of deleting a key or a person: refused when it is deleted already, or
/// while it is in use (`in_use_code`: a key out, a person holding keys).
fn soft_delete(deleted: bool, in_use: bool, in_use_code: &'static str) -> Result<(), &'static str> {
    if deleted {
        Err("not_found")
    } else if in_use {
        Err(in_use_code)
    } else {
        Ok(())
    }
}

/// The outcome of restoring a key or a person: only a deleted one can be.
fn restore(deleted: bool) -> Result<(), &'static str> {
    match deleted {
        true => Ok(()),
        false => Err("not_deleted"),
    }
}

/// What the database should say, kept by hand.
#[derive(Debug, Default)]
struct Model {
    holder: [Option<usize>; KEYS],
    key_deleted: [bool; KEYS],
    person_deleted: [bool; PERSONS],
}

impl Model {
    /// The outcome the core must give for `op`: Ok, or the error code.
    fn expect(&self, op: Op) -> Result<(), &'static str> {
        match op {
            Op::Issue { key, person } => {
                if self.key_deleted[key] {
                    Err("key_not_available")
                } else if self.holder[key].is_some() {
                    Err("key_already_issued")
                } else if self.person_deleted[person] {
                    Err("person_not_active")
                } else {
                    Ok(())
                }
            }
            Op::Return { key } => match self.holder[key] {
                Some(_) => Ok(()),
                None => Err("key_not_issued"),
            },
            Op::DeleteKey { key } => soft_delete(
                self.key_deleted[key],
                self.holder[key].is_some(),
                "key_is_out",
            ),
            Op::RestoreKey { key } => restore(self.key_deleted[key]),
            Op::DeletePerson { person } => soft_delete(
                self.person_deleted[person],
                self.holder.contains(&Some(person)),
                "person_holds_keys",
            ),
            Op::RestorePerson { person } => restore(self.person_deleted[person]),
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Issue { key, person } => self.holder[key] = Some(person),
            Op::Return { key } => self.holder[key] = None,
            Op::DeleteKey { key } => self.key_deleted[key] = true,
            Op::RestoreKey { key } => self.key_deleted[key] = false,
            Op::DeletePerson { person } => self.person_deleted[person] = true,
            Op::RestorePerson { person } => self.person_deleted[person] = false,
        }
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    actor: Actor,
    key_ids: Vec<i64>,
    person_ids: Vec<i64>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    // Every call to the clock is one second later, so key-log rows never share a time.
    let clock = Arc::new(AtomicI64::new(1_800_000_000));
    let mut store = Store::open(&dir.path().join("database.db"), Security::default())
        .unwrap()
        .with_clock(Arc::new(move || clock.fetch_add(1, Ordering::SeqCst)));
    let actor = Actor {
        user_id: None,
        name: "prop".into(),
        role: Role::Admin,
    };
    let names = ["Jānis Bērziņš", "Ģirts Ķēniņš", "Ļena Šņore"];
    let person_ids = (0..PERSONS)
        .map(|p| {
            let input = PersonInput {
                code: Some(person_code(p)),
                ..PersonInput::named(names[p])
            };
            persons::create(&mut store, &actor, &input).unwrap().id
        })
        .collect();
    let key_ids = (0..KEYS)
        .map(|k| {
            keys::create(&mut store, &actor, &KeyInput::numbered(&key_number(k)))
                .unwrap()
                .id
        })
        .collect();
    groups::create(&mut store, &actor, "All", None).unwrap();
    let numbers: Vec<String> = (0..KEYS).map(key_number).collect();
    groups::allow_keys(&mut store, &actor, "All", &numbers).unwrap();
    let codes: Vec<String> = (0..PERSONS).map(person_code).collect();
    groups::add_members(&mut store, &actor, "All", &codes).unwrap();
    World {
        _dir: dir,
        store,
        actor,
        key_ids,
        person_ids,
    }
}

fn run(w: &mut World, op: Op) -> Result<(), Error> {
    let s = &mut w.store;
    let a = &w.actor;
    match op {
        Op::Issue { key, person } => keylog::issue(
            s,
            a,
            &key_number(key),
            &PersonRef::Code(person_code(person)),
            &IssueRequest::default(),
        )
        .map(drop),
        Op::Return { key } => keylog::return_key(s, a, &key_number(key), None).map(drop),
        Op::DeleteKey { key } => keys::delete(s, a, w.key_ids[key]).map(drop),
        Op::RestoreKey { key } => keys::restore(s, a, w.key_ids[key]).map(drop),
        Op::DeletePerson { person } => persons::delete(s, a, w.person_ids[person]).map(drop),
        Op::RestorePerson { person } => persons::restore(s, a, w.person_ids[person]).map(drop),
    }
}

/// Checks every key against its latest key-log row and against the model.
fn check_keys(w: &World, model: &Model) -> Result<(), TestCaseError> {
    let conn = w.store.conn();
    for k in 0..KEYS {
        let key = keys::get(conn, w.key_ids[k]).unwrap();
        let latest: Option<(String, Option<i64>)> = conn
            .query_row(
                "SELECT action, person_id FROM key_log WHERE key_id = ?1 ORDER BY at DESC, id DESC LIMIT 1",
                [w.key_ids[k]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .unwrap();
        let expected_status = match latest.as_ref().map(|(a, _)| a.as_str()) {
            Some("issued") => "issued",
            Some("returned") | None => "available",
            Some(other) => return Err(TestCaseError::fail(format!("unexpected action {other}"))),
        };
        prop_assert_eq!(key.status.as_str(), expected_status, "key {}", key.number);
        if expected_status == "issued" {
            prop_assert_eq!(key.holder_person_id, latest.as_ref().unwrap().1);
        } else {
            prop_assert_eq!(key.holder_person_id, None);
        }
        // And the model agrees.
        prop_assert_eq!(
            key.holder_person_id,
            model.holder[k].map(|p| w.person_ids[p])
        );
        prop_assert_eq!(key.deleted_at.is_some(), model.key_deleted[k]);
    }
    for p in 0..PERSONS {
        let person = persons::get(conn, w.person_ids[p]).unwrap();
        prop_assert_eq!(person.deleted_at.is_some(), model.person_deleted[p]);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn key_status_always_follows_the_key_log_and_each_change_is_audited_once(
        ops in prop::collection::vec(op(), 1..40)
    ) {
        let mut w = world();
        let mut model = Model::default();
        check_keys(&w, &model)?;
        for op in ops {
            let audit_before = count(w.store.conn(), "audit_log");
            let log_before = count(w.store.conn(), "key_log");
            let expected = model.expect(op);
            let got = run(&mut w, op);
            let audit_added = count(w.store.conn(), "audit_log") - audit_before;
            let log_added = count(w.store.conn(), "key_log") - log_before;
            match (&got, expected) {
                (Ok(()), Ok(())) => {
                    prop_assert_eq!(audit_added, 1, "{:?} added {} audit rows", op, audit_added);
                    let moves = matches!(op, Op::Issue { .. } | Op::Return { .. });
                    prop_assert_eq!(log_added, i64::from(moves), "{:?}", op);
                    model.apply(op);
                }
                (Err(e), Err(code)) => {
                    prop_assert_eq!(e.code(), code, "{:?}: {}", op, e.message());
                    prop_assert_eq!(audit_added, 0, "refused {:?} added audit rows", op);
                    prop_assert_eq!(log_added, 0, "refused {:?} added key-log rows", op);
                }
                (got, expected) => {
                    return Err(TestCaseError::fail(format!(
                        "{op:?}: expected {expected:?}, got {:?}",
                        got.as_ref().map_err(|e| e.code())
                    )));
                }
            }
            check_keys(&w, &model)?;
        }
        let report = audit::verify(w.store.conn()).unwrap();
        prop_assert!(report.ok, "{:?}", report.problems);
        prop_assert_eq!(report.rows_checked as i64, count(w.store.conn(), "audit_log"));
    }
}
