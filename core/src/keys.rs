//! Physical keys: create, edit, retire, soft delete, restore, list. Owns the `keys`
//! table except its movement columns (status, holder, due), which only the key log's
//! triggers change (see `keylog`).
//!
//! Writers come in pairs: [`create`] / [`update`] open the transaction and write the
//! audit row; [`create_tx`] / [`update_tx`] hold the rules and the SQL, run inside a
//! transaction they are given and write no audit row (the caller writes it: the public
//! function one `create`/`update` row, the importer one `import` row per record).

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};

use crate::audit::Change;
use crate::columns::from_columns;
use crate::error::{duplicate_if_unique, Error, Result};
use crate::soft_delete::{self, SoftDeleted};
use crate::store::{Actor, Role, Store};
use crate::validate::{optional, required};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Key {
    pub id: i64,
    pub number: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub key_type: Option<String>,
    pub copies_note: Option<String>,
    /// `available`, `issued`, `lost` or `retired`.
    pub status: String,
    pub holder_person_id: Option<i64>,
    /// The holder's name, when issued.
    pub holder_name: Option<String>,
    pub issued_at: Option<i64>,
    pub due_back_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// How many groups allow this key. None: nobody may receive it without an admin's
    /// override, and the Keys screen says so (there is no default group that allows
    /// everything: ARCHITECTURE.md, groups). Derived, so never in the key's audit rows.
    pub groups: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInput {
    pub number: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub key_type: Option<String>,
    pub copies_note: Option<String>,
}

impl KeyInput {
    pub fn numbered(number: &str) -> KeyInput {
        KeyInput {
            number: number.to_string(),
            ..Default::default()
        }
    }

    /// The rules of a key's fields: the input trimmed, or the first field that breaks one.
    pub(crate) fn validated(&self) -> Result<KeyInput> {
        Ok(KeyInput {
            number: required("number", &self.number, 32)?,
            name: optional("name", self.name.as_deref(), 200)?,
            location: optional("location", self.location.as_deref(), 200)?,
            key_type: optional("key_type", self.key_type.as_deref(), 64)?,
            copies_note: optional("copies_note", self.copies_note.as_deref(), 500)?,
        })
    }
}

// The group count is one seek in `group_keys_key` per key of the page.
const COLUMNS: &str = "k.id, k.number, k.name, k.location, k.key_type, k.copies_note, k.status,
    k.holder_person_id, p.full_name, k.issued_at, k.due_back_at, k.created_at, k.updated_at, k.deleted_at,
    (SELECT count(*) FROM group_keys gk WHERE gk.key_id = k.id)";
const FROM: &str = "keys k LEFT JOIN persons p ON p.id = k.holder_person_id";

fn from_row(r: &Row) -> rusqlite::Result<Key> {
    Ok(from_columns!(r => Key {
        id, number, name, location, key_type, copies_note, status, holder_person_id,
        holder_name, issued_at, due_back_at, created_at, updated_at, deleted_at, groups
    }))
}

impl SoftDeleted for Key {
    const TABLE: &'static str = "keys";
    const WHAT: &'static str = "key";
    fn get_tx(conn: &Connection, id: i64) -> Result<Key> {
        get_tx(conn, id)
    }
    fn deleted_at(&self) -> Option<i64> {
        self.deleted_at
    }
    fn error_label(&self) -> String {
        self.number.clone()
    }
}

impl Key {
    /// The key's own fields: `groups` is the groups' business (their audit rows say it).
    pub(crate) fn audit_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("key serialises");
        if let Some(o) = v.as_object_mut() {
            o.remove("groups");
        }
        v
    }
}

pub(crate) fn get_tx(conn: &Connection, id: i64) -> Result<Key> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE k.id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "key",
            id: id.to_string(),
        })
}

/// A key by its number (deleted ones included; callers decide).
pub fn find(conn: &Connection, number: &str) -> Result<Key> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE k.number = ?1"))?
        .query_row([number.trim()], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "key",
            id: number.trim().to_string(),
        })
}

/// A key by its number that is not deleted (a deleted one is not found).
pub fn find_live(conn: &Connection, number: &str) -> Result<Key> {
    let key = find(conn, number)?;
    if key.deleted_at.is_some() {
        return Err(Error::NotFound {
            what: "key",
            id: key.number,
        });
    }
    Ok(key)
}

/// A key by id.
pub fn get(conn: &Connection, id: i64) -> Result<Key> {
    get_tx(conn, id)
}

fn map_unique(e: rusqlite::Error, number: &str) -> Error {
    duplicate_if_unique(e, "key", "number", number)
}

