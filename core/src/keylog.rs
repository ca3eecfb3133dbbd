//! Key movements: issue, return, and reading the key log (ranges, the 37-day calendar,
//! the dashboard counts). Owns `key_log`, which is append-only; the schema's triggers
//! refuse a double issue or a return of a key that is not out, and keep the key's status
//! in step, so these rules hold for every writer, not only this module.

use chrono::{Days, NaiveDate, TimeZone};
use rusqlite::{params, Connection, Row, Transaction};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Change};
use crate::columns::from_columns;
use crate::error::{trigger_code, Error, Result};
use crate::persons::{self, Person};
use crate::signature::Signature;
use crate::store::{Actor, Role, Store};
use crate::{groups, keys, receipts, sets};

/// How the person receiving a key is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    Id(i64),
    /// Person code or badge code.
    Code(String),
}

/// An issue request.
#[derive(Debug, Clone, Default)]
pub struct IssueRequest {
    pub due_back_at: Option<i64>,
    pub comment: Option<String>,
    /// Needed (from an admin) when none of the person's groups allows the key.
    pub override_reason: Option<String>,
    /// The person's signature: an SVG of paths (the Desk's pad, or a file), checked and
    /// stored with the receipt (`signature`).
    pub signature: Option<String>,
}

/// A return request.
#[derive(Debug, Clone, Default)]
pub struct ReturnRequest {
    pub comment: Option<String>,
    pub signature: Option<String>,
    /// Keys of a returned set that are not on the ring: they stay out, and the
    /// handover names them.
    pub missing: Vec<String>,
}

/// One handover: its receipt and the key-log rows it wrote (by key number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handover {
    pub receipt: i64,
    pub entries: Vec<LogEntry>,
    /// The set handed over, when it was one.
    pub set: Option<String>,
    /// Keys of a returned set that did not come back (they stay out).
    pub missing: Vec<String>,
}

/// What a handover names: one key by number, or a set by its tag or name.
enum Items {
    Key(keys::Key),
    Set(sets::KeySet),
}

/// Resolves a typed or scanned text to a key (by number) or else a set (by tag or
/// name); a set's tag and name never equal a key number (`sets` refuses that).
fn resolve_items(conn: &Connection, text: &str) -> Result<Items> {
    match keys::find(conn, text) {
        Ok(k) => Ok(Items::Key(k)),
        Err(Error::NotFound { .. }) => match sets::find(conn, text)? {
            Some(s) => Ok(Items::Set(s)),
            None => Err(Error::NotFound {
                what: "key or key set",
                id: text.trim().to_string(),
            }),
        },
        Err(e) => Err(e),
    }
}

/// The checked signature to store, or the refusal when the register requires one.
fn signature_for(store: &Store, given: Option<&str>, issue: bool) -> Result<Option<String>> {
    let given = given.filter(|s| !s.trim().is_empty());
    match given {
        Some(svg) => Ok(Some(Signature::parse(svg)?.to_svg())),
        None if store.handover.require_signature.requires(issue) => Err(Error::SignatureRequired {
            kind: if issue { "issue" } else { "return" },
            done: if issue { "issued" } else { "returned" },
        }),
        None => Ok(None),
    }
}

/// One key-log row as read back, with names joined in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    pub id: i64,
    /// `issued`, `returned`, `lost`, `found`.
    pub action: String,
    pub key_id: i64,
    pub key_number: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub user_name: String,
    pub at: i64,
    pub due_back_at: Option<i64>,
    pub comment: Option<String>,
    pub override_reason: Option<String>,
    /// The receipt of the handover this row belongs to (none for lost/found rows and
    /// rows older than receipts).
    pub receipt_number: Option<i64>,
}

impl LogEntry {
    /// The reference's label for the action ("Izsniegts" / "Atgriezti").
    pub fn action_label(&self) -> &'static str {
        action_label(&self.action)
    }
}

/// The reference's labels, used in exports and the reference's JSON shape.
pub fn action_label(action: &str) -> &'static str {
    match action {
        "issued" => "Izsniegts",
        "returned" => "Atgriezti",
        "lost" => "Nozaudēts",
        "found" => "Atrasts",
        _ => "?",
    }
}

