//! atslegas-cli: the Atslegas core without a window, for scripts, cron and headless
//! machines. Parses arguments, calls the core, prints text or `--json`. Holds no business
//! logic: anything a user can do here is a core function the app calls too.
//!
//! `clap` (derive) parses the arguments: it gives `--help`, typo suggestions and usage
//! errors for free. This file holds the top level (global options, `--as` sign-in,
//! exit codes) and dispatches; each noun's subcommands and their handling are in its own
//! `*_cmd` module.

mod area_cmd;
mod audit_cmd;
mod backup_cmd;
mod control_out;
mod export_cmd;
mod group_cmd;
mod key_cmd;
mod keylog_cmd;
mod output;
mod person_cmd;
mod receipt_cmd;
mod register_cmd;
mod secret;
mod set_cmd;
mod stocktake_cmd;
mod user_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use atslegas_core::config::{Config, Paths};
use atslegas_core::session::Sessions;
use atslegas_core::store::Security;
use atslegas_core::{users, Actor, Error, Store};
use clap::{Args, Parser, Subcommand};

use output::Out;
use secret::Secret;

const EXIT_CODES: &str =
    "Exit codes: 0 done; 1 unexpected failure (disk, database); 2 wrong arguments; \
3 bad input, configuration or a damaged backup; 4 not allowed or not signed in; 5 refused by a rule \
(key already out, not out, no rights, ...); 6 wrong or missing backup passphrase; 7 `audit verify` found tampering.";

#[derive(Parser)]
#[command(name = "atslegas-cli", version = atslegas_core::db::APP_VERSION, about = "Atslegas without a window: keys, persons, users, key log and audit trail.", after_help = EXIT_CODES)]
struct Cli {
    /// Data directory (holds config.json and the database). Default: $ATSLEGAS_DATA_DIR,
    /// else config.json beside this program (portable), else the OS folders.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Act as this Atslegas user (recorded in the logs; their role applies). This signs
    /// USER in: their password is read from $ATSLEGAS_PASSWORD, else typed at a prompt
    /// (not shown) at a terminal, else as one line from standard input; from a pipe, a
    /// command that reads standard input itself (--password-stdin, --passphrase-stdin,
    /// --root-password-stdin) needs ATSLEGAS_PASSWORD. Every use is
    /// audited, wrong passwords count toward the account's lock-out, and any failure exits
    /// with 4. Default: the operating-system account, recorded as cli:NAME, with admin
    /// rights.
    #[arg(long = "as", global = true, value_name = "USER")]
    as_user: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// First-run setup: create the root user. The password is read from standard input
    /// (--root-password-stdin) or, at a terminal, typed twice and not shown.
    Init(register_cmd::InitArgs),
    /// Users of the app (admins only).
    #[command(subcommand)]
    User(user_cmd::UserCmd),
    /// Key holders.
    #[command(subcommand)]
    Person(person_cmd::PersonCmd),
    /// Access groups: members and the keys they may receive.
    #[command(subcommand)]
    Group(group_cmd::GroupCmd),
    /// Physical keys: add, list, lost and found, what a key opens and the impact of losing it.
    #[command(subcommand)]
    Key(key_cmd::KeyCmd),
    /// Areas (doors, rooms) that keys open.
    #[command(subcommand)]
    Area(area_cmd::AreaCmd),
    /// Count the key cabinet: start, scan each key on its hook, finish.
    #[command(subcommand)]
    Stocktake(stocktake_cmd::StocktakeCmd),
    // issue, return, keylog and calendar: top-level commands, in the help where they were.
    #[command(flatten)]
    KeyLog(keylog_cmd::KeyLogCmd),
    /// Key sets (rings): keys issued and returned as one.
    #[command(subcommand)]
    Set(set_cmd::SetCmd),
    /// Receipts of handovers: show one, or save it as PDF.
    #[command(subcommand)]
    Receipt(receipt_cmd::ReceiptCmd),
    /// The audit trail.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCmd),
    /// Where the data is, schema version and counts.
    Status,
    /// Verified backups, restore, verify, list, prune.
    #[command(subcommand)]
    Backup(backup_cmd::BackupCmd),
    /// Export everything (ZIP of CSVs), the key log (CSV, XLSX) or the audit trail.
    #[command(subcommand)]
    Export(export_cmd::ExportCmd),
    /// Import persons, keys, groups or users (all or nothing), or an "Export all" ZIP.
    #[command(subcommand)]
    Import(export_cmd::ImportCmd),
    /// Fill an EMPTY register with realistic demo data (admins): persons, keys, groups and
    /// years of key movements ending now. The defaults are the benchmark's reference data
    /// set (SPEC §8).
    Demo(register_cmd::DemoArgs),
    /// Measure the core on a demo database (see `demo`) against SPEC §8's targets. It
    /// issues and returns keys, so it refuses a database not made by `demo`.
    Bench(register_cmd::BenchArgs),
}