fn record(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    op: &str,
    before: Option<&Key>,
    after: &Key,
) -> Result<()> {
    Change::new(&actor.name, "keys", op)
        .on(after.id)
        .before(before.map(Key::audit_json))
        .after(after.audit_json())
        .record(tx, now)?;
    Ok(())
}

/// Adds a key (admins).
pub fn create(store: &mut Store, actor: &Actor, input: &KeyInput) -> Result<Key> {
    store.write(actor, Role::Admin, "add keys", |tx, now| {
        let k = create_tx(tx, now, input)?;
        record(tx, now, actor, "create", None, &k)?;
        Ok(k)
    })
}

/// Changes a key's descriptive fields (admins).
pub fn update(store: &mut Store, actor: &Actor, id: i64, input: &KeyInput) -> Result<Key> {
    store.write(actor, Role::Admin, "edit keys", |tx, now| {
        let (before, after) = update_tx(tx, now, id, input)?;
        record(tx, now, actor, "update", Some(&before), &after)?;
        Ok(after)
    })
}

/// [`create`] inside `tx`: the rules and the INSERT, no audit row.
pub(crate) fn create_tx(tx: &Transaction, now: i64, input: &KeyInput) -> Result<Key> {
    let input = input.validated()?;
    tx.prepare_cached(
        "INSERT INTO keys (number, name, location, key_type, copies_note, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        input.number,
        input.name,
        input.location,
        input.key_type,
        input.copies_note,
        now
    ])
    .map_err(|e| map_unique(e, &input.number))?;
    get_tx(tx, tx.last_insert_rowid())
}

/// [`update`] inside `tx`: the rules and the UPDATE, no audit row. Returns the key
/// before and after.
pub(crate) fn update_tx(
    tx: &Transaction,
    now: i64,
    id: i64,
    input: &KeyInput,
) -> Result<(Key, Key)> {
    let input = input.validated()?;
    let before = get_tx(tx, id)?;
    tx.prepare_cached(
        "UPDATE keys SET number = ?2, name = ?3, location = ?4, key_type = ?5, copies_note = ?6, updated_at = ?7
         WHERE id = ?1",
    )?
    .execute(params![id, input.number, input.name, input.location, input.key_type, input.copies_note, now])
    .map_err(|e| map_unique(e, &input.number))?;
    Ok((before, get_tx(tx, id)?))
}

/// Retires an available key (no longer handed out) or brings a retired key back.
pub fn set_retired(store: &mut Store, actor: &Actor, id: i64, retired: bool) -> Result<Key> {
    store.write(actor, Role::Admin, "retire keys", |tx, now| {
        let before = get_tx(tx, id)?;
        let (from, to) = if retired {
            ("available", "retired")
        } else {
            ("retired", "available")
        };
        if before.status != from {
            return Err(Error::invalid_rule(
                "status",
                if retired {
                    "retire_not_available"
                } else {
                    "unretire_not_retired"
                },
                serde_json::json!({ "key": before.number, "status": before.status }),
                format!(
                    "key {} is {}; only an {from} key can become {to}",
                    before.number, before.status
                ),
            ));
        }
        tx.execute(
            "UPDATE keys SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, to, now],
        )?;
        let after = get_tx(tx, id)?;
        record(tx, now, actor, "update", Some(&before), &after)?;
        Ok(after)
    })
}

/// Soft-deletes a key; refused while it is out.
pub fn delete(store: &mut Store, actor: &Actor, id: i64) -> Result<Key> {
    store.write(actor, Role::Admin, "delete keys", |tx, now| {
        let (before, after) = soft_delete::delete_tx(tx, now, id, |k: &Key| {
            if k.status == "issued" {
                return Err(Error::KeyIsOut {
                    key: k.number.clone(),
                    holder: k.holder_name.clone().unwrap_or_default(),
                });
            }
            Ok(())
        })?;
        record(tx, now, actor, "delete", Some(&before), &after)?;
        Ok(after)
    })
}

/// Brings back a soft-deleted key.
pub fn restore(store: &mut Store, actor: &Actor, id: i64) -> Result<Key> {
    store.write(actor, Role::Admin, "restore keys", |tx, now| {
        let (before, after) = soft_delete::restore_tx::<Key>(tx, now, id)?;
        record(tx, now, actor, "restore", Some(&before), &after)?;
        Ok(after)
    })
}