const SELECT: &str = "SELECT l.id, l.action, l.key_id, k.number, l.person_id, p.full_name, l.actor,
    l.at, l.due_back_at, l.comment, l.override_reason, l.receipt_number
    FROM key_log l JOIN keys k ON k.id = l.key_id LEFT JOIN persons p ON p.id = l.person_id";

fn from_row(r: &Row) -> rusqlite::Result<LogEntry> {
    Ok(from_columns!(r => LogEntry {
        id, action, key_id, key_number, person_id, person_name, user_name, at, due_back_at,
        comment, override_reason, receipt_number
    }))
}

/// The person a [`PersonRef`] names (deleted or not; callers decide).
pub fn resolve_person(conn: &Connection, who: &PersonRef) -> Result<Person> {
    match who {
        PersonRef::Id(id) => persons::get(conn, *id),
        PersonRef::Code(c) => persons::find_by_code(conn, c),
    }
}

pub(crate) fn clean_comment(c: Option<&str>) -> Result<Option<String>> {
    crate::validate::optional("comment", c, 500)
}

/// Maps a trigger refusal to the error a user understands (a backstop: the checks
/// before the insert normally say it first).
fn map_trigger(e: rusqlite::Error, key: &keys::Key, person: Option<&Person>) -> Error {
    match trigger_code(&e) {
        Some("key_not_available") if key.status == "issued" => Error::KeyAlreadyIssued {
            key: key.number.clone(),
            holder: key.holder_name.clone().unwrap_or_default(),
        },
        Some("key_not_available") => Error::KeyNotAvailable {
            key: key.number.clone(),
            status: key.status.clone(),
        },
        Some("key_not_issued") => Error::KeyNotIssued {
            key: key.number.clone(),
            status: key.status.clone(),
        },
        Some("person_not_active") => Error::PersonNotActive {
            person: person.map(Person::label).unwrap_or_default(),
        },
        _ => e.into(),
    }
}

/// Issues one key to a person: [`issue_keys`] with its number, returning its row.
pub fn issue(
    store: &mut Store,
    actor: &Actor,
    key_number: &str,
    to: &PersonRef,
    req: &IssueRequest,
) -> Result<LogEntry> {
    let mut h = issue_keys(store, actor, &[key_number], to, req)?;
    Ok(h.entries.remove(0))
}

/// Issues keys to a person: each item is a key number or a set's tag or name (a set
/// brings all its keys). In one transaction, all or nothing, with one receipt. Refused,
/// naming the key, when any key is out, lost, retired or deleted; when the person is
/// inactive or deleted; when none of their groups allows a key (unless an admin gives an
/// override reason, recorded in the key log and the audit trail); or when the register
/// requires a signature and none is given.
pub fn issue_keys(
    store: &mut Store,
    actor: &Actor,
    items: &[&str],
    to: &PersonRef,
    req: &IssueRequest,
) -> Result<Handover> {
    let comment = clean_comment(req.comment.as_deref())?;
    write_handover(store, actor, true, req.signature.as_deref(), |tx, now| {
        let plan = plan_issue(tx, actor, items, to, req, now)?;
        Ok(Moves {
            person: Some(plan.person),
            due_back_at: req.due_back_at,
            set: plan.set,
            keys: plan.keys,
            comment,
            missing: Vec::new(),
        })
    })
}

/// Checks an issue without writing anything: the same rules as [`issue_keys`] but the
/// signature (the Desk asks for it only after this says yes). Returns the keys it would
/// issue, by number.
pub fn check_issue(
    conn: &Connection,
    actor: &Actor,
    items: &[&str],
    to: &PersonRef,
    req: &IssueRequest,
    now: i64,
) -> Result<Vec<String>> {
    actor.require(Role::Operator, "issue keys")?;
    clean_comment(req.comment.as_deref())?;
    let plan = plan_issue(conn, actor, items, to, req, now)?;
    Ok(plan.keys.into_iter().map(|(k, _)| k.number).collect())
}

/// What an issue hands over, checked: the keys (each with its override reason, when an
/// admin's reason lets a key outside the rights go), the set when one set was named, and
/// the person.
struct IssuePlan {
    keys: Vec<(keys::Key, Option<String>)>,
    set: Option<sets::KeySet>,
    person: Person,
}

