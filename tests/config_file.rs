//! `config.json`: created with the reference's defaults when missing; a malformed file is
//! reported with its line and key, by the core and by the real CLI, and is never
//! rewritten. (Portable mode depends on where the executable lives and is not tested.)

use std::path::Path;

use atslegas_core::config::{Config, Paths};
use atslegas_core::Error;
use atslegas_tests::{assert_fails, assert_success, parse_json, Cli};

/// A trailing comma inside "db" (line 4).
const SYNTAX_ERROR: &str = "{\n  \"db\": {\n    \"db_file\": \"x.db\",\n  }\n}\n";
/// A string where a number of seconds belongs (line 4).
const WRONG_TYPE: &str =
    "{\n  \"site_name\": \"Skola\",\n  \"client_sessions\": {\n    \"timeout_seconds\": \"soon\"\n  }\n}\n";
/// A log level out of range (line 4).
const BAD_LOG_LEVEL: &str = "{\n  \"site_name\": \"Skola\",\n\n  \"log_level\": 7\n}\n";

/// (name, file text, line, key the message names)
const BROKEN: &[(&str, &str, usize, &str)] = &[
    ("syntax error", SYNTAX_ERROR, 4, "db"),
    (
        "wrong type",
        WRONG_TYPE,
        4,
        "client_sessions.timeout_seconds",
    ),
    ("log level 7", BAD_LOG_LEVEL, 4, "log_level"),
];

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_missing_config_is_created_with_the_reference_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("config.json");
    let c = Config::load_or_create(&path).unwrap();
    assert_eq!(c, Config::default());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["db"]["db_file"], "database.db");
    assert_eq!(v["client_sessions"]["timeout_seconds"], 3600);
    assert_eq!(v["client_sessions"]["session_storage_dir"], "%s/sessions");
    assert_eq!(v["log_level"], 1);
    // Reading it again gives the same settings and leaves the file alone.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(Config::load_or_create(&path).unwrap(), c);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn keys_left_out_of_the_config_take_their_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    write(&path, "{ \"log_level\": 2, \"db\": {} }");
    let c = Config::load_or_create(&path).unwrap();
    assert_eq!(c.log_level, 2);
    assert_eq!(c.db.db_file, "database.db");
    assert_eq!(c.client_sessions.timeout_seconds, 3600);
}

#[test]
fn a_config_saved_with_a_byte_order_mark_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    write(&path, "\u{feff}{ \"site_name\": \"Rīgas skola\" }\n");
    assert_eq!(
        Config::load_or_create(&path).unwrap().site_name,
        "Rīgas skola"
    );
}