/// What a key list shows.
#[derive(Debug, Clone, Default)]
pub struct KeyQuery {
    pub status: Option<String>,
    /// Prefix search over number, room, location, type (diacritics-insensitive).
    pub search: Option<String>,
    /// Only keys held by this person.
    pub holder_person_id: Option<i64>,
    /// Only keys out and due back before this time (overdue at that moment).
    pub overdue_at: Option<i64>,
    pub include_deleted: bool,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

const STATUSES: &[&str] = &["available", "issued", "lost", "retired"];

/// The orders a key list offers (column name -> ORDER BY text).
const SORTS: &[(&str, &str)] = &[
    ("number", "length(k.number), k.number, k.id"),
    ("-number", "length(k.number) DESC, k.number DESC, k.id DESC"),
    ("name", "k.name COLLATE NOCASE, length(k.number), k.number"),
    (
        "-name",
        "k.name COLLATE NOCASE DESC, length(k.number), k.number",
    ),
    ("status", "k.status, length(k.number), k.number"),
    ("-status", "k.status DESC, length(k.number), k.number"),
    (
        "due",
        "k.due_back_at IS NULL, k.due_back_at, length(k.number), k.number",
    ),
    (
        "-due",
        "k.due_back_at IS NULL, k.due_back_at DESC, length(k.number), k.number",
    ),
];

/// Keys matching `q`, by number, paged in SQL.
pub fn list(conn: &Connection, q: &KeyQuery) -> Result<Vec<Key>> {
    list_sorted(conn, q, "number")
}

/// Like [`list`], in the order `sort` names: `number`, `name`, `status`, `due`, each with
/// a leading `-` for descending.
pub fn list_sorted(conn: &Connection, q: &KeyQuery, sort: &str) -> Result<Vec<Key>> {
    if let Some(s) = &q.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(Error::invalid(
                "status",
                format!("\"{s}\" is not a status; use available, issued, lost or retired"),
            ));
        }
    }
    let (sql, args) = list_sql(q, sort)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The SQL [`list_sorted`] runs for `q` in the order `sort` names, with its parameters
/// (the query-plan tests read it). Each filter is its own constant clause (not `?n IS NULL OR ...`),
/// so the planner can use the filter's index: `keys_due` or `keys_status` for overdue
/// keys, `keys_holder` for a person's keys. Only constant texts go into the SQL.
pub fn list_sql(q: &KeyQuery, sort: &str) -> Result<(String, Vec<rusqlite::types::Value>)> {
    let order = crate::search::order_by(SORTS, sort, "keys")?;
    let mut sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE 1=1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(s) = &q.status {
        sql.push_str(" AND k.status = ?");
        args.push(s.clone().into());
    }
    if let Some(fts) = q.search.as_deref().and_then(crate::search::fts_query) {
        sql.push_str(" AND k.id IN (SELECT rowid FROM keys_fts WHERE keys_fts MATCH ?)");
        args.push(fts.into());
    }
    if let Some(p) = q.holder_person_id {
        sql.push_str(" AND k.holder_person_id = ?");
        args.push(p.into());
    }
    if !q.include_deleted {
        sql.push_str(" AND k.deleted_at IS NULL");
    }
    if let Some(t) = q.overdue_at {
        sql.push_str(" AND k.status = 'issued' AND k.due_back_at < ?");
        args.push(t.into());
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT ? OFFSET ?"));
    args.push(i64::from(q.limit.unwrap_or(100).clamp(1, 1000)).into());
    args.push(i64::from(q.offset.unwrap_or(0)).into());
    Ok((sql, args))
}

/// The keys a group allows, by number (one query).
pub fn allowed_for_group(conn: &Connection, group_id: i64, limit: u32) -> Result<Vec<Key>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM}
          WHERE k.id IN (SELECT key_id FROM group_keys WHERE group_id = ?1)
          ORDER BY length(k.number), k.number LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![group_id, i64::from(limit)], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many keys the register has (not deleted, not retired) and how many of them some
/// group allows: the Keys screen's first-run card shows while keys exist and none is
/// allowed (nobody can receive a key then without an admin's override).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GroupCoverage {
    pub keys: i64,
    pub allowed: i64,
}

/// [`GroupCoverage`] of the register: one pass over the keys, one seek in
/// `group_keys_key` each.
pub fn group_coverage(conn: &Connection) -> Result<GroupCoverage> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), count(*) FILTER (WHERE EXISTS
                    (SELECT 1 FROM group_keys gk WHERE gk.key_id = k.id))
               FROM keys k WHERE k.deleted_at IS NULL AND k.status <> 'retired'",
        )?
        .query_row([], |r| {
            Ok(GroupCoverage {
                keys: r.get(0)?,
                allowed: r.get(1)?,
            })
        })?)
}
