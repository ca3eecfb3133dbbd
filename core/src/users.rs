//! Users of the app (not key holders): first-run root setup, argon2id passwords,
//! sign-in with lock-out, password changes, and user administration (admins only). Owns
//! the `users` table. Never stores or logs a plain password; audit rows carry no hash
//! either, and a failed sign-in never tells the caller why (the audit row does).
//!
//! Writers come in pairs: [`add`] / [`update`] open the transaction and write the audit
//! row; [`create_tx`] / [`update_tx`] hold the rules and the SQL, run inside a
//! transaction they are given and write no audit row (the caller writes it: the public
//! function one `create`/`update` row, the importer one `import` row per user).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Change};
use crate::columns::from_columns;
use crate::error::{duplicate_if_unique, Error, Result};
use crate::session::files::Sessions;
use crate::store::{Actor, Role, Store};

/// The root user's name.
pub const ROOT_USERNAME: &str = "root";

/// A user as the UI and the CLI see it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub is_root: bool,
    pub active: bool,
    pub has_password: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.id),
            name: self.username.clone(),
            role: self.role,
        }
    }

    fn audit_json(&self) -> serde_json::Value {
        json!({
            "username": self.username, "role": self.role.as_str(), "is_root": self.is_root,
            "active": self.active, "has_password": self.has_password,
        })
    }
}

const COLUMNS: &str =
    "id, username, role, is_root, active, password_hash IS NOT NULL, created_at, last_login_at";

fn from_row(r: &Row) -> rusqlite::Result<User> {
    Ok(from_columns!(r => User {
        id, username, role, is_root, active, has_password, created_at, last_login_at
    }))
}

/// argon2id with OWASP's recommended minimum (19 MiB memory, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub(crate) fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system has no random source");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters")
        .to_string()
}

pub(crate) fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the user does not exist, so a
/// wrong user name takes as long as a wrong password.
fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = DUMMY.get_or_init(|| hash_password(&crate::random::hex(16)));
    let _ = verify_password(h, password);
}

/// Checks a new password. The rule is short enough to show as a hint: at least 10
/// characters, not one repeated character, not a well-known password.
pub fn check_password_strength(password: &str) -> Result<()> {
    let n = password.chars().count();
    let weak = |r: &str| {
        Err(Error::WeakPassword {
            reason: r.to_string(),
        })
    };
    if n < 10 {
        return weak("use at least 10 characters (a few words together are easy to remember)");
    }
    if n > 1024 {
        return weak("use at most 1024 characters");
    }
    let first = password.chars().next().unwrap_or(' ');
    if password.chars().all(|c| c == first) {
        return weak("do not repeat one character");
    }
    const COMMON: &[&str] = &[
        "1234567890",
        "0123456789",
        "password123",
        "qwertyuiop",
        "1q2w3e4r5t",
        "administrator",
        "atslegas123",
        "parole1234",
        "iloveyou123",
        "abcdefghij",
    ];
    if COMMON.contains(&password.to_lowercase().as_str()) {
        return weak("this is one of the most common passwords; choose another");
    }
    Ok(())
}

/// True once the root user exists (first-run setup done).
pub fn is_set_up(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE is_root = 1")?
        .exists([])?)
}

/// First-run setup: creates the root user with the given password and the secret that
/// signs session files. Refused once a root user exists.
pub fn init_root(store: &mut Store, password: &str) -> Result<User> {
    check_password_strength(password)?;
    let hash = hash_password(password);
    store.write_unchecked(|tx, now| {
        if tx
            .prepare_cached("SELECT 1 FROM users WHERE is_root = 1")?
            .exists([])?
        {
            return Err(Error::AlreadySetUp);
        }
        tx.execute(
            "INSERT INTO users (username, password_hash, role, is_root, created_at, updated_at)
             VALUES (?1, ?2, 'admin', 1, ?3, ?3)",
            params![ROOT_USERNAME, hash, now],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('session_secret', ?1)",
            [crate::random::hex(32)],
        )?;
        let user = get_tx(tx, id)?;
        audit_user(tx, now, "setup", &user, "create", None, user.audit_json())?;
        Ok(user)
    })
}