/// A page of a list: `--limit` rows from `--offset` (person, key and audit lists).
#[derive(Args)]
pub(crate) struct Page {
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
}

/// What the person and key lists both take: a search, deleted records too, and a page.
#[derive(Args)]
pub(crate) struct ListArgs {
    #[arg(long)]
    pub search: Option<String>,
    #[arg(long)]
    pub include_deleted: bool,
    #[command(flatten)]
    pub page: Page,
}

/// A failure with the exit code it maps to.
pub(crate) struct Failure {
    message: String,
    code: u8,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match e.code() {
            "invalid_input" | "config_invalid" | "weak_password" | "not_found" | "duplicate"
            | "newer_schema" | "not_set_up" | "already_set_up" | "not_deleted" => 3,
            "corrupt_archive" | "newer_backup" => 3,
            "wrong_passphrase" | "passphrase_required" => 6,
            "not_allowed"
            | "invalid_credentials"
            | "current_password_wrong"
            | "session_expired"
            | "session_invalid" => 4,
            "key_already_issued" | "key_not_issued" | "key_not_available" | "person_not_active"
            | "no_rights" | "key_is_out" | "person_holds_keys" | "signature_required"
            | "key_not_losable" | "key_not_lost" => 5,
            _ => 1,
        };
        Failure {
            message: e.message(),
            code,
        }
    }
}

pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 2,
    }
}

/// Parses the arguments. `--help` and `--version` print as clap writes them; any other
/// argument error becomes the one-line reason every error gets.
fn parse_args() -> Result<Cli, Failure> {
    Cli::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        if matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        ) {
            let _ = e.print();
            std::process::exit(
                if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                },
            );
        }
        let text = e.render().to_string();
        let line = text
            .lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
            })
            .collect::<Vec<_>>()
            .join(" ");
        usage(format!(
            "{} (see --help)",
            line.trim_start_matches("error: ")
        ))
    })
}

fn main() -> ExitCode {
    let cli = match parse_args() {
        Ok(c) => c,
        Err(f) => {
            eprintln!("atslegas-cli: {}", f.message);
            return ExitCode::from(f.code);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("atslegas-cli: {}", f.message);
            f.code
        }
    };
    // The work is done either way; output that could not be written is still a failure
    // (a reader that closed the pipe early is not: see `output::outln!`).
    match output::output_failure() {
        Some(why) if code == 0 => {
            eprintln!("atslegas-cli: {why}");
            ExitCode::from(1)
        }
        _ => ExitCode::from(code),
    }
}

/// The variable `--as USER` takes USER's password from.
const PASSWORD_ENV: &str = "ATSLEGAS_PASSWORD";

