//! Access groups: which persons belong together and which keys they may receive. Owns
//! `groups`, `group_members` and `group_keys`. A person may receive a key when one of
//! their groups allows it ([`person_may_receive`]).
//!
//! Writers come in pairs: the public functions open the transaction and write the audit
//! row; the `_tx` ones ([`create_tx`], [`update_tx`], [`add_member_tx`],
//! [`allow_key_tx`], [`clear_members_tx`], [`clear_keys_tx`]) hold the rules and the SQL,
//! run inside a transaction they are given and write no audit row (the caller writes it:
//! the public function one row per call, the importer one `import` row per group).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::columns::from_columns;
use crate::error::{duplicate_if_unique, Error, Result};
use crate::store::{Actor, Role, Store};
use crate::validate::{optional, required};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub member_count: i64,
    pub key_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT g.id, g.name, g.description,
    (SELECT count(*) FROM group_members m WHERE m.group_id = g.id),
    (SELECT count(*) FROM group_keys k WHERE k.group_id = g.id),
    g.created_at, g.updated_at FROM groups g";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Group> {
    Ok(from_columns!(r => Group {
        id, name, description, member_count, key_count, created_at, updated_at
    }))
}

/// A group by name (case-insensitive).
pub fn find(conn: &Connection, name: &str) -> Result<Group> {
    conn.prepare_cached(&format!("{SELECT} WHERE g.name = ?1"))?
        .query_row([name.trim()], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "group",
            id: name.trim().to_string(),
        })
}

/// All groups by name.
pub fn list(conn: &Connection) -> Result<Vec<Group>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY g.name"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn audit_group(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    g: &Group,
    op: &str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
) -> Result<()> {
    Change::new(&actor.name, "groups", op)
        .on(g.id)
        .before(before)
        .after(after)
        .record(tx, now)?;
    Ok(())
}

/// Creates a group (admins).
pub fn create(
    store: &mut Store,
    actor: &Actor,
    name: &str,
    description: Option<&str>,
) -> Result<Group> {
    store.write(actor, Role::Admin, "manage groups", |tx, now| {
        let g = create_tx(tx, now, name, description)?;
        audit_group(
            tx,
            now,
            actor,
            &g,
            "create",
            None,
            json!({"name": g.name, "description": g.description}),
        )?;
        Ok(g)
    })
}

/// The rules of a group's name and description: both trimmed, or the one that breaks one.
pub(crate) fn validated(name: &str, description: Option<&str>) -> Result<(String, Option<String>)> {
    Ok((
        required("name", name, 100)?,
        optional("description", description, 500)?,
    ))
}

fn map_unique(e: rusqlite::Error, name: &str) -> Error {
    duplicate_if_unique(e, "group", "name", name)
}

/// [`create`] inside `tx`: the rules and the INSERT, no audit row.
pub(crate) fn create_tx(
    tx: &Transaction,
    now: i64,
    name: &str,
    description: Option<&str>,
) -> Result<Group> {
    let (name, description) = validated(name, description)?;
    tx.prepare_cached(
        "INSERT INTO groups (name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
    )?
    .execute(params![name, description, now])
    .map_err(|e| map_unique(e, &name))?;
    find(tx, &name)
}

/// [`update`] inside `tx`: renames the group `before` or changes its description; the
/// rules and the UPDATE, no audit row.
pub(crate) fn update_tx(
    tx: &Transaction,
    now: i64,
    before: &Group,
    name: &str,
    description: Option<&str>,
) -> Result<Group> {
    let (name, description) = validated(name, description)?;
    tx.prepare_cached(
        "UPDATE groups SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![before.id, name, description, now])
    .map_err(|e| map_unique(e, &name))?;
    find(tx, &name)
}

/// Marks the group changed (its members or keys), inside `tx`.
fn touch_tx(tx: &Transaction, now: i64, group_id: i64) -> Result<()> {
    tx.prepare_cached("UPDATE groups SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![group_id, now])?;
    Ok(())
}

/// Makes the person a member, inside `tx`; false when they already were. No audit row.
pub(crate) fn add_member_tx(tx: &Transaction, group_id: i64, person_id: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "INSERT OR IGNORE INTO group_members (group_id, person_id) VALUES (?1, ?2)",
        )?
        .execute(params![group_id, person_id])?
        > 0)
}

/// Allows the key to the group's members, inside `tx`; false when it already was. No
/// audit row.
pub(crate) fn allow_key_tx(tx: &Transaction, group_id: i64, key_id: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached("INSERT OR IGNORE INTO group_keys (group_id, key_id) VALUES (?1, ?2)")?
        .execute(params![group_id, key_id])?
        > 0)
}

