//! `atslegas-cli group ...`: access groups, their members and the keys they may receive.
//! Argument parsing and printing only; the work is in `atslegas_core::groups`.

use atslegas_core::{groups, Actor, Store};
use clap::Subcommand;

use crate::output::Out;
use crate::Failure;

#[derive(Subcommand)]
pub enum GroupCmd {
    /// Create a group.
    Add {
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Let the group's members receive these keys.
    Allow {
        group: String,
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Take keys away from the group.
    Disallow {
        group: String,
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Add persons (person code or badge) to the group.
    Member {
        group: String,
        #[arg(required = true)]
        persons: Vec<String>,
    },
    /// List groups.
    List,
}

pub fn run(cmd: GroupCmd, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        GroupCmd::Add { name, description } => {
            let g = groups::create(store, actor, &name, description.as_deref())?;
            out.done(&g, &format!("Added group {}.", g.name));
        }
        GroupCmd::Allow { group, keys } => {
            let g = groups::allow_keys(store, actor, &group, &keys)?;
            out.done(
                &g,
                &format!("Group {} may receive {} key(s).", g.name, g.key_count),
            );
        }
        GroupCmd::Disallow { group, keys } => {
            let g = groups::disallow_keys(store, actor, &group, &keys)?;
            out.done(
                &g,
                &format!("Group {} may receive {} key(s).", g.name, g.key_count),
            );
        }
        GroupCmd::Member { group, persons } => {
            let g = groups::add_members(store, actor, &group, &persons)?;
            out.done(
                &g,
                &format!("Group {} has {} member(s).", g.name, g.member_count),
            );
        }
        GroupCmd::List => out.groups(&groups::list(store.conn())?),
    }
    Ok(0)
}
