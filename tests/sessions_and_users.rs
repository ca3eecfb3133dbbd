//! First-run setup, sign-in with lock-out (one answer for every failure), password
//! changes (one's own needs the current one; other sessions end), and sessions (timeout,
//! tampering, sign-out) on a real database file and a real session folder. Time is moved
//! with a test clock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use atslegas_core::audit::AuditEntry;
use atslegas_core::import::{self, Entity, ImportReport, OnExisting};
use atslegas_core::session::Sessions;
use atslegas_core::store::Security;
use atslegas_core::work::Cancel;
use atslegas_core::{users, Actor, Error, Role, Store};
use atslegas_tests::{
    audit_operations, count, last_audit, last_audit_of, locations_in, open_raw, value,
};
use tempfile::TempDir;

const ROOT_PW: &str = "Tilts-Upe-42";
const ANNA_PW: &str = "Zila-Jura-77";
const NEW_PW: &str = "Jauna-Parole-88";
const START: i64 = 1_800_000_000;

/// A database file, a session folder beside it, and a clock the test moves.
struct Desk {
    _dir: TempDir,
    db_path: PathBuf,
    store: Store,
    sessions: Sessions,
    clock: Arc<AtomicI64>,
}

impl Desk {
    fn new() -> Desk {
        Desk::with(Security {
            max_failed_logins: 3,
            lockout_seconds: 300,
            session_timeout_seconds: 600,
        })
    }

