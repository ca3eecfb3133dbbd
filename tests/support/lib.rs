//! Helpers shared by the integration tests: a fresh core database in a temporary folder,
//! the real `atslegas-cli` binary run against its own temporary data directory (the one
//! way the tests run it: arguments, standard input, environment, `--as` a user), set-up
//! registers to start from, and snapshots of the tables so a refused action can be shown
//! to have changed nothing. Archive helpers live in `backup_common/`.
//!
//! Everything runs on real SQLite files; nothing is mocked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use atslegas_core::audit::AuditEntry;
use atslegas_core::keys::KeyInput;
use atslegas_core::persons::{self, PersonInput};
use atslegas_core::store::Security;
use atslegas_core::work::Locations;
use atslegas_core::{groups, keys, Actor, Error, Role, Store};
use rusqlite::types::FromSql;
use rusqlite::Connection;
use serde_json::Value;
use tempfile::TempDir;

/// The root password the CLI tests set up with (strong enough for the core's rule).
pub const ROOT_PASSWORD: &str = "Tilts-Upe-42";

// ---------------------------------------------------------------------------------------
// The core on a real file

/// A fresh database file in its own temporary folder, opened through the core.
pub struct CoreDb {
    /// Kept so the folder lives as long as the database.
    pub dir: TempDir,
    pub path: PathBuf,
    pub store: Store,
}

impl CoreDb {
    /// A new, empty database with the default security settings.
    pub fn new() -> CoreDb {
        CoreDb::with_security(Security::default())
    }

    pub fn with_security(security: Security) -> CoreDb {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let path = dir.path().join("database.db");
        let store = Store::open(&path, security).expect("open a new database file");
        CoreDb { dir, path, store }
    }

    /// A second, plain connection to the same file, for assertions and raw SQL.
    pub fn raw(&self) -> Connection {
        open_raw(&self.path)
    }
}

impl Default for CoreDb {
    fn default() -> Self {
        CoreDb::new()
    }
}

/// Opens a database file with rusqlite directly (no migrations, no core).
pub fn open_raw(path: &Path) -> Connection {
    let conn = Connection::open(path)
        .unwrap_or_else(|e| panic!("open {} with rusqlite: {e}", path.display()));
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("set busy timeout");
    conn
}

/// An actor with `role` that is not a stored user (the core checks roles on the actor).
pub fn actor(name: &str, role: Role) -> Actor {
    Actor {
        user_id: None,
        name: name.to_string(),
        role,
    }
}

pub fn admin() -> Actor {
    actor("admin-tester", Role::Admin)
}

pub fn operator() -> Actor {
    actor("operator-tester", Role::Operator)
}

pub fn viewer() -> Actor {
    actor("viewer-tester", Role::Viewer)
}

/// A person to create, with a code and a badge.
pub fn person(code: &str, name: &str, badge: &str) -> PersonInput {
    PersonInput {
        code: Some(code.into()),
        badge: Some(badge.into()),
        ..PersonInput::named(name)
    }
}

/// Creates a person with a code and a badge, as an admin; returns the person's id.
pub fn add_person(store: &mut Store, code: &str, name: &str, badge: &str) -> i64 {
    persons::create(store, &admin(), &person(code, name, badge))
        .unwrap_or_else(|e| panic!("create person {code}: {}", e.message()))
        .id
}

/// Creates the keys `numbers`, and the group `group` that lets the persons with the codes
/// `members` receive them, as an admin.
pub fn add_keys_and_group(
    store: &mut Store,
    numbers: &[&str],
    group: &str,
    description: Option<&str>,
    members: &[&str],
) {
    let a = admin();
    for n in numbers {
        keys::create(store, &a, &KeyInput::numbered(n)).unwrap();
    }
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    groups::create(store, &a, group, description).unwrap();
    groups::allow_keys(store, &a, group, &strings(numbers)).unwrap();
    groups::add_members(store, &a, group, &strings(members)).unwrap();
}

// ---------------------------------------------------------------------------------------
// Table snapshots

/// Number of rows in a table.
pub fn count(conn: &Connection, table: &str) -> i64 {
    // Table names come from the tests themselves, never from input.
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
}

