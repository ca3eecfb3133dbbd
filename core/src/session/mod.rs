//! Signed-in sessions, stored as small files under `session_storage_dir` (so the CLI and
//! the app see the same sessions, and a restart does not sign everyone out). A file is
//! named by the SHA-256 of its token, so the folder never reveals a usable token, and
//! carries an HMAC with a secret kept in the database, so an edited file is detected.
//! Expiry on inactivity writes a `session_timeout` audit row; malformed or tampered
//! files are deleted and a `session_rejected` row is written. A password change ends the
//! user's other sessions by deleting their files (`end_for_user`).

pub(crate) mod files;

use std::path::Path;

use serde_json::json;

use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::store::{Actor, Store};
use crate::users::{self, User};

pub use files::Sessions;
use files::{file_name, is_session_file_name, is_token, mac, mac_ok, secret, SessionFile};

impl Sessions {
    /// Signs a user in: checks the password (with lock-out) and creates a session.
    /// Returns the token the caller keeps and presents on every later call.
    pub fn sign_in(
        &self,
        store: &mut Store,
        username: &str,
        password: &str,
    ) -> Result<(String, User)> {
        let user = users::authenticate(store, username, password)?;
        let token = self.create(store, &user)?;
        Ok((token, user))
    }

    /// Creates a session for an authenticated user.
    pub fn create(&self, store: &Store, user: &User) -> Result<String> {
        let secret = secret(store)?;
        let token = crate::random::hex(32);
        let now = store.now();
        let mut f = SessionFile {
            v: 1,
            user_id: user.id,
            username: user.username.clone(),
            created_at: now,
            last_seen_at: now,
            mac: String::new(),
        };
        let path = self.path(&token);
        f.mac = mac(&secret, &f.signed_fields(&file_name(&path)));
        self.write_file(&path, &f)?;
        Ok(token)
    }

    /// Checks a session and marks it used: returns the actor to act as. An expired
    /// session is ended with a `session_timeout` audit row; a malformed or tampered one
    /// is deleted with a `session_rejected` audit row.
    pub fn validate(&self, store: &mut Store, token: &str) -> Result<Actor> {
        if !is_token(token) {
            self.reject(store, None, "the token is malformed")?;
            return Err(Error::SessionInvalid {
                reason: "malformed token".into(),
            });
        }
        let path = self.path(token);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::SessionInvalid {
                    reason: "no such session; it ended or was signed out".into(),
                })
            }
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let secret = secret(store)?;
        let file = match serde_json::from_slice::<SessionFile>(&text) {
            Ok(f) if mac_ok(&secret, &f.signed_fields(&file_name(&path)), &f.mac) => f,
            Ok(_) => {
                let _ = std::fs::remove_file(&path);
                self.reject(store, Some(&path), "signature does not match (tampered)")?;
                return Err(Error::SessionInvalid {
                    reason: "the session data was changed".into(),
                });
            }
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                self.reject(store, Some(&path), "not a valid session file")?;
                return Err(Error::SessionInvalid {
                    reason: "the session data is damaged".into(),
                });
            }
        };
        let now = store.now();
        let timeout = store.security.session_timeout_seconds;
        if now - file.last_seen_at > timeout as i64 {
            let _ = std::fs::remove_file(&path);
            self.timed_out(store, &file)?;
            return Err(Error::SessionExpired {
                timeout_seconds: timeout,
            });
        }
        let user = users::get(store.conn(), file.user_id)?
            .filter(|u| u.active && u.username == file.username)
            .ok_or_else(|| Error::SessionInvalid {
                reason: "the user no longer exists or was deactivated".into(),
            })?;
        if now > file.last_seen_at {
            let mut f = file;
            f.last_seen_at = now;
            f.mac = mac(&secret, &f.signed_fields(&file_name(&path)));
            self.write_file(&path, &f)?;
        }
        Ok(user.actor())
    }

    /// Signs out: deletes the session and writes a `logout` audit row.
    pub fn sign_out(&self, store: &mut Store, token: &str) -> Result<()> {
        let actor = self.validate(store, token)?;
        let _ = std::fs::remove_file(self.path(token));
        store.write_unchecked(|tx, now| {
            audit::record(
                tx,
                now,
                Change {
                    actor: &actor.name,
                    component: "session",
                    record_id: actor.user_id.map(|i| i.to_string()),
                    operation: "logout",
                    before: None,
                    after: None,
                },
            )?;
            Ok(())
        })
    }

    /// Ends every session idle past the timeout (at start-up), auditing each.
    pub fn sweep_expired(&self, store: &mut Store) -> Result<usize> {
        let Ok(entries) = std::fs::read_dir(self.dir()) else {
            return Ok(0);
        };
        let Ok(secret) = secret(store) else {
            return Ok(0);
        };
        let now = store.now();
        let timeout = store.security.session_timeout_seconds as i64;
        let mut ended = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            // Only files named as this module names them (the SHA-256 of a token, in
            // hex, then `.json`): a session folder configured onto someone's documents
            // must never lose a file to this sweep.
            if !is_session_file_name(&entry.file_name().to_string_lossy()) {
                continue;
            }
            let Ok(text) = std::fs::read(&path) else {
                continue;
            };
            match serde_json::from_slice::<SessionFile>(&text) {
                Ok(f) if mac_ok(&secret, &f.signed_fields(&file_name(&path)), &f.mac) => {
                    if now - f.last_seen_at > timeout {
                        let _ = std::fs::remove_file(&path);
                        self.timed_out(store, &f)?;
                        ended += 1;
                    }
                }
                _ => {
                    let _ = std::fs::remove_file(&path);
                    self.reject(store, Some(&path), "not a valid session file")?;
                    ended += 1;
                }
            }
        }
        Ok(ended)
    }

    fn timed_out(&self, store: &mut Store, f: &SessionFile) -> Result<()> {
        let (name, id, last) = (f.username.clone(), f.user_id, f.last_seen_at);
        let timeout = store.security.session_timeout_seconds;
        store.write_unchecked(|tx, now| {
            Change::new(&name, "session", "session_timeout")
                .on(id)
                .after(json!({"last_seen_at": last, "timeout_seconds": timeout}))
                .record(tx, now)?;
            Ok(())
        })
    }

    fn reject(&self, store: &mut Store, path: Option<&Path>, reason: &str) -> Result<()> {
        tracing::warn!(?path, reason, "rejected session data");
        let file = path
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned());
        let reason = reason.to_string();
        store.write_unchecked(|tx, now| {
            Change::new("system", "session", "session_rejected")
                .after(json!({"file": file, "reason": reason}))
                .record(tx, now)?;
            Ok(())
        })
    }
}
