//! The append-only audit trail and its hash chain. Owns the `audit_log` table: rows are
//! only ever added by [`record`], inside the transaction of the change they describe, and
//! never updated or deleted (the schema's triggers refuse it). [`verify`] recomputes the
//! chain, so an edited, deleted or reordered row is found even if the triggers were
//! dropped by someone editing the file.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::{Actor, Role};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit row as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub component: String,
    pub record_id: Option<String>,
    pub operation: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub hash: String,
}

/// The hash of one row: SHA-256 over each field, length-prefixed so no two different
/// rows can encode the same bytes. The id is included so swapping rows breaks the chain.
#[allow(clippy::too_many_arguments)] // reason: one argument per hashed column, in order
pub fn row_hash(
    id: i64,
    at: i64,
    actor: &str,
    component: &str,
    record_id: Option<&str>,
    operation: &str,
    before: Option<&str>,
    after: Option<&str>,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: Option<&[u8]>| match bytes {
        None => h.update(u64::MAX.to_le_bytes()),
        Some(b) => {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    };
    field(Some(&id.to_le_bytes()));
    field(Some(&at.to_le_bytes()));
    field(Some(actor.as_bytes()));
    field(Some(component.as_bytes()));
    field(record_id.map(str::as_bytes));
    field(Some(operation.as_bytes()));
    field(before.map(str::as_bytes));
    field(after.map(str::as_bytes));
    field(Some(prev_hash.as_bytes()));
    hex::encode(h.finalize())
}

/// What to record; built by the module that makes the change.
pub struct Change<'a> {
    pub actor: &'a str,
    pub component: &'a str,
    pub record_id: Option<String>,
    pub operation: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// `actor`'s `operation` in `component`, on no one record, with no state before or
    /// after until [`Change::on`], [`Change::before`] and [`Change::after`] give them.
    pub fn new(actor: &'a str, component: &'a str, operation: &'a str) -> Change<'a> {
        Change {
            actor,
            component,
            record_id: None,
            operation,
            before: None,
            after: None,
        }
    }

    /// The record changed (its id).
    pub fn on(mut self, record_id: impl ToString) -> Change<'a> {
        self.record_id = Some(record_id.to_string());
        self
    }

    /// What it was before (a value, or an `Option` of one).
    pub fn before(mut self, before: impl Into<Option<Value>>) -> Change<'a> {
        self.before = before.into();
        self
    }

    /// What it is after (a value, or an `Option` of one).
    pub fn after(mut self, after: impl Into<Option<Value>>) -> Change<'a> {
        self.after = after.into();
        self
    }

    /// Appends it on `tx`: [`record`].
    pub fn record(self, tx: &Transaction, at: i64) -> Result<i64> {
        record(tx, at, self)
    }
}

/// Appends one audit row on `tx` (the change's own transaction) and returns its id.
/// The caller holds an IMMEDIATE transaction, so "last row + 1" cannot race.
pub fn record(tx: &Transaction, at: i64, change: Change) -> Result<i64> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, prev) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let before = change.before.as_ref().map(Value::to_string);
    let after = change.after.as_ref().map(Value::to_string);
    let hash = row_hash(
        id,
        at,
        change.actor,
        change.component,
        change.record_id.as_deref(),
        change.operation,
        before.as_deref(),
        after.as_deref(),
        &prev,
    );
    tx.prepare_cached(
        "INSERT INTO audit_log (id, at, actor, component, record_id, operation, before, after, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        at,
        change.actor,
        change.component,
        change.record_id,
        change.operation,
        before,
        after,
        prev,
        hash
    ])?;
    Ok(id)
}

/// Filters of the audit list (the reference's: component, record id, actor, operation,
/// since, until, limit, offset). Times are Unix seconds, inclusive.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub component: Option<String>,
    pub record_id: Option<String>,
    pub actor: Option<String>,
    pub operation: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// The most rows one listing returns.
pub const MAX_LIMIT: u32 = 1000;