/// The newest audit row by id (the chain's order, whatever the clock said), as the core
/// reads one back: its JSON parsed, which must succeed.
pub fn last_audit(conn: &Connection) -> AuditEntry {
    last_audit_where(conn, "1", &[])
}

/// The newest audit row of `operation`.
pub fn last_audit_of(conn: &Connection, operation: &str) -> AuditEntry {
    last_audit_where(conn, "operation = ?1", &[operation])
}

fn last_audit_where(conn: &Connection, filter: &str, args: &[&str]) -> AuditEntry {
    type Text = Option<String>;
    // The columns in the order of AuditEntry's fields.
    type Columns = (i64, i64, String, String, Text, String, Text, Text, String);
    let (id, at, actor, component, record_id, operation, before, after, hash): Columns = conn
        .query_row(
            &format!(
                "SELECT id, at, actor, component, record_id, operation, before, after, hash
                   FROM audit_log WHERE {filter} ORDER BY id DESC LIMIT 1"
            ),
            rusqlite::params_from_iter(args),
            |r| r.try_into(),
        )
        .expect("the audit log has a row");
    let json = |s: Text| s.map(|s| serde_json::from_str(&s).expect("audit JSON parses"));
    let (before, after) = (json(before), json(after));
    AuditEntry {
        id,
        at,
        actor,
        component,
        record_id,
        operation,
        before,
        after,
        hash,
    }
}

/// The one value `sql` (a query written by the test) returns: a count, an id, a hash.
#[track_caller]
pub fn value<T: FromSql>(conn: &Connection, sql: &str) -> T {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one row `sql` (a query written by the test) returns, as a tuple of its columns.
#[track_caller]
pub fn row<T>(conn: &Connection, sql: &str) -> T
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    conn.query_row(sql, [], |r| r.try_into())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every row `sql` (a query written by the test) returns, in order, each as a tuple of
/// its columns.
#[track_caller]
pub fn rows<T>(conn: &Connection, sql: &str) -> Vec<T>
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    let mut stmt = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("prepare {sql}: {e}"));
    let rows = stmt.query_map([], |r| r.try_into()).unwrap();
    rows.map(|r| r.unwrap_or_else(|e| panic!("read {sql}: {e}")))
        .collect()
}

/// The first column of every row `sql` (a query written by the test) returns, in order.
pub fn column<T: FromSql, C: FromIterator<T>>(conn: &Connection, sql: &str) -> C {
    let mut stmt = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("prepare {sql}: {e}"));
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(|r| r.unwrap_or_else(|e| panic!("read {sql}: {e}")))
        .collect()
}

/// The operations of all audit rows, oldest first.
pub fn audit_operations(conn: &Connection) -> Vec<String> {
    column(conn, "SELECT operation FROM audit_log ORDER BY id")
}

/// One key as a snapshot sees it: (number, status, holder, due_back_at, deleted_at).
pub type KeyState = (String, String, Option<i64>, Option<i64>, Option<i64>);

/// Everything a key-handling action could change, to compare before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub audit_rows: i64,
    pub key_log_rows: i64,
    /// Per key, by id.
    pub keys: Vec<KeyState>,
    /// (full_name, active, deleted_at) per person, by id.
    pub persons: Vec<(String, bool, Option<i64>)>,
    pub users: i64,
    pub groups: i64,
    pub group_members: i64,
    pub group_keys: i64,
}