/// The flag by which `command` reads its own data from standard input, if it does: then
/// the `--as` password cannot come from there too. (A unit test below fails when a new
/// `--*-stdin` flag appears that this does not know.)
fn stdin_flag(command: &Command) -> Option<&'static str> {
    use audit_cmd::AuditCmd;
    use backup_cmd::BackupCmd as B;
    use user_cmd::UserCmd;
    match command {
        Command::Init(register_cmd::InitArgs {
            root_password_stdin: true,
        }) => Some("--root-password-stdin"),
        Command::User(
            UserCmd::Add {
                password_stdin: true,
                ..
            }
            | UserCmd::Passwd {
                password_stdin: true,
                ..
            },
        ) => Some("--password-stdin"),
        Command::Backup(
            B::Create {
                passphrase_stdin: true,
                ..
            }
            | B::Verify {
                passphrase_stdin: true,
                ..
            }
            | B::Restore(backup_cmd::RestoreArgs {
                passphrase_stdin: true,
                ..
            })
            | B::AutoSet {
                passphrase_stdin: true,
                ..
            },
        )
        | Command::Audit(AuditCmd::Verify {
            passphrase_stdin: true,
            ..
        }) => Some("--passphrase-stdin"),
        _ => None,
    }
}

/// The password for `--as USER`: `$ATSLEGAS_PASSWORD` when set, else the first line of
/// standard input (typed unseen at a terminal; from a pipe, unless the command reads
/// standard input itself).
fn as_password(user: &str, command: &Command) -> Result<String, Failure> {
    match std::env::var(PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => return Ok(p),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(usage(format!("{PASSWORD_ENV} is not valid UTF-8")))
        }
        _ => {}
    }
    // At a terminal the password is typed at a prompt, apart from what the command
    // itself reads there; from a pipe, the command's own input would be taken.
    if !secret::at_terminal() {
        if let Some(flag) = stdin_flag(command) {
            return Err(usage(format!(
                "--as {user} with {flag}: standard input is for the command, so give {user}'s password in the {PASSWORD_ENV} environment variable"
            )));
        }
    }
    secret::read(&format!("Password of {user}"), "password", Secret::Existing)?.ok_or_else(|| {
        usage(format!(
            "--as {user} needs {user}'s password: set {PASSWORD_ENV}, or give it as one line on standard input"
        ))
    })
}

/// A register too damaged to open: `backup restore` can still mend it, acting as this
/// computer's account (nobody can sign in to a register that cannot be read); every
/// other command says what is wrong and how to mend it.
fn over_damaged(
    damage: Error,
    command: Command,
    as_user: bool,
    config: &Config,
    paths: &Paths,
    out: &Out,
) -> Result<u8, Failure> {
    let Command::Backup(backup_cmd::BackupCmd::Restore(args)) = command else {
        return Err(damage.into());
    };
    if as_user {
        return Err(Error::invalid(
            "--as",
            "the register cannot be opened, so nobody can sign in to it: run `backup restore` without --as (it acts as this computer's account)",
        )
        .into());
    }
    let actor = Actor::cli(&atslegas_core::store::os_user());
    let over = backup_cmd::Over::Damaged;
    backup_cmd::restore_cmd(args, over, &actor, &config.locations(paths), out)?;
    Ok(0)
}