    fn with(security: Security) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("database.db");
        let clock = Arc::new(AtomicI64::new(START));
        let c = clock.clone();
        let store = Store::open(&db_path, security)
            .unwrap()
            .with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
        let sessions = Sessions::new(dir.path().join("sessions"));
        Desk {
            _dir: dir,
            db_path,
            store,
            sessions,
            clock,
        }
    }

    fn set_up() -> Desk {
        let mut d = Desk::new();
        users::init_root(&mut d.store, ROOT_PW).unwrap();
        d
    }

    fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    fn raw(&self) -> rusqlite::Connection {
        open_raw(&self.db_path)
    }

    fn audit_rows(&self) -> i64 {
        count(self.store.conn(), "audit_log")
    }

    fn session_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.sessions.dir()) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn only_session_file(&self) -> PathBuf {
        let files = self.session_files();
        assert_eq!(files.len(), 1, "expected one session file: {files:?}");
        files.into_iter().next().unwrap()
    }

    fn failed_logins(&self) -> (i64, Option<i64>) {
        self.failed_logins_of("root")
    }

    fn failed_logins_of(&self, name: &str) -> (i64, Option<i64>) {
        self.raw()
            .query_row(
                "SELECT failed_logins, locked_until FROM users WHERE username = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    fn root(&self) -> Actor {
        users::find(self.store.conn(), "root")
            .unwrap()
            .unwrap()
            .actor()
    }

    /// Adds the operator "anna" with [`ANNA_PW`].
    fn add_anna(&mut self) -> Actor {
        self.add_user("anna", Role::Operator)
    }

    /// Adds a user with `role` and [`ANNA_PW`], as root.
    fn add_user(&mut self, name: &str, role: Role) -> Actor {
        let root = self.root();
        users::add(&mut self.store, &root, name, role, Some(ANNA_PW))
            .unwrap()
            .actor()
    }

    /// Signs `name` in with [`ANNA_PW`]; returns the token.
    fn sign_in(&mut self, name: &str) -> String {
        self.try_sign_in(name, ANNA_PW).unwrap().0
    }

    /// Signs root in with [`ROOT_PW`]; returns the token.
    fn sign_in_root(&mut self) -> String {
        self.try_sign_in("root", ROOT_PW).unwrap().0
    }

    fn try_sign_in(&mut self, name: &str, password: &str) -> Result<(String, users::User), Error> {
        self.sessions.sign_in(&mut self.store, name, password)
    }

    fn validate(&mut self, token: &str) -> Result<Actor, Error> {
        self.sessions.validate(&mut self.store, token)
    }

    fn hash_of(&self, name: &str) -> String {
        self.raw()
            .query_row(
                "SELECT password_hash FROM users WHERE username = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Signs `name` in with a wrong password `times` times; each is refused as any failure is.
    #[track_caller]
    fn fail_sign_ins(&mut self, name: &str, times: usize) {
        for n in 1..=times {
            let r = self.try_sign_in(name, "wrong-password-1");
            assert_eq!(
                code(r),
                "invalid_credentials",
                "wrong password {n} of {times}"
            );
        }
    }

    /// Asserts that one audit row, an `operation` of the session component, was written
    /// since the trail had `before` rows; returns it.
    #[track_caller]
    fn one_session_row_since(&self, before: i64, operation: &str) -> AuditEntry {
        assert_eq!(self.audit_rows(), before + 1, "one audit row since");
        let row = last_audit(self.store.conn());
        assert_eq!(row.operation, operation, "{row:?}");
        assert_eq!(row.component, "session", "{row:?}");
        row
    }

    /// The reason of the newest audit row, which must be a `login_failed`.
    fn last_failure_reason(&self) -> String {
        let row = last_audit(self.store.conn());
        assert_eq!(row.operation, "login_failed", "{row:?}");
        row.after.unwrap()["reason"].as_str().unwrap().to_string()
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code(),
    }
}

// ---------------------------------------------------------------------------------------
// First-run setup

#[test]
fn a_fresh_database_has_no_users_and_no_default_password() {
    let mut d = Desk::new();
    assert!(!users::is_set_up(d.store.conn()).unwrap());
    assert_eq!(count(d.store.conn(), "users"), 0);
    for (name, pw) in [
        ("root", ""),
        ("root", "root"),
        ("admin", "admin"),
        ("root", "password"),
        ("root", ROOT_PW),
    ] {
        let r = d.try_sign_in(name, pw);
        assert_eq!(code(r), "invalid_credentials", "{name}/{pw}");
    }
    assert!(d.session_files().is_empty());
    // Each attempt is recorded, and nothing else was created.
    assert_eq!(audit_operations(d.store.conn()), vec!["login_failed"; 5]);
    assert_eq!(count(d.store.conn(), "users"), 0);
}

#[test]
fn first_run_setup_happens_once_only() {
    let mut d = Desk::new();
    let root = users::init_root(&mut d.store, ROOT_PW).unwrap();
    assert_eq!(root.username, "root");
    assert!(root.is_root && root.active && root.has_password);
    assert_eq!(root.role, Role::Admin);
    assert!(users::is_set_up(d.store.conn()).unwrap());
    let hash_before: String = value(&d.raw(), "SELECT password_hash FROM users");
    assert!(hash_before.starts_with("$argon2id$"), "{hash_before}");
    assert!(!hash_before.contains(ROOT_PW));
    let audit_before = d.audit_rows();

    let r = users::init_root(&mut d.store, "Another-Pass-99");
    assert_eq!(code(r), "already_set_up");
    assert_eq!(count(d.store.conn(), "users"), 1);
    let hash_after: String = value(&d.raw(), "SELECT password_hash FROM users");
    assert_eq!(hash_after, hash_before);
    assert_eq!(d.audit_rows(), audit_before);
    // The first password still works, the second does not.
    assert!(d.try_sign_in("root", ROOT_PW).is_ok());
    let r = d.try_sign_in("root", "Another-Pass-99");
    assert_eq!(code(r), "invalid_credentials");
}

#[test]
fn a_weak_root_password_is_refused_and_nothing_is_set_up() {
    let mut d = Desk::new();
    for pw in ["short", "aaaaaaaaaaaa", "password123"] {
        assert_eq!(code(users::init_root(&mut d.store, pw)), "weak_password");
    }
    assert!(!users::is_set_up(d.store.conn()).unwrap());
    assert_eq!(count(d.store.conn(), "users"), 0);
    assert_eq!(d.audit_rows(), 0);
}

// ---------------------------------------------------------------------------------------
// Signing in

#[test]
fn signing_in_with_the_right_password_starts_a_session_and_is_audited() {
    let mut d = Desk::set_up();
    let (token, user) = d.try_sign_in("root", ROOT_PW).unwrap();
    assert_eq!(user.username, "root");
    assert_eq!(user.last_login_at, Some(START));
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let row = last_audit(d.store.conn());
    assert_eq!(
        (
            row.actor.as_str(),
            row.component.as_str(),
            row.operation.as_str()
        ),
        ("root", "session", "login")
    );
    assert_eq!(row.at, START);

    let actor = d.validate(&token).unwrap();
    assert_eq!(actor.name, "root");
    assert_eq!(actor.role, Role::Admin);
    assert_eq!(actor.user_id, Some(user.id));
    assert_eq!(d.session_files().len(), 1);
}

#[test]
fn user_names_are_matched_without_regard_to_case() {
    let mut d = Desk::set_up();
    let (_, user) = d.try_sign_in(" ROOT ", ROOT_PW).unwrap();
    assert_eq!(user.username, "root");
}

#[test]
fn a_wrong_password_is_refused_and_audited_as_login_failed() {
    let mut d = Desk::set_up();
    let before = d.audit_rows();
    let r = d.try_sign_in("root", "Tilts-Upe-43");
    assert_eq!(code(r), "invalid_credentials");
    let row = d.one_session_row_since(before, "login_failed");
    assert_eq!(row.actor, "root");
    assert_eq!(row.after.unwrap()["reason"], "wrong password");
    assert_eq!(d.failed_logins(), (1, None));
    assert!(d.session_files().is_empty());

    // An unknown user gets the same answer, and is audited too.
    let r = d.try_sign_in("mallory", ROOT_PW);
    assert_eq!(code(r), "invalid_credentials");
    let row = last_audit(d.store.conn());
    assert_eq!(
        (row.actor.as_str(), row.operation.as_str()),
        ("mallory", "login_failed")
    );
    assert_eq!(row.after.unwrap()["reason"], "unknown user");
}

#[test]
fn a_success_resets_the_count_of_failures() {
    let mut d = Desk::set_up();
    d.fail_sign_ins("root", 2);
    assert_eq!(d.failed_logins(), (2, None));
    d.sign_in_root();
    assert_eq!(d.failed_logins(), (0, None));
    // Two more failures do not lock: the count started again.
    d.fail_sign_ins("root", 2);
    assert!(d.try_sign_in("root", ROOT_PW).is_ok());
}

#[test]
fn repeated_failures_lock_the_account_even_for_the_right_password() {
    let mut d = Desk::set_up();
    d.fail_sign_ins("root", 2);
    // The third failure (max_failed_logins = 3) locks; the caller is told no more than
    // for any other failure.
    let r = d.try_sign_in("root", "wrong-password-1");
    assert_eq!(code(r), "invalid_credentials");
    assert_eq!(d.last_failure_reason(), "wrong password");
    assert_eq!(d.failed_logins(), (3, Some(START + 300)));

    d.advance(299);
    let before = d.audit_rows();
    let r = d.try_sign_in("root", ROOT_PW);
    assert_eq!(code(r), "invalid_credentials");
    assert!(d.session_files().is_empty());
    assert_eq!(d.audit_rows(), before + 1);
    assert_eq!(d.last_failure_reason(), "account locked");
    assert_eq!(
        audit_operations(d.store.conn())
            .iter()
            .filter(|o| *o == "login")
            .count(),
        0
    );
}

#[test]
fn a_lock_expires_after_the_lockout_time() {
    let mut d = Desk::set_up();
    d.fail_sign_ins("root", 3);
    d.advance(299);
    assert_eq!(code(d.try_sign_in("root", ROOT_PW)), "invalid_credentials");
    assert_eq!(d.last_failure_reason(), "account locked");
    // The lock lasts lockout_seconds (300) to the second.
    d.advance(1);
    let (token, user) = d.try_sign_in("root", ROOT_PW).unwrap();
    assert_eq!(user.last_login_at, Some(START + 300));
    assert_eq!(d.failed_logins(), (0, None));
    assert!(d.validate(&token).is_ok());
}

#[test]
fn after_a_lock_expires_one_wrong_password_does_not_lock_again() {
    let mut d = Desk::set_up();
    d.fail_sign_ins("root", 3);
    d.advance(301);
    let r = d.try_sign_in("root", "wrong-password-1");
    assert_eq!(code(r), "invalid_credentials");
    assert!(d.try_sign_in("root", ROOT_PW).is_ok());
}

#[test]
fn after_a_lock_expires_repeated_failures_lock_the_account_again() {
    let mut d = Desk::set_up();
    d.fail_sign_ins("root", 3);
    d.advance(301);
    let mut locks = Vec::new();
    for _ in 0..3 {
        let r = d.try_sign_in("root", "wrong-password-1");
        assert_eq!(code(r), "invalid_credentials");
        locks.push(d.failed_logins());
    }
    assert_eq!(locks, [(1, None), (2, None), (3, Some(START + 301 + 300))]);
    assert_eq!(code(d.try_sign_in("root", ROOT_PW)), "invalid_credentials");
    assert_eq!(d.last_failure_reason(), "account locked");
}

#[test]
fn a_deactivated_user_cannot_sign_in_and_loses_their_session() {
    let mut d = Desk::set_up();
    d.add_anna();
    let token = d.sign_in("anna");
    let root = d.root();
    users::update(&mut d.store, &root, "anna", None, Some(false)).unwrap();
    assert_eq!(
        code(d.try_sign_in("anna", "Zila-Jura-77")),
        "invalid_credentials"
    );
    assert_eq!(d.last_failure_reason(), "account deactivated");
    assert_eq!(code(d.validate(&token)), "session_invalid");
}

/// Issue 11, finding 10: no such user, a wrong password, a locked, a deactivated account
/// and one without a password give the caller one error, code and message alike; only
/// the audit row says which it was.
#[test]
fn every_sign_in_failure_gives_one_answer_and_the_audit_keeps_the_reason() {
    let mut d = Desk::set_up();
    let root = d.root();
    d.add_anna();
    users::add(&mut d.store, &root, "gone", Role::Viewer, Some(ANNA_PW)).unwrap();
    users::update(&mut d.store, &root, "gone", None, Some(false)).unwrap();
    users::add(&mut d.store, &root, "imported", Role::Viewer, None).unwrap();
    d.fail_sign_ins("anna", 3);
    assert!(d.failed_logins_of("anna").1.is_some(), "anna is not locked");

    let cases = [
        ("mallory", ROOT_PW, "unknown user"),
        ("root", "wrong-password-1", "wrong password"),
        ("anna", ANNA_PW, "account locked"),
        ("gone", ANNA_PW, "account deactivated"),
        ("imported", ANNA_PW, "no password set"),
    ];
    let mut answers = Vec::new();
    for (name, pw, reason) in cases {
        let before = d.audit_rows();
        let e = d.try_sign_in(name, pw).unwrap_err();
        answers.push((e.code(), e.message(), e.details()));
        assert_eq!(d.audit_rows(), before + 1, "{name}");
        assert_eq!(d.last_failure_reason(), reason, "{name}");
        assert_eq!(last_audit(d.store.conn()).actor, name);
    }
    for a in &answers {
        assert_eq!(*a, answers[0]);
    }
    assert_eq!(answers[0].0, "invalid_credentials");
    assert_eq!(
        answers[0].1,
        "The user name or password is wrong, or the account is locked or disabled. Ask an admin if this keeps happening."
    );
    assert!(d.session_files().is_empty());
}

// ---------------------------------------------------------------------------------------
// Changing passwords

#[test]
fn ones_own_password_is_not_changed_without_the_current_one() {
    let mut d = Desk::set_up();
    let anna = d.add_anna();
    let token = d.sign_in("anna");
    let hash = d.hash_of("anna");
    let audit = d.audit_rows();

    // Without it: the admin's reset path refuses one's own password.
    let e = users::set_password(&mut d.store, &d.sessions, &anna, "anna", NEW_PW).unwrap_err();
    match &e {
        Error::Invalid { rule, field, .. } => {
            assert_eq!(
                (*rule, field.as_str()),
                ("own_password_needs_current", "current")
            )
        }
        other => panic!("expected the own-password rule, got {other:?}"),
    }
    assert_eq!(d.audit_rows(), audit);

    // With a wrong one: refused, and a failed attempt on the record.
    let e = users::change_own_password(
        &mut d.store,
        &d.sessions,
        &anna,
        Some(&token),
        "Zila-Jura-78",
        NEW_PW,
    )
    .unwrap_err();
    assert_eq!(e.code(), "current_password_wrong");
    assert_eq!(d.audit_rows(), audit + 1);
    let row = last_audit(d.store.conn());
    assert_eq!(
        (row.actor.as_str(), row.operation.as_str()),
        ("anna", "login_failed")
    );
    assert_eq!(
        row.after.unwrap(),
        serde_json::json!({"reason": "wrong password", "during": "password change"})
    );

    // Nothing changed: the hash, the session, the old password.
    assert_eq!(d.hash_of("anna"), hash);
    assert!(d.validate(&token).is_ok());
    assert!(d.try_sign_in("anna", ANNA_PW).is_ok());
    assert_eq!(code(d.try_sign_in("anna", NEW_PW)), "invalid_credentials");
}

#[test]
fn wrong_current_passwords_lock_the_account_and_then_even_the_right_one_is_refused() {
    let mut d = Desk::set_up();
    let anna = d.add_anna();
    let token = d.sign_in("anna");
    let hash = d.hash_of("anna");
    for n in 1..=3 {
        let r = users::change_own_password(
            &mut d.store,
            &d.sessions,
            &anna,
            Some(&token),
            "wrong-password-1",
            NEW_PW,
        );
        assert_eq!(code(r), "current_password_wrong");
        assert_eq!(d.failed_logins_of("anna").0, n);
    }
    assert_eq!(d.failed_logins_of("anna"), (3, Some(START + 300)));
    // Locked: the right current password gets the same answer, and so does a sign-in.
    let r = users::change_own_password(
        &mut d.store,
        &d.sessions,
        &anna,
        Some(&token),
        ANNA_PW,
        NEW_PW,
    );
    assert_eq!(code(r), "current_password_wrong");
    assert_eq!(d.last_failure_reason(), "account locked");
    assert_eq!(d.hash_of("anna"), hash);
    assert_eq!(code(d.try_sign_in("anna", ANNA_PW)), "invalid_credentials");
    // After the lock-out it works, and the count starts again.
    d.advance(300);
    users::change_own_password(
        &mut d.store,
        &d.sessions,
        &anna,
        Some(&token),
        ANNA_PW,
        NEW_PW,
    )
    .unwrap();
    assert_eq!(d.failed_logins_of("anna"), (0, None));
}

#[test]
fn changing_ones_own_password_ends_ones_other_sessions_and_keeps_this_one() {
    let mut d = Desk::set_up();
    let anna = d.add_anna();
    let this = d.sign_in("anna");
    let other1 = d.sign_in("anna");
    let other2 = d.sign_in("anna");
    let roots = d.sign_in_root();
    assert_eq!(d.session_files().len(), 4);

    users::change_own_password(
        &mut d.store,
        &d.sessions,
        &anna,
        Some(&this),
        ANNA_PW,
        NEW_PW,
    )
    .unwrap();

    assert_eq!(d.validate(&this).unwrap().name, "anna");
    for t in [&other1, &other2] {
        assert_eq!(code(d.validate(t)), "session_invalid");
    }
    assert_eq!(d.validate(&roots).unwrap().name, "root");
    assert_eq!(d.session_files().len(), 2);
    let row = last_audit(d.store.conn());
    assert_eq!(
        (
            row.actor.as_str(),
            row.component.as_str(),
            row.operation.as_str()
        ),
        ("anna", "users", "set_password")
    );
    assert_eq!(
        row.after.unwrap(),
        serde_json::json!({"own": true, "sessions_ended": 2})
    );
    // The new password signs in, the old one no longer does.
    assert_eq!(code(d.try_sign_in("anna", ANNA_PW)), "invalid_credentials");
    assert!(d.try_sign_in("anna", NEW_PW).is_ok());
}

#[test]
fn an_admin_resetting_a_password_ends_all_of_that_users_sessions() {
    let mut d = Desk::set_up();
    d.add_anna();
    let root = d.root();
    let a1 = d.sign_in("anna");
    let a2 = d.sign_in("anna");
    let roots = d.sign_in_root();
    // Anna locked herself out; the reset lets her in again.
    d.fail_sign_ins("anna", 3);

    users::set_password(&mut d.store, &d.sessions, &root, "anna", NEW_PW).unwrap();

    for t in [&a1, &a2] {
        assert_eq!(code(d.validate(t)), "session_invalid");
    }
    assert_eq!(d.validate(&roots).unwrap().name, "root");
    let row = last_audit(d.store.conn());
    assert_eq!(
        (row.actor.as_str(), row.operation.as_str()),
        ("root", "set_password")
    );
    assert_eq!(
        row.after.unwrap(),
        serde_json::json!({"own": false, "sessions_ended": 2})
    );
    assert_eq!(d.failed_logins_of("anna"), (0, None));
    assert!(d.try_sign_in("anna", NEW_PW).is_ok());
}

#[test]
fn a_non_admin_cannot_set_another_users_password_and_nothing_changes() {
    let mut d = Desk::set_up();
    let anna = d.add_anna();
    let roots = d.sign_in_root();
    let (hash, audit) = (d.hash_of("root"), d.audit_rows());
    let r = users::set_password(&mut d.store, &d.sessions, &anna, "root", NEW_PW);
    assert_eq!(code(r), "not_allowed");
    assert_eq!((d.hash_of("root"), d.audit_rows()), (hash, audit));
    assert!(d.validate(&roots).is_ok());
}

// ---------------------------------------------------------------------------------------
// Sessions

#[test]
fn a_session_expires_after_the_timeout_without_activity() {
    let mut d = Desk::set_up();
    let token = d.sign_in_root();
    d.advance(601);
    let before = d.audit_rows();
    match d.validate(&token) {
        Err(Error::SessionExpired { timeout_seconds }) => assert_eq!(timeout_seconds, 600),
        other => panic!("expected session_expired, got {other:?}"),
    }
    let row = d.one_session_row_since(before, "session_timeout");
    assert_eq!(row.actor, "root");
    assert_eq!(row.after.unwrap()["last_seen_at"], START);
    assert!(d.session_files().is_empty(), "the expired session was kept");
    // It stays ended, without another timeout row.
    assert_eq!(code(d.validate(&token)), "session_invalid");
    assert_eq!(d.audit_rows(), before + 1);
}

#[test]
fn activity_within_the_timeout_keeps_a_session_alive() {
    let mut d = Desk::set_up();
    let token = d.sign_in_root();
    let before = d.audit_rows();
    // 4 × 550 s = 2200 s in all, far past the 600 s timeout, but never 600 s idle.
    for _ in 0..4 {
        d.advance(550);
        let actor = d.validate(&token).unwrap();
        assert_eq!(actor.name, "root");
    }
    // Exactly at the timeout is still alive; one second more is not.
    d.advance(600);
    assert!(d.validate(&token).is_ok());
    assert_eq!(
        d.audit_rows(),
        before,
        "validating a live session is not audited"
    );
    d.advance(601);
    assert_eq!(code(d.validate(&token)), "session_expired");
}

#[test]
fn a_session_file_edited_on_disk_is_rejected_deleted_and_audited() {
    let mut d = Desk::set_up();
    let (token, user) = d.try_sign_in("root", ROOT_PW).unwrap();
    let file = d.only_session_file();
    // Someone extends their session by editing the file; the signature no longer fits.
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["user_id"], user.id);
    v["last_seen_at"] = serde_json::json!(START + 100_000);
    std::fs::write(&file, serde_json::to_vec(&v).unwrap()).unwrap();

    let before = d.audit_rows();
    assert_eq!(code(d.validate(&token)), "session_invalid");
    assert!(!file.exists(), "the tampered file was kept");
    let row = d.one_session_row_since(before, "session_rejected");
    let after = row.after.unwrap();
    assert!(
        after["reason"].as_str().unwrap().contains("tampered"),
        "{after}"
    );
    // The token is not in the audit trail.
    assert!(!after.to_string().contains(&token));
}

#[test]
fn a_session_file_claiming_another_user_is_rejected() {
    let mut d = Desk::set_up();
    d.add_user("vera", Role::Viewer);
    let token = d.sign_in("vera");
    let file = d.only_session_file();
    let text = std::fs::read_to_string(&file).unwrap();
    let root_id = users::find(d.store.conn(), "root").unwrap().unwrap().id;
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["user_id"] = serde_json::json!(root_id);
    v["username"] = serde_json::json!("root");
    std::fs::write(&file, serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(code(d.validate(&token)), "session_invalid");
    assert!(!file.exists());
    assert_eq!(last_audit(d.store.conn()).operation, "session_rejected");
}

#[test]
fn a_session_file_copied_from_another_users_session_is_rejected() {
    let mut d = Desk::set_up();
    d.add_user("vera", Role::Viewer);
    let vera_token = d.sign_in("vera");
    let vera_file = d.only_session_file();
    d.sign_in_root();
    let root_file = d
        .session_files()
        .into_iter()
        .find(|f| *f != vera_file)
        .unwrap();
    // Vera cannot read root's token, but she can copy root's signed file over her own.
    std::fs::copy(&root_file, &vera_file).unwrap();
    let r = d.validate(&vera_token);
    assert!(
        !matches!(&r, Ok(a) if a.role == Role::Admin),
        "a viewer's token now acts as {r:?}"
    );
    assert_eq!(code(r), "session_invalid");
}

#[test]
fn a_session_file_replaced_with_garbage_is_rejected_deleted_and_audited() {
    let mut d = Desk::set_up();
    let token = d.sign_in_root();
    let file = d.only_session_file();
    std::fs::write(&file, b"\x00\xffnot json at all{{{").unwrap();
    let before = d.audit_rows();
    assert_eq!(code(d.validate(&token)), "session_invalid");
    assert!(!file.exists(), "the damaged file was kept");
    let row = d.one_session_row_since(before, "session_rejected");
    assert_eq!(row.actor, "system");
}

#[test]
fn a_malformed_token_is_rejected_and_audited() {
    let mut d = Desk::set_up();
    d.sign_in_root();
    let before = d.audit_rows();
    for bad in ["", "../../etc/passwd", &"z".repeat(64)] {
        assert_eq!(code(d.validate(bad)), "session_invalid");
    }
    assert_eq!(d.audit_rows(), before + 3);
    assert_eq!(last_audit(d.store.conn()).operation, "session_rejected");
    // The real session is untouched.
    assert_eq!(d.session_files().len(), 1);
}

#[test]
fn signing_out_ends_the_session_and_writes_logout() {
    let mut d = Desk::set_up();
    let (token, user) = d.try_sign_in("root", ROOT_PW).unwrap();
    let before = d.audit_rows();
    d.sessions.sign_out(&mut d.store, &token).unwrap();
    assert!(d.session_files().is_empty());
    let row = d.one_session_row_since(before, "logout");
    assert_eq!(row.actor, "root");
    assert_eq!(row.record_id, Some(user.id.to_string()));
    assert_eq!(code(d.validate(&token)), "session_invalid");
}

#[test]
fn session_files_are_not_named_by_the_token_and_do_not_contain_it() {
    let mut d = Desk::set_up();
    let t1 = d.sign_in_root();
    let t2 = d.sign_in_root();
    assert_ne!(t1, t2);
    let files = d.session_files();
    assert_eq!(files.len(), 2);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f).unwrap();
        for t in [&t1, &t2] {
            assert!(
                !name.contains(t.as_str()),
                "file {name} is named by a token"
            );
            assert!(!text.contains(t.as_str()), "file {name} contains a token");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is readable by others");
        }
    }
    // Each token still finds its own session.
    assert!(d.validate(&t1).is_ok());
    assert!(d.validate(&t2).is_ok());
}

