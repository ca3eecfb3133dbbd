//! Key holders (persons): create, edit, soft delete, restore, search. Owns the `persons`
//! table; every change goes through [`Store::write`] with its audit row.
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
pub struct Person {
    pub id: i64,
    pub full_name: String,
    pub code: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub badge: Option<String>,
    pub notes: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// How many groups the person is in. None: they may receive no key without an
    /// admin's override, and the Persons screen says so. Derived, so never in audit rows.
    pub groups: i64,
}

/// What a user fills in for a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInput {
    pub full_name: String,
    pub code: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub badge: Option<String>,
    pub notes: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl PersonInput {
    pub fn named(name: &str) -> PersonInput {
        PersonInput {
            full_name: name.to_string(),
            active: true,
            ..Default::default()
        }
    }

    /// The rules of a person's fields, checked in the order of the form: the input
    /// trimmed, or the first field that breaks one.
    pub(crate) fn validated(&self) -> Result<PersonInput> {
        let full_name = required("full_name", &self.full_name, 200)?;
        let code = optional("code", self.code.as_deref(), 64)?;
        let department = optional("department", self.department.as_deref(), 200)?;
        let phone = optional("phone", self.phone.as_deref(), 64)?;
        let email = optional("email", self.email.as_deref(), 200)?;
        if let Some(e) = &email {
            if !e.contains('@') || e.starts_with('@') || e.ends_with('@') {
                return Err(Error::invalid_rule(
                    "email",
                    "email",
                    serde_json::json!({ "value": e }),
                    format!("\"{e}\" is not an e-mail address"),
                ));
            }
        }
        Ok(PersonInput {
            full_name,
            code,
            department,
            phone,
            email,
            badge: optional("badge", self.badge.as_deref(), 128)?,
            notes: optional("notes", self.notes.as_deref(), 2000)?,
            active: self.active,
        })
    }
}

// The group count is one seek in `group_members_person` per person of the page.
const COLUMNS: &str = "id, full_name, code, department, phone, email, badge, notes, active, created_at, updated_at, deleted_at,
    (SELECT count(*) FROM group_members gm WHERE gm.person_id = persons.id)";

fn from_row(r: &Row) -> rusqlite::Result<Person> {
    Ok(from_columns!(r => Person {
        id, full_name, code, department, phone, email, badge, notes, active, created_at,
        updated_at, deleted_at, groups
    }))
}

impl SoftDeleted for Person {
    const TABLE: &'static str = "persons";
    const WHAT: &'static str = "person";
    fn get_tx(conn: &Connection, id: i64) -> Result<Person> {
        get_tx(conn, id)
    }
    fn deleted_at(&self) -> Option<i64> {
        self.deleted_at
    }
    fn error_label(&self) -> String {
        self.label()
    }
}

impl Person {
    /// The person's own fields: `groups` is the groups' business (their audit rows say it).
    pub(crate) fn audit_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("person serialises");
        if let Some(o) = v.as_object_mut() {
            o.remove("groups");
        }
        v
    }

    /// "Jānis Bērziņš (E-1001)", for messages.
    pub fn label(&self) -> String {
        match &self.code {
            Some(c) => format!("{} ({c})", self.full_name),
            None => self.full_name.clone(),
        }
    }
}

pub(crate) fn get_tx(conn: &Connection, id: i64) -> Result<Person> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM persons WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "person",
            id: id.to_string(),
        })
}

/// A person by id (deleted ones included).
pub fn get(conn: &Connection, id: i64) -> Result<Person> {
    get_tx(conn, id)
}

/// A person by person code or badge code (what a scanner reads), deleted ones included.
pub fn find_by_code(conn: &Connection, code: &str) -> Result<Person> {
    let code = code.trim();
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM persons WHERE code = ?1 COLLATE NOCASE
         UNION ALL SELECT {COLUMNS} FROM persons WHERE badge = ?1 COLLATE NOCASE LIMIT 1"
    ))?
    .query_row([code], from_row)
    .optional()?
    .ok_or_else(|| Error::NotFound {
        what: "person with code or badge",
        id: code.to_string(),
    })
}