fn run(cli: Cli) -> Result<u8, Failure> {
    let Cli {
        data_dir,
        json,
        as_user,
        command,
    } = cli;
    let paths = Paths::resolve(data_dir, std::env::current_exe().ok());
    paths.prepare()?;
    let config = Config::load_or_create(&paths.config_file)?;
    atslegas_core::logging::init(config.log_level, false);
    let out = Out { json };
    let mut store = match Store::open(&config.db_path(&paths), Security::from(&config)) {
        Ok(store) => store,
        Err(damage @ Error::RegisterDamaged { .. }) => {
            return over_damaged(damage, command, as_user.is_some(), &config, &paths, &out)
        }
        Err(e) => return Err(e.into()),
    };
    store.configure(&config);
    let sessions = Sessions::new(config.session_dir(&paths));
    // `--as USER` is a sign-in like the window's: audited, counted toward lock-out, and
    // one answer (exit 4) for every failure.
    let (actor, as_password) = match &as_user {
        Some(u) => {
            let pw = as_password(u, &command)?;
            (users::authenticate(&mut store, u, &pw)?.actor(), Some(pw))
        }
        None => (Actor::cli(&atslegas_core::store::os_user()), None),
    };

    let store = &mut store;
    let (actor, out) = (&actor, &out);
    match command {
        Command::Init(a) => register_cmd::init(a, store, out),
        Command::User(cmd) => {
            user_cmd::run(cmd, store, &sessions, actor, as_password.as_deref(), out)
        }
        Command::Person(cmd) => person_cmd::run(cmd, store, actor, out),
        Command::Group(cmd) => group_cmd::run(cmd, store, actor, out),
        Command::Key(cmd) => key_cmd::run(cmd, store, actor, out),
        Command::Area(cmd) => area_cmd::run(cmd, store, actor, out),
        Command::Stocktake(cmd) => stocktake_cmd::run(cmd, store, actor, out),
        Command::KeyLog(cmd) => keylog_cmd::run(cmd, store, actor, out),
        Command::Set(cmd) => set_cmd::run(cmd, store, actor, out),
        Command::Receipt(cmd) => receipt_cmd::run(cmd, store, actor, &config.ui.language, out),
        Command::Audit(cmd) => {
            audit_cmd::run(cmd, store, actor, &config.locations(&paths), &config, out)
        }
        Command::Status => register_cmd::status(store, &paths, &config.db_path(&paths), out),
        Command::Backup(cmd) => {
            backup_cmd::run(cmd, store, actor, &config.locations(&paths), &config, out)
        }
        Command::Export(cmd) => export_cmd::run_export(cmd, store, actor, out),
        Command::Import(cmd) => {
            export_cmd::run_import(cmd, store, actor, &config.locations(&paths), out)
        }
        Command::Demo(a) => register_cmd::demo(a, store, actor, &config.db_path(&paths), out),
        Command::Bench(a) => register_cmd::bench(a, store, actor, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command line that makes a command read standard input itself.
    const READS_STDIN: &[&[&str]] = &[
        &["init", "--root-password-stdin"],
        &["user", "add", "x", "--role", "viewer", "--password-stdin"],
        &["user", "passwd", "x", "--password-stdin"],
        &[
            "backup",
            "create",
            "--to",
            "d",
            "--encrypt",
            "--passphrase-stdin",
        ],
        &["backup", "verify", "f", "--passphrase-stdin"],
        &["backup", "restore", "f", "--passphrase-stdin"],
        &["backup", "auto-set", "--mode", "off", "--passphrase-stdin"],
        &["audit", "verify", "--against", "f", "--passphrase-stdin"],
    ];

    #[test]
    fn the_as_password_knows_every_command_that_reads_stdin() {
        for argv in READS_STDIN {
            let cli =
                Cli::try_parse_from(std::iter::once("atslegas-cli").chain(argv.iter().copied()))
                    .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            let flag = stdin_flag(&cli.command);
            assert!(
                flag.is_some_and(|f| argv.contains(&f)),
                "{argv:?}: {flag:?}"
            );
        }
        // Without the flag they read nothing.
        let cli = Cli::try_parse_from(["atslegas-cli", "user", "passwd", "x"]).unwrap();
        assert_eq!(stdin_flag(&cli.command), None);
    }

    /// A new `--*-stdin` flag anywhere fails here until `stdin_flag` and READS_STDIN know it.
    #[test]
    fn no_stdin_flag_is_unknown() {
        fn walk(cmd: &clap::Command, path: &mut Vec<String>, found: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                if let Some(long) = a.get_long().filter(|l| l.ends_with("-stdin")) {
                    found.push(format!("{} --{long}", path.join(" ")));
                }
            }
            for sub in cmd.get_subcommands() {
                path.push(sub.get_name().to_string());
                walk(sub, path, found);
                path.pop();
            }
        }
        let mut found = Vec::new();
        walk(&Cli::command(), &mut Vec::new(), &mut found);
        found.sort();
        let mut known: Vec<String> = READS_STDIN
            .iter()
            .map(|argv| {
                let flag = argv.iter().find(|a| a.ends_with("-stdin")).unwrap();
                let path: Vec<&str> = argv
                    .iter()
                    .take(2)
                    .copied()
                    .filter(|a| !a.starts_with('-'))
                    .collect();
                format!("{} {flag}", path.join(" "))
            })
            .collect();
        known.sort();
        assert_eq!(found, known);
    }
}
