//! `atslegas-cli issue`, `return`, `keylog` and `calendar`: the key log, written and read.
//! Top-level commands (flattened into the command list), not a `keylog ...` group.
//! Argument parsing and printing only; the work is in `atslegas_core::keylog`.

use atslegas_core::keylog::{self, IssueRequest};
use atslegas_core::{time, Actor, Error, Store};
use clap::{Args, Subcommand};

use crate::output::Out;
use crate::person_cmd::person_ref;
use crate::Failure;

#[derive(Subcommand)]
pub enum KeyLogCmd {
    /// Issue a key to a person.
    Issue(IssueArgs),
    /// Take a key back.
    Return {
        /// Key number.
        key: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Key-log rows in a time range (the reference's JSON shape with --json).
    Keylog {
        /// Start, Unix seconds (inclusive).
        #[arg(long)]
        start: i64,
        /// End, Unix seconds (exclusive).
        #[arg(long)]
        end: i64,
    },
    /// The 37-day calendar: issued, returned and due counts per day.
    Calendar {
        /// The day in the middle of the strip, YYYY-MM-DD (default: today).
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Args)]
pub struct IssueArgs {
    /// Key number.
    key: String,
    /// Person code or badge code.
    #[arg(long)]
    to: String,
    /// Due back: 2026-11-24T17:00 (local), 2026-11-24T15:00:00Z, or 2026-11-24.
    #[arg(long)]
    due: Option<String>,
    #[arg(long)]
    comment: Option<String>,
    /// Admins: issue outside the person's group rights, for this reason.
    #[arg(long)]
    override_reason: Option<String>,
}

pub fn run(cmd: KeyLogCmd, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        KeyLogCmd::Issue(a) => {
            let IssueArgs {
                key,
                to,
                due,
                comment,
                override_reason,
            } = a;
            let req = IssueRequest {
                due_back_at: due
                    .as_deref()
                    .map(|d| time::parse_local("due", d))
                    .transpose()?,
                comment,
                override_reason,
                signature: None,
            };
            let e = keylog::issue(store, actor, &key, &person_ref(&to), &req)?;
            out.done(
                &e,
                &format!(
                    "Key {} issued to {}{}.",
                    e.key_number,
                    e.person_name.as_deref().unwrap_or("?"),
                    e.due_back_at
                        .map(|d| format!(", due back {}", time::local_display(d)))
                        .unwrap_or_default()
                ),
            );
        }
        KeyLogCmd::Return { key, comment } => {
            let e = keylog::return_key(store, actor, &key, comment.as_deref())?;
            out.done(
                &e,
                &format!(
                    "Key {} returned by {}.",
                    e.key_number,
                    e.person_name.as_deref().unwrap_or("?")
                ),
            );
        }
        KeyLogCmd::Keylog { start, end } => {
            if end <= start {
                return Err(Error::invalid("--end", "must be after --start").into());
            }
            let mut all = Vec::new();
            let mut offset = 0;
            loop {
                let page = keylog::list_range(store.conn(), start, end, 10_000, offset)?;
                let n = page.len() as u32;
                all.extend(page);
                if n < 10_000 {
                    break;
                }
                offset += n;
            }
            out.keylog_reference(&all);
        }
        KeyLogCmd::Calendar { today } => {
            let today = match today {
                Some(t) => {
                    chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| {
                        Failure::from(Error::invalid(
                            "--today",
                            format!("\"{t}\" is not a date like 2026-11-24"),
                        ))
                    })?
                }
                None => chrono::Local::now().date_naive(),
            };
            out.calendar(
                &keylog::calendar(store.conn(), today, &chrono::Local)?,
                today,
            );
        }
    }
    Ok(0)
}