/// A person's code and badge are each unique; SQLite's message names the one broken.
fn map_unique(e: rusqlite::Error, input: &PersonInput) -> Error {
    let (field, value) = if e.to_string().contains("badge") {
        ("badge", &input.badge)
    } else {
        ("code", &input.code)
    };
    duplicate_if_unique(e, "person", field, value.as_deref().unwrap_or_default())
}

fn record(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    id: i64,
    op: &str,
    before: Option<&Person>,
    after: Option<&Person>,
) -> Result<()> {
    Change::new(&actor.name, "persons", op)
        .on(id)
        .before(before.map(Person::audit_json))
        .after(after.map(Person::audit_json))
        .record(tx, now)?;
    Ok(())
}

/// Adds a person (operators and admins).
pub fn create(store: &mut Store, actor: &Actor, input: &PersonInput) -> Result<Person> {
    store.write(actor, Role::Operator, "add persons", |tx, now| {
        let p = create_tx(tx, now, input)?;
        record(tx, now, actor, p.id, "create", None, Some(&p))?;
        Ok(p)
    })
}

/// Changes a person's fields (operators and admins).
pub fn update(store: &mut Store, actor: &Actor, id: i64, input: &PersonInput) -> Result<Person> {
    store.write(actor, Role::Operator, "edit persons", |tx, now| {
        let (before, after) = update_tx(tx, now, id, input)?;
        record(tx, now, actor, id, "update", Some(&before), Some(&after))?;
        Ok(after)
    })
}