#[test]
fn a_malformed_config_is_reported_with_line_and_key_and_left_unchanged() {
    for (name, text, line, key) in BROKEN {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        write(&path, text);
        let err = Config::load_or_create(&path).unwrap_err();
        assert_eq!(err.code(), "config_invalid", "{name}");
        match &err {
            Error::Config {
                line: l, key: k, ..
            } => {
                assert_eq!(l, line, "{name}: {}", err.message());
                let k = k.as_deref().unwrap_or_else(|| panic!("{name}: no key"));
                assert!(k.starts_with(key), "{name}: key {k}");
            }
            other => panic!("{name}: {other:?}"),
        }
        let msg = err.message();
        assert!(msg.contains(&format!("line {line}")), "{name}: {msg}");
        assert!(msg.contains(&format!("\"{key}")), "{name}: {msg}");
        assert!(!msg.contains('\n'), "{name}: {msg}");
        assert_eq!(std::fs::read(&path).unwrap(), text.as_bytes(), "{name}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "{name}");
    }
}

#[test]
fn the_cli_refuses_a_malformed_config_with_one_line_and_leaves_it_unchanged() {
    for (name, text, line, key) in BROKEN {
        let cli = Cli::new();
        write(&cli.config_path(), text);
        let out = cli.run(&["status"]);
        let msg = assert_fails(&out, 3);
        assert!(msg.contains(&format!("line {line}")), "{name}: {msg}");
        assert!(msg.contains(&format!("\"{key}")), "{name}: {msg}");
        assert!(msg.contains("config.json"), "{name}: {msg}");
        assert_eq!(
            std::fs::read(cli.config_path()).unwrap(),
            text.as_bytes(),
            "{name}: the file was changed"
        );
        // Nothing else was created: no database, no session folder, no backup of the file.
        let entries: Vec<_> = std::fs::read_dir(cli.data_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["config.json"], "{name}");
    }
}

#[test]
fn the_cli_refuses_a_malformed_config_for_every_command_including_init() {
    let cli = Cli::new();
    write(&cli.config_path(), BAD_LOG_LEVEL);
    let out = cli.run_stdin(&["init", "--root-password-stdin"], "Tilts-Upe-42\n");
    let msg = assert_fails(&out, 3);
    assert!(msg.contains("log_level"), "{msg}");
    assert!(!cli.db_path().exists());
    assert_eq!(
        std::fs::read(cli.config_path()).unwrap(),
        BAD_LOG_LEVEL.as_bytes()
    );
}

#[test]
fn the_cli_creates_a_missing_config_with_the_defaults() {
    let cli = Cli::new();
    let status = cli.json(&["status"]);
    assert_eq!(status["set_up"], false);
    assert_eq!(status["portable"], false);
    let v = cli.config();
    assert_eq!(v["db"]["db_file"], "database.db");
    assert_eq!(v["client_sessions"]["timeout_seconds"], 3600);
    assert_eq!(v["client_sessions"]["session_storage_dir"], "%s/sessions");
    assert_eq!(v["log_level"], 1);
    assert!(cli.db_path().is_file());
    assert_eq!(
        Path::new(status["database"].as_str().unwrap()),
        cli.db_path()
    );
}

#[test]
fn the_cli_uses_the_db_file_named_in_the_config() {
    let cli = Cli::new();
    write(
        &cli.config_path(),
        "{ \"db\": { \"db_file\": \"keys.sqlite\" } }\n",
    );
    let status = cli.json(&["status"]);
    assert_eq!(
        Path::new(status["database"].as_str().unwrap()),
        cli.data_dir().join("keys.sqlite")
    );
    assert!(cli.data_dir().join("keys.sqlite").is_file());
    assert!(!cli.db_path().exists());
}

#[test]
fn the_cli_honours_the_data_dir_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-env");
    let out = Cli::bare_command()
        .env("ATSLEGAS_DATA_DIR", &data)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_success(&out, "status (ATSLEGAS_DATA_DIR)");
    let status = parse_json(&out);
    assert_eq!(Path::new(status["data_dir"].as_str().unwrap()), data);
    assert_eq!(
        Path::new(status["config_file"].as_str().unwrap()),
        data.join("config.json")
    );
    assert!(data.join("config.json").is_file());
    assert!(data.join("database.db").is_file());
}

#[test]
fn the_data_dir_flag_wins_over_the_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = dir.path().join("from-env");
    let from_flag = dir.path().join("from-flag");
    let out = Cli::bare_command()
        .env("ATSLEGAS_DATA_DIR", &from_env)
        .arg("--data-dir")
        .arg(&from_flag)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_success(&out, "status (--data-dir and ATSLEGAS_DATA_DIR)");
    assert_eq!(
        Path::new(parse_json(&out)["data_dir"].as_str().unwrap()),
        from_flag
    );
    assert!(!from_env.exists());
}

#[test]
fn paths_resolve_an_explicit_data_dir_before_anything_else() {
    let p = Paths::resolve(Some("/srv/atslegas".into()), None);
    assert_eq!(p.data_dir, Path::new("/srv/atslegas"));
    assert_eq!(p.config_file, Path::new("/srv/atslegas/config.json"));
    assert!(!p.portable);
}
