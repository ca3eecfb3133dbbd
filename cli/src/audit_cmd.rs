//! `atslegas-cli audit ...`: the audit trail's list and its check against the anchors.
//! Argument parsing and printing only; the work is in `atslegas_core::{audit, anchors}`.

use atslegas_core::audit::{self, AuditFilter};
use atslegas_core::backup::Locations;
use atslegas_core::config::Config;
use atslegas_core::{anchors, time, Actor, Role, Store};
use clap::Subcommand;
use std::path::PathBuf;

use crate::output::Out;
use crate::{backup_cmd, Failure, Page};

#[derive(Subcommand)]
pub enum AuditCmd {
    /// List audit rows, newest first.
    List {
        #[arg(long)]
        component: Option<String>,
        #[arg(long)]
        record_id: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        operation: Option<String>,
        /// Unix seconds or a date/time.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Recompute the audit hash chain and check it against its anchors (the tip written
    /// into each journal line, backup and export); exit 7 if a row was edited, deleted or
    /// reordered, the key log disagrees with it, or an anchor is not reached.
    ///
    /// --json adds to rows_checked, ok and problems: key_log {rows_checked, covered,
    /// not_covered}; anchor {source, file, operation, id, hash, at, at_iso} (the newest
    /// anchor reached: "verified up to"), anchors_checked; anchor_problems [{kind
    /// (rows_removed, row_differs), id (first row that disagrees), from_id, anchor,
    /// detail}]; not_checked [{file, reason (encrypted, no_anchor, before_restore,
    /// unreadable), detail}]; notes.
    Verify {
        /// A backup or export archive, or a folder (its atslegas-*.zip), to check against;
        /// without it, the backups on the remembered drives plugged in now (admins).
        #[arg(long, value_name = "ARCHIVE_OR_FOLDER")]
        against: Option<PathBuf>,
        /// Read the passphrase of encrypted backups from standard input (first line);
        /// otherwise ATSLEGAS_BACKUP_PASSPHRASE. Without one they are not checked.
        #[arg(long)]
        passphrase_stdin: bool,
    },
}

pub fn run(
    cmd: AuditCmd,
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    config: &Config,
    out: &Out,
) -> Result<u8, Failure> {
    match cmd {
        AuditCmd::List {
            component,
            record_id,
            actor: who,
            operation,
            since,
            until,
            page: Page { limit, offset },
        } => {
            let f = AuditFilter {
                component,
                record_id,
                actor: who,
                operation,
                since: since
                    .as_deref()
                    .map(|s| time::parse_local("--since", s))
                    .transpose()?,
                until: until
                    .as_deref()
                    .map(|s| time::parse_local("--until", s))
                    .transpose()?,
                limit: Some(limit),
                offset: Some(offset),
            };
            out.audit(&audit::list(store.conn(), actor, &f)?);
        }
        AuditCmd::Verify {
            against,
            passphrase_stdin,
        } => {
            let archives = match &against {
                Some(p) => anchors::archives_at(actor, p)?,
                None if actor.role >= Role::Admin => {
                    anchors::archives_on_known_drives(actor, &config.backup)?
                }
                None => Vec::new(),
            };
            let pass = backup_cmd::read_passphrase(passphrase_stdin)?;
            let r = anchors::verify(store.conn(), loc, &archives, pass.as_deref(), store.now())?;
            out.verify(&r);
            if !r.chain.ok {
                return Ok(7);
            }
        }
    }
    Ok(0)
}
