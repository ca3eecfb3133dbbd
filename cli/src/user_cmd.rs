//! `atslegas-cli user ...`: the app's users, their roles and passwords (admins; a user may
//! set their own password). Passwords come from standard input (typed twice, unseen, at a
//! terminal), never from an argument.
//! Argument parsing and printing only; the work is in `atslegas_core::users`.

use atslegas_core::session::Sessions;
use atslegas_core::{users, Actor, Role, Store};
use clap::Subcommand;

use crate::output::Out;
use crate::secret::{self, Secret};
use crate::{usage, Failure};

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add a user; the password is read from standard input (--password-stdin) or, at a
    /// terminal, typed twice and not shown.
    Add {
        name: String,
        #[arg(long)]
        role: String,
        /// Read the password from standard input (at a terminal: typed twice, not shown).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Set a user's password (from standard input with --password-stdin, or typed twice at
    /// a terminal). All of that user's sessions end.
    /// Your own (with --as you): the --as password, from ATSLEGAS_PASSWORD, is the
    /// current one.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's role or activate / deactivate them.
    Set {
        name: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long, conflicts_with = "deactivate")]
        activate: bool,
        #[arg(long)]
        deactivate: bool,
    },
}

/// A new password ([`secret::read`]: typed twice at a terminal, else the first line of
/// standard input). From a pipe only with `flag` (a script that forgot it gets a usage
/// error rather than a wait for input); at a terminal it is asked for either way. It is
/// never an argument. `whose` names the account in the prompt.
pub fn read_new_password(flag_given: bool, flag: &str, whose: &str) -> Result<String, Failure> {
    if !flag_given && !secret::at_terminal() {
        return Err(usage(format!(
            "give the password on standard input with {flag} (never as an argument, where other users could see it)"
        )));
    }
    let label = format!("New password of {whose}");
    Ok(secret::read(&label, "password", Secret::New)?.unwrap_or_default())
}

/// `as_password`: the password `--as` signed in with, the current one when a user sets
/// their own.
pub fn run(
    cmd: UserCmd,
    store: &mut Store,
    sessions: &Sessions,
    actor: &Actor,
    as_password: Option<&str>,
    out: &Out,
) -> Result<u8, Failure> {
    match cmd {
        UserCmd::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = Role::parse(&role)?;
            let pw = read_new_password(password_stdin, "--password-stdin", &name)?;
            let u = users::add(store, actor, &name, role, Some(&pw))?;
            out.done(
                &u,
                &format!("Added user {} ({}).", u.username, u.role.as_str()),
            );
        }
        UserCmd::List => out.users(&users::list(store.conn(), actor)?),
        UserCmd::Passwd {
            name,
            password_stdin,
        } => {
            let pw = read_new_password(password_stdin, "--password-stdin", &name)?;
            let own =
                users::find(store.conn(), &name)?.is_some_and(|u| actor.user_id == Some(u.id));
            match as_password {
                // The CLI has no session to keep: all of the user's sessions end.
                Some(current) if own => {
                    users::change_own_password(store, sessions, actor, None, current, &pw)?
                }
                _ => users::set_password(store, sessions, actor, &name, &pw)?,
            }
            out.done(
                &serde_json::json!({"username": name}),
                &format!("Password of {name} set."),
            );
        }
        UserCmd::Set {
            name,
            role,
            activate,
            deactivate,
        } => {
            let role = role.as_deref().map(Role::parse).transpose()?;
            let active = if activate {
                Some(true)
            } else if deactivate {
                Some(false)
            } else {
                None
            };
            let u = users::update(store, actor, &name, role, active)?;
            out.done(
                &u,
                &format!(
                    "User {} is now {}{}.",
                    u.username,
                    u.role.as_str(),
                    if u.active { "" } else { " (deactivated)" }
                ),
            );
        }
    }
    Ok(0)
}
