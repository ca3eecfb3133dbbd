//! Key sets (rings): a name, an optional tag (the barcode on the ring) and its keys,
//! handed over as one (`keylog::issue_keys`, all or nothing, one receipt). Owns
//! `key_sets` and `key_set_keys`. Admins manage sets, as they manage keys; deleting a set
//! is soft, so old receipts still name it.
//!
//! A set's name and tag must not read as a key number or a person's code or badge:
//! the Desk and `issue SET` find a set by what is typed, and one text must name one thing.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::Change;
use crate::error::{duplicate_if_unique, Error, Result};
use crate::store::{Actor, Role, Store};
use crate::validate::{optional, required};

/// One key of a set, as the Sets screen and a handover show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetKey {
    pub id: i64,
    pub number: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub status: String,
    pub holder_person_id: Option<i64>,
    pub holder_name: Option<String>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeySet {
    pub id: i64,
    pub name: String,
    pub tag: Option<String>,
    /// By key number.
    pub keys: Vec<SetKey>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl KeySet {
    /// The key numbers, for messages and audit rows.
    pub fn numbers(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.number.clone()).collect()
    }

    fn audit_json(&self) -> serde_json::Value {
        json!({"name": self.name, "tag": self.tag, "keys": self.numbers()})
    }
}

/// What an admin fills in for a set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SetInput {
    pub name: String,
    pub tag: Option<String>,
    /// Key numbers.
    pub keys: Vec<String>,
}

const SETS: &str = "SELECT id, name, tag, created_at, updated_at, deleted_at FROM key_sets";
const SET_KEYS: &str = "SELECT sk.set_id, k.id, k.number, k.name, k.location, k.status,
        k.holder_person_id, p.full_name, k.deleted_at IS NOT NULL
   FROM key_set_keys sk JOIN keys k ON k.id = sk.key_id
   LEFT JOIN persons p ON p.id = k.holder_person_id";

/// Sets with their keys: two queries whatever the number of sets (never one per set).
fn read(conn: &Connection, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<KeySet>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SETS} WHERE {filter} ORDER BY name COLLATE NOCASE, id"
    ))?;
    let mut sets: Vec<KeySet> = stmt
        .query_map(args, |r| {
            Ok(KeySet {
                id: r.get(0)?,
                name: r.get(1)?,
                tag: r.get(2)?,
                keys: Vec::new(),
                created_at: r.get(3)?,
                updated_at: r.get(4)?,
                deleted_at: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if sets.is_empty() {
        return Ok(sets);
    }
    let ids: Vec<String> = sets.iter().map(|s| s.id.to_string()).collect();
    // Ids are our own integers, joined as text: no value from outside reaches the SQL.
    let mut stmt = conn.prepare(&format!(
        "{SET_KEYS} WHERE sk.set_id IN ({}) ORDER BY k.number COLLATE NOCASE",
        ids.join(",")
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            SetKey {
                id: r.get(1)?,
                number: r.get(2)?,
                name: r.get(3)?,
                location: r.get(4)?,
                status: r.get(5)?,
                holder_person_id: r.get(6)?,
                holder_name: r.get(7)?,
                deleted: r.get(8)?,
            },
        ))
    })?;
    for row in rows {
        let (set_id, key) = row?;
        if let Some(s) = sets.iter_mut().find(|s| s.id == set_id) {
            s.keys.push(key);
        }
    }
    Ok(sets)
}

/// Every set (deleted ones too when asked), by name.
pub fn list(conn: &Connection, include_deleted: bool) -> Result<Vec<KeySet>> {
    if include_deleted {
        read(conn, "1 = 1", &[])
    } else {
        read(conn, "deleted_at IS NULL", &[])
    }
}

/// A set by id (deleted too).
pub fn get(conn: &Connection, id: i64) -> Result<KeySet> {
    read(conn, "id = ?1", &[&id])?
        .pop()
        .ok_or_else(|| Error::NotFound {
            what: "key set",
            id: format!("#{id}"),
        })
}

/// The set a typed or scanned text names: its tag, else its name (not deleted).
pub fn find(conn: &Connection, text: &str) -> Result<Option<KeySet>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM key_sets WHERE deleted_at IS NULL
                AND (tag = ?1 COLLATE NOCASE OR name = ?1 COLLATE NOCASE)
              ORDER BY tag = ?1 COLLATE NOCASE DESC LIMIT 1",
        )?
        .query_row([text], |r| r.get(0))
        .optional()?;
    id.map(|id| get(conn, id)).transpose()
}

/// [`find`], or the error that says no set is called that.
pub fn find_required(conn: &Connection, text: &str) -> Result<KeySet> {
    find(conn, text)?.ok_or_else(|| Error::NotFound {
        what: "key set",
        id: text.trim().to_string(),
    })
}

