//! `atslegas-cli area ...`: the areas (doors, rooms) keys open. Argument parsing and
//! printing only; the work is in `atslegas_core::areas`.

use atslegas_core::{areas, Actor, Store};
use clap::Subcommand;

use crate::output::Out;
use crate::Failure;

#[derive(Subcommand)]
pub enum AreaCmd {
    /// Add an area (admins).
    Add {
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List areas, with how many keys open each.
    List {
        #[arg(long)]
        include_deleted: bool,
    },
    /// Rename an area or change its description (admins).
    Edit {
        area: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete an area (admins; soft): no key opens it any more.
    Delete { area: String },
}

pub fn run(cmd: AreaCmd, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        AreaCmd::Add { name, description } => {
            let a = areas::create(store, actor, &name, description.as_deref())?;
            out.done(
                &a,
                &format!(
                    "Added area {}. Say which keys open it: atslegas-cli key opens KEY \"{}\"",
                    a.name, a.name
                ),
            );
        }
        AreaCmd::List { include_deleted } => {
            out.areas(&areas::list(store.conn(), include_deleted)?)
        }
        AreaCmd::Edit {
            area,
            name,
            description,
        } => {
            let now = areas::find(store.conn(), &area)?;
            let name = name.unwrap_or_else(|| now.name.clone());
            let description = description.or(now.description);
            let a = areas::update(store, actor, &area, &name, description.as_deref())?;
            out.done(&a, &format!("Saved area {}.", a.name));
        }
        AreaCmd::Delete { area } => {
            let a = areas::delete(store, actor, &area)?;
            out.done(&a, &format!("Deleted area {}.", a.name));
        }
    }
    Ok(0)
}
