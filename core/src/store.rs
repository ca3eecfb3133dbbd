//! The handle every front end holds: one write connection, the clock, the security
//! settings, and the single write path ([`Store::write`]) through which every mutation
//! passes: role check, one IMMEDIATE transaction, the change, its audit row, commit.

use std::sync::Arc;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a user may do. Ordered: a higher role may do everything a lower one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything except users; changes nothing.
    Viewer,
    /// Also issues and returns keys, and manages persons.
    Operator,
    /// Everything: keys, groups, users, overrides.
    Admin,
}

/// A role as the `users` table stores it; a value no version wrote reads as the least
/// role, so a damaged row can never grant more.
impl rusqlite::types::FromSql for Role {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        Ok(Role::parse(v.as_str()?).unwrap_or(Role::Viewer))
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(Error::invalid(
                "role",
                format!("\"{other}\" is not a role; use admin, operator or viewer"),
            )),
        }
    }
}

/// Who is acting: recorded in every audit row and key-log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The signed-in user, when there is one (the CLI without `--as` has none).
    pub user_id: Option<i64>,
    /// The name written to the logs: a username, or `cli:OSNAME`.
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// The command-line tool run by an operating-system account without `--as`. Whoever
    /// can run it can already read and write the database file, so it acts as an admin;
    /// the audit trail records the OS account.
    pub fn cli(os_user: &str) -> Actor {
        Actor {
            user_id: None,
            name: format!("cli:{os_user}"),
            role: Role::Admin,
        }
    }

    /// The window's operating-system account, acting where nobody can sign in: a
    /// restore over a register too damaged to open (its users are in the damaged file).
    /// As with the command-line tool, whoever runs the app as this account can already
    /// write the files; the audit trail records the account, as `window:NAME`.
    pub fn window(os_user: &str) -> Actor {
        Actor {
            user_id: None,
            name: format!("window:{os_user}"),
            role: Role::Admin,
        }
    }

    /// Fails unless this actor's role is at least `needed`.
    pub fn require(&self, needed: Role, action: &str) -> Result<()> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(Error::NotAllowed {
                role: self.role.as_str().to_string(),
                action: action.to_string(),
            })
        }
    }
}

/// The operating-system account running this process, for `cli:NAME` and `window:NAME`
/// in the logs: the login name the shell reports, else the account the process runs as.
pub fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(|| whoami::fallible::username().ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The source of "now" in Unix seconds (UTC). Replaceable so tests can move time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp())
}

/// Security settings the core enforces (from `config.json`).
#[derive(Debug, Clone)]
pub struct Security {
    pub max_failed_logins: u32,
    pub lockout_seconds: i64,
    pub session_timeout_seconds: u64,
}

/// When a handover needs the person's signature; the core refuses one without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureRule {
    /// Signatures are taken when given, never required (the default).
    #[default]
    Never,
    /// Every issue is signed.
    Issue,
    /// Every issue and every return is signed.
    IssueAndReturn,
}

impl SignatureRule {
    pub fn parse(s: &str) -> Result<SignatureRule> {
        match s {
            "never" => Ok(SignatureRule::Never),
            "issue" => Ok(SignatureRule::Issue),
            "issue_and_return" => Ok(SignatureRule::IssueAndReturn),
            other => Err(Error::invalid_rule(
                "require_signature",
                "signature_rule",
                serde_json::json!({ "value": other }),
                format!(
                    "\"{other}\" is not a signature rule; use never, issue or issue_and_return"
                ),
            )),
        }
    }

    /// Whether a handover of this kind (`true`: an issue; `false`: a return) needs one.
    pub fn requires(self, issue: bool) -> bool {
        match self {
            SignatureRule::Never => false,
            SignatureRule::Issue => issue,
            SignatureRule::IssueAndReturn => true,
        }
    }
}

/// The handover settings the core applies (config.json's `handover`, and the site name a
/// receipt keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandoverRules {
    pub require_signature: SignatureRule,
    pub site_name: String,
    pub terms_lv: String,
    pub terms_en: String,
}

/// One open database with its clock and settings.
pub struct Store {
    /// Declared first, so it stops before the connection closes (which checkpoints).
    checkpointer: Option<crate::checkpoint::Checkpointer>,
    conn: Connection,
    clock: Clock,
    pub security: Security,
    pub handover: HandoverRules,
}

impl Store {
    /// A store over an open, migrated connection ([`Store::open`], in `upgrade`, opens a
    /// user's register file).
    pub(crate) fn from_connection(conn: Connection, security: Security) -> Store {
        Store {
            checkpointer: None,
            conn,
            clock: system_clock(),
            security,
            handover: HandoverRules::default(),
        }
    }

    /// A fresh in-memory database (tests).
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store {
            checkpointer: None,
            conn: crate::db::open_in_memory()?,
            clock: system_clock(),
            security: Security::default(),
            handover: HandoverRules::default(),
        })
    }

    /// Replaces the clock (tests that need time to pass).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// Checkpoints the WAL on a thread of its own while the register is idle, instead of
    /// in a commit (see [`crate::checkpoint`]). For a process that stays open: the window,
    /// the benchmark. A short command needs none: closing checkpoints. Nothing happens for
    /// an in-memory database, or when one is already running.
    pub fn start_checkpointer(&mut self, timing: crate::checkpoint::Timing) -> Result<()> {
        if self.checkpointer.is_some() {
            return Ok(());
        }
        let Some(path) = self
            .conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
        else {
            return Ok(());
        };
        self.checkpointer = Some(crate::checkpoint::Checkpointer::start(
            &mut self.conn,
            &path,
            timing,
        )?);
        Ok(())
    }

    /// Now, in Unix seconds UTC.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection itself, for the restore's backup-API copy into the live database.
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The single write path: checks the role, opens an IMMEDIATE transaction (so the
    /// read-check-write inside cannot race another writer), runs `f`, commits. `f` must
    /// write its audit row(s) with [`crate::audit::record`] on the same transaction; if
    /// anything fails, nothing is written, audit included.
    pub fn write<T>(
        &mut self,
        actor: &Actor,
        needed: Role,
        action: &str,
        f: impl FnOnce(&Transaction, i64) -> Result<T>,
    ) -> Result<T> {
        actor.require(needed, action)?;
        self.write_unchecked(f)
    }

    /// The write path for writes that have no signed-in actor yet (sign-in attempts,
    /// first-run setup, session expiry). Still one transaction with its audit row.
    pub(crate) fn write_unchecked<T>(
        &mut self,
        f: impl FnOnce(&Transaction, i64) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx, now)?;
        tx.commit()?;
        Ok(out)
    }
}
