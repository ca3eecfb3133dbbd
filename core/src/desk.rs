//! The Desk: the daily job in the fewest keystrokes. A scanner (or a person typing) gives
//! one text at a time; [`lookup`] says what it names, [`plan`] says what handing it over
//! would do (checked, nothing written: the window asks for the signature only after
//! that), and [`hand_over`] does it, with one receipt. The rules live here, so the window
//! and tests share them.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::keylog::{self, Handover, IssueRequest, LogEntry, PersonRef, ReturnRequest};
use crate::keys::{self, Key};
use crate::persons::{self, Person, PersonQuery};
use crate::sets::{self, KeySet};
use crate::store::{Actor, Store};

/// A second scan of a key this soon after it was issued to the person still chosen is a
/// scanner's double read, not a return: it is ignored and the Desk says so.
pub const REPEAT_SECONDS: i64 = 10;

/// What a scanned or typed text names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Match {
    /// A key number (exact).
    Key { key: Key },
    /// A set's tag or name (exact, any case).
    Set { set: KeySet },
    /// A person code or badge (exact).
    Person { person: Person },
    /// Persons whose names start with the typed words (at most 10).
    Candidates { persons: Vec<Person> },
    /// Nothing.
    Nothing,
}

/// Resolves a scanned or typed text. With a person already chosen, a key number wins
/// (the next scans are keys), then a set; without one, a key that is out wins (scan a
/// key: returned), then a person code or badge, then a key, then a set, then names.
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
            if let Some(set) = sets::find(conn, text)? {
                return Ok(Match::Set { set });
            }
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

/// What handing over a scanned key or set would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Plan {
    /// Issue these keys to the chosen person.
    Issue {
        keys: Vec<String>,
        set: Option<String>,
        person_id: i64,
        person_name: String,
        signature_required: bool,
    },
    /// Take these keys back from their holder.
    Return {
        keys: Vec<String>,
        set: Option<String>,
        person_id: Option<i64>,
        person_name: Option<String>,
        signature_required: bool,
    },
    /// A second read of a key just issued to the chosen person: nothing to do.
    Repeat { key: String, person_name: String },
}

/// What a handover did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Issued {
        /// The first key's row (the only one for a single key).
        entry: LogEntry,
        handover: Handover,
    },
    Returned {
        entry: LogEntry,
        handover: Handover,
    },
    /// A double read, ignored (see [`REPEAT_SECONDS`]).
    Repeat {
        key: String,
        person_name: String,
    },
}

/// Decides what a scan of `text` (a key number, or a set's tag or name) does, and checks
/// it without writing: the keys are out to one holder and no other person is chosen (a
/// return), or they are available and a person is chosen (an issue, with the person's
/// rights checked, or an admin's override reason). `missing` names keys of a returned
/// set that are not on the ring (they stay out; see [`keylog::return_keys`]): a return
/// of them all, or missing keys named for an issue, is refused. Refused with the message
/// that says what to do.
pub fn plan(
    store: &Store,
    actor: &Actor,
    text: &str,
    person_id: Option<i64>,
    req: &IssueRequest,
    missing: &[String],
) -> Result<Plan> {
    let conn = store.conn();
    let (keys, set) = keylog::resolve_all(conn, &[text])?;
    let set_name = set.map(|s| s.name);
    let holder = keys[0].holder_person_id;
    let all_out_to_one = keys
        .iter()
        .all(|k| k.status == "issued" && k.holder_person_id == holder);
    if all_out_to_one && person_id.is_none_or(|p| holder == Some(p)) {
        let first = &keys[0];
        if let (Some(p), Some(at)) = (person_id, first.issued_at) {
            if store.now() - at < REPEAT_SECONDS {
                let person = persons::get(conn, p)?;
                return Ok(Plan::Repeat {
                    key: set_name.unwrap_or_else(|| first.number.clone()),
                    person_name: person.full_name,
                });
            }
        }
        let back = ReturnRequest {
            missing: missing.to_vec(),
            ..ReturnRequest::default()
        };
        let numbers = keylog::check_return(conn, actor, &[text], &back)?;
        return Ok(Plan::Return {
            keys: numbers,
            set: set_name,
            person_id: holder,
            person_name: first.holder_name.clone(),
            signature_required: store.handover.require_signature.requires(false),
        });
    }
    // A lost, retired or deleted key can be neither returned nor issued: say that, rather
    // than asking for a person who could not take it either.
    if let Some(k) = keys
        .iter()
        .find(|k| k.deleted_at.is_some() || !matches!(k.status.as_str(), "available" | "issued"))
    {
        return Err(Error::KeyNotAvailable {
            status: if k.deleted_at.is_some() {
                "deleted".into()
            } else {
                k.status.clone()
            },
            key: k.number.clone(),
        });
    }
    let Some(pid) = person_id else {
        return Err(Error::invalid_rule(
            "person",
            "needs_person",
            serde_json::json!({ "key": set_name.clone().unwrap_or_else(|| keys[0].number.clone()) }),
            format!(
                "{} is available: scan or type the person who takes it first",
                match &set_name {
                    Some(s) => format!("set {s}"),
                    None => format!("key {}", keys[0].number),
                }
            ),
        ));
    };
    if let Some(m) = missing.iter().find(|m| !m.trim().is_empty()) {
        return Err(Error::invalid_rule(
            "missing",
            "missing_on_issue",
            serde_json::json!({ "key": m }),
            format!("key {m} is named missing, but this scan issues keys: only a returned set can come back without some of its keys"),
        ));
    }
    let numbers = keylog::check_issue(conn, actor, &[text], &PersonRef::Id(pid), req, store.now())?;
    let person = persons::get(conn, pid)?;
    Ok(Plan::Issue {
        keys: numbers,
        set: set_name,
        person_id: pid,
        person_name: person.full_name,
        signature_required: store.handover.require_signature.requires(true),
    })
}

/// Hands over what a scan of `text` names, as [`plan`] decides: issued to the chosen
/// person or returned by its holder, in one transaction with one receipt (the signature,
/// when given, in `req`). Of a returned set, the keys named in `missing` did not come
/// back: they stay out, and the handover names them. A double read is answered
/// [`Outcome::Repeat`] and changes nothing.
pub fn hand_over(
    store: &mut Store,
    actor: &Actor,
    text: &str,
    person_id: Option<i64>,
    req: &IssueRequest,
    missing: &[String],
) -> Result<Outcome> {
    match plan(store, actor, text, person_id, req, missing)? {
        Plan::Repeat { key, person_name } => Ok(Outcome::Repeat { key, person_name }),
        Plan::Return { .. } => {
            let back = ReturnRequest {
                comment: req.comment.clone(),
                signature: req.signature.clone(),
                missing: missing.to_vec(),
            };
            let handover = keylog::return_keys(store, actor, &[text], &back)?;
            Ok(Outcome::Returned {
                entry: handover.entries[0].clone(),
                handover,
            })
        }
        Plan::Issue { person_id, .. } => {
            let handover =
                keylog::issue_keys(store, actor, &[text], &PersonRef::Id(person_id), req)?;
            Ok(Outcome::Issued {
                entry: handover.entries[0].clone(),
                handover,
            })
        }
    }
}
