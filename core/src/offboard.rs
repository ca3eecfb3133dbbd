//! Offboarding a leaving person (SPEC §11): what they hold (keys, and the sets those
//! keys belong to, with due dates), taken back by the usual return or reported lost,
//! then the person deactivated with a numbered clearance receipt. Owns `clearances`.
//!
//! Finishing is refused while anything is held, unless an admin gives an override
//! reason: the clearance then lists what was still held, and the keys stay recorded as
//! out to the person (the register never pretends a key came back).

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::error::{Error, Result};
use crate::keylog::{resolve_person, PersonRef};
use crate::persons::{self, Person};
use crate::store::{Actor, Role, Store};
use crate::validate::optional;

/// A key the person holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldKey {
    pub number: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub issued_at: Option<i64>,
    pub due_back_at: Option<i64>,
    /// The sets (rings) it belongs to, by name.
    pub sets: Vec<String>,
}

/// A set the person holds keys of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldSet {
    pub name: String,
    pub tag: Option<String>,
    /// The set's keys the person holds, by number.
    pub keys: Vec<String>,
    /// True when the person holds every key of the set.
    pub whole: bool,
}

/// What a leaving person holds, and their clearances so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offboarding {
    pub person: Person,
    pub keys: Vec<HeldKey>,
    pub sets: Vec<HeldSet>,
    /// True when nothing is held: finishing needs no override.
    pub clear: bool,
    /// Numbers of the person's clearance receipts, newest first.
    pub clearances: Vec<i64>,
}

/// A clearance receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clearance {
    pub number: i64,
    pub at: i64,
    pub person_id: i64,
    pub person_name: String,
    pub person_code: Option<String>,
    pub department: Option<String>,
    /// The user who finished the offboarding.
    pub actor: String,
    pub site_name: String,
    /// Set when an admin finished it while keys were still held.
    pub override_reason: Option<String>,
    /// Key numbers still held when it was made (empty unless overridden).
    pub still_held: Vec<String>,
    /// How many times it was printed or saved before; a reprint says "copy".
    pub printed: i64,
}

/// What the person holds now: two queries (keys with their sets, then the sets).
pub fn status(conn: &Connection, who: &PersonRef) -> Result<Offboarding> {
    let person = resolve_person(conn, who)?;
    status_of(conn, person)
}

