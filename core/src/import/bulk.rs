//! Bulk import of persons, keys, groups (with members and allowed keys) and users.
//!
//! One code path ([`run`]) checks and writes every row inside one transaction of
//! [`Store::write`]. [`preview`] runs it and rolls back; [`apply`] runs it once and,
//! when no row is bad, takes a pinned safety backup of the database as it was before
//! (read through another connection while the import's transaction is still open), then
//! commits. So the preview lists exactly what the import does, and a file with one bad
//! row imports nothing.
//!
//! Audit: one `import` row per record written (component = its table, `before` = the
//! record before an update, `after` = after), plus one summary row (component `import`)
//! with the file, the counts and the safety backup.
//!
//! Rules and SQL: each record is written by its concept module's `_tx` writer
//! (`persons::create_tx`, `keys::update_tx`, `groups::add_member_tx`, `users::create_tx`,
//! …), which checks the same rules as the window's forms; this file only reads the
//! file's cells, matches records that exist, and names a broken rule's line and column.
//!
//! Passwords: a `password` column is accepted for users; each password must pass the
//! strength rule (a weak one is a bad row) and only its argon2id hash is stored. A user
//! without a password gets none (NULL) and cannot sign in until an admin sets one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::json;

use super::{read_records, Record, Source};
use crate::audit::Change;
use crate::error::{Error, Result};
use crate::keys::{self, KeyInput};
use crate::persons::{self, PersonInput};
use crate::session::files::Sessions;
use crate::store::{Actor, Role, Store};
use crate::users::NewPassword;
use crate::work::{Cancel, Locations, Progress};
use crate::{groups, users};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Persons,
    Keys,
    Groups,
    Users,
}

impl Entity {
    pub fn parse(s: &str) -> Result<Entity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "persons" => Ok(Entity::Persons),
            "keys" => Ok(Entity::Keys),
            "groups" => Ok(Entity::Groups),
            "users" => Ok(Entity::Users),
            other => Err(Error::invalid(
                "what",
                format!("\"{other}\" cannot be imported; use persons, keys, groups or users"),
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Persons => "persons",
            Entity::Keys => "keys",
            Entity::Groups => "groups",
            Entity::Users => "users",
        }
    }
    /// Canonical columns with the other names people use for them.
    fn columns(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            // Latvian headers too: Excel users in Latvia name their columns in Latvian.
            Entity::Persons => &[
                (
                    "full_name",
                    &[
                        "name",
                        "fullname",
                        "vards",
                        "vārds",
                        "vārds_uzvārds",
                        "person",
                        "persona",
                    ],
                ),
                (
                    "code",
                    &["person_code", "employee_no", "kods", "personas_kods"],
                ),
                ("department", &["dept", "nodaļa", "nodala"]),
                ("phone", &["telephone", "tālrunis", "talrunis", "telefons"]),
                ("email", &["e_mail", "mail", "e_pasts", "epasts"]),
                ("badge", &["card", "badge_code", "karte", "caurlaide"]),
                ("notes", &["note", "piezīmes", "piezimes"]),
                ("active", &["aktīvs", "aktivs"]),
            ],
            Entity::Keys => &[
                ("number", &["key_number", "key", "nr", "numurs"]),
                ("name", &["room", "telpa"]),
                ("location", &["cabinet", "hook"]),
                ("key_type", &["type"]),
                ("copies_note", &["copies"]),
            ],
            Entity::Groups => &[
                ("name", &["group"]),
                ("description", &[]),
                ("members", &["persons"]),
                ("keys", &["allowed_keys", "key_numbers"]),
            ],
            Entity::Users => &[
                ("username", &["user", "user_name", "login"]),
                ("role", &[]),
                ("active", &[]),
                ("password", &[]),
            ],
        }
    }
    /// Columns of our own "Export all" files that an import ignores (the database sets
    /// them), so an exported `persons.csv` can be imported as it is.
    fn ignored(self) -> &'static [&'static str] {
        match self {
            Entity::Persons => &["id", "created_at", "updated_at", "deleted_at"],
            Entity::Keys => &[
                "id",
                "status",
                "holder_person_id",
                "issued_at",
                "due_back_at",
                "created_at",
                "updated_at",
                "deleted_at",
            ],
            Entity::Groups => &["id", "created_at", "updated_at"],
            Entity::Users => &[
                "id",
                "is_root",
                "failed_logins",
                "locked_until",
                "created_at",
                "updated_at",
                "last_login_at",
            ],
        }
    }
}