/// The audit row of a change to `user`, written by `actor_name`.
fn audit_user(
    tx: &Transaction,
    now: i64,
    actor_name: &str,
    user: &User,
    operation: &str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
) -> Result<()> {
    Change::new(actor_name, "users", operation)
        .on(user.id)
        .before(before)
        .after(after)
        .record(tx, now)?;
    Ok(())
}

fn get_tx(tx: &Transaction, id: i64) -> Result<User> {
    Ok(tx.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
        from_row,
    )?)
}

/// A user by name (case-insensitive).
pub fn find(conn: &Connection, username: &str) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE username = ?1"))?
        .query_row([username.trim()], from_row)
        .optional()?)
}

/// A user by id.
pub fn get(conn: &Connection, id: i64) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

pub(crate) fn validate_username(name: &str) -> Result<String> {
    let name = crate::validate::required("username", name, 64)?;
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
    {
        return Err(Error::invalid_rule(
            "username",
            "username_chars",
            serde_json::Value::Null,
            "may contain letters, digits and . - _ @ only (no spaces)",
        ));
    }
    Ok(name)
}

/// Adds a user (admins only). `password` may be `None`: the user then cannot sign in
/// until an admin sets one.
pub fn add(
    store: &mut Store,
    actor: &Actor,
    username: &str,
    role: Role,
    password: Option<&str>,
) -> Result<User> {
    actor.require(Role::Admin, "manage users")?;
    // Before the hash, which is slow on purpose: a bad name costs no argon2 run.
    validate_username(username)?;
    let hash = match password {
        Some(p) => {
            check_password_strength(p)?;
            Some(hash_password(p))
        }
        None => None,
    };
    store.write(actor, Role::Admin, "manage users", |tx, now| {
        let user = create_tx(tx, now, username, role, true, hash.as_deref())?;
        audit_user(
            tx,
            now,
            &actor.name,
            &user,
            "create",
            None,
            user.audit_json(),
        )?;
        Ok(user)
    })
}