#[test]
fn sweeping_at_start_up_ends_idle_sessions_with_a_timeout_row() {
    let mut d = Desk::set_up();
    let old = d.sign_in_root();
    d.advance(500);
    let fresh = d.sign_in_root();
    d.advance(200); // old: 700 s idle; fresh: 200 s
    let before = d.audit_rows();
    assert_eq!(d.sessions.sweep_expired(&mut d.store).unwrap(), 1);
    d.one_session_row_since(before, "session_timeout");
    assert_eq!(d.session_files().len(), 1);
    assert!(d.validate(&fresh).is_ok());
    assert_eq!(code(d.validate(&old)), "session_invalid");
}

/// Imports `csv` as users (existing ones updated) as `who`: the preview's errors' rules,
/// then the import's report.
fn import_users(d: &mut Desk, who: &Actor, csv: &str) -> (Vec<&'static str>, ImportReport) {
    let dir = d.db_path.parent().unwrap().to_path_buf();
    let file = dir.join("users.csv");
    std::fs::write(&file, csv).unwrap();
    let (update, cancel) = (OnExisting::Update, Cancel::new());
    let preview = import::preview(
        &mut d.store,
        who,
        Entity::Users,
        &file,
        update,
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    let loc = locations_in(&dir);
    let done = import::apply(
        &mut d.store,
        who,
        &loc,
        Entity::Users,
        &file,
        update,
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    (preview.errors.iter().map(|e| e.rule).collect(), done)
}

#[test]
fn an_import_of_users_keeps_the_users_screens_rules_and_a_password_it_sets_ends_sessions() {
    let mut d = Desk::set_up();
    let ilze = d.add_user("ilze", Role::Operator);
    d.add_user("anna", Role::Admin);
    let anna_token = d.sign_in("anna");
    let anna = d.validate(&anna_token).unwrap();
    let ilze_token = d.sign_in("ilze");
    let before = d.audit_rows();

    // An admin cannot demote or deactivate themselves, nor set their own password
    // without the current one: refused in the preview, and the import changes nothing.
    for (csv, rule) in [
        ("username,role\nanna,viewer\n", "self_demote"),
        ("username,role,active\nanna,admin,0\n", "self_demote"),
        (
            &format!("username,role,password\nanna,admin,{NEW_PW}\n"),
            "own_password_needs_current",
        ),
    ] {
        let (rules, done) = import_users(&mut d, &anna, csv);
        assert_eq!(rules, [rule], "{csv}");
        assert!(!done.applied, "{csv}");
        assert_eq!(done.errors.len(), 1, "{csv}");
    }
    assert_eq!(d.audit_rows(), before, "nothing written");
    assert!(d.validate(&anna_token).is_ok());
    assert_eq!(
        users::find(d.store.conn(), "anna").unwrap().unwrap().role,
        Role::Admin
    );

    // Another user's password, set by an import, is set as on the Users screen: a
    // lock-out is lifted, every session of theirs ends, and a `set_password` row says so.
    d.fail_sign_ins("ilze", 3);
    assert_eq!(
        code(d.try_sign_in("ilze", ANNA_PW)),
        "invalid_credentials",
        "locked"
    );
    let (rules, done) = import_users(
        &mut d,
        &anna,
        &format!("username,role,password\nilze,operator,{NEW_PW}\n"),
    );
    assert!(rules.is_empty(), "{rules:?}");
    assert!(done.applied);
    assert_eq!(
        code(d.validate(&ilze_token)),
        "session_invalid",
        "ilze's session ended"
    );
    assert!(
        d.validate(&anna_token).is_ok(),
        "the importer's own session lives on"
    );
    let set = last_audit_of(d.store.conn(), "set_password");
    assert_eq!(set.actor, "anna");
    assert_eq!(
        set.record_id.as_deref(),
        Some(ilze.user_id.unwrap().to_string().as_str())
    );
    assert_eq!(set.after.as_ref().unwrap()["sessions_ended"], 1);
    assert!(
        d.try_sign_in("ilze", NEW_PW).is_ok(),
        "the new password, the lock lifted"
    );
}
