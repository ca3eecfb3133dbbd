//! `atslegas-cli backup ...`: the reference's create_backup / restore_backup, plus
//! verify, list and prune (retention). Passphrases come from standard input or the
//! `ATSLEGAS_BACKUP_PASSPHRASE` variable, never from an argument.

use std::path::PathBuf;

use atslegas_core::backup::auto;
use atslegas_core::backup::by_hand::{self, Wanted};
use atslegas_core::backup::restore::{self, Components};
use atslegas_core::backup::retention::{self, Rules};
use atslegas_core::backup::{self, AesMode, Kind};
use atslegas_core::config::{AutoMode, Config};
use atslegas_core::work::{Cancel, Locations};
use atslegas_core::{Actor, Error, Store};
use clap::Subcommand;
use serde_json::json;

use crate::output::{outln, print_json, progress_printer, Out};
use crate::secret::{self, Secret};
use crate::Failure;

/// `backup restore`'s arguments.
#[derive(clap::Args)]
pub struct RestoreArgs {
    file: PathBuf,
    /// database, config (default: both).
    #[arg(long, num_args = 1..)]
    components: Vec<String>,
    /// Show what would change; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Go on past warnings that are not damage (older backup, fewer movements, a
    /// damaged register).
    #[arg(long)]
    force: bool,
    #[arg(long)]
    pub passphrase_stdin: bool,
}

/// What a restore goes over: the open register, or one too damaged to open
/// ([`Error::RegisterDamaged`]).
pub enum Over<'a> {
    Live(&'a mut Store),
    Damaged,
}

/// The variable a scheduled job can hold the passphrase in.
pub const PASSPHRASE_ENV: &str = "ATSLEGAS_BACKUP_PASSPHRASE";

