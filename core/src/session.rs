//! Signed-in sessions, stored as small files under `session_storage_dir` (so the CLI and
//! the app see the same sessions, and a restart does not sign everyone out). A file is
//! named by the SHA-256 of its token, so the folder never reveals a usable token, and
//! carries an HMAC with a secret kept in the database, so an edited file is detected.
//! Expiry on inactivity writes a `session_timeout` audit row; malformed or tampered
//! files are deleted and a `session_rejected` row is written. A password change ends the
//! user's other sessions by deleting their files (`end_for_user`).

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::store::{Actor, Store};
use crate::users::{self, User};

/// The sessions of one data directory.
#[derive(Debug, Clone)]
pub struct Sessions {
    dir: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionFile {
    v: u32,
    user_id: i64,
    username: String,
    created_at: i64,
    last_seen_at: i64,
    mac: String,
}

impl SessionFile {
    /// The signed text. It includes the file's own name (the hash of its token), so a
    /// valid file copied over another session's file does not validate there.
    fn signed_fields(&self, file_name: &str) -> String {
        format!(
            "v{}|{}|{}|{}|{}|{}",
            self.v, self.user_id, self.username, self.created_at, self.last_seen_at, file_name
        )
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn secret(store: &Store) -> Result<Vec<u8>> {
    secret_in(store.conn())
}

fn secret_in(conn: &rusqlite::Connection) -> Result<Vec<u8>> {
    let s: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM meta WHERE key = 'session_secret'",
        [],
        |r| r.get(0),
    ))?;
    s.map(String::into_bytes).ok_or(Error::NotSetUp)
}

fn mac(secret: &[u8], fields: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(fields.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn mac_ok(secret: &[u8], fields: &str, given: &str) -> bool {
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(fields.as_bytes());
    m.verify_slice(&given).is_ok()
}

fn is_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Sessions {
    pub fn new(dir: impl Into<PathBuf>) -> Sessions {
        Sessions { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, token: &str) -> PathBuf {
        // Named so that `is_session_file_name` recognises it.
        let name = hex::encode(Sha256::digest(token.as_bytes()));
        self.dir.join(format!("{name}.json"))
    }

    fn write_file(&self, path: &Path, f: &SessionFile) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io("create the session folder", &self.dir, e))?;
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec(f).expect("session serialises");
        write_private(&tmp, &text).map_err(|e| Error::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("write", path, e))
    }

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

    /// Ends every session of `user_id` except `keep` (a token; the caller's own session),
    /// by deleting their files; returns how many ended. Called by the password functions
    /// in `users` inside their write transaction, before it commits: if a file cannot be
    /// deleted the password stays as it was, and never the other way round (a new
    /// password while a session of the old one lives on). Files that do not verify are
    /// left to `validate` and `sweep_expired`, which reject them with an audit row.
    pub(crate) fn end_for_user(
        &self,
        conn: &rusqlite::Connection,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::io("read the session folder", &self.dir, e)),
        };
        let secret = secret_in(conn)?;
        let keep = keep.filter(|t| is_token(t)).map(|t| self.path(t));
        let mut ended = 0;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read the session folder", &self.dir, e))?;
            let path = entry.path();
            if !is_session_file_name(&entry.file_name().to_string_lossy())
                || keep.as_deref() == Some(path.as_path())
            {
                continue;
            }
            let Ok(text) = std::fs::read(&path) else {
                continue;
            };
            let ours = matches!(serde_json::from_slice::<SessionFile>(&text),
                Ok(f) if f.user_id == user_id && mac_ok(&secret, &f.signed_fields(&file_name(&path)), &f.mac));
            if !ours {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => ended += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("end the session", &path, e)),
            }
        }
        Ok(ended)
    }

    /// Ends every session idle past the timeout (at start-up), auditing each.
    pub fn sweep_expired(&self, store: &mut Store) -> Result<usize> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
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

/// Writes a file readable by its owner only, where the OS has such permissions.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
/// `<64 lowercase hex digits>.json`: the only files the sweep may read or delete.
fn is_session_file_name(name: &str) -> bool {
    name.strip_suffix(".json").is_some_and(|stem| {
        stem.len() == 64
            && stem
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_named_like_session_files_are_sweepable() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(is_session_file_name(&format!("{hex}.json")));
        for name in [
            "notes.json".to_string(),
            "report.json".to_string(),
            format!("{}.json", hex.to_uppercase()),
            format!("{hex}.txt"),
            format!("{}.json", &hex[1..]),
            format!("x{hex}.json"),
        ] {
            assert!(!is_session_file_name(&name), "{name}");
        }
    }
}