/// The rules of an issue, in the order a person reads them: every key can go (the first
/// that cannot is named), the person may receive keys, the due time is ahead, and each
/// key is within the person's rights or overridden by an admin with a reason.
fn plan_issue(
    conn: &Connection,
    actor: &Actor,
    items: &[&str],
    to: &PersonRef,
    req: &IssueRequest,
    now: i64,
) -> Result<IssuePlan> {
    let reason = crate::validate::optional("override_reason", req.override_reason.as_deref(), 500)?;
    let (keys, set) = resolve_all(conn, items)?;
    for key in &keys {
        ensure_issuable(key)?;
    }
    let person = resolve_person(conn, to)?;
    persons::ensure_active(&person)?;
    if let Some(due) = req.due_back_at {
        if due <= now {
            return Err(Error::invalid_rule(
                "due_back_at",
                "due_past",
                serde_json::Value::Null,
                "the due time is in the past; choose a later time",
            ));
        }
    }
    let mut planned = Vec::with_capacity(keys.len());
    for key in keys {
        let overridden = if groups::person_may_receive(conn, person.id, key.id)? {
            None
        } else {
            match &reason {
                None => {
                    return Err(Error::NoRights {
                        person: person.label(),
                        key: key.number,
                    })
                }
                Some(r) => {
                    actor.require(Role::Admin, "issue a key outside group rights")?;
                    Some(r.clone())
                }
            }
        };
        planned.push((key, overridden));
    }
    Ok(IssuePlan {
        keys: planned,
        set,
        person,
    })
}

/// The keys `items` name (key numbers, sets' tags or names), each once, in the order
/// given; the set, when the items are exactly one set.
pub(crate) fn resolve_all(
    conn: &Connection,
    items: &[&str],
) -> Result<(Vec<keys::Key>, Option<sets::KeySet>)> {
    let mut all: Vec<keys::Key> = Vec::new();
    let mut only_set = None;
    for item in items.iter().filter(|i| !i.trim().is_empty()) {
        let (found, set) = match resolve_items(conn, item)? {
            Items::Key(k) => (vec![k], None),
            Items::Set(s) => (set_keys_tx(conn, &s)?, Some(s)),
        };
        for k in found {
            if !all.iter().any(|a| a.id == k.id) {
                all.push(k);
            }
        }
        only_set = if items.len() == 1 { set } else { None };
    }
    if all.is_empty() {
        return Err(Error::invalid_rule(
            "key",
            "no_keys",
            serde_json::Value::Null,
            "name a key number or a set's tag or name",
        ));
    }
    Ok((all, only_set))
}

/// Refuses a key that cannot be issued now, naming it.
fn ensure_issuable(key: &keys::Key) -> Result<()> {
    if key.deleted_at.is_some() {
        return Err(Error::KeyNotAvailable {
            key: key.number.clone(),
            status: "deleted".into(),
        });
    }
    match key.status.as_str() {
        "available" => Ok(()),
        "issued" => Err(Error::KeyAlreadyIssued {
            key: key.number.clone(),
            holder: key.holder_name.clone().unwrap_or_default(),
        }),
        other => Err(Error::KeyNotAvailable {
            key: key.number.clone(),
            status: other.into(),
        }),
    }
}

/// The keys of a set as they are inside the transaction (a set with no keys left, all
/// of them deleted, hands over nothing and is refused).
fn set_keys_tx(tx: &Connection, set: &sets::KeySet) -> Result<Vec<keys::Key>> {
    let keys = set
        .keys
        .iter()
        .map(|k| keys::get_tx(tx, k.id))
        .collect::<Result<Vec<_>>>()?;
    if keys.is_empty() {
        return Err(Error::invalid_rule(
            "set",
            "set_needs_keys",
            json!({ "set": set.name }),
            format!("the set {} has no keys; add keys to it first", set.name),
        ));
    }
    Ok(keys)
}

/// Takes one key back: [`return_keys`] with its number, returning its row.
pub fn return_key(
    store: &mut Store,
    actor: &Actor,
    key_number: &str,
    comment: Option<&str>,
) -> Result<LogEntry> {
    let req = ReturnRequest {
        comment: comment.map(str::to_string),
        ..ReturnRequest::default()
    };
    let mut h = return_keys(store, actor, &[key_number], &req)?;
    Ok(h.entries.remove(0))
}