/// Asserts that `result` failed with error `code` and that the database's snapshot still
/// equals `before`; returns the error.
#[track_caller]
pub fn assert_refused_unchanged<T: std::fmt::Debug>(
    conn: &Connection,
    before: &Snapshot,
    result: Result<T, Error>,
    code: &str,
) -> Error {
    let e = match result {
        Ok(v) => panic!("expected {code}, but it succeeded: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(e.code(), code, "wrong error: {}", e.message());
    assert_eq!(
        &snapshot(conn),
        before,
        "a refused action changed the database"
    );
    e
}

/// Asserts the database is as `before` but for `rows` more audit rows (the sign-ins of
/// refused actions, say).
#[track_caller]
pub fn assert_only_audited(conn: &Connection, before: &Snapshot, rows: i64) {
    assert_eq!(
        snapshot(conn),
        Snapshot {
            audit_rows: before.audit_rows + rows,
            ..before.clone()
        },
        "only {rows} audit rows were to be added"
    );
}

pub fn snapshot(conn: &Connection) -> Snapshot {
    Snapshot {
        audit_rows: count(conn, "audit_log"),
        key_log_rows: count(conn, "key_log"),
        keys: rows(
            conn,
            "SELECT number, status, holder_person_id, due_back_at, deleted_at FROM keys ORDER BY id",
        ),
        persons: rows(
            conn,
            "SELECT full_name, active, deleted_at FROM persons ORDER BY id",
        ),
        users: count(conn, "users"),
        groups: count(conn, "groups"),
        group_members: count(conn, "group_members"),
        group_keys: count(conn, "group_keys"),
    }
}

/// Where the core finds the register kept in `data_dir`: `database.db` and `config.json`
/// in it, as the command-line tool and the window place them by default.
pub fn locations_in(data_dir: &Path) -> Locations {
    let data_dir = data_dir.to_path_buf();
    Locations {
        database: data_dir.join("database.db"),
        config_file: data_dir.join("config.json"),
        sessions: data_dir.join("sessions"),
        data_dir,
    }
}

// ---------------------------------------------------------------------------------------
// The real command-line tool

/// The built `atslegas-cli`: `$ATSLEGAS_CLI`, else `target/debug/atslegas-cli` beside the
/// test executable (which runs from `target/debug/deps/`).
pub fn cli_path() -> PathBuf {
    if let Some(p) = std::env::var_os("ATSLEGAS_CLI").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "ATSLEGAS_CLI points at {}, which does not exist",
            p.display()
        );
        return p;
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in target/<profile>/deps");
    let cli = debug.join(format!("atslegas-cli{}", std::env::consts::EXE_SUFFIX));
    if !cli.is_file() {
        panic!(
            "atslegas-cli not found at {}: build it first: cargo build -p atslegas-cli \
             (or point ATSLEGAS_CLI at the binary)",
            cli.display()
        );
    }
    cli
}

/// The variable the CLI also reads a backup passphrase from.
pub const PASSPHRASE_ENV: &str = "ATSLEGAS_BACKUP_PASSPHRASE";

/// `atslegas-cli` with its own temporary data directory. Every run gets
/// `--data-dir DIR`, `USER=tester` (so the actor is `cli:tester`) and none of
/// `ATSLEGAS_DATA_DIR`, `ATSLEGAS_PASSWORD` (the `--as` password) or
/// [`PASSPHRASE_ENV`] from the caller, so a value in the developer's shell cannot change
/// a test.
pub struct Cli {
    dir: TempDir,
}

impl Cli {
    /// An empty data directory: no config, no database, not set up.
    pub fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("create a temporary data folder"),
        }
    }

    /// A data directory set up with `init` and [`ROOT_PASSWORD`].
    pub fn initialised() -> Cli {
        let cli = Cli::new();
        let out = cli.run_stdin(
            &["init", "--root-password-stdin"],
            &format!("{ROOT_PASSWORD}\n"),
        );
        assert_success(&out, "init");
        cli
    }

    /// A set-up data directory filled with the core's demo generator (it writes through
    /// the schema's triggers, so every key's status follows its log), `log_rows` key
    /// movements over one year.
    pub fn demo(persons: u64, keys: u64, log_rows: u64) -> Cli {
        let cli = Cli::initialised();
        let out = cli.run(&[
            "demo",
            "--persons",
            &persons.to_string(),
            "--keys",
            &keys.to_string(),
            "--log-rows",
            &log_rows.to_string(),
            "--years",
            "1",
        ]);
        assert_success(&out, "demo");
        cli
    }

    /// Adds a user with `role` and `password` (given on standard input), as root.
    pub fn add_user(&self, name: &str, role: &str, password: &str) {
        let out = self.run_stdin(
            &["user", "add", name, "--role", role, "--password-stdin"],
            &format!("{password}\n"),
        );
        assert_success(&out, &format!("user add {name}"));
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.data_dir().join("config.json")
    }

    /// `config.json` as it is on disk, parsed.
    pub fn config(&self) -> Value {
        let bytes = std::fs::read(self.config_path()).expect("read config.json");
        serde_json::from_slice(&bytes).expect("config.json is JSON")
    }

    /// Writes `config` as `config.json`.
    pub fn write_config(&self, config: &Value) {
        let bytes = serde_json::to_vec_pretty(config).unwrap();
        std::fs::write(self.config_path(), bytes).expect("write config.json");
    }

    /// Where the core finds this register ([`locations_in`] the data directory).
    pub fn locations(&self) -> Locations {
        locations_in(self.data_dir())
    }

    /// The database file with the default configuration.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("database.db")
    }

    /// The same database, opened with rusqlite directly.
    pub fn db(&self) -> Connection {
        open_raw(&self.db_path())
    }

    /// A command for the binary with the test environment but no arguments.
    pub fn bare_command() -> Command {
        let mut c = Command::new(cli_path());
        c.env("USER", "tester")
            .env_remove("ATSLEGAS_DATA_DIR")
            .env_remove("ATSLEGAS_PASSWORD")
            .env_remove(PASSPHRASE_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// A command for the binary on this data directory with `args`, to spawn by hand.
    pub fn command(&self, args: &[&str]) -> Command {
        command_in(self.data_dir(), args)
    }

    /// Runs with no standard input.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run atslegas-cli")
    }

    /// Runs with no standard input and asserts success.
    pub fn run_ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_success(&out, &args.join(" "));
        out
    }

    /// Runs with `stdin` on standard input.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        self.run_env(args, &[], Some(stdin))
    }

    /// Runs with these environment variables, and `stdin` (if any) on standard input.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        run_in(self.data_dir(), args, env, stdin)
    }

    /// Runs with `--json`, asserts success, and parses standard output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        assert_success(&out, &args.join(" "));
        parse_json(&out)
    }

    /// Runs `--as USER` with USER's password in `ATSLEGAS_PASSWORD`.
    pub fn run_as(&self, user: &str, password: &str, args: &[&str]) -> Output {
        let mut all = vec!["--as", user];
        all.extend_from_slice(args);
        self.run_env(&all, &[("ATSLEGAS_PASSWORD", password)], None)
    }

    /// [`Cli::run_as`] with `--json`: asserts success and parses standard output.
    pub fn json_as(&self, user: &str, password: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run_as(user, password, &all);
        assert_success(&out, &format!("--as {user} {}", args.join(" ")));
        parse_json(&out)
    }
}