/// Removes every member, inside `tx` (an import replacing them). No audit row.
pub(crate) fn clear_members_tx(tx: &Transaction, group_id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM group_members WHERE group_id = ?1")?
        .execute([group_id])?;
    Ok(())
}

/// Takes every key away, inside `tx` (an import replacing them). No audit row.
pub(crate) fn clear_keys_tx(tx: &Transaction, group_id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM group_keys WHERE group_id = ?1")?
        .execute([group_id])?;
    Ok(())
}

/// What a group holds, for an audit row: name, description, and its members (code,
/// badge or `#id`) and keys (numbers), sorted.
pub(crate) fn contents_json(conn: &Connection, id: i64) -> Result<serde_json::Value> {
    let q = |sql: &str| -> rusqlite::Result<Vec<String>> {
        let mut s = conn.prepare_cached(sql)?;
        let rows = s.query_map([id], |r| r.get(0))?;
        rows.collect()
    };
    let m = q("SELECT coalesce(p.code, p.badge, '#' || p.id) FROM group_members g JOIN persons p ON p.id = g.person_id WHERE g.group_id = ?1 ORDER BY 1")?;
    let k = q("SELECT k.number FROM group_keys g JOIN keys k ON k.id = g.key_id WHERE g.group_id = ?1 ORDER BY 1")?;
    let (name, description): (String, Option<String>) = conn
        .prepare_cached("SELECT name, description FROM groups WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(json!({"name": name, "description": description, "members": m, "keys": k}))
}

/// Resolves key numbers to ids inside the transaction, failing on the first unknown one.
pub(crate) fn key_ids(tx: &Transaction, numbers: &[String]) -> Result<Vec<(i64, String)>> {
    let mut stmt =
        tx.prepare_cached("SELECT id, number FROM keys WHERE number = ?1 AND deleted_at IS NULL")?;
    numbers
        .iter()
        .map(|n| {
            stmt.query_row([n.trim()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| Error::NotFound {
                    what: "key",
                    id: n.trim().to_string(),
                })
        })
        .collect()
}

/// Allows the group's members to receive these keys (admins). One audit row per call.
pub fn allow_keys(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    numbers: &[String],
) -> Result<Group> {
    change_contents(store, actor, group, "keys_allowed", |tx, g| {
        let mut added = Vec::new();
        for (id, number) in key_ids(tx, numbers)? {
            if allow_key_tx(tx, g.id, id)? {
                added.push(number);
            }
        }
        Ok(added)
    })
}

/// Takes keys away from the group (admins).
pub fn disallow_keys(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    numbers: &[String],
) -> Result<Group> {
    change_contents(store, actor, group, "keys_disallowed", |tx, g| {
        let keys = key_ids(tx, numbers)?;
        let mut del =
            tx.prepare_cached("DELETE FROM group_keys WHERE group_id = ?1 AND key_id = ?2")?;
        let mut removed = Vec::new();
        for (id, number) in keys {
            if del.execute(params![g.id, id])? > 0 {
                removed.push(number);
            }
        }
        Ok(removed)
    })
}

/// The frame of every change to a group's members or keys (admins): finds the group,
/// lets `change` write and say what it changed, marks the group changed and writes one
/// `update` audit row whose `after` is `{field: what changed}`.
fn change_contents<T: Serialize>(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    field: &str,
    change: impl FnOnce(&Transaction, &Group) -> Result<Vec<T>>,
) -> Result<Group> {
    store.write(actor, Role::Admin, "manage groups", |tx, now| {
        let g = find(tx, group)?;
        let changed = change(tx, &g)?;
        touch_tx(tx, now, g.id)?;
        let after = find(tx, group)?;
        audit_group(
            tx,
            now,
            actor,
            &after,
            "update",
            None,
            json!({ field: changed }),
        )?;
        Ok(after)
    })
}

/// Adds persons (by person code or badge) to the group (admins).
pub fn add_members(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    person_codes: &[String],
) -> Result<Group> {
    let refs: Vec<PersonKey> = person_codes
        .iter()
        .map(|c| PersonKey::Code(c.clone()))
        .collect();
    add_members_raw(store, actor, group, &refs)
}

/// Adds persons (by id, as the window picks them) to the group (admins).
pub fn add_member_ids(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    person_ids: &[i64],
) -> Result<Group> {
    let refs: Vec<PersonKey> = person_ids.iter().map(|i| PersonKey::Id(*i)).collect();
    add_members_raw(store, actor, group, &refs)
}

enum PersonKey {
    Id(i64),
    Code(String),
}

fn add_members_raw(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    refs: &[PersonKey],
) -> Result<Group> {
    change_contents(store, actor, group, "members_added", |tx, g| {
        let mut added = Vec::new();
        for r in refs {
            let p = match r {
                PersonKey::Id(id) => crate::persons::get(tx, *id)?,
                PersonKey::Code(c) => crate::persons::find_by_code(tx, c)?,
            };
            if p.deleted_at.is_some() {
                return Err(Error::PersonNotActive { person: p.label() });
            }
            if add_member_tx(tx, g.id, p.id)? {
                added.push(json!({"id": p.id, "name": p.full_name}));
            }
        }
        Ok(added)
    })
}

/// True when one of the person's groups allows the key.
pub fn person_may_receive(conn: &Connection, person_id: i64, key_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM group_members m JOIN group_keys k ON k.group_id = m.group_id
              WHERE m.person_id = ?1 AND k.key_id = ?2 LIMIT 1",
        )?
        .exists(params![person_id, key_id])?)
}