/// [`add`] inside `tx`: the user-name rule and the INSERT, with the argon2id `hash` of
/// a password that passed [`check_password_strength`] (or none); no audit row.
pub(crate) fn create_tx(
    tx: &Transaction,
    now: i64,
    username: &str,
    role: Role,
    active: bool,
    hash: Option<&str>,
) -> Result<User> {
    let username = validate_username(username)?;
    tx.prepare_cached(
        "INSERT INTO users (username, password_hash, role, active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![username, hash, role.as_str(), active, now])
    .map_err(|e| duplicate_if_unique(e, "user", "username", &username))?;
    get_tx(tx, tx.last_insert_rowid())
}

/// All users (admins only), by name.
pub fn list(conn: &Connection, actor: &Actor) -> Result<Vec<User>> {
    actor.require(Role::Admin, "see users")?;
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Changes a user's role or active flag (admins only). The root user stays an active
/// admin, and nobody can lock themselves out by demoting or deactivating themselves.
pub fn update(
    store: &mut Store,
    actor: &Actor,
    username: &str,
    role: Option<Role>,
    active: Option<bool>,
) -> Result<User> {
    store.write(actor, Role::Admin, "manage users", |tx, now| {
        let before = find_tx(tx, username)?;
        let (role, active) = (role.unwrap_or(before.role), active.unwrap_or(before.active));
        let after = update_tx(tx, now, actor, &before, role, active, None)?;
        let was = Some(before.audit_json());
        audit_user(
            tx,
            now,
            &actor.name,
            &before,
            "update",
            was,
            after.audit_json(),
        )?;
        Ok(after)
    })
}

/// The root user always stays an active admin.
fn root_stays_admin(user: &User, role: Role, active: bool) -> Result<()> {
    if user.is_root && (role != Role::Admin || !active) {
        return Err(Error::invalid_rule(
            "role",
            "root_admin",
            serde_json::Value::Null,
            "the root user always stays an active admin",
        ));
    }
    Ok(())
}

/// A password given for an existing user by an admin (the importer's `password` column
/// with "update existing"; [`set_password`] is the same rule one user at a time).
pub(crate) enum NewPassword<'a> {
    /// Checked, not written: the import's preview, which does not hash (Argon2id is slow
    /// on purpose).
    Planned,
    /// Written: the hash replaces the old one, a lock-out is lifted, and the user's
    /// sessions in `sessions` end, as [`set_password`] does.
    Hash {
        hash: &'a str,
        sessions: &'a Sessions,
    },
}

/// [`update`] inside `tx`, and every rule of changing a user: the root stays an active
/// admin (checked first, so the root is told that one), nobody demotes or deactivates
/// themselves, and a `password` follows [`set_password`]'s rules and does what it does
/// (`set_password_tx`). Writes no audit row of the update itself; a password set writes
/// its `set_password` row. The importer calls this too, so no rule is written twice.
pub(crate) fn update_tx(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    before: &User,
    role: Role,
    active: bool,
    password: Option<NewPassword>,
) -> Result<User> {
    root_stays_admin(before, role, active)?;
    if actor.user_id == Some(before.id) && (role != Role::Admin || !active) {
        return Err(Error::invalid_rule(
            "role",
            "self_demote",
            serde_json::Value::Null,
            "you cannot demote or deactivate yourself; ask another admin",
        ));
    }
    tx.prepare_cached("UPDATE users SET role = ?2, active = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![before.id, role.as_str(), active, now])?;
    match password {
        None => {}
        Some(NewPassword::Planned) => may_set_password(actor, before)?,
        Some(NewPassword::Hash { hash, sessions }) => {
            set_password_tx(tx, now, sessions, actor, before, hash)?
        }
    }
    get_tx(tx, before.id)
}

/// An admin sets another user's password (a reset: the user forgot it, or it leaked).
/// Every session of that user ends, in the same transaction, so whoever knew the old
/// password is out. One's own password is changed with [`change_own_password`], which
/// asks for the current one; here it is refused.
pub fn set_password(
    store: &mut Store,
    sessions: &Sessions,
    actor: &Actor,
    username: &str,
    password: &str,
) -> Result<()> {
    check_password_strength(password)?;
    let hash = hash_password(password);
    store.write(actor, Role::Viewer, "change passwords", |tx, now| {
        let user = find_tx(tx, username)?;
        set_password_tx(tx, now, sessions, actor, &user, &hash)
    })
}

/// Whether `actor` may set `user`'s password without the current one: only an admin,
/// and only another user's (one's own needs the current one: [`change_own_password`]).
fn may_set_password(actor: &Actor, user: &User) -> Result<()> {
    if actor.user_id == Some(user.id) {
        return Err(Error::invalid_rule(
            "current",
            "own_password_needs_current",
            serde_json::Value::Null,
            "to change your own password, give your current password too",
        ));
    }
    actor.require(Role::Admin, "change another user's password")
}

/// [`set_password`] inside `tx`: its rules ([`may_set_password`]), then the new hash, the
/// lock-out lifted, every session of the user ended, and the `set_password` audit row.
fn set_password_tx(
    tx: &Transaction,
    now: i64,
    sessions: &Sessions,
    actor: &Actor,
    user: &User,
    hash: &str,
) -> Result<()> {
    may_set_password(actor, user)?;
    write_password(tx, now, sessions, actor, user, hash, None, false)
}

/// The acting user changes their own password, giving the current one. It is checked as
/// a sign-in checks it ([`authenticate`]'s rules, one argon2 verification): a wrong one
/// is refused with `CurrentPasswordWrong`, changes nothing, and is a failed attempt
/// (audited `login_failed`, reason and `during: "password change"`) that counts toward
/// lock-out. It counts because a session left open on an unattended desk would
/// otherwise let anyone guess the password without limit; while the account is locked,
/// even the right current password is refused, so the answer never confirms a guess.
///
/// On success every other session of the user ends; `keep_session` (the token of the
/// caller's own session, if it has one) stays signed in.
pub fn change_own_password(
    store: &mut Store,
    sessions: &Sessions,
    actor: &Actor,
    keep_session: Option<&str>,
    current: &str,
    new: &str,
) -> Result<()> {
    let Some(user_id) = actor.user_id else {
        return Err(Error::invalid(
            "user",
            format!(
                "{} is not an Atslegas user and has no password of its own; name the user whose password to set",
                actor.name
            ),
        ));
    };
    // A weak new password is a form error: refused before the current one is tried, so
    // it costs no attempt.
    check_password_strength(new)?;
    let user = get(store.conn(), user_id)?.ok_or_else(|| Error::NotFound {
        what: "user",
        id: actor.name.clone(),
    })?;
    match check_password(store, &user.username, current, Some("password change")) {
        Ok(_) => {}
        Err(Error::InvalidCredentials) => return Err(Error::CurrentPasswordWrong),
        Err(e) => return Err(e),
    }
    let hash = hash_password(new);
    store.write(
        actor,
        Role::Viewer,
        "change your own password",
        |tx, now| {
            let user = get_tx(tx, user_id)?;
            write_password(tx, now, sessions, actor, &user, &hash, keep_session, true)
        },
    )
}

/// Stores a new hash (which also lifts a lock-out), ends the user's sessions but
/// `keep_session`, and audits `set_password` with how many sessions ended.
#[allow(clippy::too_many_arguments)] // reason: who, whose, what and which session stays: each is needed
fn write_password(
    tx: &Transaction,
    now: i64,
    sessions: &Sessions,
    actor: &Actor,
    user: &User,
    hash: &str,
    keep_session: Option<&str>,
    own: bool,
) -> Result<()> {
    tx.execute(
        "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = NULL, updated_at = ?3
         WHERE id = ?1",
        params![user.id, hash, now],
    )?;
    let ended = sessions.end_for_user(tx, user.id, keep_session)?;
    let after = json!({ "own": own, "sessions_ended": ended });
    audit_user(tx, now, &actor.name, user, "set_password", None, after)?;
    Ok(())
}

fn find_tx(tx: &Transaction, username: &str) -> Result<User> {
    tx.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE username = ?1"))?
        .query_row([username.trim()], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "user",
            id: username.to_string(),
        })
}

/// Checks a user name and password: the window's sign-in and the CLI's `--as USER`.
/// Every attempt is audited (`login` or `login_failed`); after `max_failed_logins`
/// failures in a row the account is locked for `lockout_seconds`, during which even the
/// right password is refused.
///
/// Every failure (no such user, wrong password, locked, deactivated, no password yet)
/// is the same `InvalidCredentials`, so a caller cannot learn which accounts exist or
/// are locked; the audit row's `after.reason` says which it was.
pub fn authenticate(store: &mut Store, username: &str, password: &str) -> Result<User> {
    let user = check_password(store, username, password, None)?;
    store.write_unchecked(|tx, now| {
        tx.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?2 WHERE id = ?1",
            params![user.id, now],
        )?;
        Change::new(&user.username, "session", "login")
            .on(user.id)
            .record(tx, now)?;
        get_tx(tx, user.id)
    })
}

