//! Owner-only files (SPEC §7; issue "[2 of 6] Trust", finding 6): on Unix the data folder
//! is 0700 and the database with its `-wal`/`-shm`, `config.json` and the operations
//! journal are 0600, whether the register is new or was left wider by an older version.
//! The database holds the password hashes and the session secret.
//!
//! Build the binary first: `cargo build -p atslegas-cli`.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use atslegas_tests::{assert_success, run_in, ROOT_PASSWORD};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The files of a register that must be owner-only, with the database's side files when
/// they exist.
fn private_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = vec![dir.join("database.db"), dir.join("config.json")];
    for side in [
        "database.db-wal",
        "database.db-shm",
        "operations-journal.jsonl",
    ] {
        if dir.join(side).exists() {
            v.push(dir.join(side));
        }
    }
    v
}

fn assert_owner_only(dir: &Path, what: &str) {
    assert_eq!(mode(dir), 0o700, "{what}: the data folder");
    for f in private_files(dir) {
        assert_eq!(mode(&f), 0o600, "{what}: {}", f.display());
    }
}

#[test]
fn a_new_register_is_readable_by_its_owner_only() {
    let parent = tempfile::tempdir().unwrap();
    chmod(parent.path(), 0o755);
    let dir = parent.path().join("atslegas");
    let out = run_in(
        &dir,
        &["init", "--root-password-stdin"],
        &[],
        Some(&format!("{ROOT_PASSWORD}\n")),
    );
    assert_success(&out, "init");
    let dest = parent.path().join("usb");
    std::fs::create_dir(&dest).unwrap();
    let out = run_in(
        &dir,
        &["backup", "create", "--to", dest.to_str().unwrap()],
        &[],
        Some(""),
    );
    assert_success(&out, "backup create");
    assert!(dir.join("operations-journal.jsonl").is_file());
    assert_owner_only(&dir, "new register");
}

#[test]
fn a_register_left_readable_by_others_is_made_owner_only_when_opened() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/schema-3/data");
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("atslegas");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    chmod(&dir, 0o755);
    for f in private_files(&dir) {
        chmod(&f, 0o644);
    }
    let out = run_in(&dir, &["status"], &[], Some(""));
    assert_success(&out, "status");
    assert_owner_only(&dir, "opened register");
    // The owner keeps every right of their own.
    assert_eq!(mode(&dir.join("database.db")) & 0o600, 0o600);
}
