//! `atslegas-cli person ...`: key holders, and how a command line names one (person code,
//! badge or `#ID`). Argument parsing and printing only; the work is in
//! `atslegas_core::persons`.

use atslegas_core::keylog::PersonRef;
use atslegas_core::persons::{self, PersonInput, PersonQuery};
use atslegas_core::{Actor, Error, Store};
use clap::{Args, Subcommand};

use crate::output::Out;
use crate::{Failure, ListArgs};

#[derive(Subcommand)]
pub enum PersonCmd {
    /// Add a person.
    Add(PersonFields),
    /// List persons (diacritics-insensitive search: "berzins" finds "Bērziņš").
    List(ListArgs),
    /// Soft-delete a person (by person code or badge).
    Delete { person: String },
    /// Restore a deleted person.
    Restore { person: String },
    /// What a leaving person holds (keys and sets, with due dates); with --finish,
    /// deactivate them and make the clearance receipt (refused, exit 5, while anything is
    /// held, unless an admin gives --override-reason).
    Offboard {
        /// Person code or badge code (or #ID).
        person: String,
        #[arg(long)]
        finish: bool,
        /// Admins: finish although keys are still held, for this reason.
        #[arg(long, requires = "finish")]
        override_reason: Option<String>,
    },
}

#[derive(Args)]
pub struct PersonFields {
    #[arg(long)]
    name: String,
    /// Person code / employee number.
    #[arg(long)]
    code: Option<String>,
    #[arg(long)]
    department: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Badge / card code.
    #[arg(long)]
    badge: Option<String>,
    #[arg(long)]
    notes: Option<String>,
}

/// A person as a command line names them: `#ID`, else a person code or badge code.
pub fn person_ref(arg: &str) -> PersonRef {
    match arg.strip_prefix('#').and_then(|n| n.parse().ok()) {
        Some(id) => PersonRef::Id(id),
        None => PersonRef::Code(arg.to_string()),
    }
}

pub fn find_person(
    conn: &atslegas_core::db::Connection,
    arg: &str,
) -> Result<persons::Person, Error> {
    match person_ref(arg) {
        PersonRef::Id(id) => persons::get(conn, id),
        PersonRef::Code(c) => persons::find_by_code(conn, &c),
    }
}

pub fn run(cmd: PersonCmd, store: &mut Store, actor: &Actor, out: &Out) -> Result<u8, Failure> {
    match cmd {
        PersonCmd::Add(f) => {
            let PersonFields {
                name,
                code,
                department,
                phone,
                email,
                badge,
                notes,
            } = f;
            let input = PersonInput {
                full_name: name,
                code,
                department,
                phone,
                email,
                badge,
                notes,
                active: true,
            };
            let p = persons::create(store, actor, &input)?;
            out.done(&p, &format!("Added {} (id {}).", p.label(), p.id));
        }
        PersonCmd::List(ListArgs {
            search,
            include_deleted,
            page,
        }) => {
            let q = PersonQuery {
                search,
                include_deleted,
                limit: Some(page.limit),
                offset: Some(page.offset),
            };
            out.persons(&persons::list(store.conn(), &q)?);
        }
        PersonCmd::Delete { person } => {
            let p = find_person(store.conn(), &person)?;
            let p = persons::delete(store, actor, p.id)?;
            out.done(&p, &format!("Deleted {} (restorable).", p.label()));
        }
        PersonCmd::Restore { person } => {
            let p = find_person(store.conn(), &person)?;
            let p = persons::restore(store, actor, p.id)?;
            out.done(&p, &format!("Restored {}.", p.label()));
        }
        PersonCmd::Offboard {
            person,
            finish,
            override_reason,
        } => {
            let who = person_ref(&person);
            if finish {
                let c = atslegas_core::offboard::finish(
                    store,
                    actor,
                    &who,
                    override_reason.as_deref(),
                )?;
                out.clearance(&c);
            } else {
                out.offboarding(&atslegas_core::offboard::status(store.conn(), &who)?);
            }
        }
    }
    Ok(0)
}