/// The password check behind [`authenticate`] and [`change_own_password`]. Each
/// attempt costs exactly one argon2 verification, against a dummy hash when there is
/// no user or no password, and a failure writes the same one row, so the time taken
/// does not tell which check failed. A failure is audited `login_failed` with its real
/// reason (and `during`, when it is not a sign-in), counts toward lock-out, and returns
/// `InvalidCredentials` whatever the reason.
fn check_password(
    store: &mut Store,
    username: &str,
    password: &str,
    during: Option<&str>,
) -> Result<User> {
    let username = username.trim().to_string();
    let row: Option<(User, Option<String>, i64, Option<i64>)> = store
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash, failed_logins, locked_until FROM users WHERE username = ?1"
        ))?
        .query_row([&username], |r| Ok((from_row(r)?, r.get(8)?, r.get(9)?, r.get(10)?)))
        .optional()?;
    let now = store.now();
    let max = store.security.max_failed_logins as i64;
    let lockout = store.security.lockout_seconds;

    let fail = |store: &mut Store, user: Option<&User>, reason: &str, lock: bool| -> Result<User> {
        let (uname, reason) = (username.clone(), reason.to_string());
        let uid = user.map(|u| u.id);
        let mut after = json!({ "reason": reason });
        if let Some(d) = during {
            after["during"] = json!(d);
        }
        store.write_unchecked(|tx, now| {
            if let Some(id) = uid {
                // A lock that has run out is cleared and the count starts again at 1.
                tx.execute(
                    "UPDATE users SET
                        failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= ?4
                                             THEN 1 ELSE failed_logins + 1 END,
                        locked_until = CASE WHEN ?2 THEN ?3
                                            WHEN locked_until IS NOT NULL AND locked_until <= ?4 THEN NULL
                                            ELSE locked_until END
                      WHERE id = ?1",
                    params![id, lock, now + lockout, now],
                )?;
            }
            audit::record(
                tx,
                now,
                Change {
                    actor: &uname,
                    component: "session",
                    record_id: uid.map(|i| i.to_string()),
                    operation: "login_failed",
                    before: None,
                    after: Some(after),
                },
            )?;
            Ok(())
        })?;
        Err(Error::InvalidCredentials)
    };

    let Some((user, hash, failed, locked_until)) = row else {
        dummy_verify(password);
        return fail(store, None, "unknown user", false);
    };
    // The one verification, before any other check (see above).
    let right = match &hash {
        Some(h) => verify_password(h, password),
        None => {
            dummy_verify(password);
            false
        }
    };
    if locked_until.is_some_and(|u| u > now) {
        return fail(store, Some(&user), "account locked", false);
    }
    if !user.active {
        return fail(store, Some(&user), "account deactivated", false);
    }
    if hash.is_none() {
        return fail(store, Some(&user), "no password set", false);
    }
    if !right {
        // A lock that has run out starts a new count (the update in `fail` clears it).
        let failed = if locked_until.is_some_and(|u| u <= now) {
            0
        } else {
            failed
        };
        return fail(store, Some(&user), "wrong password", failed + 1 >= max);
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert_eq!(
            check_password_strength("short").unwrap_err().code(),
            "weak_password"
        );
        assert!(check_password_strength("aaaaaaaaaaaa").is_err());
        assert!(check_password_strength("Sarkans-Tilts").is_ok());
        assert!(check_password_strength("PASSWORD123").is_err());
        assert!(check_password_strength("password123").is_err());
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_salted() {
        let a = hash_password("correct horse");
        let b = hash_password("correct horse");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "correct horsE"));
    }

    #[test]
    fn setup_happens_once_and_stores_no_plain_password() {
        let mut s = Store::open_in_memory().unwrap();
        assert!(!is_set_up(s.conn()).unwrap());
        let root = init_root(&mut s, "Tilts-Upe-42").unwrap();
        assert!(root.is_root && root.role == Role::Admin);
        assert!(is_set_up(s.conn()).unwrap());
        assert_eq!(
            init_root(&mut s, "Another-Pass-1").unwrap_err().code(),
            "already_set_up"
        );
        let stored: String = s
            .conn()
            .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
            .unwrap();
        assert!(!stored.contains("Tilts-Upe-42"));
        let audit_text: String = s
            .conn()
            .query_row(
                "SELECT group_concat(coalesce(after,''), '|') FROM audit_log",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!audit_text.contains("argon2") && !audit_text.contains("Tilts"));
    }

    /// A set-up store with the operator "anna", and an empty session folder.
    fn with_anna() -> (Store, Sessions, tempfile::TempDir) {
        let mut s = Store::open_in_memory().unwrap();
        let root = init_root(&mut s, "Tilts-Upe-42").unwrap().actor();
        add(&mut s, &root, "anna", Role::Operator, Some("Zila-Jura-77")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sessions = Sessions::new(dir.path().join("sessions"));
        (s, sessions, dir)
    }

    fn hash_of(s: &Store, name: &str) -> String {
        s.conn()
            .query_row(
                "SELECT password_hash FROM users WHERE username = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    }

    fn last_failure(s: &Store) -> serde_json::Value {
        let (op, after): (String, String) = s
            .conn()
            .query_row(
                "SELECT operation, after FROM audit_log ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(op, "login_failed");
        serde_json::from_str(&after).unwrap()
    }

    #[test]
    fn every_sign_in_failure_is_one_error_and_only_the_audit_says_why() {
        let (mut s, _sessions, _dir) = with_anna();
        let root = find(s.conn(), "root").unwrap().unwrap().actor();
        add(&mut s, &root, "imported", Role::Viewer, None).unwrap();
        add(&mut s, &root, "gone", Role::Viewer, Some("Zila-Jura-77")).unwrap();
        update(&mut s, &root, "gone", None, Some(false)).unwrap();
        for _ in 0..s.security.max_failed_logins {
            let _ = authenticate(&mut s, "anna", "not-her-password");
        }
        let cases = [
            ("nobody", "Zila-Jura-77", "unknown user"),
            ("root", "not-the-password", "wrong password"),
            ("anna", "Zila-Jura-77", "account locked"),
            ("gone", "Zila-Jura-77", "account deactivated"),
            ("imported", "Zila-Jura-77", "no password set"),
        ];
        let mut answers = Vec::new();
        for (name, pw, reason) in cases {
            let e = authenticate(&mut s, name, pw).unwrap_err();
            answers.push((e.code(), e.message(), e.details()));
            assert_eq!(last_failure(&s)["reason"], reason, "{name}");
        }
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:#?}");
        assert_eq!(answers[0].0, "invalid_credentials");
        assert!(
            answers[0].1.contains("locked or disabled"),
            "{}",
            answers[0].1
        );
    }

    #[test]
    fn setting_ones_own_password_without_the_current_one_is_refused() {
        let (mut s, sessions, _dir) = with_anna();
        let anna = find(s.conn(), "anna").unwrap().unwrap().actor();
        let before = hash_of(&s, "anna");
        let e = set_password(&mut s, &sessions, &anna, "anna", "Jauna-Parole-88").unwrap_err();
        match e {
            Error::Invalid {
                rule, ref field, ..
            } => {
                assert_eq!(
                    (rule, field.as_str()),
                    ("own_password_needs_current", "current")
                )
            }
            other => panic!("expected the own-password rule, got {other:?}"),
        }
        assert_eq!(hash_of(&s, "anna"), before);
        // Nor may she set someone else's.
        let e = set_password(&mut s, &sessions, &anna, "root", "Jauna-Parole-88").unwrap_err();
        assert_eq!(e.code(), "not_allowed");
    }

    #[test]
    fn a_wrong_current_password_changes_nothing_and_is_a_failed_attempt() {
        let (mut s, sessions, _dir) = with_anna();
        let anna = find(s.conn(), "anna").unwrap().unwrap().actor();
        let before = hash_of(&s, "anna");
        let e = change_own_password(
            &mut s,
            &sessions,
            &anna,
            None,
            "Zila-Jura-78",
            "Jauna-Parole-88",
        )
        .unwrap_err();
        assert_eq!(e.code(), "current_password_wrong");
        assert_eq!(e.details()["field"], "current");
        assert_eq!(hash_of(&s, "anna"), before);
        let after = last_failure(&s);
        assert_eq!(after["reason"], "wrong password");
        assert_eq!(after["during"], "password change");
        let failed: i64 = s
            .conn()
            .query_row(
                "SELECT failed_logins FROM users WHERE username = 'anna'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(failed, 1);

        change_own_password(
            &mut s,
            &sessions,
            &anna,
            None,
            "Zila-Jura-77",
            "Jauna-Parole-88",
        )
        .unwrap();
        assert!(authenticate(&mut s, "anna", "Zila-Jura-77").is_err());
        assert!(authenticate(&mut s, "anna", "Jauna-Parole-88").is_ok());
    }

    #[test]
    fn the_os_account_has_no_own_password_to_change() {
        let (mut s, sessions, _dir) = with_anna();
        let e = change_own_password(
            &mut s,
            &sessions,
            &Actor::cli("tester"),
            None,
            "x",
            "Jauna-Parole-88",
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_input");
    }
}
