//! `atslegas-cli key ...`: physical keys and each key's movements. Argument parsing and
//! printing only; the work is in `atslegas_core::{keys, keylog}`.

use atslegas_core::keys::{self, KeyInput, KeyQuery};
use atslegas_core::{areas, keylog, lost, Actor, Store};
use clap::Subcommand;

use crate::output::Out;
use crate::{Failure, ListArgs};

#[derive(Subcommand)]
pub enum KeyCmd {
    /// Add a key.
    Add {
        number: String,
        /// Room, e.g. "Room 204".
        #[arg(long)]
        name: Option<String>,
        /// Cabinet / hook.
        #[arg(long)]
        location: Option<String>,
        #[arg(long = "type")]
        key_type: Option<String>,
    },
    /// List keys.
    List {
        /// available, issued, lost or retired.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// A key's movements, newest first.
    History { number: String },
    /// Soft-delete a key.
    Delete { number: String },
    /// Restore a deleted key.
    Restore { number: String },
    /// Report a key lost (on its hook or out), with the reason: who lost it, how, when.
    Lost {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Report a lost key found: it is back on its hook.
    Found {
        number: String,
        /// Where it was found.
        #[arg(long)]
        comment: Option<String>,
    },
    /// What losing this key opens: its areas, the other keys that open them and their
    /// holders now, and whether to re-key (with --json: areas, other_keys, recommend_rekey).
    Impact { number: String },
    /// Set the areas a key opens (admins): exactly these, by name; none clears them.
    Opens { number: String, areas: Vec<String> },
}

pub fn run(cmd: KeyCmd, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        KeyCmd::Add {
            number,
            name,
            location,
            key_type,
        } => {
            let input = KeyInput {
                number,
                name,
                location,
                key_type,
                copies_note: None,
            };
            let k = keys::create(store, actor, &input)?;
            out.done(&k, &format!("Added key {}.", k.number));
        }
        KeyCmd::List { status, list } => {
            let ListArgs {
                search,
                include_deleted,
                page,
            } = list;
            let q = KeyQuery {
                status,
                search,
                holder_person_id: None,
                overdue_at: None,
                include_deleted,
                limit: Some(page.limit),
                offset: Some(page.offset),
            };
            out.keys(&keys::list(store.conn(), &q)?);
        }
        KeyCmd::History { number } => {
            let k = keys::find(store.conn(), &number)?;
            out.log(&keylog::key_history(store.conn(), k.id, 1000, 0)?);
        }
        KeyCmd::Delete { number } => {
            let k = keys::find(store.conn(), &number)?;
            let k = keys::delete(store, actor, k.id)?;
            out.done(&k, &format!("Deleted key {} (restorable).", k.number));
        }
        KeyCmd::Restore { number } => {
            let k = keys::find(store.conn(), &number)?;
            let k = keys::restore(store, actor, k.id)?;
            out.done(&k, &format!("Restored key {}.", k.number));
        }
        KeyCmd::Lost { number, reason } => {
            let e = lost::report_lost(store, actor, &number, &reason)?;
            let who = e
                .person_name
                .as_deref()
                .map(|p| format!(" (it was out to {p})"))
                .unwrap_or_default();
            out.done(
                &e,
                &format!(
                    "Key {} reported lost{who}. See what it opens: atslegas-cli key impact {}",
                    e.key_number, e.key_number
                ),
            );
        }
        KeyCmd::Found { number, comment } => {
            let e = lost::report_found(store, actor, &number, comment.as_deref())?;
            out.done(
                &e,
                &format!("Key {} found: it is back on its hook.", e.key_number),
            );
        }
        KeyCmd::Impact { number } => out.impact(&lost::impact(store.conn(), &number)?),
        KeyCmd::Opens {
            number,
            areas: names,
        } => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let opened = areas::set_key_areas(store, actor, &number, &names)?;
            let list = areas::names(&opened);
            let sentence = if list.is_empty() {
                format!("Key {number} opens no area now.")
            } else {
                format!("Key {number} opens: {}.", list.join(", "))
            };
            out.done(&opened, &sentence);
        }
    }
    Ok(0)
}
