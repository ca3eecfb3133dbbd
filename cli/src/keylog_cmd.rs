//! `atslegas-cli issue`, `return`, `keylog` and `calendar`: the key log, written and read.
//! Top-level commands (flattened into the command list), not a `keylog ...` group.
//! Argument parsing and printing only; the work is in `atslegas_core::keylog`.

use std::path::{Path, PathBuf};

use atslegas_core::keylog::{self, Handover, IssueRequest, LogEntry, ReturnRequest};
use atslegas_core::{as_of, overdue, time, Actor, Error, Store};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::Out;
use crate::person_cmd::person_ref;
use crate::Failure;

#[derive(Subcommand)]
pub enum KeyLogCmd {
    /// Issue a key, or every key of a set, to a person (one receipt; all or nothing).
    Issue(IssueArgs),
    /// Take back a key, or the keys of a set (one receipt).
    Return {
        /// Key number, or a set's tag or name.
        key: String,
        #[arg(long)]
        comment: Option<String>,
        /// The person's signature: an SVG file of paths (at most 256 KB).
        #[arg(long, value_name = "FILE.svg")]
        signature: Option<PathBuf>,
        /// Keys of the set that did not come back on the ring (they stay out): 103,104.
        #[arg(long, value_delimiter = ',', value_name = "KEYS")]
        missing: Vec<String>,
    },
    /// Key-log rows in a time range (the reference's JSON shape with --json), or the
    /// register as it was at a moment (`keylog as-of`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Keylog {
        #[command(subcommand)]
        view: Option<KeylogView>,
        /// Start, Unix seconds (inclusive).
        #[arg(long, required = true)]
        start: Option<i64>,
        /// End, Unix seconds (exclusive).
        #[arg(long, required = true)]
        end: Option<i64>,
    },
    /// Keys overdue or due today, with the holders' phone and e-mail (for a mail merge).
    Overdue,
    /// The 37-day calendar: issued, returned and due counts per day.
    Calendar {
        /// The day in the middle of the strip, YYYY-MM-DD (default: today).
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum KeylogView {
    /// Who held each key at a moment, or (--person) what a person held then.
    AsOf {
        /// The moment: 24.11.2026 17:00 or 2026-11-24T17:00 (local), 2026-11-24T15:00:00Z,
        /// or a day (its end).
        #[arg(long)]
        at: String,
        /// Only this key.
        #[arg(long, conflicts_with = "person")]
        key: Option<String>,
        /// What this person held (person code, badge code or #ID).
        #[arg(long)]
        person: Option<String>,
    },
}

#[derive(Args)]
pub struct IssueArgs {
    /// Key number, or a set's tag or name.
    key: String,
    /// Person code or badge code.
    #[arg(long)]
    to: String,
    /// Due back: 24.11.2026 17:00 or 2026-11-24T17:00 (local), 2026-11-24T15:00:00Z, or a day
    /// (24.11.2026, 2026-11-24: its end).
    #[arg(long)]
    due: Option<String>,
    #[arg(long)]
    comment: Option<String>,
    /// Admins: issue outside the person's group rights, for this reason.
    #[arg(long)]
    override_reason: Option<String>,
    /// The person's signature: an SVG file of paths (at most 256 KB).
    #[arg(long, value_name = "FILE.svg")]
    signature: Option<PathBuf>,
}

/// What `issue` and `return` print with `--json`: the receipt, the keys, and the
/// movement's fields (those of its only key when one key moved; `id`, `key_number` and
/// `key_id` are null for a set, whose keys are in `keys` and `entries`).
#[derive(Serialize)]
struct HandoverOut<'a> {
    /// The key-log row's id (one key).
    id: Option<i64>,
    receipt: i64,
    action: &'a str,
    set: Option<&'a str>,
    keys: Vec<&'a str>,
    key_number: Option<&'a str>,
    key_id: Option<i64>,
    person_id: Option<i64>,
    person_name: Option<&'a str>,
    user_name: &'a str,
    at: i64,
    due_back_at: Option<i64>,
    comment: Option<&'a str>,
    override_reason: Option<&'a str>,
    missing: &'a [String],
    entries: &'a [LogEntry],
}

