//! The Desk: the daily job in the fewest keystrokes. A scanner (or a person typing) gives
//! one text at a time; [`lookup`] says what it names and [`scan_key`] decides between
//! issuing and returning. The rules live here, so the window and tests share them.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::keylog::{self, IssueRequest, LogEntry, PersonRef};
use crate::keys::{self, Key};
use crate::persons::{self, Person, PersonQuery};
use crate::store::{Actor, Store};

/// What a scanned or typed text names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Match {
    /// A key number (exact).
    Key { key: Key },
    /// A person code or badge (exact).
    Person { person: Person },
    /// Persons whose names start with the typed words (at most 10).
    Candidates { persons: Vec<Person> },
    /// Nothing.
    Nothing,
}

/// Resolves a scanned or typed text. With a person already chosen, a key number wins
/// (the next scans are keys); without one, a key that is out wins (scan a key: returned),
/// then a person code or badge, then a key, then names.
pub fn lookup(conn: &Connection, text: &str, person_chosen: bool) -> Result<Match> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Match::Nothing);
    }
    let key = keys::find(conn, text)
        .ok()
        .filter(|k| k.deleted_at.is_none());
    let person = persons::find_by_code(conn, text).ok();
    match (key, person) {
        (Some(k), _) if person_chosen || k.status == "issued" => Ok(Match::Key { key: k }),
        (_, Some(p)) => Ok(Match::Person { person: p }),
        (Some(k), None) => Ok(Match::Key { key: k }),
        (None, None) => {
            let persons = persons::list(
                conn,
                &PersonQuery {
                    search: Some(text.to_string()),
                    limit: Some(10),
                    ..Default::default()
                },
            )?;
            Ok(if persons.is_empty() {
                Match::Nothing
            } else {
                Match::Candidates { persons }
            })
        }
    }
}

/// What a key scan did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Issued { entry: LogEntry },
    Returned { entry: LogEntry },
}

/// A key was scanned: a key that is out is returned; an available key is issued to the
/// chosen person (refused with a clear message when no person is chosen).
pub fn scan_key(
    store: &mut Store,
    actor: &Actor,
    key_number: &str,
    person_id: Option<i64>,
    req: &IssueRequest,
) -> Result<Outcome> {
    let key = keys::find(store.conn(), key_number)?;
    if key.status == "issued" && person_id.is_none_or(|p| key.holder_person_id == Some(p)) {
        let entry = keylog::return_key(store, actor, &key.number, req.comment.as_deref())?;
        return Ok(Outcome::Returned { entry });
    }
    // A lost, retired or deleted key can be neither returned nor issued: say that, rather
    // than asking for a person who could not take it either.
    if key.deleted_at.is_some() || !matches!(key.status.as_str(), "available" | "issued") {
        return Err(Error::KeyNotAvailable {
            status: if key.deleted_at.is_some() {
                "deleted".into()
            } else {
                key.status.clone()
            },
            key: key.number,
        });
    }
    let Some(pid) = person_id else {
        return Err(Error::invalid_rule(
            "person",
            "needs_person",
            serde_json::json!({ "key": key.number }),
            format!(
                "key {} is available: scan or type the person who takes it first",
                key.number
            ),
        ));
    };
    let entry = keylog::issue(store, actor, &key.number, &PersonRef::Id(pid), req)?;
    Ok(Outcome::Issued { entry })
}