/// Audit rows matching `f`, newest first, paged in SQL. Admins only: the trail shows
/// every change to every record, users' included (the role is checked here, in the core,
/// for every front end).
pub fn list(conn: &Connection, actor: &Actor, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
    actor.require(Role::Admin, "read the audit trail")?;
    let (sql, args) = list_sql(f);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Ok(AuditEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            component: r.get(3)?,
            record_id: r.get(4)?,
            operation: r.get(5)?,
            before: parse(r.get(6)?),
            after: parse(r.get(7)?),
            hash: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The SQL [`list`] runs for `f`, with its parameters (the query-plan tests read it).
///
/// Newest first means by time, then id: each filter's index is `(column, at)`, so the
/// rows come out of the index in order and a page stops after `limit` rows. Ordering by
/// id alone made SQLite sort every matching row first (200 ms for one operation over a
/// million rows). Rows are written with the time of their transaction, so the two orders
/// differ only if the clock was set back; the hash chain keeps the id order regardless.
pub fn list_sql(f: &AuditFilter) -> (String, Vec<rusqlite::types::Value>) {
    // Only constant clause texts are appended; every value is a bound parameter.
    let mut sql = String::from(
        "SELECT id, at, actor, component, record_id, operation, before, after, hash FROM audit_log WHERE 1=1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut text = |clause: &str, v: &Option<String>, sql: &mut String| {
        if let Some(v) = v {
            sql.push_str(clause);
            args.push(v.clone().into());
        }
    };
    text(" AND component = ?", &f.component, &mut sql);
    text(" AND record_id = ?", &f.record_id, &mut sql);
    text(" AND actor = ?", &f.actor, &mut sql);
    text(" AND operation = ?", &f.operation, &mut sql);
    if let Some(s) = f.since {
        sql.push_str(" AND at >= ?");
        args.push(s.into());
    }
    if let Some(u) = f.until {
        sql.push_str(" AND at <= ?");
        args.push(u.into());
    }
    sql.push_str(" ORDER BY at DESC, id DESC LIMIT ? OFFSET ?");
    args.push(i64::from(f.limit.unwrap_or(100).clamp(1, MAX_LIMIT)).into());
    args.push(i64::from(f.offset.unwrap_or(0)).into());
    (sql, args)
}

/// What `verify` found wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The audit row (0 for a key-log row that has none).
    pub id: i64,
    /// `edited` (the row's contents do not match its hash), `chain_broken` (the row does
    /// not follow the one before it: a row was deleted, inserted or reordered);
    /// `key_log_edited` (the key-log row no longer hashes to what its audit row says),
    /// `key_log_unaudited` (a key-log row without its audit row), `key_log_missing` (an
    /// audit row names a key-log row that is gone).
    pub kind: &'static str,
    /// The key-log row, for the `key_log_*` kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_log_id: Option<i64>,
    pub detail: String,
}

/// How much of the key log the audit trail vouches for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeyLogCoverage {
    pub rows_checked: u64,
    /// Rows whose hash is in their audit row, and matched.
    pub covered: u64,
    /// Rows written before audit rows carried the key-log row's hash (older versions,
    /// the demo register): not vouched for, and not tampering either.
    pub not_covered: u64,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub rows_checked: u64,
    pub ok: bool,
    pub problems: Vec<Problem>,
    pub key_log: KeyLogCoverage,
}

/// Walks the audit log in id order and recomputes every hash, and walks the key log beside
/// it ([`KeyLogCheck`]). Streams both, so memory stays flat however long they are.
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    let mut kl_stmt = conn.prepare(&format!(
        "SELECT {} FROM key_log ORDER BY id",
        HASHED_COLUMNS
    ))?;
    let mut key_log = KeyLogCheck::new(kl_stmt.query([])?)?;
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, component, record_id, operation, before, after, prev_hash, hash
           FROM audit_log ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_string();
    let mut expected_id = 1i64;
    let mut report = VerifyReport {
        rows_checked: 0,
        ok: true,
        problems: Vec::new(),
        key_log: KeyLogCoverage::default(),
    };
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let at: i64 = r.get(1)?;
        let actor: String = r.get(2)?;
        let component: String = r.get(3)?;
        let record_id: Option<String> = r.get(4)?;
        let operation: String = r.get(5)?;
        let before: Option<String> = r.get(6)?;
        let after: Option<String> = r.get(7)?;
        let prev: String = r.get(8)?;
        let hash: String = r.get(9)?;
        report.rows_checked += 1;
        if id != expected_id || prev != expected_prev {
            report.problems.push(Problem {
                id,
                kind: "chain_broken",
                key_log_id: None,
                detail: if id != expected_id {
                    format!("expected row {expected_id} next, found row {id}: rows are missing")
                } else {
                    "does not follow the row before it: a row was deleted, inserted or reordered"
                        .to_string()
                },
            });
        }
        let computed = row_hash(
            id,
            at,
            &actor,
            &component,
            record_id.as_deref(),
            &operation,
            before.as_deref(),
            after.as_deref(),
            &prev,
        );
        if computed != hash {
            report.problems.push(Problem {
                id,
                kind: "edited",
                key_log_id: None,
                detail: "the row's contents no longer match its hash: it was changed after it was written"
                    .to_string(),
            });
        }
        if let Some(after) = after
            .as_deref()
            .filter(|a| a.contains("\"key_log_sha256\""))
        {
            if let Ok(KeyLogRef {
                key_log_id: Some(kl_id),
                key_log_sha256: Some(kl_hash),
            }) = serde_json::from_str(after)
            {
                key_log.audited(id, kl_id, &kl_hash, &mut report)?;
            }
        }
        expected_prev = hash;
        expected_id = id + 1;
    }
    key_log.finish(&mut report)?;
    report.ok = report.problems.is_empty();
    Ok(report)
}

