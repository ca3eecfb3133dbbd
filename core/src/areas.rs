//! Areas (doors, rooms, zones) and the keys that open them (SPEC §11). Owns `areas` and
//! `key_areas`. A key opens any number of areas, and a master key opens many; the
//! impact of a lost key (`lost::impact`) is read from here. Admins manage areas, as they
//! manage keys; deleting an area is soft, so an old impact report still names it, and
//! takes it off every key.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::columns::from_columns;
use crate::error::{duplicate_if_unique, Error, Result};
use crate::keys;
use crate::store::{Actor, Role, Store};
use crate::validate::{optional, required};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// How many keys (not deleted) open it.
    pub keys: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

// The key count is one range in `key_areas_area` per area.
const SELECT: &str = "SELECT a.id, a.name, a.description,
    (SELECT count(*) FROM key_areas ka JOIN keys k ON k.id = ka.key_id
      WHERE ka.area_id = a.id AND k.deleted_at IS NULL),
    a.created_at, a.updated_at, a.deleted_at FROM areas a";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Area> {
    Ok(from_columns!(r => Area {
        id, name, description, keys, created_at, updated_at, deleted_at
    }))
}

impl Area {
    fn audit_json(&self) -> serde_json::Value {
        json!({"name": self.name, "description": self.description, "deleted_at": self.deleted_at})
    }
}

/// Every area (deleted ones too when asked), by name.
pub fn list(conn: &Connection, include_deleted: bool) -> Result<Vec<Area>> {
    let filter = if include_deleted {
        ""
    } else {
        " WHERE a.deleted_at IS NULL"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT}{filter} ORDER BY a.name COLLATE NOCASE, a.id"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An area by its name (not deleted; any case).
pub fn find(conn: &Connection, name: &str) -> Result<Area> {
    conn.prepare_cached(&format!(
        "{SELECT} WHERE a.deleted_at IS NULL AND a.name = ?1 COLLATE NOCASE"
    ))?
    .query_row([name.trim()], from_row)
    .optional()?
    .ok_or_else(|| Error::NotFound {
        what: "area",
        id: name.trim().to_string(),
    })
}

fn get(conn: &Connection, id: i64) -> Result<Area> {
    conn.prepare_cached(&format!("{SELECT} WHERE a.id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "area",
            id: format!("#{id}"),
        })
}

/// The areas a key opens, by name (deleted areas left out).
pub fn of_key(conn: &Connection, key_id: i64) -> Result<Vec<Area>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE a.deleted_at IS NULL
            AND a.id IN (SELECT area_id FROM key_areas WHERE key_id = ?1)
          ORDER BY a.name COLLATE NOCASE, a.id"
    ))?;
    let rows = stmt.query_map([key_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Creates an area (admins).
pub fn create(
    store: &mut Store,
    actor: &Actor,
    name: &str,
    description: Option<&str>,
) -> Result<Area> {
    store.write(actor, Role::Admin, "manage areas", |tx, now| {
        let name = required("name", name, 100)?;
        let description = optional("description", description, 500)?;
        tx.prepare_cached(
            "INSERT INTO areas (name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        )?
        .execute(params![name, description, now])
        .map_err(|e| duplicate_if_unique(e, "area", "name", &name))?;
        let area = get(tx, tx.last_insert_rowid())?;
        Change::new(&actor.name, "areas", "create")
            .on(area.id)
            .after(area.audit_json())
            .record(tx, now)?;
        Ok(area)
    })
}

/// Renames an area or changes its description (admins).
pub fn update(
    store: &mut Store,
    actor: &Actor,
    area: &str,
    name: &str,
    description: Option<&str>,
) -> Result<Area> {
    store.write(actor, Role::Admin, "manage areas", |tx, now| {
        let before = find(tx, area)?;
        let name = required("name", name, 100)?;
        let description = optional("description", description, 500)?;
        tx.prepare_cached(
            "UPDATE areas SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![before.id, name, description, now])
        .map_err(|e| duplicate_if_unique(e, "area", "name", &name))?;
        let after = get(tx, before.id)?;
        Change::new(&actor.name, "areas", "update")
            .on(after.id)
            .before(before.audit_json())
            .after(after.audit_json())
            .record(tx, now)?;
        Ok(after)
    })
}

/// Deletes an area (admins; soft). No key opens it any more; the audit row lists the
/// keys that did.
pub fn delete(store: &mut Store, actor: &Actor, area: &str) -> Result<Area> {
    store.write(actor, Role::Admin, "manage areas", |tx, now| {
        let before = find(tx, area)?;
        let keys = key_numbers_of_area(tx, before.id)?;
        tx.prepare_cached("UPDATE areas SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1")?
            .execute(params![before.id, now])?;
        let after = get(tx, before.id)?;
        Change::new(&actor.name, "areas", "delete")
            .on(after.id)
            .before(json!({"area": before.audit_json(), "keys": keys}))
            .after(after.audit_json())
            .record(tx, now)?;
        Ok(after)
    })
}

fn key_numbers_of_area(tx: &Connection, area_id: i64) -> Result<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT k.number FROM key_areas ka JOIN keys k ON k.id = ka.key_id
          WHERE ka.area_id = ?1 ORDER BY length(k.number), k.number",
    )?;
    let rows = stmt.query_map([area_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sets the areas a key opens (admins): exactly `areas`, by name, each existing.
/// An empty list means the key opens nothing the register knows. Returns them by name.
pub fn set_key_areas(
    store: &mut Store,
    actor: &Actor,
    key_number: &str,
    areas: &[&str],
) -> Result<Vec<Area>> {
    store.write(actor, Role::Admin, "manage areas", |tx, now| {
        let key = keys::find_live(tx, key_number)?;
        let mut ids = Vec::with_capacity(areas.len());
        for name in areas.iter().filter(|n| !n.trim().is_empty()) {
            let id = find(tx, name)?.id;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let before = names(&of_key(tx, key.id)?);
        set_key_areas_tx(tx, key.id, &ids)?;
        let after = of_key(tx, key.id)?;
        Change::new(&actor.name, "keys", "areas")
            .on(key.id)
            .before(json!({"key": key.number, "areas": before}))
            .after(json!({"key": key.number, "areas": names(&after)}))
            .record(tx, now)?;
        Ok(after)
    })
}

fn set_key_areas_tx(tx: &Transaction, key_id: i64, area_ids: &[i64]) -> Result<()> {
    tx.prepare_cached("DELETE FROM key_areas WHERE key_id = ?1")?
        .execute([key_id])?;
    let mut insert =
        tx.prepare_cached("INSERT INTO key_areas (key_id, area_id) VALUES (?1, ?2)")?;
    for area_id in area_ids {
        insert.execute([key_id, *area_id])?;
    }
    Ok(())
}

/// Area names, in order, for audit rows and messages.
pub fn names(areas: &[Area]) -> Vec<String> {
    areas.iter().map(|a| a.name.clone()).collect()
}