#[derive(Subcommand)]
pub enum BackupCmd {
    /// Make a verified backup into a folder or drive.
    Create {
        /// Destination folder (a USB drive, a network share, a folder).
        #[arg(long)]
        to: PathBuf,
        /// full (database and configuration), database, or config.
        #[arg(long = "type", default_value = "full")]
        kind: String,
        /// Why (shown in the history).
        #[arg(long)]
        reason: Option<String>,
        /// Encrypt (AES-256). Without a passphrase on stdin or in the environment, a
        /// recovery passphrase is generated and printed once.
        #[arg(long)]
        encrypt: bool,
        /// Use AES-128 instead of AES-256.
        #[arg(long, requires = "encrypt")]
        aes128: bool,
        /// Read the passphrase from standard input (at a terminal: typed twice, not shown).
        #[arg(long, requires = "encrypt")]
        passphrase_stdin: bool,
        /// Say what would be written and how large; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check a backup completely: checksums, passphrase, database integrity, counts.
    Verify {
        file: PathBuf,
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// List the backups in a folder, whichever machine made them.
    List { dir: PathBuf },
    /// Restore a backup into this data folder (a pinned safety backup is made first).
    ///
    /// Over a register too damaged to open, the damaged files are kept aside as they are
    /// and the backup's database takes their place (run without --as: nobody can sign in
    /// to a register that cannot be read).
    Restore(RestoreArgs),
    /// Delete old backups in a folder by the retention rules. Pinned backups, archives that
    /// do not verify against their .sha256, and the newest verified backup are never
    /// deleted. Without any --keep-* option the rules in config.json apply; with some,
    /// the ones not given are 0.
    Prune {
        dir: PathBuf,
        /// Keep the N newest backups.
        #[arg(long, value_name = "N")]
        keep_last: Option<u32>,
        /// Keep the newest backup of each of the last N days that have one.
        #[arg(long, value_name = "N")]
        keep_daily: Option<u32>,
        /// Keep the newest backup of each of the last N weeks that have one.
        #[arg(long, value_name = "N")]
        keep_weekly: Option<u32>,
        /// Keep the newest backup of each of the last N months that have one.
        #[arg(long, value_name = "N")]
        keep_monthly: Option<u32>,
        /// Show what would be kept and deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Make the automatic backup if it is due: to the most recently used backup drive or
    /// folder when it is present, only if something changed since the last verified
    /// backup, then prune it by the rules in config.json. For a scheduled job.
    Auto {
        /// daily (at most one a day) or exit (the rules of "at exit").
        #[arg(long, default_value = "daily")]
        trigger: String,
    },
    /// Set automatic backups: off, at_exit or daily. Encrypted unless --no-encrypt, with
    /// the passphrase from standard input or the environment, or a generated one printed
    /// once; it is kept on this computer only, beside the database.
    AutoSet {
        #[arg(long)]
        mode: String,
        #[arg(long)]
        no_encrypt: bool,
        #[arg(long, conflicts_with = "no_encrypt")]
        passphrase_stdin: bool,
    },
}

/// The passphrase of `--passphrase-stdin` ([`secret::read`]: at a terminal typed without
/// echo, and twice when it is `New`), else `$ATSLEGAS_BACKUP_PASSPHRASE`, else none.
pub(crate) fn read_passphrase(stdin: bool, kind: Secret) -> Result<Option<String>, Failure> {
    if stdin {
        let p = secret::read("Backup passphrase", "passphrase", kind)?;
        return Ok(Some(p.unwrap_or_default()));
    }
    Ok(std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()))
}

pub fn run(
    cmd: BackupCmd,
    store: &mut Store,
    actor: &Actor,
    loc: &Locations,
    config: &Config,
    out: &Out,
) -> Result<u8, Failure> {
    let cancel = Cancel::new();
    match cmd {
        BackupCmd::Create {
            to,
            kind,
            reason,
            encrypt,
            aes128,
            passphrase_stdin,
            dry_run,
        } => {
            let wanted = Wanted {
                destination: to,
                kind: Kind::parse(&kind)?,
                reason,
                encrypt,
                passphrase: if encrypt {
                    read_passphrase(passphrase_stdin, Secret::New)?
                } else {
                    None
                },
                aes: if aes128 {
                    AesMode::Aes128
                } else {
                    AesMode::Aes256
                },
                dry_run,
            };
            let done = by_hand::backup_now(
                store,
                actor,
                loc,
                config,
                wanted,
                &mut progress_printer(),
                &cancel,
            )?;
            let r = &done.report;
            if out.json {
                let mut v = serde_json::to_value(r).expect("report serialises");
                if let Some(p) = &done.recovery_passphrase {
                    v["recovery_passphrase"] = json!(p);
                }
                if let Some(p) = &done.pruned {
                    v["pruned"] = json!(p.deleted);
                }
                if let Some(e) = &done.prune_error {
                    v["prune_error"] = json!(e.message());
                }
                print_json(&v);
            } else if r.dry_run {
                outln!(
                    "Would write {} (about {} bytes, {}), {}.",
                    r.file.display(),
                    r.estimated_size,
                    r.manifest.kind,
                    if r.encrypted {
                        "encrypted"
                    } else {
                        "not encrypted"
                    }
                );
            } else {
                outln!("Backup written and verified: {}", r.file.display());
                outln!("  size {} bytes, SHA-256 {}", r.size, r.sha256);
                if let Some(p) = &done.recovery_passphrase {
                    outln!("  RECOVERY PASSPHRASE (shown once; print it and keep it apart from the drive):");
                    outln!("  {p}");
                }
                match (&done.pruned, &done.prune_error) {
                    (Some(p), _) if !p.deleted.is_empty() => outln!(
                        "  Deleted {} older backups there, by the retention rules.",
                        p.deleted.len()
                    ),
                    (_, Some(e)) => outln!(
                        "  The retention rules could not be applied there: {}",
                        e.message()
                    ),
                    _ => {}
                }
                outln!("  Eject the drive before unplugging it: USB sticks may still be writing.");
            }
        }
        BackupCmd::Verify {
            file,
            passphrase_stdin,
        } => {
            let p = read_passphrase(passphrase_stdin, Secret::Existing)?;
            let m = backup::verify(loc, &file, p.as_deref(), store.now(), actor)?;
            out.done(
                &m,
                &format!(
                    "{} is intact: made {} on {} ({}), schema {}, {} key movements.",
                    file.display(),
                    m.created_at_iso,
                    m.source_machine,
                    m.kind,
                    m.schema_version,
                    m.counts.get("key_log").copied().unwrap_or(0)
                ),
            );
        }
        BackupCmd::List { dir } => {
            let found = backup::list(actor, &dir)?;
            if out.json {
                print_json(&found);
            } else if found.is_empty() {
                outln!("No Atslegas backups in {}.", dir.display());
            } else {
                for f in found {
                    match (&f.manifest, &f.problem) {
                        (Some(m), _) => outln!(
                            "{}  {}  {}  {} bytes{}{}{}",
                            f.file.file_name().unwrap_or_default().to_string_lossy(),
                            m.created_at_iso,
                            m.kind,
                            f.size,
                            if f.encrypted { "  encrypted" } else { "" },
                            if f.verified_sidecar {
                                "  verified"
                            } else {
                                "  NOT VERIFIED"
                            },
                            if f.pinned { "  pinned" } else { "" },
                        ),
                        (None, Some(p)) => outln!(
                            "{}  UNREADABLE: {p}",
                            f.file.file_name().unwrap_or_default().to_string_lossy()
                        ),
                        // Encrypted: its manifest is sealed with the rest.
                        (None, None) => outln!(
                            "{}  {}  {}  {} bytes  encrypted (verify it with the passphrase to see inside){}{}",
                            f.file.file_name().unwrap_or_default().to_string_lossy(),
                            atslegas_core::time::iso_utc(f.created_at),
                            f.kind.as_deref().unwrap_or("?"),
                            f.size,
                            if f.verified_sidecar {
                                "  verified"
                            } else {
                                "  NOT VERIFIED"
                            },
                            if f.pinned { "  pinned" } else { "" },
                        ),
                    }
                }
            }
        }
        BackupCmd::Restore(args) => restore_cmd(args, Over::Live(store), actor, loc, out)?,
        BackupCmd::Prune {
            dir,
            keep_last,
            keep_daily,
            keep_weekly,
            keep_monthly,
            dry_run,
        } => {
            let given = [keep_last, keep_daily, keep_weekly, keep_monthly];
            let rules = if given.iter().all(Option::is_none) {
                Rules::from_config(&config.backup)
            } else {
                Rules {
                    keep_last: keep_last.unwrap_or(0),
                    keep_daily: keep_daily.unwrap_or(0),
                    keep_weekly: keep_weekly.unwrap_or(0),
                    keep_monthly: keep_monthly.unwrap_or(0),
                }
            };
            let r = retention::prune(store, actor, loc, &dir, rules, dry_run, None)?;
            print_prune(&r, out);
            prune_failures(&r)?;
        }
        BackupCmd::Auto { trigger } => {
            let trigger = match trigger.as_str() {
                "daily" => auto::Trigger::Daily,
                "exit" => auto::Trigger::Exit,
                other => {
                    return Err(crate::usage(format!(
                        "\"{other}\" is not a trigger of automatic backups; use daily or exit"
                    )))
                }
            };
            let outcome = auto::run(
                store,
                loc,
                config,
                trigger,
                &mut progress_printer(),
                &cancel,
            )?;
            if out.json {
                print_json(&outcome);
            }
            match &outcome {
                auto::Outcome::Skipped { reason } if !out.json => {
                    outln!("No automatic backup: {}.", skip_text(*reason));
                }
                auto::Outcome::Done {
                    report,
                    pruned,
                    prune_error,
                } => {
                    if !out.json {
                        outln!(
                            "Automatic backup written and verified: {}",
                            report.file.display()
                        );
                        if let Some(r) = pruned {
                            print_prune(r, out);
                        }
                    }
                    if let Some(e) = prune_error {
                        return Err(Failure {
                            message: format!("the backup is done and verified, but old backups could not be pruned: {e}"),
                            code: 1,
                        });
                    }
                    if let Some(r) = pruned {
                        prune_failures(r)?;
                    }
                }
                _ => {}
            }
        }
        BackupCmd::AutoSet {
            mode,
            no_encrypt,
            passphrase_stdin,
        } => {
            let mode = AutoMode::parse(&mode)?;
            let chosen = if no_encrypt {
                None
            } else {
                read_passphrase(passphrase_stdin, Secret::New)?
            };
            let (next, generated) = auto::configure(
                store,
                actor,
                loc,
                config,
                mode,
                !no_encrypt,
                chosen.as_deref(),
            )?;
            let s = auto::settings(actor, &next, loc)?;
            if out.json {
                let mut v = serde_json::to_value(&s).expect("settings serialise");
                if let Some(p) = &generated {
                    v["recovery_passphrase"] = json!(p);
                }
                print_json(&v);
            } else {
                outln!(
                    "Automatic backups: {}{}.",
                    match mode {
                        AutoMode::Off => "off",
                        AutoMode::AtExit => "when the app is closed",
                        AutoMode::Daily => "daily",
                    },
                    if mode == AutoMode::Off {
                        ""
                    } else if s.encrypt {
                        ", encrypted"
                    } else {
                        ", NOT encrypted"
                    }
                );
                if let Some(p) = generated {
                    outln!("  RECOVERY PASSPHRASE of automatic backups (shown once; print it and keep it apart from the drive):");
                    outln!("  {p}");
                }
            }
        }
    }
    Ok(0)
}

/// What the CLI says of a skipped automatic backup.
fn skip_text(r: auto::SkipReason) -> &'static str {
    match r {
        auto::SkipReason::NotThisTime => "automatic backups are not set for this (see backup auto-set)",
        auto::SkipReason::Recent => "the last verified backup is less than a day old",
        auto::SkipReason::Unchanged => "nothing changed since the last verified backup",
        auto::SkipReason::NoDestination => "no backup has been made to a drive or folder from the window yet, so there is nowhere to go",
        auto::SkipReason::DestinationAbsent => "the backup drive or folder is not present (plug it in)",
    }
}

/// Old backups that could not be deleted fail the command, after the others were.
fn prune_failures(r: &retention::PruneReport) -> Result<(), Failure> {
    if r.failed.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = r
        .failed
        .iter()
        .map(|f| f.error.trim_end_matches('.').to_string())
        .collect();
    Err(Failure {
        message: format!(
            "{} of {} old backups could not be deleted ({}); the others were deleted and recorded. Check the drive is writable and run prune again.",
            r.failed.len(),
            r.failed.len() + r.deleted.len(),
            list.join("; ")
        ),
        code: 1,
    })
}

fn print_prune(r: &retention::PruneReport, out: &Out) {
    if out.json {
        print_json(r);
        return;
    }
    let name = |d: &retention::Decided| {
        d.backup
            .file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let rules = r.plan.rules;
    outln!(
        "{} {}: keep last {}, daily {}, weekly {}, monthly {}.",
        if r.dry_run { "Would prune" } else { "Pruned" },
        r.plan.folder.display(),
        rules.keep_last,
        rules.keep_daily,
        rules.keep_weekly,
        rules.keep_monthly
    );
    for d in &r.plan.keep {
        let why: Vec<String> = d
            .kept_because
            .iter()
            .map(|x| {
                serde_json::to_value(x)
                    .expect("json")
                    .as_str()
                    .unwrap_or("")
                    .replace('_', " ")
            })
            .collect();
        outln!("  {:<7}  {}  ({})", "keep", name(d), why.join(", "));
    }
    for d in &r.plan.delete {
        let gone = r.deleted.contains(&d.backup.file);
        let verb = if r.dry_run {
            "delete"
        } else if gone {
            "deleted"
        } else {
            "FAILED"
        };
        outln!("  {verb:<7}  {}", name(d));
    }
    for d in &r.plan.left_alone {
        outln!(
            "  left alone (not verified, not counted)  {}: {}",
            name(d),
            d.backup.problem.as_deref().unwrap_or("")
        );
    }
    if r.plan.delete.is_empty() {
        outln!("Nothing to delete.");
    }
}

/// `backup restore`: over the open register, or over one too damaged to open.
pub fn restore_cmd(
    args: RestoreArgs,
    over: Over<'_>,
    actor: &Actor,
    loc: &Locations,
    out: &Out,
) -> Result<(), Failure> {
    let RestoreArgs {
        file,
        components,
        dry_run,
        force,
        passphrase_stdin,
    } = args;
    let cancel = Cancel::new();
    let comps = if components.is_empty() {
        Components::default()
    } else {
        let mut c = Components {
            database: false,
            config: false,
        };
        for name in &components {
            match name.as_str() {
                "database" => c.database = true,
                "config" => c.config = true,
                other => {
                    return Err(Error::invalid(
                        "--components",
                        format!("\"{other}\" is not a component; use database and/or config"),
                    )
                    .into())
                }
            }
        }
        c
    };
    let p = read_passphrase(passphrase_stdin, Secret::Existing)?;
    let now = atslegas_core::store::system_clock()();
    let choice = restore::Choice {
        file: &file,
        passphrase: p.as_deref(),
        components: comps,
        force,
    };
    let (progress, p) = (&mut progress_printer(), choice.passphrase);
    let preview = match (over, dry_run) {
        (Over::Live(store), true) => {
            restore::preview(store, actor, loc, &file, p, progress, &cancel)?
        }
        (Over::Live(store), false) => {
            restore::restore(store, actor, loc, choice, progress, &cancel)?
        }
        (Over::Damaged, true) => {
            restore::preview_over_damaged(loc, actor, now, &file, p, progress, &cancel)?
        }
        (Over::Damaged, false) => {
            restore::restore_over_damaged(loc, actor, now, choice, progress, &cancel)?
        }
    };
    if out.json {
        print_json(&preview);
    } else {
        outln!(
            "{} {} (made {}).",
            if preview.applied {
                "Restored"
            } else {
                "Would restore"
            },
            file.display(),
            preview.manifest.created_at_iso
        );
        outln!("  {:<14} {:>10} {:>10}", "table", "now", "backup");
        for (t, n) in &preview.counts_backup {
            outln!(
                "  {:<14} {:>10} {:>10}",
                t,
                preview.counts_now.get(t).copied().unwrap_or(0),
                n
            );
        }
        for w in &preview.warnings {
            outln!("  warning: {w}");
        }
        match (&preview.safety_backup, &preview.safety_backup_damaged) {
            // What the checks found is in `--json` (`safety_backup_damaged`).
            (Some(s), Some(_)) => outln!(
                "  The database it replaced was damaged (it failed SQLite's checks); it is kept as it was in {}.",
                s.display()
            ),
            (Some(s), None) => {
                outln!("  The database as it was is kept in {}.", s.display())
            }
            _ => {}
        }
    }
    Ok(())
}
