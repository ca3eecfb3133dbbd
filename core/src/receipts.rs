//! Receipts: the record of one handover (one person, one moment, one or more keys),
//! numbered 1, 2, 3, … per register. The schema holds the numbering (a new receipt must
//! take the next number; none is changed or deleted), so a number is never skipped nor
//! reused, whoever writes. Owns `receipts`; the key-log rows of a handover name their
//! receipt (`key_log.receipt_number`), written by `keylog` in the same transaction.
//!
//! A receipt keeps what it showed when it was made (site name, terms in both languages,
//! the signature), so a reprint years later says the same thing. The audit row of each of
//! its key-log rows names the receipt and carries the signature's SHA-256; the receipt
//! prints the chain hash of the last of them (which the chain ties to every row before),
//! so anyone can check a paper receipt against `audit verify` later.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::error::{Error, Result};
use crate::store::{Actor, HandoverRules, Role, Store};

/// The person a receipt is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptPerson {
    pub id: i64,
    pub full_name: String,
    pub code: Option<String>,
    pub department: Option<String>,
}

/// A key on a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptKey {
    pub number: String,
    /// The room, as the key's name says it.
    pub name: Option<String>,
    pub location: Option<String>,
    pub key_log_id: i64,
}

/// One receipt as shown, printed and saved as PDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub number: i64,
    /// `issue` or `return`.
    pub kind: String,
    pub at: i64,
    pub person: Option<ReceiptPerson>,
    /// Who handed over (a username, or `cli:NAME`).
    pub user: String,
    pub due_back_at: Option<i64>,
    /// The set handed over, when it was one.
    pub set_name: Option<String>,
    pub keys: Vec<ReceiptKey>,
    pub site_name: String,
    pub terms_lv: Option<String>,
    pub terms_en: Option<String>,
    /// The signature as stored (an SVG of paths; see `signature`), when signed.
    pub signature: Option<String>,
    pub signed: bool,
    /// How many times it was printed or saved before; a reprint says "copy".
    pub printed: i64,
    /// The audit chain hash of the audit row of the receipt's last key-log row.
    pub audit_hash: String,
}

/// What a handover gives a new receipt.
pub(crate) struct NewReceipt<'a> {
    pub kind: &'a str,
    pub person_id: Option<i64>,
    pub due_back_at: Option<i64>,
    pub set_id: Option<i64>,
    pub signature: Option<&'a str>,
}

/// Writes the next receipt inside the handover's transaction and returns its number.
/// It has no audit row of its own: the audit row of each of its key-log rows names it
/// and carries its signature's SHA-256 (so a handover of one key is still one audit row).
pub(crate) fn insert_tx(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    rules: &HandoverRules,
    r: &NewReceipt,
) -> Result<i64> {
    let next: i64 = tx
        .prepare_cached("SELECT coalesce(max(number), 0) + 1 FROM receipts")?
        .query_row([], |row| row.get(0))?;
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    tx.prepare_cached(
        "INSERT INTO receipts (number, kind, at, person_id, user_id, actor, due_back_at, set_id,
                               site_name, terms_lv, terms_en, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        next,
        r.kind,
        now,
        r.person_id,
        actor.user_id,
        actor.name,
        r.due_back_at,
        r.set_id,
        rules.site_name,
        text(&rules.terms_lv),
        text(&rules.terms_en),
        r.signature,
    ])?;
    Ok(next)
}

/// A receipt by number (anyone signed in may read one: the key log shows the same).
pub fn get(conn: &Connection, number: i64) -> Result<Receipt> {
    read(conn, number)
}

fn read(conn: &Connection, number: i64) -> Result<Receipt> {
    let head = conn
        .prepare_cached(
            "SELECT r.number, r.kind, r.at, r.actor, r.due_back_at, s.name, r.site_name,
                    r.terms_lv, r.terms_en, r.signature, r.printed,
                    p.id, p.full_name, p.code, p.department,
                    (SELECT a.hash FROM audit_log a
                       JOIN key_log l ON l.id = (SELECT max(id) FROM key_log WHERE receipt_number = r.number)
                      WHERE a.component = 'keys' AND a.record_id = CAST(l.key_id AS TEXT)
                        AND a.at = l.at AND json_extract(a.after, '$.key_log_id') = l.id)
               FROM receipts r
               LEFT JOIN persons p ON p.id = r.person_id
               LEFT JOIN key_sets s ON s.id = r.set_id
              WHERE r.number = ?1",
        )?
        .query_row([number], |r| {
            let person = match r.get::<_, Option<i64>>(11)? {
                Some(id) => Some(ReceiptPerson {
                    id,
                    full_name: r.get(12)?,
                    code: r.get(13)?,
                    department: r.get(14)?,
                }),
                None => None,
            };
            let signature: Option<String> = r.get(9)?;
            Ok(Receipt {
                number: r.get(0)?,
                kind: r.get(1)?,
                at: r.get(2)?,
                user: r.get(3)?,
                due_back_at: r.get(4)?,
                set_name: r.get(5)?,
                site_name: r.get(6)?,
                terms_lv: r.get(7)?,
                terms_en: r.get(8)?,
                signed: signature.is_some(),
                signature,
                printed: r.get(10)?,
                person,
                keys: Vec::new(),
                audit_hash: r.get::<_, Option<String>>(15)?.unwrap_or_default(),
            })
        })
        .optional()?;
    let mut receipt = head.ok_or_else(|| Error::NotFound {
        what: "receipt",
        id: number.to_string(),
    })?;
    let mut stmt = conn.prepare_cached(
        "SELECT k.number, k.name, k.location, l.id FROM key_log l JOIN keys k ON k.id = l.key_id
          WHERE l.receipt_number = ?1 ORDER BY k.number COLLATE NOCASE",
    )?;
    receipt.keys = stmt
        .query_map([number], |r| {
            Ok(ReceiptKey {
                number: r.get(0)?,
                name: r.get(1)?,
                location: r.get(2)?,
                key_log_id: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(receipt)
}

/// Notes that a receipt was printed or saved (audited); returns it as it was before, so
/// the caller prints "copy" on every print after the first.
pub fn mark_printed(store: &mut Store, actor: &Actor, number: i64, how: &str) -> Result<Receipt> {
    store.write(actor, Role::Viewer, "print receipts", |tx, now| {
        let before = read(tx, number)?;
        tx.prepare_cached("UPDATE receipts SET printed = printed + 1 WHERE number = ?1")?
            .execute([number])?;
        Change::new(&actor.name, "receipts", "print")
            .on(number)
            .after(json!({"how": how, "copy": before.printed > 0}))
            .record(tx, now)?;
        Ok(before)
    })
}
