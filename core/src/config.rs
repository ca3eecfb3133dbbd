//! `config.json`: where it is (portable, override, or the OS folder), its defaults, and
//! reading it. A malformed file is reported with its line, column and key, and is never
//! overwritten: only a missing file is created (with defaults).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{HandoverRules, Security, SignatureRule};

/// Environment variable that points the app and the CLI at a data directory.
pub const DATA_DIR_ENV: &str = "ATSLEGAS_DATA_DIR";
/// The configuration file's name (named in [`crate::work`], with the data folder's other
/// files).
pub use crate::work::CONFIG_FILE;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Shown in the window and used in backup file names.
    pub site_name: String,
    pub db: DbConfig,
    pub client_sessions: SessionConfig,
    /// 0 none, 1 errors, 2 all (the reference engine's levels).
    pub log_level: u8,
    pub security: SecurityConfig,
    pub backup: BackupConfig,
    pub ui: UiConfig,
    pub handover: HandoverConfig,
}

/// The handover record (SPEC §10): when the person must sign, and the terms printed on
/// every receipt, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HandoverConfig {
    pub require_signature: SignatureRule,
    /// The terms on a receipt when the window's language is Latvian (empty: none).
    pub terms_lv: String,
    /// The terms on a receipt in English.
    pub terms_en: String,
}

/// The longest terms text (either language): a receipt still fits its page.
pub const MAX_TERMS_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DbConfig {
    /// Relative to the data directory unless absolute.
    pub db_file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// A session ends after this many seconds without activity.
    pub timeout_seconds: u64,
    /// `%s` stands for the data directory.
    pub session_storage_dir: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityConfig {
    /// Failed sign-ins in a row before the account is locked.
    pub max_failed_logins: u32,
    /// How long a locked account stays locked.
    pub lockout_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BackupConfig {
    /// Remembered destination folders (drives are remembered by their marker file).
    pub destinations: Vec<String>,
    pub keep_last: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
    pub encrypt: bool,
    /// The dashboard warns when the last verified backup is older than this.
    pub remind_after_days: u32,
    /// Automatic backups: off, at exit or daily (`backup::auto`).
    pub auto_backup: AutoMode,
    /// Encrypt automatic backups with the passphrase kept on this computer.
    pub auto_backup_encrypt: bool,
    /// Backup drives remembered by their marker file (`backup::drives`), newest first.
    pub known_drives: Vec<KnownDrive>,
}

/// When automatic backups run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoMode {
    /// Only backups made by hand (the default).
    #[default]
    Off,
    /// When the window is closed.
    AtExit,
    /// Once a day while the app is open (and at the next start after a day without one).
    Daily,
}

impl AutoMode {
    pub fn parse(s: &str) -> Result<AutoMode> {
        match s {
            "off" => Ok(AutoMode::Off),
            "at_exit" => Ok(AutoMode::AtExit),
            "daily" => Ok(AutoMode::Daily),
            other => Err(Error::invalid_rule(
                "mode",
                "auto_mode",
                serde_json::json!({ "value": other }),
                format!(
                    "\"{other}\" is not a mode of automatic backups; use off, at_exit or daily"
                ),
            )),
        }
    }
}

/// A backup drive (or folder) remembered by the marker file written on it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KnownDrive {
    /// The id in the marker file.
    pub id: String,
    /// For people: the volume or folder name.
    pub label: String,
    /// The backup folder within its volume ("" for the volume's root), so it is found
    /// when the drive is mounted elsewhere.
    pub folder: String,
    /// Where it was the last time a backup went there.
    pub last_path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiConfig {
    /// `lv` or `en`.
    pub language: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            site_name: "Atslegas".into(),
            db: DbConfig::default(),
            client_sessions: SessionConfig::default(),
            log_level: 1,
            security: SecurityConfig::default(),
            backup: BackupConfig::default(),
            ui: UiConfig::default(),
            handover: HandoverConfig::default(),
        }
    }
}
impl Default for DbConfig {
    fn default() -> Self {
        DbConfig {
            db_file: "database.db".into(),
        }
    }
}
impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            timeout_seconds: 3600,
            session_storage_dir: "%s/sessions".into(),
        }
    }
}
impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            max_failed_logins: 5,
            lockout_seconds: 300,
        }
    }
}
impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            destinations: Vec::new(),
            keep_last: 10,
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
            encrypt: true,
            remind_after_days: 7,
            auto_backup: AutoMode::Off,
            auto_backup_encrypt: true,
            known_drives: Vec::new(),
        }
    }
}
impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            language: "lv".into(),
        }
    }
}