/// [`create`] inside `tx`: the rules and the INSERT, no audit row.
pub(crate) fn create_tx(tx: &Transaction, now: i64, input: &PersonInput) -> Result<Person> {
    let input = input.validated()?;
    tx.prepare_cached(
        "INSERT INTO persons (full_name, code, department, phone, email, badge, notes, active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?
    .execute(params![
        input.full_name, input.code, input.department, input.phone, input.email,
        input.badge, input.notes, input.active, now
    ])
    .map_err(|e| map_unique(e, &input))?;
    get_tx(tx, tx.last_insert_rowid())
}

/// [`update`] inside `tx`: the rules and the UPDATE, no audit row. Returns the person
/// before and after.
pub(crate) fn update_tx(
    tx: &Transaction,
    now: i64,
    id: i64,
    input: &PersonInput,
) -> Result<(Person, Person)> {
    let input = input.validated()?;
    let before = get_tx(tx, id)?;
    tx.prepare_cached(
        "UPDATE persons SET full_name = ?2, code = ?3, department = ?4, phone = ?5, email = ?6,
                badge = ?7, notes = ?8, active = ?9, updated_at = ?10 WHERE id = ?1",
    )?
    .execute(params![
        id,
        input.full_name,
        input.code,
        input.department,
        input.phone,
        input.email,
        input.badge,
        input.notes,
        input.active,
        now
    ])
    .map_err(|e| map_unique(e, &input))?;
    Ok((before, get_tx(tx, id)?))
}

fn keys_held(tx: &Connection, id: i64) -> Result<i64> {
    Ok(tx
        .prepare_cached("SELECT count(*) FROM keys WHERE holder_person_id = ?1")?
        .query_row([id], |r| r.get(0))?)
}

/// Soft-deletes a person; refused while they hold keys.
pub fn delete(store: &mut Store, actor: &Actor, id: i64) -> Result<Person> {
    store.write(actor, Role::Operator, "delete persons", |tx, now| {
        let (before, after) = soft_delete::delete_tx(tx, now, id, |p: &Person| {
            let held = keys_held(tx, id)?;
            if held > 0 {
                return Err(Error::PersonHoldsKeys {
                    person: p.label(),
                    count: held,
                });
            }
            Ok(())
        })?;
        record(tx, now, actor, id, "delete", Some(&before), Some(&after))?;
        Ok(after)
    })
}

/// Brings back a soft-deleted person.
pub fn restore(store: &mut Store, actor: &Actor, id: i64) -> Result<Person> {
    store.write(actor, Role::Operator, "restore persons", |tx, now| {
        let (before, after) = soft_delete::restore_tx::<Person>(tx, now, id)?;
        record(tx, now, actor, id, "restore", Some(&before), Some(&after))?;
        Ok(after)
    })
}

/// What a person list shows.
#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    /// Diacritics-insensitive prefix search over name, code, department, badge, e-mail.
    pub search: Option<String>,
    pub include_deleted: bool,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// The orders a person list offers (column name -> ORDER BY text).
const SORTS: &[(&str, &str)] = &[
    ("name", "full_name COLLATE NOCASE, id"),
    ("-name", "full_name COLLATE NOCASE DESC, id DESC"),
    ("code", "code COLLATE NOCASE, id"),
    ("-code", "code COLLATE NOCASE DESC, id DESC"),
    (
        "department",
        "department COLLATE NOCASE, full_name COLLATE NOCASE, id",
    ),
    (
        "-department",
        "department COLLATE NOCASE DESC, full_name COLLATE NOCASE, id",
    ),
];

/// Persons matching `q`, by name, paged in SQL; search uses the FTS5 index.
pub fn list(conn: &Connection, q: &PersonQuery) -> Result<Vec<Person>> {
    list_sorted(conn, q, "name")
}

/// Like [`list`], in the order `sort` names: `name`, `code`, `department`, each with a
/// leading `-` for descending.
pub fn list_sorted(conn: &Connection, q: &PersonQuery, sort: &str) -> Result<Vec<Person>> {
    let (sql, args) = list_sql(q, sort)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The SQL [`list_sorted`] runs for `q` in the order `sort` names, with its parameters
/// (the query-plan tests read it). Only constant texts go into the
/// SQL; values are bound.
pub fn list_sql(q: &PersonQuery, sort: &str) -> Result<(String, Vec<rusqlite::types::Value>)> {
    let order = crate::search::order_by(SORTS, sort, "persons")?;
    let limit = i64::from(q.limit.unwrap_or(100).clamp(1, 1000));
    let offset = i64::from(q.offset.unwrap_or(0));
    // A constant clause rather than "(? OR deleted_at IS NULL)", so the usual list reads
    // the partial name index in order and stops after one page.
    let alive = if q.include_deleted {
        ""
    } else {
        " AND deleted_at IS NULL"
    };
    Ok(
        match q.search.as_deref().and_then(crate::search::fts_query) {
            Some(fts) => (
                format!(
                    "SELECT {COLUMNS} FROM persons
                  WHERE id IN (SELECT rowid FROM persons_fts WHERE persons_fts MATCH ?){alive}
                  ORDER BY {order} LIMIT ? OFFSET ?"
                ),
                vec![fts.into(), limit.into(), offset.into()],
            ),
            None => (
                format!(
                "SELECT {COLUMNS} FROM persons WHERE 1=1{alive} ORDER BY {order} LIMIT ? OFFSET ?"
            ),
                vec![limit.into(), offset.into()],
            ),
        },
    )
}

/// Number of persons not deleted.
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM persons WHERE deleted_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// Refuses a deleted or deactivated person (they cannot receive keys).
pub(crate) fn ensure_active(p: &Person) -> Result<()> {
    if p.deleted_at.is_some() || !p.active {
        return Err(Error::PersonNotActive { person: p.label() });
    }
    Ok(())
}

/// The members of a group, by name (one query).
pub fn in_group(conn: &Connection, group_id: i64, limit: u32) -> Result<Vec<Person>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM persons
          WHERE id IN (SELECT person_id FROM group_members WHERE group_id = ?1)
          ORDER BY full_name COLLATE NOCASE, id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![group_id, i64::from(limit)], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
