//! The backup archive as other tools see it, now that Atslegas writes the zip itself
//! (`backup::zipwrite`, the database deflated in blocks on every core): `unzip -t`,
//! 7-Zip's test (with the passphrase for an encrypted one), `sha256sum -c` on the
//! `.sha256`, and the `zip` crate, on a database of several blocks.
//!
//! Needs `unzip`, `7z` or `7zz` and `sha256sum` (TEST_PKGS in scripts/deps.sh).
//! Build the binary first: `cargo build -p atslegas-cli`.

mod backup_common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use atslegas_tests::{stderr, stdout, Cli};
use backup_common::*;
use sha2::{Digest, Sha256};

/// A register whose database is several of the 1 MiB blocks the deflate is cut into.
fn site_of_several_blocks() -> Cli {
    let cli = Cli::demo(400, 150, 40_000);
    let size = std::fs::metadata(cli.db_path()).unwrap().len();
    assert!(size > 3 << 20, "the database is only {size} bytes");
    cli
}

fn tool(names: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names
        .iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("{names:?} not installed: see TEST_PKGS in scripts/deps.sh (unzip, 7zip)")
        })
}

fn run(program: &Path, args: &[&str], archive: &Path) -> Output {
    Command::new(program)
        .args(args)
        .arg(archive)
        .stdin(Stdio::null())
        .output()
        .expect("run the tool")
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Runs `program ARGS archive` (`what` in a failure) and asserts that it succeeded and
/// printed `verdict`, which each tool prints only once every entry has passed its test.
fn assert_passes(what: &str, program: &Path, args: &[&str], archive: &Path, verdict: &str) {
    let out = run(program, args, archive);
    assert_ok(&out, what);
    assert!(stdout(&out).contains(verdict), "{what}: {}", stdout(&out));
}

/// `sha256sum -c` on the archive's `.sha256` sidecar, run beside it as a user would.
fn assert_sidecar_checks(archive: &Path) {
    let out = Command::new("sha256sum")
        .arg("-c")
        .arg(sidecar(archive))
        .current_dir(archive.parent().unwrap())
        .output()
        .unwrap();
    assert_ok(&out, "sha256sum -c");
}

/// The manifest's SHA-256 of an entry.
fn manifest_sha(manifest: &serde_json::Value, entry: &str) -> String {
    manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == entry)
        .unwrap_or_else(|| panic!("{entry} in the manifest"))["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_plain_backup_of_several_blocks_passes_unzip_7zip_and_sha256sum() {
    let cli = site_of_several_blocks();
    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create(&cli, dest.path(), &[]);

    let unzip = tool(&["unzip"]);
    assert_passes("unzip -t", &unzip, &["-t"], &archive, "No errors detected");
    // Owner-only permissions, as zipinfo shows them, on every entry.
    let out = run(&unzip, &["-Z"], &archive);
    assert_ok(&out, "zipinfo");
    let info = stdout(&out);
    let listed: Vec<&str> = info
        .lines()
        .filter(|l| l.ends_with(".db") || l.ends_with(".json"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(listed, ["-rw-------"; 3], "{info}");

    let seven = tool(&["7zz", "7z"]);
    assert_passes("7z t", &seven, &["t"], &archive, "Everything is Ok");
    assert_sidecar_checks(&archive);

    // What unzip extracts is the database the manifest describes, byte for byte.
    let db = Command::new(&unzip)
        .arg("-p")
        .arg(&archive)
        .arg(DB_ENTRY)
        .output()
        .unwrap();
    assert_ok(&db, "unzip -p");
    assert!(db.stdout.len() > 3 << 20);
    let manifest: serde_json::Value = serde_json::from_slice(
        &Command::new(&unzip)
            .arg("-p")
            .arg(&archive)
            .arg(MANIFEST_ENTRY)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&db.stdout)),
        manifest_sha(&manifest, DB_ENTRY)
    );
    assert!(db.stdout.starts_with(b"SQLite format 3\0"));

    // The zip crate: deflated, with the CRC it checks while reading.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
    let mut entry = zip.by_name(DB_ENTRY).unwrap();
    assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
    assert!(entry.compressed_size() < entry.size());
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, db.stdout);
}

#[test]
fn an_encrypted_backup_of_several_blocks_passes_7zip_with_its_passphrase_only() {
    let cli = site_of_several_blocks();
    let dest = tempfile::tempdir().unwrap();
    let archive = backup_create_encrypted(&cli, dest.path());
    let seven = tool(&["7zz", "7z"]);

    let with_pass = format!("-p{PASSPHRASE}");
    assert_passes(
        "7z t -pPASS",
        &seven,
        &["t", &with_pass],
        &archive,
        "Everything is Ok",
    );
    let out = run(&seven, &["t", "-pNepareiza-Parole-2026-Kaza"], &archive);
    assert!(
        !out.status.success(),
        "7-Zip accepted a wrong passphrase:\n{}",
        stdout(&out)
    );

    assert_sidecar_checks(&archive);

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
    for i in 0..zip.len() {
        // WinZip AES, AE-2: no CRC of the plain bytes beside the ciphertext.
        let raw = zip.by_index_raw(i).unwrap();
        assert!(raw.encrypted(), "{}", raw.name());
        assert_eq!(raw.crc32(), 0, "{}", raw.name());
    }
    assert!(matches!(
        zip.by_name_decrypt(DB_ENTRY, b"Nepareiza-Parole-2026-Kaza"),
        Err(zip::result::ZipError::InvalidPassword)
    ));
    let mut manifest = Vec::new();
    zip.by_name_decrypt(MANIFEST_ENTRY, PASSPHRASE.as_bytes())
        .unwrap()
        .read_to_end(&mut manifest)
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let mut db = Vec::new();
    zip.by_name_decrypt(DB_ENTRY, PASSPHRASE.as_bytes())
        .unwrap()
        .read_to_end(&mut db)
        .unwrap();
    assert!(db.len() > 3 << 20);
    assert_eq!(
        hex::encode(Sha256::digest(&db)),
        manifest_sha(&manifest, DB_ENTRY)
    );
}