/// The part of an audit row's `after` that names the key-log row written with it.
#[derive(serde::Deserialize)]
struct KeyLogRef {
    key_log_id: Option<i64>,
    key_log_sha256: Option<String>,
}

/// The key log checked against the audit rows written with it, as a merge of two
/// streams in id order (both only grow, in the same transactions, so their orders agree).
/// Key-log rows before the first audit row that carries a hash are older than this check
/// and only counted as not covered; after it, every key-log row must have its audit row.
struct KeyLogCheck<'s> {
    rows: rusqlite::Rows<'s>,
    /// The next key-log row not yet matched: its id and its hash as stored now.
    next: Option<(i64, String)>,
    first_covered: Option<i64>,
}

impl<'s> KeyLogCheck<'s> {
    fn new(mut rows: rusqlite::Rows<'s>) -> Result<Self> {
        let next = Self::read(&mut rows)?;
        Ok(KeyLogCheck {
            rows,
            next,
            first_covered: None,
        })
    }

    fn read(rows: &mut rusqlite::Rows<'s>) -> Result<Option<(i64, String)>> {
        Ok(match rows.next()? {
            Some(r) => Some((r.get(0)?, hash_of_row(r)?)),
            None => None,
        })
    }

    fn advance(&mut self, report: &mut VerifyReport) -> Result<()> {
        report.key_log.rows_checked += 1;
        self.next = Self::read(&mut self.rows)?;
        Ok(())
    }

    /// A key-log row with no audit row naming it: older than the check, or slipped in.
    fn unmatched(&mut self, kl_id: i64, report: &mut VerifyReport) -> Result<()> {
        if self.first_covered.is_some_and(|f| kl_id > f) {
            report.problems.push(Problem {
                id: 0,
                kind: "key_log_unaudited",
                key_log_id: Some(kl_id),
                detail: format!(
                    "key-log row {kl_id} has no audit row: it was added to the key log directly"
                ),
            });
        } else {
            report.key_log.not_covered += 1;
        }
        self.advance(report)
    }