/// The group's members, by name.
pub fn members(conn: &Connection, group_id: i64) -> Result<Vec<crate::persons::Person>> {
    crate::persons::in_group(conn, group_id, u32::MAX)
}

/// The first `limit` members and allowed keys, for a screen (a group may hold thousands).
pub fn detail_page(
    conn: &Connection,
    group_id: i64,
    limit: u32,
) -> Result<(Vec<crate::persons::Person>, Vec<crate::keys::Key>)> {
    Ok((
        crate::persons::in_group(conn, group_id, limit)?,
        crate::keys::allowed_for_group(conn, group_id, limit)?,
    ))
}

/// The keys the group's members may receive, by number.
pub fn allowed_keys(conn: &Connection, group_id: i64) -> Result<Vec<crate::keys::Key>> {
    crate::keys::allowed_for_group(conn, group_id, u32::MAX)
}

/// The groups a person belongs to.
pub fn of_person(conn: &Connection, person_id: i64) -> Result<Vec<Group>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE g.id IN (SELECT group_id FROM group_members WHERE person_id = ?1) ORDER BY g.name"
    ))?;
    let rows = stmt.query_map([person_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Removes persons (by id) from the group (admins).
pub fn remove_members(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    person_ids: &[i64],
) -> Result<Group> {
    change_contents(store, actor, group, "members_removed", |tx, g| {
        let mut del =
            tx.prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND person_id = ?2")?;
        let mut removed = Vec::new();
        for id in person_ids {
            if del.execute(params![g.id, id])? > 0 {
                removed.push(*id);
            }
        }
        Ok(removed)
    })
}

/// Renames a group or changes its description (admins).
pub fn update(
    store: &mut Store,
    actor: &Actor,
    group: &str,
    name: &str,
    description: Option<&str>,
) -> Result<Group> {
    store.write(actor, Role::Admin, "manage groups", |tx, now| {
        let before = find(tx, group)?;
        let after = update_tx(tx, now, &before, name, description)?;
        audit_group(
            tx,
            now,
            actor,
            &after,
            "update",
            Some(json!({"name": before.name, "description": before.description})),
            json!({"name": after.name, "description": after.description}),
        )?;
        Ok(after)
    })
}

/// Deletes a group with its memberships and rights (admins). Persons and keys stay; the
/// audit row keeps what the group held.
pub fn delete(store: &mut Store, actor: &Actor, group: &str) -> Result<()> {
    store.write(actor, Role::Admin, "manage groups", |tx, now| {
        let g = find(tx, group)?;
        let members: Vec<i64> = {
            let mut s = tx.prepare_cached("SELECT person_id FROM group_members WHERE group_id = ?1")?;
            let r = s.query_map([g.id], |r| r.get(0))?;
            r.collect::<rusqlite::Result<_>>()?
        };
        let keys: Vec<i64> = {
            let mut s = tx.prepare_cached("SELECT key_id FROM group_keys WHERE group_id = ?1")?;
            let r = s.query_map([g.id], |r| r.get(0))?;
            r.collect::<rusqlite::Result<_>>()?
        };
        tx.execute("DELETE FROM groups WHERE id = ?1", [g.id])?;
        Change::new(&actor.name, "groups", "delete")
            .on(g.id)
            .before(json!({"name": g.name, "description": g.description, "member_ids": members, "key_ids": keys}))
            .record(tx, now)?;
        Ok(())
    })
}
