//! The session folder: one small file per signed-in session, named by the SHA-256 of its
//! token (so the folder never reveals a usable token) and carrying an HMAC with a secret
//! kept in the database (so an edited file is detected). What `users` needs of sessions
//! (ending a user's sessions when their password changes) lives here, below the sign-in
//! flow in `session`, which itself reads users.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Store;

/// The sessions of one data directory.
#[derive(Debug, Clone)]
pub struct Sessions {
    dir: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SessionFile {
    pub(super) v: u32,
    pub(super) user_id: i64,
    pub(super) username: String,
    pub(super) created_at: i64,
    pub(super) last_seen_at: i64,
    pub(super) mac: String,
}

impl SessionFile {
    /// The signed text. It includes the file's own name (the hash of its token), so a
    /// valid file copied over another session's file does not validate there.
    pub(super) fn signed_fields(&self, file_name: &str) -> String {
        format!(
            "v{}|{}|{}|{}|{}|{}",
            self.v, self.user_id, self.username, self.created_at, self.last_seen_at, file_name
        )
    }
}

pub(super) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(super) fn secret(store: &Store) -> Result<Vec<u8>> {
    secret_in(store.conn())
}

pub(super) fn secret_in(conn: &rusqlite::Connection) -> Result<Vec<u8>> {
    let s: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM meta WHERE key = 'session_secret'",
        [],
        |r| r.get(0),
    ))?;
    s.map(String::into_bytes).ok_or(Error::NotSetUp)
}

pub(super) fn mac(secret: &[u8], fields: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(fields.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

pub(super) fn mac_ok(secret: &[u8], fields: &str, given: &str) -> bool {
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(fields.as_bytes());
    m.verify_slice(&given).is_ok()
}

pub(super) fn is_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Sessions {
    pub fn new(dir: impl Into<PathBuf>) -> Sessions {
        Sessions { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(super) fn path(&self, token: &str) -> PathBuf {
        // Named so that `is_session_file_name` recognises it.
        let name = hex::encode(Sha256::digest(token.as_bytes()));
        self.dir.join(format!("{name}.json"))
    }

    pub(super) fn write_file(&self, path: &Path, f: &SessionFile) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io("create the session folder", &self.dir, e))?;
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec(f).expect("session serialises");
        write_private(&tmp, &text).map_err(|e| Error::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("write", path, e))
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
}

/// Writes a file readable by its owner only, where the OS has such permissions.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = crate::private::new_file_options(
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
    )
    .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// `<64 lowercase hex digits>.json`: the only files the sweep may read or delete.
pub(super) fn is_session_file_name(name: &str) -> bool {
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
