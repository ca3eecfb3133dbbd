//! `atslegas-cli export ...` and `atslegas-cli import ...`: "Export all", the key log and
//! the audit trail out; persons, keys, groups, users and whole "Export all" archives in.
//! Argument parsing and printing only; the work is in `atslegas_core::{export, import}`.

use std::path::PathBuf;

use atslegas_core::export::{all, audit_log, keylog};
use atslegas_core::import::{self, Entity, OnExisting};
use atslegas_core::keylog::LogFilter;
use atslegas_core::work::{Cancel, Locations};
use atslegas_core::{time, Actor, Store};
use clap::Subcommand;

use crate::audit_cmd::AuditFilterArgs;
use crate::output::{outln, progress_printer, Out};
use crate::person_cmd::find_person;
use crate::Failure;

#[derive(Subcommand)]
pub enum ExportCmd {
    /// Everything: one CSV per table and a manifest, in one ZIP (admins).
    All {
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
    },
    /// The key log for a time range, as CSV or XLSX (by the file's extension).
    Keylog {
        /// Start (inclusive): Unix seconds, 2026-11-24T15:00:00Z, or a local time.
        #[arg(long)]
        start: String,
        /// End (exclusive), in the same forms.
        #[arg(long)]
        end: String,
        /// Only this key's rows (its number).
        #[arg(long, value_name = "NUMBER")]
        key: Option<String>,
        /// Only this person's rows (code or badge).
        #[arg(long, value_name = "PERSON")]
        person: Option<String>,
        /// Only the rows this user recorded (username or cli:NAME).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Only issued, returned, lost or found.
        #[arg(long)]
        action: Option<String>,
        #[arg(long, value_name = "FILE.csv|FILE.xlsx")]
        out: PathBuf,
    },
    /// The audit trail with the list's filters, as CSV or JSON (admins). Without
    /// --limit, every matching row.
    Audit {
        #[command(flatten)]
        filter: AuditFilterArgs,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        offset: Option<u32>,
        #[arg(long, value_name = "FILE.csv|FILE.json")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Persons from CSV (`,` or `;`) or JSON.
    Persons(ImportArgs),
    /// Keys from CSV or JSON.
    Keys(ImportArgs),
    /// Groups with members (person codes, `a|b`) and allowed keys (numbers, `101|102`).
    Groups(ImportArgs),
    /// Users; without a password column they must get one before signing in.
    Users(ImportArgs),
    /// An "Export all" ZIP into an EMPTY data folder (do not run init first).
    All { file: PathBuf },
}

#[derive(clap::Args)]
pub struct ImportArgs {
    file: PathBuf,
    /// Check every row and show what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// What to do with records that already exist.
    #[arg(long, default_value = "skip", value_parser = ["skip", "update"])]
    on_existing: String,
}

pub fn run_export(
    cmd: ExportCmd,
    store: &mut Store,
    actor: &Actor,
    out: &Out,
) -> Result<u8, Failure> {
    let cancel = Cancel::new();
    let mut progress = progress_printer();
    match cmd {
        ExportCmd::All { out: file } => {
            let r = all::export_all(store, actor, &file, &mut progress, &cancel)?;
            let rows: u64 = r.manifest.tables.iter().map(|t| t.rows).sum();
            out.done(
                &r,
                &format!(
                    "Exported {rows} rows of {} tables to {} ({} bytes).",
                    r.manifest.tables.len(),
                    r.file.display(),
                    r.size
                ),
            );
        }
        ExportCmd::Keylog {
            start,
            end,
            key,
            person,
            user,
            action,
            out: file,
        } => {
            let key_id = match key {
                Some(n) => Some(atslegas_core::keys::find(store.conn(), &n)?.id),
                None => None,
            };
            let person_id = match person {
                Some(p) => Some(find_person(store.conn(), &p)?.id),
                None => None,
            };
            if let Some(a) = action.as_deref() {
                if !["issued", "returned", "lost", "found"].contains(&a) {
                    return Err(crate::usage(format!(
                        "--action \"{a}\" is not an action; use issued, returned, lost or found"
                    )));
                }
            }
            let f = LogFilter {
                start: Some(time::parse_local("--start", &start)?),
                end: Some(time::parse_local("--end", &end)?),
                key_id,
                person_id,
                actor: user,
                action,
                ..Default::default()
            };
            let r =
                keylog::export_keylog_filtered(store, actor, &f, &file, &mut progress, &cancel)?;
            out.done(
                &r,
                &format!("Exported {} key-log rows to {}.", r.rows, r.file.display()),
            );
        }
        ExportCmd::Audit {
            filter,
            limit,
            offset,
            out: file,
        } => {
            let f = filter.filter(limit, offset)?;
            let r = audit_log::export_audit(store, actor, &f, &file, &mut progress, &cancel)?;
            out.done(
                &r,
                &format!("Exported {} audit rows to {}.", r.rows, r.file.display()),
            );
        }
    }
    Ok(0)
}

pub fn run_import(
    cmd: ImportCmd,
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    out: &Out,
) -> Result<u8, Failure> {
    let cancel = Cancel::new();
    let mut progress = progress_printer();
    let (entity, args) = match cmd {
        ImportCmd::All { file } => {
            let r = import::all::import_all(store, actor, &file, &mut progress, &cancel)?;
            let rows: u64 = r.counts.iter().map(|(_, n)| n).sum();
            let mut text = format!(
                "Imported {rows} rows from {} (exported {}); the audit chain of {} rows verifies.",
                r.file.display(),
                r.exported_at,
                r.audit_rows_verified
            );
            if let Some(root) = &r.root_username {
                text.push_str(&format!(
                    "\nNo user has a password yet: set the root's with `atslegas-cli user passwd {root} --password-stdin`."
                ));
            }
            out.done(&r, &text);
            return Ok(0);
        }
        ImportCmd::Persons(a) => (Entity::Persons, a),
        ImportCmd::Keys(a) => (Entity::Keys, a),
        ImportCmd::Groups(a) => (Entity::Groups, a),
        ImportCmd::Users(a) => (Entity::Users, a),
    };
    let ImportArgs {
        file,
        dry_run,
        on_existing,
    } = args;
    let on_existing = OnExisting::parse(&on_existing)?;
    let r = if dry_run {
        import::preview(
            store,
            actor,
            entity,
            &file,
            on_existing,
            &mut progress,
            &cancel,
        )?
    } else {
        import::apply(
            store,
            actor,
            loc,
            entity,
            &file,
            on_existing,
            &mut progress,
            &cancel,
        )?
    };
    if out.json {
        out.done(&r, "");
    } else {
        outln!("{}", r.summary());
        for e in &r.errors {
            outln!(
                "  line {}{}: {}",
                e.line,
                e.column
                    .as_deref()
                    .map(|c| format!(", column {c}"))
                    .unwrap_or_default(),
                e.reason
            );
        }
        if let Some(b) = &r.safety_backup {
            outln!("Safety backup: {}", b.display());
        }
    }
    Ok(if r.errors.is_empty() { 0 } else { 3 })
}
