//! atslegas-cli: the Atslegas core without a window, for scripts, cron and headless
//! machines. Parses arguments, calls the core, prints text or `--json`. Holds no business
//! logic: anything a user can do here is a core function the app calls too.
//!
//! `clap` (derive) parses the arguments: it gives `--help`, typo suggestions and usage
//! errors for free.

mod backup_cmd;
mod export_cmd;
mod output;

use std::io::{BufRead, IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use atslegas_core::audit::AuditFilter;
use atslegas_core::bench::{self, BenchOptions};
use atslegas_core::config::{Config, Paths};
use atslegas_core::demo::{self, DemoOptions};
use atslegas_core::keylog::{IssueRequest, PersonRef};
use atslegas_core::keys::{KeyInput, KeyQuery};
use atslegas_core::persons::{PersonInput, PersonQuery};
use atslegas_core::session::Sessions;
use atslegas_core::store::Security;
use atslegas_core::{
    anchors, audit, groups, keylog, keys, persons, time, users, Actor, Error, Role, Store,
};
use clap::{Args, Parser, Subcommand};

use output::Out;

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
    /// USER in: their password is read from $ATSLEGAS_PASSWORD, else as one line from
    /// standard input; a command that reads standard input itself (--password-stdin,
    /// --passphrase-stdin, --root-password-stdin) needs ATSLEGAS_PASSWORD. Every use is
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
    /// First-run setup: create the root user. The password is read from standard input.
    Init {
        /// Read the root password from standard input (the only way: never an argument).
        #[arg(long)]
        root_password_stdin: bool,
    },
    /// Users of the app (admins only).
    #[command(subcommand)]
    User(UserCmd),
    /// Key holders.
    #[command(subcommand)]
    Person(PersonCmd),
    /// Access groups: members and the keys they may receive.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Physical keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Issue a key to a person.
    Issue(IssueArgs),
    /// Take a key back.
    Return {
        /// Key number.
        key: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Key-log rows in a time range (the reference's JSON shape with --json).
    Keylog {
        /// Start, Unix seconds (inclusive).
        #[arg(long)]
        start: i64,
        /// End, Unix seconds (exclusive).
        #[arg(long)]
        end: i64,
    },
    /// The 37-day calendar: issued, returned and due counts per day.
    Calendar {
        /// The day in the middle of the strip, YYYY-MM-DD (default: today).
        #[arg(long)]
        today: Option<String>,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
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
    Demo(DemoArgs),
    /// Measure the core on a demo database (see `demo`) against SPEC §8's targets. It
    /// issues and returns keys, so it refuses a database not made by `demo`.
    Bench {
        /// Calls per figure (issue and return: pairs).
        #[arg(long, default_value_t = 200)]
        iterations: u32,
    },
}

#[derive(Args)]
struct DemoArgs {
    /// Key holders, with Latvian and other names.
    #[arg(long, default_value_t = 10_000)]
    persons: u64,
    /// Keys, numbered 1..N.
    #[arg(long, default_value_t = 3_000)]
    keys: u64,
    /// Key-log rows in all (issued, returned, lost).
    #[arg(long, default_value_t = 1_000_000)]
    log_rows: u64,
    /// Years of history, ending now.
    #[arg(long, default_value_t = 5)]
    years: u32,
    /// The same seed gives the same names and pattern of movements.
    #[arg(long, default_value_t = DemoOptions::default().seed)]
    seed: u64,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long)]
        role: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Set a user's password (read from standard input). All of that user's sessions end.
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

#[derive(Subcommand)]
enum PersonCmd {
    /// Add a person.
    Add(PersonFields),
    /// List persons (diacritics-insensitive search: "berzins" finds "Bērziņš").
    List {
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        include_deleted: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Soft-delete a person (by person code or badge).
    Delete { person: String },
    /// Restore a deleted person.
    Restore { person: String },
}

#[derive(Args)]
struct PersonFields {
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

#[derive(Subcommand)]
enum GroupCmd {
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

#[derive(Subcommand)]
enum KeyCmd {
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
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        include_deleted: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// A key's movements, newest first.
    History { number: String },
    /// Soft-delete a key.
    Delete { number: String },
    /// Restore a deleted key.
    Restore { number: String },
}

#[derive(Args)]
struct IssueArgs {
    /// Key number.
    key: String,
    /// Person code or badge code.
    #[arg(long)]
    to: String,
    /// Due back: 2026-11-24T17:00 (local), 2026-11-24T15:00:00Z, or 2026-11-24.
    #[arg(long)]
    due: Option<String>,
    #[arg(long)]
    comment: Option<String>,
    /// Admins: issue outside the person's group rights, for this reason.
    #[arg(long)]
    override_reason: Option<String>,
}

#[derive(Subcommand)]
enum AuditCmd {
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
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
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
            | "no_rights" | "key_is_out" | "person_holds_keys" => 5,
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
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("atslegas-cli: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn read_secret_line(flag_given: bool, flag: &str) -> Result<String, Failure> {
    if !flag_given {
        return Err(usage(format!(
            "give the password on standard input with {flag} (never as an argument, where other users could see it)"
        )));
    }
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| {
        usage(format!(
            "could not read the password from standard input: {e}"
        ))
    })?;
    let line = s.lines().next().unwrap_or("").to_string();
    Ok(line)
}

/// The variable `--as USER` takes USER's password from.
const PASSWORD_ENV: &str = "ATSLEGAS_PASSWORD";

/// The flag by which `command` reads its own data from standard input, if it does: then
/// the `--as` password cannot come from there too. (A unit test below fails when a new
/// `--*-stdin` flag appears that this does not know.)
fn stdin_flag(command: &Command) -> Option<&'static str> {
    use backup_cmd::BackupCmd as B;
    match command {
        Command::Init {
            root_password_stdin: true,
        } => Some("--root-password-stdin"),
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
            | B::Restore {
                passphrase_stdin: true,
                ..
            }
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
/// standard input (unless the command reads standard input itself).
fn as_password(user: &str, command: &Command) -> Result<String, Failure> {
    match std::env::var(PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => return Ok(p),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(usage(format!("{PASSWORD_ENV} is not valid UTF-8")))
        }
        _ => {}
    }
    if let Some(flag) = stdin_flag(command) {
        return Err(usage(format!(
            "--as {user} with {flag}: standard input is for the command, so give {user}'s password in the {PASSWORD_ENV} environment variable"
        )));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password of {user} (shown as typed; {PASSWORD_ENV} or a pipe is not): ");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line).map_err(|e| {
        usage(format!(
            "could not read {user}'s password from standard input: {e}"
        ))
    })?;
    if read == 0 {
        return Err(usage(format!(
            "--as {user} needs {user}'s password: set {PASSWORD_ENV}, or give it as one line on standard input"
        )));
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

/// The operating-system account running the tool, for `cli:NAME` in the logs: the login
/// name the shell reports, else the account the process runs as.
fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(|| whoami::fallible::username().ok())
        .unwrap_or_else(|| "unknown".into())
}

fn init_logging(config: &Config) {
    let level = match config.log_level {
        0 => return,
        1 => tracing::Level::ERROR,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

fn person_ref(arg: &str) -> PersonRef {
    match arg.strip_prefix('#').and_then(|n| n.parse().ok()) {
        Some(id) => PersonRef::Id(id),
        None => PersonRef::Code(arg.to_string()),
    }
}

pub(crate) fn find_person(
    conn: &atslegas_core::db::Connection,
    arg: &str,
) -> Result<persons::Person, Error> {
    match person_ref(arg) {
        PersonRef::Id(id) => persons::get(conn, id),
        PersonRef::Code(c) => persons::find_by_code(conn, &c),
    }
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
    init_logging(&config);
    let mut store = Store::open(&config.db_path(&paths), Security::from(&config))?;
    let out = Out { json };
    let sessions = Sessions::new(config.session_dir(&paths));
    // `--as USER` is a sign-in like the window's: audited, counted toward lock-out, and
    // one answer (exit 4) for every failure.
    let (actor, as_password) = match &as_user {
        Some(u) => {
            let pw = as_password(u, &command)?;
            (users::authenticate(&mut store, u, &pw)?.actor(), Some(pw))
        }
        None => (Actor::cli(&os_user()), None),
    };

    match command {
        Command::Init {
            root_password_stdin,
        } => {
            let pw = read_secret_line(root_password_stdin, "--root-password-stdin")?;
            let root = users::init_root(&mut store, &pw)?;
            out.done(
                &root,
                &format!("Set up. The root user is \"{}\".", root.username),
            );
        }
        Command::User(cmd) => match cmd {
            UserCmd::Add {
                name,
                role,
                password_stdin,
            } => {
                let role = Role::parse(&role)?;
                let pw = read_secret_line(password_stdin, "--password-stdin")?;
                let u = users::add(&mut store, &actor, &name, role, Some(&pw))?;
                out.done(
                    &u,
                    &format!("Added user {} ({}).", u.username, u.role.as_str()),
                );
            }
            UserCmd::List => out.users(&users::list(store.conn(), &actor)?),
            UserCmd::Passwd {
                name,
                password_stdin,
            } => {
                let pw = read_secret_line(password_stdin, "--password-stdin")?;
                let own =
                    users::find(store.conn(), &name)?.is_some_and(|u| actor.user_id == Some(u.id));
                match as_password.as_deref() {
                    // The CLI has no session to keep: all of the user's sessions end.
                    Some(current) if own => users::change_own_password(
                        &mut store, &sessions, &actor, None, current, &pw,
                    )?,
                    _ => users::set_password(&mut store, &sessions, &actor, &name, &pw)?,
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
                let u = users::update(&mut store, &actor, &name, role, active)?;
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
        },
        Command::Person(cmd) => match cmd {
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
                let p = persons::create(&mut store, &actor, &input)?;
                out.done(&p, &format!("Added {} (id {}).", p.label(), p.id));
            }
            PersonCmd::List {
                search,
                include_deleted,
                limit,
                offset,
            } => {
                let q = PersonQuery {
                    search,
                    include_deleted,
                    limit: Some(limit),
                    offset: Some(offset),
                };
                out.persons(&persons::list(store.conn(), &q)?);
            }
            PersonCmd::Delete { person } => {
                let p = find_person(store.conn(), &person)?;
                let p = persons::delete(&mut store, &actor, p.id)?;
                out.done(&p, &format!("Deleted {} (restorable).", p.label()));
            }
            PersonCmd::Restore { person } => {
                let p = find_person(store.conn(), &person)?;
                let p = persons::restore(&mut store, &actor, p.id)?;
                out.done(&p, &format!("Restored {}.", p.label()));
            }
        },
        Command::Group(cmd) => match cmd {
            GroupCmd::Add { name, description } => {
                let g = groups::create(&mut store, &actor, &name, description.as_deref())?;
                out.done(&g, &format!("Added group {}.", g.name));
            }
            GroupCmd::Allow { group, keys } => {
                let g = groups::allow_keys(&mut store, &actor, &group, &keys)?;
                out.done(
                    &g,
                    &format!("Group {} may receive {} key(s).", g.name, g.key_count),
                );
            }
            GroupCmd::Disallow { group, keys } => {
                let g = groups::disallow_keys(&mut store, &actor, &group, &keys)?;
                out.done(
                    &g,
                    &format!("Group {} may receive {} key(s).", g.name, g.key_count),
                );
            }
            GroupCmd::Member { group, persons } => {
                let g = groups::add_members(&mut store, &actor, &group, &persons)?;
                out.done(
                    &g,
                    &format!("Group {} has {} member(s).", g.name, g.member_count),
                );
            }
            GroupCmd::List => out.groups(&groups::list(store.conn())?),
        },
        Command::Key(cmd) => match cmd {
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
                let k = keys::create(&mut store, &actor, &input)?;
                out.done(&k, &format!("Added key {}.", k.number));
            }
            KeyCmd::List {
                status,
                search,
                include_deleted,
                limit,
                offset,
            } => {
                let q = KeyQuery {
                    status,
                    search,
                    holder_person_id: None,
                    overdue_at: None,
                    include_deleted,
                    limit: Some(limit),
                    offset: Some(offset),
                };
                out.keys(&keys::list(store.conn(), &q)?);
            }
            KeyCmd::History { number } => {
                let k = keys::find(store.conn(), &number)?;
                out.log(&keylog::key_history(store.conn(), k.id, 1000, 0)?);
            }
            KeyCmd::Delete { number } => {
                let k = keys::find(store.conn(), &number)?;
                let k = keys::delete(&mut store, &actor, k.id)?;
                out.done(&k, &format!("Deleted key {} (restorable).", k.number));
            }
            KeyCmd::Restore { number } => {
                let k = keys::find(store.conn(), &number)?;
                let k = keys::restore(&mut store, &actor, k.id)?;
                out.done(&k, &format!("Restored key {}.", k.number));
            }
        },
        Command::Issue(a) => {
            let IssueArgs {
                key,
                to,
                due,
                comment,
                override_reason,
            } = a;
            let req = IssueRequest {
                due_back_at: due
                    .as_deref()
                    .map(|d| time::parse_local("due", d))
                    .transpose()?,
                comment,
                override_reason,
            };
            let e = keylog::issue(&mut store, &actor, &key, &person_ref(&to), &req)?;
            out.done(
                &e,
                &format!(
                    "Key {} issued to {}{}.",
                    e.key_number,
                    e.person_name.as_deref().unwrap_or("?"),
                    e.due_back_at
                        .map(|d| format!(", due back {}", time::local_display(d)))
                        .unwrap_or_default()
                ),
            );
        }
        Command::Return { key, comment } => {
            let e = keylog::return_key(&mut store, &actor, &key, comment.as_deref())?;
            out.done(
                &e,
                &format!(
                    "Key {} returned by {}.",
                    e.key_number,
                    e.person_name.as_deref().unwrap_or("?")
                ),
            );
        }
        Command::Keylog { start, end } => {
            if end <= start {
                return Err(Error::invalid("--end", "must be after --start").into());
            }
            let mut all = Vec::new();
            let mut offset = 0;
            loop {
                let page = keylog::list_range(store.conn(), start, end, 10_000, offset)?;
                let n = page.len() as u32;
                all.extend(page);
                if n < 10_000 {
                    break;
                }
                offset += n;
            }
            out.keylog_reference(&all);
        }
        Command::Calendar { today } => {
            let today = match today {
                Some(t) => {
                    chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| {
                        Failure::from(Error::invalid(
                            "--today",
                            format!("\"{t}\" is not a date like 2026-11-24"),
                        ))
                    })?
                }
                None => chrono::Local::now().date_naive(),
            };
            out.calendar(
                &keylog::calendar(store.conn(), today, &chrono::Local)?,
                today,
            );
        }
        Command::Audit(cmd) => match cmd {
            AuditCmd::List {
                component,
                record_id,
                actor: who,
                operation,
                since,
                until,
                limit,
                offset,
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
                out.audit(&audit::list(store.conn(), &actor, &f)?);
            }
            AuditCmd::Verify {
                against,
                passphrase_stdin,
            } => {
                let loc = atslegas_core::backup::Locations {
                    database: config.db_path(&paths),
                    config_file: paths.config_file.clone(),
                    data_dir: paths.data_dir.clone(),
                };
                let archives = match &against {
                    Some(p) => anchors::archives_at(&actor, p)?,
                    None if actor.role >= Role::Admin => {
                        anchors::archives_on_known_drives(&actor, &config.backup)?
                    }
                    None => Vec::new(),
                };
                let pass = backup_cmd::read_passphrase(passphrase_stdin)?;
                let r =
                    anchors::verify(store.conn(), &loc, &archives, pass.as_deref(), store.now())?;
                out.verify(&r);
                if !r.chain.ok {
                    return Ok(7);
                }
            }
        },
        Command::Backup(cmd) => {
            let loc = atslegas_core::backup::Locations {
                database: config.db_path(&paths),
                config_file: paths.config_file.clone(),
                data_dir: paths.data_dir.clone(),
            };
            return backup_cmd::run(cmd, &mut store, &actor, &loc, &config, &out);
        }
        Command::Export(cmd) => return export_cmd::run_export(cmd, &mut store, &actor, &out),
        Command::Import(cmd) => {
            let loc = atslegas_core::backup::Locations {
                database: config.db_path(&paths),
                config_file: paths.config_file.clone(),
                data_dir: paths.data_dir.clone(),
            };
            return export_cmd::run_import(cmd, &mut store, &actor, &loc, &out);
        }
        Command::Status => {
            let s = keylog::summary(store.conn(), store.now())?;
            let v = atslegas_core::db::schema_version(store.conn())?;
            let set_up = users::is_set_up(store.conn())?;
            out.status(&paths, &config.db_path(&paths), v, set_up, &s);
        }
        Command::Demo(a) => {
            let DemoArgs {
                persons,
                keys,
                log_rows,
                years,
                seed,
            } = a;
            let opts = DemoOptions {
                persons,
                keys,
                log_rows,
                years,
                seed,
            };
            let started = std::time::Instant::now();
            let report = demo::generate(&mut store, &actor, &opts, &mut output::progress("demo"))?;
            let elapsed = started.elapsed();
            let db = config.db_path(&paths);
            out.demo(&report, elapsed, &db);
        }
        Command::Bench { iterations } => {
            let opts = BenchOptions { iterations };
            let report = bench::run(&mut store, &actor, &opts, &mut output::progress("bench"))?;
            out.bench(&report);
        }
    }
    Ok(0)
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