/// Takes back a key, or the keys of a set (by its tag or name), in one transaction with
/// one receipt. A key must be out. Of a set, every key must be out to the same person,
/// except those named in `missing`: they did not come back on the ring, stay out, and
/// the handover names them. Refused when the register requires a signature for returns
/// and none is given.
pub fn return_keys(
    store: &mut Store,
    actor: &Actor,
    items: &[&str],
    req: &ReturnRequest,
) -> Result<Handover> {
    let comment = clean_comment(req.comment.as_deref())?;
    write_handover(store, actor, false, req.signature.as_deref(), |tx, _| {
        let plan = plan_return(tx, items, &req.missing)?;
        let holder = match plan.holder {
            Some(id) => Some(persons::get(tx, id)?),
            None => None,
        };
        Ok(Moves {
            person: holder,
            due_back_at: None,
            set: plan.set,
            keys: plan.keys.into_iter().map(|k| (k, None)).collect(),
            comment,
            missing: plan.missing,
        })
    })
}

/// One checked handover to write: the person (the receiver, or the holder returning),
/// the keys (each with an issue's override reason), and what its receipt says.
struct Moves {
    person: Option<Person>,
    due_back_at: Option<i64>,
    set: Option<sets::KeySet>,
    keys: Vec<(keys::Key, Option<String>)>,
    comment: Option<String>,
    missing: Vec<String>,
}

/// The frame of every handover: the signature checked (or required), then one write
/// transaction: `plan` checks it, the receipt takes the next number, each key gets its
/// key-log row naming the receipt, and each row its audit row (with the receipt and the
/// signature's SHA-256).
fn write_handover(
    store: &mut Store,
    actor: &Actor,
    issue: bool,
    given: Option<&str>,
    plan: impl FnOnce(&Transaction, i64) -> Result<Moves>,
) -> Result<Handover> {
    let signature = signature_for(store, given, issue)?;
    let signed = signature.as_deref().map(crate::signature::sha256);
    let rules = store.handover.clone();
    let (needed, action, op) = if issue {
        ("issue keys", "issued", "issue")
    } else {
        ("return keys", "returned", "return")
    };
    store.write(actor, Role::Operator, needed, |tx, now| {
        let m = plan(tx, now)?;
        let person_id = m.person.as_ref().map(|p| p.id);
        let receipt = receipts::insert_tx(tx, now, actor, &rules, &receipts::NewReceipt {
            kind: op,
            person_id,
            due_back_at: m.due_back_at,
            set_id: m.set.as_ref().map(|s| s.id),
            signature: signature.as_deref(),
        })?;
        let mut entries = Vec::with_capacity(m.keys.len());
        for (key, override_reason) in &m.keys {
            tx.prepare_cached(
                "INSERT INTO key_log (action, key_id, person_id, user_id, actor, at, due_back_at, comment, override_reason, receipt_number)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![action, key.id, person_id, actor.user_id, actor.name, now, m.due_back_at, m.comment, override_reason, receipt])
            .map_err(|e| map_trigger(e, key, m.person.as_ref().filter(|_| issue)))?;
            let log_id = tx.last_insert_rowid();
            let mut extra = vec![("receipt", json!(receipt)), ("signature_sha256", json!(signed))];
            if issue {
                extra.push(("override_reason", json!(override_reason)));
            }
            entries.push(finish_movement(tx, now, actor, key, op, log_id, &extra)?);
        }
        Ok(Handover { receipt, entries, set: m.set.map(|s| s.name), missing: m.missing })
    })
}

/// Checks a return without writing anything (see [`check_issue`]); returns the keys it
/// would take back, by number.
pub fn check_return(
    conn: &Connection,
    actor: &Actor,
    items: &[&str],
    req: &ReturnRequest,
) -> Result<Vec<String>> {
    actor.require(Role::Operator, "return keys")?;
    clean_comment(req.comment.as_deref())?;
    let plan = plan_return(conn, items, &req.missing)?;
    Ok(plan.keys.into_iter().map(|k| k.number).collect())
}

/// What a return takes back, checked.
struct ReturnPlan {
    keys: Vec<keys::Key>,
    set: Option<sets::KeySet>,
    holder: Option<i64>,
    missing: Vec<String>,
}

fn plan_return(conn: &Connection, items: &[&str], missing_given: &[String]) -> Result<ReturnPlan> {
    let (all, set) = resolve_all(conn, items)?;
    let mut missing = Vec::new();
    for m in missing_given
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
    {
        match all.iter().find(|k| k.number.eq_ignore_ascii_case(m)) {
            Some(k) => missing.push(k.number.clone()),
            None => {
                return Err(Error::invalid_rule(
                    "missing",
                    "not_in_set",
                    json!({ "key": m }),
                    format!("key {m} is not in this set; name only keys of the set as missing"),
                ))
            }
        }
    }
    let keys: Vec<keys::Key> = all
        .into_iter()
        .filter(|k| !missing.contains(&k.number))
        .collect();
    if keys.is_empty() {
        return Err(Error::invalid_rule(
            "missing",
            "nothing_returned",
            serde_json::Value::Null,
            "every key of the set is named missing, so nothing comes back; report them lost instead",
        ));
    }
    for key in &keys {
        if key.status != "issued" {
            return Err(Error::KeyNotIssued {
                key: key.number.clone(),
                status: key.status.clone(),
            });
        }
    }
    let holder = keys[0].holder_person_id;
    if let Some(other) = keys.iter().find(|k| k.holder_person_id != holder) {
        return Err(Error::invalid_rule(
            "set",
            "set_split_holders",
            json!({ "key": other.number }),
            format!(
                "the keys of this set are out to different persons ({} has {}, {} has {}); return them one by one",
                keys[0].number,
                keys[0].holder_name.clone().unwrap_or_default(),
                other.number,
                other.holder_name.clone().unwrap_or_default()
            ),
        ));
    }
    Ok(ReturnPlan {
        keys,
        set,
        holder,
        missing,
    })
}

/// After the key-log row `log_id` of a movement (`issue`, `return`) is written: its audit
/// row, with the key `before` and after, the key-log row's id and hash, and the `extra`
/// fields (its receipt; an issue's override reason). Returns the entry.
pub(crate) fn finish_movement(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    before: &keys::Key,
    operation: &str,
    log_id: i64,
    extra: &[(&str, serde_json::Value)],
) -> Result<LogEntry> {
    let after = keys::get_tx(tx, before.id)?;
    let mut written = json!({"key": after.audit_json(), "key_log_id": log_id,
        "key_log_sha256": audit::key_log_row_sha256(tx, log_id)?});
    for (name, value) in extra {
        written[*name] = value.clone();
    }
    Change::new(&actor.name, "keys", operation)
        .on(before.id)
        .before(before.audit_json())
        .after(written)
        .record(tx, now)?;
    get_entry(tx, log_id)
}

pub(crate) fn get_entry(conn: &Connection, id: i64) -> Result<LogEntry> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE l.id = ?1"))?
        .query_row([id], from_row)?)
}