/// Where things are for this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
    /// `config.json` sits next to the executable (for example on a USB stick).
    pub portable: bool,
}

impl Paths {
    /// Resolves, in order: an explicit data directory (flag, then the
    /// `ATSLEGAS_DATA_DIR` variable); portable mode (`config.json` next to the
    /// executable); the OS folders.
    pub fn resolve(data_dir_flag: Option<PathBuf>, exe: Option<PathBuf>) -> Paths {
        let from_env = std::env::var_os(DATA_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if let Some(dir) = data_dir_flag.or(from_env) {
            return Paths {
                config_file: dir.join(CONFIG_FILE),
                data_dir: dir,
                portable: false,
            };
        }
        if let Some(dir) = exe.as_deref().and_then(Path::parent) {
            if dir.join(CONFIG_FILE).is_file() {
                return Paths {
                    data_dir: dir.to_path_buf(),
                    config_file: dir.join(CONFIG_FILE),
                    portable: true,
                };
            }
        }
        let config_dir = dirs::config_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("atslegas");
        let data_dir = dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("atslegas");
        Paths {
            config_file: config_dir.join(CONFIG_FILE),
            data_dir,
            portable: false,
        }
    }
}

impl Paths {
    /// Creates the data folder if it is missing and makes it owner-only (0700 on Unix;
    /// an existing wider folder is tightened, and so is the journal in it). Called by each front end before it opens
    /// the register.
    pub fn prepare(&self) -> Result<()> {
        crate::private::create_dir_all(&self.data_dir)?;
        crate::private::tighten(&self.data_dir);
        // An older version wrote the journal with the default permissions.
        crate::private::tighten(&self.data_dir.join(crate::work::JOURNAL_FILE));
        Ok(())
    }

    /// A short name of this register that stays the same from start to start: its data
    /// folder, made absolute and hashed (so it holds only letters and digits). The window
    /// uses it to let one window run per register while two registers (two data folders)
    /// may be open side by side.
    pub fn register_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let dir = std::fs::canonicalize(&self.data_dir)
            .or_else(|_| std::path::absolute(&self.data_dir))
            .unwrap_or_else(|_| self.data_dir.clone());
        let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
        format!("r{}", &hex::encode(digest)[..16])
    }
}

