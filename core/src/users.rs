//! Users of the app (not key holders): first-run root setup, argon2id passwords,
//! sign-in with lock-out, and user administration (admins only). Owns the `users` table.
//! Never stores or logs a plain password; audit rows carry no hash either.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Change};
use crate::error::{Error, Result};
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
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        is_root: r.get(3)?,
        active: r.get(4)?,
        has_password: r.get(5)?,
        created_at: r.get(6)?,
        last_login_at: r.get(7)?,
    })
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

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the user does not exist, so a
/// wrong user name takes as long as a wrong password.
fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = DUMMY.get_or_init(|| hash_password(&crate::util::random_hex(16)));
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
            [crate::util::random_hex(32)],
        )?;
        let user = get_tx(tx, id)?;
        audit::record(
            tx,
            now,
            Change {
                actor: "setup",
                component: "users",
                record_id: Some(id.to_string()),
                operation: "create",
                before: None,
                after: Some(user.audit_json()),
            },
        )?;
        Ok(user)
    })
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

/// The actor for an existing, active user name (the CLI's `--as USER`).
pub fn actor_for(conn: &Connection, username: &str) -> Result<Actor> {
    let user = find(conn, username)?.ok_or_else(|| Error::NotFound {
        what: "user",
        id: username.to_string(),
    })?;
    if !user.active {
        return Err(Error::AccountDisabled {
            username: user.username,
        });
    }
    Ok(user.actor())
}

fn validate_username(name: &str) -> Result<String> {
    let name = crate::util::required("username", name, 64)?;
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
    let username = validate_username(username)?;
    let hash = match password {
        Some(p) => {
            check_password_strength(p)?;
            Some(hash_password(p))
        }
        None => None,
    };
    store.write(actor, Role::Admin, "manage users", |tx, now| {
        let inserted = tx.execute(
            "INSERT INTO users (username, password_hash, role, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![username, hash, role.as_str(), now],
        );
        match inserted {
            Err(e) if crate::error::is_unique_violation(&e) => {
                return Err(Error::Duplicate {
                    what: "user",
                    field: "username",
                    value: username.clone(),
                })
            }
            other => other?,
        };
        let user = get_tx(tx, tx.last_insert_rowid())?;
        audit::record(
            tx,
            now,
            Change {
                actor: &actor.name,
                component: "users",
                record_id: Some(user.id.to_string()),
                operation: "create",
                before: None,
                after: Some(user.audit_json()),
            },
        )?;
        Ok(user)
    })
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
        if before.is_root && (role.is_some_and(|r| r != Role::Admin) || active == Some(false)) {
            return Err(Error::invalid_rule(
                "role",
                "root_admin",
                serde_json::Value::Null,
                "the root user always stays an active admin",
            ));
        }
        if actor.user_id == Some(before.id)
            && (role.is_some_and(|r| r != Role::Admin) || active == Some(false))
        {
            return Err(Error::invalid_rule(
                "role",
                "self_demote",
                serde_json::Value::Null,
                "you cannot demote or deactivate yourself; ask another admin",
            ));
        }
        tx.execute(
            "UPDATE users SET role = ?2, active = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                before.id,
                role.unwrap_or(before.role).as_str(),
                active.unwrap_or(before.active),
                now
            ],
        )?;
        let after = get_tx(tx, before.id)?;
        audit::record(
            tx,
            now,
            Change {
                actor: &actor.name,
                component: "users",
                record_id: Some(before.id.to_string()),
                operation: "update",
                before: Some(before.audit_json()),
                after: Some(after.audit_json()),
            },
        )?;
        Ok(after)
    })
}

/// Sets a user's password: an admin for anyone, anyone for themselves.
pub fn set_password(
    store: &mut Store,
    actor: &Actor,
    username: &str,
    password: &str,
) -> Result<()> {
    check_password_strength(password)?;
    let hash = hash_password(password);
    store.write(actor, Role::Viewer, "change passwords", |tx, now| {
        let user = find_tx(tx, username)?;
        if actor.user_id != Some(user.id) {
            actor.require(Role::Admin, "change another user's password")?;
        }
        tx.execute(
            "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = NULL, updated_at = ?3
             WHERE id = ?1",
            params![user.id, hash, now],
        )?;
        audit::record(
            tx,
            now,
            Change {
                actor: &actor.name,
                component: "users",
                record_id: Some(user.id.to_string()),
                operation: "set_password",
                before: None,
                after: None,
            },
        )?;
        Ok(())
    })
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

/// Checks a user name and password. Every attempt is audited (`login` or
/// `login_failed`); after `max_failed_logins` failures in a row the account is locked
/// for `lockout_seconds`, during which even the right password is refused.
pub fn authenticate(store: &mut Store, username: &str, password: &str) -> Result<User> {
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

    let fail = |store: &mut Store, user: Option<&User>, reason: &str, lock: bool| -> Result<()> {
        let (uname, reason) = (username.clone(), reason.to_string());
        let uid = user.map(|u| u.id);
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
                    after: Some(json!({ "reason": reason })),
                },
            )?;
            Ok(())
        })
    };

    let Some((user, hash, failed, locked_until)) = row else {
        dummy_verify(password);
        fail(store, None, "unknown user", false)?;
        return Err(Error::InvalidCredentials);
    };
    if let Some(until) = locked_until.filter(|u| *u > now) {
        fail(store, Some(&user), "account locked", false)?;
        return Err(Error::AccountLocked {
            username: user.username,
            seconds_left: until - now,
        });
    }
    if !user.active {
        fail(store, Some(&user), "account deactivated", false)?;
        return Err(Error::AccountDisabled {
            username: user.username,
        });
    }
    let Some(hash) = hash else {
        fail(store, Some(&user), "no password set", false)?;
        return Err(Error::PasswordNotSet {
            username: user.username,
        });
    };
    if !verify_password(&hash, password) {
        // A lock that has run out starts a new count (the update above clears it).
        let failed = if locked_until.is_some_and(|u| u <= now) {
            0
        } else {
            failed
        };
        let lock = failed + 1 >= max;
        fail(store, Some(&user), "wrong password", lock)?;
        if lock {
            return Err(Error::AccountLocked {
                username: user.username,
                seconds_left: lockout,
            });
        }
        return Err(Error::InvalidCredentials);
    }
    store.write_unchecked(|tx, now| {
        tx.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?2 WHERE id = ?1",
            params![user.id, now],
        )?;
        audit::record(
            tx,
            now,
            Change {
                actor: &user.username,
                component: "session",
                record_id: Some(user.id.to_string()),
                operation: "login",
                before: None,
                after: None,
            },
        )?;
        get_tx(tx, user.id)
    })
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
}