/// The most rows one page of a day's movements may ask for.
pub const DAY_PAGE_MAX: u32 = 1000;

/// Key-log rows with `start <= at < end` (Unix seconds), oldest first, paged.
pub fn list_range(
    conn: &Connection,
    start: i64,
    end: i64,
    limit: u32,
    offset: u32,
) -> Result<Vec<LogEntry>> {
    entries_where(
        conn,
        "l.at >= ?1 AND l.at < ?2 ORDER BY l.at, l.id LIMIT ?3 OFFSET ?4",
        params![start, end, i64::from(limit), i64::from(offset)],
    )
}

/// The whole history of one key, newest first.
pub fn key_history(
    conn: &Connection,
    key_id: i64,
    limit: u32,
    offset: u32,
) -> Result<Vec<LogEntry>> {
    entries_where(
        conn,
        "l.key_id = ?1 ORDER BY l.at DESC, l.id DESC LIMIT ?2 OFFSET ?3",
        params![key_id, i64::from(limit), i64::from(offset)],
    )
}

/// The entries `SELECT … WHERE {condition}` finds (the condition with its order and
/// paging; every value bound through `args`).
fn entries_where(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<LogEntry>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE {condition}"))?;
    let rows = stmt.query_map(args, from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One day of the calendar strip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    /// Local midnight that starts the day, Unix seconds.
    pub start: i64,
    pub end: i64,
    pub issued: i64,
    pub returned: i64,
    /// Keys out now that are due back on this day.
    pub due: i64,
}

/// The reference's strip is 37 days: 7 back and 30 ahead, today being the first of the
/// 30 (7 + today + 29 = 37).
pub const DAYS_BEFORE: u64 = 7;
pub const DAYS_AFTER: u64 = 29;
/// Days in the strip.
pub const CALENDAR_DAYS: u64 = DAYS_BEFORE + 1 + DAYS_AFTER;

/// Local midnight of `date` in `tz` (the first instant of that day, also on DST days).
fn day_start<Tz: TimeZone>(tz: &Tz, date: NaiveDate) -> i64 {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp())
        // A day that starts inside a DST gap starts an hour later.
        .unwrap_or_else(|| {
            tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
                .map(|t| t.timestamp())
                .unwrap_or(0)
        })
}

