//! `atslegas-cli set ...`: key sets (rings), handed over as one by `issue` and `return`.
//! Argument parsing and printing only; the work is in `atslegas_core::sets`.

use atslegas_core::sets::{self, SetInput};
use atslegas_core::{Actor, Store};
use clap::Subcommand;

use crate::output::Out;
use crate::Failure;

#[derive(Subcommand)]
pub enum SetCmd {
    /// Create a set of keys (admins).
    Add {
        name: String,
        /// Key numbers: 101,102,103.
        #[arg(long, value_delimiter = ',', required = true)]
        keys: Vec<String>,
        /// The code on the ring (a barcode the Desk can scan).
        #[arg(long)]
        tag: Option<String>,
    },
    /// List the sets with their keys.
    List {
        /// Deleted sets too.
        #[arg(long)]
        deleted: bool,
    },
    /// Change a set's name, tag or keys (admins); SET is its tag or name.
    Edit {
        set: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, conflicts_with = "no_tag")]
        tag: Option<String>,
        /// Take the tag away.
        #[arg(long)]
        no_tag: bool,
        /// The set's keys from now on: 101,102,103.
        #[arg(long, value_delimiter = ',')]
        keys: Option<Vec<String>>,
    },
    /// Delete a set (admins; receipts keep naming it). Its keys stay as they are.
    Delete { set: String },
}

pub fn run(cmd: SetCmd, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        SetCmd::Add { name, keys, tag } => {
            let s = sets::create(store, actor, &SetInput { name, tag, keys })?;
            out.done(
                &s,
                &format!("Added set {} with keys {}.", s.name, s.numbers().join(", ")),
            );
        }
        SetCmd::List { deleted } => out.sets(&sets::list(store.conn(), deleted)?),
        SetCmd::Edit {
            set,
            name,
            tag,
            no_tag,
            keys,
        } => {
            let now = sets::find_required(store.conn(), &set)?;
            let input = SetInput {
                name: name.unwrap_or_else(|| now.name.clone()),
                tag: if no_tag {
                    None
                } else {
                    tag.or(now.tag.clone())
                },
                keys: keys.unwrap_or_else(|| now.numbers()),
            };
            let s = sets::update(store, actor, &set, &input)?;
            out.done(
                &s,
                &format!("Set {} has keys {}.", s.name, s.numbers().join(", ")),
            );
        }
        SetCmd::Delete { set } => {
            let s = sets::delete(store, actor, &set)?;
            out.done(&s, &format!("Deleted set {}.", s.name));
        }
    }
    Ok(0)
}