/// What to do with a record that already exists (same person code, key number, group
/// name or user name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExisting {
    Skip,
    Update,
}

impl OnExisting {
    pub fn parse(s: &str) -> Result<OnExisting> {
        match s.trim() {
            "skip" => Ok(OnExisting::Skip),
            "update" => Ok(OnExisting::Update),
            other => Err(Error::invalid(
                "on_existing",
                format!("\"{other}\" is not a choice; use skip or update"),
            )),
        }
    }
}

/// A bad row: where, which column, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The CSV line (the header is line 1), or the JSON item number.
    pub line: u64,
    pub column: Option<String>,
    /// In English.
    pub reason: String,
    /// The broken rule (`rule.<name>` in the UI's catalogues, with `vars`), so the
    /// preview can say the reason in the user's language; empty when there is none.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub rule: &'static str,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub vars: serde_json::Value,
}

impl RowError {
    fn new(line: u64, column: Option<String>, reason: String) -> RowError {
        RowError {
            line,
            column,
            reason,
            rule: "",
            vars: serde_json::Value::Null,
        }
    }
    fn rule(mut self, rule: &'static str, vars: serde_json::Value) -> RowError {
        self.rule = rule;
        self.vars = vars;
        self
    }
}

/// What one row does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub line: u64,
    /// `create`, `update` or `skip`.
    pub action: &'static str,
    pub label: String,
}

/// The preview, or what an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub entity: Entity,
    pub file: PathBuf,
    pub source: Source,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub errors: Vec<RowError>,
    pub planned: Vec<Planned>,
    /// True once written and committed.
    pub applied: bool,
    pub safety_backup: Option<PathBuf>,
}

impl ImportReport {
    /// One line: "persons.csv: 3 to create, 1 to update, 0 to skip, 1 bad row".
    pub fn summary(&self) -> String {
        let verb = if self.applied { "" } else { "to " };
        format!(
            "{}: {} rows; {verb}create {}, {verb}update {}, {verb}skip {}; {} bad row(s){}",
            self.file.display(),
            self.rows,
            self.created,
            self.updated,
            self.skipped,
            self.errors.len(),
            if self.applied {
                ""
            } else if self.errors.is_empty() {
                " (nothing written)"
            } else {
                " (nothing written: fix them and import again)"
            }
        )
    }
}

/// The largest import file read (SPEC §13: limits of the app's own, not the file's). A
/// CSV of 100,000 persons is about 10 MB.
pub const MAX_IMPORT_BYTES: u64 = 50 * 1000 * 1000;

/// The action an importing user needs the admin role for.
const IMPORT: &str = "import";