impl Default for Cli {
    fn default() -> Self {
        Cli::new()
    }
}

/// `atslegas-cli --data-dir DATA_DIR ARGS` with the test environment of [`Cli`].
pub fn command_in(data_dir: &Path, args: &[&str]) -> Command {
    let mut c = Cli::bare_command();
    c.arg("--data-dir").arg(data_dir).args(args);
    c
}

/// Runs the binary on any data directory (one the test made itself, say) with `env` set
/// and `stdin` (if any) on standard input. Every run of [`Cli`] goes through here.
pub fn run_in(data_dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut c = command_in(data_dir, args);
    c.envs(env.iter().copied());
    let Some(stdin) = stdin else {
        return c.output().expect("run atslegas-cli");
    };
    c.stdin(Stdio::piped());
    let mut child = c.spawn().expect("start atslegas-cli");
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A run refused before it reads its input (a malformed config, say) closes the pipe
    // first; its exit code and output are still the answer.
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write to atslegas-cli's stdin: {e}"
        );
    }
    child.wait_with_output().expect("wait for atslegas-cli")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn parse_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(out)))
}

pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "`atslegas-cli {what}` failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Asserts the run failed with exit code `code` and exactly one line on standard error
/// starting `atslegas-cli: `; returns that line.
pub fn assert_fails(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit code {code}\nstdout:\n{}\nstderr:\n{err}",
        stdout(out)
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one line on stderr, got:\n{err}"
    );
    assert!(
        lines[0].starts_with("atslegas-cli: "),
        "stderr does not start with \"atslegas-cli: \": {err}"
    );
    assert!(
        err.ends_with('\n'),
        "stderr line is not terminated: {err:?}"
    );
    lines[0].to_string()
}