/// The set's rules: name (and tag) trimmed, not read as a key or a person, and at least
/// one existing key, each once. Returns the name, tag and key ids.
fn validated(
    conn: &Connection,
    input: &SetInput,
    this: Option<i64>,
) -> Result<(String, Option<String>, Vec<i64>)> {
    let name = required("name", &input.name, 100)?;
    let tag = optional("tag", input.tag.as_deref(), 100)?;
    for (field, text) in [("name", Some(&name)), ("tag", tag.as_ref())] {
        let Some(text) = text else { continue };
        if let Some(what) = names_something_else(conn, text)? {
            return Err(Error::invalid_rule(
                field,
                "set_text_taken",
                json!({ "text": text, "what": what }),
                format!("\"{text}\" is already {what}; the Desk could not tell them apart, so choose another"),
            ));
        }
    }
    // Neither may be another set's name or tag.
    let clash: Option<String> = conn
        .prepare_cached(
            "SELECT name FROM key_sets WHERE deleted_at IS NULL AND id IS NOT ?3
                AND (name COLLATE NOCASE IN (?1, ?2) OR tag COLLATE NOCASE IN (?1, ?2))",
        )?
        .query_row(params![name, tag, this], |r| r.get(0))
        .optional()?;
    if let Some(other) = clash {
        return Err(Error::invalid_rule(
            "name",
            "set_text_taken",
            json!({ "text": name, "what": format!("the set {other}") }),
            format!("the name or tag is already the set \"{other}\"'s; choose another"),
        ));
    }
    if input.keys.iter().all(|k| k.trim().is_empty()) {
        return Err(Error::invalid_rule(
            "keys",
            "set_needs_keys",
            serde_json::Value::Null,
            "a set needs at least one key; give key numbers, for example 101,102",
        ));
    }
    let mut stmt =
        conn.prepare_cached("SELECT id FROM keys WHERE number = ?1 AND deleted_at IS NULL")?;
    let mut ids = Vec::new();
    for number in input
        .keys
        .iter()
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
    {
        let id: i64 = stmt
            .query_row([number], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::NotFound {
                what: "key",
                id: number.to_string(),
            })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok((name, tag, ids))
}

/// What else `text` names at the Desk: a key number, or a person's code or badge.
fn names_something_else(conn: &Connection, text: &str) -> Result<Option<String>> {
    let key: Option<String> = conn
        .prepare_cached("SELECT number FROM keys WHERE number = ?1 AND deleted_at IS NULL")?
        .query_row([text], |r| r.get(0))
        .optional()?;
    if let Some(n) = key {
        return Ok(Some(format!("key number {n}")));
    }
    let person: Option<String> = conn
        .prepare_cached(
            "SELECT full_name FROM persons WHERE deleted_at IS NULL AND (code = ?1 OR badge = ?1)",
        )?
        .query_row([text], |r| r.get(0))
        .optional()?;
    Ok(person.map(|p| format!("the code or badge of {p}")))
}

fn set_keys_tx(tx: &Transaction, set_id: i64, key_ids: &[i64]) -> Result<()> {
    tx.prepare_cached("DELETE FROM key_set_keys WHERE set_id = ?1")?
        .execute([set_id])?;
    let mut ins = tx.prepare_cached("INSERT INTO key_set_keys (set_id, key_id) VALUES (?1, ?2)")?;
    for id in key_ids {
        ins.execute(params![set_id, id])?;
    }
    Ok(())
}

fn audit_set(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    op: &str,
    before: Option<&KeySet>,
    after: &KeySet,
) -> Result<()> {
    Change::new(&actor.name, "key_sets", op)
        .on(after.id)
        .before(before.map(KeySet::audit_json))
        .after(after.audit_json())
        .record(tx, now)?;
    Ok(())
}

/// Creates a set (admins).
pub fn create(store: &mut Store, actor: &Actor, input: &SetInput) -> Result<KeySet> {
    store.write(actor, Role::Admin, "manage key sets", |tx, now| {
        let (name, tag, ids) = validated(tx, input, None)?;
        tx.prepare_cached(
            "INSERT INTO key_sets (name, tag, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        )?
        .execute(params![name, tag, now])
        .map_err(|e| duplicate_if_unique(e, "key set", "name", &name))?;
        let id = tx.last_insert_rowid();
        set_keys_tx(tx, id, &ids)?;
        let set = get(tx, id)?;
        audit_set(tx, now, actor, "create", None, &set)?;
        Ok(set)
    })
}

/// Changes a set's name, tag or keys (admins); `set` is its tag or name.
pub fn update(store: &mut Store, actor: &Actor, set: &str, input: &SetInput) -> Result<KeySet> {
    store.write(actor, Role::Admin, "manage key sets", |tx, now| {
        let before = find_required(tx, set)?;
        let (name, tag, ids) = validated(tx, input, Some(before.id))?;
        tx.prepare_cached(
            "UPDATE key_sets SET name = ?2, tag = ?3, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![before.id, name, tag, now])
        .map_err(|e| duplicate_if_unique(e, "key set", "name", &name))?;
        set_keys_tx(tx, before.id, &ids)?;
        let after = get(tx, before.id)?;
        audit_set(tx, now, actor, "update", Some(&before), &after)?;
        Ok(after)
    })
}

/// Deletes a set (admins; soft: receipts that name it keep naming it). Its keys stay
/// as they are, out or not.
pub fn delete(store: &mut Store, actor: &Actor, set: &str) -> Result<KeySet> {
    store.write(actor, Role::Admin, "manage key sets", |tx, now| {
        let before = find_required(tx, set)?;
        tx.prepare_cached("UPDATE key_sets SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1")?
            .execute(params![before.id, now])?;
        let after = get(tx, before.id)?;
        audit_set(tx, now, actor, "delete", Some(&before), &after)?;
        Ok(after)
    })
}