fn read_file(file: &Path) -> Result<(Source, Vec<Record>)> {
    use std::io::Read;
    let too_large = |size: u64| {
        Error::invalid_rule(
            "file",
            "import_too_large",
            serde_json::json!({ "max_mb": MAX_IMPORT_BYTES / 1_000_000, "size_mb": size.div_ceil(1_000_000) }),
            format!(
                "{} is {} MB, more than the {} MB an import file may be; split it into smaller files",
                file.display(),
                size.div_ceil(1_000_000),
                MAX_IMPORT_BYTES / 1_000_000
            ),
        )
    };
    let f = std::fs::File::open(file).map_err(|e| Error::io("read", file, e))?;
    let size = f.metadata().map_err(|e| Error::io("read", file, e))?.len();
    if size > MAX_IMPORT_BYTES {
        return Err(too_large(size));
    }
    // The size can change between the look and the read (a file still being written).
    let mut bytes = Vec::with_capacity(size as usize);
    f.take(MAX_IMPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", file, e))?;
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    read_records(file, &bytes)
}

/// Checks every row and says what importing `file` would do; writes nothing.
pub fn preview(
    store: &mut Store,
    actor: &Actor,
    entity: Entity,
    file: &Path,
    on_existing: OnExisting,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ImportReport> {
    read_and_run(
        store,
        actor,
        entity,
        file,
        on_existing,
        None,
        progress,
        cancel,
    )
}

/// Imports `file`: all rows in one transaction, or none when any row is bad (the report
/// then lists them and `applied` is false). A pinned safety backup of the database as it
/// was before goes to `<data_dir>/safety-backups` before the import commits.
#[allow(clippy::too_many_arguments)] // reason: each is one decision the caller made
pub fn apply(
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    entity: Entity,
    file: &Path,
    on_existing: OnExisting,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ImportReport> {
    read_and_run(
        store,
        actor,
        entity,
        file,
        on_existing,
        Some(loc),
        progress,
        cancel,
    )
}

/// [`preview`] (`commit_to` none) and [`apply`]: reads `file`, then [`run_in_tx`].
#[allow(clippy::too_many_arguments)] // reason: the import's whole input, passed through
fn read_and_run(
    store: &mut Store,
    actor: &Actor,
    entity: Entity,
    file: &Path,
    on_existing: OnExisting,
    commit_to: Option<&Locations>,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ImportReport> {
    // Before the file is opened: a refused user learns nothing of it, not even whether
    // it exists (errors quote what they read). `Store::write` checks it again.
    actor.require(Role::Admin, IMPORT)?;
    let (source, records) = read_file(file)?;
    run_in_tx(
        store,
        actor,
        entity,
        file,
        source,
        &records,
        on_existing,
        commit_to,
        progress,
        cancel,
    )
}

/// Runs [`run`] in one write transaction: committed, after a safety backup into `loc`'s
/// safety folder, when `commit_to` is given, no row is bad and something changes;
/// rolled back otherwise (the preview).
#[allow(clippy::too_many_arguments)] // reason: the import's whole input, passed through
fn run_in_tx(
    store: &mut Store,
    actor: &Actor,
    entity: Entity,
    file: &Path,
    source: Source,
    records: &[Record],
    on_existing: OnExisting,
    commit_to: Option<&Locations>,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<ImportReport> {
    let mut report = ImportReport {
        entity,
        file: file.to_path_buf(),
        source,
        rows: records.len() as u64,
        created: 0,
        updated: 0,
        skipped: 0,
        errors: Vec::new(),
        planned: Vec::new(),
        applied: false,
        safety_backup: None,
    };
    check_columns(entity, records)?;
    // Setting a user's password ends their sessions (`users::NewPassword`).
    let sessions = commit_to.map(|loc| Sessions::new(&loc.sessions));
    // A large file changes more pages than SQLite's default 2 MiB cache holds; spilling
    // them to the WAL mid-transaction costs more than the rows themselves. The cache is
    // this connection's and goes back to its size afterwards.
    let cache: i64 = store
        .conn()
        .pragma_query_value(None, "cache_size", |r| r.get(0))?;
    store
        .conn()
        .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
    let outcome = store.write(actor, Role::Admin, IMPORT, |tx, now| {
        run(
            tx,
            now,
            actor,
            entity,
            records,
            on_existing,
            sessions.as_ref(),
            &mut report,
            progress,
            cancel,
        )?;
        let changes = report.created + report.updated > 0;
        if let (Some(loc), true, true) = (commit_to, report.errors.is_empty(), changes) {
            progress(Progress::new("safety backup", 0, 1));
            let safety = crate::backup::safety_backup_in_tx(
                tx,
                now,
                actor,
                loc,
                format!("before importing {}", file.display()),
                cancel,
            )?;
            progress(Progress::new("safety backup", 1, 1));
            report.safety_backup = Some(safety.file);
            super::audit_import(
                tx,
                now,
                actor,
                json!({"file": file, "what": entity, "rows": report.rows,
                    "created": report.created, "updated": report.updated,
                    "skipped": report.skipped, "safety_backup": report.safety_backup}),
            )?;
            Ok(true)
        } else {
            // Rolls the whole run back: a preview, or a file with bad rows.
            Err(Error::Cancelled)
        }
    });
    store.conn().pragma_update(None, "cache_size", cache)?;
    match outcome {
        Ok(applied) => report.applied = applied,
        Err(Error::Cancelled) if !cancel.is_cancelled() => {}
        Err(e) => return Err(e),
    }
    Ok(report)
}

/// The page cache during an import, in KiB as `PRAGMA cache_size` takes it (negative).
const IMPORT_CACHE_KIB: i64 = -65_536;

/// Refuses a file with a column this import does not know (a typo such as "emial"
/// would otherwise drop that data silently).
fn check_columns(entity: Entity, records: &[Record]) -> Result<()> {
    let known = entity.columns();
    let mut seen = std::collections::BTreeSet::new();
    for r in records {
        seen.extend(r.fields.keys().map(String::as_str));
    }
    for col in seen {
        let ok = entity.ignored().contains(&col)
            || known.iter().any(|(c, a)| *c == col || a.contains(&col));
        if !ok {
            let names: Vec<&str> = known.iter().map(|(c, _)| *c).collect();
            return Err(Error::invalid_rule(
                col,
                "import_unknown_column",
                json!({ "column": col, "columns": names.join(", ") }),
                format!(
                    "is not a column of {}; the columns are {}",
                    entity.as_str(),
                    names.join(", ")
                ),
            ));
        }
    }
    if records.is_empty() {
        return Err(Error::invalid_rule(
            "file",
            "import_no_rows",
            serde_json::Value::Null,
            "has no rows to import",
        ));
    }
    Ok(())
}

/// A record's cells under their canonical names.
fn canonical(entity: Entity, r: &Record) -> HashMap<&'static str, &str> {
    let mut out = HashMap::new();
    for (c, aliases) in entity.columns() {
        if let Some(v) = std::iter::once(c)
            .chain(aliases.iter())
            .find_map(|k| r.fields.get(*k))
        {
            out.insert(*c, v.as_str());
        }
    }
    out
}

fn row_err(line: u64, e: Error) -> RowError {
    match e {
        Error::Invalid {
            field,
            reason,
            rule,
            vars,
        } => RowError::new(line, Some(field), reason).rule(rule, vars),
        Error::Duplicate { what, field, value } => RowError::new(
            line,
            Some(field.to_string()),
            format!("\"{value}\" is already the {field} of another {what}"),
        )
        .rule("import_taken", json!({ "value": value })),
        other => RowError::new(line, None, other.message()),
    }
}

fn parse_bool(field: &str, v: Option<&str>, default: bool) -> Result<bool> {
    match v.map(|s| s.trim().to_lowercase()).as_deref() {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes" | "jā" | "ja" | "y") => Ok(true),
        Some("0" | "false" | "no" | "nē" | "ne" | "n") => Ok(false),
        Some(other) => Err(Error::invalid_rule(
            field,
            "import_yes_no",
            json!({ "value": other }),
            format!("\"{other}\" is not yes/no; write 1 or 0"),
        )),
    }
}

/// The one code path of preview and import. `commit`: none for the preview; for the
/// import, the session folder where a user given a password has their sessions ended.
#[allow(clippy::too_many_arguments)] // reason: the import's whole input, passed through
fn run(
    tx: &Transaction,
    now: i64,
    actor: &Actor,
    entity: Entity,
    records: &[Record],
    on_existing: OnExisting,
    commit: Option<&Sessions>,
    report: &mut ImportReport,
    progress: &mut dyn FnMut(Progress),
    cancel: &Cancel,
) -> Result<()> {
    let total = records.len() as u64;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let step = if commit.is_some() { "import" } else { "check" };
    for (i, r) in records.iter().enumerate() {
        if i % 1000 == 0 {
            progress(Progress::new(step, i as u64, total));
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
        }
        if let Some((cells, columns)) = r.extra_cells {
            report.errors.push(
                RowError::new(
                    r.line,
                    None,
                    format!("has {cells} cells but the header has {columns} columns"),
                )
                .rule(
                    "import_extra_cells",
                    json!({ "cells": cells, "columns": columns }),
                ),
            );
            continue;
        }
        let cells = canonical(entity, r);
        let ctx = Ctx {
            tx,
            now,
            actor,
            on_existing,
            commit,
            line: r.line,
        };
        let res = match entity {
            Entity::Persons => person_row(&ctx, &cells, &mut seen),
            Entity::Keys => key_row(&ctx, &cells, &mut seen),
            Entity::Groups => group_row(&ctx, &cells, &mut seen),
            Entity::Users => user_row(&ctx, &cells, &mut seen),
        };
        match res {
            Ok(p) => {
                match p.action {
                    "create" => report.created += 1,
                    "update" => report.updated += 1,
                    _ => report.skipped += 1,
                }
                report.planned.push(p);
            }
            Err(e) => report.errors.push(e),
        }
    }
    progress(Progress::new(step, total, total));
    Ok(())
}

struct Ctx<'a> {
    tx: &'a Transaction<'a>,
    now: i64,
    actor: &'a Actor,
    on_existing: OnExisting,
    /// None: the preview. Some: the import, with the session folder (`run`).
    commit: Option<&'a Sessions>,
    line: u64,
}

impl Ctx<'_> {
    fn err(&self, e: impl Into<Error>) -> RowError {
        row_err(self.line, e.into())
    }
    fn planned(&self, action: &'static str, label: String) -> Planned {
        Planned {
            line: self.line,
            action,
            label,
        }
    }
    /// The same value twice in one file is a bad row, not an update of the first.
    fn once(
        &self,
        seen: &mut HashMap<String, u64>,
        field: &str,
        value: &str,
    ) -> std::result::Result<(), RowError> {
        let k = format!("{field}\u{0}{}", value.to_lowercase());
        if let Some(first) = seen.get(&k) {
            return Err(RowError::new(
                self.line,
                Some(field.into()),
                format!("\"{value}\" is already on line {first} of this file"),
            )
            .rule("import_twice", json!({ "value": value, "first": first })));
        }
        seen.insert(k, self.line);
        Ok(())
    }
    fn audit(
        &self,
        component: &str,
        id: i64,
        before: Option<serde_json::Value>,
        after: serde_json::Value,
    ) -> std::result::Result<(), RowError> {
        Change::new(&self.actor.name, component, "import")
            .on(id)
            .before(before)
            .after(after)
            .record(self.tx, self.now)
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

type RowResult = std::result::Result<Planned, RowError>;

fn person_row(c: &Ctx, cells: &HashMap<&str, &str>, seen: &mut HashMap<String, u64>) -> RowResult {
    let get = |k: &str| cells.get(k).map(|v| v.to_string());
    // persons' own rules; `active` is read after them, as the column comes last.
    let input = PersonInput {
        full_name: get("full_name").unwrap_or_default(),
        code: get("code"),
        department: get("department"),
        phone: get("phone"),
        email: get("email"),
        badge: get("badge"),
        notes: get("notes"),
        active: true,
    }
    .validated()
    .map_err(|e| c.err(e))?;
    let input = PersonInput {
        active: parse_bool("active", cells.get("active").copied(), true).map_err(|e| c.err(e))?,
        ..input
    };
    if let Some(code) = &input.code {
        c.once(seen, "code", code)?;
    }
    if let Some(b) = &input.badge {
        c.once(seen, "badge", b)?;
    }
    let label = match &input.code {
        Some(k) => format!("{} ({k})", input.full_name),
        None => input.full_name.clone(),
    };
    let existing: Option<i64> = match &input.code {
        Some(k) => {
            c.tx.prepare_cached("SELECT id FROM persons WHERE code = ?1 COLLATE NOCASE")
                .and_then(|mut s| s.query_row([k], |r| r.get(0)).optional())
                .map_err(|e| c.err(e))?
        }
        None => None,
    };
    match existing {
        Some(_) if c.on_existing == OnExisting::Skip => Ok(c.planned("skip", label)),
        Some(id) => {
            let (before, after) =
                persons::update_tx(c.tx, c.now, id, &input).map_err(|e| c.err(e))?;
            c.audit("persons", id, Some(before.audit_json()), after.audit_json())?;
            Ok(c.planned("update", label))
        }
        None => {
            let p = persons::create_tx(c.tx, c.now, &input).map_err(|e| c.err(e))?;
            c.audit("persons", p.id, None, p.audit_json())?;
            Ok(c.planned("create", label))
        }
    }
}

fn key_row(c: &Ctx, cells: &HashMap<&str, &str>, seen: &mut HashMap<String, u64>) -> RowResult {
    let get = |k: &str| cells.get(k).map(|v| v.to_string());
    let input = KeyInput {
        number: get("number").unwrap_or_default(),
        name: get("name"),
        location: get("location"),
        key_type: get("key_type"),
        copies_note: get("copies_note"),
    }
    .validated()
    .map_err(|e| c.err(e))?;
    c.once(seen, "number", &input.number)?;
    let existing: Option<(i64, String)> =
        c.tx.prepare_cached("SELECT id, number FROM keys WHERE number = ?1")
            .and_then(|mut s| {
                s.query_row([&input.number], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| c.err(e))?;
    let label = input.number.clone();
    match existing {
        Some(_) if c.on_existing == OnExisting::Skip => Ok(c.planned("skip", label)),
        Some((id, number)) => {
            // Numbers match without regard to case; the key keeps the one it has.
            let input = KeyInput { number, ..input };
            let (before, after) = keys::update_tx(c.tx, c.now, id, &input).map_err(|e| c.err(e))?;
            c.audit("keys", id, Some(before.audit_json()), after.audit_json())?;
            Ok(c.planned("update", label))
        }
        None => {
            let k = keys::create_tx(c.tx, c.now, &input).map_err(|e| c.err(e))?;
            c.audit("keys", k.id, None, k.audit_json())?;
            Ok(c.planned("create", label))
        }
    }
}

/// `a|b|c` (JSON arrays are read as this too).
fn list(v: Option<&str>) -> Option<Vec<String>> {
    v.map(|s| {
        s.split('|')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    })
}

fn group_row(c: &Ctx, cells: &HashMap<&str, &str>, seen: &mut HashMap<String, u64>) -> RowResult {
    let get = |k: &str| cells.get(k).copied();
    let (name, description) =
        groups::validated(get("name").unwrap_or(""), get("description")).map_err(|e| c.err(e))?;
    c.once(seen, "name", &name)?;
    let members = list(get("members"));
    let keys = list(get("keys"));
    let mut member_ids = Vec::new();
    for m in members.iter().flatten() {
        let id: Option<i64> = c
            .tx
            .prepare_cached(
                "SELECT id FROM persons WHERE (code = ?1 COLLATE NOCASE OR badge = ?1 COLLATE NOCASE)
                   AND deleted_at IS NULL LIMIT 1",
            )
            .and_then(|mut s| s.query_row([m], |r| r.get(0)).optional())
            .map_err(|e| c.err(e))?;
        member_ids.push(id.ok_or_else(|| {
            RowError::new(
                c.line,
                Some("members".into()),
                format!("no person has the code or badge \"{m}\" (import the persons first)"),
            )
            .rule("import_no_person", json!({ "value": m }))
        })?);
    }
    let key_ids =
        groups::key_ids(c.tx, keys.as_deref().unwrap_or_default()).map_err(|e| match e {
            Error::NotFound { what: "key", id } => RowError::new(
                c.line,
                Some("keys".into()),
                format!("there is no key \"{id}\" (import the keys first)"),
            )
            .rule("import_no_key", json!({ "value": id })),
            other => c.err(other),
        })?;
    let existing = match groups::find(c.tx, &name) {
        Ok(g) => Some(g),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(c.err(e)),
    };
    let label = name.to_string();
    // A column given replaces the group's members (or keys); a column left out keeps them.
    let fill = |id: i64| -> Result<()> {
        if members.is_some() {
            groups::clear_members_tx(c.tx, id)?;
            for p in &member_ids {
                groups::add_member_tx(c.tx, id, *p)?;
            }
        }
        if keys.is_some() {
            groups::clear_keys_tx(c.tx, id)?;
            for (k, _) in &key_ids {
                groups::allow_key_tx(c.tx, id, *k)?;
            }
        }
        Ok(())
    };
    match existing {
        Some(_) if c.on_existing == OnExisting::Skip => Ok(c.planned("skip", label)),
        Some(g) => {
            let before = groups::contents_json(c.tx, g.id).map_err(|e| c.err(e))?;
            // Names match without regard to case; the group keeps the one it has.
            groups::update_tx(c.tx, c.now, &g, &g.name, description.as_deref())
                .and_then(|_| fill(g.id))
                .map_err(|e| c.err(e))?;
            let after = groups::contents_json(c.tx, g.id).map_err(|e| c.err(e))?;
            c.audit("groups", g.id, Some(before), after)?;
            Ok(c.planned("update", label))
        }
        None => {
            let g = groups::create_tx(c.tx, c.now, &name, description.as_deref())
                .map_err(|e| c.err(e))?;
            fill(g.id).map_err(|e| c.err(e))?;
            let after = groups::contents_json(c.tx, g.id).map_err(|e| c.err(e))?;
            c.audit("groups", g.id, None, after)?;
            Ok(c.planned("create", label))
        }
    }
}

fn user_row(c: &Ctx, cells: &HashMap<&str, &str>, seen: &mut HashMap<String, u64>) -> RowResult {
    let get = |k: &str| cells.get(k).copied();
    let username = users::validate_username(get("username").unwrap_or("")).map_err(|e| c.err(e))?;
    let role = Role::parse(get("role").unwrap_or("viewer")).map_err(|e| c.err(e))?;
    let active = parse_bool("active", get("active"), true).map_err(|e| c.err(e))?;
    let password = get("password").filter(|p| !p.is_empty());
    if let Some(p) = password {
        users::check_password_strength(p).map_err(|e| {
            RowError::new(c.line, Some("password".into()), e.message())
                .rule("import_weak_password", serde_json::Value::Null)
        })?;
    }
    c.once(seen, "username", &username)?;
    // Hashing is slow on purpose (argon2id); the preview only needs the strength check.
    let hash = match password {
        Some(p) if c.commit.is_some() => Some(users::hash_password(p)),
        _ => None,
    };
    let existing = users::find(c.tx, &username).map_err(|e| c.err(e))?;
    let label = username.to_string();
    // Not the users' own audit view: an import row names the file's user name and no
    // `is_root`, and says a password is set once the file gives one.
    let view = |role: Role, active: bool, has_password: bool| json!({"username": username, "role": role.as_str(), "active": active, "has_password": has_password});
    match existing {
        Some(_) if c.on_existing == OnExisting::Skip => Ok(c.planned("skip", label)),
        Some(u) => {
            // A password follows the Users screen's rules: only another user's, and
            // their sessions end (users::update_tx).
            // (A hash is made only when importing, so the preview plans it.)
            let new_password = match (hash.as_deref(), c.commit) {
                (Some(hash), Some(sessions)) => Some(NewPassword::Hash { hash, sessions }),
                _ => password.map(|_| NewPassword::Planned),
            };
            users::update_tx(c.tx, c.now, c.actor, &u, role, active, new_password)
                .map_err(|e| c.err(e))?;
            c.audit(
                "users",
                u.id,
                Some(view(u.role, u.active, u.has_password)),
                view(role, active, u.has_password || password.is_some()),
            )?;
            Ok(c.planned("update", label))
        }
        None => {
            let u = users::create_tx(c.tx, c.now, &username, role, active, hash.as_deref())
                .map_err(|e| c.err(e))?;
            c.audit("users", u.id, None, view(role, active, password.is_some()))?;
            Ok(c.planned("create", label))
        }
    }
}