impl Config {
    /// Reads `path`, or creates it with defaults when it does not exist. A file that
    /// exists but is malformed is an error naming line, column and key; it is left as is.
    pub fn load_or_create(path: &Path) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let config = Config::parse(path, &text)?;
                // Made by an older version (or by hand) with wider permissions.
                crate::private::tighten(path);
                Ok(config)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let c = Config::default();
                c.write_new(path)?;
                Ok(c)
            }
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Parses the text of a configuration file (`path` only names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let de = &mut serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            // A syntax error's path ends in "?" (the key it could not read): name the
            // enclosing key instead, if there is one.
            let key = key
                .split('.')
                .filter(|seg| !seg.is_empty() && *seg != "?")
                .collect::<Vec<_>>()
                .join(".");
            let at_key = !key.is_empty();
            Error::Config {
                path: path.to_path_buf(),
                line: inner.line().max(1),
                column: inner.column().max(1),
                key: at_key.then_some(key),
                reason: describe_json_error(&inner),
            }
        })?;
        config.validate(path, text)?;
        Ok(config)
    }

    fn validate(&self, path: &Path, text: &str) -> Result<()> {
        let bad = |key: &str, reason: String| {
            let leaf = key.rsplit('.').next().unwrap_or(key);
            let (line, column) = locate_key(text, leaf);
            Err(Error::Config {
                path: path.to_path_buf(),
                line,
                column,
                key: Some(key.to_string()),
                reason,
            })
        };
        if self.log_level > 2 {
            return bad(
                "log_level",
                format!(
                    "{} is not a level; use 0 (none), 1 (errors) or 2 (all)",
                    self.log_level
                ),
            );
        }
        // The ranges a restored or hand-edited file may not leave (SPEC §13): a session
        // that never ends, or a lock-out that never locks, would be a quiet downgrade.
        if !(10..=MAX_SECONDS).contains(&self.client_sessions.timeout_seconds) {
            return bad(
                "client_sessions.timeout_seconds",
                format!("must be between 10 and {MAX_SECONDS} seconds (a day)"),
            );
        }
        if self.db.db_file.trim().is_empty() {
            return bad(
                "db.db_file",
                "must name a file, for example \"database.db\"".into(),
            );
        }
        if !inside_data_folder(&self.db.db_file) {
            return bad(
                "db.db_file",
                format!(
                    "\"{}\" is outside the data folder; name a file in it, for example \"database.db\"",
                    self.db.db_file
                ),
            );
        }
        let sessions = &self.client_sessions.session_storage_dir;
        let relative = sessions
            .strip_prefix("%s")
            .map(|rest| rest.trim_start_matches(['/', '\\']))
            .unwrap_or(sessions);
        if relative.is_empty() || relative.contains("%s") || !inside_data_folder(relative) {
            return bad(
                "client_sessions.session_storage_dir",
                format!(
                    "\"{sessions}\" is not a folder inside the data folder; use \"%s/sessions\" (%s is the data folder)"
                ),
            );
        }
        if !matches!(self.ui.language.as_str(), "lv" | "en") {
            return bad(
                "ui.language",
                format!(
                    "\"{}\" is not a language; use \"lv\" or \"en\"",
                    self.ui.language
                ),
            );
        }
        if !(1..=MAX_FAILED_LOGINS).contains(&self.security.max_failed_logins) {
            return bad(
                "security.max_failed_logins",
                format!("must be between 1 and {MAX_FAILED_LOGINS}"),
            );
        }
        for (key, text) in [
            ("handover.terms_lv", &self.handover.terms_lv),
            ("handover.terms_en", &self.handover.terms_en),
        ] {
            if text.chars().count() > MAX_TERMS_CHARS {
                return bad(
                    key,
                    format!(
                        "is {} characters long; a receipt holds at most {MAX_TERMS_CHARS}",
                        text.chars().count()
                    ),
                );
            }
        }
        if !(MIN_LOCKOUT_SECONDS..=MAX_SECONDS).contains(&self.security.lockout_seconds) {
            return bad(
                "security.lockout_seconds",
                format!("must be between {MIN_LOCKOUT_SECONDS} seconds and {MAX_SECONDS} (a day)"),
            );
        }
        Ok(())
    }

    /// Writes a new file; refuses to replace an existing one.
    fn write_new(&self, path: &Path) -> Result<()> {
        if let Some(parent) = path.parent() {
            crate::private::create_dir_all(parent)?;
        }
        let mut f = crate::private::new_file_options(std::fs::OpenOptions::new().write(true))
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io("create", path, e))?;
        let mut text = serde_json::to_string_pretty(self).expect("config serialises");
        text.push('\n');
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io("write", path, e))
    }

    /// Saves changed settings: written beside, flushed, then renamed over the old file, so
    /// a crash leaves either the old or the new file, never half of one.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.partial");
        let mut text = serde_json::to_string_pretty(self).expect("config serialises");
        text.push('\n');
        {
            let mut f = crate::private::new_file_options(
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true),
            )
            .open(&tmp)
            .map_err(|e| Error::io("create", &tmp, e))?;
            f.write_all(text.as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| Error::io("write", &tmp, e))?;
        }
        std::fs::rename(&tmp, path).map_err(|e| Error::io("replace", path, e))
    }

    /// The database file for `paths`.
    pub fn db_path(&self, paths: &Paths) -> PathBuf {
        paths.data_dir.join(&self.db.db_file)
    }

    /// Where the register's files are for `paths`: what backups and restores copy or
    /// replace.
    pub fn locations(&self, paths: &Paths) -> crate::work::Locations {
        crate::work::Locations {
            database: self.db_path(paths),
            config_file: paths.config_file.clone(),
            data_dir: paths.data_dir.clone(),
            sessions: self.session_dir(paths),
        }
    }

    /// The session folder for `paths` (`%s` replaced by the data directory).
    pub fn session_dir(&self, paths: &Paths) -> PathBuf {
        let raw = self
            .client_sessions
            .session_storage_dir
            .replace("%s", &paths.data_dir.to_string_lossy());
        paths.data_dir.join(raw)
    }
}

fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let msg = e.to_string();
    // serde_json appends " at line L column C"; we report those separately.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    match e.classify() {
        Category::Syntax => format!("this is not valid JSON ({msg})"),
        Category::Eof => "the file ends too early (a brace or quote is missing)".to_string(),
        Category::Data => plain_types(&msg),
        Category::Io => format!("could not be read ({msg})"),
    }
}

/// Says serde's type names the way a person editing the file thinks of them.
fn plain_types(msg: &str) -> String {
    let mut m = msg.to_string();
    for (from, to) in [
        ("expected u8", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
        ("expected a string", "expected text in quotes"),
        ("expected a sequence", "expected a list in [brackets]"),
        ("invalid type: ", "wrong kind of value: "),
    ] {
        m = m.replace(from, to);
    }
    m
}

/// The longest session and lock-out a configuration may set: a day.
const MAX_SECONDS: u64 = 86_400;
/// More failed sign-ins than this before a lock-out would let a password be guessed.
const MAX_FAILED_LOGINS: u32 = 20;
/// A shorter lock-out barely slows a guesser down.
const MIN_LOCKOUT_SECONDS: u64 = 60;

/// A relative path of plain names only (no root, drive, `..` or `.`): joined to the data
/// folder, it stays inside it.
fn inside_data_folder(path: &str) -> bool {
    let p = Path::new(path.trim());
    !p.as_os_str().is_empty()
        && !path.contains(':')
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// 1-based line and column of `"key"` in the text, or (1, 1).
fn locate_key(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.find(&needle) {
            return (i + 1, line[..col].chars().count() + 1);
        }
    }
    (1, 1)
}

/// What the core applies of a handover: the signature rule, and what a new receipt
/// keeps of the site and its terms.
impl From<&Config> for HandoverRules {
    fn from(c: &Config) -> Self {
        HandoverRules {
            require_signature: c.handover.require_signature,
            site_name: c.site_name.clone(),
            terms_lv: c.handover.terms_lv.clone(),
            terms_en: c.handover.terms_en.clone(),
        }
    }
}

impl crate::Store {
    /// Applies what the core enforces of `config` (security, the handover rules): at
    /// start, after a settings change and after a restore.
    pub fn configure(&mut self, config: &Config) {
        self.security = Security::from(config);
        self.handover = HandoverRules::from(config);
    }
}

/// The store's security settings are the config's (defaults included), read at start and
/// after a restore.
impl Default for Security {
    fn default() -> Self {
        Security::from(&Config::default())
    }
}

impl From<&Config> for Security {
    fn from(c: &Config) -> Self {
        Security {
            max_failed_logins: c.security.max_failed_logins,
            lockout_seconds: c.security.lockout_seconds as i64,
            session_timeout_seconds: c.client_sessions.timeout_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_refuse_anything_else() {
        assert_eq!(AutoMode::parse("off").unwrap(), AutoMode::Off);
        assert_eq!(AutoMode::parse("at_exit").unwrap(), AutoMode::AtExit);
        assert_eq!(AutoMode::parse("daily").unwrap(), AutoMode::Daily);
        let e = AutoMode::parse("hourly").unwrap_err().to_string();
        assert!(e.contains("hourly") && e.contains("at_exit"), "{e}");
    }

    fn refusal(text: &str) -> (String, String) {
        match Config::parse(Path::new("config.json"), text) {
            Err(Error::Config { key, reason, .. }) => (key.unwrap_or_default(), reason),
            other => panic!("{text}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn paths_outside_the_data_folder_are_refused_with_the_key_named() {
        for (text, key) in [
            (r#"{"db": {"db_file": "../elsewhere.db"}}"#, "db.db_file"),
            (r#"{"db": {"db_file": "/etc/atslegas.db"}}"#, "db.db_file"),
            (r#"{"db": {"db_file": "C:\\Users\\x.db"}}"#, "db.db_file"),
            (
                r#"{"client_sessions": {"session_storage_dir": "/home/someone/Documents"}}"#,
                "client_sessions.session_storage_dir",
            ),
            (
                r#"{"client_sessions": {"session_storage_dir": "%s/../Documents"}}"#,
                "client_sessions.session_storage_dir",
            ),
            (
                r#"{"client_sessions": {"session_storage_dir": "%s"}}"#,
                "client_sessions.session_storage_dir",
            ),
        ] {
            let (k, reason) = refusal(text);
            assert_eq!(k, key, "{text}");
            assert!(reason.contains("data folder"), "{text}: {reason}");
        }
        for ok in [
            r#"{"db": {"db_file": "registers/keys.db"}}"#,
            r#"{"client_sessions": {"session_storage_dir": "%s/sessions"}}"#,
            r#"{"client_sessions": {"session_storage_dir": "sessions"}}"#,
        ] {
            Config::parse(Path::new("config.json"), ok).unwrap();
        }
    }

    #[test]
    fn security_values_outside_their_ranges_are_refused_with_the_range_said() {
        for (text, key, says) in [
            (
                r#"{"security": {"lockout_seconds": 0}}"#,
                "security.lockout_seconds",
                "between 60",
            ),
            (
                r#"{"security": {"lockout_seconds": 100000}}"#,
                "security.lockout_seconds",
                "86400",
            ),
            (
                r#"{"security": {"max_failed_logins": 1000000}}"#,
                "security.max_failed_logins",
                "between 1 and 20",
            ),
            (
                r#"{"security": {"max_failed_logins": 0}}"#,
                "security.max_failed_logins",
                "between 1 and 20",
            ),
            (
                r#"{"client_sessions": {"timeout_seconds": 31536000}}"#,
                "client_sessions.timeout_seconds",
                "86400",
            ),
        ] {
            let (k, reason) = refusal(text);
            assert_eq!(k, key, "{text}");
            assert!(reason.contains(says), "{text}: {reason}");
        }
        Config::parse(
            Path::new("config.json"),
            r#"{"security": {"lockout_seconds": 60, "max_failed_logins": 20}}"#,
        )
        .unwrap();
    }

    #[test]
    fn a_missing_file_is_created_with_the_reference_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        let c = Config::load_or_create(&p).unwrap();
        assert_eq!(c.db.db_file, "database.db");
        assert_eq!(c.client_sessions.timeout_seconds, 3600);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"session_storage_dir\": \"%s/sessions\""));
        assert_eq!(Config::load_or_create(&p).unwrap(), c);
    }

    #[test]
    fn a_syntax_error_names_the_line_and_keeps_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        let bad = "{\n  \"db\": {\n    \"db_file\": \"x.db\",\n  }\n}\n";
        std::fs::write(&p, bad).unwrap();
        let e = Config::load_or_create(&p).unwrap_err();
        match &e {
            Error::Config { line, .. } => assert_eq!(*line, 4),
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), bad);
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let e = Config::parse(
            Path::new("c.json"),
            "{\n \"client_sessions\": {\"timeout_seconds\": \"soon\"}\n}",
        )
        .unwrap_err();
        match e {
            Error::Config { key, line, .. } => {
                assert_eq!(key.as_deref(), Some("client_sessions.timeout_seconds"));
                assert_eq!(line, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_out_of_range_log_level_names_key_and_line() {
        let e = Config::parse(Path::new("c.json"), "{\n\n  \"log_level\": 7\n}").unwrap_err();
        assert!(e.message().contains("line 3"), "{}", e.message());
        assert!(e.message().contains("log_level"));
    }

    #[test]
    fn the_register_id_is_the_same_for_one_folder_however_named_and_differs_between_folders() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let paths = |d: PathBuf| Paths {
            config_file: d.join(CONFIG_FILE),
            data_dir: d,
            portable: false,
        };
        let id = paths(a.clone()).register_id();
        assert_eq!(id, paths(a.join("..").join("a")).register_id());
        assert_ne!(id, paths(b).register_id());
        assert_eq!(id.len(), 17);
        assert!(id.starts_with('r') && id.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn a_config_beside_the_program_means_portable_mode_and_a_flag_wins_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("atslegas");
        std::fs::write(dir.path().join(CONFIG_FILE), "{}").unwrap();
        if std::env::var_os(DATA_DIR_ENV).is_none() {
            let p = Paths::resolve(None, Some(exe.clone()));
            assert!(p.portable);
            assert_eq!(p.data_dir, dir.path());
        }
        let other = dir.path().join("elsewhere");
        let p = Paths::resolve(Some(other.clone()), Some(exe));
        assert!(!p.portable);
        assert_eq!(p.config_file, other.join(CONFIG_FILE));
    }

    #[test]
    fn the_session_dir_expands_the_data_dir() {
        let paths = Paths {
            data_dir: PathBuf::from("/d"),
            config_file: PathBuf::from("/d/config.json"),
            portable: false,
        };
        let c = Config::default();
        assert_eq!(c.session_dir(&paths), PathBuf::from("/d/sessions"));
        assert_eq!(c.db_path(&paths), PathBuf::from("/d/database.db"));
    }
}

/// Settings an admin changes from the window (the rest is edited in the file).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsChange {
    pub site_name: Option<String>,
    pub language: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub remind_after_days: Option<u32>,
    /// `never`, `issue` or `issue_and_return`.
    pub require_signature: Option<String>,
    pub terms_lv: Option<String>,
    pub terms_en: Option<String>,
}

/// Applies `change` to `config`, writes `config.json` (atomically) and records the change
/// in the audit trail, all or nothing: the audit row is written first and the file after
/// it inside the same transaction, so a failed write rolls the audit row back.
pub fn update_settings(
    store: &mut crate::Store,
    actor: &crate::Actor,
    path: &Path,
    config: &Config,
    change: &SettingsChange,
) -> Result<Config> {
    let mut next = config.clone();
    if let Some(name) = &change.site_name {
        next.site_name = crate::validate::required("site_name", name, 100)?;
    }
    if let Some(lang) = &change.language {
        if !matches!(lang.as_str(), "lv" | "en") {
            return Err(Error::invalid(
                "language",
                format!("\"{lang}\" is not a language; use lv or en"),
            ));
        }
        next.ui.language = lang.clone();
    }
    if let Some(t) = change.timeout_seconds {
        if !(60..=86_400).contains(&t) {
            return Err(Error::invalid_rule(
                "timeout_seconds",
                "timeout_range",
                serde_json::Value::Null,
                "must be between 60 seconds and 24 hours (86400)",
            ));
        }
        next.client_sessions.timeout_seconds = t;
    }
    if let Some(d) = change.remind_after_days {
        if !(1..=365).contains(&d) {
            return Err(Error::invalid_rule(
                "remind_after_days",
                "remind_range",
                serde_json::Value::Null,
                "must be between 1 and 365 days",
            ));
        }
        next.backup.remind_after_days = d;
    }
    if let Some(rule) = &change.require_signature {
        next.handover.require_signature = SignatureRule::parse(rule)?;
    }
    for (field, given, target) in [
        ("terms_lv", &change.terms_lv, &mut next.handover.terms_lv),
        ("terms_en", &change.terms_en, &mut next.handover.terms_en),
    ] {
        if let Some(text) = given {
            let text = text.trim();
            let n = text.chars().count();
            if n > MAX_TERMS_CHARS {
                return Err(Error::invalid_rule(
                    field,
                    "terms_too_long",
                    serde_json::json!({ "max": MAX_TERMS_CHARS, "length": n }),
                    format!("is {n} characters long; a receipt holds at most {MAX_TERMS_CHARS}"),
                ));
            }
            *target = text.to_string();
        }
    }
    let audited = |c: &Config| {
        serde_json::json!({
            "site_name": c.site_name, "language": c.ui.language,
            "timeout_seconds": c.client_sessions.timeout_seconds,
            "remind_after_days": c.backup.remind_after_days,
            "require_signature": c.handover.require_signature,
            "terms_lv": c.handover.terms_lv, "terms_en": c.handover.terms_en,
        })
    };
    let (before, after) = (audited(config), audited(&next));
    save_audited(
        store,
        actor,
        "change settings",
        path,
        &next,
        before,
        after,
        || Ok(()),
    )?;
    store.configure(&next);
    Ok(next)
}

/// Saves `next` to `path` as an admin's settings change: one `config`/`update` audit row
/// with `before` and `after`, then `also` (a file that goes with the change), then the
/// file, all in one transaction, so a failed write rolls the audit row back.
#[allow(clippy::too_many_arguments)] // reason: one audited change, each part named
pub fn save_audited(
    store: &mut crate::Store,
    actor: &crate::Actor,
    action: &str,
    path: &Path,
    next: &Config,
    before: serde_json::Value,
    after: serde_json::Value,
    also: impl FnOnce() -> Result<()>,
) -> Result<()> {
    store.write(actor, crate::Role::Admin, action, |tx, now| {
        crate::audit::Change::new(&actor.name, "config", "update")
            .before(before)
            .after(after)
            .record(tx, now)?;
        also()?;
        next.save(path)
    })
}