    /// Audit row `audit_id` says key-log row `kl_id` hashed to `expected` when written.
    fn audited(
        &mut self,
        audit_id: i64,
        kl_id: i64,
        expected: &str,
        report: &mut VerifyReport,
    ) -> Result<()> {
        self.first_covered.get_or_insert(kl_id);
        while let Some((id, _)) = self.next.as_ref().filter(|(id, _)| *id < kl_id) {
            let id = *id;
            self.unmatched(id, report)?;
        }
        match self.next.take() {
            Some((id, stored)) if id == kl_id => {
                if stored == expected {
                    report.key_log.covered += 1;
                } else {
                    report.problems.push(Problem {
                        id: audit_id,
                        kind: "key_log_edited",
                        key_log_id: Some(kl_id),
                        detail: format!(
                            "key-log row {kl_id} no longer matches the hash its audit row {audit_id} holds: it was changed after it was written"
                        ),
                    });
                }
                self.advance(report)?;
            }
            other => {
                self.next = other;
                report.problems.push(Problem {
                    id: audit_id,
                    kind: "key_log_missing",
                    key_log_id: Some(kl_id),
                    detail: format!(
                        "audit row {audit_id} records key-log row {kl_id}, which is gone from the key log"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The key-log rows after the last audited one.
    fn finish(mut self, report: &mut VerifyReport) -> Result<()> {
        while let Some((id, _)) = self.next.as_ref() {
            let id = *id;
            self.unmatched(id, report)?;
        }
        Ok(())
    }
}

/// The newest row of the chain: its id and hash. Written beside a backup, an export or a
/// journal line, it anchors the chain outside the database: a trail later cut short, or
/// rewritten and re-hashed, no longer reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tip {
    pub id: i64,
    pub hash: String,
}

/// The chain's newest row, `None` for an empty trail.
pub fn tip(conn: &Connection) -> Result<Option<Tip>> {
    Ok(conn
        .prepare_cached("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| {
            Ok(Tip {
                id: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?)
}

/// Number of audit rows (tests and health screens).
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?)
}

// ---- Key-log fingerprints: the audit row of each key-log row carries its hash ----

/// The key log's columns in the order [`row_sha256`] hashes them. A migration that adds
/// a column appends it here; hashing a trailing NULL as nothing (see [`row_sha256`])
/// keeps the hash of every row written before the column existed.
pub const HASHED_COLUMNS: &str =
    "id, action, key_id, person_id, user_id, actor, at, due_back_at, comment, override_reason, receipt_number";

/// SHA-256 of one key-log row's stored values (all [`HASHED_COLUMNS`], as SQLite holds
/// them): each value tagged with its type and length-prefixed, so no two rows encode
/// alike. The audit row written with the key-log row carries it (`key_log_sha256`), and
/// [`verify`] recomputes it, so a key-log row changed afterwards is found.
pub fn row_sha256(values: &[rusqlite::types::ValueRef]) -> String {
    use rusqlite::types::ValueRef;
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut bytes = |tag: u8, b: &[u8]| {
        h.update([tag]);
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    // Trailing NULLs are not hashed: a column a later migration adds is NULL in old rows.
    let len = values
        .iter()
        .rposition(|v| *v != ValueRef::Null)
        .map_or(0, |i| i + 1);
    for v in &values[..len] {
        match v {
            ValueRef::Null => bytes(0, &[]),
            ValueRef::Integer(i) => bytes(1, &i.to_le_bytes()),
            ValueRef::Real(f) => bytes(2, &f.to_le_bytes()),
            ValueRef::Text(t) => bytes(3, t),
            ValueRef::Blob(b) => bytes(4, b),
        }
    }
    hex::encode(h.finalize())
}

/// [`row_sha256`] of the row a `SELECT {HASHED_COLUMNS}` returned.
pub fn hash_of_row(r: &Row) -> rusqlite::Result<String> {
    let n = r.as_ref().column_count();
    let values = (0..n)
        .map(|i| r.get_ref(i))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(row_sha256(&values))
}

/// [`row_sha256`] of key-log row `id` as stored (read back inside the writing
/// transaction, so the hash is of exactly what SQLite keeps).
pub(crate) fn key_log_row_sha256(conn: &Connection, id: i64) -> Result<String> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {HASHED_COLUMNS} FROM key_log WHERE id = ?1"
        ))?
        .query_row([id], hash_of_row)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn add(conn: &mut Connection, op: &str) {
        let tx = conn.transaction().unwrap();
        record(
            &tx,
            100,
            Change {
                actor: "tester",
                component: "keys",
                record_id: Some("1".into()),
                operation: op,
                before: None,
                after: Some(json!({"n": op})),
            },
        )
        .unwrap();
        tx.commit().unwrap();
    }

    #[test]
    fn an_intact_chain_verifies() {
        let mut conn = crate::db::open_in_memory().unwrap();
        for op in ["create", "update", "delete"] {
            add(&mut conn, op);
        }
        let r = verify(&conn).unwrap();
        assert!(r.ok, "{:?}", r.problems);
        assert_eq!(r.rows_checked, 3);
    }

    #[test]
    fn the_schema_refuses_to_edit_or_delete_audit_rows() {
        let mut conn = crate::db::open_in_memory().unwrap();
        add(&mut conn, "create");
        let e = conn
            .execute("UPDATE audit_log SET actor = 'x'", [])
            .unwrap_err();
        assert_eq!(crate::error::trigger_code(&e), Some("append_only"));
        assert!(conn.execute("DELETE FROM audit_log", []).is_err());
        assert_eq!(count(&conn).unwrap(), 1);
    }

    #[test]
    fn an_edited_a_deleted_and_a_swapped_row_are_each_found() {
        let mut conn = crate::db::open_in_memory().unwrap();
        for op in ["a", "b", "c", "d", "e"] {
            add(&mut conn, op);
        }
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        conn.execute(
            "UPDATE audit_log SET after = '{\"n\":\"x\"}' WHERE id = 2",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM audit_log WHERE id = 4", [])
            .unwrap();
        let r = verify(&conn).unwrap();
        assert!(!r.ok);
        assert!(r.problems.iter().any(|p| p.id == 2 && p.kind == "edited"));
        assert!(r
            .problems
            .iter()
            .any(|p| p.id == 5 && p.kind == "chain_broken"));
    }
}
