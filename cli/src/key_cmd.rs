//! `atslegas-cli key ...`: physical keys and each key's movements. Argument parsing and
//! printing only; the work is in `atslegas_core::{keys, keylog}`.

use atslegas_core::keys::{self, KeyInput, KeyQuery};
use atslegas_core::{keylog, Actor, Store};
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
    }
    Ok(0)
}