impl<'a> HandoverOut<'a> {
    fn of(h: &'a Handover) -> HandoverOut<'a> {
        let first = &h.entries[0];
        let one = (h.entries.len() == 1 && h.set.is_none()).then_some(first);
        HandoverOut {
            id: one.map(|e| e.id),
            receipt: h.receipt,
            action: &first.action,
            set: h.set.as_deref(),
            keys: h.entries.iter().map(|e| e.key_number.as_str()).collect(),
            key_number: one.map(|e| e.key_number.as_str()),
            key_id: one.map(|e| e.key_id),
            person_id: first.person_id,
            person_name: first.person_name.as_deref(),
            user_name: &first.user_name,
            at: first.at,
            due_back_at: first.due_back_at,
            comment: first.comment.as_deref(),
            override_reason: first.override_reason.as_deref(),
            missing: &h.missing,
            entries: &h.entries,
        }
    }

    /// "Key 101" or "Set Ring A (keys 101, 102)".
    fn what(&self) -> String {
        match self.set {
            Some(set) => format!("Set {set} (keys {})", self.keys.join(", ")),
            None => format!("Key {}", self.keys.join(", ")),
        }
    }
}

/// The signature file's text (the core reads at most a little over 256 KB of it).
fn read_signature(path: Option<&Path>) -> Result<Option<String>, Failure> {
    Ok(path.map(atslegas_core::signature::read_file).transpose()?)
}

/// Every row a paged core read gives, read 10,000 at a time: `page(limit, offset)`.
fn every_page<T>(
    mut page: impl FnMut(u32, u32) -> atslegas_core::Result<Vec<T>>,
) -> Result<Vec<T>, Failure> {
    const PAGE: u32 = 10_000;
    let mut all = Vec::new();
    loop {
        let rows = page(PAGE, all.len() as u32)?;
        let n = rows.len();
        all.extend(rows);
        if n < PAGE as usize {
            return Ok(all);
        }
    }
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
                signature,
            } = a;
            let req = IssueRequest {
                due_back_at: due
                    .as_deref()
                    .map(|d| time::parse_local("due", d))
                    .transpose()?,
                comment,
                override_reason,
                signature: read_signature(signature.as_deref())?,
            };
            let h = keylog::issue_keys(store, actor, &[key.as_str()], &person_ref(&to), &req)?;
            let o = HandoverOut::of(&h);
            out.done(
                &o,
                &format!(
                    "{} issued to {}{}. Receipt {}.",
                    o.what(),
                    o.person_name.unwrap_or("?"),
                    o.due_back_at
                        .map(|d| format!(", due back {}", time::local_display(d)))
                        .unwrap_or_default(),
                    o.receipt
                ),
            );
        }
        KeyLogCmd::Return {
            key,
            comment,
            signature,
            missing,
        } => {
            let req = ReturnRequest {
                comment,
                signature: read_signature(signature.as_deref())?,
                missing,
            };
            let h = keylog::return_keys(store, actor, &[key.as_str()], &req)?;
            let o = HandoverOut::of(&h);
            let still_out = if o.missing.is_empty() {
                String::new()
            } else {
                format!(" Still out (not on the ring): {}.", o.missing.join(", "))
            };
            out.done(
                &o,
                &format!(
                    "{} returned by {}. Receipt {}.{still_out}",
                    o.what(),
                    o.person_name.unwrap_or("?"),
                    o.receipt
                ),
            );
        }
        KeyLogCmd::Keylog {
            view: Some(KeylogView::AsOf { at, key, person }),
            ..
        } => {
            let at = time::parse_local("--at", &at)?;
            let rows = match person {
                Some(p) => {
                    let p = keylog::resolve_person(store.conn(), &person_ref(&p))?;
                    as_of::person_at(store.conn(), at, &p)?
                }
                None => {
                    let all = every_page(|limit, offset| {
                        as_of::keys_at(store.conn(), at, key.as_deref(), limit, offset)
                    })?;
                    if all.is_empty() {
                        if let Some(k) = &key {
                            // Say why: no such key, or it did not exist yet then.
                            atslegas_core::keys::find(store.conn(), k)?;
                        }
                    }
                    all
                }
            };
            out.holdings(&rows, at);
        }
        KeyLogCmd::Overdue => {
            let now = chrono::Utc::now().timestamp();
            out.overdue(&overdue::list(
                store.conn(),
                now,
                overdue::end_of_local_day(now),
            )?);
        }
        KeyLogCmd::Keylog { start, end, .. } => {
            let (Some(start), Some(end)) = (start, end) else {
                return Err(crate::usage(
                    "keylog needs --start and --end, or as-of --at TIME (see --help)",
                ));
            };
            if end <= start {
                return Err(Error::invalid("--end", "must be after --start").into());
            }
            let all = every_page(|limit, offset| {
                keylog::list_range(store.conn(), start, end, limit, offset)
            })?;
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