fn status_of(conn: &Connection, person: Person) -> Result<Offboarding> {
    let keys = held_keys(conn, person.id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT s.name, s.tag, group_concat(k.number, char(10)),
                count(*) = (SELECT count(*) FROM key_set_keys a WHERE a.set_id = s.id)
           FROM key_sets s JOIN key_set_keys sk ON sk.set_id = s.id
           JOIN keys k ON k.id = sk.key_id AND k.holder_person_id = ?1 AND k.status = 'issued'
          WHERE s.deleted_at IS NULL
          GROUP BY s.id ORDER BY s.name COLLATE NOCASE",
    )?;
    let sets: Vec<HeldSet> = stmt
        .query_map([person.id], |r| {
            let keys: String = r.get(2)?;
            let mut keys: Vec<String> = keys.split('\n').map(str::to_string).collect();
            keys.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
            Ok(HeldSet {
                name: r.get(0)?,
                tag: r.get(1)?,
                keys,
                whole: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let clearances: Vec<i64> = conn
        .prepare_cached("SELECT number FROM clearances WHERE person_id = ?1 ORDER BY number DESC")?
        .query_map([person.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Offboarding {
        clear: keys.is_empty(),
        person,
        keys,
        sets,
        clearances,
    })
}

/// The keys a person holds, by number, each with the sets it belongs to (one query).
fn held_keys(conn: &Connection, person_id: i64) -> Result<Vec<HeldKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT k.number, k.name, k.location, k.issued_at, k.due_back_at,
                (SELECT group_concat(s.name, char(10)) FROM key_set_keys sk
                   JOIN key_sets s ON s.id = sk.set_id AND s.deleted_at IS NULL
                  WHERE sk.key_id = k.id)
           FROM keys k WHERE k.holder_person_id = ?1 AND k.status = 'issued'
          ORDER BY length(k.number), k.number",
    )?;
    let keys = stmt
        .query_map([person_id], |r| {
            let sets: Option<String> = r.get(5)?;
            let mut sets: Vec<String> = sets
                .map(|s| s.split('\n').map(str::to_string).collect())
                .unwrap_or_default();
            sets.sort();
            Ok(HeldKey {
                number: r.get(0)?,
                name: r.get(1)?,
                location: r.get(2)?,
                issued_at: r.get(3)?,
                due_back_at: r.get(4)?,
                sets,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(keys)
}

/// Finishes an offboarding: deactivates the person and makes the clearance receipt, in
/// one transaction with one audit row. Refused while the person holds keys
/// ([`Error::PersonHoldsKeys`]) unless an admin gives `override_reason`.
pub fn finish(
    store: &mut Store,
    actor: &Actor,
    who: &PersonRef,
    override_reason: Option<&str>,
) -> Result<Clearance> {
    let reason = optional("override_reason", override_reason, 500)?;
    let site_name = store.handover.site_name.clone();
    store.write(actor, Role::Operator, "offboard persons", |tx, now| {
        let before = resolve_person(tx, who)?;
        if before.deleted_at.is_some() {
            return Err(Error::NotFound { what: "person", id: before.label() });
        }
        let still_held: Vec<String> = held_keys(tx, before.id)?
            .into_iter()
            .map(|k| k.number)
            .collect();
        match (&reason, still_held.is_empty()) {
            (_, true) => {}
            (None, false) => {
                return Err(Error::PersonHoldsKeys { person: before.label(), count: still_held.len() as i64 })
            }
            (Some(_), false) => actor.require(Role::Admin, "finish an offboarding while keys are held")?,
        }
        // An override with nothing held overrides nothing: it is not recorded.
        let reason = reason.as_deref().filter(|_| !still_held.is_empty());
        tx.prepare_cached("UPDATE persons SET active = 0, updated_at = ?2 WHERE id = ?1")?
            .execute(params![before.id, now])?;
        let after = persons::get(tx, before.id)?;
        let number: i64 = tx
            .prepare_cached("SELECT coalesce(max(number), 0) + 1 FROM clearances")?
            .query_row([], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO clearances (number, person_id, at, user_id, actor, site_name, override_reason, still_held)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![number, before.id, now, actor.user_id, actor.name, site_name, reason, json!(still_held).to_string()])?;
        Change::new(&actor.name, "persons", "offboard")
            .on(before.id)
            .before(before.audit_json())
            .after(json!({
                "person": after.audit_json(), "clearance": number,
                "override_reason": reason, "still_held": still_held
            }))
            .record(tx, now)?;
        clearance(tx, number)
    })
}

/// A clearance receipt by number.
pub fn clearance(conn: &Connection, number: i64) -> Result<Clearance> {
    conn.prepare_cached(
        "SELECT c.number, c.at, c.person_id, p.full_name, p.code, p.department, c.actor,
                c.site_name, c.override_reason, c.still_held, c.printed
           FROM clearances c JOIN persons p ON p.id = c.person_id WHERE c.number = ?1",
    )?
    .query_row([number], |r| {
        let held: String = r.get(9)?;
        Ok(Clearance {
            number: r.get(0)?,
            at: r.get(1)?,
            person_id: r.get(2)?,
            person_name: r.get(3)?,
            person_code: r.get(4)?,
            department: r.get(5)?,
            actor: r.get(6)?,
            site_name: r.get(7)?,
            override_reason: r.get(8)?,
            still_held: serde_json::from_str(&held).unwrap_or_default(),
            printed: r.get(10)?,
        })
    })
    .optional()?
    .ok_or_else(|| Error::NotFound {
        what: "clearance",
        id: number.to_string(),
    })
}
