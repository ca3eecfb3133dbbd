//! `atslegas-cli audit ...`: the audit trail's list and its check against the anchors,
//! and the audit filter the list and `export audit` share. Argument parsing and printing
//! only; the work is in `atslegas_core::{audit, anchors}`.

use atslegas_core::audit::{self, AuditFilter};
use atslegas_core::config::Config;
use atslegas_core::work::Locations;
use atslegas_core::{anchors, time, Actor, Error, Role, Store};
use clap::{Args, Subcommand};
use std::path::PathBuf;

use crate::output::Out;
use crate::secret::Secret;
use crate::{backup_cmd, Failure, Page};

#[derive(Subcommand)]
pub enum AuditCmd {
    /// List audit rows, newest first.
    List {
        #[command(flatten)]
        filter: AuditFilterArgs,
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
        /// Read the passphrase of encrypted backups from standard input (first line; at a
        /// terminal typed unseen);
        /// otherwise ATSLEGAS_BACKUP_PASSPHRASE. Without one they are not checked.
        #[arg(long)]
        passphrase_stdin: bool,
    },
}

/// Which audit rows: the filters of `audit list` and `export audit`, parsed in one place.
#[derive(Args)]
pub struct AuditFilterArgs {
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
}

impl AuditFilterArgs {
    /// The core's filter for these arguments and a page (`None`: every matching row).
    pub fn filter(self, limit: Option<u32>, offset: Option<u32>) -> Result<AuditFilter, Error> {
        let AuditFilterArgs {
            component,
            record_id,
            actor,
            operation,
            since,
            until,
        } = self;
        let when = |flag: &str, s: Option<String>| {
            s.as_deref().map(|s| time::parse_local(flag, s)).transpose()
        };
        Ok(AuditFilter {
            component,
            record_id,
            actor,
            operation,
            since: when("--since", since)?,
            until: when("--until", until)?,
            limit,
            offset,
        })
    }
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
        AuditCmd::List { filter, page } => {
            let f = filter.filter(Some(page.limit), Some(page.offset))?;
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
            let pass = backup_cmd::read_passphrase(passphrase_stdin, Secret::Existing)?;
            let r = anchors::verify(store.conn(), loc, &archives, pass.as_deref(), store.now())?;
            out.verify(&r);
            if !r.chain.ok {
                return Ok(7);
            }
        }
    }
    Ok(0)
}
