//! Lost and found keys, and the damage a lost key does (SPEC §11).
//!
//! A key on its hook or out can be reported lost, with a reason (who lost it, how, when);
//! a lost key can be reported found, and is then back on its hook. Both are key-log rows
//! (`lost`, `found`), so the schema's triggers keep the key's status in step and refuse a
//! lost report without its reason; each writes its audit row in the same transaction.
//!
//! The impact of a lost key is read from the areas it opens (`areas`): every other key
//! that opens one of them, with its holder now, and a re-key recommendation whenever
//! the lost key opens any area (whoever has it can open those doors).

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;

use crate::error::{trigger_code, Error, Result};
use crate::keylog::{self, LogEntry};
use crate::keys::{self, Key};
use crate::store::{Actor, Role, Store};
use crate::validate::required;

/// Reports a key lost (operators and admins): a key on its hook, or out (the holder is
/// recorded as who lost it, and the key is no longer theirs). `reason` is required.
pub fn report_lost(
    store: &mut Store,
    actor: &Actor,
    key_number: &str,
    reason: &str,
) -> Result<LogEntry> {
    let reason = required("reason", reason, 500)?;
    store.write(actor, Role::Operator, "report keys lost", |tx, now| {
        let key = keys::find_live(tx, key_number)?;
        if !matches!(key.status.as_str(), "available" | "issued") {
            return Err(Error::KeyNotLosable {
                key: key.number,
                status: key.status,
            });
        }
        let holder = key.holder_person_id;
        tx.prepare_cached(
            "INSERT INTO key_log (action, key_id, person_id, user_id, actor, at, comment)
             VALUES ('lost', ?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            key.id,
            holder,
            actor.user_id,
            actor.name,
            now,
            reason
        ])
        .map_err(|e| map_trigger(e, &key))?;
        let log_id = tx.last_insert_rowid();
        keylog::finish_movement(
            tx,
            now,
            actor,
            &key,
            "lost",
            log_id,
            &[("reason", json!(reason))],
        )
    })
}

/// Reports a lost key found (operators and admins): it is back on its hook. `comment`
/// is optional (where it was found).
pub fn report_found(
    store: &mut Store,
    actor: &Actor,
    key_number: &str,
    comment: Option<&str>,
) -> Result<LogEntry> {
    let comment = keylog::clean_comment(comment)?;
    store.write(actor, Role::Operator, "report keys found", |tx, now| {
        let key = keys::find_live(tx, key_number)?;
        if key.status != "lost" {
            return Err(Error::KeyNotLost {
                key: key.number,
                status: key.status,
            });
        }
        tx.prepare_cached(
            "INSERT INTO key_log (action, key_id, user_id, actor, at, comment)
             VALUES ('found', ?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![key.id, actor.user_id, actor.name, now, comment])
        .map_err(|e| map_trigger(e, &key))?;
        let log_id = tx.last_insert_rowid();
        keylog::finish_movement(tx, now, actor, &key, "found", log_id, &[])
    })
}

/// The schema's refusals, said as the checks before the insert would (a backstop).
fn map_trigger(e: rusqlite::Error, key: &Key) -> Error {
    match trigger_code(&e) {
        Some("key_not_losable") => Error::KeyNotLosable {
            key: key.number.clone(),
            status: key.status.clone(),
        },
        Some("key_not_lost") => Error::KeyNotLost {
            key: key.number.clone(),
            status: key.status.clone(),
        },
        Some("lost_reason_required") => Error::invalid_rule(
            "reason",
            "required",
            serde_json::Value::Null,
            "is required; it cannot be empty",
        ),
        _ => e.into(),
    }
}

/// Another key that opens one of the lost key's areas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherKey {
    pub number: String,
    pub name: Option<String>,
    /// `available`, `issued`, `lost` or `retired`.
    pub status: String,
    /// Who holds it now (none when it is not out).
    pub holder: Option<String>,
    pub holder_code: Option<String>,
    /// Which of the lost key's areas it opens, by name.
    pub areas: Vec<String>,
}

/// The latest lost report of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostReport {
    pub at: i64,
    pub reason: Option<String>,
    /// Who had it then (none when it was lost from its hook).
    pub person: Option<String>,
    pub reported_by: String,
}

/// What a lost key opens and who else can open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub key: String,
    pub name: Option<String>,
    pub status: String,
    /// The areas it opens, by name.
    pub areas: Vec<String>,
    /// The other keys that open any of those areas, by number, with their holders now.
    pub other_keys: Vec<OtherKey>,
    /// True whenever the key opens any area: its locks should be changed (and the other
    /// keys of those areas with them), because whoever has it can open them.
    pub recommend_rekey: bool,
    /// The latest lost report, while the key is lost.
    pub lost: Option<LostReport>,
}

/// The impact of losing a key (any key: the Keys screen shows it before a loss too).
/// Three queries, whatever the number of areas and keys.
pub fn impact(conn: &Connection, key_number: &str) -> Result<Impact> {
    let key = keys::find_live(conn, key_number)?;
    let areas = crate::areas::names(&crate::areas::of_key(conn, key.id)?);
    let mut stmt = conn.prepare_cached(
        "SELECT k.number, k.name, k.status, p.full_name, p.code, a.name
           FROM key_areas mine
           JOIN areas a ON a.id = mine.area_id AND a.deleted_at IS NULL
           JOIN key_areas ka ON ka.area_id = mine.area_id AND ka.key_id <> mine.key_id
           JOIN keys k ON k.id = ka.key_id AND k.deleted_at IS NULL
           LEFT JOIN persons p ON p.id = k.holder_person_id
          WHERE mine.key_id = ?1
          ORDER BY length(k.number), k.number, a.name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([key.id], |r| {
        Ok((
            OtherKey {
                number: r.get(0)?,
                name: r.get(1)?,
                status: r.get(2)?,
                holder: r.get(3)?,
                holder_code: r.get(4)?,
                areas: Vec::new(),
            },
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut other_keys: Vec<OtherKey> = Vec::new();
    for row in rows {
        let (other, area) = row?;
        match other_keys.last_mut() {
            Some(last) if last.number == other.number => last.areas.push(area),
            _ => other_keys.push(OtherKey {
                areas: vec![area],
                ..other
            }),
        }
    }
    let lost = if key.status == "lost" {
        conn.prepare_cached(
            "SELECT l.at, l.comment, p.full_name, l.actor FROM key_log l
               LEFT JOIN persons p ON p.id = l.person_id
              WHERE l.key_id = ?1 AND l.action = 'lost' ORDER BY l.at DESC, l.id DESC LIMIT 1",
        )?
        .query_row([key.id], |r| {
            Ok(LostReport {
                at: r.get(0)?,
                reason: r.get(1)?,
                person: r.get(2)?,
                reported_by: r.get(3)?,
            })
        })
        .optional()?
    } else {
        None
    };
    Ok(Impact {
        recommend_rekey: !areas.is_empty(),
        key: key.number,
        name: key.name,
        status: key.status,
        areas,
        other_keys,
        lost,
    })
}