/// The calendar's one query. `?1` is a JSON array of `[start, end)` pairs, one per day.
/// The key-log counts read the `(action, at)` index; the due count names `keys_due`
/// because without statistics the planner prefers `keys_status` and then reads every key
/// that is out once per day (10-16 ms instead of 0.2 on the reference data set).
pub const CALENDAR_SQL: &str = "WITH d(i, s, e) AS (
        SELECT CAST(key AS INTEGER), json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))
     SELECT d.i,
        (SELECT count(*) FROM key_log WHERE action = 'issued' AND at >= d.s AND at < d.e),
        (SELECT count(*) FROM key_log WHERE action = 'returned' AND at >= d.s AND at < d.e),
        (SELECT count(*) FROM keys INDEXED BY keys_due
          WHERE status = 'issued' AND due_back_at >= d.s AND due_back_at < d.e AND deleted_at IS NULL)
     FROM d ORDER BY d.i";

/// The 37-day strip around `today` in the time zone `tz`: per local day, the keys issued
/// and returned, and the keys out now that are due that day. One aggregate query over
/// the `(action, at)` and `due_back_at` indexes.
pub fn calendar<Tz: TimeZone>(
    conn: &Connection,
    today: NaiveDate,
    tz: &Tz,
) -> Result<Vec<CalendarDay>> {
    let first = today - Days::new(DAYS_BEFORE);
    let n = DAYS_BEFORE + 1 + DAYS_AFTER;
    let dates: Vec<NaiveDate> = (0..=n).map(|i| first + Days::new(i)).collect();
    let bounds: Vec<i64> = dates.iter().map(|d| day_start(tz, *d)).collect();
    let json_bounds =
        serde_json::to_string(&bounds.windows(2).map(|w| [w[0], w[1]]).collect::<Vec<_>>())
            .expect("numbers serialise");
    let mut stmt = conn.prepare_cached(CALENDAR_SQL)?;
    let rows = stmt.query_map([json_bounds], |r| {
        let i: i64 = r.get(0)?;
        Ok((i as usize, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::with_capacity(n as usize);
    for row in rows {
        let (i, issued, returned, due) = row?;
        out.push(CalendarDay {
            date: dates[i],
            start: bounds[i],
            end: bounds[i + 1],
            issued,
            returned,
            due,
        });
    }
    Ok(out)
}

/// Counts for the dashboard and the first window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub keys_total: i64,
    pub keys_out: i64,
    pub keys_overdue: i64,
    pub keys_lost: i64,
    pub persons_total: i64,
}

/// The dashboard's counts at `now`.
pub fn summary(conn: &Connection, now: i64) -> Result<Summary> {
    Ok(conn.query_row(
        "SELECT
            (SELECT count(*) FROM keys WHERE deleted_at IS NULL),
            (SELECT count(*) FROM keys WHERE status = 'issued' AND deleted_at IS NULL),
            (SELECT count(*) FROM keys WHERE status = 'issued' AND due_back_at < ?1 AND deleted_at IS NULL),
            (SELECT count(*) FROM keys WHERE status = 'lost' AND deleted_at IS NULL),
            (SELECT count(*) FROM persons WHERE deleted_at IS NULL)",
        [now],
        |r| {
            Ok(from_columns!(r => Summary {
                keys_total, keys_out, keys_overdue, keys_lost, persons_total
            }))
        },
    )?)
}

/// Filters of the key-log screen and export. Times are Unix seconds, `start <= at < end`.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub key_id: Option<i64>,
    pub person_id: Option<i64>,
    /// The user who did it, as recorded (username or cli:NAME).
    pub actor: Option<String>,
    /// `issued`, `returned`, `lost`, `found`.
    pub action: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Keyset paging: only rows older than this one (the last row of the page before),
    /// so a page deep in the log is one index range, not `offset` rows read and thrown
    /// away. Taken instead of `offset`.
    pub before: Option<LogCursor>,
}

/// Where a page of the key log ends: its last row's time and id (the list's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub struct LogCursor {
    pub at: i64,
    pub id: i64,
}

/// Key-log rows matching `f`, newest first, paged in SQL. Each filter narrows through an
/// index (`at`, `key_id`, `person_id`, `actor`, `action`).
pub fn search(conn: &Connection, f: &LogFilter) -> Result<Vec<LogEntry>> {
    let (sql, args) = search_sql(f);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The SQL [`search`] runs for `f`, with its parameters (the query-plan tests read it).
pub fn search_sql(f: &LogFilter) -> (String, Vec<rusqlite::types::Value>) {
    let (mut filter, mut args) = f.where_sql();
    let offset = match f.before {
        Some(c) => {
            // Older than the cursor in (at, id) order. `l.at <= ?` alone bounds the
            // range read in whichever index the filters chose (an OR would not); the
            // rows of the cursor's own second are then told apart by id.
            filter.push_str(" AND l.at <= ? AND (l.at < ? OR l.id < ?)");
            args.extend([c.at.into(), c.at.into(), c.id.into()]);
            0
        }
        None => f.offset.unwrap_or(0),
    };
    let sql = format!("{SELECT}{filter} ORDER BY l.at DESC, l.id DESC LIMIT ? OFFSET ?");
    args.push(i64::from(f.limit.unwrap_or(100).clamp(1, 1000)).into());
    args.push(i64::from(offset).into());
    (sql, args)
}

impl LogFilter {
    /// The WHERE clause of the filters (not `limit` and `offset`: the list pages, an
    /// export holds every matching row), on the key log as `l`, with its parameters.
    /// Only constant clause texts are appended; every value is a bound parameter.
    pub(crate) fn where_sql(&self) -> (String, Vec<rusqlite::types::Value>) {
        let mut sql = String::from(" WHERE 1=1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut add = |clause: &str, v: rusqlite::types::Value| {
            sql.push_str(clause);
            args.push(v);
        };
        if let Some(s) = self.start {
            add(" AND l.at >= ?", s.into());
        }
        if let Some(e) = self.end {
            add(" AND l.at < ?", e.into());
        }
        if let Some(k) = self.key_id {
            add(" AND l.key_id = ?", k.into());
        }
        if let Some(p) = self.person_id {
            add(" AND l.person_id = ?", p.into());
        }
        if let Some(a) = &self.actor {
            add(" AND l.actor = ?", a.clone().into());
        }
        if let Some(a) = &self.action {
            add(" AND l.action = ?", a.clone().into());
        }
        (sql, args)
    }
}

/// Every user, and the other names (the CLI's `cli:NAME`) that appear in the key log.
const ACTORS_ALL_SQL: &str = "SELECT username FROM users
     UNION SELECT DISTINCT actor FROM key_log WHERE user_id IS NULL ORDER BY 1";

/// Only the names that appear in the key log: users who acted there (by `key_log_user`,
/// a few index lookups), and the other names.
const ACTORS_IN_LOG_SQL: &str = "SELECT u.username FROM users u
     WHERE EXISTS (SELECT 1 FROM key_log l WHERE l.user_id = u.id)
     UNION SELECT DISTINCT actor FROM key_log WHERE user_id IS NULL ORDER BY 1";

/// The names to offer in the key log's "who did it" filter. An admin gets every user
/// (one who never acted there yet included); an operator or a viewer only the names the
/// key log itself shows, since the list of users is theirs to see only through it (the
/// role is checked here, in the core, for every front end).
pub fn actors(conn: &Connection, actor: &Actor) -> Result<Vec<String>> {
    let sql = if actor.role >= Role::Admin {
        ACTORS_ALL_SQL
    } else {
        ACTORS_IN_LOG_SQL
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
